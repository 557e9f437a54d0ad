"""The rule-table rewrite driver: sweep, apply rules per op, repeat to a fixed point.

A rule sees one op (its inputs already rewritten) and the `RewriteCtx`, and returns None (no
change), an existing Value that replaces the op's single output (same type), or new ops whose
last one defines the op's outputs. The driver sweeps the graph until nothing changes, with a cap,
and raises `RewriteDidNotSettle` if rules keep undoing each other.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..ir.graph import Graph, Op, Value, walk
from ..ops.constant import constant_op
from ..registry import REGISTRY
from .dce import drop_dead
from .manager import record_change

MAX_ROUNDS = 8


class RewriteDidNotSettle(RuntimeError):
    """The rules kept rewriting: a rule pair undoes each other."""


class RewriteCtx:
    """What rules can ask about the graph being rewritten."""

    def __init__(self, users: dict[Value, list[Op]], outputs: tuple[Value, ...] = ()) -> None:
        self.producer: dict[Value, Op] = {}
        self._users = users  # users in the sweep's input graph (for single-use checks)
        self._outputs = frozenset(outputs)

    def const(self, v: Value) -> np.ndarray | None:
        op = self.producer.get(v)
        return op.attr_dict["value"].array if op is not None and op.opdef is constant_op else None

    def splat(self, v: Value, value: float, negative_zero: bool | None = None) -> bool:
        """`v` is a constant with every element == value (and, for 0, the given sign)."""
        a = self.const(v)
        if a is None or a.size == 0 or not np.all(a == value):
            return False
        return negative_zero is None or bool(np.all(np.signbit(a) == negative_zero))

    def op(self, v: Value, name: str) -> Op | None:
        op = self.producer.get(v)
        return op if op is not None and op.opdef.name == name else None

    def num_users(self, v: Value) -> int:
        """Ops using v in the sweep's input graph, plus one if v is a graph output."""
        return len(self._users.get(v, ())) + (v in self._outputs)


Rule = Callable[[Op, RewriteCtx], "Value | list[Op] | None"]


def same_type(op: Op, v: Value) -> Value | None:
    """`v` replaces op's result only if the types are identical (no broadcast is lost)."""
    return v if v.type == op.outputs[0].type else None


def new_op(name: str, inputs: tuple, attrs: dict, like: Op, outputs=None) -> Op:
    """A new op at `like`'s source location (outputs inferred unless given)."""
    opdef = REGISTRY[name]
    outs = outputs if outputs is not None else tuple(
        Value(t) for t in opdef.infer_types(tuple(v.type for v in inputs), attrs))
    return Op(opdef, tuple(inputs), tuple(sorted(attrs.items())), outs, like.loc)


def _sweep(g: Graph, rules: Mapping[str, Rule]) -> tuple[Graph, int]:
    ctx = RewriteCtx(g.users(), g.outputs)
    ops: list[Op] = []
    changed = 0

    def apply(op: Op, values: list[Value]) -> tuple[Value, ...]:
        """Rewrite one op (its inputs substituted); the Values standing for its outputs."""
        nonlocal changed
        inputs = tuple(values)
        if inputs != op.inputs:
            op = op.replace(inputs=inputs)
        rule = rules.get(op.opdef.name)
        res = rule(op, ctx) if rule is not None else None
        if res:
            changed += 1
            record_change(f"rewrote {op.opdef.name}")
        if isinstance(res, Value):
            return (res,)
        for o in res or [op]:
            ops.append(o)
            for v in o.outputs:
                ctx.producer[v] = o
        return op.outputs  # a rewrite's last op defines them

    outputs = walk(g, g.inputs, apply)
    return Graph(g.inputs, tuple(ops), tuple(outputs), g.name), changed


def rewrite_to_fixpoint(g: Graph, rules: Mapping[str, Rule], what: str,
                        max_rounds: int = MAX_ROUNDS) -> Graph:
    """Apply `rules` until nothing changes (at most `max_rounds` sweeps); `g` if unchanged.

    Ops left dead by a sweep are dropped before the next, so single-use checks see only live
    users (otherwise a chain of sinking ops would move one op per sweep).
    """
    current = g
    for _ in range(max_rounds):
        current, changed = _sweep(current, rules)
        if not changed:
            return g if current.ops == g.ops and current.outputs == g.outputs else current
        current, _ = drop_dead(current)  # silently: ops the rules replaced
    raise RewriteDidNotSettle(f"{what} did not settle after {max_rounds} rounds")
