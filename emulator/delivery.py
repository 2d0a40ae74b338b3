"""The delivery engine: a scheduler of due attempts on the emulator clock, and a sender.

Each endpoint has its own lane: a queue, at most ``MAX_IN_FLIGHT`` requests at once, its own
``httpx.AsyncClient`` (so a hanging or slow endpoint never holds connections another endpoint
needs), and its rate limit, counted per emulated second. Every HTTP try is one attempt record;
a failed try asks ``retry.next_retry_delay`` for the next one.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import heapq
import itertools
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from emulator import __version__
from emulator.chaos import ChaosScopes, decide
from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.loopback import LoopbackCheck
from emulator.models import Attempt, AttemptStatus, Endpoint, Event
from emulator.repository import Repository
from emulator.retry import next_retry_delay
from emulator.sender import Sender, SendError, is_plain_http
from emulator.service import Service
from emulator.signing import signed_headers
from emulator.timeouts import deadline

# Measured here: one AsyncClient slows down sharply past ~8 requests in flight (httpcore pool
# contention, encode/httpx#3215), so each endpoint's lane stays at or under that.
MAX_IN_FLIGHT = 8
IDLE_CLIENT_SECONDS = 60.0
INACTIVE = "endpoint is inactive: not delivered"
REDACTED = "<redacted>"
USER_AGENT = f"simplyq-emulator/{__version__}"

ClientFactory = Callable[[], httpx.AsyncClient]


@dataclass
class Lane:
    """One endpoint's delivery queue and connection."""

    queue: deque[str] = field(default_factory=deque)
    in_flight: int = 0
    client: httpx.AsyncClient | None = None
    sender: Sender | None = None  # plain http:// deliveries, unless a client was injected
    last_used: float = field(default_factory=time.monotonic)
    window_second: int = -1
    window_count: int = 0


@dataclass(frozen=True)
class TryResult:
    status_code: int
    body: str
    headers: dict[str, str] | None
    ok: bool


