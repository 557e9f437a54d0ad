"""Run-time effects inside compiled code: prints and asserts, ordered by an effect token.

A trace with effects threads one `i32[]` token through them in program order: `effect_token`
starts it, each `debug_print` / `debug_assert` takes it and returns the next one, regions take
and return it like a loop-carried value, and `effect_sink` consumes the last one. The chain is
what orders the effects (XLA keeps data order; side-effecting ops alone may be reordered) and
what keeps them alive through DCE (none of these ops is PURE).

Lowering calls back to the host through jaxlib's CPU callback custom call; the module records,
per call site, only data (the op's kind and attrs) in `LowerCtx.add_host_callback`: the
runtime builds the Python callable from that data, so an artifact holds no code.
"""
from __future__ import annotations

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from ..ir.types import BOOL, I32, TensorType
from ..lowering import helpers as H
from ..registry import NOT_DIFFERENTIABLE, OpDef, OpTypeError, register

TOKEN = TensorType(I32, ())
# jaxlib's host callback target on CPU (the index attr picks the executable's callback)
CPU_CALLBACK_TARGET = "xla_ffi_python_cpu_callback"


def _token_check(tok: TensorType, what: str) -> None:
    if tok != TOKEN:
        raise OpTypeError(f"{what}: the first operand must be the effect token i32[], got {tok}")


def _layouts(types) -> ir.ArrayAttr:
    """Row-major layouts (what the host callback reads its numpy arrays as)."""
    return ir.ArrayAttr.get([
        ir.DenseElementsAttr.get(np.arange(t.rank - 1, -1, -1, dtype=np.int64),
                                 type=ir.IndexType.get()) if t.rank else
        ir.DenseElementsAttr.get(np.zeros(0, np.int64), type=ir.IndexType.get())
        for t in types])


def host_call(ctx, operands: list, types: tuple, kind: str, attrs: dict) -> ir.Value:
    """A side-effecting host callback taking (token, *operands) and returning the token."""
    if ctx.add_host_callback is None:
        raise OpTypeError("this lowering has no host callbacks (the caller must collect them)")
    index = ctx.add_host_callback(kind, attrs, types)
    u64 = ir.IntegerType.get_unsigned(64)
    op = hlo.CustomCallOp(
        [H.ir_type(TOKEN)], operands, CPU_CALLBACK_TARGET, has_side_effect=True,
        backend_config=ir.DictAttr.get({"index": ir.IntegerAttr.get(u64, index)}),
        api_version=ir.IntegerAttr.get(ir.IntegerType.get_signless(32), 4),
        operand_layouts=_layouts(types), result_layouts=_layouts((TOKEN,)))
    return op.result


# ---------------------------------------------------------------- token
effect_token_op = register(OpDef(
    "effect_token",
    infer=lambda: TOKEN,
    lower=lambda ctx: H.constant(np.array(0, np.int32), TOKEN),
    reference=lambda: np.array(0, np.int32),
    vjp=NOT_DIFFERENTIABLE,
    traits=frozenset(),
))


def _sink_infer(tok: TensorType) -> tuple:
    _token_check(tok, "effect_sink")
    return ()


effect_sink_op = register(OpDef(
    "effect_sink",
    infer=_sink_infer,
    lower=lambda ctx, tok: [],
    reference=lambda tok: (),
    vjp=NOT_DIFFERENTIABLE,
    traits=frozenset(),
    multiple_results=True,
))


# ---------------------------------------------------------------- print
def _print_infer(tok: TensorType, *values: TensorType, template: tuple, summarize: int,
                 stream: str, end: str) -> TensorType:
    _token_check(tok, "print")
    if not all(p is None or isinstance(p, str) for p in template):
        raise OpTypeError("print: the template holds strings and tensor slots only")
    if sum(1 for p in template if p is None) != len(values):
        raise OpTypeError(f"print: the template has {template.count(None)} tensor slots but "
                          f"{len(values)} tensors were given")
    if stream not in ("stdout", "stderr"):
        raise OpTypeError(f"print: output stream must be stdout or stderr, got {stream!r}")
    return TOKEN


def _print_lower(ctx, tok, *values, template, summarize, stream, end):
    return host_call(ctx, [tok, *values], ctx.types_in, "print",
                     {"template": template, "summarize": summarize, "stream": stream,
                      "end": end})


debug_print_op = register(OpDef(
    "debug_print",
    infer=_print_infer,
    lower=_print_lower,
    # the numpy semantics of a print are its token; the output happens on the host
    reference=lambda tok, *values, **attrs: np.asarray(tok),
    vjp=NOT_DIFFERENTIABLE,
    traits=frozenset(),
))


# ---------------------------------------------------------------- assert
def _assert_infer(tok: TensorType, pred: TensorType, *data: TensorType, kind: str,
                  message: str, template: tuple, summarize: int, where: str,
                  names: tuple = ()) -> TensorType:
    _token_check(tok, "assert")
    if pred.dtype is not BOOL:
        raise OpTypeError(f"assert: the condition must be bool, got {pred}")
    if kind != "numerics" and pred.rank != 0:
        raise OpTypeError(f"assert: the condition must be a bool scalar, got {pred}")
    if not all(p is None or isinstance(p, str) for p in template) or \
            not all(isinstance(n, str) for n in names):
        raise OpTypeError("assert: the template holds strings and tensor slots only")
    if kind not in ("assert", "check_numerics", "numerics"):
        raise OpTypeError(f"assert: unknown kind {kind!r}")
    if sum(1 for p in template if p is None) != len(data):
        raise OpTypeError(f"assert: the template has {template.count(None)} tensor slots but "
                          f"{len(data)} tensors were given")
    return TOKEN


def _assert_lower(ctx, tok, pred, *data, **attrs):
    """if all(pred): the token; else: the host callback, which raises the error."""
    ok = pred
    if ctx.types_in[1].rank:  # "numerics": one flag per checked op, all must hold
        ok = _reduce_and(pred, ctx.types_in[1])
    index = hlo.convert(ir.RankedTensorType.get([], ir.IntegerType.get_signless(32)), ok)
    case = hlo.CaseOp([H.ir_type(TOKEN)], index, 2)
    types = (ctx.types_in[0], *ctx.types_in[1:])
    with ir.InsertionPoint(case.regions[0].blocks.append()):  # failed: report on the host
        hlo.return_([host_call(ctx, [tok, pred, *data], types, "assert", attrs)])
    with ir.InsertionPoint(case.regions[1].blocks.append()):  # held: nothing to do
        hlo.return_([tok])
    return case.result


def _reduce_and(pred, t: TensorType):
    """all(pred) over every axis of a bool tensor."""
    scalar = ir.RankedTensorType.get([], ir.IntegerType.get_signless(1))
    init = H.constant(np.array(True), TensorType(BOOL, ()))
    red = hlo.ReduceOp([scalar], [pred], [init], list(range(t.rank)))
    block = red.regions[0].blocks.append(scalar, scalar)
    with ir.InsertionPoint(block):
        hlo.return_([hlo.and_(*block.arguments)])
    return red.result


def _assert_reference(tok, pred, *data, **attrs):
    if not np.all(pred):
        raise AssertionError(f"{attrs['kind']} assertion failed: {attrs['message']}")
    return np.asarray(tok)


debug_assert_op = register(OpDef(
    "debug_assert",
    infer=_assert_infer,
    lower=_assert_lower,
    reference=_assert_reference,
    vjp=NOT_DIFFERENTIABLE,
    traits=frozenset(),
))
