from __future__ import annotations

import itertools
import string
import threading
import time

from emulator.ids import UidFactory, new_uid

ALPHABET = set(string.digits + string.ascii_letters)


def decode_seconds(uid: str, prefix: str) -> int:
    # The first 6 base62 characters after the prefix hold the creation second.
    ordered = string.digits + string.ascii_uppercase + string.ascii_lowercase
    value = 0
    for char in uid[len(prefix) : len(prefix) + 6]:
        value = value * 62 + ordered.index(char)
    return value


def test_length_alphabet_and_prefix() -> None:
    for prefix in ("app_", "ep_", "evte_", "eda_", ""):
        uid = new_uid(prefix)
        assert uid.startswith(prefix)
        body = uid[len(prefix) :]
        assert len(body) == 27
        assert set(body) <= ALPHABET


def test_encodes_creation_second() -> None:
    # A factory of its own: the process-wide one may have seen an emulator clock run ahead.
    factory = UidFactory()
    now = time.time()
    assert decode_seconds(factory.new("app_", now), "app_") == int(now)
    assert decode_seconds(factory.new("ep_"), "ep_") >= int(now)
    assert decode_seconds(new_uid("ep_"), "ep_") >= int(now)


def test_strictly_ordered_with_same_now() -> None:
    now = time.time()
    uids = [new_uid("evte_", now) for _ in range(10_000)]
    assert all(a < b for a, b in itertools.pairwise(uids))


def test_ordered_across_prefixless_and_default_now() -> None:
    uids = [new_uid("") for _ in range(1_000)]
    assert uids == sorted(uids)
    assert len(set(uids)) == len(uids)


def test_ordered_when_clock_goes_backwards() -> None:
    now = time.time()
    first = new_uid("eda_", now)
    second = new_uid("eda_", now - 2)
    third = new_uid("eda_", now - 1)
    assert first < second < third


def test_unique_and_ordered_per_thread_across_threads() -> None:
    now = time.time()
    results: list[list[str]] = [[] for _ in range(4)]

    def work(out: list[str]) -> None:
        out.extend(new_uid("app_", now) for _ in range(1_000))

    threads = [threading.Thread(target=work, args=(out,)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [uid for out in results for uid in out]
    assert len(set(everything)) == 4_000
    assert all(out == sorted(out) for out in results)
