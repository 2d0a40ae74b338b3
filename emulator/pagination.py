"""Cursor pagination over lists kept in creation order: pure functions."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page, oldest first; ``has_more`` says whether more lie in the direction paged."""

    items: list[T]
    has_more: bool


def paginate(
    items: Sequence[T],
    *,
    seq: Callable[[T], int],
    limit: int,
    after_seq: int | None = None,
    before_seq: int | None = None,
    keep: Callable[[T], bool] | None = None,
) -> Page[T]:
    """The ``limit`` items that pass ``keep`` after ``after_seq`` (forward) or just before
    ``before_seq`` (backward). ``items`` must be sorted by ``seq``."""
    picked: list[T] = []
    if before_seq is not None:
        end = bisect.bisect_left(items, before_seq, key=seq)
        for index in range(end - 1, -1, -1):
            item = items[index]
            if keep is None or keep(item):
                picked.append(item)
                if len(picked) > limit:
                    break
        has_more = len(picked) > limit
        return Page(list(reversed(picked[:limit])), has_more)
    start = 0 if after_seq is None else bisect.bisect_right(items, after_seq, key=seq)
    for index in range(start, len(items)):
        item = items[index]
        if keep is None or keep(item):
            picked.append(item)
            if len(picked) > limit:
                break
    return Page(picked[:limit], len(picked) > limit)
