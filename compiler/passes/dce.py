"""Dead-code elimination: drop ops whose results nothing uses (all our ops are pure)."""
from __future__ import annotations

from ..ir.graph import Graph
from ..registry import PURE
from .manager import graph_pass, record_change


@graph_pass("dce")
def dce(g: Graph) -> Graph:
    live = set(g.outputs)
    kept = []
    for op in reversed(g.ops):
        if PURE not in op.opdef.traits or any(v in live for v in op.outputs):
            kept.append(op)
            live.update(op.inputs)
        else:
            record_change(f"dropped {op.name}")
    if len(kept) == len(g.ops):
        return g
    return Graph(g.inputs, tuple(reversed(kept)), g.outputs, g.name)
