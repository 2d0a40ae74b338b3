"""Which endpoints an event is delivered to: filter types, topics, versions, inactive endpoints."""

from __future__ import annotations

from tests.emulator.delivery_helpers import (
    Env,
    Receiver,
    paths,
)


# --------------------------------------------------------------------------- routing
def test_filter_types_route_only_matching_types(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "all", receiver.hook("/all"))
    env.endpoint("app", "users", receiver.hook("/users"), filter_types=["user.created"])
    env.endpoint("app", "two", receiver.hook("/two"), filter_types=["order.paid", "user.deleted"])
    env.endpoint("app", "orders", receiver.hook("/orders"), filter_types=["order.paid"])

    created = env.publish("app", "user.created")
    env.settle()
    assert paths(receiver) == ["/all", "/users"]
    assert env.event_endpoints("app", created["uid"]) == ["all", "users"]

    env.publish("app", "user.deleted")
    env.settle()
    assert paths(receiver) == ["/all", "/all", "/two", "/users"]
    assert env.endpoint_attempts("app", "orders") == []


def test_topics_route(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "any", receiver.hook("/any"))
    env.endpoint("app", "eu", receiver.hook("/eu"), topics=["eu"])
    env.endpoint("app", "asia", receiver.hook("/asia"), topics=["jp", "sg"])

    both = env.publish("app", topics=["us", "eu"], payload={"e": "both"})
    env.settle()
    assert paths(receiver) == ["/any", "/eu"]
    assert env.event_endpoints("app", both["uid"]) == ["any", "eu"]

    # An event without topics never reaches an endpoint that has topics.
    bare = env.publish("app", payload={"e": "bare"})
    env.settle()
    assert paths(receiver) == ["/any", "/any", "/eu"]
    assert env.event_endpoints("app", bare["uid"]) == ["any"]

    env.publish("app", topics=["sg"], payload={"e": "sg"})
    env.settle()
    assert paths(receiver) == ["/any", "/any", "/any", "/asia", "/eu"]


def test_version_route(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "latest", receiver.hook("/latest"))
    env.endpoint("app", "explicit-latest", receiver.hook("/explicit"), version="latest")
    env.endpoint("app", "v1", receiver.hook("/v1"), version="v1")

    env.publish("app", version="v1")
    env.settle()
    assert paths(receiver) == ["/explicit", "/latest", "/v1"]

    env.publish("app", version="v2")
    env.publish("app")  # no version: "latest", which a v1 endpoint does not take
    env.settle()
    assert paths(receiver) == ["/explicit"] * 3 + ["/latest"] * 3 + ["/v1"]


def test_inactive_endpoint_gets_nothing(env: Env, receiver: Receiver, failing: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "on", receiver.hook("/on"))
    env.endpoint("app", "off", receiver.hook("/off"), active=False)
    env.endpoint("app", "flaky", failing.hook("/flaky"))

    created = env.publish("app")
    env.settle()
    assert paths(receiver) == ["/on"]
    assert env.event_endpoints("app", created["uid"]) == ["on", "flaky"]
    assert env.endpoint_attempts("app", "off") == []
    assert len(failing.received()) == 1

    # Deactivated while a retry is pending: the retry does not reach it either.
    response = env.http.put("/v1/application/app/endpoint/flaky", json={"active": False})
    assert response.status_code == 200, response.text
    env.clock(run_until_idle=True)
    assert len(failing.received()) == 1
    env.publish("app")
    env.clock(run_until_idle=True)
    assert paths(receiver) == ["/on", "/on"]
    assert len(failing.received()) == 1


def test_routing_is_case_sensitive(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "type", receiver.hook("/type"), filter_types=["User.Created"])
    env.endpoint("app", "topic", receiver.hook("/topic"), topics=["EU"])
    env.endpoint("app", "version", receiver.hook("/version"), version="V1")

    env.publish("app", "user.created", topics=["eu"], version="v1")
    env.settle()
    assert receiver.received() == []

    env.publish("app", "User.Created", topics=["EU"], version="V1")
    env.settle()
    assert paths(receiver) == ["/topic", "/type", "/version"]
