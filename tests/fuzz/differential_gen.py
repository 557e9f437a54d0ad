"""`generate(seed)`: a random program of 2-10 op-table calls, valid by construction.

Each candidate call is evaluated with the op's numpy reference while generating: a call the
reference rejects (or one outside the op's declared dtypes, or too large) is not added, so the
programs that reach `run` are valid and skips stay rare.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from compiler.ir.types import DType

from .differential_catalog import MAX_RESULT, MOVES, OPS, Call, FuzzOp
from .differential_known import known_bug
from .differential_program import Input, Node, Program, Ref
from .differential_values import DTYPE_WEIGHTS, MAX_ELEMENTS, dtype, random_array, random_shape


@dataclass
class Val:
    ref: Ref
    value: np.ndarray

    @property
    def dt(self) -> DType:
        return DType.from_numpy(self.value.dtype)

    @property
    def shape(self) -> tuple:
        return self.value.shape

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size


def call_reference(fop: FuzzOp, node: Node, values: list) -> np.ndarray:
    """The op's table reference on the values of `node`'s arguments (numpy warnings off)."""
    args = [values[a.i] if isinstance(a, Ref) else a for a in node.args]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fop.entry.ref(*args, **node.kwargs)
    if node.take is not None:
        out = out[node.take]
    return np.asarray(out)


class Gen:
    """The state the op makers in differential_catalog.py draw from."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.steps: list = []
        self.values: list[np.ndarray] = []

    def coin(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    # ------------------------------------------------------------ values
    def new_input(self, shape: tuple, dt: str, **kw) -> Val:
        a = random_array(self.rng, tuple(shape), dtype(dt), **kw)
        self.steps.append(Input(a))
        self.values.append(a)
        return Val(Ref(len(self.steps) - 1), a)

    def pool(self) -> list[Val]:
        return [Val(Ref(i), v) for i, v in enumerate(self.values)]

    def partner(self, x: Val, dtype: str | None = None, shape: tuple | None = None) -> Val:
        """A value of `dtype` (default x's) with exactly `shape`, or else a shape broadcasting
        with x's: an earlier value when one fits (shared subexpressions), else a new input."""
        dt = dtype or x.dt.name
        fits = [v for v in self.pool() if v.dt.name == dt and v.ref != x.ref and (
            v.shape == shape if shape is not None else _broadcasts(v.shape, x.shape))]
        if fits and self.coin(0.5):
            return self.pick(fits)
        if shape is None:
            shape = self._broadcast_partner_shape(x.shape)
        return self.new_input(shape, dt)

    def _broadcast_partner_shape(self, s: tuple) -> tuple:
        c = self.rng.random()
        if c < 0.45:
            return s
        if c < 0.6:
            return ()
        if c < 0.75:
            return s[int(self.rng.integers(0, len(s) + 1)):]  # a suffix
        if c < 0.9:
            return tuple(1 if self.coin(0.5) else d for d in s)
        lead = (self.pick([1, 2, 3]),)
        size = int(np.prod(lead + s, dtype=np.int64))
        return lead + s if size <= MAX_ELEMENTS else s

    # ------------------------------------------------------------ ops
    def try_add(self, fop: FuzzOp, x: Val) -> bool:
        """Add one call of `fop` on x if its reference accepts it; undo new inputs if not."""
        mark = len(self.steps)
        call: Call | None = fop.make(self, x)
        if call is not None:
            node = Node(fop.name, call.args, call.kwargs, call.take)
            ok = self._accept(fop, node)
            if ok is not None:
                self.steps.append(node)
                self.values.append(ok)
                return True
        del self.steps[mark:], self.values[mark:]
        return False

    def from_bool(self, arg) -> bool:
        """Whether `arg` is a bool tensor cast to a number, maybe moved by shape ops."""
        if not isinstance(arg, Ref) or not isinstance(self.steps[arg.i], Node):
            return False
        node = self.steps[arg.i]
        src = node.args[0] if node.args else None
        if node.op == "cast":
            return isinstance(src, Ref) and (self.values[src.i].dtype == np.bool_
                                             or self.from_bool(src))
        if node.op in MOVES:
            return any(self.from_bool(a) for a in node.args)
        return False

    def _accept(self, fop: FuzzOp, node: Node) -> np.ndarray | None:
        args = [self.values[a.i] if isinstance(a, Ref) else a for a in node.args]
        tensors = [a for a in args if isinstance(a, np.ndarray)]
        primary = tensors[min(fop.tol_arg, len(tensors) - 1)]  # the operand make() was given
        if DType.from_numpy(primary.dtype).name not in fop.dtypes:
            return None
        if fop.valid is not None and not fop.valid(args, node.kwargs):
            return None
        if known_bug(fop.name, args, node.kwargs, _Context(self, node)):
            return None
        try:
            out = call_reference(fop, node, self.values)
        except Exception:
            return None
        if out.dtype == object or out.size > MAX_RESULT or out.ndim > 5:
            return None
        return out


class _Context:
    """What the known-bug predicates may ask about a candidate call's arguments."""

    def __init__(self, gen: Gen, node: Node):
        self.gen, self.node = gen, node

    def from_bool(self, k: int) -> bool:
        return self.gen.from_bool(self.node.args[k])

    def producer(self, k: int) -> Node | None:
        a = self.node.args[k] if k < len(self.node.args) else None
        s = self.gen.steps[a.i] if isinstance(a, Ref) else None
        return s if isinstance(s, Node) else None


def _broadcasts(a: tuple, b: tuple) -> bool:
    try:
        out = np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return int(np.prod(out, dtype=np.int64)) <= MAX_ELEMENTS


def _pick_operand(g: Gen) -> Val:
    """Recent values more often (long chains), any earlier value sometimes (a DAG)."""
    pool = g.pool()
    w = np.array([(3.0 if isinstance(g.steps[v.ref.i], Node) else 1.0) * (1.15 ** k)
                  for k, v in enumerate(pool)])
    return pool[int(g.rng.choice(len(pool), p=w / w.sum()))]


def generate(seed: int) -> Program:
    """A random valid program; the same seed gives the same program."""
    g = Gen(seed)
    names = list(DTYPE_WEIGHTS)
    p = np.array(list(DTYPE_WEIGHTS.values()))
    for _ in range(int(g.rng.integers(1, 3))):
        g.new_input(random_shape(g.rng), str(g.rng.choice(names, p=p / p.sum())))
    n_ops = int(g.rng.integers(2, 11))
    weights = np.array([o.weight for o in OPS])
    added = 0
    for _ in range(n_ops * 30):
        if added == n_ops:
            break
        x = _pick_operand(g)
        ok = [i for i, o in enumerate(OPS) if x.dt.name in o.dtypes]
        w = weights[ok]
        fop = OPS[ok[int(g.rng.choice(len(ok), p=w / w.sum()))]]
        added += g.try_add(fop, x)
    used = {a.i for s in g.steps if isinstance(s, Node) for a in s.args if isinstance(a, Ref)}
    nodes = [i for i, s in enumerate(g.steps) if isinstance(s, Node)]
    outputs = [i for i in nodes if i not in used] or nodes[-1:]
    return Program(g.steps, outputs, seed)
