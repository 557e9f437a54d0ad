"""The process's in-memory cache of compiled executables, keyed by strings the caller builds.

Two functions whose optimized programs are identical share one executable through it. It is
bounded in bytes (each executable's estimated host footprint, `Executable.nbytes`) and in
entries, least recently used first. An entry put with an `owner` (the function it was compiled
for) lives only as long as some owner does: when the last one is garbage-collected the entry
is dropped, so a notebook that redefines a function a thousand times does not keep a thousand
dead executables.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict, deque
from typing import Any

DEFAULT_MAX_BYTES = 512 << 20
DEFAULT_MAX_ENTRIES = 4096
_UNBOUNDED = 1 << 62


class _Entry:
    __slots__ = ("value", "nbytes", "owners", "__weakref__")

    def __init__(self, value: Any, nbytes: int):
        self.value = value
        self.nbytes = nbytes
        self.owners = 0  # live owners; 0 with owners ever registered = drop


class CompileCache:
    """Least-recently-used map from a key to an Executable, bounded in bytes and entries."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES,
                 capacity: int = DEFAULT_MAX_ENTRIES):
        self.max_bytes = int(max_bytes)
        self.capacity = int(capacity)
        self._items: OrderedDict[Any, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._released: deque = deque()  # (key, entry ref) whose last owner died
        self._claims: dict[tuple, weakref.finalize] = {}  # (key, id(owner)) -> its claim
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.dropped = 0  # entries dropped because every owner was collected

    # ------------------------------------------------------------ lookups
    def get(self, key: Any, owner: Any = None) -> Any | None:
        with self._lock:
            self._drain()
            entry = self._items.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            self._own(key, entry, owner)
            return entry.value

    def put(self, key: Any, value: Any, owner: Any = None) -> None:
        nbytes = int(getattr(value, "nbytes", 0))
        with self._lock:
            self._drain()
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            entry = _Entry(value, nbytes)
            self._items[key] = entry
            self._bytes += nbytes
            self._own(key, entry, owner)
            self._evict_over_limits()

    def _evict_over_limits(self) -> None:
        while self._items and (len(self._items) > self.capacity
                               or self._bytes > self.max_bytes):
            _, gone = self._items.popitem(last=False)
            self._bytes -= gone.nbytes
            self.evictions += 1

    # ------------------------------------------------------------ owners
    def _own(self, key: Any, entry: _Entry, owner: Any) -> None:
        if owner is None or (key, id(owner)) in self._claims:
            return
        try:
            claim = weakref.finalize(owner, self._release, key, weakref.ref(entry),
                                     (key, id(owner)))
        except TypeError:  # not weak-referenceable: the entry just stays LRU-bounded
            return
        claim.atexit = False
        self._claims[(key, id(owner))] = claim
        entry.owners += 1

    def disown(self, key: Any, owner: Any) -> None:
        """`owner` no longer needs the entry (it dropped its executable): as if collected."""
        claim = self._claims.get((key, id(owner)))
        if claim is not None:
            claim()  # runs _release now, once

    def _release(self, key: Any, entry_ref: weakref.ref, claim: tuple) -> None:
        # NOTE: runs whenever the garbage collector frees an owner, possibly inside one of our
        # own locked sections on this thread: queue it, and apply it when the lock is free.
        self._claims.pop(claim, None)
        self._released.append((key, entry_ref))
        if self._lock.acquire(blocking=False):
            try:
                self._drain()
            finally:
                self._lock.release()

    def _drain(self) -> None:
        while self._released:
            key, entry_ref = self._released.popleft()
            entry = entry_ref()
            if entry is None:
                continue
            entry.owners -= 1
            if entry.owners <= 0 and self._items.get(key) is entry:
                del self._items[key]
                self._bytes -= entry.nbytes
                self.dropped += 1

    # ------------------------------------------------------------ management
    def set_limits(self, max_bytes: int | None, max_entries: int | None) -> None:
        """New bounds (None: unbounded); entries past them are evicted now."""
        with self._lock:
            self.max_bytes = _UNBOUNDED if max_bytes is None else int(max_bytes)
            self.capacity = _UNBOUNDED if max_entries is None else int(max_entries)
            self._evict_over_limits()

    def limits(self) -> dict[str, int | None]:
        return {"max_bytes": None if self.max_bytes == _UNBOUNDED else self.max_bytes,
                "max_entries": None if self.capacity == _UNBOUNDED else self.capacity}

    @property
    def nbytes(self) -> int:
        """Estimated host memory of the cached executables."""
        with self._lock:
            self._drain()
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            self._drain()
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._released.clear()
            for claim in list(self._claims.values()):
                claim.detach()
            self._claims.clear()
            self._bytes = 0
            self.hits = self.misses = self.evictions = self.dropped = 0


MEMORY_CACHE = CompileCache()
