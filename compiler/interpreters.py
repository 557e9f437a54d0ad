"""Who gives meaning to `bind`: the eager interpreter, the per-thread stack of traces, and the
per-thread stack of recorders (gradient tapes).

This module is the only owner of that state. Everyone else asks through its small API:
`is_tracing()`, `current_trace()`, `trace_scope(interp)`, `outside_traces()`, `is_recording()`,
`recorders()`, `recording(rec)` / `push_recorder` / `pop_recorder`, `nothing_active()`,
`current_name_scope()` / `name_scope_path(path)`.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .registry import OpDef


class Interpreter:
    """Something that gives meaning to `bind`: the eager executor or a tracer."""

    def process(self, opdef: OpDef, args: Sequence[Any], attrs: dict) -> Any:  # pragma: no cover
        raise NotImplementedError


class _ThreadState(threading.local):
    """One thread's active traces and recorders, innermost last: another thread's eager ops never
    join this thread's trace or tape."""

    def __init__(self) -> None:
        self.traces: list[Interpreter] = []
        self.recorders: list[Any] = []
        self.name_scope = ""  # tx.name_scope's path, TF's form: "" or "outer/inner/"


_STATE = _ThreadState()
_EAGER: list[Interpreter | None] = [None]
# How many traces / recorders are active in ANY thread. The hot paths test these first: when
# nothing traces or records anywhere (the common case) that is one list read, without the
# thread-local lookup.
_ANYWHERE = [0, 0]
_ANYWHERE_LOCK = threading.Lock()


def _count(which: int, delta: int) -> None:
    with _ANYWHERE_LOCK:
        _ANYWHERE[which] += delta


def set_eager_interpreter(interp: Interpreter) -> None:
    """Installed by tfx_core: what `bind` does when nothing is tracing."""
    _EAGER[0] = interp


# ---------------------------------------------------------------- traces
def is_tracing() -> bool:
    """True when this thread is building a graph (inside @tx.function or a control-flow region)."""
    return bool(_ANYWHERE[0] and _STATE.traces)


def current_trace() -> Interpreter | None:
    """This thread's innermost trace, or None when ops run eagerly."""
    if _ANYWHERE[0] and _STATE.traces:
        return _STATE.traces[-1]
    return None


@contextlib.contextmanager
def trace_scope(interp: Interpreter) -> Iterator[Interpreter]:
    """Bind ops to `interp` (a trace) for the duration of the block."""
    _count(0, 1)
    _STATE.traces.append(interp)
    try:
        yield interp
    finally:
        popped = _STATE.traces.pop()
        _count(0, -1)
        assert popped is interp, "trace stack corrupted"


@contextlib.contextmanager
def outside_traces(traces: bool = True, recorders: bool = True) -> Iterator[None]:
    """Pause this thread's traces and/or tapes for the block (tf.init_scope; a control-flow
    region that must not be recorded by the tapes around it; a custom gradient's forward)."""
    saved_traces = _STATE.traces[:] if traces else []
    saved_recorders = _STATE.recorders[:] if recorders else []
    if traces:
        _STATE.traces.clear()
        _count(0, -len(saved_traces))
    if recorders:
        _STATE.recorders.clear()
        _count(1, -len(saved_recorders))
    try:
        yield
    finally:
        if traces:
            _STATE.traces[:] = saved_traces
            _count(0, len(saved_traces))
        if recorders:
            _STATE.recorders[:] = saved_recorders
            _count(1, len(saved_recorders))


# ---------------------------------------------------------------- name scopes
def current_name_scope() -> str:
    """This thread's tx.name_scope path, "" outside any scope, else TF's form "outer/inner/"."""
    return _STATE.name_scope


@contextlib.contextmanager
def name_scope_path(path: str) -> Iterator[str]:
    """Make `path` (already joined, TF's form) this thread's name scope for the block."""
    saved = _STATE.name_scope
    _STATE.name_scope = path
    try:
        yield path
    finally:
        _STATE.name_scope = saved


# ---------------------------------------------------------------- recorders (gradient tapes)
def is_recording() -> bool:
    """True when a gradient tape is recording in this thread."""
    return bool(_ANYWHERE[1] and _STATE.recorders)


def recorders() -> list[Any]:
    """This thread's recording tapes, outermost first (a copy: safe to iterate as they change)."""
    if _ANYWHERE[1] and _STATE.recorders:
        return _STATE.recorders[:]
    return []


def push_recorder(rec: Any) -> None:
    _count(1, 1)
    _STATE.recorders.append(rec)


def pop_recorder(rec: Any) -> None:
    _STATE.recorders.remove(rec)
    _count(1, -1)


@contextlib.contextmanager
def recording(rec: Any) -> Iterator[Any]:
    """Let `rec` see every op bound in this thread during the block."""
    push_recorder(rec)
    try:
        yield rec
    finally:
        pop_recorder(rec)


def nothing_active() -> bool:
    """True when no trace and no tape is active in this thread: public ops may skip `bind`
    (eager fast paths)."""
    return not ((_ANYWHERE[0] and _STATE.traces) or (_ANYWHERE[1] and _STATE.recorders))


# ---------------------------------------------------------------- bind
def bind(opdef: OpDef, *args: Any, **attrs: Any) -> Any:
    """Apply an op to arguments under the current interpreter (trace, or eager).

    Active gradient tapes (recorders) see every bound op with its inputs and outputs.
    """
    state = _STATE
    if _ANYWHERE[0] and state.traces:
        out = state.traces[-1].process(opdef, args, attrs)
    else:
        out = _EAGER[0].process(opdef, args, attrs)  # type: ignore[union-attr]
    if _ANYWHERE[1] and state.recorders:
        for rec in state.recorders[:]:
            rec.record(opdef, args, attrs, out)
    return out
