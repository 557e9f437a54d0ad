"""An in-memory LRU cache of compiled executables, keyed by strings the caller builds."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any


class CompileCache:
    """Least-recently-used map from a key to an Executable, with hit/miss counts."""

    def __init__(self, capacity: int = 4096):
        self.capacity = capacity
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Any) -> Any | None:
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item

    def put(self, key: Any, value: Any) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self.hits = self.misses = 0


MEMORY_CACHE = CompileCache()
