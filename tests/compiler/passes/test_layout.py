# ruff: noqa: E501
"""The layout pass: text in -> text out goldens (what changes and what must not), and random
transpose-heavy graphs that must give bit-identical results with and without it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import compiler.ops  # noqa: F401  (registers every OpDef)
import runtime
from compiler.ir.graph import ConstArray, Graph, GraphBuilder, Value
from compiler.ir.parser import parse_graph
from compiler.ir.printer import print_graph
from compiler.ir.types import F32, I32, TensorType
from compiler.lowering.options import LoweringOptions
from compiler.lowering.stablehlo import lower_graph
from compiler.passes import PassManager
from compiler.registry import REGISTRY, OpTypeError
from tests.golden import golden_cases

GOLDENS = Path(__file__).parent / "goldens"


def run_layout(text: str) -> str:
    out, _ = PassManager(["layout", "dce"], verify=True).run(parse_graph(text))
    return print_graph(out)


# ---------------------------------------------------------------- goldens: rewritten
# goldens/layout/<case>.in.tfx -> <case>.out.tfx; `pytest --update-goldens` rewrites the .out files
@pytest.mark.parametrize("case", golden_cases(GOLDENS / "layout"))
def test_golden(case, golden):
    golden.check(case.expected, run_layout(case.text()))


# ---------------------------------------------------------------- goldens: left alone
KEPT = [
    # %2's free dims (0, 2) would come out as (2, 0) from %0: the result's layout would change
    pytest.param("""\
func @g(%0: f32[4,3,2], %1: f32[3,5]) -> (f32[2,4,5]) {
  %2: f32[2,3,4] = transpose %0 {perm=(2, 1, 0)}
  %3: f32[2,4,5] = dot_general %2, %1 {lhs_batch=(), lhs_contract=(1,), rhs_batch=(), rhs_contract=(0,)}
  return %3
}""", id="dot-free-dim-order-would-change"),
    # float matrix-vector products: XLA picks another kernel (summation order) for the layout
    pytest.param("""\
func @g(%0: f32[4,3], %1: f32[4]) -> (f32[3]) {
  %2: f32[3,4] = transpose %0 {perm=(1, 0)}
  %3: f32[3] = dot_general %2, %1 {lhs_batch=(), lhs_contract=(1,), rhs_batch=(), rhs_contract=(0,)}
  return %3
}""", id="float-matvec"),
    # a unit batch dim takes XLA down another path for the folded dot: other bits
    pytest.param("""\
func @g(%0: f32[1,17,8], %1: f32[1,2,8]) -> (f32[1,2,17]) {
  %2: f32[1,8,17] = transpose %0 {perm=(0, 2, 1)}
  %3: f32[1,2,17] = dot_general %1, %2 {lhs_batch=(0,), lhs_contract=(2,), rhs_batch=(0,), rhs_contract=(1,)}
  return %3
}""", id="float-dot-with-a-unit-batch-dim"),
    # XLA makes the transposed constant a new constant first, then picks another kernel
    pytest.param("""\
func @g(%0: f32[3,5]) -> (f32[2,5]) {
  %1: f32[3,2] = constant {value=dense<f32[3,2] [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]>}
  %2: f32[2,3] = transpose %1 {perm=(1, 0)}
  %3: f32[2,5] = dot_general %2, %0 {lhs_batch=(), lhs_contract=(1,), rhs_batch=(), rhs_contract=(0,)}
  return %3
}""", id="float-dot-of-a-transposed-constant"),
    # the transpose has another user: moving it past exp would leave two transposes
    pytest.param("""\
func @g(%0: f32[2,3]) -> (f32[3,2], f32[3,2]) {
  %1: f32[3,2] = transpose %0 {perm=(1, 0)}
  %2: f32[3,2] = exp %1
  %3: f32[3,2] = negate %1
  return %2, %3
}""", id="transposed-operand-with-another-user"),
    pytest.param("""\
func @g(%0: f32[2,3]) -> (f32[3,2], f32[3,2]) {
  %1: f32[3,2] = transpose %0 {perm=(1, 0)}
  %2: f32[3,2] = exp %1
  return %1, %2
}""", id="transposed-operand-is-also-returned"),
    pytest.param("""\
