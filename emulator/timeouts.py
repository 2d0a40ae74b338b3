"""``deadline(seconds)``: a time limit on the block it wraps, that never loses a cancellation.

Every wait with a limit uses it, never ``asyncio.wait_for``: before Python 3.12 that returns
the result instead of raising ``CancelledError`` when the task waiting in it is cancelled in
the same loop pass as the awaited thing completes (CPython issue 86296). A loop waiting in it
then runs on after being cancelled: the delivery engine's did, and ``stop()``, awaiting it,
never returned.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator

if sys.version_info >= (3, 11):
    from asyncio import timeout as deadline  # raises TimeoutError when the time is up
else:  # pragma: no cover - Python 3.10
    import anyio

    @contextlib.asynccontextmanager
    async def deadline(seconds: float | None) -> AsyncIterator[None]:
        """The block, cancelled with ``TimeoutError`` after ``seconds`` (None: no limit)."""
        with anyio.fail_after(seconds):
            yield


__all__ = ["deadline"]
