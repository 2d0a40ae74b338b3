"""Instructions per request, counted by valgrind's callgrind: a yardstick the VM's noise leaves.

    .venv/bin/python -m bench.instructions [--requests 2000]      (needs valgrind)

Each server runs under callgrind twice. The same client (sequential POSTs of bench.publish's
body on one keep-alive connection, after 100 to warm up) sends no more requests to the first
and ``--requests`` more to the second: the difference of their totals, over ``--requests``, is
what one request costs, start-up and shutdown cancelling out. Instruction counts repeat to
within about 1% for the same code whatever else the machine does, where its req/s drift by
half within a minute; they do not weigh cache misses, system calls or fsync waits, so read
them beside bench.publish, not instead of it. Sequential requests make each durable publish a
group of one (one fsync each): the worst case of group commit.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx
import orjson

from bench.publish import AUTH, BODY, Child, create_application, serve_command

WARM_UP = 100


def total_instructions(out: Path) -> int:
    """The instruction count a callgrind output file sums up."""
    match = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no instruction total in {out}")
    return int(match[1])


def server_command(name: str, run_dir: Path) -> list[str]:
    if name == "echo":
        return ["-m", "bench.echo_app"]
    if name == "memory":
        return serve_command("--in-memory")
    return serve_command("--data-dir", str(run_dir / "data"))


def counted(name: str, requests: int, tmp: Path) -> int:
    """Instructions a new server ran for its whole life, having served ``requests`` publishes
    (or echoes) after the warm-up."""
    run_dir = tmp / f"{name}-{requests}"
    run_dir.mkdir()
    out = run_dir / "callgrind.out"
    prefix = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    server = Child(server_command(name, run_dir), run_dir / "server.log", prefix=prefix)
    try:
        base = server.wait_url()
        with httpx.Client(headers=AUTH, timeout=120) as client:
            if name == "echo":
                url = base + "/echo"
            else:
                server.wait_healthy("/_emulator/health")
                url = f"{base}/v1/application/{create_application(base, {'name': 'b'})}/event"
            body = orjson.dumps(BODY)
            headers = {"Content-Type": "application/json"}
            for _ in range(WARM_UP + requests):
                client.post(url, content=body, headers=headers).raise_for_status()
    finally:
        server.close()
    return total_instructions(out)


def per_request(name: str, requests: int, tmp: Path) -> float:
    return (counted(name, requests, tmp) - counted(name, 0, tmp)) / requests


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.instructions", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests counted (2,000)")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be >= 1")
    # One string hash for every run: dict layouts, and so the counts, then repeat.
    os.environ["PYTHONHASHSEED"] = "0"
    if shutil.which("valgrind") is None:
        print("bench: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="simplyq-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            echo, memory, durable = (
                per_request(name, args.requests, tmp) for name in ("echo", "memory", "durable")
            )
        except (RuntimeError, OSError, httpx.HTTPError) as error:
            print(f"bench: {error}", file=sys.stderr)
            return 1
    print(
        f"instructions per request (callgrind; {args.requests:,} sequential keep-alive POSTs "
        f"of {len(orjson.dumps(BODY))} bytes, after {WARM_UP})"
    )
    print(f"  {'echo: bare Starlette + orjson':<40}{echo:>10,.0f}")
    for name, count in (
        ("publish, --in-memory", memory),
        ("publish, --data-dir (an fsync each)", durable),
    ):
        print(f"  {name:<40}{count:>10,.0f}   echo / this {echo / count:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
