"""Helpers of the client tests: a port nothing listens on, and what a receiver path got."""

from __future__ import annotations

import socket

import httpx
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request

SECRET = "whsec_" + "a1B2" * 16
NO_RETRIES = {"type": "exponential_backoff_with_deadline", "deadline": 1}  # first retry is past it


def closed_port_url() -> str:
    """A 127.0.0.1 URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def received(receiver: HTTPServer, url: str) -> list[Request]:
    """The requests the receiver got on ``url``'s path."""
    path = httpx.URL(url).path
    return [request for request, _ in receiver.log if request.path == path]
