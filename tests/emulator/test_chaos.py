"""emulator/chaos.py: reading chaos settings, which scope's apply, and what ``decide`` injects."""

from __future__ import annotations

import pytest

from emulator.chaos import (
    DEFAULT_BURST_WINDOW,
    DEFAULT_REORDER_WINDOW,
    ChaosError,
    ChaosScopes,
    ChaosSettings,
    decide,
    parse_chaos,
    parse_chaos_spec,
)


def test_settings_from_a_body() -> None:
    settings = parse_chaos({"duplicate": 0.2, "reorder": True, "burst": True, "seed": 7}, 99)
    assert settings == ChaosSettings(
        duplicate=0.2, reorder=DEFAULT_REORDER_WINDOW, burst=DEFAULT_BURST_WINDOW, seed=7
    )
    assert settings.active
    # Without a seed, the caller's (so the run can be repeated with it).
    assert parse_chaos({"lost_ack": 1}, 99).seed == 99
    assert not parse_chaos({"reorder": False}, 1).active


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"duplicate": 1.5}, "duplicate"),
        ({"lost_ack": True}, "lost_ack"),
        ({"latency": True}, "latency"),
        ({"jitter": -1}, "jitter"),
        ({"reorder": "2s"}, "reorder"),
        ({"seed": 1.5}, "seed"),
        ({"duplicates": 0.1}, "duplicates"),
    ],
)
def test_a_bad_setting_is_named(body: dict[str, object], field: str) -> None:
    with pytest.raises(ChaosError) as caught:
        parse_chaos(body, 0)
    assert caught.value.field == field


def test_a_command_line_spec() -> None:
    spec = parse_chaos_spec("duplicate=0.2, reorder, latency=1.5s, seed=7")
    assert spec == {"duplicate": 0.2, "reorder": True, "latency": 1.5, "seed": 7}
    with pytest.raises(ChaosError, match="duplicate: needs a value"):
        parse_chaos_spec("duplicate")
    with pytest.raises(ChaosError, match="not a number"):
        parse_chaos_spec("lost_ack=often")


def test_the_same_seed_and_place_give_the_same_injection() -> None:
    settings = ChaosSettings(duplicate=0.5, lost_ack=0.5, jitter=3, reorder=2, seed=7)
    first = [decide(settings, f"shop|orders|{n}|0", due=100.0, is_retry=False) for n in range(20)]
    again = [decide(settings, f"shop|orders|{n}|0", due=100.0, is_retry=False) for n in range(20)]
    assert first == again
    other = [
        decide(
            ChaosSettings(**{**settings.to_json(), "seed": 8}),
            f"shop|orders|{n}|0",
            due=100.0,
            is_retry=False,
        )
        for n in range(20)
    ]
    assert other != first
    # Half the probability: some of each, not all or none.
    assert 0 < sum(i.duplicate for i in first) < 20
    assert all(0 <= i.delay <= 5 for i in first)


def test_probabilities_zero_and_one() -> None:
    always = decide(ChaosSettings(duplicate=1, lost_ack=1), "p", due=0.0, is_retry=False)
    assert (always.duplicate, always.lost_ack) == (True, True)
    never = decide(ChaosSettings(latency=1), "p", due=0.0, is_retry=False)
    assert (never.duplicate, never.lost_ack, never.delay) == (False, False, 1.0)


def test_a_burst_holds_only_retries_until_the_next_window() -> None:
    settings = ChaosSettings(burst=60)
    assert decide(settings, "p", due=125.0, is_retry=True).burst_until == 180.0
    assert decide(settings, "p", due=125.0, is_retry=False).burst_until is None
    record = decide(settings, "p", due=125.0, is_retry=True).to_record(3, 125.0)
    assert record == {"seed": 3, "burst": {"due": 125.0, "released_at": 180.0}}
    assert decide(ChaosSettings(), "p", due=1.0, is_retry=True).to_record(3, 1.0) is None


def test_the_narrowest_scope_wins_and_deleted_ones_are_forgotten() -> None:
    scopes = ChaosScopes(ChaosSettings(duplicate=0.1))
    app, endpoint = ChaosSettings(lost_ack=1), ChaosSettings(latency=2)
    scopes.put(("app", "app1"), app)
    scopes.put(("endpoint", "ep1"), endpoint)
    assert scopes.for_attempt("env1", "app1", "ep1") == endpoint
    assert scopes.for_attempt("env1", "app1", "ep2") == app
    assert scopes.for_attempt("env1", "app2", "ep3") == ChaosSettings(duplicate=0.1)
    scopes.forget({"app1"})
    assert scopes.for_attempt("env1", "app1", "ep2") == ChaosSettings(duplicate=0.1)
    scopes.put(None, None)
    scopes.put(("endpoint", "ep1"), ChaosSettings())  # inactive: cleared
    assert not scopes.any
