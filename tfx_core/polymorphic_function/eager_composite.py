"""Composite ops run eagerly as ONE program: traced once per signature into a `fusion` op.

A public op written as several primitive ops (softmax cross-entropy: 15 of them) costs, run
eagerly, one XLA compile per primitive on first use (~10-30 ms each on XLA:CPU: most of a fresh
notebook's first training step) and one dispatch per primitive on every call. Marked with
`@composite`, its body is traced once per (input types, static arguments) into a closed graph
and run as a single `fusion` op: one compile, one dispatch, one tape record (the fusion's vjp
replays the body). Under a trace (tx.function) the body is simply inlined, as before.

The body must be a pure function of its tensor arguments (validated eager tensors) and
hashable static keyword arguments; a body that reads anything else (a captured tensor, a
Variable) falls back to running op by op.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from compiler.interpreters import bind, is_tracing, outside_traces
from compiler.ir.graph import Graph
from compiler.ops.fusion import fusion_op
from tfx_core.framework.sharded_execution import ACTIVE as MESHES
from tfx_core.framework.tensor import Tensor
from tfx_core.polymorphic_function.tracer import TraceInterpreter, trace_callable

MAX_BODIES = 1024  # distinct (composite, types, statics) traced bodies kept
_BODIES: dict[tuple, Graph | None] = {}


def composite(name: str) -> Callable[[Callable], Callable]:
    """Decorate `body(*tensors, **static) -> Tensor` to run eagerly as one fused program."""
    def decorate(body: Callable) -> Callable:
        @functools.wraps(body)
        def run(*tensors: Tensor, **static: Any) -> Tensor:
            if is_tracing() or MESHES["on"] or not all(
                    type(t) is Tensor and t._buf is not None for t in tensors):
                return body(*tensors, **static)
            try:
                key = (body, *[t._type for t in tensors], *sorted(static.items()))
                graph = _BODIES.get(key, False)
            except TypeError:  # an unhashable static argument
                return body(*tensors, **static)
            if graph is False:
                graph = _trace(name, body, tensors, static)
                if len(_BODIES) >= MAX_BODIES:
                    _BODIES.clear()
                _BODIES[key] = graph
            if graph is None:
                return body(*tensors, **static)
            return bind(fusion_op, *tensors, body=graph)[0]

        return run

    return decorate


def _trace(name: str, body: Callable, tensors: tuple, static: dict) -> Graph | None:
    """The closed one-output graph of `body`, or None when it can't be one: it read a tensor
    or Variable from outside (captured, or baked in as a constant: the cache key would not
    see it change), or returned something else than one tensor."""
    tracer = TraceInterpreter(name)
    ins = [tracer.new_input(t._type) for t in tensors]
    with outside_traces(traces=False):  # a tape around the call must not see the tracing
        values, tree = trace_callable(tracer, body, ins, static, _one_tensor)
    if tracer.trace.captures or tracer.baked or tracer.variable_updates() \
            or tree.num_leaves != 1:
        return None
    return tracer.trace.builder.build(values)


def _one_tensor(x: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"a composite op's body must return one tensor, got {type(x).__name__}")
    return x
