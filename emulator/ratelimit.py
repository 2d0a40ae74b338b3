"""The API's per-key request count, behind the ``X-Ratelimit-*`` headers (and 429s if enforced)."""

from __future__ import annotations

import time


class ApiRateLimiter:
    """Requests per API key in the current second."""

    def __init__(self, limit: int, enforce: bool) -> None:
        self.limit = limit
        self.enforce = enforce
        self._second = 0
        self._counts: dict[str, int] = {}

    def count(self, api_key: str) -> int:
        """Count one request; returns how many are left this second (negative past the limit)."""
        second = int(time.monotonic())
        if second != self._second:
            self._second = second
            self._counts = {}
        used = self._counts.get(api_key, 0) + 1
        self._counts[api_key] = used
        return self.limit - used
