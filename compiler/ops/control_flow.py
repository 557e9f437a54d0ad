"""Control flow: `case` (cond / switch_case) and `while`, with their regions as nested graphs.

`case(index, *operands)` runs `branches[index]` (an out-of-range index runs the last branch, as
stablehlo.case and tf.switch_case do) on the operands; every branch takes all operands and
returns the same types. `while(*operands)` carries all operands: `cond(*operands) -> bool[]`,
`body(*operands) -> operands' types`; values a loop only reads are carried unchanged.
Their vjps differentiate the regions by re-running them (without their prints and asserts); a
while loop's reverse sweep reads per-iteration residuals of the body's split vjp, saved in
stacks, when its trip count has a static bound and recomputes states from checkpoints when it
has none.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from ..autodiff import COMPLEX_VJP
from ..interpreters import bind
from ..ir.graph import Graph, Value, walk
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
    grads = tuple(_branch_vjp(_without_effects(b), needs) for b in branches)
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


# (their vjps backprop through the branches/body, whose ops follow the complex convention)
case_op = register(OpDef("case", _case_infer, _case_lower, _case_reference, _case_vjp,
                         frozenset({PURE, COMPLEX_VJP}), multiple_results=True))


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


def _is_effect(o: Any) -> bool:
    """A print / assert: not PURE, takes the effect token first and returns only the next
    token (compiler/ops/debug.py)."""
    return PURE not in o.opdef.traits and len(o.outputs) == 1 and bool(o.inputs) and \
        o.inputs[0].type == o.outputs[0].type == TensorType(I32, ())


def _regions(v: Any) -> list[Graph]:
    if isinstance(v, Graph):
        return [v]
    return [g for b in v for g in _regions(b)] if isinstance(v, tuple) else []


def _has_effects(graph: Graph) -> bool:
    return any(_is_effect(o) or any(_has_effects(r) for a in o.attr_dict.values()
                                    for r in _regions(a)) for o in graph.ops)


def _without_effects(graph: Graph) -> Graph:
    """`graph` with its prints and asserts (also those in nested regions) dropped, each token
    passed through. A vjp re-runs the forward ops to recompute states; their effects already
    happened in the forward pass and must not happen again in the backward one."""
    if not _has_effects(graph):
        return graph

    def strip(v: Any) -> Any:
        if isinstance(v, Graph):
            return _without_effects(v)
        return tuple(strip(b) for b in v) if isinstance(v, tuple) else v

    def apply(o: Any, args: list) -> tuple:
        if _is_effect(o):
            return (args[0],)
        res = bind(o.opdef, *args, **{k: strip(v) for k, v in o.attr_dict.items()})
        return tuple(res) if o.opdef.multiple_results else (res,)

    return trace_graph(graph.name, graph.input_types, lambda *ins: walk(graph, ins, apply))


def _inline(graph: Graph, args: list) -> list:
    """Bind `graph`'s ops on `args` (in the current interpreter); its outputs."""
    from ..autodiff import replay

    return replay(graph, args)[1]


def _body_vjp(body: Graph, state: list, cts: list, types: list) -> list:
    """The loop variables' cotangents before one iteration, given those after it (integer
    and bool variables get zeros)."""
    from ..autodiff import backprop, replay, zeros_like

    records, outs = replay(body, state)
    floats = [t.dtype.is_floating for t in types]
    seeds = [(o, ct) for o, ct, f in zip(outs, cts, floats) if f]
    got = backprop(records, seeds, state)
    return [got[id(x)] if f and id(x) in got else zeros_like(t, x)
            for x, t, f in zip(state, types, floats)]


def _while_vjp(ctx: Any, g: Any, *, cond: Graph, body: Graph, max_trip: int | None = None):
    """With a static bound on the trip count, save each iteration's residuals in
    [max_trip, ...] stacks, then run the body's backward over them in reverse
    (_stacked_vjp). Without one, reverse by recomputation from checkpoints instead
    (_CheckpointedReverse)."""
    cond, body = _without_effects(cond), _without_effects(body)
    if max_trip is None:
        return _checkpointed_vjp(ctx, g, cond, body)
    if max_trip == 0:  # the body never runs: the loop is the identity
        return tuple(c if need else None for c, need in zip(g, ctx.needs))
    return _stacked_vjp(ctx, g, cond, body, max_trip)


