"""The structures tf.nest's recorded answers are about (shared by the recorder and the tests)."""
from __future__ import annotations

import collections
import dataclasses
from typing import Any

Point = collections.namedtuple("Point", ["y", "x"])


@dataclasses.dataclass
class Pair:
    a: Any
    b: Any


CASES = {
    "scalar": lambda: 3,
    "none": lambda: None,
    "string": lambda: "abc",
    "empty_list": lambda: [],
    "empty_dict": lambda: {},
    "list": lambda: [1, 2, [3, 4]],
    "tuple_with_none": lambda: (1, None, (None, 2)),
    "dict_sorted": lambda: {"b": 1, "a": 2, "c": {"z": 3, "y": 4}},
    "ordered_dict": lambda: collections.OrderedDict([("b", 1), ("a", 2)]),
    "namedtuple": lambda: Point(y=1, x=(2, 3)),
    "dataclass": lambda: [Pair(1, 2), 3],
    "set": lambda: [{1, 2}],
    "mixed": lambda: {"k": [Point(1, None), {"q": (5,)}], "a": ()},
}

PAIRS = {
    "list_vs_tuple": (lambda: [1, 2], lambda: (1, 2)),
    "same_lists": (lambda: [1, [2]], lambda: ["a", ["b"]]),
    "depth_differs": (lambda: [1, [2]], lambda: [1, 2]),
    "length_differs": (lambda: [1, 2], lambda: [1, 2, 3]),
    "dict_keys_differ": (lambda: {"a": 1}, lambda: {"b": 1}),
    "dict_vs_ordered": (lambda: {"a": 1, "b": 2},
                        lambda: collections.OrderedDict([("b", 2), ("a", 1)])),
    "namedtuple_vs_tuple": (lambda: Point(1, 2), lambda: (1, 2)),
    "none_vs_leaf": (lambda: [None], lambda: [1]),
}


def encode(v: Any) -> Any:
    """A leaf list as JSON: leaves are ints, strings, None, or the repr of anything else."""
    if isinstance(v, list):
        return [encode(x) for x in v]
    if v is None or isinstance(v, (int, str)):
        return v
    return {"repr": type(v).__name__}
