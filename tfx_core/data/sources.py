"""Where datasets start: tensor slices, whole tensors, Python generators, integer ranges, zips."""
# Each function returns a Stage (structure.py): elements are flat lists of leaves.
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from compiler.ir.types import DType
from runtime.errors import UnknownError, invalid_argument
from tfx_core.data import structure as st
from tfx_core.framework.tensor_spec import TensorSpec
from tfx_core.ops.arguments import op_error

Stage = st.Stage


def from_tensors(value: Any) -> Stage:
    """One element: the whole (nested) value."""
    structure = st.normalize(value)
    leaves = [np.array(a, copy=True) for a in st.flatten(structure)]
    spec = st.pack(structure, [st.spec_of(a) for a in leaves])
    return (lambda: iter([list(leaves)])), spec, 1


def from_tensor_slices(value: Any) -> Stage:
    """One element per index of every component's first dimension."""
    structure = st.normalize(value)
    # a snapshot, as TF copies into a tensor: later changes to the caller's arrays don't leak in
    leaves = [np.array(a, copy=True) for a in st.flatten(structure)]
    if not leaves:
        raise op_error("Dataset.from_tensor_slices", "needs at least one tensor", ValueError)
    for a in leaves:
        if a.ndim == 0:
            raise op_error("Dataset.from_tensor_slices",
                           f"cannot slice a scalar component ({a!r}): every component needs "
                           "rank >= 1", ValueError)
    n = leaves[0].shape[0]
    for i, a in enumerate(leaves):
        if a.shape[0] != n:
            raise op_error("Dataset.from_tensor_slices",
                           f"all components must have the same size in dimension 0: component "
                           f"0 has {n} rows, component {i} has {a.shape[0]} (shapes "
                           f"{[list(x.shape) for x in leaves]})", ValueError)
    spec = st.pack(structure, [st.spec_of(a, a.shape[1:]) for a in leaves])

    def make_iter() -> Iterator[list]:
        for i in range(n):
            yield [a[i] for a in leaves]

    return st.with_rows(make_iter, leaves), spec, n


def _signature(output_types: Any, output_shapes: Any, output_signature: Any) -> Any:
    if output_signature is not None:
        if output_types is not None or output_shapes is not None:
            raise TypeError("Dataset.from_generator: give output_signature, or output_types "
                            "(and output_shapes), not both")
        st.check_spec_structure(output_signature, "Dataset.from_generator output_signature")
        return output_signature
    if output_types is None:
        raise TypeError("Dataset.from_generator: output_signature (or output_types) is required")
    if output_shapes is None:
        raise ValueError("Dataset.from_generator: output_shapes are required with output_types "
                         "(unknown ranks are not supported); or give output_signature")

    def build(types: Any, shapes: Any) -> Any:
        if isinstance(types, Mapping):
            return {k: build(types[k], shapes[k]) for k in types}
        if isinstance(types, tuple):
            return type(types)(*[build(t, s) for t, s in zip(types, shapes)]) \
                if st.is_namedtuple(types) else tuple(build(t, s) for t, s in zip(types, shapes))
        return TensorSpec(shapes, types)

    return build(output_types, output_shapes)


def _bad_element(msg: str) -> Exception:
    # TF reports these as InvalidArgumentError wrapping a TypeError; ours is both classes.
    return invalid_argument(TypeError)(None, None, msg)


def _flatten_up_to(spec: Any, value: Any) -> list:
    """The yielded value's leaves in the signature's structure (TypeError if it differs)."""
    if isinstance(spec, TensorSpec):
        return [value]
    if isinstance(spec, Mapping):
        if not isinstance(value, Mapping) or set(value) != set(spec):
            raise _bad_element(f"`generator` yielded an element that did not match the expected "
                               f"structure. The expected structure was {spec}, but the yielded "
                               f"element was {value!r}.")
        return [x for k in sorted(spec) for x in _flatten_up_to(spec[k], value[k])]
    if not isinstance(value, (tuple, list)) or len(value) != len(spec):
        raise _bad_element(f"`generator` yielded an element that did not match the expected "
                           f"structure. The expected structure was {spec}, but the yielded "
                           f"element was {value!r}.")
    return [x for s, v in zip(spec, value) for x in _flatten_up_to(s, v)]