def _prepared(j: Graph) -> Graph:
    """The default passes on a body's joint vjp graph before it is split: constant folding
    makes zeros shaped like a loop variable (the vjp of a read from an output buffer) a
    constant, not a residual; CSE merges the forward's and the vjp rules' common work; a
    split's cotangent becomes one concatenate, not a sum of pads (an LSTM's gates)."""
    from ..graph_vjp import pads_to_concatenate
    from ..passes import DEFAULT_PIPELINE, PassManager

    return PassManager(DEFAULT_PIPELINE).run(pads_to_concatenate(j))[0]


def _stacked_vjp(ctx: Any, g: Any, cond: Graph, body: Graph, max_trip: int) -> tuple:
    """The body's vjp is split (compiler/graph_vjp.py) into a forward that also returns the
    residuals its backward reads, and that backward. The forward sweep re-runs the loop with
    the body's forward and saves, per iteration, only those residuals (and the loop
    variables the backward reads directly); the reverse sweep runs the backward over them.

    NOTE: stacking whole loop variables instead cost O(T^2) memory and time for an RNN over T
    steps: its output buffer [T, ...] (written by dynamic_update_slice at step t) is a loop
    variable, copied at every step. Its vjp reads no primal value but the index, so now only
    [T] indices are saved. Values the body passes through (input sequence, weights) are
    carried once; residuals computed from them alone (a transposed weight) are computed once
    before the reverse sweep (the split's `hoisted` graph).
    """
    from ..autodiff import const, op, zeros_like
    from ..graph_vjp import split_vjp

    types = list(ctx.types_in)
    n = len(types)
    floats = [i for i, t in enumerate(types) if t.dtype.is_floating]
    fixed = [i for i in range(n) if body.outputs[i] is body.inputs[i]]
    # output buffers nobody needs a gradient for, written a row per step (see _row_buffers):
    # the body is split with the row written as output instead of the buffer
    rowbufs = {i: w for i, w in _row_buffers(body).items() if not ctx.needs[i]}
    prod = body.producers()
    rows_out = {i: prod[body.outputs[i]].inputs[1] for i in rowbufs}
    split_body = Graph(body.inputs, body.ops, tuple(rows_out.get(i, v) for i, v in
                                                    enumerate(body.outputs)), body.name)
    sp = split_vjp(split_body, floats, floats, prepare=_prepared, pack=False,
                   invariant_inputs=fixed)
    row_inputs = [i for i in sp.input_residuals if i not in fixed]  # saved per step
    row_inputs += sorted({j for j, _ in rowbufs.values()} - set(row_inputs))
    kept_inputs = [i for i in sp.input_residuals if i in fixed]  # carried once
    rows = [*(v.type for v in sp.forward.outputs[n:]), *(types[i] for i in row_inputs)]
    unknown = [str(t) for t in rows if not t.is_static]
    if unknown:
        raise _gradient_error(f"a while_loop whose saved values have unknown shapes "
                              f"({', '.join(unknown)}); trace with static shapes")
    i32 = TensorType(I32, ())
    stack_types = [TensorType(t.dtype, (max_trip, *t.shape)) for t in rows]

    def fwd_cond(k, *rest):
        return _inline(cond, list(rest[:n]))

    def fwd_body(k, *rest):
        state, stacks = list(rest[:n]), list(rest[n:])
        outs = _inline(sp.forward, state)
        saved = [*outs[n:], *(state[i] for i in row_inputs)]
        return [op("add", k, const(1, I32)),  # (a row buffer stays: nothing reads it)
                *(state[i] if i in rowbufs else outs[i] for i in range(n)),
                *(_put_row(st, x, k) for st, x in zip(stacks, saved))]

    fc = trace_graph("while_fwd_cond", [i32, *types, *stack_types], fwd_cond)
    fb = trace_graph("while_fwd_body", [i32, *types, *stack_types], fwd_body)
    zero_stacks = [op("broadcast_to", const(0, st.dtype), shape=tuple(st.shape))
                   for st in stack_types]
    fwd = bind(while_op, const(0, I32), *ctx.inputs, *zero_stacks, cond=fc, body=fb)
    trips, stacks = fwd[0], list(fwd[1 + n:])
    cts = [g[i] if g[i] is not None else zeros_like(types[i], ctx.inputs[i]) for i in floats]
    hoisted = _inline(sp.hoisted, [ctx.inputs[i] for i in fixed]) if sp.hoisted is not None \
        else []
    # a row buffer's cotangent is read, never updated: carried as is (no per-step copy)
    carried_cts = [i for i in floats if i not in rowbufs]
    read_cts = [i for i in floats if i in rowbufs]
    carried = [*hoisted, *(ctx.inputs[i] for i in kept_inputs),
               *(c for i, c in zip(floats, cts) if i in rowbufs), trips]
    nh, nk, nf, nc, nr = len(hoisted), len(kept_inputs), len(carried_cts), len(carried), \
        sp.num_residuals

    def bwd_cond(k, *rest):
        return [op("compare", k, const(0, I32), direction="GE")]

    def bwd_body(k, *rest):
        cts, kept, stacks = list(rest[:nf]), list(rest[nf:nf + nc]), list(rest[nf + nc:])
        saved = [_take_row(st, k, t) for st, t in zip(stacks, rows)]
        value = dict(zip(row_inputs, saved[nr:]))
        value.update(zip(kept_inputs, kept[nh:nh + nk]))
        ct = dict(zip(carried_cts, cts))
        for i, g_i in zip(read_cts, kept[nh + nk:-1]):
            ct[i] = _row_cotangent(g_i, rowbufs[i], rows_out[i].type, value, k, kept[-1])
        args = [*saved[:nr], *kept[:nh], *(value[i] for i in sp.input_residuals),
                *(ct[i] for i in floats)]
        got = dict(zip(floats, _inline(sp.backward, args)))
        return [op("subtract", k, const(1, I32)), *(got[i] for i in carried_cts), *kept,
                *stacks]

    in_types = [i32, *(types[i] for i in carried_cts), *(v.type for v in carried),
                *stack_types]
    bc = trace_graph("while_bwd_cond", in_types, bwd_cond)
    bb = trace_graph("while_bwd_body", in_types, bwd_body)
    start = op("subtract", trips, const(1, I32))
    bwd = bind(while_op, start, *(c for i, c in zip(floats, cts) if i not in rowbufs),
               *carried, *stacks, cond=bc, body=bb)
    got = dict(zip(carried_cts, bwd[1:1 + nf]))
    return tuple(got[i] if need and i in got else None for i, need in enumerate(ctx.needs))


