"""Control flow: `case` (cond / switch_case) and `while`, with their regions as nested graphs.

`case(index, *operands)` runs `branches[index]` (an out-of-range index runs the last branch, as
stablehlo.case and tf.switch_case do) on the operands; every branch takes all operands and
returns the same types. `while(*operands)` carries all operands: `cond(*operands) -> bool[]`,
`body(*operands) -> operands' types`; values a loop only reads are carried unchanged.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from ..interpreters import bind
from ..ir.graph import Graph, Value
from ..ir.types import BOOL, I32, TensorType
from ..lowering import helpers as H
from ..registry import PURE, OpDef, OpTypeError, register
from ..tracing import trace_graph
from .fusion import evaluate_reference

MAX_REFERENCE_ITERATIONS = 1_000_000


def _types(ts) -> str:
    return "(" + ", ".join(str(t) for t in ts) + ")"


def _branch_vjp(branch: Graph, needs: tuple[bool, ...]) -> Graph:
    """The gradient region of one branch: (operands..., cotangents...) -> (the needed operands'
    cotangents...), by re-binding the branch's ops and backpropagating through them."""
    from ..autodiff import backprop, replay, zeros_like

    n = len(branch.input_types)

    def grad_region(*inputs: Value) -> list[Value]:
        operands, cts = list(inputs[:n]), inputs[n:]
        records, outs = replay(branch, operands)
        seeds = [(o, ct) for o, ct, v in zip(outs, cts, branch.outputs)
                 if v.type.dtype.is_floating]
        got = backprop(records, seeds, operands)
        return [got.get(id(x)) if id(x) in got else zeros_like(x.type, x)
                for x, need in zip(operands, needs) if need]

    return trace_graph(f"{branch.name}_grad", [*branch.input_types, *branch.output_types],
                       grad_region)


def _case_vjp(ctx: Any, g: Any, *, branches: tuple) -> tuple:
    needs = ctx.needs[1:]
    if not any(needs):
        return (None,) * len(ctx.inputs)
    grads = tuple(_branch_vjp(b, needs) for b in branches)
    outs = iter(bind(case_op, ctx.inputs[0], *ctx.inputs[1:], *g, branches=grads))
    return (None, *[next(outs) if n else None for n in needs])


# ---------------------------------------------------------------- case
def _case_infer(index: TensorType, *operands: TensorType, branches: tuple) -> tuple:
    if index.dtype is not I32 or index.rank != 0:
        raise OpTypeError(f"the branch index must be i32[], got {index}")
    if not branches:
        raise OpTypeError("needs at least one branch")
    out = branches[0].output_types
    for k, b in enumerate(branches):
        if b.input_types != tuple(operands):
            raise OpTypeError(f"branch {k} takes {_types(b.input_types)}, got "
                              f"{_types(operands)}")
        if b.output_types != out:
            raise OpTypeError(f"branch 0 returns {_types(out)} but branch {k} returns "
                              f"{_types(b.output_types)}")
    return out


def _case_lower(ctx, index, *operands, branches: tuple):
    op = hlo.CaseOp([H.ir_type(t) for t in ctx.types_out], index, len(branches))
    for region, branch in zip(op.regions, branches):
        block = region.blocks.append()
        with ir.InsertionPoint(block):  # regions read the operands from above
            hlo.return_(ctx.lower_graph(branch, list(operands)))
    return list(op.results)


def _case_reference(index, *operands, branches: tuple):
    k = int(index)
    k = k if 0 <= k < len(branches) else len(branches) - 1
    return evaluate_reference(branches[k], operands)


case_op = register(OpDef("case", _case_infer, _case_lower, _case_reference, _case_vjp,
                         frozenset({PURE}), multiple_results=True))


# ---------------------------------------------------------------- while
def _while_infer(*operands: TensorType, cond: Graph, body: Graph,
                 max_trip: int | None = None) -> tuple:
    if cond.input_types != tuple(operands) or body.input_types != tuple(operands):
        raise OpTypeError(f"cond takes {_types(cond.input_types)} and body takes "
                          f"{_types(body.input_types)}; the loop carries {_types(operands)}")
    if cond.output_types != (TensorType(BOOL, ()),):
        raise OpTypeError(f"cond must return one bool[], got {_types(cond.output_types)}")
    if body.output_types != tuple(operands):
        raise OpTypeError(f"the loop body returns {_types(body.output_types)}, but the loop "
                          f"carries {_types(operands)} (shapes and dtypes must stay the same)")
    return tuple(operands)


