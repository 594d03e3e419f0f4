"""A bounded mapping for per-process caches of things that repeat.

Caches of parsed documents, validation passes and verified tokens all keep
what clients send again and again; none may grow without bound, because the
keys come from the clients. The hit and miss counts make a key that never
repeats show up as a zero hit rate instead of passing unnoticed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_ENTRIES = 1000


@dataclass
class LRU(Generic[V]):
    """A bounded mapping that forgets the least recently used entry first."""

    maxsize: int = DEFAULT_ENTRIES
    hits: int = 0
    misses: int = 0
    _entries: OrderedDict[Hashable, V] = field(default_factory=OrderedDict)

    def get(self, key: Hashable) -> V | None:
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return found

    def peek(self, key: Hashable) -> V | None:
        """The entry under ``key``, without counting a hit or a miss or refreshing it."""
        return self._entries.get(key)

    def put(self, key: Hashable, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)
