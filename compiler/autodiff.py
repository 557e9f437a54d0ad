"""Reverse-mode autodiff over recorded ops: the backprop driver and the helpers vjp rules use.

A vjp rule is `vjp(ctx: GradCtx, g, **attrs) -> tuple` with one cotangent (or None: no
gradient) per input. Rules only `bind` ops, so the same rule runs eagerly (gradient ops execute
now) or inside a trace (gradient ops join the graph and compile with the forward pass). Helpers
bind ops by registry name, so op modules can import this module without import cycles.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .interpreters import bind, is_tracing
from .ir.graph import ConstArray, Graph, Op, walk
from .ir.types import TensorType
from .registry import NOT_DIFFERENTIABLE, REGISTRY


@dataclass(frozen=True)
class GradCtx:
    """What a vjp rule sees: the primal inputs/outputs (interpreter values) and their types.

    `needs[i]` is False when nobody asked for input i's gradient; rules may skip computing it.
    """

    inputs: tuple
    outputs: tuple
    types_in: tuple[TensorType, ...]
    types_out: tuple[TensorType, ...]
    needs: tuple[bool, ...]


@dataclass
class Record:
    """One recorded application: something with `.vjp`/`.name`/`.multiple_results`, its inputs,
    attributes and outputs (outputs always a tuple). An opdef whose `takes_missing_cotangents`
    is true gets None for outputs no cotangent reached (instead of zeros made for it)."""

    opdef: Any
    inputs: tuple
    attrs: dict
    outputs: tuple


class GradientError(TypeError):
    """An op on the path from target to sources has no gradient rule."""


def type_of(v: Any) -> TensorType:
    return v.type


def is_float(t: TensorType) -> bool:
    """Gradients flow through floating and complex values."""
    return t.dtype.is_inexact


# Trait of an op whose vjp already follows TF's complex convention (real, imag, conj, abs, ...,
# and ops whose vjp backprops through a body: case, while, fusion).
# Other ops' rules are written for real values; on complex ones they are holomorphic, and
# TF's gradient is g * conj(f'(z)): the rule applied to conj(g), conjugated (see backprop).
COMPLEX_VJP = "complex_vjp"


def _conj(v: Any) -> Any:
    return op("conj", v) if v is not None and type_of(v).dtype.is_complex else v


# ---------------------------------------------------------------- helpers for vjp rules
def op(name: str, *args: Any, **attrs: Any) -> Any:
    return bind(REGISTRY[name], *args, **attrs)


_CONSTS: dict[tuple, Any] = {}  # eager scalar constants (immutable buffers, safe to share)


def const(value: float, dtype: Any) -> Any:
    """A scalar constant of `dtype` (binary ops broadcast it)."""
    a = np.asarray(value, dtype=dtype.np_dtype)
    if is_tracing():
        return op("constant", value=ConstArray(a))
    key = (dtype, a.tobytes())
    c = _CONSTS.get(key)
    if c is None:
        if len(_CONSTS) > 1024:
            _CONSTS.clear()
        c = _CONSTS[key] = op("constant", value=ConstArray(a))
    return c


def add(a, b):
    return op("add", a, b)


def sub(a, b):
    return op("subtract", a, b)


def mul(a, b):
    return op("multiply", a, b)


def div(a, b):
    return op("divide", a, b)


def neg(a):
    return op("negate", a)


def select(p, a, b):
    return op("select", p, a, b)


def compare(a, b, direction: str):
    return op("compare", a, b, direction=direction)


def zeros_like(t: TensorType, like: Any) -> Any:
    """Zeros of type `t`, shaped like the value `like` (works with unknown dims)."""
    return op("broadcast_like", const(0, t.dtype), like)


def ones_like(t: TensorType, like: Any) -> Any:
    return op("broadcast_like", const(1, t.dtype), like)


def sum_to(g: Any, gt: TensorType, target: TensorType) -> Any:
    """Sum a cotangent of broadcast type `gt` down to `target` (undo numpy broadcasting)."""
    if gt.shape == target.shape:
        return g
    lead = gt.rank - target.rank
    axes = list(range(lead))
    for i, d in enumerate(target.shape):
        if d == 1 and gt.shape[lead + i] != 1:
            axes.append(lead + i)
    if axes:
        g = op("reduce_sum", g, axes=tuple(axes), keepdims=True)
    if lead:
        g = op("squeeze", g, axes=tuple(range(lead)))
    return g


def reshape_to(g: Any, target: TensorType) -> Any:
    """Reshape `g` to `target`'s shape; one unknown dim becomes -1."""
    unknown = [i for i, d in enumerate(target.shape) if d is None]
    if len(unknown) > 1:
        raise GradientError(
            f"gradient of a reshape to {target} needs at most one unknown dim; trace with "
            "static shapes")
    shape = tuple(-1 if d is None else d for d in target.shape)
    return op("reshape", g, shape=shape)


