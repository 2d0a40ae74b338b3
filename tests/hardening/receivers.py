"""A raw-socket webhook receiver on 127.0.0.1 whose every answer is scripted byte by byte.

``RawReceiver`` reads each request exactly as it arrived on the wire (head and body, by
Content-Length) and records the raw bytes, so a test can check what the emulator really sent
(no header parser in between to hide an injected line). How it answers is a ``Behaviour``:
a 200, any status, hanging, closing mid-answer, trickling, a huge body, and so on.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

HOST = "127.0.0.1"
WAIT = 10.0


@dataclass(frozen=True)
class RawRequest:
    head: bytes  # request line and header lines, CRLF-separated, without the blank line
    body: bytes
    at: float  # time.monotonic() when the head had arrived
    path: str

    @property
    def header_lines(self) -> list[bytes]:
        return self.head.split(b"\r\n")[1:]

    def header(self, name: str) -> list[bytes]:
        """Every value sent under ``name`` (case-insensitive), as raw bytes."""
        wanted = name.lower().encode()
        found = []
        for line in self.header_lines:
            key, _, value = line.partition(b":")
            if key.strip().lower() == wanted:
                found.append(value.strip())
        return found


# A behaviour gets the connection and the request; it writes whatever it likes.
Behaviour = Callable[[socket.socket, RawRequest], None]


def answer(status: int = 200, body: bytes = b"ok", extra: bytes = b"") -> Behaviour:
    """A plain HTTP/1.1 answer (the connection stays open for the next request)."""

    def behave(conn: socket.socket, request: RawRequest) -> None:
        conn.sendall(
            f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n".encode()
            + extra
            + b"\r\n"
            + body
        )

    return behave


class RawReceiver:
    """Accepts connections on 127.0.0.1 and answers each request with ``behaviour``."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or answer()
        self.requests: list[RawRequest] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((HOST, 0))
        self._sock.listen(128)
        self._sock.settimeout(0.05)
        self.port: int = self._sock.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        accept = threading.Thread(target=self._accept, daemon=True)
        self._threads.append(accept)
        accept.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def hook(self, path: str = "/hook") -> str:
        return self.url + path

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._changed:
                self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _read_request(self, conn: socket.socket, buffer: bytearray) -> RawRequest | None:
        while b"\r\n\r\n" not in buffer:
            chunk = self._recv(conn)
            if not chunk:
                return None
            buffer.extend(chunk)
        at = time.monotonic()
        head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
        buffer[:] = rest
        length = 0
        for line in head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(buffer) < length:
            chunk = self._recv(conn)
            if not chunk:
                return None
            buffer.extend(chunk)
        body = bytes(buffer[:length])
        del buffer[:length]
        path = head.split(b"\r\n")[0].split(b" ")[1].decode("latin-1")
        return RawRequest(head, body, at, path)

    def _recv(self, conn: socket.socket) -> bytes:
        while not self._stop.is_set():
            try:
                conn.settimeout(0.05)
                return conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return b""
        return b""

    def _serve(self, conn: socket.socket) -> None:
        buffer = bytearray()
        try:
            while not self._stop.is_set():
                request = self._read_request(conn, buffer)
                if request is None:
                    return
                with self._changed:
                    self.requests.append(request)
                    self._changed.notify_all()
                try:
                    self.behaviour(conn, request)
                except OSError:
                    return  # the emulator gave up on this connection
                if conn.fileno() == -1:
                    return  # the behaviour closed it
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    @property
    def stopping(self) -> threading.Event:
        return self._stop

    def received(self) -> list[RawRequest]:
        with self._changed:
            return list(self.requests)

    def wait_for(self, count: int, timeout: float = WAIT) -> list[RawRequest]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
                self._changed.wait(remaining)
            return list(self.requests)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._changed:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    conn.close()
        for thread in self._threads:
            thread.join(WAIT)

    def __enter__(self) -> RawReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
