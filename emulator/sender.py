"""A lean HTTP/1.1 client for deliveries to plain ``http://`` URLs.

Measured on the delivery benchmark: httpx (its pool, anyio streams, h11) was 58% of the
emulator's CPU while delivering, more than the API serving the publishes. This client does only
what a delivery needs: one POST on a kept-alive connection, the answer parsed by httptools (the
C parser uvicorn uses), its body read up to a limit. HTTPS and injected clients stay on httpx.

One ``Sender`` per endpoint: its connections go to that endpoint only, so a slow endpoint holds
none that another needs. The delivery engine bounds the requests in flight per endpoint; the
sender keeps that many connections open between deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools


class SendError(Exception):
    """A try that got no (whole) answer."""


class ConnectError(SendError):
    """The connection could not be made."""


class RemoteProtocolError(SendError):
    """The endpoint closed the connection early or did not answer in HTTP/1.1."""


class LocalProtocolError(SendError):
    """The request cannot be written as HTTP/1.1: a header name or value that would break
    the request's framing (a stored value with CR or LF would add a header line)."""


# RFC 9110 field names (tokens) and field values (no CR, LF or NUL; no surrounding blanks),
# the rules h11 (httpx's HTTP/1.1) applies before anything is sent.
_FIELD_NAME = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+\Z")
_FIELD_VALUE = re.compile(
    rb"(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?\Z"
)


def _checked(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    if not _FIELD_NAME.match(name):
        raise LocalProtocolError(f"Illegal header name {name!r}")
    if not _FIELD_VALUE.match(value):
        raise LocalProtocolError(f"Illegal header value {value!r}")
    return name, value


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes
    # Names in lower case, repeated headers joined with ", " (as httpx's ``dict(headers)``).
    headers: dict[str, str]


@dataclass(frozen=True)
class Target:
    """Where a URL's requests go: the address to connect to, the Host header, the path."""

    host: str
    port: int
    host_header: bytes
    path: bytes

    @classmethod
    def of(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme.lower() != "http" or not parts.hostname:
            raise ValueError(f"not a plain http:// URL: {url}")
        port = parts.port or 80
        netloc = parts.netloc.rpartition("@")[2]
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.hostname, port, netloc.encode("idna"), path.encode())


def is_plain_http(url: str) -> bool:
    return url[:7].lower() == "http://"


def _header_text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


class _Connection(asyncio.Protocol):
    """One TCP connection: a request at a time, its answer parsed as it arrives."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._answer: asyncio.Future[Answer] | None = None
        self._parser = httptools.HttpResponseParser(self)
        self.received = False
        self.reusable = False
        self._reset()

    def _reset(self) -> None:
        """Forget the answer parsed so far (a new request, or after an interim answer)."""
        self._headers: list[tuple[bytes, bytes]] = []
        self._status = 0
        self._chunks: list[bytes] = []
        self._size = 0
        self._headers_done = False
        self._framed = False  # a Content-Length or chunked body: EOF before its end is an error

    # ------------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.received = True
        if self._answer is None or self._answer.done():
            self.close()  # bytes nobody asked for: the connection's state is unknown
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(RemoteProtocolError(f"invalid HTTP response: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is None or self._answer.done():
            return
        if self._headers_done and not self._framed:
            self._finish(reusable=False)  # a body that ends with the connection
        elif self._headers_done:
            # httpx's words for both cases, so an attempt's response reads as it always did.
            self._fail(
                RemoteProtocolError("peer closed connection without sending complete message body")
            )
        else:
            self._fail(RemoteProtocolError("Server disconnected without sending a response."))

    # ------------------------------------------------------------------ httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        lower = name.lower()
        if lower == b"content-length" or (
            lower == b"transfer-encoding" and b"chunked" in value.lower()
        ):
            self._framed = True
        self._headers.append((lower, value))

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        if self._size < self.limit:
            self._chunks.append(body)
        self._size += len(body)
        if self._size >= self.limit:
            self._finish(reusable=False)  # the rest is not read: the connection is dropped

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:  # an interim answer (100 Continue): the real one follows
            self._reset()
            return
        self._finish(reusable=self._parser.should_keep_alive())

    # ------------------------------------------------------------------ requests
    def _finish(self, *, reusable: bool) -> None:
        if self._answer is None or self._answer.done():
            return
        headers: dict[str, str] = {}
        for name, value in self._headers:
            key, text = name.decode("latin-1"), _header_text(value)
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        body = b"".join(self._chunks)[: self.limit]
        self.reusable = reusable
        self._answer.set_result(Answer(self._status, body, headers))

    def _fail(self, error: SendError) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(error)
        self.close()

    async def request(self, head: bytes, body: bytes) -> Answer:
        assert self.transport is not None
        self._parser = httptools.HttpResponseParser(self)
        self.received = self.reusable = False
        self._reset()
        self._answer = asyncio.get_running_loop().create_future()
        self.transport.write(head + body)
        try:
            return await self._answer
        finally:
            self._answer = None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Sender:
    """POSTs to one endpoint over kept-alive connections (at most ``keep`` idle ones)."""

    def __init__(self, limit: int, keep: int, user_agent: str) -> None:
        self.limit = limit
        self.keep = keep
        self.user_agent = user_agent.encode()
        self._idle: list[_Connection] = []
        self._targets: dict[str, Target] = {}
        self._closed = False

    def _target(self, url: str) -> Target:
        target = self._targets.get(url)
        if target is None:
            target = self._targets[url] = Target.of(url)
        return target

    async def _connect(self, target: Target) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                lambda: _Connection(self.limit), target.host, target.port
            )
        except (OSError, UnicodeError) as error:
            raise ConnectError(str(error) or type(error).__name__) from None
        return connection

    def _head(self, target: Target, headers: dict[bytes, bytes], size: int) -> bytes:
        fields = {
            b"host": (b"Host", target.host_header),
            b"accept": (b"Accept", b"*/*"),
            b"user-agent": (b"User-Agent", self.user_agent),
        }
        for name, value in headers.items():
            fields[name.lower()] = _checked(name, value)
        fields[b"content-length"] = (b"Content-Length", str(size).encode())
        lines = b"".join(name + b": " + value + b"\r\n" for name, value in fields.values())
        return b"POST " + target.path + b" HTTP/1.1\r\n" + lines + b"\r\n"

    async def post(self, url: str, headers: dict[bytes, bytes], body: bytes) -> Answer:
        """POST ``body`` to ``url`` (plain http); the answer, its body cut at the limit."""
        target = self._target(url)
        head = self._head(target, headers, len(body))
        while self._idle:
            connection = self._idle.pop()
            if connection.closed:
                continue
            try:
                return await self._use(connection, head, body)
            except RemoteProtocolError:
                # A kept-alive connection the server closed as the request went out: the
                # server read nothing of it, so it is sent again on a fresh one.
                if connection.received:
                    raise
        return await self._use(await self._connect(target), head, body)

    async def _use(self, connection: _Connection, head: bytes, body: bytes) -> Answer:
        done = False
        try:
            answer = await connection.request(head, body)
            done = True
            return answer
        finally:
            if done and connection.reusable and not self._closed and len(self._idle) < self.keep:
                self._idle.append(connection)
            else:
                connection.close()  # failed, cancelled (a timeout), or not to be kept

    def close(self) -> None:
        """Close the idle connections; those in use close when their request ends."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


__all__ = [
    "Answer",
    "ConnectError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "SendError",
    "Sender",
    "is_plain_http",
]
