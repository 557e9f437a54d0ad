"""The `fusion` op: a region of ops kept together as a nested graph (its `body`).

The fusion pass builds these; the lowering emits each body once as a private function and the
op as a `func.call`, so XLA receives the region intact and the region is visible in the printed
IR. The body is closed: it sees only its own inputs (the op's operands).
"""
from __future__ import annotations

from typing import Any

from ..autodiff import COMPLEX_VJP
from ..ir.graph import Graph, Op, walk
from ..ir.types import TensorType
from ..registry import PURE, OpDef, OpTypeError, register


def _fusion_infer(*types_in: TensorType, body: Graph) -> tuple[TensorType, ...]:
    if tuple(types_in) != body.input_types:
        raise OpTypeError(f"fusion @{body.name} takes {list(map(str, body.input_types))}, "
                          f"got {list(map(str, types_in))}")
    return body.output_types


def _reference(op: Op, args: list) -> Any:
    res = op.opdef.reference(*args, **op.attr_dict)
    return res if op.opdef.multiple_results else (res,)


def evaluate_reference(body: Graph, args: tuple) -> tuple:
    """Run a graph with its ops' numpy `reference` rules."""
    return tuple(walk(body, args, _reference))


def _fusion_lower(ctx, *operands, body: Graph):
    return ctx.call(body, list(operands))


def _fusion_vjp(ctx, g, *, body: Graph) -> tuple:
    """Re-run the body's ops on the primal inputs under a local record, then backprop."""
    from ..autodiff import backprop, replay

    records, outs = replay(body, ctx.inputs)
    seeds = [(o, ct) for o, ct in zip(outs, g) if ct is not None]
    got = backprop(records, seeds, ctx.inputs)
    return tuple(got.get(id(x)) if need else None for x, need in zip(ctx.inputs, ctx.needs))


fusion_op = register(
    OpDef(
        "fusion",
        infer=_fusion_infer,
        lower=_fusion_lower,
        reference=lambda *args, body: evaluate_reference(body, args),
        vjp=_fusion_vjp,
        traits=frozenset({PURE, COMPLEX_VJP}),  # the body's ops follow the convention
        multiple_results=True,
    )
)
