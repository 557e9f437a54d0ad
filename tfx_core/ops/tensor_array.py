"""`tx.TensorArray`: a list of same-typed tensors written one index at a time (tf.TensorArray).

Two representations, as TF 2 has:
- Eagerly, a Python list of tensors. `write`, `unstack` and `scatter` change the array in place
  and return it (TF's eager TensorArray does this), so `ta.write(i, x)` and
  `ta = ta.write(i, x)` both work. Out of range, a wrong dtype or shape, and reading an index
  twice with `clear_after_read=True` raise TF's errors (`tx.errors.OutOfRangeError`, which is
  an IndexError; `tx.errors.InvalidArgumentError`; ValueError), naming the index and size.
- Inside `@tx.function`, one buffer tensor `[capacity, *element_shape]` updated with
  `dynamic_update_slice` and read with `dynamic_slice`; each write returns a new TensorArray
  (`ta = ta.write(i, x)`, as TF 2 graphs require). The TensorArray is a pytree (children: the
  buffer and, for `dynamic_size`, a run-time length; aux: dtype, element shape, flags), so
  `tx.while_loop`, AutoGraph loops, `tx.cond` and `tx.foldl` carry it like any tensors, and
  gradients flow through the vjps of the slice, gather and scatter ops.

In a trace:
- The element shape must be known to allocate the buffer: `element_shape=`, the first write
  before the loop, or a write inside a loop body (the loop runs its body once as a throw-away
  probe trace first, as TF's XLA bridge infers TensorList shapes; a probe that fails after
  a write taught it a shape, e.g. a tx.cond writing in one branch, runs again with it: see
  tfx_core/framework/tensor_array_loops.py).
  Otherwise a clear error asks for `element_shape`.
- Under an input_signature with None dims, `size` and element dims may be shape values
  (`size=tx.shape(x)[1]`, rows of shape `[batch, 5]`): the buffer is `f32[?, ?, 5]` in the
  trace and static once specialized (tfx_core/framework/tensor_array_shapes.py). A size that
  depends on tensor values, not shapes, is a clear error; so is a run-time size with
  `dynamic_size=True`.
- `dynamic_size=True`: XLA cannot grow a buffer inside a loop, so the capacity is fixed before
  each loop from its static trip count (`maximum_iterations`, or `for i in tx.range(n)` with a
  constant n): capacity = entry capacity + trips x (writes per iteration, counted in the probe).
  A loop with no static bound that writes the array raises a clear error at trace time. Outside
  loops, writes at constant indices grow the buffer; a write at a run-time index outside such
  a loop is refused. `stack()` returns the whole capacity (rows not written are zeros); `size()`
  is the run-time length (largest written index + 1).
- Run-time indices are not checked (XLA cannot raise): out of range, reads, writes and
  gathers clamp them into range and scatters skip them (XLA's rules; TF's XLA bridge does not
  check either). Constant indices are checked at trace time. `clear_after_read` is not
  checked in a trace (reads never clear there).
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from jax import tree_util

from compiler.interpreters import bind
from compiler.ir.types import I32, DType
from compiler.ops.dynamic_slice import dynamic_slice_op, dynamic_update_slice_op
from runtime.errors import InvalidArgumentError, OutOfRangeError
from tfx_core.framework import tensor_array_shapes as TAS
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor, TensorShape
from tfx_core.framework.tensor_array_loops import (
    LOOPS,
    fully_known,
    loop_carried,
    merge_shapes,
    needs_loop_preparation,
)
from tfx_core.framework.variables import active_trace
from tfx_core.ops.arguments import op_error
from tfx_core.polymorphic_function.tracer import get_static_value

__all__ = ["TensorArray", "loop_carried", "needs_loop_preparation"]

_UIDS = itertools.count()


def _index(index: Any, what: str) -> tuple[int | None, Tensor | None]:
    """(its value if known at trace time, else None; the index as an int32 scalar tensor)."""
    if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
        return int(index), None
    t = convert_to_tensor(index)
    if not t.dtype.is_integer or t.shape.rank != 0:
        raise op_error(what, f"index must be an integer scalar, got {t._type}", TypeError)
    static = get_static_value(t)
    if static is not None:
        return int(static), None
    if t.dtype is not I32:
        from tfx_core.ops.math_ops import cast

        t = cast(t, I32)
    return None, t


def _range_error(what: str, i: int, n: int, writing: bool) -> Exception:
    """TF's OutOfRangeError for index i of an array of n elements (TF 2.21's messages)."""
    if i < 0:
        msg = f"{'Writing to' if writing else 'Reading from'} negative indices (index {i}) is " \
            "not allowed."
    elif writing:
        msg = f"Tried to write to index {i} but array is not resizeable and size is: {n}"
    else:
        msg = f"Tried to read from index {i} but array size is: {n}"
    return op_error(what, msg, OutOfRangeError)


def _zeros(shape: tuple, dtype: DType) -> Tensor:
    """Zeros of `shape`, whose entries are ints or i32 scalars computed from shapes."""
    return TAS.zeros_of(shape, dtype)


class _Rows:
    """A size known only once the graph is specialized (an i32 scalar of the trace); compared
    by identity, as pytree metadata must be."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor):
        self.tensor = tensor


