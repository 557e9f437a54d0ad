"""User classes in saved configs: `register_keras_serializable`, `custom_object_scope`, lookups.

A saved object is `{"class_name", "config"}` (plus `"registered_name": "package>Name"` when its
class was registered); a plain function is `{"class_name": "function", "config": its name}`.
Loading finds a name only among: the `custom_objects` passed in, the active
`custom_object_scope`s, the registry, and the built-in tx.keras classes of the kind
expected; nothing is imported by name, so a hostile file cannot reach other code.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_REGISTERED: dict[str, Any] = {}  # "package>Name" -> class or function
_NAME_OF: dict[Any, str] = {}  # class or function -> its registered name
_SCOPES: list[dict[str, Any]] = []  # custom_object_scope stack
FUNCTION = "function"  # the class_name of a saved plain function (as Keras 3)


class UnknownObjectError(TypeError, ValueError):
    """A saved class or function name that none of the known places holds (Keras raises a
    TypeError; it is a ValueError too, as a bad config is a bad value)."""


def register_keras_serializable(package: str = "Custom",
                                name: str | None = None) -> Callable[[Any], Any]:
    """Decorator: make a class (with `get_config`) or a function loadable by name
    (keras.saving.register_keras_serializable); it is saved as "package>name"."""
    if ">" in package:
        raise ValueError(f"register_keras_serializable: the package name must not contain "
                         f"'>', got {package!r}")

    def register(obj: Any) -> Any:
        key = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register a class that does not have a get_config() "
                             f"method: {obj.__name__}")
        _REGISTERED[key] = obj
        _NAME_OF[obj] = key
        return obj

    return register


def get_registered_name(obj: Any) -> str:
    """"package>Name" of a registered class or function, else its `__name__`."""
    return _NAME_OF.get(obj) or obj.__name__


def get_registered_object(name: str, custom_objects: dict[str, Any] | None = None,
                          module_objects: dict[str, Any] | None = None) -> Any:
    """The object saved under `name`, or None: custom_objects, then active scopes, then the
    registry, then `module_objects`."""
    for table in (custom_objects or {}, *reversed(_SCOPES), _REGISTERED, module_objects or {}):
        if name in table:
            return table[name]
    return None


@contextmanager
def custom_object_scope(custom_objects: dict[str, Any]) -> Iterator[None]:
    """Within the block, `load_model` and `from_config` also find these names
    (keras.saving.custom_object_scope)."""
    _SCOPES.append(dict(custom_objects))
    try:
        yield
    finally:
        _SCOPES.pop()


def serialize(obj: Any) -> dict[str, Any]:
    """`{"class_name", "config"[, "registered_name"]}` of an object with `get_config`, or
    `{"class_name": "function", "config": name}` of a plain function."""
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        entry: dict[str, Any] = {"class_name": FUNCTION, "config": obj.__name__}
        registered = _NAME_OF.get(obj)
    else:
        entry = {"class_name": type(obj).__name__, "config": obj.get_config()}
        registered = _NAME_OF.get(type(obj))
    if registered is not None:
        entry["registered_name"] = registered
    return entry


def module_table(module: Any, base: type | None = None, functions: bool = False
                 ) -> dict[str, Any]:
    """The public classes (subclasses of `base`) and, with `functions`, the public functions
    of a tx.keras module, by name (its `__all__`: never anything it merely imports)."""
    out = {}
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name, None)
        if inspect.isclass(obj) and (base is None or issubclass(obj, base)):
            out[name] = obj
        elif functions and inspect.isfunction(obj):
            out[name] = obj
    return out


def lookup(entry: Any, builtins: dict[str, Any], what: str,
           custom_objects: dict[str, Any] | None = None) -> Any:
    """The class (or, for a function entry, the function) a serialized entry names.

    Raises:
        ValueError: the entry is not `{"class_name": str, "config": ...}`.
        UnknownObjectError: no known place holds the name.
    """
    if not (isinstance(entry, dict) and isinstance(entry.get("class_name"), str)
            and "config" in entry):
        raise ValueError(f"{what}: expected {{'class_name': ..., 'config': ...}}, got "
                         f"{_short(entry)}")
    is_function = entry["class_name"] == FUNCTION
    name = entry["config"] if is_function else entry["class_name"]
    if not isinstance(name, str):
        raise ValueError(f"{what}: a function entry's config must be its name, got "
                         f"{_short(name)}")
    registered = entry.get("registered_name")
    found = None
    if isinstance(registered, str):
        found = get_registered_object(registered, custom_objects)
    if found is None:
        found = get_registered_object(name, custom_objects, builtins)
    if found is None or is_function == inspect.isclass(found):
        kind = "function" if is_function else "class"
        raise UnknownObjectError(
            f"{what}: could not locate {kind} {name!r} (unknown {what} {kind} {name!r}). Make "
            "sure custom classes are decorated with "
            "`@tx.keras.saving.register_keras_serializable()` or passed in "
            f"custom_objects={{{name!r}: ...}}. Full object config: {_short(entry)}")
    return found


def deserialize(entry: Any, builtins: dict[str, Any], what: str,
                custom_objects: dict[str, Any] | None = None) -> Any:
    """The object of a `serialize` entry: `cls.from_config(config)` (or `cls(**config)`), or
    the function itself."""
    found = lookup(entry, builtins, what, custom_objects)
    if entry["class_name"] == FUNCTION:
        return found
    if not isinstance(entry["config"], dict):
        raise ValueError(f"{what}: {entry['class_name']}: the config must be an object")
    if hasattr(found, "from_config"):
        return found.from_config(dict(entry["config"]))
    return found(**entry["config"])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "..."


__all__ = ["FUNCTION", "UnknownObjectError", "custom_object_scope", "deserialize",
           "get_registered_name", "get_registered_object", "lookup", "module_table",
           "register_keras_serializable", "serialize"]
