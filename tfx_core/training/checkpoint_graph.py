"""The object graph a checkpoint saves: every Variable named by the attribute path that reaches
it (`model/dense/kernel`), optimizers with their `iterations` and slots, Generators' states.

The walk is breadth first from the checkpoint's named dependencies, so an object reachable
along several paths is saved once, under its shortest path (then the first in sorted order):
TF's object-graph checkpoints name objects the same way. Modules are entered through their
attributes in sorted order (`_tfx*` internals skipped; a `layers` property, as keras models
have, counts as an attribute), lists/tuples by index and dicts by key.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tfx_core.framework.variables import Variable
from tfx_core.ops.random_ops import Generator
from tfx_core.training.module import Module
from tfx_core.training.optimizers import Optimizer

SLOT = ".slot"  # a path segment no attribute produces (escaped names never start with one dot)


def escape(name: Any) -> str:
    """One path segment: `.` doubled and `/` written `.S` (TF's escaping), so joined paths
    split back unambiguously and no name collides with the `.slot` marker."""
    return str(name).replace(".", "..").replace("/", ".S")


def slot_key(optimizer_path: str, variable_path: str, slot_name: str) -> str:
    """The key of the optimizer's slot `slot_name` for the variable at `variable_path`."""
    return f"{optimizer_path}/{SLOT}/{variable_path}/{escape(slot_name)}"


@dataclass
class ObjectGraph:
    """What one walk found: variables and optimizers by path (in walk order), the slot
    variables that exist (key -> (optimizer path, variable path, slot name, slot variable))."""

    variables: dict[str, Variable] = field(default_factory=dict)
    optimizers: dict[str, Optimizer] = field(default_factory=dict)
    slots: dict[str, tuple[str, str, str, Variable]] = field(default_factory=dict)

    def keys(self) -> list[str]:
        """Every value this graph would save, in save order."""
        return [*self.variables, *self.slots]


def is_trackable(obj: Any) -> bool:
    """Whether a checkpoint can hold `obj` (directly, or as a list/tuple/dict of such)."""
    if isinstance(obj, (list, tuple)):
        return all(is_trackable(x) for x in obj)
    if isinstance(obj, Mapping):
        return all(is_trackable(x) for x in obj.values())
    return isinstance(obj, (Variable, Module, Optimizer, Generator)) or \
        hasattr(obj, "checkpoint_dependencies")


def walk(dependencies: Mapping[str, Any]) -> ObjectGraph:
    """The object graph below `dependencies` (name -> trackable object)."""
    graph = ObjectGraph()
    seen: set[int] = set()
    queue: deque[tuple[str, Any]] = deque(
        (escape(name), obj) for name, obj in sorted(dependencies.items()))
    while queue:
        path, obj = queue.popleft()
        if isinstance(obj, (list, tuple)) or isinstance(obj, Mapping):
            if id(obj) in seen:  # a container reached twice (or containing itself)
                continue
            seen.add(id(obj))
            items = obj.items() if isinstance(obj, Mapping) else enumerate(obj)
            queue.extend((f"{path}/{escape(k)}", v) for k, v in _sorted_items(items))
            continue
        if id(obj) in seen:
            continue
        if isinstance(obj, Variable):
            seen.add(id(obj))
            graph.variables[path] = obj
        elif isinstance(obj, Optimizer):
            seen.add(id(obj))
            graph.optimizers[path] = obj
            queue.append((f"{path}/iterations", obj.iterations))
        elif isinstance(obj, Generator):
            seen.add(id(obj))
            queue.append((f"{path}/state", obj.state))
        elif isinstance(obj, Module):
            seen.add(id(obj))
            attrs = {k: v for k, v in vars(obj).items() if not k.startswith("_tfx")}
            if "layers" not in attrs and isinstance(getattr(type(obj), "layers", None),
                                                    property):
                attrs["layers"] = obj.layers  # keras containers keep their layers internally
            queue.extend((f"{path}/{escape(k)}", v) for k, v in sorted(attrs.items()))
        elif hasattr(obj, "checkpoint_dependencies"):  # a nested tx.train.Checkpoint
            seen.add(id(obj))
            deps = obj.checkpoint_dependencies
            queue.extend((f"{path}/{escape(k)}", v) for k, v in sorted(deps.items()))
        # anything else (numbers, tensors, callables, ...) holds no checkpointed state
    for opt_path, opt in graph.optimizers.items():
        for var_path, var in graph.variables.items():
            for name in opt.slot_names():
                try:
                    slot = opt.get_slot(var, name)
                except KeyError:  # not created yet (no step applied to `var`)
                    continue
                graph.slots[slot_key(opt_path, var_path, name)] = (opt_path, var_path, name,
                                                                   slot)
    return graph


def _sorted_items(items: Any) -> list[tuple[Any, Any]]:
    items = list(items)
    try:
        return sorted(items, key=lambda kv: kv[0])
    except TypeError:  # keys of mixed types: an order that does not depend on hashing
        return sorted(items, key=lambda kv: (type(kv[0]).__name__, repr(kv[0])))


__all__ = ["SLOT", "ObjectGraph", "escape", "is_trackable", "slot_key", "walk"]