def _while_lower(ctx, *operands, cond: Graph, body: Graph, max_trip: int | None = None):
    types = [H.ir_type(t) for t in ctx.types_in]
    op = hlo.WhileOp(types, list(operands))
    for region, graph in ((op.regions[0], cond), (op.regions[1], body)):
        block = region.blocks.append(*types)
        with ir.InsertionPoint(block):
            hlo.return_(ctx.lower_graph(graph, list(block.arguments)))
    return list(op.results)


def _while_reference(*operands, cond: Graph, body: Graph, max_trip: int | None = None):
    state = tuple(np.asarray(x) for x in operands)
    for _ in range(MAX_REFERENCE_ITERATIONS):
        if not bool(evaluate_reference(cond, state)[0]):
            return state
        state = tuple(np.asarray(x) for x in evaluate_reference(body, state))
    raise RuntimeError(f"while: no exit after {MAX_REFERENCE_ITERATIONS} iterations")


def _inline(graph: Graph, args: list) -> list:
    """Bind `graph`'s ops on `args` (in the current interpreter); its outputs."""
    from ..autodiff import replay

    return replay(graph, args)[1]


def _while_vjp(ctx: Any, g: Any, *, cond: Graph, body: Graph, max_trip: int | None = None):
    """Re-run the loop saving each iteration's state in a [max_trip, ...] stack, then run the
    body's vjp over the saved states in reverse (needs a static bound on the trip count)."""
    from ..autodiff import backprop, const, op, replay, zeros_like

    if max_trip is None:
        raise _gradient_error("while_loop without maximum_iterations (give a static "
                              "maximum_iterations, or use tx.scan / tx.foldl)")
    types = list(ctx.types_in)
    if max_trip == 0:  # the body never runs: the loop is the identity
        return tuple(c if need else None for c, need in zip(g, ctx.needs))
    n = len(types)
    i32 = TensorType(I32, ())
    stack_types = [TensorType(t.dtype, (max_trip, *t.shape)) for t in types]

    def zero_starts(t):
        return [const(0, I32)] * t.rank

    def fwd_cond(k, *rest):
        return _inline(cond, list(rest[:n]))

    def fwd_body(k, *rest):
        state, stacks = list(rest[:n]), list(rest[n:])
        stacks = [op("dynamic_update_slice", st, op("reshape", x, shape=(1, *t.shape)), k,
                     *zero_starts(t)) for st, x, t in zip(stacks, state, types)]
        return [op("add", k, const(1, I32)), *_inline(body, state), *stacks]

    fc = trace_graph("while_fwd_cond", [i32, *types, *stack_types], fwd_cond)
    fb = trace_graph("while_fwd_body", [i32, *types, *stack_types], fwd_body)
    zero_stacks = [op("broadcast_to", const(0, t.dtype), shape=tuple(st.shape))
                   for t, st in zip(types, stack_types)]
    fwd = bind(while_op, const(0, I32), *ctx.inputs, *zero_stacks, cond=fc, body=fb)
    trips, stacks = fwd[0], list(fwd[1 + n:])
    floats = [t.dtype.is_floating for t in types]

    def bwd_cond(k, *rest):
        return [op("compare", k, const(0, I32), direction="GE")]

    def bwd_body(k, *rest):
        cts, stacks = list(rest[:n]), list(rest[n:])
        state = [op("reshape", op("dynamic_slice", st, k, *zero_starts(t),
                                  sizes=(1, *t.shape)), shape=tuple(t.shape))
                 for st, t in zip(stacks, types)]
        records, outs = replay(body, state)
        seeds = [(o, ct) for o, ct, f in zip(outs, cts, floats) if f]
        got = backprop(records, seeds, state)
        new = [got[id(x)] if f and id(x) in got else zeros_like(t, x)
               for x, t, f in zip(state, types, floats)]
        return [op("subtract", k, const(1, I32)), *new, *stacks]

    bc = trace_graph("while_bwd_cond", [i32, *types, *stack_types], bwd_cond)
    bb = trace_graph("while_bwd_body", [i32, *types, *stack_types], bwd_body)
    start = op("subtract", trips, const(1, I32))
    cts = [c if c is not None else zeros_like(t, x) for c, t, x in zip(g, types, ctx.inputs)]
    bwd = bind(while_op, start, *cts, *stacks, cond=bc, body=bb)
    return tuple(c if need else None for c, need in zip(bwd[1:1 + n], ctx.needs))


def _gradient_error(what: str) -> Exception:
    from ..autodiff import GradientError

    return GradientError(f"gradients through {what} are not implemented yet")


while_op = register(OpDef("while", _while_infer, _while_lower, _while_reference,
                          _while_vjp, frozenset({PURE}), multiple_results=True))
