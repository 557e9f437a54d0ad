"""`tx.Module`: tf.Module's variable and submodule tracking through attributes and containers."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tfx_core.framework.variables import Variable

_CAMEL = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")
_IDENTIFIER = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def camel_to_snake(name: str) -> str:
    """`DenseLayer` -> `dense_layer`, `MLP` -> `mlp`, `HTTPServer` -> `http_server` (as TF)."""
    return _CAMEL.sub(r"_\1", name).lower()


class Module:
    """A named container of Variables and other Modules (tf.Module).

    Variables and submodules are found by walking the instance's attributes in sorted name order,
    descending into lists, tuples (namedtuples too) and dicts (sorted keys). Each object is
    reported once (identity), cycles are cut, and attributes starting with `_tfx` are skipped.
    As in TF, a module's own attributes are reported first, then each of its submodules is
    walked in turn (so `a.submodules` lists a's children before its grandchildren).
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = camel_to_snake(type(self).__name__)
        elif not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise ValueError(f"{name!r} is not a valid module name: module names must be valid "
                             "Python identifiers (ASCII letters, digits and _)")
        self._tfx_name = name

    @property
    def name(self) -> str:
        """The module's name (default: the class name in snake_case)."""
        name = getattr(self, "_tfx_name", None)
        return camel_to_snake(type(self).__name__) if name is None else name

    @property
    def variables(self) -> tuple[Variable, ...]:
        """Every Variable of this module and its submodules, each once."""
        return tuple(self._flatten(predicate=_is_variable))

    @property
    def trainable_variables(self) -> tuple[Variable, ...]:
        """The variables with `trainable=True`."""
        return tuple(self._flatten(predicate=lambda v: _is_variable(v) and v.trainable))

    @property
    def non_trainable_variables(self) -> tuple[Variable, ...]:
        """The variables with `trainable=False`."""
        return tuple(self._flatten(predicate=lambda v: _is_variable(v) and not v.trainable))

    @property
    def submodules(self) -> tuple[Module, ...]:
        """Every Module reachable from this one (not including itself), each once."""
        return tuple(self._flatten(predicate=_is_module))

    def _flatten(self, recursive: bool = True,
                 predicate: Callable[[Any], bool] | None = None) -> Iterator[Any]:
        """Objects reachable from this module's attributes for which `predicate` is true."""
        pred = predicate if predicate is not None else (lambda _: True)
        return _walk_module(self, recursive, pred, seen={id(self)})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _is_variable(obj: Any) -> bool:
    return isinstance(obj, Variable)


def _is_module(obj: Any) -> bool:
    return isinstance(obj, Module)


def _walk_module(module: Module, recursive: bool, predicate: Callable[[Any], bool],
                 seen: set[int]) -> Iterator[Any]:
    # NOTE: `seen` is shared by the whole walk: it deduplicates and also cuts module cycles,
    # because a module is entered only when first seen.
    submodules: list[Module] = []
    attrs = vars(module)
    for key in sorted(attrs):
        if key.startswith("_tfx"):
            continue
        for leaf in _leaves(attrs[key], set()):
            if id(leaf) in seen:
                continue
            seen.add(id(leaf))
            if predicate(leaf):
                yield leaf
            if recursive and isinstance(leaf, Module):
                submodules.append(leaf)
    for sub in submodules:
        yield from _walk_module(sub, recursive, predicate, seen)


def _leaves(value: Any, active: set[int]) -> Iterator[Any]:
    """The leaves of nested lists/tuples/dicts, in TF's `nest.flatten` order (dict keys sorted)."""
    if isinstance(value, (list, tuple, Mapping)):
        if id(value) in active:  # a container that contains itself
            return
        active.add(id(value))
        if isinstance(value, Mapping):
            items = [value[k] for k in _sorted_keys(value)]
        else:
            items = list(value)
        for item in items:
            yield from _leaves(item, active)
        active.discard(id(value))
    else:
        yield value


def _sorted_keys(d: Mapping) -> list[Any]:
    try:
        return sorted(d)
    except TypeError:  # keys of mixed types: a stable order that does not depend on hashing
        return sorted(d, key=lambda k: (type(k).__name__, repr(k)))


__all__ = ["Module", "camel_to_snake"]