def static_dims(t: TensorType, what: str) -> tuple:
    if not t.is_static:
        raise GradientError(f"the gradient of {what} needs static shapes, got {t}")
    return t.shape


def unbroadcast(rule: Callable) -> Callable:
    """Wrap a broadcasting op's vjp: cotangents computed at the output shape are summed back
    to each input's shape."""

    def vjp(ctx: GradCtx, g: Any, **attrs: Any) -> tuple:
        cts = rule(ctx, g, **attrs)
        out = ctx.types_out[0]
        return tuple(None if c is None else sum_to(c, out, t) for c, t in zip(cts, ctx.types_in))

    return vjp


# ---------------------------------------------------------------- the driver
def _relevant(records: Sequence[Record], source_ids: set[int]) -> set[int]:
    """Ids of every value that depends on a source (forward sweep)."""
    live = set(source_ids)
    for r in records:
        if any(id(v) in live for v in r.inputs):
            live.update(id(v) for v in r.outputs)
    return live


def backprop(records: Sequence[Record], seeds: Sequence[tuple[Any, Any]],
             sources: Sequence[Any]) -> dict[int, Any]:
    """Propagate cotangents from `seeds` [(value, cotangent)] back through `records` (in
    recording order) and return {id(value): cotangent} for the values in `sources` reached."""
    live = _relevant(records, {id(s) for s in sources})
    acc: dict[int, Any] = {}
    for v, ct in seeds:
        if id(v) in live:
            acc[id(v)] = ct if id(v) not in acc else add(acc[id(v)], ct)
    for r in reversed(records):
        cts = [acc.get(id(o)) for o in r.outputs]
        if all(c is None for c in cts):
            continue
        rule = r.opdef.vjp
        if rule is NOT_DIFFERENTIABLE:
            continue
        types_in = tuple(type_of(v) for v in r.inputs)
        types_out = tuple(type_of(v) for v in r.outputs)
        needs = tuple(id(v) in live and is_float(t) for v, t in zip(r.inputs, types_in))
        if not any(needs):
            continue
        if getattr(r.opdef, "takes_missing_cotangents", False):
            g = tuple(cts)  # None where no cotangent reached: the rule makes its own zeros
        elif r.opdef.multiple_results:
            g = tuple(c if c is not None else zeros_like(t, o)
                      for c, t, o in zip(cts, types_out, r.outputs))
        else:
            g = cts[0]
        ctx = GradCtx(tuple(r.inputs), tuple(r.outputs), types_in, types_out, needs)
        # (stand-ins without traits, a compiled call or a custom_gradient, already follow it)
        traits = getattr(r.opdef, "traits", None)
        if (traits is not None and COMPLEX_VJP not in traits
                and any(t.dtype.is_complex for t in types_in)):
            g = tuple(_conj(c) for c in g) if isinstance(g, tuple) else _conj(g)
            in_cts = tuple(None if c is None else _conj(c) for c in rule(ctx, g, **r.attrs))
        else:
            in_cts = rule(ctx, g, **r.attrs)
        for v, need, ct in zip(r.inputs, needs, in_cts):
            if ct is None or not need:
                continue
            prev = acc.get(id(v))
            acc[id(v)] = ct if prev is None else add(prev, ct)
    return acc


def replay(graph: Graph, args: Sequence[Any]) -> tuple[list[Record], list[Any]]:
    """Bind a (region) graph's ops on `args` under the current interpreter, recording each
    application: (records for `backprop`, the graph's outputs). How ops holding regions
    (fusion, case, while) differentiate their bodies."""
    records: list[Record] = []

    def apply(o: Op, ins: list) -> tuple:
        attrs = o.attr_dict
        res = bind(o.opdef, *ins, **attrs)
        outs = tuple(res) if o.opdef.multiple_results else (res,)
        records.append(Record(o.opdef, tuple(ins), attrs, outs))
        return outs

    return records, walk(graph, args, apply)
