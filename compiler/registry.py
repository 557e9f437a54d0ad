"""The op registry: `OpDef` (every rule of one op), `register`, and the traits passes query.

`bind` and the interpreter/recorder stacks live in `compiler.interpreters`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .ir.types import TensorType

# Traits that passes query: facts about an op, so no pass keeps its own list of op names.
ELEMENTWISE = "elementwise"  # the elementwise family: each output element from the same-index
# (broadcast) input elements; attrs name no dimension
COMMUTATIVE = "commutative"
PURE = "pure"
SHAPE_OP = "shape_op"
REDUCTION = "reduction"
# Not ELEMENTWISE, but a transpose of the operand commutes with the op (each output element comes
# from the same-index input element and no attr names a dimension): convert, stop_gradient.
LAYOUT_PRESERVING = "layout_preserving"
# Not ELEMENTWISE, but fusion groups it like one (a per-element loop XLA fuses into its
# neighbours): convert, broadcast_to.
ELEMENTWISE_LIKE = "elementwise_like"
# A REDUCTION whose result does not depend on the order it visits elements in, for any dtype
# (XLA's float max/min order -0.0 below +0.0 and propagate NaN; argmax/argmin break ties by
# index): float sums and products are not.
ORDER_INDEPENDENT = "order_independent"
# From finite inputs the op makes only finite results (it moves, picks or negates values):
# enable_check_numerics need not check it (with SHAPE_OP and ORDER_INDEPENDENT ops), since a
# NaN or Inf in its result was already in an input.
FINITE_PRESERVING = "finite_preserving"
# A NaN or Inf in any float input puts one in the result (IEEE sums and products, moves that
# keep every element): enable_check_numerics may check the result instead of the input.
PROPAGATES_NONFINITE = "propagates_nonfinite"


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
        vjp: the gradient rule `(ctx: GradCtx, g, **attrs) -> tuple`, or NOT_DIFFERENTIABLE:
            required, so no op is silently without one.
        traits: frozenset of trait names (ELEMENTWISE, COMMUTATIVE, PURE, ...).
        multiple_results: whether infer/lower/reference return tuples.
    """

    name: str
    infer: InferRule
    lower: LowerRule
    reference: Callable[..., Any]
    vjp: Any
    traits: frozenset = field(default_factory=lambda: frozenset({PURE}))
    multiple_results: bool = False

    def __post_init__(self) -> None:
        if self.vjp is not NOT_DIFFERENTIABLE and not callable(self.vjp):
            raise TypeError(f"op {self.name!r}: vjp must be a gradient rule or "
                            f"NOT_DIFFERENTIABLE, got {self.vjp!r}")

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
