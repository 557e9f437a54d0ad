"""A graph's vjp as two graphs: a forward that also returns residuals, and a backward from those
residuals and the output cotangents to the input cotangents (partial evaluation of the joint
forward+vjp graph, as JAX's linearize splits known from unknown work).

The joint graph replays the forward ops and runs their vjp rules (`autodiff.backprop`) on IR
values. Each of its values depends on the primal inputs, on the cotangents, or on neither
(constants). The forward keeps the primal work; the backward keeps the cotangent work and
recomputes the constants it needs; a primal value the backward reads is a residual: an extra
output of the forward and an input of the backward. A loop body's inputs that stay the same at
every step (weights) may be named invariant: residuals computed from them alone are hoisted
into a third graph, run once per loop rather than saved per step.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .autodiff import backprop, replay, zeros_like
from .ir.graph import Graph, GraphBuilder, Op, Value, walk
from .registry import PURE, REGISTRY
from .tracing import trace_graph

# what a value depends on; an op's kind is the largest of its inputs'
_CONST, _INVARIANT, _PRIMAL, _COTANGENT = 0, 1, 2, 3
PACK_MAX_ELEMENTS = 1 << 14  # residuals up to this size are packed together


@dataclass(frozen=True)
class SplitVjp:
    """The two programs of one differentiated call.

    Attributes:
        forward: the graph's inputs -> its outputs, then the residuals.
        backward: (residuals, the graph's inputs listed in `input_residuals`, one cotangent
            per output in `ct_outputs`) -> one cotangent per input in `grad_inputs`.
        num_outputs: how many of `forward`'s outputs are the graph's (the rest are residuals).
        input_residuals: which inputs of the graph the backward reads directly.
        ct_outputs: the outputs that take a cotangent.
        grad_inputs: the inputs that get one.
        hoisted: (the inputs in `invariant_inputs`) -> the residuals computed from them alone;
            the backward takes these after the forward's residuals (None: no invariant inputs).
        invariant_inputs: the inputs named invariant.
    """

    forward: Graph
    backward: Graph
    num_outputs: int
    input_residuals: tuple[int, ...]
    ct_outputs: tuple[int, ...]
    grad_inputs: tuple[int, ...]
    hoisted: Graph | None = None
    invariant_inputs: tuple[int, ...] = ()

    @property
    def num_residuals(self) -> int:
        return len(self.forward.outputs) - self.num_outputs


def impure_ops(g: Graph) -> list[str]:
    """Names of the ops (regions included) without the PURE trait: running them twice, or once
    where the graph ran them once, would be visible."""
    out: list[str] = []
    for o in g.ops:
        if PURE not in o.opdef.traits:
            out.append(o.name)
        for _, a in o.attrs:
            for r in (a if isinstance(a, tuple) else (a,)):
                if isinstance(r, Graph):
                    out.extend(impure_ops(r))
    return out


def joint_vjp(g: Graph, ct_outputs: Sequence[int], grad_inputs: Sequence[int]) -> Graph:
    """(g's inputs, cotangents of outputs `ct_outputs`) -> (g's outputs, cotangents of inputs
    `grad_inputs`); an input no cotangent reaches gets zeros."""
    n = len(g.inputs)
    ct_types = [g.outputs[i].type for i in ct_outputs]

    def fn(*vals: Value) -> list[Value]:
        prim, cts = list(vals[:n]), vals[n:]
        records, outs = replay(g, prim)
        seeds = [(outs[i], c) for i, c in zip(ct_outputs, cts)]
        acc = backprop(records, seeds, [prim[i] for i in grad_inputs])
        grads = [acc.get(id(prim[i])) for i in grad_inputs]
        grads = [c if c is not None else zeros_like(prim[i].type, prim[i])
                 for c, i in zip(grads, grad_inputs)]
        return [*outs, *grads]

    return trace_graph(f"{g.name}_joint", [*g.input_types, *ct_types], fn)


def split_vjp(g: Graph, ct_outputs: Sequence[int], grad_inputs: Sequence[int],
              prepare: Callable[[Graph], Graph] | None = None, pack: bool = True,
              invariant_inputs: Sequence[int] = ()) -> SplitVjp:
    """The forward (with residuals) and backward programs of `g`'s vjp.

    `prepare` rewrites the joint graph first (e.g. constant folding, which turns a
    `broadcast_like` of a static shape into a `broadcast_to`, so the value it was shaped like
    is no residual; CSE, which merges the forward's and the vjp rules' common work).
    `pack` passes the computed residuals as one flat buffer per dtype.
    `invariant_inputs`: residuals computed from these inputs (and constants) alone are not
    returned by the forward but by the `hoisted` graph (a loop body's weights: a transposed
    weight matrix is then computed once per loop, not saved at every step).
    """
    ct_outputs, grad_inputs = tuple(ct_outputs), tuple(grad_inputs)
    invariant_inputs = tuple(invariant_inputs)
    j = joint_vjp(g, ct_outputs, grad_inputs)
    if prepare is not None:
        j = prepare(j)
    n_in, n_out = len(g.inputs), len(g.outputs)
    kind: dict[Value, int] = {v: _PRIMAL for v in j.inputs[:n_in]}
    kind.update((j.inputs[i], _INVARIANT) for i in invariant_inputs)
    kind.update((v, _COTANGENT) for v in j.inputs[n_in:])
    cotangent_ops = []
    for o in j.ops:
        k = max((kind[v] for v in o.inputs), default=_CONST)
        kind.update((v, k) for v in o.outputs)
        if k == _COTANGENT:
            cotangent_ops.append(o)
    grads = j.outputs[n_out:]
    # residuals: primal values the cotangent work (or a result) reads, in first-use order
    seen: set[Value] = set()
    residuals: list[Value] = []
    for v in [*(v for o in cotangent_ops for v in o.inputs), *grads]:
        if kind[v] in (_INVARIANT, _PRIMAL) and v not in seen:
            seen.add(v)
            residuals.append(v)
    pos = {v: i for i, v in enumerate(j.inputs[:n_in])}
    from_inputs = [v for v in residuals if v in pos]
    computed = [v for v in residuals if v not in pos and kind[v] == _PRIMAL]
    hoisted = [v for v in residuals if v not in pos and kind[v] == _INVARIANT]
    forward = _extract(j, f"{g.name}_fwd", list(j.inputs[:n_in]),
                       [*j.outputs[:n_out], *computed])
    backward = _extract(j, f"{g.name}_bwd",
                        [*computed, *hoisted, *from_inputs, *j.inputs[n_in:]], list(grads))
    if pack:
        forward, backward = _pack(forward, backward, n_out, len(computed))
    hoist = _extract(j, f"{g.name}_hoisted", [j.inputs[i] for i in invariant_inputs],
                     hoisted) if invariant_inputs else None
    return SplitVjp(forward, backward, n_out, tuple(pos[v] for v in from_inputs), ct_outputs,
                    grad_inputs, hoist, invariant_inputs)


def _pack(forward: Graph, backward: Graph, n_out: int, n_res: int) -> tuple[Graph, Graph]:
    """Small residuals as one flat buffer per dtype: each output of a program costs a buffer to
    allocate and hand over (microseconds), more than copying small residuals together; large
    ones stay apart (copying them would cost more)."""
    res = forward.outputs[n_out:]
    groups: dict = {}
    for k, v in enumerate(res):
        if (v.type.num_elements or 0) <= PACK_MAX_ELEMENTS:
            groups.setdefault(v.type.dtype, []).append(k)
    groups = {d: ks for d, ks in groups.items() if len(ks) > 1}
    if not groups:
        return forward, backward
    packed_ks = {k for ks in groups.values() for k in ks}
    apart = [k for k in range(n_res) if k not in packed_ks]
    fb = GraphBuilder(forward.name)
    outs = walk(forward, [fb.add_input(t) for t in forward.input_types],
                lambda o, ins: fb.add_op(o.opdef, ins, o.attrs, o.loc,
                                         tuple(v.type for v in o.outputs)))
    packed = []
    for ks in groups.values():
        flat = [fb.add_op(REGISTRY["reshape"], [outs[n_out + k]],
                          {"shape": (res[k].type.num_elements,)})[0] for k in ks]
        packed.append(fb.add_op(REGISTRY["concatenate"], flat, {"axis": 0})[0])
    new_forward = fb.build([*outs[:n_out], *packed, *(outs[n_out + k] for k in apart)])
    bb = GraphBuilder(backward.name)
    bins = [bb.add_input(v.type) for v in packed]
    unpacked: list = [None] * n_res
    for k in apart:
        unpacked[k] = bb.add_input(res[k].type)
    for buf, ks in zip(bins, groups.values()):
        at = 0
        for k in ks:
            t = res[k].type
            n = t.num_elements
            piece = bb.add_op(REGISTRY["slice"], [buf], {"begin": (at,), "end": (at + n,),
                                                         "strides": (1,)})[0]
            unpacked[k] = bb.add_op(REGISTRY["reshape"], [piece], {"shape": t.shape})[0]
            at += n
    rest = [bb.add_input(t) for t in backward.input_types[n_res:]]
    grads = walk(backward, [*unpacked, *rest],
                 lambda o, ins: bb.add_op(o.opdef, ins, o.attrs, o.loc,
                                          tuple(v.type for v in o.outputs)))
    # inputs in the order of the forward's residual outputs, then what the backward took after
    return new_forward, Graph(tuple([*bins, *(unpacked[k] for k in apart), *rest]),
                              tuple(bb.ops), tuple(grads), backward.name)


def pads_to_concatenate(g: Graph) -> Graph:
    """Sums of zero-padded pieces that tile one axis exactly, as one concatenate.

    The vjp of a split (slices of one value) pads each piece's cotangent back to the full
    shape, and backprop adds them up: add(add(pad(a), pad(b)), pad(c)). XLA fuses that into
    one loop evaluating every pad's operand under a bounds check per element (slow, and per
    step in a loop's reverse sweep: an LSTM's four gates); a concatenate copies each piece
    once. Pieces must not overlap and must leave no gap; ops left unused are left for dce.
    """
    prod = g.producers()
    uses: dict[Value, int] = {}
    for v in [*(v for o in g.ops for v in o.inputs), *g.outputs]:
        uses[v] = uses.get(v, 0) + 1

    def leaves(v: Value, root: bool) -> list[Op] | None:
        o = prod.get(v)
        if o is None or (not root and uses[v] != 1):
            return None
        if o.name == "pad":
            return [o]
        if o.name != "add":
            return None
        a, b = leaves(o.inputs[0], False), leaves(o.inputs[1], False)
        return None if a is None or b is None else a + b

    ops, changed = list(g.ops), False
    for k, o in enumerate(ops):
        if o.name != "add" or o.outputs[0].type != o.inputs[0].type or \
                o.outputs[0].type != o.inputs[1].type:
            continue
        pieces = leaves(o.outputs[0], True)
        axis = _tiling_axis(pieces, prod) if pieces else None
        if axis is None:
            continue
        pieces.sort(key=lambda p: p.attr_dict["low"][axis])
        ops[k] = Op(REGISTRY["concatenate"], tuple(p.inputs[0] for p in pieces),
                    (("axis", axis),), o.outputs, o.loc)
        changed = True
    return Graph(g.inputs, tuple(ops), g.outputs, g.name) if changed else g


def _tiling_axis(pads: list[Op], prod: dict) -> int | None:
    """The axis along which these zero pads' operands tile their common shape, or None."""
    shape = pads[0].outputs[0].type.shape
    if None in shape:
        return None
    axes = set()
    for p in pads:
        at = p.attr_dict
        c = prod.get(p.inputs[1])
        if p.outputs[0].type.shape != shape or any(at["interior"]) or c is None or \
                c.name != "constant" or np.any(c.attr_dict["value"].array) or \
                min(*at["low"], *at["high"]) < 0:
            return None
        axes.update(a for a in range(len(shape)) if at["low"][a] or at["high"][a])
    if len(axes) != 1:
        return None
    axis = axes.pop()
    spans = sorted((p.attr_dict["low"][axis], p.inputs[0].type.shape[axis]) for p in pads)
    at = 0
    for low, size in spans:
        if low != at:
            return None
        at += size
    return axis if at == shape[axis] else None


