"""Call signatures: the cache key of a call, input_signature checks, and describing changes."""
from __future__ import annotations

import dataclasses
import inspect
import sys
from typing import Any

import numpy as np
from jax import tree_util

from compiler.ir.types import DType, TensorType
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.tensor_spec import TensorSpec


def _ndarray_key(x: np.ndarray) -> TensorType:
    return TensorType(DType.from_numpy(x.dtype), x.shape)


# How each leaf type contributes to the cache key (fast path: one dict lookup per leaf).
# Tensors and arrays key by type; Python values by value (as TF: a new value retraces).
LEAF_KEY: dict[type, Any] = {
    Tensor: lambda x: x._type,
    np.ndarray: _ndarray_key,
    float: lambda x: (float, x.hex()),  # hex: nan keys equal, 0.0 and -0.0 differ
    int: lambda x: (int, x),
    bool: lambda x: (bool, x),
    str: lambda x: (str, x),
    type(None): lambda x: None,
}


def leaf_key(x: Any) -> Any:
    """The slow path for leaf types not in LEAF_KEY."""
    if isinstance(x, TensorSpec):
        return x.type
    if isinstance(x, Tensor):
        return x._type
    if isinstance(x, np.ndarray):
        return _ndarray_key(x)
    if isinstance(x, float):
        return (float, x.hex())
    if isinstance(x, np.generic):
        v = x.item()
        return (type(x), v.hex() if isinstance(v, float) else v)
    if getattr(x, "_is_variable", False):
        # A Variable argument is passed by reference, like a captured one: the trace reads
        # (and may assign) this very variable, so calls key on its identity.
        return ("variable", id(x), x._vtype)
    conv = getattr(x, "_as_tensor", None)
    if conv is not None:
        return conv()._type
    if isinstance(x, DType):
        return (DType, x.name)
    try:
        hash(x)
    except TypeError:
        raise TypeError(
            f"cannot use an unhashable {type(x).__name__} as a @tx.function argument: pass "
            "tensors, numbers, hashable values, or nested lists/tuples/dicts of them"
        ) from None
    return (type(x), x)


def is_tensor_leaf(x: Any) -> bool:
    return (isinstance(x, (Tensor, np.ndarray, TensorSpec))
            or (getattr(x, "_as_tensor", None) is not None
                and not getattr(x, "_is_variable", False)))


def flatten_arguments(fname: str, tree: Any) -> tuple[list, Any]:
    """tree_flatten of a call's (args, kwargs); structures nested past Python's recursion limit
    raise a clear ValueError (jaxlib reports them as a bare SystemError)."""
    try:
        return tree_util.tree_flatten(tree)
    except (RecursionError, SystemError) as e:
        if isinstance(e, SystemError) and not isinstance(e.__context__ or e.__cause__,
                                                         (RecursionError, type(None))):
            raise
        raise ValueError(f"{fname}: the arguments are nested too deeply to flatten (Python's "
                         f"recursion limit is {sys.getrecursionlimit()}); pass tensors, or "
                         "flatter lists/tuples/dicts") from None


def flatten(tree: Any, fname: str = "tx.function") -> tuple[list, Any]:
    """tree_flatten that also flattens plain dataclasses (registered on first sight)."""
    leaves, treedef = flatten_arguments(fname, tree)
    if any(dataclasses.is_dataclass(x) and not isinstance(x, type) for x in leaves):
        for x in leaves:
            if dataclasses.is_dataclass(x) and not isinstance(x, type):
                _register_dataclass(type(x))
        return flatten(tree)
    return leaves, treedef


_REGISTERED: set[type] = set()


def _register_dataclass(cls: type) -> None:
    if cls in _REGISTERED:
        return
    names = [f.name for f in dataclasses.fields(cls)]
    tree_util.register_dataclass(cls, data_fields=names, meta_fields=[])
    _REGISTERED.add(cls)


def describe_leaf(x: Any) -> str:
    if is_tensor_leaf(x):
        t = leaf_key(x) if not isinstance(x, np.ndarray) else _ndarray_key(x)
        return f"tensor {t}"
    return f"python {type(x).__name__} {x!r}"


def named_leaves(fn: Any, args: tuple, kwargs: dict) -> dict[str, str]:
    """{'x[0]["a"]': 'tensor f32[8,16]', ...}: each leaf of a call, named by parameter."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs).arguments
    except (TypeError, ValueError):
        bound = {f"arg{i}": a for i, a in enumerate(args)} | dict(kwargs)
    out = {}
    for pname, value in bound.items():
        for path, leaf in tree_util.tree_flatten_with_path(value)[0]:
            out[pname + tree_util.keystr(path)] = describe_leaf(leaf)
    return out


def describe_change(before: dict[str, str], after: dict[str, str]) -> str:
    changes = []
    for k in sorted(set(before) | set(after)):
        a, b = before.get(k), after.get(k)
        if a != b:
            changes.append(f"argument {k}: {a or 'absent'} -> {b or 'absent'}")
    return "; ".join(changes) if changes else "the structure of the arguments changed"


def spec_error(fname: str, where: str, got: Any, spec: TensorSpec) -> str:
    return (f"{fname}: {where} ({describe_leaf(got)}) is incompatible with input_signature "
            f"{spec!r}")


def check_call_matches(cf: Any, leaves: list, tree: Any) -> None:
    """A direct ConcreteFunction call must match its traced structure, static values and types."""
    if tree != cf._in_tree:
        raise TypeError(f"{cf.name}: arguments have structure {tree}, but the concrete function "
                        f"was traced for {cf._in_tree}")
    tset = set(cf._tensor_idx)
    for i, (got, traced) in enumerate(zip(leaves, cf._in_leaves)):
        if i in tset:
            spec = traced
            if not is_tensor_leaf(got):
                raise TypeError(spec_error(cf.name, f"argument leaf {i}", got, spec))
            t = leaf_key(got) if not isinstance(got, np.ndarray) else _ndarray_key(got)
            if not spec.is_compatible_with(t):
                raise TypeError(spec_error(cf.name, f"argument leaf {i}", got, spec))
        elif leaf_key(got) != leaf_key(traced):
            raise TypeError(f"{cf.name}: python argument leaf {i} is {got!r}, but the concrete "
                            f"function was traced with {traced!r}")
