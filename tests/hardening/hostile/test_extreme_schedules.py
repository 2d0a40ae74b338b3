"""Extreme retry schedules: refused beyond the limits, and within them the clock stops short of
what it can show."""

from __future__ import annotations

from tests.emulator.delivery_helpers import Env, running_emulator
from tests.hardening import tally
from tests.hardening.hostile.seeded import refused
from tests.hardening.receivers import RawReceiver, answer


# --------------------------------------------------------------------------- extreme schedules
def test_retry_schedules_cannot_take_the_clock_past_what_it_can_show(
    raw_receiver: RawReceiver,
) -> None:
    """Retry settings beyond the limits are refused; within them, walking every retry on the
    clock stops short of the year 3700 (uids hold their second until 3769, dates until 9999)
    and everything still works: creating, listing, showing dates."""
    with running_emulator() as server:
        env = Env(server.url)
        try:
            for strategy, field in [
                ({"type": "fixed_wait", "max_retries": 1001}, "max_retries"),
                ({"type": "fixed_wait", "retry_delay": 365 * 86400 + 1}, "retry_delay"),
            ]:
                response = env.http.post(
                    "/v1/application", json={"name": "n", "retry_strategy": strategy}
                )
                refused(response, 422, field)
            strategy = {"type": "fixed_wait", "max_retries": 1000, "retry_delay": 365 * 86400}
            env.app("app", retry_strategy=strategy)
            down = f"http://127.0.0.1:{raw_receiver.port}/refused-by-status"
            env.endpoint("app", "ep", down)
            raw_receiver_status = raw_receiver.behaviour
            try:
                raw_receiver.behaviour = answer(503, b"down")
                for _ in range(16):  # to about the year 3622
                    env.advance(100 * 365 * 86400)
                created = env.publish("app")
                response = env.http.post(
                    "/_emulator/clock", json={"run_until_idle": True, "timeout": 60}
                )
                assert response.status_code == 200, response.text
                assert response.json()["settled"] is False  # stopped short, not broken
                assert "3699" <= response.json()["now"] < "3700"
            finally:
                raw_receiver.behaviour = raw_receiver_status
            for path in (
                "/_emulator/clock",
                "/_emulator/health",
                f"/v1/application/app/event/{created['uid']}/delivery_attempt",
            ):
                assert env.http.get(path, params={"limit": 150}).status_code == 200, path
            attempts = env.event_attempts("app", created["uid"])
            assert env.detail(attempts[-1]["id"])["scheduled_at"] < "3701"
            assert env.publish("app")["created_at"] < "3700"  # creating still works
            tally.add("hostile inputs tried", 3)
        finally:
            env.close()
