"""Call signatures: the cache key of a call, input_signature checks, and describing changes."""
from __future__ import annotations

import dataclasses
import inspect
import sys
import threading
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
    """How one leaf of a call contributes to its cache key (LEAF_KEY's rule when it has one)."""
    rule = LEAF_KEY.get(type(x))
    if rule is not None:
        return rule(x)
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


def flatten_call(fname: str, tree: Any) -> tuple[list, Any, tuple]:
    """A call's (args, kwargs) as (leaves, treedef, cache key), flattened once.

    The key is `(treedef, *leaf keys)`. Plain dataclasses are registered as pytrees on first
    sight (their fields become leaves), which is the only case that flattens a second time.
    """
    leaves, treedef = flatten_arguments(fname, tree)
    try:  # the common case: every leaf type has a LEAF_KEY rule (a tensor's spelled inline)
        return leaves, treedef, (treedef, *[x._type if type(x) is Tensor else
                                            LEAF_KEY[type(x)](x) for x in leaves])
    except KeyError:
        pass
    while _register_dataclasses(leaves):
        leaves, treedef = flatten_arguments(fname, tree)
    return leaves, treedef, (treedef, *[leaf_key(x) for x in leaves])


def flatten(tree: Any, fname: str = "tx.function") -> tuple[list, Any]:
    """tree_flatten that also flattens plain dataclasses (registered on first sight)."""
    leaves, treedef, _ = flatten_call(fname, tree)
    return leaves, treedef


_REGISTERED: set[type] = set()
_REGISTER_LOCK = threading.Lock()  # two threads meeting a new dataclass register it once


def _register_dataclasses(leaves: list) -> bool:
    """Register the dataclass types among `leaves` as pytrees; True if any was new."""
    new = False
    for x in leaves:
        cls = type(x)
        if cls in _REGISTERED or not dataclasses.is_dataclass(x) or isinstance(x, type):
            continue
        with _REGISTER_LOCK:
            if cls not in _REGISTERED:
                names = [f.name for f in dataclasses.fields(cls)]
                tree_util.register_dataclass(cls, data_fields=names, meta_fields=[])
                _REGISTERED.add(cls)
        new = True
    return new


def tensor_type_of(x: Any) -> TensorType:
    """The TensorType of a tensor leaf of a call (a Tensor, or anything numpy converts)."""
    if isinstance(x, Tensor):
        return x._type
    a = np.asarray(x)
    return TensorType(DType.from_numpy(a.dtype), a.shape)


def relaxed_key(key: tuple) -> tuple:
    """reduce_retracing's key of a call key: tensor leaves by dtype and rank only."""
    return (key[0], *[(k.dtype, k.rank) if isinstance(k, TensorType) else k for k in key[1:]])


def relax(traced: tuple[TensorType, ...], types: list) -> tuple[bool, list]:
    """Whether a call with tensor `types` (None for static leaves) fits a trace for `traced`
    (its None dims accept any size), and the types widened to None where the two differ."""
    it = iter(traced)
    fits, widened = True, []
    for t in types:
        if t is None:
            widened.append(None)
            continue
        p = next(it)
        dims = tuple(a if a == b else None for a, b in zip(p.shape, t.shape))
        fits &= all(a is None or a == b for a, b in zip(p.shape, t.shape))
        widened.append(TensorType(t.dtype, dims))
    return fits, widened


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


def check_call_matches(name: str, leaves: list, tree: Any, traced_tree: Any,
                       traced_leaves: list, tensor_idx: tuple) -> None:
    """A direct ConcreteFunction call must match its traced structure, static values and types.

    Args:
        name: the function's name, for messages.
        leaves, tree: the flattened call.
        traced_tree, traced_leaves, tensor_idx: what it was traced for (TensorSpecs at the
            tensor positions `tensor_idx`, static values elsewhere).
    """
    if tree != traced_tree:
        raise TypeError(f"{name}: arguments have structure {tree}, but the concrete function "
                        f"was traced for {traced_tree}")
    tset = set(tensor_idx)
    for i, (got, traced) in enumerate(zip(leaves, traced_leaves)):
        if i in tset:
            spec = traced
            if not is_tensor_leaf(got):
                raise TypeError(spec_error(name, f"argument leaf {i}", got, spec))
            t = leaf_key(got) if not isinstance(got, np.ndarray) else _ndarray_key(got)
            if not spec.is_compatible_with(t):
                raise TypeError(spec_error(name, f"argument leaf {i}", got, spec))
        elif leaf_key(got) != leaf_key(traced):
            raise TypeError(f"{name}: python argument leaf {i} is {got!r}, but the concrete "
                            f"function was traced with {traced!r}")