func @g(%0: f32[2,3,4], %1: f32[3,2,4]) -> (f32[4,3,2]) {
  %2: f32[4,3,2] = transpose %0 {perm=(2, 1, 0)}
  %3: f32[4,3,2] = transpose %1 {perm=(2, 0, 1)}
  %4: f32[4,3,2] = add %2, %3
  return %4
}""", id="mixed-perms"),
    # %1 broadcasts as [1,2]; it would need an expand_dims and a transpose of its own
    pytest.param("""\
func @g(%0: f32[2,3], %1: f32[2]) -> (f32[3,2]) {
  %2: f32[3,2] = transpose %0 {perm=(1, 0)}
  %3: f32[3,2] = add %2, %1
  return %3
}""", id="non-scalar-lower-rank-operand"),
    # the one transpose after the add would move 12 elements instead of 3
    pytest.param("""\
func @g(%0: f32[1,3]) -> (f32[3,4]) {
  %1: f32[3,1] = transpose %0 {perm=(1, 0)}
  %2: f32[3,4] = constant {value=dense<f32[3,4] [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]>}
  %3: f32[3,4] = add %1, %2
  return %3
}""", id="broadcast-would-make-the-transpose-bigger"),
    # the constant is used elsewhere: its transposed copy would be one op more
    pytest.param("""\
func @g(%0: f32[2,3]) -> (f32[3,2], f32[3,2]) {
  %1: f32[3,2] = transpose %0 {perm=(1, 0)}
  %2: f32[3,2] = constant {value=dense<f32[3,2] [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]>}
  %3: f32[3,2] = add %1, %2
  %4: f32[3,2] = exp %2
  return %3, %4
}""", id="shared-constant-operand"),
    # XLA's CPU float sums add in an order that depends on the operand's layout, even when
    # the transpose moves only a unit dim (%5)
    pytest.param("""\
func @g(%0: f32[2,3,4], %1: f32[8,1]) -> (f32[3,2], f32[1,1]) {
  %2: f32[4,3,2] = transpose %0 {perm=(2, 1, 0)}
  %3: f32[3,2] = reduce_sum %2 {axes=(0,), keepdims=false}
  %4: f32[1,8] = transpose %1 {perm=(1, 0)}
  %5: f32[1,1] = reduce_sum %4 {axes=(1,), keepdims=true}
  return %3, %5
}""", id="float-sum-of-a-transpose"),
    # ... and XLA moves transposes through elementwise ops into a reduction itself: the
    # transpose stays where it is, above the elementwise ops feeding a float sum
    pytest.param("""\
func @g(%0: f32[2,3]) -> (f32[3]) {
  %1: f32[3,2] = transpose %0 {perm=(1, 0)}
  %2: f32[3,2] = exp %1
  %3: f32[3] = reduce_prod %2 {axes=(1,), keepdims=false}
  return %3
}""", id="no-sinking-above-a-float-product"),
    # a transpose after the reduction is needed, and the input transpose stays for %3
    pytest.param("""\
func @g(%0: f32[2,3,4]) -> (f32[3,2], f32[4,3,2]) {
  %1: f32[4,3,2] = transpose %0 {perm=(2, 1, 0)}
  %2: f32[3,2] = reduce_max %1 {axes=(0,), keepdims=false}
  %3: f32[4,3,2] = exp %1
  return %2, %3
}""", id="reduction-of-shared-transpose-needing-a-transpose-after"),
]


@pytest.mark.parametrize("text", KEPT)
def test_not_rewritten(text):
    assert run_layout(text) == text


def test_shared_transpose_still_folds_into_a_dot():
    """Folding adds nothing even when the transpose stays for another user."""
    out = run_layout("""\
