"""``emulator.clock.Clock`` with injected fake wall and monotonic clocks, and a served
emulator whose wall clock is stepped while retries are scheduled."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from unittest import mock

import pytest
import uvicorn

import emulator.server as server_module
from emulator.clock import Clock, steady
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from emulator.web.app import create_app
from tests.emulator.delivery_helpers import Env, Receiver, Reply, emulator_config, wait_until

WALL = 1_700_000_000.25


class FakeTime:
    """A controllable wall clock and monotonic clock."""

    def __init__(self) -> None:
        self.wall_now = WALL
        self.mono_now = 500.0

    def wall(self) -> float:
        return self.wall_now

    def monotonic(self) -> float:
        return self.mono_now

    def sleep(self, seconds: float) -> None:
        """Real time passes: both clocks move."""
        self.wall_now += seconds
        self.mono_now += seconds


def make(time_scale: float = 1.0) -> tuple[Clock, FakeTime]:
    fake = FakeTime()
    return Clock(time_scale, wall=fake.wall, monotonic=fake.monotonic), fake


def test_starts_at_wall_time_and_runs_at_real_speed() -> None:
    clock, fake = make()
    assert clock.now() == WALL
    assert clock.time_scale == 1.0
    fake.sleep(2.5)
    assert clock.now() == pytest.approx(WALL + 2.5)


def test_only_the_monotonic_clock_drives_it() -> None:
    clock, fake = make()
    fake.wall_now -= 3600  # the wall clock is set back (NTP, DST, a user)
    fake.mono_now += 1
    assert clock.now() == pytest.approx(WALL + 1)
    fake.wall_now += 7200
    assert clock.now() == pytest.approx(WALL + 1)


@pytest.mark.parametrize(
    ("scale", "real", "emulated"), [(0.001, 0.03, 30.0), (0.5, 1, 2), (2, 4, 2)]
)
def test_time_scale(scale: float, real: float, emulated: float) -> None:
    clock, fake = make(scale)
    fake.sleep(real)
    assert clock.now() == pytest.approx(WALL + emulated)


def test_advance_jumps_exactly_and_returns_the_new_time() -> None:
    clock, fake = make(0.001)
    assert clock.advance(30) == pytest.approx(WALL + 30)
    assert clock.now() == pytest.approx(WALL + 30)
    fake.sleep(0.001)  # one emulated second at this scale
    assert clock.now() == pytest.approx(WALL + 31)
    assert clock.advance(0) == pytest.approx(WALL + 31)
    assert clock.advance(3600.5) == pytest.approx(WALL + 3631.5)
    assert clock.time_scale == 0.001


def test_advance_refuses_to_go_back() -> None:
    clock, _ = make()
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.now() == WALL


def test_set_time_scale_keeps_time_continuous() -> None:
    clock, fake = make(1.0)
    fake.sleep(10)
    assert clock.now() == pytest.approx(WALL + 10)
    clock.set_time_scale(0.5)
    assert clock.now() == pytest.approx(WALL + 10)  # no jump
    fake.sleep(1)
    assert clock.now() == pytest.approx(WALL + 12)
    clock.set_time_scale(1000)  # nearly frozen
    assert clock.time_scale == 1000
    assert clock.now() == pytest.approx(WALL + 12)
    fake.sleep(10)
    assert clock.now() == pytest.approx(WALL + 12.01)


def test_set_time_scale_after_advance_keeps_the_advance() -> None:
    clock, fake = make(1.0)
    clock.advance(100)
    clock.set_time_scale(0.01)
    assert clock.now() == pytest.approx(WALL + 100)
    fake.sleep(1)
    assert clock.now() == pytest.approx(WALL + 200)


@pytest.mark.parametrize("bad", [0, -1, -0.001])
def test_time_scale_must_be_positive(bad: float) -> None:
    fake = FakeTime()
    with pytest.raises(ValueError):
        Clock(bad, wall=fake.wall, monotonic=fake.monotonic)
    clock = Clock(1.0, wall=fake.wall, monotonic=fake.monotonic)
    with pytest.raises(ValueError):
        clock.set_time_scale(bad)
    assert clock.time_scale == 1.0


def test_real_delay() -> None:
    clock, _ = make(0.001)
    assert clock.real_delay(30) == pytest.approx(0.03)
    assert clock.real_delay(0) == 0
    assert clock.real_delay(-5) == 0
    clock.set_time_scale(2)
    assert clock.real_delay(30) == pytest.approx(60)


def test_real_delay_matches_now() -> None:
    """Sleeping real_delay(d) real seconds moves emulated time by exactly d."""
    clock, fake = make(0.25)
    start = clock.now()
    fake.sleep(clock.real_delay(40))
    assert clock.now() == pytest.approx(start + 40)


def test_listeners_called_on_advance_and_scale_change_only() -> None:
    clock, fake = make()
    calls: list[str] = []
    seen: list[float] = []
    clock.on_change(lambda: calls.append("a"))
    clock.on_change(lambda: seen.append(clock.now()))  # may read the clock: no deadlock
    clock.now()
    fake.sleep(5)
    clock.now()
    assert calls == []
    clock.advance(10)
    assert calls == ["a"]
    assert seen == [pytest.approx(WALL + 15)]
    clock.set_time_scale(0.5)
    assert calls == ["a", "a"]
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set_time_scale(0)
    assert calls == ["a", "a"]  # a refused change notifies nobody


def test_listener_added_during_notification_is_kept_for_next_time() -> None:
    clock, _ = make()
    calls: list[str] = []

    def first() -> None:
        calls.append("first")
        if len(calls) == 1:
            clock.on_change(lambda: calls.append("late"))

    clock.on_change(first)
    clock.advance(1)
    assert calls == ["first"]
    clock.advance(1)
    assert calls == ["first", "first", "late"]


def test_never_goes_backwards_under_many_operations() -> None:
    clock, fake = make(0.3)
    last = clock.now()
    for step in range(200):
        if step % 3 == 0:
            clock.advance(step * 0.5)
        elif step % 3 == 1:
            clock.set_time_scale(0.1 + (step % 7))
        fake.sleep(0.01 * (step % 5))
        now = clock.now()
        assert now >= last
        last = now


def test_never_goes_backwards_even_if_its_source_does() -> None:
    clock, fake = make()
    fake.sleep(10)
    assert clock.now() == pytest.approx(WALL + 10)
    fake.mono_now -= 5  # a monotonic source that misbehaves (a VM restored from a snapshot)
    assert clock.now() == pytest.approx(WALL + 10)
    fake.mono_now += 6
    assert clock.now() == pytest.approx(WALL + 11)


@pytest.mark.skipif(not hasattr(time, "CLOCK_BOOTTIME"), reason="no CLOCK_BOOTTIME here")
def test_the_default_source_counts_a_suspend() -> None:
    # CLOCK_MONOTONIC stops while the machine sleeps; CLOCK_BOOTTIME does not, so emulated
    # time keeps up with the wall clock across a laptop's sleep.
    before = time.clock_gettime(time.CLOCK_BOOTTIME)
    value = steady()
    after = time.clock_gettime(time.CLOCK_BOOTTIME)
    assert before <= value <= after


# --------------------------------------------------------------------------- a served emulator
class JumpyWall:
    """The real wall clock plus an offset the test steps (as NTP or a user would)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@contextlib.contextmanager