def _convert(value: Any, spec: TensorSpec) -> np.ndarray:
    # NOTE: TF converts with np.asarray(value, dtype): 1.5 into int32 gives 1, float64 arrays
    # into float32 are cast. Only values numpy cannot convert are refused.
    try:
        a = np.asarray(getattr(value, "numpy", lambda: value)(), dtype=spec.dtype.np_dtype)
    except (TypeError, ValueError, OverflowError):
        raise _bad_element(f"`generator` yielded an element that could not be converted to the "
                           f"expected type. The expected type was {spec.dtype.name}, but the "
                           f"yielded element was {value!r}.") from None
    if not spec.is_compatible_with(st.spec_of(a)):
        raise invalid_argument(TypeError)(
            None, None, f"`generator` yielded an element of shape {tuple(a.shape)} where an "
            f"element of shape {tuple(spec.shape)} was expected.")
    return a


def _generator_error(e: Exception) -> Exception:
    """TF's answer to a generator that raises: UnknownError with "KeyError: 'boom'". The error
    is also an instance of the original class, so `except KeyError` keeps working."""
    message = f"{type(e).__name__}: {e}"
    if isinstance(e, UnknownError):
        return e
    try:
        cls = _MIXED.get(type(e))
        if cls is None:
            cls = _MIXED[type(e)] = type("UnknownError", (UnknownError, type(e)),
                                         {"__module__": UnknownError.__module__})
        return cls(None, None, message)
    except TypeError:  # a class that cannot be mixed in (layout or a required __init__)
        return UnknownError(None, None, message)


_MIXED: dict[type, type] = {}


def from_generator(generator: Callable, output_types: Any = None, output_shapes: Any = None,
                   args: Any = None, output_signature: Any = None) -> Stage:
    """Elements from `generator(*args)`, called anew for each pass, checked against the
    signature. An exception the generator raises reaches the consumer as TF's UnknownError
    ("KeyError: 'boom'") that is also the original exception's class."""
    if not callable(generator):
        raise TypeError("Dataset.from_generator: `generator` must be a callable returning an "
                        f"iterator, got {type(generator).__name__}")
    spec = _signature(output_types, output_shapes, output_signature)
    specs = st.flatten(spec)
    call_args = () if args is None else tuple(st.normalize(a) for a in args)

    def make_iter() -> Iterator[list]:
        values = iter(generator(*call_args))
        while True:
            try:
                value = next(values)
            except StopIteration:
                return
            except Exception as e:  # noqa: BLE001  (any failure of the user's generator)
                raise _generator_error(e) from e
            yield [_convert(v, s) for v, s in zip(_flatten_up_to(spec, value), specs)]

    return make_iter, spec, st.UNKNOWN


def range_(*args: int, dtype: Any = "int64") -> Stage:
    """Dataset.range(stop) / (start, stop[, step]) as int64 scalars (or `dtype`)."""
    if not 1 <= len(args) <= 3:
        raise TypeError(f"Dataset.range takes 1 to 3 positional arguments, got {len(args)}")
    r = range(*(int(a) for a in args))
    dt = DType.from_any(dtype)
    if r.step == 0:
        raise op_error("Dataset.range", "step must not be 0", ValueError)
    np_dt = dt.np_dtype

    def make_iter() -> Iterator[list]:
        for i in r:
            yield [np.asarray(i, np_dt)]

    return make_iter, TensorSpec((), dt), len(r)


def zip_(structure: Any, stages: list[Stage]) -> Stage:
    """Elements of several datasets side by side (nested as `structure`), until one ends."""
    spec = st.pack(structure, [s[1] for s in stages])
    cards = [s[2] for s in stages]
    finite = [c for c in cards if c >= 0]
    card = (st.UNKNOWN if st.UNKNOWN in cards and not (finite and min(finite) == 0)
            else min(finite) if finite else st.INFINITE)

    def make_iter() -> Iterator[list]:
        iters = [s[0]() for s in stages]
        while True:
            out: list = []
            for it in iters:
                try:
                    out.extend(next(it))
                except StopIteration:
                    return
            yield out

    return make_iter, spec, card
