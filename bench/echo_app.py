"""The baseline: a bare Starlette JSON echo app on uvicorn, with the emulator's uvicorn settings.

``python -m bench.echo_app [--port N]`` prints ``Base URL: http://127.0.0.1:PORT`` once bound.
"""

from __future__ import annotations

import argparse
import socket

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def echo(request: Request) -> Response:
    body = orjson.loads(await request.body())
    return Response(orjson.dumps(body), status_code=201, media_type="application/json")


app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])


def bind_socket(port: int) -> socket.socket:
    # proto IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only then (as on
    # the sockets uvicorn binds itself); socket.create_server leaves proto 0.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.echo_app")
    parser.add_argument("--port", type=int, default=0)
    port = parser.parse_args().port
    sock = bind_socket(port)
    print(f"  Base URL:  http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    # The emulator's settings (emulator.server.uvicorn_server): one worker, no access log.
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=5
    )
    uvicorn.Server(config).run(sockets=[sock])
    sock.close()


if __name__ == "__main__":
    main()