def emulator_with_clock(clock: Clock) -> Iterator[EmulatorServer]:
    def build(config: EmulatorConfig) -> uvicorn.Server:
        app = create_app(config, clock=clock)
        return uvicorn.Server(
            uvicorn.Config(app, log_level=config.log_level, lifespan="on", access_log=False)
        )

    server = EmulatorServer(emulator_config(time_scale=1.0))
    with mock.patch.object(server_module, "uvicorn_server", build):
        server.start()
    try:
        yield server
    finally:
        server.stop()


def test_wall_clock_steps_neither_reorder_nor_lose_nor_hold_back_tries() -> None:
    wall = JumpyWall()
    clock = Clock(1.0, wall=wall)
    failing = [Reply(500)] * 3
    with Receiver(script=failing) as receiver, emulator_with_clock(clock) as server:
        env = Env(server.url)
        try:
            env.app(
                "app", retry_strategy={"type": "fixed_wait", "max_retries": 3, "retry_delay": 1}
            )
            env.endpoint("app", "ep", receiver.hook())
            event = env.publish("app")
            receiver.wait_for(1)
            wall.offset = -3600.0  # set back an hour
            receiver.wait_for(2)
            wall.offset = 86400.0  # then a day ahead
            receiver.wait_for(3)
            wall.offset = 0.0
            tries = receiver.wait_for(4)
            wait_until(
                lambda: [a["status"] for a in env.event_attempts("app", event["uid"])][-1] == "0",
                what="the last try's success",
            )
            attempts = env.event_attempts("app", event["uid"])
        finally:
            env.close()
    # One second apart in real time, in order, each recorded once and in emulated time that
    # never went back.
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(tries)]
    assert all(0.9 < gap < 3.0 for gap in gaps), gaps
    assert [a["status"] for a in attempts] == ["3", "3", "3", "0"]
    times = [a["attempted_at"] for a in attempts]
    assert times == sorted(times)
