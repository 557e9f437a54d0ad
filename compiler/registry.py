"""The op registry: `OpDef` (every rule of one op), `register`, and `bind` + interpreter stack."""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .ir.types import TensorType

# Traits that passes query.
ELEMENTWISE = "elementwise"
COMMUTATIVE = "commutative"
PURE = "pure"
SHAPE_OP = "shape_op"
REDUCTION = "reduction"


class OpTypeError(TypeError):
    """Raised by an `infer` rule on misuse; `bind` prefixes the op name and the user's line."""


class NotDifferentiable:
    """Marker for `OpDef.vjp`: the op has no gradient (argmax, comparisons, ...)."""

    def __repr__(self) -> str:
        return "NOT_DIFFERENTIABLE"


NOT_DIFFERENTIABLE = NotDifferentiable()

InferRule = Callable[..., "TensorType | tuple[TensorType, ...]"]
LowerRule = Callable[..., Any]


@dataclass(frozen=True, eq=False)
class OpDef:
    """All the rules of one IR op, in one place.

    Attributes:
        name: printed name (StableHLO-aligned where 1:1), unique in the registry.
        infer: (*in_types, **attrs) -> out type(s); raises OpTypeError on misuse.
        lower: (ctx: LowerCtx, *operands: ir.Value, **attrs) -> ir.Value | list[ir.Value].
        reference: (*np_arrays, **attrs) -> np.ndarray | tuple; the numpy semantics.
        vjp: gradient rule, NOT_DIFFERENTIABLE, or None while not yet written.
        traits: frozenset of trait names (ELEMENTWISE, COMMUTATIVE, PURE, ...).
        multiple_results: whether infer/lower/reference return tuples.
    """

    name: str
    infer: InferRule
    lower: LowerRule
    reference: Callable[..., Any]
    vjp: Any = None
    traits: frozenset = field(default_factory=lambda: frozenset({PURE}))
    multiple_results: bool = False

    def infer_types(self, in_types: tuple[TensorType, ...], attrs: dict) -> tuple[TensorType, ...]:
        out = self.infer(*in_types, **attrs)
        return tuple(out) if self.multiple_results else (out,)

    def __repr__(self) -> str:
        return f"<OpDef {self.name}>"


REGISTRY: dict[str, OpDef] = {}


def register(op: OpDef) -> OpDef:
    """Add an OpDef to the registry; a duplicate name is a programming error."""
    if op.name in REGISTRY:
        raise ValueError(f"op {op.name!r} registered twice")
    REGISTRY[op.name] = op
    return op


def get_op(name: str) -> OpDef:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}") from None


# ---------------------------------------------------------------- interpreters
class Interpreter:
    """Something that gives meaning to `bind`: the eager executor or a tracer."""

    def process(self, opdef: OpDef, args: Sequence[Any], attrs: dict) -> Any:  # pragma: no cover
        raise NotImplementedError


class _InterpreterStack(threading.local):
    """The active traces, per thread: another thread's eager ops never join this trace."""

    def __init__(self) -> None:
        self.items: list[Interpreter] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Interpreter:
        return self.items[i]

    def append(self, interp: Interpreter) -> None:
        self.items.append(interp)

    def pop(self) -> Interpreter:
        return self.items.pop()


_STACK = _InterpreterStack()
_EAGER: list[Interpreter | None] = [None]
# Traces active in ANY thread. Hot paths test `_DEPTH[0] and _STACK`: when nothing traces
# anywhere (the common case) that is one list read, without the thread-local lookup.
_DEPTH = [0]
_DEPTH_LOCK = threading.Lock()


def set_eager_interpreter(interp: Interpreter) -> None:
    """Installed by tfx_core: what `bind` does when nothing is tracing."""
    _EAGER[0] = interp


def current_interpreter() -> Interpreter:
    if _STACK:
        return _STACK[-1]
    interp = _EAGER[0]
    if interp is None:
        raise RuntimeError("no eager interpreter installed (import tfx_core)")
    return interp


class interpreter_scope:
    """Context manager pushing an interpreter (a trace) for the duration of a block."""

    def __init__(self, interp: Interpreter):
        self.interp = interp

    def __enter__(self) -> Interpreter:
        with _DEPTH_LOCK:
            _DEPTH[0] += 1
        _STACK.append(self.interp)
        return self.interp

    def __exit__(self, *exc) -> None:
        popped = _STACK.pop()
        with _DEPTH_LOCK:
            _DEPTH[0] -= 1
        assert popped is self.interp, "interpreter stack corrupted"


# ---------------------------------------------------------------- recorders (gradient tapes)
class _RecorderStack(threading.local):
    """The active recorders (gradient tapes), per thread, innermost last."""

    def __init__(self) -> None:
        self.items: list[Any] = []


RECORDERS = _RecorderStack()
# Recorders active in ANY thread; like _DEPTH, lets the hot path skip the thread-local lookup.
RECORDING = [0]


def push_recorder(rec: Any) -> None:
    with _DEPTH_LOCK:
        RECORDING[0] += 1
    RECORDERS.items.append(rec)


def pop_recorder(rec: Any) -> None:
    RECORDERS.items.remove(rec)
    with _DEPTH_LOCK:
        RECORDING[0] -= 1


def _notify(opdef: OpDef, args: tuple, attrs: dict, out: Any) -> None:
    for rec in list(RECORDERS.items):
        rec.record(opdef, args, attrs, out)


def bind(opdef: OpDef, *args: Any, **attrs: Any) -> Any:
    """Apply an op to arguments under the current interpreter (trace, or eager).

    Active gradient tapes (recorders) see every bound op with its inputs and outputs.
    """
    if _DEPTH[0] and _STACK:
        out = _STACK[-1].process(opdef, args, attrs)
    else:
        out = _EAGER[0].process(opdef, args, attrs)  # type: ignore[union-attr]
    if RECORDING[0] and RECORDERS.items:
        _notify(opdef, args, attrs, out)
    return out


def fast_path_ok() -> bool:
    """True when no trace and no tape is active: public ops may skip `bind` (eager fast paths)."""
    return not ((_DEPTH[0] and _STACK) or (RECORDING[0] and RECORDERS.items))
