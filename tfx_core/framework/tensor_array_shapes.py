"""Sizes and element shapes of `tx.TensorArray` buffers unknown at trace time (None dims).

Under an `input_signature` with None dims, a TensorArray's size (`tx.shape(x)[1]`) and element
shape (`[batch, 5]`) are shape values: unknown while tracing, fixed once the graph is
specialized to the call's shapes (compiler/specialize.py). The buffer is allocated with the
dynamic-shape ops (`tx.zeros` of a shape computed from `tx.shape`), so it is `f32[?, ?, 5]` in
the trace and static after specialization; rows are read with `dynamic_slice_dynamic`.

An element shape a loop body's write teaches has its None dims defined inside the loop's probe
region, which the enclosing trace cannot read. `element_like` re-emits the ops that compute the
written value (sliced out of the probe) as a one-branch `case` on the loop's entry values: its
result has the element's shape, so `tx.shape` of it sizes the buffer. Nothing reads its value:
once specialized, its `shape_of` folds to a constant and the `case` is dead code.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.interpreters import bind
from compiler.ir.graph import Graph
from compiler.ir.types import I32, DType
from compiler.ops.constant import shape_of_op
from compiler.ops.control_flow import case_op
from compiler.registry import PURE
from tfx_core.framework.convert import constant_tensor, convert_to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.ops.arguments import op_error
from tfx_core.polymorphic_function.shape_values import DynamicShape, shape_argument

__all__ = ["dims_of", "element_like", "joined_rows", "row", "run_time_size", "zeros_of"]


def run_time_size(size: Any, what: str) -> int | Tensor:
    """A TensorArray size not known at trace time: the int it turns out to be (read through a
    region's capture), or an i32 scalar computed from shapes. A size that depends on tensor
    values is a clear error (XLA needs buffer sizes at compile time)."""
    t = convert_to_tensor(size)
    if not t.dtype.is_integer or t.shape.rank != 0:
        raise op_error(what, f"size must be an integer scalar, got {t._type}", TypeError)
    got = shape_argument([t], what, "size")
    if not isinstance(got, DynamicShape):
        return got[0]
    if t.dtype is not I32:
        from tfx_core.ops.math_ops import cast

        t = cast(t, I32)
    return t


def dims_of(x: Tensor, start: int = 0) -> list[int | Tensor]:
    """x's dims from axis `start` on: ints where known, i32 scalars of `tx.shape(x)` elsewhere."""
    if None not in x.shape[start:]:
        return list(x.shape[start:])
    s = bind(shape_of_op, x)
    return [d if d is not None else s[k] for k, d in enumerate(x.shape) if k >= start]


def zeros_of(dims: list[int | Tensor] | tuple, dtype: DType) -> Tensor:
    """Zeros of a shape whose entries are ints or i32 scalars computed from shapes."""
    from tfx_core.ops.array_ops import zeros

    return zeros(list(dims), dtype)


def row(buf: Tensor, i: Tensor) -> Tensor:
    """buf[i] (i an i32 scalar, clamped into range as XLA does) of a buffer with None dims."""
    from compiler.dynamic_shape import dynamic_slice_dynamic_op
    from tfx_core.ops.array_ops import squeeze

    zero = constant_tensor(np.array(0, np.int32))
    sizes = shape_argument([1, *dims_of(buf, 1)], "TensorArray.read", "sizes")
    starts = [i] + [zero] * (buf.shape.rank - 1)
    if isinstance(sizes, DynamicShape):
        got = bind(dynamic_slice_dynamic_op, buf, *starts, sizes.tensor, known=sizes.known)
    else:
        from compiler.ops.dynamic_slice import dynamic_slice_op

        got = bind(dynamic_slice_op, buf, *starts, sizes=tuple(sizes))
    return squeeze(got, [0])


def joined_rows(buf: Tensor) -> Tensor:
    """The rows of buf [n, m, ...] joined along their axis 0: [n * m, ...] (None dims too)."""
    from tfx_core.ops.array_ops import reshape

    n, m, *rest = dims_of(buf)
    return reshape(buf, [n * m, *rest])


def element_like(v: Tensor, probe: Any, leaves: list, what: str) -> Tensor:
    """A tensor of the enclosing trace shaped like `v`, a value the loop probe `probe` computed
    from its inputs (standing for the state `leaves`) and its captures: the ops computing v,
    re-emitted as a one-branch `case` on the loop's entry values (see the module docstring)."""
    if v._trace is not probe:  # computed outside the probe: its shape is readable as it is
        return v
    builder = probe.trace.builder
    producer = {o: op for op in builder.ops for o in op.outputs}
    need, stack = set(), [v._value]
    while stack:  # the ops v is computed from
        op = producer.get(stack.pop())
        if op is None or id(op) in need:
            continue
        if PURE not in op.opdef.traits:
            raise op_error(what, f"the element shape of this TensorArray has dims unknown at "
                           f"trace time and comes from {op.name}, which is not a function of "
                           "the loop's inputs; pass element_shape= or write an element before "
                           "the loop", ValueError)
        need.add(id(op))
        stack.extend(op.inputs)
    ops = tuple(op for op in builder.ops if id(op) in need)
    graph = Graph(tuple(builder.inputs), ops, (v._value,), "tensor_array_element_shape")
    n = probe.trace.num_explicit_inputs
    operands = [x for x in leaves if isinstance(x, Tensor)][:n]
    operands += [payload for payload, _ in probe.trace.captures]
    for k, (x, t) in enumerate(zip(operands, graph.input_types)):
        if x._type != t or x._trace is probe:
            if not t.is_static:
                raise op_error(what, "the element shape of this TensorArray has dims unknown "
                               "at trace time that the loop could not relate to its inputs; "
                               "pass element_shape= or write an element before the loop",
                               ValueError)
            operands[k] = zeros_of(t.shape, t.dtype)  # only its type matters here
    (out,) = bind(case_op, constant_tensor(np.array(0, np.int32)), *operands, branches=(graph,))
    return out
