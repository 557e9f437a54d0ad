"""TF's nested-structure rules (tf.nest): which values are structures, in what order their
leaves come, and how a structure is rebuilt.

jax.tree_util, which tx.function uses for arguments, differs from tf.nest in ways TF code can
see: it treats None as an empty node (tf.nest: a leaf), keeps an OrderedDict's insertion order
(tf.nest: sorted keys) and compares no types. So tx.nest follows TF's table directly: lists,
tuples, namedtuples and Mappings are structures; everything else (None, strings, sets,
dataclasses, arrays, tensors) is a leaf; Mapping leaves come in sorted key order and a rebuilt
Mapping keeps the original's key order. Checked against answers recorded from TF 2.21.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any


def is_nested(seq: Any) -> bool:
    """True for the values tf.nest descends into: lists, tuples (and namedtuples), Mappings."""
    return isinstance(seq, (list, tuple, Mapping))


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _sorted_keys(m: Mapping) -> list:
    try:
        return sorted(m)
    except TypeError:
        raise TypeError(f"nest only supports dicts with sortable keys, got keys {list(m)}") \
            from None


def _items(x: Any) -> list[tuple[Any, Any]]:
    """(path part, child) pairs in tf.nest's order."""
    if isinstance(x, Mapping):
        return [(k, x[k]) for k in _sorted_keys(x)]
    if _is_namedtuple(x):
        return list(zip(type(x)._fields, x))
    return list(enumerate(x))


def _rebuild(x: Any, children: list) -> Any:
    if isinstance(x, Mapping):
        by_key = dict(zip(_sorted_keys(x), children))
        items = [(k, by_key[k]) for k in x]
        if hasattr(x, "default_factory"):  # defaultdict keeps its factory
            return type(x)(x.default_factory, items)
        return type(x)(items)
    if _is_namedtuple(x):
        return type(x)(*children)
    return type(x)(children) if isinstance(x, (list, tuple)) else children


def _walk(x: Any, path: tuple) -> Iterator[tuple[tuple, Any]]:
    if not is_nested(x):
        yield path, x
        return
    for key, child in _items(x):
        yield from _walk(child, (*path, key))


def flatten(structure: Any, expand_composites: bool = False) -> list:
    """The leaves in tf.nest's order (a non-structure is one leaf, None included)."""
    return [leaf for _, leaf in _walk(structure, ())]


def flatten_with_joined_string_paths(structure: Any, separator: str = "/",
                                     expand_composites: bool = False) -> list[tuple[str, Any]]:
    """(path, leaf) pairs; a path joins the keys, field names and indices leading to the leaf."""
    return [(separator.join(str(p) for p in path), leaf) for path, leaf in _walk(structure, ())]


def pack_sequence_as(structure: Any, flat_sequence: Any, expand_composites: bool = False) -> Any:
    """`flat_sequence`'s values in the shape of `structure` (the inverse of flatten)."""
    flat = list(flat_sequence)
    want = len(flatten(structure))
    if len(flat) != want:
        raise ValueError(f"the structure has {want} leaves but flat_sequence has {len(flat)} "
                         f"elements: structure {structure!r}")
    it = iter(flat)

    def build(x: Any) -> Any:
        if not is_nested(x):
            return next(it)
        return _rebuild(x, [build(c) for _, c in _items(x)])

    return build(structure)


def _same_type(a: Any, b: Any) -> bool:
    if type(a) is type(b) or (isinstance(a, Mapping) and isinstance(b, Mapping)):
        return True
    return (_is_namedtuple(a) and _is_namedtuple(b) and type(a).__name__ == type(b).__name__
            and type(a)._fields == type(b)._fields)


def assert_same_structure(nest1: Any, nest2: Any, check_types: bool = True,
                          expand_composites: bool = False) -> None:
    """Raise ValueError if the two differ in nesting or lengths (or, with check_types, in
    Mapping keys), TypeError if check_types and a sequence type differs (list vs tuple)."""
    def fail(cls: type, why: str) -> None:
        raise cls(f"The two structures don't have the same nested structure ({why}).\n\n"
                  f"First structure: {nest1!r}\n\nSecond structure: {nest2!r}")

    def check(a: Any, b: Any) -> None:
        if is_nested(a) != is_nested(b):
            fail(ValueError, f"{a!r} is {'' if is_nested(a) else 'not '}a sequence, while "
                             f"{b!r} is {'' if is_nested(b) else 'not '}")
        if not is_nested(a):
            return
        if len(a) != len(b):
            fail(ValueError, f"lengths {len(a)} and {len(b)} differ")
        if check_types:
            if not _same_type(a, b):
                fail(TypeError, f"type {type(a).__name__} is not {type(b).__name__}")
            if isinstance(a, Mapping) and set(a) != set(b):
                fail(ValueError, f"keys {sorted(map(repr, a))} and {sorted(map(repr, b))} differ")
        for (_, ca), (_, cb) in zip(_items(a), _items(b)):
            check(ca, cb)

    check(nest1, nest2)


def map_structure(func: Callable, *structure: Any, **kwargs: Any) -> Any:
    """`func` applied to the leaves at the same place in every structure, packed as the first."""
    check_types = kwargs.pop("check_types", True)
    kwargs.pop("expand_composites", None)
    if kwargs:
        raise ValueError(f"map_structure: unexpected keyword arguments {sorted(kwargs)}")
    if not structure:
        raise ValueError("map_structure: give at least one structure")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    flats = [flatten(s) for s in structure]
    return pack_sequence_as(structure[0], [func(*leaves) for leaves in zip(*flats)])


__all__ = ["assert_same_structure", "flatten", "flatten_with_joined_string_paths", "is_nested",
           "map_structure", "pack_sequence_as"]
