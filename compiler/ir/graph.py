"""SSA values, ops and immutable graphs, plus `GraphBuilder` for making new ones."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .types import DType, TensorType

if TYPE_CHECKING:
    from ..registry import OpDef


class Value:
    """One SSA value. Holds only its type; identity equality; the printer assigns names."""

    __slots__ = ("type", "__weakref__")

    def __init__(self, type: TensorType):
        self.type = type

    def __repr__(self) -> str:
        return f"Value({self.type})"


class ConstArray:
    """A numpy array as a hashable, immutable attribute value (for `constant` ops)."""

    __slots__ = ("array", "_hash")

    def __init__(self, array: np.ndarray):
        a = np.array(array, copy=True)
        a.setflags(write=False)
        self.array = a
        self._hash = None

    @property
    def digest(self) -> str:
        h = hashlib.blake2b(digest_size=16)
        h.update(str(self.array.dtype).encode())
        h.update(repr(self.array.shape).encode())
        h.update(np.ascontiguousarray(self.array).tobytes())
        return h.hexdigest()

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.digest)
        return self._hash

    def __eq__(self, other: object) -> bool:
        # NOTE: bit-exact, so 0.0 != -0.0 (merging them would change results) and NaN == NaN;
        # this also keeps equality consistent with the digest-based hash.
        return isinstance(other, ConstArray) and (self is other or self.digest == other.digest)

    def __repr__(self) -> str:
        return f"ConstArray({self.array!r})"


Attrs = tuple  # tuple[tuple[str, Any], ...] sorted by key


def freeze_attr(v: Any) -> Any:
    """Make an attribute value hashable: lists become tuples, arrays become ConstArray."""
    if isinstance(v, (list, tuple)):
        return tuple(freeze_attr(x) for x in v)
    if isinstance(v, np.ndarray):
        return ConstArray(v)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (bool, int, float, str, DType, ConstArray, Graph)) or v is None:
        return v
    raise TypeError(f"unsupported attribute value {v!r} of type {type(v).__name__}")


def freeze_attrs(attrs: Mapping[str, Any]) -> Attrs:
    return tuple(sorted((k, freeze_attr(v)) for k, v in attrs.items()))


@dataclass(frozen=True, eq=False, slots=True)
class Op:
    """One operation: an OpDef applied to input values with attributes, defining outputs."""

    opdef: OpDef
    inputs: tuple[Value, ...]
    attrs: Attrs
    outputs: tuple[Value, ...]
    loc: str | None = None  # the user's "file.py:12"

    @property
    def name(self) -> str:
        return self.opdef.name

    @property
    def attr_dict(self) -> dict[str, Any]:
        return dict(self.attrs)

    def replace(self, **kw) -> Op:
        fields = {
            "opdef": self.opdef,
            "inputs": self.inputs,
            "attrs": self.attrs,
            "outputs": self.outputs,
            "loc": self.loc,
        }
        fields.update(kw)
        return Op(**fields)


# An op bound inside tx.name_scope keeps the scope in its location, "outer/inner @ file.py:12",
# so every pass and specialization carries it with the location, as they already do.
SCOPE_MARK = " @ "


def scoped_loc(scope: str, loc: str | None) -> str:
    """The location of an op bound in name scope `scope` ("outer/inner")."""
    return f"{scope}{SCOPE_MARK}{loc or '?'}"


def loc_scope(loc: str | None) -> str | None:
    """The name scope kept in a location by `scoped_loc`, or None."""
    if loc and SCOPE_MARK in loc:
        return loc.split(SCOPE_MARK, 1)[0]
    return None


@dataclass(frozen=True, eq=False)
class Graph:
    """A function body: inputs, ops in topological order, outputs. Never mutated."""

    inputs: tuple[Value, ...]
    ops: tuple[Op, ...]
    outputs: tuple[Value, ...]
    name: str = "main"
    _producers: dict = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def producers(self) -> dict[Value, Op]:
        """Map each op-defined value to its op (computed once, on demand)."""
        if self._producers is None:
            prod = {v: op for op in self.ops for v in op.outputs}
            object.__setattr__(self, "_producers", prod)
        return self._producers

    def users(self) -> dict[Value, list[Op]]:
        u: dict[Value, list[Op]] = {}
        for op in self.ops:
            for v in op.inputs:
                u.setdefault(v, []).append(op)
        return u

    @property
    def input_types(self) -> tuple[TensorType, ...]:
        return tuple(v.type for v in self.inputs)

    @property
    def output_types(self) -> tuple[TensorType, ...]:
        return tuple(v.type for v in self.outputs)

    def op_histogram(self) -> dict[str, int]:
        hist: dict[str, int] = {}
        for op in self.ops:
            hist[op.name] = hist.get(op.name, 0) + 1
        return hist

    def __str__(self) -> str:
        from .printer import print_graph

        return print_graph(self)

    def fingerprint(self) -> str:
        """A stable digest of the printed graph (includes constant values)."""
        from .printer import print_graph

        return hashlib.blake2b(print_graph(self).encode(), digest_size=16).hexdigest()


_T = TypeVar("_T")


def walk(graph: Graph, args: Sequence[_T],
         apply: Callable[[Op, list[_T]], Iterable[_T]]) -> list[_T]:
    """Evaluate a graph's ops in order, with an environment mapping each Value to a `T`.

    The one graph walker (JAX's eval_jaxpr): `args` are the inputs' `T`s; `apply(op, inputs)`
    gets the `T`s of op's inputs and returns one `T` per output. Lowering (T = ir.Value),
    reference evaluation (ndarray), specialization and rewrites (Value), and replaying a region
    under the current interpreter all walk graphs this way.

    Returns:
        The `T`s of the graph's outputs.
    """
    env: dict[Value, _T] = dict(zip(graph.inputs, args))
    for op in graph.ops:
        env.update(zip(op.outputs, apply(op, [env[v] for v in op.inputs])))
    return [env[v] for v in graph.outputs]


class GraphBuilder:
    """Accumulates ops; `build()` returns the immutable Graph."""

    def __init__(self, name: str = "main"):
        self.name = name
        self.inputs: list[Value] = []
        self.ops: list[Op] = []

    def add_input(self, type: TensorType) -> Value:
        v = Value(type)
        self.inputs.append(v)
        return v

    def add_op(
        self,
        opdef: OpDef,
        inputs: Iterable[Value],
        attrs: Attrs | Mapping[str, Any] = (),
        loc: str | None = None,
        out_types: tuple[TensorType, ...] | None = None,
    ) -> tuple[Value, ...]:
        """Append an op; its output types come from `opdef.infer` unless given."""
        inputs = tuple(inputs)
        if isinstance(attrs, Mapping):
            attrs = freeze_attrs(attrs)
        if out_types is None:
            out_types = opdef.infer_types(tuple(v.type for v in inputs), dict(attrs))
        outs = tuple(Value(t) for t in out_types)
        self.ops.append(Op(opdef, inputs, attrs, outs, loc))
        return outs

    def build(self, outputs: Iterable[Value]) -> Graph:
        return Graph(tuple(self.inputs), tuple(self.ops), tuple(outputs), self.name)
