"""Fusion: group ops into regions (nested graphs) that XLA receives intact, visible in the IR.

Regions grow from a root, visited from the end of the graph, by absorbing producers whose every
user is already in the region (XLA's producer-into-consumer rule, without duplication), so a
region always has one exit (the root) and stays convex. Three kinds:

- `elementwise`: a chain/tree of elementwise ops (with casts and broadcasts);
- `reduction`: a reduction with the elementwise ops that feed it;
- `matmul`: an elementwise region that reaches a dot_general (matmul + bias + activation).

Small constants used by a region are copied into its body (they fold into XLA's fusion
anyway); a region needs at least two non-constant ops. Each region becomes one `fusion` op
whose `body` attribute is the region as a closed graph (see compiler/ops/fusion.py).
"""
from __future__ import annotations

from ..ir.graph import Graph, Op, Value
from ..ops.constant import constant_op
from ..ops.fusion import fusion_op
from ..registry import ELEMENTWISE, ELEMENTWISE_LIKE, REDUCTION
from .manager import graph_pass, record_change

MAX_COPIED_CONSTANT = 16  # elements: constants up to this size are copied into every region


def _elementwise(op: Op) -> bool:
    return not op.opdef.multiple_results and (
        ELEMENTWISE in op.opdef.traits or ELEMENTWISE_LIKE in op.opdef.traits)


def _root_kind(op: Op) -> str | None:
    if _elementwise(op):
        return "elementwise"
    if REDUCTION in op.opdef.traits and not op.opdef.multiple_results:
        return "reduction"
    return None


class _Region:
    """The members of one region while it grows from its root."""

    def __init__(self, root: Op, kind: str):
        self.root = root
        self.kind = kind
        self.members: set[Op] = {root}

    def can_absorb(self, op: Op) -> bool:
        if op.opdef is constant_op or _elementwise(op):
            return True
        # matmul + bias + activation: one dot_general, under an elementwise root
        return op.opdef.name == "dot_general" and self.kind == "elementwise"


def _grow(root: Op, kind: str, producer: dict[Value, Op], users: dict[Value, list[Op]],
          taken: set[Op], outputs: set[Value]) -> _Region:
    region = _Region(root, kind)
    pending = [producer[v] for v in root.inputs if v in producer]
    changed = True
    while changed:  # a producer shared by two members joins once both are in
        changed = False
        for cand in list(pending):
            if cand in region.members or cand in taken or not region.can_absorb(cand):
                continue
            if any(v in outputs for v in cand.outputs):
                continue
            if not all(u in region.members for v in cand.outputs for u in users.get(v, ())):
                continue
            region.members.add(cand)
            changed = True
            if cand.opdef.name == "dot_general":
                region.kind = "matmul"  # its operands stay outside the region
            else:
                pending.extend(producer[v] for v in cand.inputs if v in producer)
    return region


def _small_constant(op: Op | None) -> bool:
    return op is not None and op.opdef is constant_op and \
        op.attr_dict["value"].array.size <= MAX_COPIED_CONSTANT


def _build(region: _Region, order: dict[Op, int], producer: dict[Value, Op],
           name: str) -> Op:
    """The fusion op for a region: operands are the values it uses from outside."""
    members = sorted(region.members, key=order.__getitem__)
    env: dict[Value, Value] = {}
    operands: list[Value] = []
    body_inputs: list[Value] = []
    copied: list[Op] = []
    for m in members:
        for v in m.inputs:
            if v in env:
                continue
            src = producer.get(v)
            if src is not None and src in region.members:
                continue
            if _small_constant(src):
                copied.append(Op(constant_op, (), src.attrs, (Value(v.type),), src.loc))
                env[v] = copied[-1].outputs[0]
            else:
                operands.append(v)
                body_inputs.append(Value(v.type))
                env[v] = body_inputs[-1]
    body_ops = list(copied)
    for m in members:
        outs = tuple(Value(v.type) for v in m.outputs)
        env.update(zip(m.outputs, outs))
        body_ops.append(m.replace(inputs=tuple(env[v] for v in m.inputs), outputs=outs))
    body = Graph(tuple(body_inputs), tuple(body_ops),
                 tuple(env[v] for v in region.root.outputs), name)
    return Op(fusion_op, tuple(operands), (("body", body),), region.root.outputs, region.root.loc)


@graph_pass("fusion")
def fusion(g: Graph) -> Graph:
    """Replace each fusible region of two or more ops with a `fusion` op holding it."""
    producer = g.producers()
    users = g.users()
    outputs = set(g.outputs)
    order = {op: i for i, op in enumerate(g.ops)}
    taken: set[Op] = set()
    regions: list[_Region] = []
    for op in reversed(g.ops):
        kind = _root_kind(op)
        if op in taken or kind is None:
            continue
        region = _grow(op, kind, producer, users, taken, outputs)
        if sum(m.opdef is not constant_op for m in region.members) < 2:
            continue
        taken |= region.members
        regions.append(region)
    if not regions:
        return g
    fused: dict[Op, Op] = {}
    for k, region in enumerate(reversed(regions)):  # numbered in program order
        fused[region.root] = _build(region, order, producer, f"{region.kind}_{k}")
        record_change(f"fused {region.kind}", sum(m.opdef is not constant_op
                                                  for m in region.members))
    ops = [fused.get(op, op) for op in g.ops if op not in taken or op in fused]
    # constants copied into every region that used them may now have no users left
    used = set(g.outputs).union(*(op.inputs for op in ops))
    ops = [op for op in ops if op.opdef is not constant_op or op.outputs[0] in used]
    return Graph(g.inputs, tuple(ops), g.outputs, g.name)
