"""The session's emulator, as the plugin sees it: starting one in-process (or probing one that
is already running), the HTTP transport every test's client shares, and the per-test reset."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import httpx

from emulator.config import EmulatorConfig
from emulator.datadir import DataDirError, DataDirInUse
from emulator.server import EmulatorServer
from pytest_plugin.helpers import SimplyQEnvironment
from pytest_plugin.settings import URL_ENV, Settings, worker_id

# How long the readiness probe of an external emulator may take.
PROBE_TIMEOUT = 2.0
# Reset is one small request; a bound still keeps a dead emulator from hanging the run.
RESET_TIMEOUT = 10.0


# ====================================================================== transport
class SharedTransport(httpx.BaseTransport):
    """One connection pool for every client of a session.

    Creating an ``httpx.Client`` builds its own transport and SSL context (tens of ms); the
    per-test clients use this one instead, and closing a client leaves it open.
    """

    def __init__(self, url: str, inner: httpx.BaseTransport | None = None) -> None:
        # Plain http to loopback needs no certificates: skip loading the CA bundle.
        self._transport = inner or httpx.HTTPTransport(verify=url.startswith("https://"))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport.handle_request(request)

    def close(self) -> None:
        """Closing a client closes its transport: this one outlives the clients."""

    def stop(self) -> None:
        self._transport.close()


# ====================================================================== the session emulator
class SimplyQServer:
    """The emulator a session (an xdist worker) uses: started here, or one already running.

    ``url`` is its base URL, ``server`` the in-process ``EmulatorServer`` (None when external),
    ``data_dir`` where a started one keeps its files.
    """

    def __init__(self, settings: Settings, worker: str | None = None) -> None:
        self.settings = settings
        self.worker = worker or worker_id()
        self.server: EmulatorServer | None = None
        self.data_dir: Path | None = None
        self.url = settings.url or ""
        self._scratch: str | None = None
        self._transport: SharedTransport | None = None
        self._http: httpx.Client | None = None

    @property
    def external(self) -> bool:
        return self.settings.external

    def start(self) -> SimplyQServer:
        """Start the emulator (or check the external one answers); returns when it serves."""
        if self.settings.url is not None:
            self._probe(self.settings.url)
        else:
            if self.settings.data_dir is not None:
                self.data_dir = self.settings.data_dir / self.worker
                self.data_dir.mkdir(parents=True, exist_ok=True)
            else:
                self._scratch = tempfile.mkdtemp(prefix=f"simplyq-{self.worker}-")
                self.data_dir = Path(self._scratch)
            config = EmulatorConfig(
                port=0,
                data_dir=self.data_dir,
                # Scratch data needs no fsync; kept data is written as `serve` writes it.
                durable=self.settings.data_dir is not None,
                time_scale=self.settings.time_scale,
                delivery_timeout=self.settings.delivery_timeout,
            )
            try:
                self.server = EmulatorServer(config).start()
            except DataDirInUse as error:
                attach = f"run the tests against it with --simplyq-url {error.url}, "
                if error.url is None:
                    attach = ""
                raise ConnectionError(
                    f"simplyq: {error}; {attach}or choose another --simplyq-data-dir"
                ) from None
            except DataDirError as error:
                self._remove_scratch()
                raise ConnectionError(f"simplyq: cannot start the emulator: {error}") from None
            except BaseException:
                self._remove_scratch()
                raise
            self.url = self.server.url
        self._transport = SharedTransport(self.url)
        self._http = httpx.Client(
            base_url=self.url, transport=self._transport, timeout=RESET_TIMEOUT, trust_env=False
        )
        return self

    @staticmethod
    def _probe(url: str) -> None:
        try:
            verify = url.startswith("https://")  # plain http needs no CA bundle loaded
            with httpx.Client(verify=verify, trust_env=False, timeout=PROBE_TIMEOUT) as http:
                answer = http.get(url + "/_emulator/health")
                # Without a key, the control API answers only an emulator started without
                # --api-key: one started with it refuses the fresh key each test uses.
                keyed = http.get(url + "/_emulator/clock").status_code == 401
            answer.raise_for_status()
            if answer.json().get("status") != "ok":
                raise ValueError(f"unexpected health answer: {answer.text[:200]}")
        except (httpx.HTTPError, ValueError) as error:
            raise ConnectionError(
                f"simplyq: no SimplyQ emulator answers at {url} ({type(error).__name__}: "
                f"{error}); start one with `simplyq-emulator serve` or drop --simplyq-url / "
                f"simplyq_url / ${URL_ENV}"
            ) from None
        if keyed:
            raise ConnectionError(
                f"simplyq: the emulator at {url} was started with --api-key: it accepts only "
                "those keys, and every test needs a fresh key (environment) of its own; use an "
                "emulator started without --api-key (a team's shared one is not for test runs), "
                f"or drop --simplyq-url / simplyq_url / ${URL_ENV} to start one in-process"
            )

    # ------------------------------------------------------------------ per test
    def environment(self) -> SimplyQEnvironment:
        """A fresh environment (a new random API key): no network round trip."""
        return SimplyQEnvironment(self.url, transport=self._transport)

    def finish(self, environment: SimplyQEnvironment) -> None:
        """Close the environment's client and, unless the data is kept, delete its data."""
        environment.close()
        if self.settings.keep_data or self._http is None:
            return
        key = environment.api_key
        try:
            answer = self._http.post(
                "/_emulator/reset",
                json={"api_key": key},
                headers={"Authorization": f"Bearer {key}"},
            )
            answer.raise_for_status()
        except httpx.HTTPError as error:
            raise RuntimeError(
                f"simplyq: could not reset the test's environment at {self.url}: "
                f"{type(error).__name__}: {error}"
            ) from None

    # ------------------------------------------------------------------ end
    def stop(self) -> None:
        """Stop what was started (idempotent); kept data stays, scratch data is removed."""
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._transport is not None:
            self._transport.stop()
            self._transport = None
        if self.server is not None:
            self.server.stop()
            self.server = None
        self._remove_scratch()

    def _remove_scratch(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __repr__(self) -> str:
        kind = "external" if self.external else "started"
        return f"SimplyQServer({self.url!r}, {kind})"
