"""The lean delivery client against a real TCP server on 127.0.0.1 that answers with exactly
the bytes each test gives: framings, interim answers, early closes, kept-alive connections."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from emulator.sender import (
    ConnectError,
    LocalProtocolError,
    RemoteProtocolError,
    Sender,
    Target,
    is_plain_http,
)

Answerer = Callable[[bytes], list[bytes]]  # the request's bytes -> the chunks to send back
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Server:
    """Reads one request (head and Content-Length body) at a time and sends ``answer(request)``;
    ``close_after`` closes the connection after that many answers."""

    def __init__(self, answer: Answerer, close_after: int | None = None) -> None:
        self.answer = answer
        self.close_after = close_after
        self.requests: list[bytes] = []
        self.connections = 0
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while self.close_after is None or answered < self.close_after:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                for chunk in self.answer(request):
                    writer.write(chunk)
                    await writer.drain()
                answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def serving(answer: Answerer, close_after: int | None = None) -> AsyncIterator[Server]:
    server = Server(answer, close_after)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/hook?x=1"
    try:
        yield server
    finally:
        listener.close()
        await asyncio.wait_for(listener.wait_closed(), 5)


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 10))


def sender(limit: int = 1000) -> Sender:
    return Sender(limit=limit, keep=8, user_agent="test-agent/1")


def test_a_post_carries_the_body_the_headers_and_the_host() -> None:
    async def scenario() -> tuple[Any, Server]:
        async with serving(lambda _: [OK]) as server:
            answer = await sender().post(
                server.url, {b"X-Sig": b"v1,abc", b"Content-Type": b"application/json"}, b"{}"
            )
            return answer, server

    answer, server = run(scenario())
    assert (answer.status_code, answer.body) == (200, b"ok")
    request = server.requests[0]
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /hook?x=1 HTTP/1.1"
    assert body == b"{}"
    fields = dict(line.split(b": ", 1) for line in lines[1:])
    port = server.url.split(":")[2].split("/")[0]
    assert fields[b"Host"] == f"127.0.0.1:{port}".encode()
    assert fields[b"User-Agent"] == b"test-agent/1"
    assert fields[b"Content-Length"] == b"2"
    assert fields[b"X-Sig"] == b"v1,abc"


def test_connections_are_kept_alive_between_posts() -> None:
    async def scenario() -> Server:
        async with serving(lambda _: [OK]) as server:
            client = sender()
            for _ in range(5):
                assert (await client.post(server.url, {}, b"x")).body == b"ok"
            client.close()
            return server

    server = run(scenario())
    assert (server.connections, len(server.requests)) == (1, 5)


def test_a_chunked_answer_split_across_packets_and_its_headers() -> None:
    chunks = [
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
        b"5\r\nhel",
        b"lo\r\n6\r\n world\r\n0\r\n\r\n",
    ]

    async def scenario() -> Any:
        async with serving(lambda _: chunks) as server:
            return await sender().post(server.url, {}, b"x")

    answer = run(scenario())
    assert (answer.status_code, answer.body) == (201, b"hello world")
    assert answer.headers["x-a"] == "1, 2"
    assert answer.headers["transfer-encoding"] == "chunked"


def test_an_interim_100_continue_is_skipped() -> None:
    async def scenario() -> Any:
        async with serving(lambda _: [b"HTTP/1.1 100 Continue\r\n\r\n" + OK]) as server:
            return await sender().post(server.url, {}, b"x")

    answer = run(scenario())
    assert (answer.status_code, answer.body) == (200, b"ok")


def test_a_body_without_length_ends_with_the_connection() -> None:
    async def scenario() -> Any:
        async with serving(lambda _: [b"HTTP/1.1 200 OK\r\n\r\nuntil the end"], 1) as server:
            return await sender().post(server.url, {}, b"x")

    assert run(scenario()).body == b"until the end"


def test_a_body_cut_short_is_an_error() -> None:
    async def scenario() -> None:
        answer = [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]
        async with serving(lambda _: answer, 1) as server:
            await sender().post(server.url, {}, b"x")

    with pytest.raises(RemoteProtocolError, match="without sending complete message body"):
        run(scenario())


def test_a_close_before_any_answer_is_a_disconnect() -> None:
    async def scenario() -> None:
        async with serving(lambda _: [], 1) as server:
            await sender().post(server.url, {}, b"x")

    with pytest.raises(RemoteProtocolError, match="Server disconnected without sending a response"):
        run(scenario())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"X-A", b"a\r\nX-Evil: 1"),
        (b"X-A", b"a\nb"),
        (b"X-A", b"nul\x00"),
        (b"X-A", b" padded"),
        (b"X-A\r\nX-Evil", b"1"),
        (b"X A", b"1"),
        (b"", b"1"),
    ],
)
def test_a_header_that_would_break_the_request_is_never_sent(name: bytes, value: bytes) -> None:
    async def scenario() -> Server:
        async with serving(lambda _: [OK]) as server:
            with pytest.raises(LocalProtocolError, match="Illegal header"):
                await sender().post(server.url, {name: value}, b"x")
            return server

    server = run(scenario())
    assert (server.connections, server.requests) == (0, [])


def test_a_body_is_cut_at_the_limit_and_its_connection_dropped() -> None:
    big = b"0123456789" * 1000
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(big), big)

    async def scenario() -> tuple[Any, Server]:
        async with serving(lambda _: [answer]) as server:
            client = sender(limit=25)
            first = await client.post(server.url, {}, b"x")
            await client.post(server.url, {}, b"x")
            return first, server

    first, server = run(scenario())
    assert first.body == big[:25]
    assert server.connections == 2  # the half-read connection was not used again


def test_a_connection_the_server_closed_meanwhile_is_replaced() -> None:
    async def scenario() -> Server:
        async with serving(lambda _: [OK], close_after=1) as server:
            client = sender()
            assert (await client.post(server.url, {}, b"x")).body == b"ok"
            await asyncio.sleep(0.1)  # the server closes its end
            assert (await client.post(server.url, {}, b"x")).body == b"ok"
            return server

    server = run(scenario())
    assert (server.connections, len(server.requests)) == (2, 2)


def test_garbage_is_a_protocol_error() -> None:
    async def scenario() -> None:
        async with serving(lambda _: [b"SMTP ready\r\n\r\n"]) as server:
            await sender().post(server.url, {}, b"x")

    with pytest.raises(RemoteProtocolError, match="invalid HTTP response"):
        run(scenario())


def test_nothing_listening_is_a_connect_error() -> None:
    async def scenario() -> None:
        await sender().post("http://127.0.0.1:9/", {}, b"x")

    with pytest.raises(ConnectError):
        run(scenario())


def test_only_plain_http_urls() -> None:
    assert is_plain_http("http://localhost:8000/x") and is_plain_http("HTTP://a/")
    assert not is_plain_http("https://localhost/")
    target = Target.of("http://user:pw@[::1]:8080")
    assert (target.host, target.port, target.host_header, target.path) == (
        "::1",
        8080,
        b"[::1]:8080",
        b"/",
    )
    with pytest.raises(ValueError):
        Target.of("https://localhost/")
