"""A fast local webhook receiver for the delivery benchmark: records what arrived and when.

``python -m bench.receiver_app --port N``. ``POST /<anything>`` answers 200 and records
``(payload["n"], path, time.monotonic())``, stamped the moment the whole request has arrived
(CLOCK_MONOTONIC is shared by every process on the machine, so the publisher can subtract its
own send times). ``/_count`` (any method) answers how many arrived, ``GET /_dump`` all of them.

A bare ASGI app on uvicorn rather than Starlette: the benchmark measures the emulator, and a
framework's routing and request objects would add their own time to every receipt (and to the
raw loop's yardstick alike).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import orjson
import uvicorn

from emulator.server import bind_socket

received: list[tuple[int, str, float]] = []

Scope = dict[str, Any]
Message = dict[str, Any]


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    chunks = []
    more = True
    while more:
        message: Message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    arrived = time.monotonic()
    path: str = scope["path"]
    if path == "/_count":
        answer = str(len(received)).encode()
    elif path == "/_dump" and scope["method"] == "GET":
        answer = orjson.dumps(received)
        received.clear()
    elif scope["method"] == "POST":
        payload = orjson.loads(b"".join(chunks))
        received.append((int(payload.get("n", -1)), path, arrived))
        answer = b"ok"
    else:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [(b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.receiver_app")
    parser.add_argument("--port", type=int, default=0)
    sock = bind_socket("127.0.0.1", parser.parse_args().port)
    print(f"  Base URL:  http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
    sock.close()


if __name__ == "__main__":
    main()
