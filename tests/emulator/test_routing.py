from __future__ import annotations

from collections.abc import Sequence

from emulator.routing import LATEST, routes_to


def route(
    *,
    active: bool = True,
    filter_types: Sequence[str] | None = None,
    endpoint_topics: Sequence[str] | None = None,
    endpoint_version: str | None = None,
    event_type: str = "user.created",
    event_version: str | None = None,
    event_topics: Sequence[str] | None = None,
) -> bool:
    return routes_to(
        active=active,
        filter_types=filter_types,
        endpoint_topics=endpoint_topics,
        endpoint_version=endpoint_version,
        event_type=event_type,
        event_version=event_version,
        event_topics=event_topics,
    )


def test_latest_constant() -> None:
    assert LATEST == "latest"


def test_unfiltered_active_endpoint_gets_everything() -> None:
    assert route()
    assert route(event_version="v2", event_topics=["eu"])


def test_inactive_endpoint_gets_nothing() -> None:
    assert not route(active=False)
    assert not route(active=False, filter_types=["user.created"])


def test_filter_types() -> None:
    assert route(filter_types=[])
    assert route(filter_types=["order.paid", "user.created"])
    assert not route(filter_types=["order.paid"])


def test_filter_types_are_case_sensitive() -> None:
    assert not route(filter_types=["User.Created"])
    assert not route(filter_types=["user.created"], event_type="USER.CREATED")


def test_topics() -> None:
    assert route(endpoint_topics=[], event_topics=["eu"])
    assert route(endpoint_topics=["eu", "us"], event_topics=["us", "apac"])
    assert not route(endpoint_topics=["eu"], event_topics=["us"])
    assert not route(endpoint_topics=["eu"], event_topics=["EU"])


def test_event_without_topics_never_reaches_topic_endpoint() -> None:
    assert not route(endpoint_topics=["eu"], event_topics=None)
    assert not route(endpoint_topics=["eu"], event_topics=[])
    assert route(endpoint_topics=None, event_topics=None)


def test_endpoint_version_unset_or_latest_gets_every_version() -> None:
    for endpoint_version in (None, "", "latest"):
        for event_version in (None, "", "v1", "latest"):
            assert route(endpoint_version=endpoint_version, event_version=event_version)


def test_pinned_endpoint_version() -> None:
    assert route(endpoint_version="v1", event_version="v1")
    assert not route(endpoint_version="v1", event_version="v2")
    assert not route(endpoint_version="v1", event_version="V1")
    assert not route(endpoint_version="v1", event_version=None)
    assert not route(endpoint_version="v1", event_version="")


def test_version_latest_is_case_sensitive() -> None:
    assert not route(endpoint_version="Latest", event_version=None)
    assert route(endpoint_version="Latest", event_version="Latest")


def test_all_rules_must_hold() -> None:
    def pinned(event_type: str, event_version: str, topic: str) -> bool:
        return route(
            filter_types=["user.created"],
            endpoint_topics=["eu"],
            endpoint_version="v2",
            event_type=event_type,
            event_version=event_version,
            event_topics=[topic],
        )

    assert pinned("user.created", "v2", "eu")
    assert not pinned("user.deleted", "v2", "eu")
    assert not pinned("user.created", "v1", "eu")
    assert not pinned("user.created", "v2", "us")
