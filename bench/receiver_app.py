"""A fast local webhook receiver for the delivery benchmark: records what arrived and when.

``python -m bench.receiver_app --port N``. ``POST /<anything>`` answers 200 and records
``(payload["n"], path, time.monotonic())`` (CLOCK_MONOTONIC is shared by every process on the
machine, so the publisher can subtract its own send times). ``GET /_count`` and ``GET /_dump``.
"""

from __future__ import annotations

import argparse
import time

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.server import bind_socket

received: list[tuple[int, str, float]] = []


async def receive(request: Request) -> Response:
    payload = orjson.loads(await request.body())
    received.append((int(payload.get("n", -1)), request.url.path, time.monotonic()))
    return Response(b"ok")


async def count(request: Request) -> Response:
    return Response(str(len(received)).encode())


async def dump(request: Request) -> Response:
    data = orjson.dumps(received)
    received.clear()
    return Response(data, media_type="application/json")


app = Starlette(
    routes=[
        Route("/_count", count, methods=["GET"]),
        Route("/_dump", dump, methods=["GET"]),
        Route("/{path:path}", receive, methods=["POST"]),
    ]
)


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
