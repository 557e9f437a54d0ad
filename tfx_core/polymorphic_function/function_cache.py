"""`FunctionCache`: every cache of one tx.function (traces by call key, executables per input
shape, bound methods), its least-recently-used bounds, and one trace per key across threads."""
from __future__ import annotations

import os
import sys
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from runtime.compile import release as release_executable
from tfx_core import config
from tfx_core.framework.tensor import Tensor

if TYPE_CHECKING:
    from tfx_core.polymorphic_function.concrete_function import Compiled, ConcreteFunction

MANY_SHAPES = 100  # executables of one ConcreteFunction before an unbounded one says so


class RetracingWarning(UserWarning):
    """A tx.function keeps retracing; the message says which argument changed and how."""


class _Pending:
    """A trace or compile under way in one thread; the others wanting the same key wait."""

    __slots__ = ("owner", "done")

    def __init__(self) -> None:
        self.owner = threading.get_ident()
        self.done = threading.Event()


class _Shapes(dict):
    """One ConcreteFunction's executables: input shapes -> [Compiled, last use]."""

    __slots__ = ("evictions",)

    def __init__(self) -> None:
        super().__init__()
        self.evictions = 0


_UNSET = object()  # no argument's type is this
_NO_CALL1 = (_UNSET, None)
_NO_CALL2 = (_UNSET, _UNSET, None)