func @g(%0: f32[4,3], %1: f32[4,5]) -> (f32[3,5], f32[3,4]) {
  %2: f32[3,4] = transpose %0 {perm=(1, 0)}
  %3: f32[3,5] = dot_general %2, %1 {lhs_batch=(), lhs_contract=(1,), rhs_batch=(), rhs_contract=(0,)}
  return %3, %2
}""")
    assert "dot_general %0, %1" in out and "transpose %0" in out


# ---------------------------------------------------------------- random graphs
# NOTE: XLA's CPU compiler is not IEEE-faithful: it contracts multiply + add into an FMA,
# reassociates constants ((x + c1) - c2 -> x + (c1 - c2)), divides by a constant's reciprocal
# and folds dots with adjacent adds and scalar multiplies, each only where the ops are adjacent
# in its HLO. Moving a transpose changes what is adjacent, so the generator puts a `maximum`
# with a constant (exact, and a barrier to those rewrites) after every add/subtract/multiply
# and dot, and never divides; otherwise results differ in the last bit with and without the
# pass for reasons that are XLA's. (Float sums are the pass's own concern: XLA sums in an
# order that follows the layout, see `layout.py`.) The pipeline run compares to no passes
# too, which holds for these seeds; it is not a law: cse alone changes a float sum's bits
# when merging two equal transposes changes XLA's fusion (seed 1554 of this generator).
N_GRAPHS = 60  # `make fuzz`-style long runs: raise it locally
DOT_DIMS = (1, 2, 3, 5, 8, 17)  # 1 and >1 free sizes: matrix-vector and matrix-matrix products
UNARY = ("exp", "negate", "tanh", "abs", "sin", "floor", "stop_gradient")
ARITH = ("add", "subtract", "multiply")
REDUCE = ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "argmax", "argmin")


class _Gen:
    """Layout-heavy random graphs: every move makes or consumes transposes."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.b = GraphBuilder(f"layout{seed}")
        self.pool: list[Value] = []

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def coin(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def op(self, name: str, inputs, **attrs) -> Value:
        return self.b.add_op(REGISTRY[name], inputs, attrs)[0]

    def const(self, shape) -> Value:
        arr = self.rng.standard_normal(shape).astype(np.float32)
        return self.op("constant", [], value=ConstArray(arr))

    def binary(self, name: str, x: Value, y: Value) -> Value:
        """name(x, y) in either order, behind a barrier if it is arithmetic (see the NOTE)."""
        v = self.op(name, [x, y] if self.coin(0.5) else [y, x])
        return self.op("maximum", [v, self.const(())]) if name in ARITH else v

    def recent(self) -> Value:
        k = min(int(self.rng.geometric(0.4)) - 1, len(self.pool) - 1)
        return self.pool[-1 - k]

    def perm(self, rank: int) -> tuple:
        return tuple(int(p) for p in self.rng.permutation(rank))

    def tr(self, x: Value, perm=None) -> Value:
        return self.op("transpose", [x], perm=perm or self.perm(x.type.rank))

    @staticmethod
    def inv(perm) -> tuple:
        return tuple(int(i) for i in np.argsort(perm))

    def partner(self, v: Value, perm) -> Value:
        """A same-perm transpose of a pool value, a scalar, or a (lower-rank) constant."""
        r = self.rng.random()
        src = [u for u in self.pool if u.type.shape == tuple(v.type.shape[i] for i in
                                                               self.inv(perm))]
        if r < 0.4 and src:
            return self.tr(self.pick(src), perm)
        if r < 0.6:
            return self.const(())
        return self.const(v.type.shape[int(self.rng.integers(v.type.rank + 1)):])

    # moves
    def transpose(self):
        x = self.recent()
        p = self.perm(x.type.rank)
        y = self.tr(x, p)
        if self.coin(0.3):
            y = self.tr(y, self.inv(p) if self.coin(0.6) else None)
        self.pool.append(y)

    def chain(self):
        """transpose -> elementwise ops with scalars, constants, same-perm transposes -> back."""
        x = self.recent()
        p = self.perm(x.type.rank)
        v = self.tr(x, p)
        for _ in range(int(self.rng.integers(1, 4))):
            r = self.rng.random()
            if r < 0.3:
                v = self.op(self.pick(UNARY), [v])
            elif r < 0.4:
                pred = self.op("compare", [v, self.const(())], direction=self.pick(("GT", "LE")))
                v = self.op("select", [pred, v, self.partner(v, p)])
            else:
                v = self.binary(self.pick(ARITH + ("maximum", "minimum")), v, self.partner(v, p))
        self.pool.append(self.tr(v, self.inv(p)) if self.coin(0.7) else v)

    def mixed(self):
        """An elementwise op of a transpose and something else: mostly left alone."""
        x = self.recent()
        t = self.tr(x)
        y = self.pick([u for u in self.pool if u.type == t.type] + [self.tr(x), self.const(())])
        self.pool.append(self.binary(self.pick(ARITH + ("maximum",)), t, y))

    def reduce(self):
        x = self.tr(self.recent())
        name = self.pick(REDUCE)
        if name.startswith("arg"):
            v = self.op(name, [x], axis=int(self.rng.integers(x.type.rank)), output_type=I32)
            self.pool.append(self.op("convert", [v], dtype=F32))
            return
        axes = tuple(i for i in range(x.type.rank) if self.coin(0.5))
        if name == "reduce_prod":  # keep products moderate
            x = self.op("tanh", [x])
        v = self.op(name, [x], axes=axes, keepdims=self.coin(0.4))
        if v.type.rank:
            self.pool.append(v)

    def int_reduce(self):
        x = self.op("convert", [self.op("multiply", [self.recent(), self.const(())])], dtype=I32)
        x = self.tr(x)
        axes = tuple(i for i in range(x.type.rank) if self.coin(0.6))
        v = self.op(self.pick(("reduce_sum", "reduce_max", "reduce_prod")), [x], axes=axes,
                    keepdims=self.coin(0.4))
        if v.type.rank:
            self.pool.append(self.op("convert", [v], dtype=F32))

    def transposed(self, shape: tuple, make) -> Value:
        """make(shape) or, mostly, transpose(make(permuted shape)) of the same shape."""
        if self.coin(0.35):
            return make(shape)
        p = self.perm(len(shape))
        return self.tr(make(tuple(shape[i] for i in self.inv(p))), p)

    def dot(self):
        """A product of transposed inputs or constants: matrix-vector or -matrix, batched, or
        with two lhs free dims (of the same size at times: only their order tells them apart)."""
        m, k, n, bt = (self.pick(DOT_DIMS) for _ in range(4))
        r = self.rng.random()
        if r < 0.4:
            ls, rs, lb, lc = (m, k), (k, n), (), (1,)
        elif r < 0.7:
            ls, rs, lb, lc = (bt, m, k), (bt, k, n), (0,), (2,)
        else:
            ls, rs, lb, lc = (m, m if self.coin(0.5) else bt, k), (k, n), (), (2,)

        def operand(shape):
            return self.b.add_input(TensorType(F32, shape))

        # one operand may be a constant, not both: constant folding computes a dot of constants
        # with numpy (float64 sums), not as XLA does
        make = [operand, self.const if self.coin(0.4) else operand]
        if self.coin(0.5):
            make.reverse()
        lhs, rhs = self.transposed(ls, make[0]), self.transposed(rs, make[1])
        v = self.op("dot_general", [lhs, rhs], lhs_batch=lb, rhs_batch=lb[:1],
                    lhs_contract=lc, rhs_contract=(len(lb),))
        v = self.op("maximum", [v, self.const(())])
        self.pool.append(self.tr(v) if self.coin(0.5) else v)

    def splat(self):
        x = self.recent()
        s = self.op("broadcast_to", [self.op("reduce_max", [x], axes=tuple(range(x.type.rank)),
                                              keepdims=False)], shape=x.type.shape)
        p = self.perm(x.type.rank)
        self.pool.append(self.binary("add", x, self.tr(self.tr(s, self.inv(p)), p)))

    MOVES = ("chain", "chain", "chain", "transpose", "mixed", "reduce", "reduce", "int_reduce",
             "dot", "dot", "splat")

    def build(self) -> Graph:
        rank = int(self.rng.integers(2, 5))
        shape = tuple(int(d) for d in self.rng.integers(1, 5, rank))
        self.pool.append(self.b.add_input(TensorType(F32, shape)))
        for _ in range(int(self.rng.integers(4, 12))):
            try:
                getattr(self, self.pick(self.MOVES))()
            except (OpTypeError, ValueError):
                pass
        used = {v for op in self.b.ops for v in op.inputs}
        return self.b.build([v for v in self.pool if v not in used][-6:] or self.pool[-1:])


def run_xla(g: Graph, args) -> list[np.ndarray]:
    exe, _ = runtime.compile_stablehlo(
        lower_graph(g, LoweringOptions("cpu")).bytecode, out_sig=[(t.shape, t.dtype.np_dtype) for t in g.output_types],
        name=g.name)
    return [np.asarray(o) for o in exe([runtime.device_put(a) for a in args])]


def count(g: Graph, name: str) -> int:
    return g.op_histogram().get(name, 0)


@pytest.mark.parametrize("chunk", range(4))
def test_random_graphs_are_bit_identical(chunk):
    changed = 0
    for seed in range(chunk, N_GRAPHS, 4):
        g = _Gen(seed).build()
        rng = np.random.default_rng(seed)
        args = [rng.standard_normal(t.shape).astype(np.float32) for t in g.input_types]
        want = run_xla(g, args)
        base, _ = PassManager(["dce"], verify=True).run(g)
        for names in (["layout", "dce"], ["constant_folding", "simplify", "layout", "cse", "dce"]):
            out, _ = PassManager(names, verify=True).run(g)
            if names[0] == "layout":  # never more ops, never more transposes
                assert len(out.ops) <= len(base.ops), print_graph(out)
                assert count(out, "transpose") <= count(base, "transpose"), print_graph(out)
                changed += out.fingerprint() != base.fingerprint()
            got = run_xla(out, args)
            for a, b in zip(got, want):
                np.testing.assert_array_equal(a, b, err_msg=f"{names}\n{print_graph(g)}\n{out}")
                assert np.array_equal(np.signbit(a), np.signbit(b))
    assert changed >= N_GRAPHS // 8, changed  # not vacuous: ~all of the 25 change


def test_transposes_around_elementwise_ops_cancel():
    """transpose -> add a scalar -> exp -> transpose back: no transpose left."""
    b = GraphBuilder()
    x = b.add_input(TensorType(F32, (2, 3, 4)))
    (t,) = b.add_op(REGISTRY["transpose"], [x], {"perm": (2, 0, 1)})
    (c,) = b.add_op(REGISTRY["constant"], [], {"value": ConstArray(np.float32(0.5))})
    (s,) = b.add_op(REGISTRY["add"], [t, c])
    (e,) = b.add_op(REGISTRY["exp"], [s])
    (back,) = b.add_op(REGISTRY["transpose"], [e], {"perm": (1, 2, 0)})
    g = b.build([back])
    out, records = PassManager(["layout", "dce"], verify=True).run(g)
    assert (count(g, "transpose"), count(out, "transpose")) == (2, 0)
    assert [op.name for op in out.ops] == ["constant", "add", "exp"]
    assert records[0].changes  # the driver recorded the rewrites
    args = [np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)]
    np.testing.assert_array_equal(run_xla(out, args)[0], run_xla(g, args)[0])


def test_dead_users_do_not_hold_back_sinking():
    """A dead op still counts as a user in a sweep: with a dead transpose hanging off every
    step, a chain would sink one op per sweep and hit the cap, unless dead ops go between
    sweeps."""
    b = GraphBuilder()
    (v,) = b.add_op(REGISTRY["transpose"], [b.add_input(TensorType(F32, (2, 3)))], {"perm": (1, 0)})
    for i in range(12):
        (v,) = b.add_op(REGISTRY[("negate", "abs", "floor")[i % 3]], [v])
        b.add_op(REGISTRY["transpose"], [v], {"perm": (1, 0)})  # dead
    (back,) = b.add_op(REGISTRY["transpose"], [v], {"perm": (1, 0)})
    out, _ = PassManager(["layout", "dce"], verify=True).run(b.build([back]))
    assert count(out, "transpose") == 0 and len(out.ops) == 12