def recompute_vjp(g: Graph, ct_outputs: Sequence[int], grad_inputs: Sequence[int]) -> SplitVjp:
    """The simpler pair: the forward is `g` itself and the backward recomputes it from every
    input (no residuals). Kept to measure against `split_vjp`."""
    ct_outputs, grad_inputs = tuple(ct_outputs), tuple(grad_inputs)
    j = joint_vjp(g, ct_outputs, grad_inputs)
    n_out = len(g.outputs)
    backward = _extract(j, f"{g.name}_bwd", list(j.inputs), list(j.outputs[n_out:]))
    return SplitVjp(g, backward, n_out, tuple(range(len(g.inputs))), ct_outputs, grad_inputs)


def _extract(j: Graph, name: str, inputs: list[Value], outputs: list[Value]) -> Graph:
    """The ops of `j` that compute `outputs` from `inputs` (values in `inputs` are taken as
    given even when `j` computes them), copied into a new graph."""
    given = set(inputs)
    needed = set(outputs) - given
    ops: list[Op] = []
    for o in reversed(j.ops):
        if any(v in needed for v in o.outputs):
            ops.append(o)
            needed.update(v for v in o.inputs if v not in given)
    b = GraphBuilder(name)
    env = {v: b.add_input(v.type) for v in inputs}
    for o in reversed(ops):
        outs = b.add_op(o.opdef, [env[v] for v in o.inputs], o.attrs, o.loc,
                        tuple(v.type for v in o.outputs))
        env.update(zip(o.outputs, outs))
    return b.build([env[v] for v in outputs])