def _row_buffers(body: Graph) -> dict[int, tuple[int, int]]:
    """The loop variables i the body only writes, one row per iteration at a unit-step counter:
    output i is dynamic_update_slice(input i, update, starts) (neither has another use: a read
    of the buffer would add to the row's cotangent), the update spans the buffer but for size
    1 along one axis, whose start is an integer loop variable j that the body increments by 1.
    {i: (j, that axis)}.

    The vjp of such a write reads the cotangent's row (a dynamic_slice) and zeroes it (a
    dynamic_update_slice): a row written once is never read again, so the reverse sweep can
    skip the zeroing and read the cotangent given to the loop as is (_row_cotangent), with no
    per-step update, hence no per-step copy, of a [T, ...] value. The body's vjp is then
    split with the row as its output: its backward takes the row's cotangent, sliced once
    per step, and the forward sweep does not write the buffer at all."""
    prod = body.producers()
    uses: dict[Value, int] = {}
    for v in [*(v for o in body.ops for v in o.inputs), *body.outputs]:
        uses[v] = uses.get(v, 0) + 1
    found: dict[int, tuple[int, int]] = {}
    for i, (x, out) in enumerate(zip(body.inputs, body.outputs)):
        o = prod.get(out)
        if o is None or o.name != "dynamic_update_slice" or o.inputs[0] is not x or \
                uses.get(x) != 1 or uses.get(out) != 1 or not x.type.dtype.is_floating or \
                not x.type.is_static or not o.inputs[1].type.is_static:
            continue
        upd = o.inputs[1].type.shape
        axes = [a for a, (u, d) in enumerate(zip(upd, x.type.shape)) if u != d]
        if len(axes) != 1 or upd[axes[0]] != 1:
            continue
        start = o.inputs[2 + axes[0]]
        j = next((j for j, v in enumerate(body.inputs) if v is start), None)
        if j is not None and _increments(prod.get(body.outputs[j]), start, prod):
            found[i] = (j, axes[0])
    return found


