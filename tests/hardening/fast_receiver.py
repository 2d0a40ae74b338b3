"""A small, fast webhook receiver for load tests, run as its own process.

``python -m tests.hardening.fast_receiver --mode ok|fail-first`` listens on a free port of
127.0.0.1, prints ``port <n>`` once ready, and answers every POST (bodies framed by
Content-Length, as the emulator sends them) on a kept-alive connection: always 200 (``ok``), or
500 the first time a body arrives and 200 the next time (``fail-first``: every delivery fails
once, then succeeds; half of all requests fail). ``GET /_count`` answers the counts so far as
JSON: ``{"requests": n, "ok": n, "failed": n}``. An asyncio protocol in its own
process keeps up with the emulator where a threaded ``http.server`` in the test process would
not (and would share the test's interpreter lock).
"""

from __future__ import annotations

import argparse
import asyncio
import json

COUNTS = {"requests": 0, "ok": 0, "failed": 0}
SEEN: set[bytes] = set()  # bodies answered with a failure once already


class Protocol(asyncio.Protocol):
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(self.answer(head.split(b" ", 2)[:2], body))

    def answer(self, request_line: list[bytes], body: bytes) -> bytes:
        if request_line == [b"GET", b"/_count"]:
            counts = json.dumps(COUNTS).encode()
            return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(counts), counts)
        COUNTS["requests"] += 1
        if self.mode == "fail-first" and body not in SEEN:
            SEEN.add(body)
            COUNTS["failed"] += 1
            return b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\nflaky"
        COUNTS["ok"] += 1
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def serve(mode: str) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Protocol(mode), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["ok", "fail-first"], default="ok")
    asyncio.run(serve(parser.parse_args().mode))


if __name__ == "__main__":
    main()
