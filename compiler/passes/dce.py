"""Dead-code elimination: drop ops whose results nothing uses (all our ops are pure)."""
from __future__ import annotations

from ..ir.graph import Graph, Op
from ..registry import PURE
from .manager import graph_pass, record_change


def drop_dead(g: Graph) -> tuple[Graph, list[Op]]:
    """The graph without the pure ops nothing uses (`g` itself if none), and the dropped ops."""
    live = set(g.outputs)
    kept, dropped = [], []
    for op in reversed(g.ops):
        if PURE not in op.opdef.traits or any(v in live for v in op.outputs):
            kept.append(op)
            live.update(op.inputs)
        else:
            dropped.append(op)
    if not dropped:
        return g, dropped
    return Graph(g.inputs, tuple(reversed(kept)), g.outputs, g.name), dropped


@graph_pass("dce")
def dce(g: Graph) -> Graph:
    out, dropped = drop_dead(g)
    for op in dropped:
        record_change(f"dropped {op.name}")
    return out