def _increments(o: Any, x: Value, prod: dict) -> bool:
    """Whether op `o` computes x + 1 (1 a constant)."""
    if o is None or o.name != "add" or x not in o.inputs:
        return False
    c = prod.get(o.inputs[1] if o.inputs[0] is x else o.inputs[0])
    return c is not None and c.name == "constant" and \
        np.array_equal(c.attr_dict["value"].array, 1)


def _row_cotangent(g: Any, where: tuple[int, int], row: TensorType, value: dict, k: Any,
                   trips: Any) -> Any:
    """The cotangent of the row that iteration k wrote into a row buffer (_row_buffers) whose
    cotangent is `g`: g's row at the clamped start (where the write landed), or zeros when a
    later iteration overwrote that row (the clamped start repeats: the counter is below 0 or
    at the last row, and the loop goes on)."""
    from ..autodiff import const

    j, axis = where
    s = value[j]
    starts = [s if a == axis else _i32(0) for a in range(row.rank)]
    got = _op("dynamic_slice", g, *starts, sizes=tuple(row.shape))
    later = _op("compare", _op("add", k, _i32(1)), trips, direction="LT")
    last = g.type.shape[axis] - 1
    clamped = _op("or", _op("compare", s, _i32(0), direction="LT"),
                  _op("compare", s, _i32(last), direction="GE"))
    return _op("select", _op("and", later, clamped), const(0, row.dtype), got)


# ---------------------------------------------------------------- while: gradient, no bound
# NOTE: without a static bound on the trip count T, the per-iteration states cannot be stacked
# into a static shape, and XLA needs static shapes. (Learning T by a first run and retracing
# with a bucketed bound would make the traced program depend on run-time values: the function
# cache would need guards and re-runs of calls that may already have donated or updated
# Variables.) So the reverse sweep recomputes states from checkpoints (Griewank's scheme with a
# fixed number of slots): one forward run counts T; at each of CHECKPOINT_LEVELS levels a range
# of L iterations is cut into at most `slots` segments of ceil(L / slots) iterations, one
# forward run saves their start states in a [slots, ...] buffer, and the segments are reversed
# last to first by the level below; the bottom level recomputes each state from its segment's
# start (quadratic in that segment's length, which is 1 for T <= slots**levels). Shapes stay
# static, nothing retraces, and the gradient is exact (the same body ops are re-run). Cost:
# about (levels + 2) forward runs and one body vjp per iteration, plus T * ceil(T / slots**
# levels) / 2 body runs at the bottom; memory: levels * slots states.
CHECKPOINT_SLOTS = 32
CHECKPOINT_LEVELS = 2
CHECKPOINT_BYTES = 64 << 20  # the slot buffers' budget: fewer slots for large loop states


