"""The process caches: each one named, bounded, least recently used out, all cleared in one call.

A cache of what is computed from the records is keyed by the data version
(:func:`sscmatch.db.data_key`: the database and its change version, which moves with every
committed write), so nothing kept is ever served for data that changed; a key of ``None`` (the
session has uncommitted writes) means: compute, keep nothing. Tests call :func:`clear_all`
before each test (two empty databases have the same version, and PostgreSQL tests reuse one URL).

>>> squares = Cache("doctest squares", size=2)
>>> squares.get_or_make(3, lambda: 9), squares.get_or_make(3, lambda: -1)
(9, 9)
>>> squares.get_or_make(None, lambda: 16), len(squares)
(16, 1)
>>> clear_all(); len(squares)
0

``functools.cache`` stays for pure functions of their arguments (compiled patterns, a locale, the
options of a vocabulary in a language): nothing there goes stale, so nothing needs clearing.

Our own, not cachetools: what we need around the store (a lock, one maker per key while others
wait, computing outside the store's lock, not keeping what uncommitted writes produced, a name and
one place to clear them all) would wrap cachetools' ``LRUCache`` (not thread-safe) as it wraps an
``OrderedDict`` here; the weighted eviction it would replace is four lines.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Generic, TypeVar

V = TypeVar("V")

_ALL: dict[str, Cache[Any]] = {}
CACHES: Mapping[str, Cache[Any]] = MappingProxyType(_ALL)
"""Every cache by name."""


class Cache(Generic[V]):
    """A named store of at most ``size`` weight (each entry weighs 1, or ``weight(value)``).

    Thread-safe; ``make`` runs outside the store's lock, once per key however many threads
    ask at once. A value heavier than ``largest`` is never kept."""

    def __init__(
        self,
        name: str,
        *,
        size: int,
        weight: Callable[[V], int] | None = None,
        largest: int | None = None,
    ) -> None:
        if name in _ALL:
            raise ValueError(f"a cache named {name!r} exists already")
        self.name, self.size = name, size
        self._weight = weight
        self._largest = size if largest is None else largest
        self._lock = threading.Lock()
        self._store: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}
        self._total = 0
        _ALL[name] = self

    def get_or_make(self, key: Hashable | None, make: Callable[[], V]) -> V:
        """The value kept under ``key``, else ``make()`` kept under it (``None``: not kept).
        Threads asking for a key while it is made wait for it rather than make it again (a
        worker's warm-up thread and its first visitors ask for the same network at once)."""
        if key is None:
            return make()
        hit = self._recall(key)
        if hit is not None:
            return hit[0]
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        try:
            with building:
                hit = self._recall(key)
                if hit is not None:
                    return hit[0]
                value = make()
                self._keep(key, value)
                return value
        finally:
            with self._lock:
                if self._building.get(key) is building and not building.locked():
                    del self._building[key]

    def _recall(self, key: Hashable) -> tuple[V] | None:
        """``(value,)`` when one is kept under ``key`` (a box: the value itself may be None)."""
        with self._lock:
            hit = self._store.get(key)
            if hit is None:
                return None
            self._store.move_to_end(key)
            return (hit[0],)

    def _keep(self, key: Hashable, value: V) -> None:
        weight = 1 if self._weight is None else self._weight(value)
        if weight > self._largest:
            return
        with self._lock:
            old = self._store.pop(key, None)
            self._total += weight - (old[1] if old else 0)
            self._store[key] = (value, weight)
            while self._total > self.size:
                self._total -= self._store.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self._lock:
            self._store.clear()
            self._total = 0

    def __len__(self) -> int:
        return len(self._store)

    def __iter__(self) -> Iterator[Hashable]:
        with self._lock:
            return iter(list(self._store))


def clear_all() -> None:
    """Empty every cache (tests, benchmarks)."""
    for cache in list(_ALL.values()):
        cache.clear()
