"""The one mechanism of the process caches (sscmatch/caches.py)."""

from __future__ import annotations

import itertools
import threading

import pytest

from sscmatch import caches
from sscmatch.caches import Cache

_names = (f"test cache {n}" for n in itertools.count())


def test_least_recently_used_goes_first() -> None:
    kept = Cache[str](next(_names), size=2)
    kept.get_or_make("a", lambda: "A")
    kept.get_or_make("b", lambda: "B")
    assert kept.get_or_make("a", lambda: "new") == "A"  # a is now the most recent
    kept.get_or_make("c", lambda: "C")
    assert list(kept) == ["a", "c"]


def test_weight_bounds_the_store_and_a_heavy_value_is_not_kept() -> None:
    kept = Cache[str](next(_names), size=10, weight=len, largest=6)
    kept.get_or_make(1, lambda: "xxxx")
    kept.get_or_make(2, lambda: "yyyy")
    kept.get_or_make(3, lambda: "zzzz")  # 12 > 10: the oldest goes
    assert list(kept) == [2, 3]
    assert kept.get_or_make(4, lambda: "w" * 7) == "w" * 7
    assert 4 not in list(kept)


def test_no_key_means_compute_and_keep_nothing() -> None:
    kept = Cache[int](next(_names), size=4)
    made = []
    for _ in range(2):
        kept.get_or_make(None, lambda: made.append(1) or 1)
    assert (len(made), len(kept)) == (2, 0)


def test_one_call_clears_every_named_cache() -> None:
    from sscmatch.web import fragments  # noqa: F401 (registers its cache)
    from sscmatch.workflow import outcomes  # noqa: F401

    assert {"page bodies", "outcome ladder"} <= set(caches.CACHES)
    one, two = Cache[int](next(_names), size=2), Cache[int](next(_names), size=2)
    one.get_or_make("k", lambda: 1)
    two.get_or_make("k", lambda: 2)
    caches.clear_all()
    assert (len(one), len(two)) == (0, 0)


def test_names_are_unique() -> None:
    name = next(_names)
    Cache[int](name, size=1)
    with pytest.raises(ValueError, match="exists already"):
        Cache[int](name, size=1)


def test_a_key_asked_for_while_it_is_made_is_made_once() -> None:
    kept = Cache[int](next(_names), size=2)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def make() -> int:
        calls.append(1)
        started.set()
        release.wait(5)
        return len(calls)

    got: list[int] = []
    first = threading.Thread(target=lambda: got.append(kept.get_or_make("k", make)))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=lambda: got.append(kept.get_or_make("k", make)))
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waits for the first instead of making it again
    release.set()
    first.join(5)
    second.join(5)
    assert got == [1, 1] and calls == [1]