class _CheckpointedReverse:
    """The reverse sweep of one while loop (cond, body over `types`) by recomputation."""

    def __init__(self, cond: Graph, body: Graph, types: list[TensorType]):
        self.cond, self.body, self.types = cond, body, types
        nbytes = sum(t.num_elements * t.dtype.np_dtype.itemsize for t in types)
        self.slots = max(2, min(CHECKPOINT_SLOTS,
                                CHECKPOINT_BYTES // max(1, CHECKPOINT_LEVELS * nbytes)))

    @staticmethod
    def _loop(name: str, carried: list, cond_fn: Any, body_fn: Any) -> list:
        """bind a while over `carried` (regions build their own constants: they may not use
        values from outside them)."""
        types = [v.type for v in carried]
        return list(bind(while_op, *carried, cond=trace_graph(f"{name}_cond", types, cond_fn),
                         body=trace_graph(f"{name}_body", types, body_fn)))

    def trips(self, state: list) -> Any:
        """The number of iterations the loop makes from `state`."""
        return self._loop("while_count", [_i32(0), *state],
                          lambda k, *s: _inline(self.cond, list(s)),
                          lambda k, *s: [_op("add", k, _i32(1)), *_inline(self.body, list(s))])[0]

    def steps(self, state: list, count: Any) -> list:
        """The state after `count` iterations of the body from `state`."""
        return self._loop("while_recompute", [_i32(0), count, *state],
                          lambda k, m, *s: [_op("compare", k, m, direction="LT")],
                          lambda k, m, *s: [_op("add", k, _i32(1)), m,
                                            *_inline(self.body, list(s))])[2:]

    def reverse(self, start: list, length: Any, cts: list, level: int) -> list:
        """The cotangents at `start`, given those after `length` iterations from it."""
        from ..autodiff import const

        n = len(start)

        def until_negative(k, *rest):
            return [_op("compare", k, _i32(0), direction="GE")]

        if level == 0:  # each state recomputed from the segment's start
            def back_steps(m, *rest):
                cts, seg = list(rest[:n]), list(rest[n:])
                state = self.steps(seg, m)
                return [_op("subtract", m, _i32(1)),
                        *_body_vjp(self.body, state, cts, self.types), *seg]

            return self._loop("while_bwd", [_op("subtract", length, _i32(1)), *cts, *start],
                              until_negative, back_steps)[1:1 + n]
        # stride = max(ceil(length / slots), 1); nseg = ceil(length / stride) <= slots
        stride = _op("maximum", _op("divide", _op("add", length, _i32(self.slots - 1)),
                                    _i32(self.slots)), _i32(1))
        nseg = _op("divide", _op("add", length, _op("subtract", stride, _i32(1))), stride)
        buffers = [_op("broadcast_to", const(0, t.dtype), shape=(self.slots, *t.shape))
                   for t in self.types]

        def seg_len(j, stride, length):  # min(stride, length - j * stride)
            return _op("minimum", stride, _op("subtract", length, _op("multiply", j, stride)))

        def save(j, nseg, stride, length, *rest):
            state, bufs = list(rest[:n]), list(rest[n:])
            bufs = [_put_row(b, x, j) for b, x in zip(bufs, state)]
            state = self.steps(state, seg_len(j, stride, length))
            return [_op("add", j, _i32(1)), nseg, stride, length, *state, *bufs]

        saved = self._loop("while_checkpoint", [_i32(0), nseg, stride, length, *start,
                                                *buffers],
                           lambda j, k, *r: [_op("compare", j, k, direction="LT")],
                           save)[4 + n:]

        def back_segments(j, stride, length, *rest):
            cts, bufs = list(rest[:n]), list(rest[n:])
            seg = [_take_row(b, j, t) for b, t in zip(bufs, self.types)]
            cts = self.reverse(seg, seg_len(j, stride, length), cts, level - 1)
            return [_op("subtract", j, _i32(1)), stride, length, *cts, *bufs]

        return self._loop("while_bwd_segments",
                          [_op("subtract", nseg, _i32(1)), stride, length, *cts, *saved],
                          until_negative, back_segments)[3:3 + n]


def _op(name: str, *args: Any, **attrs: Any) -> Any:
    from ..autodiff import op

    return op(name, *args, **attrs)


def _i32(value: int) -> Any:
    from ..autodiff import const

    return const(value, I32)


def _put_row(buf: Any, x: Any, j: Any) -> Any:
    """buf with buf[j] = x (along axis 0)."""
    t = x.type
    return _op("dynamic_update_slice", buf, _op("reshape", x, shape=(1, *t.shape)), j,
               *[_i32(0)] * t.rank)


def _take_row(buf: Any, j: Any, t: TensorType) -> Any:
    """buf[j] (along axis 0), of type t."""
    row = _op("dynamic_slice", buf, j, *[_i32(0)] * t.rank, sizes=(1, *t.shape))
    return _op("reshape", row, shape=tuple(t.shape))


def _checkpointed_vjp(ctx: Any, g: Any, cond: Graph, body: Graph) -> tuple:
    from ..autodiff import zeros_like

    types = list(ctx.types_in)
    unknown = [str(t) for t in types if not t.is_static]
    if unknown:
        raise _gradient_error(f"while_loop without maximum_iterations over loop variables of "
                              f"unknown shape ({', '.join(unknown)}); give a static "
                              "maximum_iterations or trace with static shapes")
    rev = _CheckpointedReverse(cond, body, types)
    cts = [c if c is not None else zeros_like(t, x) for c, t, x in zip(g, types, ctx.inputs)]
    got = rev.reverse(list(ctx.inputs), rev.trips(list(ctx.inputs)), cts, CHECKPOINT_LEVELS)
    return tuple(c if need else None for c, need in zip(got, ctx.needs))


def _gradient_error(what: str) -> Exception:
    from ..autodiff import GradientError

    return GradientError(f"gradients through {what} are not implemented yet")


while_op = register(OpDef("while", _while_infer, _while_lower, _while_reference,
                          _while_vjp, frozenset({PURE, COMPLEX_VJP}), multiple_results=True))
