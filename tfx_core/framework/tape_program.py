"""An eager tape's backward pass as ONE compiled program, cached by the tape's structure.

Op by op, the backward of an eager tape compiles every vjp op once (tens of XLA compiles, ~25 ms
each, in a fresh process). Here the recorded ops' vjp rules are traced into one graph instead,
over the tape's tensors as inputs, compiled once and run in one call. Programs are cached by a
structural key of the tape (ops, attrs, input types, connectivity), cheap to build every step;
the compile goes through the eager executor, so the persistent cache serves it across processes.
Anything unusual (an outer tape or trace that must see the gradient ops, a stand-in op such as a
custom_gradient or a compiled call, meshes, check_numerics, impure gradient ops, a rule that
fails to trace) takes today's op-by-op path, which also raises the errors users should see.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from compiler import autodiff
from compiler.autodiff import Record
from compiler.graph_vjp import impure_ops
from compiler.interpreters import is_recording, is_tracing
from compiler.ir.graph import Graph
from compiler.registry import OpDef
from compiler.tracing import trace_graph
from tfx_core.framework.eager import EAGER
from tfx_core.framework.sharded_execution import ACTIVE as MESHES
from tfx_core.framework.tensor import Tensor

# tests switch it off to compare with the op-by-op path
ENABLED = {"on": True}
# process-wide: backward passes run as one program, programs compiled, tapes that fell back
COUNTS = {"runs": 0, "compiles": 0, "fallbacks": 0}
_FALLBACK = ("fallback",)  # a cache entry: this structure runs op by op


class _Unusual(Exception):
    """The tape holds something the compiled path does not take."""


def backprop(records: Sequence[Record], seeds: Sequence[tuple[Any, Any]],
             sources: Sequence[Any]) -> dict[int, Any]:
    """`autodiff.backprop`'s result for an eager tape, from one compiled program when it can."""
    acc = _compiled(records, seeds, sources) if ENABLED["on"] else None
    if acc is None:
        if records and not is_tracing():
            COUNTS["fallbacks"] += 1
        return autodiff.backprop(records, seeds, sources)
    return acc


def _compiled(records: Sequence[Record], seeds: Sequence[tuple[Any, Any]],
              sources: Sequence[Any]) -> dict[int, Any] | None:
    # an outer tape must record the gradient ops (higher order); a trace must hold them
    if not records or is_tracing() or is_recording() or MESHES["on"] \
            or EAGER.output_check is not None:
        return None
    try:
        key, values, srcs = _structure(records, seeds, sources)
        entry = EAGER.cache.get(key)
    except (_Unusual, TypeError):  # TypeError: unhashable attrs (rare): run op by op
        return None
    if entry is None:
        entry = _build(key, records, seeds, srcs, values)
    if entry is _FALLBACK:
        return None
    exe, used, out_pos, out_types = entry
    COUNTS["runs"] += 1
    if not out_pos:
        return {}
    bufs = exe([values[i]._buf for i in used])
    return {id(srcs[p]): Tensor(b, t) for b, t, p in zip(bufs, out_types, out_pos)}


def _structure(records: Sequence[Record], seeds: Sequence[tuple[Any, Any]],
               sources: Sequence[Any]) -> tuple[tuple, list, list]:
    """(the key, the tape's tensors in slot order, the distinct sources). A slot is where a
    tensor enters: a record's output, or an outside tensor (its type joins the key)."""
    slot: dict[int, int] = {}
    values: list = []
    parts: list = ["tape"]

    def ref(v: Any) -> int:
        s = slot.get(id(v))
        if s is None:
            if type(v) is not Tensor or v._buf is None:
                raise _Unusual
            s = slot[id(v)] = len(values)
            values.append(v)
            parts.append(v._type)
        return s

    for r in records:
        opdef = r.opdef
        if type(opdef) is not OpDef:  # custom_gradient, compiled calls: their vjp runs code
            raise _Unusual
        attrs = r.attrs
        parts.append((opdef, tuple(sorted(attrs.items())) if attrs else (),
                      tuple([ref(v) for v in r.inputs])))
        for o in r.outputs:
            if type(o) is not Tensor:
                raise _Unusual
            slot[id(o)] = len(values)
            values.append(o)
    for t, s in seeds:
        parts.append((ref(t), ref(s)))
    srcs: list = []
    seen: set[int] = set()
    for s in sources:
        if id(s) not in seen:
            seen.add(id(s))
            srcs.append(s)
            parts.append(slot.get(id(s), -1))
    return tuple(parts), values, srcs


def _build(key: tuple, records: Sequence[Record], seeds: Sequence[tuple[Any, Any]],
           srcs: list, values: list) -> tuple:
    """Trace, compile and cache the backward program of this structure (or mark it to run op
    by op)."""
    out_pos: list[int] = []

    def backward(*ins: Any) -> list:
        env = {id(v): x for v, x in zip(values, ins)}
        recs = [Record(r.opdef, tuple(env[id(v)] for v in r.inputs), r.attrs,
                       tuple(env[id(o)] for o in r.outputs)) for r in records]
        # a source no record touches stands for nothing in the graph: any fresh object
        ids = [env.get(id(s), object()) for s in srcs]
        acc = autodiff.backprop(recs, [(env[id(t)], env[id(s)]) for t, s in seeds], ids)
        outs = []
        for k, x in enumerate(ids):
            if id(x) in acc:
                out_pos.append(k)
                outs.append(acc[id(x)])
        return outs

    try:
        graph = trace_graph("tape_backward", [v._type for v in values], backward)
    except Exception:  # noqa: BLE001 — the op-by-op path raises it with the user's context
        entry: tuple = _FALLBACK
    else:
        entry = _compile(graph, out_pos)
    EAGER.store(key, entry)
    return entry


def _compile(graph: Graph, out_pos: list[int]) -> tuple:
    if impure_ops(graph):  # prints, assertions, random draws: keep their op-by-op behaviour
        return _FALLBACK
    if not out_pos:
        return (None, (), (), ())
    needed = {v for o in graph.ops for v in o.inputs} | set(graph.outputs)
    used = [i for i, v in enumerate(graph.inputs) if v in needed]
    pruned = Graph(tuple(graph.inputs[i] for i in used), graph.ops, graph.outputs, graph.name)
    exe = EAGER.compile_graph(pruned, "tape_backward")
    COUNTS["compiles"] += 1
    return (exe, tuple(used), tuple(out_pos), tuple(v.type for v in graph.outputs))