class FunctionCache:
    """The caches of one tx.function, and of the ConcreteFunctions it traces.

    * `fast`: positional calls of tensors / numpy arrays, keyed by their types alone (see
      `fast_key`; read without a lock by `Function.__call__`): the ConcreteFunction's
      `run_tensors` or `run_host`, so a hit is one call;
    * traces by full call key `(treedef, *leaf keys)`, and by reduce_retracing's relaxed key;
    * the trace of an `input_signature`;
    * each ConcreteFunction's executables, one per concrete input shape;
    * the Functions bound to instances when a tx.function is a method.

    With tx.config's `max_traces_per_function` set, traces and each trace's executables are
    bounded, least recently used first (a hit records its use). Lookups take no lock; a miss
    runs the trace (or compile) in one thread while the others asking for the same key wait
    for it, and keys that differ never wait for each other.
    """

    def __init__(self, name: str):
        self.name = name
        self.fast: dict[Any, Callable[[tuple], Any]] = {}  # a _RecencyDict once bounded
        self._traces: dict[Any, ConcreteFunction] = {}
        self._relaxed: dict[Any, ConcreteFunction] = {}
        self._live: dict[int, ConcreteFunction] = {}  # distinct traced functions, oldest first
        self._signature: ConcreteFunction | None = None
        self._shapes: dict[int, _Shapes] = {}
        self._bound: dict[int, tuple[Callable[[], Any], Any]] = {}
        self._pending: dict[Any, _Pending] = {}
        self._lock = threading.Lock()
        self.bounded = False  # max_traces_per_function applies (fast-table hits are recorded)
        # The last fast-table hit of one / two tensors: (argument types..., run), matched by
        # identity in Function.__call__ before any hashing. Only while unbounded (a hit here
        # records no use); reset whenever the fast table loses or changes an entry.
        self.last1: tuple = _NO_CALL1
        self.last2: tuple = _NO_CALL2
        self._tick = 0  # recency clock (races between threads only blur the order)
        self._last_use: dict[int, int] = {}
        self._evictions = 0

    # ------------------------------------------------------------ traces
    def lookup(self, key: Any) -> ConcreteFunction | None:
        """The trace for a full call key, or None."""
        cf = self._traces.get(key)
        if cf is not None and self.bounded:
            self.touch(cf)
        return cf

    def trace(self, key: Any, make: Callable[[], ConcreteFunction]) -> ConcreteFunction:
        """The trace for `key`: cached, or `make()` run once however many threads ask."""
        return self._once(("trace", key), lambda: self._traces.get(key), make,
                          lambda cf: self._store_trace(key, cf))

    def signature_function(self, make: Callable[[], ConcreteFunction]) -> ConcreteFunction:
        """The one trace of an input_signature (made on first use)."""
        cf = self._signature
        if cf is not None:
            return cf
        return self._once("signature", lambda: self._signature, make, self._store_signature)

    def relaxed(self, key: Any) -> ConcreteFunction | None:
        """reduce_retracing: the trace last made for this relaxed key, or None."""
        return self._relaxed.get(key)

    def remember_relaxed(self, key: Any, cf: ConcreteFunction) -> None:
        with self._lock:
            self._relaxed[key] = cf

    def remember_fast(self, args: tuple, cf: ConcreteFunction) -> None:
        """Let later positional calls like `args` (all tensors or arrays) find `cf` by types."""
        if cf.num_tensor_inputs != len(args):
            return
        key = fast_key(args)
        if key is None:
            return
        if all(type(a) is Tensor and a._buf is not None for a in args):
            run = cf.run_tensors
        elif any(type(a) is Tensor and a._buf is None for a in args):
            return
        else:
            run = cf.run_host
        if self.fast_function(key) is cf:
            return
        with self._lock:
            if id(cf) in self._live or cf is self._signature:  # not evicted meanwhile
                self.fast[key] = run
                self.forget_last()

    def forget_last(self) -> None:
        """Drop the memo of the last fast-table hits (`last1`, `last2`)."""
        self.last1, self.last2 = _NO_CALL1, _NO_CALL2

    def fast_function(self, key: Any) -> ConcreteFunction | None:
        """The ConcreteFunction the fast table holds for `key` (see `fast_key`), or None."""
        run = self.fast.get(key)
        return None if run is None else run.__self__

    def concrete_functions(self) -> list[ConcreteFunction]:
        """The traces kept now, the input_signature's first, then oldest first."""
        with self._lock:
            found = list(self._live.values())
        return ([self._signature] if self._signature is not None else []) + found

    def _store_trace(self, key: Any, cf: ConcreteFunction) -> str | None:
        self._traces[key] = cf
        if id(cf) in self._live:  # reduce_retracing reused a trace
            if self.bounded:
                self.touch(cf)
            return None
        self._live[id(cf)] = cf
        return self._admit(cf)

    def _store_signature(self, cf: ConcreteFunction) -> None:
        self._signature = cf

    # ------------------------------------------------------------ the trace bound
    def touch(self, cf: ConcreteFunction) -> None:
        """Record a use of `cf` (for the least-recently-used bound)."""
        self._tick += 1
        self._last_use[id(cf)] = self._tick

    def _admit(self, cf: ConcreteFunction) -> str | None:
        """Past tx.config's max_traces_per_function, drop the least recently used trace."""
        limit = config.max_traces_per_function()
        if limit is None:
            return None
        if not self.bounded:  # from now on fast-path hits record their use too
            self.fast = _RecencyDict(self.fast, self)
            self.bounded = True
            self.forget_last()
        self.touch(cf)
        message = None
        while len(self._live) > limit:
            victim = min((c for c in self._live.values() if c is not cf),
                         key=lambda c: self._last_use.get(id(c), 0))
            self._drop(victim)
            self._evictions += 1
            if self._evictions == 1:
                message = (
                    f"tx.function {self.name!r} holds {limit} traces, the limit set with "
                    "tx.config.set_compile_cache_limits(max_traces_per_function=...): dropping "
                    f"the least recently used one ({victim!r}); calling with it again traces "
                    "and compiles again. Further evictions of this function are not reported.")
        return message

    def _drop(self, victim: ConcreteFunction) -> None:
        del self._live[id(victim)]
        self._last_use.pop(id(victim), None)
        for table in (self._traces, self._relaxed):
            for k in [k for k, v in table.items() if v is victim]:
                del table[k]
        for k in [k for k, run in self.fast.items() if run.__self__ is victim]:
            del self.fast[k]
        self.forget_last()

    # ------------------------------------------------------------ executables per shape
    def executable(self, owner: ConcreteFunction, shapes: tuple,
                   compile: Callable[[], Compiled]) -> Compiled:
        """`owner`'s executable for these concrete input shapes, compiled once on first use."""
        table = self._shapes.get(id(owner))
        if table is not None:
            entry = table.get(shapes)
            if entry is not None:
                self._tick += 1
                entry[1] = self._tick
                return entry[0]

        def find() -> Compiled | None:
            t = self._shapes.get(id(owner))
            e = t.get(shapes) if t is not None else None
            return e[0] if e is not None else None

        return self._once(("compile", id(owner), shapes), find, compile,
                          lambda c: self._store_executable(owner, shapes, c))

    def executables(self, owner: ConcreteFunction) -> dict[tuple, Compiled]:
        """`owner`'s executables kept now, by input shapes, least recently used first."""
        with self._lock:
            items = list(self._shapes.get(id(owner), {}).items())
        return {k: e[0] for k, e in sorted(items, key=lambda kv: kv[1][1])}

    def _store_executable(self, owner: ConcreteFunction, shapes: tuple,
                          c: Compiled) -> str | None:
        table = self._shapes.get(id(owner))
        if table is None:
            table = self._shapes[id(owner)] = _Shapes()
            # NOTE: the table dies with its function (its id may then be reused).
            weakref.finalize(owner, self._shapes.pop, id(owner), None).atexit = False
        message = self._bound_shapes(owner, table) if table else None
        self._tick += 1
        table[shapes] = [c, self._tick]
        return message

    def _bound_shapes(self, owner: ConcreteFunction, table: _Shapes) -> str | None:
        """Before adding an executable for a new shape: drop the least recently used one past
        tx.config's max_traces_per_function, or say once that many are kept."""
        limit = config.max_traces_per_function()
        if limit is not None:
            message = None
            while table and len(table) >= limit:
                gone = table.pop(min(table, key=lambda k: table[k][1]))[0]
                if gone.cache_key is not None:
                    release_executable(gone.cache_key, owner, gone.exe.device)
                table.evictions += 1
                if table.evictions == 1:
                    message = (
                        f"{owner.name!r} keeps {limit} executables (one per input shape), the "
                        "limit set with tx.config.set_compile_cache_limits("
                        "max_traces_per_function=...): dropping the least recently used; "
                        "further evictions are not reported")
            return message
        if len(table) + 1 == MANY_SHAPES:
            mb = sum(e[0].exe.nbytes for e in table.values()) / 1e6
            return (f"{owner.name!r} now keeps {MANY_SHAPES} executables, one per input shape "
                    f"(about {mb:.0f} MB); bound them with tx.config.set_compile_cache_limits("
                    "max_traces_per_function=...) or bucket the input shapes")
        return None

    # ------------------------------------------------------------ methods
    def bound(self, instance: Any, make: Callable[[Callable[[], Any]], Any]) -> Any:
        """The Function bound to `instance` (a method's), made once by `make(instance_ref)`.

        NOTE: keyed by identity (instances that compare equal still get their own traces),
        holding the instance weakly so its traces and executables die with it.
        """
        entry = self._bound.get(id(instance))
        if entry is not None and entry[0]() is instance:
            return entry[1]
        with self._lock:
            entry = self._bound.get(id(instance))
            if entry is not None and entry[0]() is instance:
                return entry[1]
            try:
                ref = weakref.ref(instance)
            except TypeError:  # __slots__ without __weakref__: kept alive with its Function
                ref = (lambda obj: lambda: obj)(instance)
            else:
                weakref.finalize(instance, self._bound.pop, id(instance), None)
            fn = make(ref)
            self._bound[id(instance)] = (ref, fn)
            return fn

    # ------------------------------------------------------------ one trace per key
    def _once(self, key: Any, find: Callable[[], Any], make: Callable[[], Any],
              store: Callable[[Any], str | None]) -> Any:
        """`find()`, or else `make()` run by one thread at a time per key, its result kept
        with `store` (which may return a warning to give). A failed `make` keeps nothing: each
        waiting thread then tries for itself, as it would have alone."""
        while True:
            with self._lock:
                value = find()
                if value is not None:
                    return value
                pending = self._pending.get(key)
                if pending is None:
                    pending = self._pending[key] = _Pending()
                    break
            if pending.owner == threading.get_ident():
                return make()  # asked again from inside its own trace: trace it here
            pending.done.wait()
        try:
            value = make()
        except BaseException:
            with self._lock:
                del self._pending[key]
            pending.done.set()
            raise
        with self._lock:
            message = store(value)
            del self._pending[key]
        pending.done.set()
        if message is not None:
            category = RetracingWarning if key[0] == "trace" else RuntimeWarning
            warnings.warn(message, category, stacklevel=user_stacklevel())
        return value


class _RecencyDict(dict):
    """The fast-path table of a bounded Function: a hit also records when it was used."""

    __slots__ = ("_owner",)

    def __init__(self, items: dict, owner: FunctionCache):
        super().__init__(items)
        self._owner = owner

    def get(self, key: Any, default: Any = None) -> Any:
        run = dict.get(self, key, default)
        if run is not None:
            self._owner.touch(run.__self__)
        return run


def fast_key(args: tuple) -> tuple | None:
    """Fast-path key of positional tensors and numpy arrays (None: take the slow path).

    NOTE: `Function.__call__` computes the same key inline (no call), with None for what this
    refuses; a key holding None is never stored.
    """
    key = []
    for a in args:
        if type(a) is Tensor:
            key.append(a._type)
        elif type(a) is np.ndarray:
            key.append((a.dtype, a.shape))
        else:  # numpy scalars, Python values, ...: the slow path keys them by value
            return None
    return tuple(key)


def user_stacklevel() -> int:
    """The warnings stacklevel of the innermost frame outside this package (the user's call)."""
    here = os.path.dirname(os.path.abspath(__file__))
    f, level = sys._getframe(1), 1
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(here):
        f, level = f.f_back, level + 1
    return level