class DeliveryEngine:
    """Runs inside the server's event loop, started and stopped by the app's lifespan."""

    def __init__(
        self,
        repository: Repository,
        service: Service,
        clock: Clock,
        config: EmulatorConfig,
        client_factory: ClientFactory | None = None,
    ) -> None:
        self.repo = repository
        self.service = service
        self.clock = clock
        self.config = config
        self._client_factory = client_factory or self._default_client
        self._lean = client_factory is None
        # Made on first use: building it costs ~60 ms and local deliveries are plain HTTP.
        self._ssl: ssl.SSLContext | None = None
        self._heap: list[tuple[float, int, str]] = []
        self._lanes: dict[str, Lane] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: asyncio.Task[None] | None = None
        self._loopback = LoopbackCheck()
        # Off unless set (serve --chaos, the control API): then nothing is checked per try.
        self.chaos = ChaosScopes(config.chaos)
        self.delivered = 0
        service.on_attempt_scheduled(self.schedule)
        clock.on_change(self._clock_changed)
        repository.on_reload(self._replan)
        repository.on_available(self._resume)

    def _default_client(self) -> httpx.AsyncClient:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return httpx.AsyncClient(
            verify=self._ssl,
            timeout=httpx.Timeout(self.config.delivery_timeout),
            # Keep every connection a full lane uses: closing and reopening them cost 8% of a
            # delivery's CPU.
            limits=httpx.Limits(
                max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT
            ),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        # Emulated time never goes back, not even across a restart: a clock advanced by hours
        # before the stop would otherwise restart from the wall clock, and every retry scheduled
        # after the advance would wait those hours again.
        latest = self._latest_stored_time()
        if latest > self.clock.now():
            self.clock.advance(latest - self.clock.now())
        self._plan_from_store()
        self._runner = self._loop.create_task(self._run())

    def _plan_from_store(self) -> None:
        """Schedule what the stored records say is due, as a (re)start must."""
        for attempt in self.service.resume_unfinished():
            self.schedule(attempt)
        # A failed try and the retry it scheduled can sit in two segment files: a crash between
        # their writes keeps the failure and loses the retry. Schedule it again.
        for attempt in self._failed_without_retry():
            finished = (attempt.attempted_at or 0.0) + (attempt.duration_ms or 0.0) / 1000
            self._retry_later(attempt, failed_at=finished)
        self.repo.mark_dirty_soon()

    def _replan(self) -> None:
        """The records were reloaded (the disk refused a write): forget the plan made from
        the old ones. A try whose result was undone is made again (at-least-once)."""
        if self._runner is None:
            return
        self._heap.clear()
        for lane in self._lanes.values():
            lane.queue.clear()
        self._plan_from_store()

    def _resume(self) -> None:
        """The disk takes writes again: send what waited meanwhile."""
        for endpoint_key, lane in list(self._lanes.items()):
            self._pump(endpoint_key, lane)
        if self._wake is not None:
            self._wake.set()

    def _failed_without_retry(self) -> list[Attempt]:
        """Failed tries that are the latest of their (event, endpoint) pair (an inactive
        endpoint's are left alone: those are never retried)."""
        return [
            attempt
            for attempt in list(self.repo.attempts.by_key.values())
            if attempt.status == AttemptStatus.FAIL
            and attempt.response != INACTIVE
            and self.repo.latest_attempt(attempt.event, attempt.endpoint) is attempt
        ]

    def _latest_stored_time(self) -> float:
        """The latest time any stored record shows (0 when there is none)."""
        repo = self.repo
        times = itertools.chain(
            (a.attempted_at or 0.0 for a in repo.attempts.by_key.values()),
            (e.created_at for e in repo.events.by_key.values()),
            (e.updated_at for e in repo.endpoints.by_key.values()),
            (a.updated_at for a in repo.applications.by_key.values()),
            (e.created_at for e in repo.environments.by_key.values()),
        )
        return max(times, default=0.0)

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for lane in self._lanes.values():
            if lane.sender is not None:
                lane.sender.close()
            if lane.client is not None:
                await lane.client.aclose()
        self._lanes.clear()

    # ------------------------------------------------------------------ scheduling
    def schedule(self, attempt: Attempt) -> None:
        """Queue a pending attempt for its due time (moved by chaos, if any applies)."""
        if self.chaos.any and attempt.chaos is None and attempt.status == AttemptStatus.PENDING:
            self._inject_before(attempt)
        heapq.heappush(self._heap, (attempt.scheduled_at, attempt.seq, attempt.key))
        if self._wake is not None:
            self._wake.set()

    def _inject_before(self, attempt: Attempt) -> None:
        settings = self.chaos.for_attempt(attempt.env, attempt.app, attempt.endpoint)
        if settings is None:
            return
        due = attempt.scheduled_at
        injection = decide(
            settings, self._place(attempt), due=due, is_retry=attempt.retry_count > 0
        )
        attempt.chaos = injection.to_record(settings.seed, due)
        if attempt.chaos is not None:
            attempt.scheduled_at = injection.burst_until or due + injection.delay
            self.repo.save_attempt(attempt)

    def _place(self, attempt: Attempt) -> str:
        """Where an attempt stands, independent of timing: application, endpoint, the event's
        position among the application's events, and the tries of this pair before it."""
        events = self.repo.events_of_app.get(attempt.app, [])
        position = bisect.bisect_left([e.seq for e in events], self._event_seq(attempt))
        before = sum(
            1
            for a in self.repo.attempts_of_event.get(attempt.event, ())
            if a.endpoint == attempt.endpoint and a.seq < attempt.seq
        )
        app = self.repo.applications.by_key.get(attempt.app)
        return f"{app.uid if app else attempt.app}|{attempt.endpoint_uid}|{position}|{before}"

    def _event_seq(self, attempt: Attempt) -> int:
        event = self.repo.events.by_key.get(attempt.event)
        return event.seq if event is not None else 0

    def _clock_changed(self) -> None:
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def next_due(self) -> float | None:
        """When the earliest waiting attempt is due (emulated time), if any."""
        while self._heap:
            due, _, key = self._heap[0]
            attempt = self.repo.attempts.by_key.get(key)
            if attempt is not None and attempt.status == AttemptStatus.PENDING:
                return due
            heapq.heappop(self._heap)
        return None

    def busy(self) -> bool:
        """True while something due now is queued or being sent."""
        due = self.next_due()
        if due is not None and due <= self.clock.now():
            return True
        return any(lane.queue or lane.in_flight for lane in self._lanes.values())

    async def settle(self, timeout: float = 10.0) -> bool:
        """Wait until every attempt due now has been tried; False on timeout."""
        assert self._idle is not None and self._wake is not None
        give_up_at = time.monotonic() + timeout
        while self.busy():
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                return False
            self._idle.clear()
            self._wake.set()
            with contextlib.suppress(TimeoutError):
                async with deadline(min(remaining, 0.05)):
                    await self._idle.wait()
        return True

    async def _run(self) -> None:
        assert self._wake is not None and self._idle is not None
        while True:
            now = self.clock.now()
            while self._heap and self._heap[0][0] <= now:
                _, _, key = heapq.heappop(self._heap)
                attempt = self.repo.attempts.by_key.get(key)
                if attempt is None or attempt.status != AttemptStatus.PENDING:
                    continue
                lane = self._lanes.setdefault(attempt.endpoint, Lane())
                lane.queue.append(key)
                self._pump(attempt.endpoint, lane)
            self._close_idle_clients()
            if not self.busy():
                self._idle.set()
            due = self.next_due()
            timeout = None if due is None else self.clock.real_delay(due - self.clock.now())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                # Sleep at most a second: a long real wait must still notice a scale change.
                async with deadline(min(timeout, 1.0) if timeout else 1.0):
                    await self._wake.wait()

    def _pump(self, endpoint_key: str, lane: Lane) -> None:
        """Start as many queued sends as the lane's limits allow (none while the disk refuses
        writes: their results could not be kept)."""
        while lane.queue and lane.in_flight < MAX_IN_FLIGHT and self.repo.available:
            key = lane.queue.popleft()
            attempt = self.repo.attempts.by_key.get(key)
            endpoint = self.repo.endpoints.by_key.get(endpoint_key)
            if attempt is None or endpoint is None or attempt.status != AttemptStatus.PENDING:
                continue
            if not self._take_rate_slot(endpoint, lane):
                # Over the rate limit: wait for the next emulated second; nothing is dropped.
                heapq.heappush(self._heap, (float(int(self.clock.now()) + 1), attempt.seq, key))
                continue
            lane.in_flight += 1
            lane.last_used = time.monotonic()
            task = asyncio.get_running_loop().create_task(self._send(attempt, endpoint, lane))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _take_rate_slot(self, endpoint: Endpoint, lane: Lane) -> bool:
        limit = endpoint.rate_limit
        if not limit:
            app = self.repo.applications.by_key.get(endpoint.app)
            limit = app.rate_limit if app else 0
        if not limit:
            return True
        second = int(self.clock.now())
        if second != lane.window_second:
            lane.window_second, lane.window_count = second, 0
        if lane.window_count >= limit:
            return False
        lane.window_count += 1
        return True

    def _close_idle_clients(self) -> None:
        """Close the connections of lanes idle for a while, or whose endpoint is gone (a
        reset deletes every endpoint: their connections must not wait a minute)."""
        cutoff = time.monotonic() - IDLE_CLIENT_SECONDS
        endpoints = self.repo.endpoints.by_key
        for key, lane in list(self._lanes.items()):
            if lane.queue or lane.in_flight:
                continue
            if lane.last_used < cutoff or key not in endpoints:
                del self._lanes[key]
                if lane.sender is not None:
                    lane.sender.close()
                if lane.client is not None:
                    client = lane.client
                    task = asyncio.get_running_loop().create_task(client.aclose())
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ sending
    async def _send(self, attempt: Attempt, endpoint: Endpoint, lane: Lane) -> None:
        try:
            event = self.repo.events.by_key.get(attempt.event)
            if event is None:
                return
            started = self.clock.now()
            attempt.status = AttemptStatus.SENDING
            attempt.attempted_at = started
            attempt.endpoint_url = endpoint.url
            if attempt.delivery_started_at is None:
                attempt.delivery_started_at = started
            self.repo.attempt_started(attempt)
            began = time.perf_counter()
            try:
                result = await self._try(attempt, endpoint, event, int(started))
            except Exception as error:
                # A try must end failed, never stay "sending": ``http://xn--.localhost/`` passes
                # validation but makes httpx raise idna.IDNAError.
                result = TryResult(0, f"{type(error).__name__}: {error}", None, False)
            attempt.duration_ms = round((time.perf_counter() - began) * 1000, 3)
            self._record(attempt, result)
        finally:
            lane.in_flight -= 1
            lane.last_used = time.monotonic()
            self._pump(endpoint.key, lane)
            if self._wake is not None:
                self._wake.set()

    async def _try(
        self, attempt: Attempt, endpoint: Endpoint, event: Event, timestamp: int
    ) -> TryResult:
        if not endpoint.active:
            return TryResult(0, INACTIVE, None, False)
        if not self.config.allow_remote_delivery and not await self._loopback.stays_local(
            endpoint.url
        ):
            return TryResult(
                0,
                f"not delivered: {endpoint.url} is not a loopback address; the emulator delivers "
                "only to localhost unless started with --allow-remote-delivery",
                None,
                False,
            )
        body = bytes(event.payload_json)  # the JSON as published
        signature = signed_headers(endpoint.valid_secrets(self.clock.now()), timestamp, body)
        # Values go out as UTF-8 bytes: httpx would refuse non-ASCII text (every try would fail),
        # and validation already keeps CR, LF and other controls out of them.
        headers = {
            name.encode(): value.encode()
            for name, value in {
                **endpoint.headers,
                **endpoint.sensitive_headers,
                "Content-Type": "application/json",
                **signature,
            }.items()
        }
        attempt.request_headers = {
            "User-Agent": USER_AGENT,
            **endpoint.headers,
            **{name: REDACTED for name in endpoint.sensitive_headers},
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            **signature,
        }
        lane = self._lanes.get(endpoint.key)
        if self._lean and lane is not None and is_plain_http(endpoint.url):
            send = functools.partial(self._post_lean, lane, endpoint.url, headers, body)
            return await self._send_once(attempt, send)
        if lane is not None and lane.client is None:
            lane.client = self._client_factory()
        client = lane.client if lane is not None and lane.client else self._client_factory()
        try:
            send = functools.partial(self._post_httpx, client, endpoint.url, body, headers)
            return await self._send_once(attempt, send)
        finally:
            if lane is None:
                await client.aclose()

    async def _send_once(
        self, attempt: Attempt, send: Callable[[], Awaitable[TryResult]]
    ) -> TryResult:
        """The try's request, and what chaos does after it when the attempt carries chaos."""
        result = await send()
        if attempt.chaos is not None:
            result = await self._inject_after(attempt, send, result)
        return result

    async def _post_httpx(
        self, client: httpx.AsyncClient, url: str, body: bytes, headers: dict[bytes, bytes]
    ) -> TryResult:
        """One HTTP request of a try, within the delivery timeout."""
        limit = self.config.max_response_bytes
        try:
            async with (
                deadline(self.config.delivery_timeout),
                client.stream("POST", url, content=body, headers=headers) as response,
            ):
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= limit:
                        break
                text = b"".join(chunks)[:limit].decode("utf-8", "replace")
                return TryResult(
                    response.status_code,
                    text,
                    dict(response.headers),
                    200 <= response.status_code < 300,
                )
        except (TimeoutError, httpx.TimeoutException):
            return self._timed_out()
        except httpx.HTTPError as error:
            detail = str(error) or "the connection failed without a message"
            return TryResult(0, f"{type(error).__name__}: {detail}", None, False)

    async def _inject_after(
        self, attempt: Attempt, send: Callable[[], Awaitable[TryResult]], result: TryResult
    ) -> TryResult:
        """Chaos after the request: send it again as it was (a duplicate), and lose a 2xx
        answer (recorded as a timeout, so it is retried); the record says which."""
        chaos = attempt.chaos or {}
        if "duplicate" in chaos:
            copy = await send()
            chaos["duplicate"] = {"status_code": copy.status_code}
        if "lost_ack" in chaos:
            if not result.ok:
                del chaos["lost_ack"]  # no answer to lose: the try failed by itself
            else:
                chaos["lost_ack"] = {"status_code": result.status_code}
                return self._timed_out()
        return result

    async def _post_lean(
        self, lane: Lane, url: str, headers: dict[bytes, bytes], body: bytes
    ) -> TryResult:
        """A try through the lane's lean sender (plain http: what local deliveries are)."""
        if lane.sender is None:
            lane.sender = Sender(self.config.max_response_bytes, MAX_IN_FLIGHT, USER_AGENT)
        try:
            async with deadline(self.config.delivery_timeout):
                answer = await lane.sender.post(url, headers, body)
        except TimeoutError:
            return self._timed_out()
        except SendError as error:
            detail = str(error) or "the connection failed without a message"
            return TryResult(0, f"{type(error).__name__}: {detail}", None, False)
        text = answer.body.decode("utf-8", "replace")
        return TryResult(answer.status_code, text, answer.headers, 200 <= answer.status_code < 300)

    def _timed_out(self) -> TryResult:
        return TryResult(
            0, f"timeout: no answer within {self.config.delivery_timeout:g} s", None, False
        )

    def _record(self, attempt: Attempt, result: TryResult) -> None:
        if self.repo.attempts.by_key.get(attempt.key) is not attempt:
            return  # deleted with its endpoint while in flight
        attempt.response = result.body
        attempt.response_status_code = result.status_code
        attempt.response_headers = result.headers
        attempt.status = AttemptStatus.SUCCESS if result.ok else AttemptStatus.FAIL
        self.repo.save_attempt(attempt)
        self.delivered += 1
        if not result.ok:
            self._retry_later(attempt)
        self.repo.mark_dirty_soon()

    def _retry_later(self, attempt: Attempt, failed_at: float | None = None) -> None:
        app = self.repo.applications.by_key.get(attempt.app)
        endpoint = self.repo.endpoints.by_key.get(attempt.endpoint)
        if app is None or endpoint is None or not endpoint.active:
            return
        if failed_at is None:
            failed_at = self.clock.now()
        first = attempt.delivery_started_at or attempt.attempted_at or failed_at
        delay = next_retry_delay(
            app.retry_strategy, attempt.retry_count, first_try_at=first, failed_at=failed_at
        )
        if delay is not None:
            self.service.schedule_retry(attempt, failed_at + delay)
