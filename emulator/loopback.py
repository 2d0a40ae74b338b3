"""Deliveries stay on this machine: which URLs are loopback, by their host and, for a name,
by what it resolves to."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from urllib.parse import urlsplit

RESOLVED_SECONDS = 5.0


def is_loopback_url(url: str) -> bool:
    """True for localhost, ``*.localhost``, 127.0.0.0/8 and ::1."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackCheck:
    """Whether a delivery URL stays on loopback; what names resolve to is kept a few seconds."""

    def __init__(self) -> None:
        # host -> (valid until, resolves to loopback only)
        self._resolved: dict[str, tuple[float, bool]] = {}

    async def stays_local(self, url: str) -> bool:
        """``is_loopback_url``, and a name (localhost, ``*.localhost``) must also resolve to
        loopback addresses only: a resolver that asks the DNS about ``*.localhost`` could
        otherwise send the delivery anywhere."""
        if not is_loopback_url(url):
            return False
        host = (urlsplit(url).hostname or "").lower()
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(host)
            return True
        cached = self._resolved.get(host)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            addresses = await self._resolve(host)
        except (OSError, UnicodeError):
            addresses = []  # not resolvable: nothing shows it is local
        local = bool(addresses)
        for address in addresses:
            try:
                local = local and ipaddress.ip_address(address.split("%")[0]).is_loopback
            except ValueError:
                local = False
        self._resolved[host] = (time.monotonic() + RESOLVED_SECONDS, local)
        return local

    @staticmethod
    async def _resolve(host: str) -> list[str]:
        """The addresses ``host`` resolves to (the event loop's resolver, as httpx uses)."""
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
        return [str(info[4][0]) for info in infos]