class TensorArray:
    """A list of tensors of one dtype and shape (tf.TensorArray, TF 2 semantics): see the
    module docstring for what differs inside `@tx.function`."""

    def __init__(self, dtype: Any, size: Any = None, dynamic_size: Any = None,
                 clear_after_read: Any = None, tensor_array_name: str | None = None,
                 handle: Any = None, flow: Any = None, infer_shape: bool = True,
                 element_shape: Any = None, colocate_with_first_write_call: bool = True,
                 name: str | None = None):
        if handle is not None or flow is not None:
            raise op_error("TensorArray", "handle= and flow= (TF 1 graph plumbing) are not "
                           "supported; build the array from dtype and size", TypeError)
        self._dtype = DType.from_any(dtype)
        self._dynamic = bool(dynamic_size)
        self._clear = True if clear_after_read is None else bool(clear_after_read)
        self._infer = bool(infer_shape)
        self._shape = None if element_shape is None else \
            tuple(None if d is None else int(d) for d in element_shape)
        if size is None:
            if not self._dynamic:
                raise op_error("TensorArray", "size must be given unless dynamic_size=True")
            size = 0
        n = get_static_value(convert_to_tensor(size))
        self._rows: _Rows | None = None  # the size, when only known after specialization
        if n is None and self._dynamic:
            raise op_error("TensorArray", "with dynamic_size=True, size must be known at trace "
                           "time (a Python int or a constant): XLA buffers cannot grow from a "
                           "size known only at run time; give it a fixed size (tx.shape(x)[0] "
                           "works) or a constant one", TypeError)
        if n is None:
            n = TAS.run_time_size(size, "TensorArray")
            if isinstance(n, Tensor):
                self._rows, n = _Rows(n), 0
        if int(n) < 0:
            raise op_error("TensorArray", f"size must be non-negative, got {int(n)}",
                           InvalidArgumentError)
        self._size = int(n) if self._rows is None else None
        self._uid = next(_UIDS)
        self._traced = active_trace() is not None
        # eagerly: the elements (None: not written, or cleared by a read) and indices read
        self._items: list[Tensor | None] = [None] * (self._size or 0)
        self._read: set[int] = set()
        # in a trace: [capacity, *element_shape] once the element shape is known; the
        # run-time length of a dynamic_size array
        self._buf: Tensor | None = None
        self._length: Tensor | None = None
        if self._traced:
            self._length = convert_to_tensor(self._size) if self._dynamic else None
            if fully_known(self._shape):
                self._buf = _zeros((self._n(), *self._shape), self._dtype)

    # ------------------------------------------------------------ metadata
    @property
    def dtype(self) -> DType:
        return self._dtype

    @property
    def dynamic_size(self) -> bool:
        return self._dynamic

    @property
    def element_shape(self) -> TensorShape | None:
        """The element shape (None dims unknown); None while even the rank is unknown."""
        return None if self._shape is None else TensorShape(self._shape)

    def size(self, name: str | None = None) -> Tensor:
        """The number of elements, as an int32 scalar (a run-time value for dynamic_size in a
        trace)."""
        ta = self._in_trace()
        if ta is None:
            return convert_to_tensor(len(self._items))
        return ta._length if ta._dynamic else convert_to_tensor(ta._n())

    def identity(self) -> TensorArray:
        return self if not self._traced else self._copy()

    def close(self, name: str | None = None) -> None:
        """Nothing to release (buffers are freed with the array)."""

    def __repr__(self) -> str:
        return (f"<tx.TensorArray {self._dtype} element_shape={self.element_shape} "
                f"size={'?' if self._size is None else self._size}"
                f"{' dynamic' if self._dynamic else ''}>")

    def _n(self) -> int | Tensor:
        """The size: an int, or an i32 scalar known once the graph is specialized."""
        return self._size if self._rows is None else self._rows.tensor

    # ------------------------------------------------------------ modes
    def _in_trace(self) -> TensorArray | None:
        """The buffered array to use inside a trace (an eager array converted, as a copy), or
        None eagerly (a buffered array returned by a tx.function becomes a list first)."""
        if active_trace() is None:
            if self._traced:
                self._to_list()
            return None
        return self if self._traced else self._copy()._to_buffer()

    def _copy(self, **changes: Any) -> TensorArray:
        new = object.__new__(TensorArray)
        new.__dict__.update(self.__dict__)
        new._items, new._read = list(self._items), set(self._read)
        new.__dict__.update(changes)
        return new

    def _to_buffer(self) -> TensorArray:
        """An eager (list) array used inside a trace: its elements stacked into a buffer."""
        self._traced = True
        n = len(self._items)
        self._length = convert_to_tensor(n) if self._dynamic else None
        self._size = n if not self._dynamic else self._size
        if fully_known(self._shape):
            rows = [t if t is not None else _zeros(self._shape, self._dtype) for t in self._items]
            from tfx_core.ops.array_ops import stack

            self._buf = stack(rows) if rows else _zeros((0, *self._shape), self._dtype)
        elif any(t is not None for t in self._items):
            raise self._shape_error("TensorArray", "used inside a trace")
        return self

    def _to_list(self) -> None:
        """A buffered array (returned by a tx.function) used eagerly: its rows as a list."""
        self._traced = False
        n = self._size if not self._dynamic else int(self._length.numpy())
        if n is None and self._buf is None:
            raise op_error("TensorArray", "this TensorArray left a tx.function with a size "
                           "computed from shapes and no element written, so its size is not "
                           "known here; return ta.size() (or ta.stack()) instead", ValueError)
        if n is None:  # a size computed from shapes: the buffer has it
            n = self._buf.shape[0]
        self._rows = None
        if self._buf is None:
            self._items = [None] * n
        else:
            self._items = [self._buf[i] for i in range(n)]
        self._buf, self._length, self._size = None, None, n

    def _shape_error(self, what: str, why: str) -> Exception:
        return op_error(what, f"the element shape of this TensorArray is not known ({why}); "
                        "pass element_shape= (e.g. tx.TensorArray(tx.float32, size=n, "
                        "element_shape=[d])) or write an element before it is needed",
                        ValueError)

    def _capacity(self) -> int | None:
        """The rows of the buffer (None: known once the graph is specialized)."""
        return self._buf.shape[0] if self._buf is not None else self._size

    def _value(self, value: Any, what: str) -> Tensor:
        """`value` as a tensor of this dtype with a shape compatible with the elements'."""
        if not isinstance(value, Tensor):
            try:
                value = convert_to_tensor(value, dtype=self._dtype)
            except (TypeError, ValueError):
                value = convert_to_tensor(value)
        if value.dtype is not self._dtype:
            raise op_error(what, f"TensorArray dtype is {self._dtype} but Op is trying to write "
                           f"dtype {value.dtype}", InvalidArgumentError)
        return value

    def _merge_shape(self, shape: tuple, what: str) -> None:
        merged = merge_shapes(self._shape, shape)
        if merged is None:
            if not self._infer and not self._traced:
                return  # TF: elements of different shapes are fine without infer_shape
            raise op_error(what, f"Incompatible shape for value ({list(shape)}), expected "
                           f"({list(self._shape)})", ValueError)
        if self._infer or self._traced:  # a buffer has one element shape
            self._shape = merged

    # ------------------------------------------------------------ eager (list) operations
    def _check_eager_index(self, i: int, what: str, writing: bool) -> None:
        if i < 0 or (i >= len(self._items) and not (writing and self._dynamic)):
            raise _range_error(what, i, len(self._items), writing)

    def _eager_write(self, i: int, v: Tensor, what: str) -> None:
        self._check_eager_index(i, what, True)
        self._merge_shape(tuple(v.shape), what)
        if i >= len(self._items):
            self._items.extend([None] * (i + 1 - len(self._items)))
        self._items[i] = v
        self._read.discard(i)

    def _eager_element(self, i: int, what: str, reading: bool = False) -> Tensor:
        """Element i; not written or cleared: zeros (TF eager), but `read`ing a cleared one
        twice raises."""
        t = self._items[i]
        if t is None:
            if reading and i in self._read:
                raise op_error(what, f"Could not read index {i} twice because it was cleared "
                               "after a previous read (perhaps try setting "
                               "clear_after_read = false?)", InvalidArgumentError)
            if not fully_known(self._shape):
                raise self._shape_error(what, f"index {i} was never written")
            t = _zeros(self._shape, self._dtype)
        return t

    def _eager_rows(self, what: str) -> list[Tensor]:
        return [t if t is not None else self._eager_element(i, what)
                for i, t in enumerate(self._items)]

    def _empty(self) -> Tensor:
        return _zeros((0, *(self._shape if fully_known(self._shape) else ())), self._dtype)

    # ------------------------------------------------------------ traced (buffer) operations
    def _allocated(self, shape: tuple, what: str, v: Tensor | None = None,
                   axis: int = 0) -> TensorArray:
        """A copy whose element shape includes `shape` and whose buffer exists; dims unknown at
        trace time are read from the shape of `v` (the value written), from `axis` on."""
        ta = self._copy()
        ta._merge_shape(shape, what)
        if LOOPS.mode.get(ta._uid) == "probe":
            if fully_known(ta._shape):
                LOOPS.learned[ta._uid] = ta._shape
            elif ta._buf is None and v is not None:
                LOOPS.first.setdefault(ta._uid, (v, axis))
        if ta._buf is None:
            if not fully_known(ta._shape) and v is None:
                raise ta._shape_error(what, f"a value of shape {list(shape)} was written")
            if fully_known(ta._shape):
                ta._buf = _zeros((ta._n(), *ta._shape), ta._dtype)
            else:  # None dims: as v's, read from its shape (known dims as merged)
                dims = TAS.dims_of(v, axis)
                ta._buf = _zeros((ta._n(), *[d if d is not None else x for d, x in
                                             zip(ta._shape, dims)]), ta._dtype)
        return ta

    def _probe_copy(self) -> TensorArray:
        """This array as a loop probe sees it: an empty dynamic_size one gets one row."""
        ta = self._copy()
        if self._dynamic and self._capacity() == 0:
            ta._size = 1
            if ta._buf is not None:
                ta._buf = _zeros((1, *ta._shape), ta._dtype)
        return ta

    def _buffer(self, what: str) -> Tensor:
        if self._buf is not None:
            return self._buf
        if not fully_known(self._shape):
            raise self._shape_error(what, "nothing was written before this point")
        return _zeros((self._n(), *self._shape), self._dtype)

    def _grown(self, capacity: int) -> None:
        """Grow the buffer to `capacity` rows (zeros) in place (constant indices, no loop)."""
        from tfx_core.ops.array_ops import concat

        extra = capacity - self._buf.shape[0]
        if extra > 0:
            self._buf = concat([self._buf, _zeros((extra, *self._shape), self._dtype)], 0)

    def _fit(self, static: int | None, count: int, what: str) -> None:
        """Make room for a write at `static` (a constant index) or for `count` writes at
        run-time indices, or raise the error that says why there is none."""
        cap, mode = self._buf.shape[0], LOOPS.mode.get(self._uid)
        if static is not None:
            if 0 <= static and (cap is None or static < cap):
                return  # (a size known after specialization: XLA clamps, as run-time ones)
            if static < 0 or not self._dynamic:
                raise _range_error(what, static, cap, True)
            if mode == "probe":
                LOOPS.need[self._uid] = max(LOOPS.need.get(self._uid, 0), static + 1)
            elif mode == "ready":
                raise op_error(what, f"index {static} is beyond the capacity {cap} this "
                               "dynamic_size TensorArray got from the enclosing loop's trip "
                               "count", OutOfRangeError)
            else:
                self._grown(static + 1)
            return
        if not self._dynamic or mode == "ready":
            return  # run-time index: XLA clamps it into range (documented)
        if mode == "probe":
            LOOPS.writes[self._uid] = LOOPS.writes.get(self._uid, 0) + count
            return
        raise op_error(what, "a dynamic_size TensorArray is written at a run-time index "
                       "outside a loop with a static trip count, so its size has no bound at "
                       "trace time (XLA buffers cannot grow); write it inside `for i in "
                       "tx.range(n)` with a constant n or tx.while_loop(..., "
                       "maximum_iterations=n), or give it a fixed size", ValueError)

    def _starts(self, i: Any) -> list[Tensor]:
        """Start indices of row i of the buffer (for dynamic_slice / dynamic_update_slice)."""
        return [convert_to_tensor(i)] + [convert_to_tensor(0)] * len(self._shape)

    def _longer(self, end: Tensor | int) -> None:
        if self._dynamic:
            from tfx_core.ops.math_ops import maximum

            self._length = maximum(self._length, convert_to_tensor(end))

    def _check_read(self, static: int | None, what: str) -> None:
        cap = self._capacity()
        if static is not None and (static < 0 or (cap is not None and static >= cap)):
            raise _range_error(what, static, cap if cap is not None else "?", False)

    # ------------------------------------------------------------ public operations
    def write(self, index: Any, value: Any, name: str | None = None) -> TensorArray:
        """Element `index` = value; returns the array (eagerly: this one, changed in place)."""
        what = "TensorArray.write"
        v = self._value(value, what)
        static, dyn = _index(index, what)
        ta = self._in_trace()
        if ta is None:
            self._eager_write(static, v, what)
            return self
        ta = ta._allocated(tuple(v.shape), what, v)
        ta._fit(static, 1, what)
        i = convert_to_tensor(static) if static is not None else dyn
        from tfx_core.ops.array_ops import expand_dims

        ta._buf = bind(dynamic_update_slice_op, ta._buf, expand_dims(v, 0), *ta._starts(i))
        ta._longer(i + 1)
        return ta

    def read(self, index: Any, name: str | None = None) -> Tensor:
        """Element `index` (zeros of the element shape if it was never written)."""
        what = "TensorArray.read"
        static, dyn = _index(index, what)
        ta = self._in_trace()
        if ta is None:
            self._check_eager_index(static, what, False)
            t = self._eager_element(static, what, reading=True)
            if self._clear:
                self._items[static] = None
                self._read.add(static)
            return t
        ta._check_read(static, what)
        buf = ta._buffer(what)
        i = convert_to_tensor(static) if static is not None else dyn
        if None in buf.shape:
            return TAS.row(buf, i)
        from tfx_core.ops.array_ops import reshape

        row = bind(dynamic_slice_op, buf, *ta._starts(i), sizes=(1, *ta._shape))
        return reshape(row, list(ta._shape))

    def stack(self, name: str | None = None) -> Tensor:
        """All elements stacked along a new axis 0 (in a trace: every row of the buffer)."""
        what = "TensorArray.stack"
        ta = self._in_trace()
        if ta is not None:
            if ta._buf is None and ta._size == 0 and not fully_known(ta._shape):
                return ta._empty()
            return ta._buffer(what)
        rows = self._eager_rows(what)
        if not rows:
            return self._empty()
        from tfx_core.ops.array_ops import stack

        return stack(rows)

    def gather(self, indices: Any, element_shape: Any = None,
               name: str | None = None) -> Tensor:
        """The elements at `indices`, stacked (tf.TensorArray.gather)."""
        what = "TensorArray.gather"
        idx = convert_to_tensor(indices)
        if not idx.dtype.is_integer or idx.shape.rank != 1:
            raise op_error(what, f"indices must be a 1-D integer tensor, got {idx._type}",
                           TypeError)
        known = get_static_value(idx)
        ta = self._in_trace()
        if ta is None:
            out = []
            for k in np.asarray(known).reshape(-1):
                self._check_eager_index(int(k), what, False)
                out.append(self._eager_element(int(k), what))
            from tfx_core.ops.array_ops import stack

            return stack(out) if out else self._empty()
        if known is not None:
            for k in np.asarray(known).reshape(-1):
                ta._check_read(int(k), what)
        from tfx_core.ops.indexing_ops import gather

        return gather(ta._buffer(what), idx)

    def concat(self, name: str | None = None) -> Tensor:
        """The elements joined along their axis 0 (tf.TensorArray.concat)."""
        what = "TensorArray.concat"
        scalar = op_error(what, "Concat saw a scalar shape; elements must have rank >= 1",
                          InvalidArgumentError)
        ta = self._in_trace()
        if ta is not None:
            if ta._buf is None and ta._size == 0:
                return ta._empty()
            buf = ta._buffer(what)
            if not ta._shape:
                raise scalar
            if None in buf.shape:
                return TAS.joined_rows(buf)
            from tfx_core.ops.array_ops import reshape

            return reshape(buf, [buf.shape[0] * ta._shape[0], *ta._shape[1:]])
        rows = self._eager_rows(what)
        if not rows:
            return self._empty()
        if any(r.shape.rank == 0 for r in rows):
            raise scalar
        from tfx_core.ops.array_ops import concat

        return concat(rows, 0)

    def unstack(self, value: Any, name: str | None = None) -> TensorArray:
        """Element i = value[i] for each row of `value` (tf.TensorArray.unstack)."""
        what = "TensorArray.unstack"
        v = self._value(value, what)
        if v.shape.rank == 0:
            raise op_error(what, f"value must have a leading dimension, got {v._type}")
        n = v.shape[0]  # None: known once the graph is specialized (it must fit the size)
        ta = self._in_trace()
        if n is None and ta is not None and ta._dynamic:
            raise op_error(what, f"a dynamic_size TensorArray cannot grow to the rows of "
                           f"{v._type}, unknown at trace time; give it a fixed size "
                           "(e.g. size=tx.shape(value)[0])", ValueError)
        if ta is None:
            if n > len(self._items) and not self._dynamic:
                raise _range_error(what, n - 1, len(self._items), True)
            from tfx_core.ops.array_ops import unstack

            for i, row in enumerate(unstack(v) if n else []):
                self._eager_write(i, row, what)
            return self
        ta = ta._allocated(tuple(v.shape[1:]), what, v, 1)
        if n:
            ta._fit(n - 1, 0, what)
        if n is not None and n == ta._buf.shape[0]:
            ta._buf = v
        elif n != 0:
            ta._buf = bind(dynamic_update_slice_op, ta._buf, v, *ta._starts(0))
        if n is not None:
            ta._longer(n)
        return ta

    def scatter(self, indices: Any, value: Any, name: str | None = None) -> TensorArray:
        """Element indices[k] = value[k] (tf.TensorArray.scatter)."""
        what = "TensorArray.scatter"
        v = self._value(value, what)
        idx = convert_to_tensor(indices)
        if idx.shape.rank != 1 or not idx.dtype.is_integer or v.shape.rank == 0 \
                or None not in (v.shape[0], idx.shape[0]) and v.shape[0] != idx.shape[0]:
            raise op_error(what, f"indices must be a 1-D integer tensor with one entry per row "
                           f"of value, got indices {idx._type} and value {v._type}")
        known = get_static_value(idx)
        ta = self._in_trace()
        if ta is None:
            for j, k in enumerate(np.asarray(known).reshape(-1)):
                self._eager_write(int(k), v[j], what)
            return self
        ta = ta._allocated(tuple(v.shape[1:]), what, v, 1)
        if known is not None:
            for k in np.asarray(known).reshape(-1):
                ta._fit(int(k), 0, what)
            end: Any = int(np.max(known)) + 1 if known.size else 0
        else:
            ta._fit(None, idx.shape[0], what)
            from tfx_core.ops.reduction_ops import reduce_max

            end = reduce_max(idx) + 1
        from tfx_core.ops.array_ops import expand_dims
        from tfx_core.ops.indexing_ops import tensor_scatter_nd_update

        ta._buf = tensor_scatter_nd_update(ta._buf, expand_dims(idx, 1), v)
        if idx.shape[0]:
            ta._longer(end)
        return ta


# ---------------------------------------------------------------- pytree
def _flatten(ta: TensorArray) -> tuple[tuple, tuple]:
    meta = (ta._dtype, ta._shape, ta._dynamic, ta._clear, ta._infer, ta._uid, ta._traced,
            ta._rows)
    if ta._traced:
        return (ta._buf, ta._length), (*meta, ta._size)
    return tuple(ta._items), (*meta, frozenset(ta._read))


def _unflatten(aux: tuple, children: tuple) -> TensorArray:
    ta = object.__new__(TensorArray)
    (ta._dtype, ta._shape, ta._dynamic, ta._clear, ta._infer, ta._uid, ta._traced, ta._rows,
     last) = aux
    if ta._traced:
        ta._buf, ta._length = children
        ta._size, ta._items, ta._read = last, [], set()
    else:
        ta._items, ta._read = list(children), set(last)
        ta._size, ta._buf, ta._length = len(children), None, None
    return ta


tree_util.register_pytree_node(TensorArray, _flatten, _unflatten)
