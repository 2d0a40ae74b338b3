"""``EmulatorServer``: the emulator on uvicorn, on a socket bound before start (port 0 works)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType

import uvicorn

from emulator.config import EmulatorConfig
from emulator.datadir import DataDirLock

START_TIMEOUT = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP. Without it every keep-alive response (headers, then body) waits ~40 ms for
    # the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 host in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class UvicornServer(uvicorn.Server):
    """uvicorn, telling the emulator's change streams to end as soon as a shutdown starts, and
    calling ``on_started`` once it serves.

    It owns the data directory's lock (None in memory): the lock file names its URL once it
    serves, and the lock is released only after the shutdown has flushed everything.
    """

    on_started: Callable[[], None] | None = None
    lock: DataDirLock | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().serve(sockets=sockets)
        finally:
            if self.lock is not None:
                self.lock.release()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.lock is not None and sockets:
            self.lock.announce(base_url(self.config.host, sockets[0].getsockname()[1]))
        if self.started and self.on_started is not None:
            self.on_started()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        close_streams(self.config.app)
        super().handle_exit(sig, frame)


def close_streams(app: object) -> None:
    emulator = getattr(getattr(app, "state", None), "emulator", None)
    if emulator is not None:
        emulator.repository.bus.closed = True


def uvicorn_server(config: EmulatorConfig) -> UvicornServer:
    """The emulator's uvicorn server, its data loaded. Raises ``DataDirInUse`` when another
    process owns the data directory (before reading any of it)."""
    from emulator.web.app import create_app

    lock = DataDirLock.acquire(config.data_dir) if config.data_dir is not None else None
    try:
        server = UvicornServer(
            uvicorn.Config(
                create_app(config),
                host=config.host,
                log_level=config.log_level,
                lifespan="on",
                access_log=False,
                timeout_graceful_shutdown=5,
            )
        )
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    server.lock = lock
    return server


class EmulatorServer:
    """Runs an emulator in a background thread: ``with EmulatorServer(config) as server: ...``.

    It listens on ``port`` (default 0: a free one), whatever ``config.port`` says.
    """

    def __init__(self, config: EmulatorConfig | None = None, *, port: int = 0) -> None:
        # A server in a thread is for tests and tools: a free port unless one is asked for.
        self.config = (config or EmulatorConfig(data_dir=None)).with_changes(port=port)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        return base_url(self.config.host, self.port)

    @property
    def app(self) -> object:
        assert self._server is not None
        return self._server.config.app

    def start(self) -> EmulatorServer:
        """Start serving and return once requests are accepted."""
        self._socket = bind_socket(self.config.host, self.config.port)
        self.port = self._socket.getsockname()[1]
        try:
            self._server = uvicorn_server(self.config)
        except BaseException:  # the data directory is in use or unreadable
            self._socket.close()
            self._socket = None
            raise
        server, sock = self._server, self._socket
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="simplyq-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        """Stop serving (pending writes are flushed by the app's shutdown)."""
        if self._server is not None:
            close_streams(self._server.config.app)
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
