"""An eager tape's backward as one compiled program: same gradients as op by op, one compile per
tape structure, and the op-by-op path where the program can't serve. Also: eager programs'
cheaper XLA options leave results bit-identical."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx
from tfx_core.framework import tape_program
from tfx_core.framework.eager import EAGER

RNG = np.random.default_rng(7)
W1 = RNG.standard_normal((12, 8)).astype(np.float32) / 3
B1 = RNG.standard_normal(8).astype(np.float32)
W2 = RNG.standard_normal((8, 5)).astype(np.float32) / 3
X = RNG.standard_normal((6, 12)).astype(np.float32)
Y = RNG.integers(0, 5, 6).astype(np.int32)


@pytest.fixture
def op_by_op():
    """Run the block with the compiled backward switched off."""
    def run(fn):
        tape_program.ENABLED["on"] = False
        try:
            return fn()
        finally:
            tape_program.ENABLED["on"] = True
    return run


def mlp_grads(x=X, y=Y):
    vs = [tx.Variable(W1), tx.Variable(B1), tx.Variable(W2)]
    with tx.GradientTape() as tape:
        h = tx.nn.relu(tx.matmul(tx.constant(x), vs[0]) + vs[1])
        logits = tx.matmul(h, vs[2])
        loss = tx.reduce_mean(tx.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tx.constant(y), logits=logits))
    return [g.numpy() for g in tape.gradient(loss, vs)]


def numpy_grads(x=X, y=Y):
    pre = x @ W1 + B1
    h = np.maximum(pre, 0)
    z = h @ W2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = (p - np.eye(5)[y]) / len(y)
    dh = dz @ W2.T * (pre > 0)
    return [x.T @ dh, dh.sum(0), h.T @ dz]


def test_same_gradients_as_op_by_op_and_numpy(op_by_op):
    runs = tape_program.COUNTS["runs"]
    got = mlp_grads()
    assert tape_program.COUNTS["runs"] == runs + 1
    ref = op_by_op(mlp_grads)
    for g, r, n in zip(got, ref, numpy_grads()):
        np.testing.assert_allclose(g, r, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(g, n, rtol=1e-4, atol=1e-6)


def test_one_compile_per_structure_then_reused():
    x2 = X[:3]
    mlp_grads(x2, Y[:3])  # compiles this structure's program (and the forward's ops)
    c0, e0, r0 = tape_program.COUNTS["compiles"], EAGER.compiles, tape_program.COUNTS["runs"]
    for _ in range(3):
        got = mlp_grads(x2, Y[:3])
    assert tape_program.COUNTS["compiles"] == c0 and EAGER.compiles == e0
    assert tape_program.COUNTS["runs"] == r0 + 3
    for g, n in zip(got, numpy_grads(x2, Y[:3])):
        np.testing.assert_allclose(g, n, rtol=1e-4, atol=1e-6)
    mlp_grads(X[:2], Y[:2])  # a new batch size: a new structure, one more program
    assert tape_program.COUNTS["compiles"] == c0 + 1


def test_higher_order_falls_back_and_is_right():
    x = tx.constant(np.array([0.3, -1.2, 2.0], np.float32))
    fb = tape_program.COUNTS["fallbacks"]
    with tx.GradientTape() as outer:
        outer.watch(x)
        with tx.GradientTape() as inner:
            inner.watch(x)
            y = tx.reduce_sum(x * x * x)
        dy = inner.gradient(y, x)  # the outer tape must see these ops: op by op
    d2 = outer.gradient(dy, x)
    np.testing.assert_allclose(dy.numpy(), 3 * x.numpy() ** 2, rtol=1e-6)
    np.testing.assert_allclose(d2.numpy(), 6 * x.numpy(), rtol=1e-6)
    assert tape_program.COUNTS["fallbacks"] == fb + 1


def test_custom_gradient_falls_back():
    @tx.custom_gradient
    def clipped(v):
        return tx.identity(v), lambda g: g * 0.5

    x = tx.constant(np.array([1.0, 2.0], np.float32))
    fb = tape_program.COUNTS["fallbacks"]
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = tx.reduce_sum(clipped(x) * 3.0)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [1.5, 1.5])
    assert tape_program.COUNTS["fallbacks"] == fb + 1


def test_persistent_tape_reuses_its_program_and_edge_sources():
    x = tx.constant(np.array([[1.0, -2.0], [0.5, 4.0]], np.float32))
    other = tx.constant(np.ones(2, np.float32))
    with tx.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tx.exp(x) * 2.0
        z = tx.reduce_sum(y)
    r0, c0 = tape_program.COUNTS["runs"], tape_program.COUNTS["compiles"]
    a = tape.gradient(z, [x, other, x], unconnected_gradients="zero")
    b = tape.gradient(z, [x, other, x], unconnected_gradients="zero")
    want = 2 * np.exp(x.numpy())
    for g in (a[0], a[2], b[0], b[2]):
        np.testing.assert_allclose(g.numpy(), want, rtol=1e-6)
    np.testing.assert_array_equal(a[1].numpy(), [0, 0])
    assert tape_program.COUNTS["runs"] == r0 + 2 and tape_program.COUNTS["compiles"] == c0 + 1
    # the target as its own source: the seed itself
    np.testing.assert_allclose(tape.gradient(z, z).numpy(), 1.0)
    # several targets, with output gradients
    g = tape.gradient([z, y], x, output_gradients=[tx.constant(2.0), tx.ones_like(y)])
    np.testing.assert_allclose(g.numpy(), 3 * want, rtol=1e-6)


def test_jacobian_rows_share_one_program():
    x = tx.constant(np.array([0.2, 0.7, -0.4], np.float32))
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = tx.sin(x) * x
    c0 = tape_program.COUNTS["compiles"]
    j = tape.jacobian(y, x).numpy()
    v = x.numpy()
    np.testing.assert_allclose(j, np.diag(np.cos(v) * v + np.sin(v)), rtol=1e-5, atol=1e-7)
    assert tape_program.COUNTS["compiles"] <= c0 + 1


def test_check_numerics_runs_op_by_op():
    x = tx.constant(np.array([1.0, 4.0], np.float32))
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = tx.reduce_sum(tx.sqrt(x))
    fb, r0 = tape_program.COUNTS["fallbacks"], tape_program.COUNTS["runs"]
    tx.debugging.enable_check_numerics()
    try:
        g = tape.gradient(y, x)  # each gradient op's outputs are checked: op by op
    finally:
        tx.debugging.disable_check_numerics()
    np.testing.assert_allclose(g.numpy(), [0.5, 0.25], rtol=1e-6)
    assert tape_program.COUNTS["fallbacks"] == fb + 1 and tape_program.COUNTS["runs"] == r0


@pytest.mark.parametrize("name", ["tanh", "lgamma", "exp", "log1p", "add", "multiply",
                                  "maximum", "sqrt", "divide"])
def test_small_eager_programs_round_like_large_ones(name):
    """Small one-op programs compile with cheaper options (no LLVM optimization for exact ops):
    each element must come out with the same bits as from the large program."""
    x = np.array([1.0, 2.0, 0.5, 3.0, 1e-3, 2.5, 7.25], np.float64)
    for dt in (np.float64, np.float32):
        v = x.astype(dt)
        fn = getattr(tx.math, name)
        args = (v,) if name in ("tanh", "lgamma", "exp", "log1p", "sqrt") else (v, v[::-1])
        small = fn(*[tx.constant(a) for a in args]).numpy()
        big = fn(*[tx.constant(np.tile(a, 400)) for a in args]).numpy()[:len(x)]
        np.testing.assert_array_equal(small, big)


@pytest.mark.parametrize("name,attrs", [
    ("reduce_sum", {"axes": (1,), "keepdims": False}), ("reduce_prod", {"axes": (0,),
                                                                       "keepdims": True}),
    ("reduce_max", {"axes": (1,), "keepdims": False}), ("divide", {}), ("sqrt", {}),
    ("multiply", {}), ("subtract", {})])
def test_exact_ops_same_bits_without_llvm_optimizations(name, attrs, monkeypatch):
    """The ops compiled at opt level 0 on small shapes give the bits the optimized build does."""
    from compiler.registry import REGISTRY
    from tfx_core.framework import eager

    rng = np.random.default_rng(3)
    a = (rng.random((32, 128)) + 0.5).astype(np.float32)
    b = (rng.random((32, 128)) + 0.5).astype(np.float32)
    opdef = REGISTRY[name]
    args = [tx.constant(a)] if name in ("reduce_sum", "reduce_prod", "reduce_max", "sqrt") \
        else [tx.constant(a), tx.constant(b)]
    seen = []
    real = eager.compile_stablehlo

    def spy(*a, **k):
        seen.append((k.get("xla_options") or {}).get("xla_backend_optimization_level"))
        return real(*a, **k)

    monkeypatch.setattr(eager, "compile_stablehlo", spy)
    outs = []
    for limit in (eager.SMALL_PROGRAM_ELEMENTS, 0):  # opt level 0, then the optimized build
        monkeypatch.setattr(eager, "SMALL_PROGRAM_ELEMENTS", limit)
        outs.append(eager.EagerInterpreter().process(opdef, args, attrs).numpy())
    assert seen == [0, None]
    np.testing.assert_array_equal(outs[0], outs[1])
