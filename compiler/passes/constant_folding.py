"""Constant folding: pure ops on constants are evaluated with their numpy `reference`."""
from __future__ import annotations

import numpy as np

from ..ir.graph import ConstArray, Graph, Op, Value
from ..ops.constant import MAX_CONSTANT_ELEMENTS, constant_op, shape_of_op
from ..ops.shape import broadcast_like_op, broadcast_to_op
from ..registry import PURE
from .manager import graph_pass, record_change


def _as_constant(op: Op, value: np.ndarray) -> Op:
    """A constant op defining the same output value (users need no rewiring)."""
    return Op(constant_op, (), (("value", ConstArray(value)),), op.outputs, op.loc)


def _fold(op: Op, known: dict[Value, np.ndarray]) -> np.ndarray | None:
    """The op's value if it can and should be computed now, else None."""
    if op.opdef is shape_of_op:  # shape computations: static shapes are constants
        t = op.inputs[0].type
        return np.array(t.shape, np.int32) if t.is_static else None
    if (PURE not in op.opdef.traits or op.opdef.multiple_results or len(op.outputs) != 1
            or not op.inputs or not all(v in known for v in op.inputs)):
        return None  # (a region op may have no results at all)
    out = op.outputs[0].type
    if not out.is_static or out.num_elements > MAX_CONSTANT_ELEMENTS:
        return None
    # Don't expand a small constant into a big one (a broadcast splat stays a splat).
    if out.num_elements > max(16, 2 * sum(known[v].size for v in op.inputs)):
        return None
    try:
        with np.errstate(all="ignore"):
            res = np.asarray(op.opdef.reference(*[known[v] for v in op.inputs], **op.attr_dict))
    except Exception:  # a reference that can't take these values: leave the op to XLA
        return None
    if res.shape != out.shape or res.dtype != out.dtype.np_dtype:
        return None
    return res


def _static_broadcast(op: Op) -> Op | None:
    """broadcast_like(x, like) with `like` of static shape is broadcast_to(x, shape): it no
    longer depends on `like`'s computation (dce may then drop it)."""
    if op.opdef is not broadcast_like_op or not op.outputs[0].type.is_static:
        return None
    out = op.outputs[0].type
    return Op(broadcast_to_op, (op.inputs[0],), (("shape", tuple(out.shape)),), op.outputs,
              op.loc)


@graph_pass("constant_folding")
def constant_folding(g: Graph) -> Graph:
    """Replace ops whose inputs are all constants (and shape_of on static shapes) with their
    values, and shape-reading broadcasts with static ones; unused inputs are left for dce."""
    known: dict[Value, np.ndarray] = {}
    ops, changed = [], False
    for op in g.ops:
        if op.opdef is constant_op:
            known[op.outputs[0]] = op.attr_dict["value"].array
            ops.append(op)
            continue
        rewritten = _static_broadcast(op)
        if rewritten is not None:
            op, changed = rewritten, True
            record_change("static broadcast_like")
        value = _fold(op, known)
        if value is None:
            ops.append(op)
            continue
        known[op.outputs[0]] = value
        ops.append(_as_constant(op, value))
        record_change(f"folded {op.name}")
        changed = True
    return Graph(g.inputs, tuple(ops), g.outputs, g.name) if changed else g
