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

from ..ir.graph import Graph
from ..ir.types import BOOL, I32, TensorType
from ..lowering import helpers as H
from ..registry import PURE, OpDef, OpTypeError, register
from .fusion import evaluate_reference

MAX_REFERENCE_ITERATIONS = 1_000_000


def _types(ts) -> str:
    return "(" + ", ".join(str(t) for t in ts) + ")"


def _no_gradient(name: str):
    def vjp(ctx: Any, g: Any, **attrs: Any) -> tuple:
        from ..autodiff import GradientError

        raise GradientError(f"gradients through {name} are not implemented yet")

    return vjp


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


case_op = register(OpDef("case", _case_infer, _case_lower, _case_reference,
                         _no_gradient("cond/switch_case"), frozenset({PURE}),
                         multiple_results=True))


# ---------------------------------------------------------------- while
def _while_infer(*operands: TensorType, cond: Graph, body: Graph) -> tuple:
    if cond.input_types != tuple(operands) or body.input_types != tuple(operands):
        raise OpTypeError(f"cond takes {_types(cond.input_types)} and body takes "
                          f"{_types(body.input_types)}; the loop carries {_types(operands)}")
    if cond.output_types != (TensorType(BOOL, ()),):
        raise OpTypeError(f"cond must return one bool[], got {_types(cond.output_types)}")
    if body.output_types != tuple(operands):
        raise OpTypeError(f"the loop body returns {_types(body.output_types)}, but the loop "
                          f"carries {_types(operands)} (shapes and dtypes must stay the same)")
    return tuple(operands)


def _while_lower(ctx, *operands, cond: Graph, body: Graph):
    types = [H.ir_type(t) for t in ctx.types_in]
    op = hlo.WhileOp(types, list(operands))
    for region, graph in ((op.regions[0], cond), (op.regions[1], body)):
        block = region.blocks.append(*types)
        with ir.InsertionPoint(block):
            hlo.return_(ctx.lower_graph(graph, list(block.arguments)))
    return list(op.results)


def _while_reference(*operands, cond: Graph, body: Graph):
    state = tuple(np.asarray(x) for x in operands)
    for _ in range(MAX_REFERENCE_ITERATIONS):
        if not bool(evaluate_reference(cond, state)[0]):
            return state
        state = tuple(np.asarray(x) for x in evaluate_reference(body, state))
    raise RuntimeError(f"while: no exit after {MAX_REFERENCE_ITERATIONS} iterations")


while_op = register(OpDef("while", _while_infer, _while_lower, _while_reference,
                          _no_gradient("while_loop"), frozenset({PURE}), multiple_results=True))
