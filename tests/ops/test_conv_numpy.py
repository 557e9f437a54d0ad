"""convolution / reduce_window: the general IR ops against jax.lax as an oracle (layouts, groups,
batch groups, dilations, negative padding, gradients), TF's pooling rules, and error messages."""
from __future__ import annotations

import itertools
import zlib

import jax
import numpy as np
import pytest

import tfx_core as tx
from compiler.interpreters import bind
from compiler.ops.conv import convolution_op, reduce_window_op


@pytest.fixture(autouse=True)
def _x64():
    """jax oracles in float64, for these tests only (a global flag would leak into others)."""
    with jax.enable_x64(True):
        yield


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


# ---------------------------------------------------------------- the IR ops vs jax.lax
def _conv_case(rng, n: int, groups: tuple[int, int]):
    """Random shapes, layouts (dimension numbers) and window attributes for an n-d conv."""
    g, b = groups
    batch, cin, cout = 2 * b, 3 * g if g > 1 else 2, 2 * g * b
    sp = tuple(int(v) for v in rng.integers(3, 7, n))
    ks = tuple(int(v) for v in rng.integers(1, 4, n))
    specs = tuple(tuple(int(i) for i in rng.permutation(n + 2)) for _ in range(3))

    def laid_out(canon, spec):
        shape = [0] * (n + 2)
        for j, d in enumerate(spec):
            shape[d] = canon[j]
        return shape

    attrs = dict(
        window_strides=tuple(int(v) for v in rng.integers(1, 3, n)),
        padding=tuple((int(rng.integers(-1, 3)), int(rng.integers(-1, 3))) for _ in range(n)),
        lhs_dilation=tuple(int(v) for v in rng.integers(1, 3, n)),
        rhs_dilation=tuple(int(v) for v in rng.integers(1, 3, n)),
        dimension_numbers=specs, feature_group_count=g, batch_group_count=b)
    lhs = rng.standard_normal(laid_out((batch, cin, *sp), specs[0]))
    rhs = rng.standard_normal(laid_out((cout, cin // g, *ks), specs[1]))
    return lhs, rhs, attrs


def _jax_conv(lhs, rhs, a):
    dn = jax.lax.ConvDimensionNumbers(*a["dimension_numbers"])
    return jax.lax.conv_general_dilated(
        lhs, rhs, a["window_strides"], a["padding"], a["lhs_dilation"], a["rhs_dilation"], dn,
        a["feature_group_count"], a["batch_group_count"], precision="highest")


# two random layouts/windows per (rank, grouping); the op table and test_conv_formulations
# cover the named layouts
CONV_CASES = [(n, gb, i) for n in (1, 2) for gb in ((1, 1), (3, 1), (1, 2)) for i in range(2)]


@pytest.mark.parametrize("n,groups,i", CONV_CASES)
def test_convolution_matches_lax(n, groups, i):
    lhs, rhs, a = _conv_case(_rng(f"conv/{n}/{groups}/{i}"), n, groups)
    want = np.asarray(_jax_conv(lhs, rhs, a))
    np.testing.assert_allclose(convolution_op.reference(lhs, rhs, **a), want, 1e-12, 1e-12)
    L, R = tx.constant(lhs), tx.constant(rhs)
    if want.size == 0:
        assert bind(convolution_op, L, R, **a).shape == want.shape
        return
    w = _rng(f"conv-w/{n}/{groups}/{i}").standard_normal(want.shape)
    with tx.GradientTape() as tape:
        tape.watch([L, R])
        y = bind(convolution_op, L, R, **a)
        t = tx.reduce_sum(y * tx.constant(w))
    gl, gr = tape.gradient(t, [L, R])
    np.testing.assert_allclose(y.numpy(), want, 1e-12, 1e-12)
    wl, wr = jax.vjp(lambda x, k: _jax_conv(x, k, a), lhs, rhs)[1](w)
    np.testing.assert_allclose(gl.numpy(), wl, 1e-10, 1e-10)
    np.testing.assert_allclose(gr.numpy(), wr, 1e-10, 1e-10)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_depthwise_second_order_matches_jax(mode):
    """d/dx of sum(w * d loss/d filter): the filter gradient of a grouped conv is a
    batch-grouped conv, whose own gradient rule this exercises."""
    rng = _rng("second-order")
    x, k = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((3, 3, 3, 2))
    wk = rng.standard_normal(k.shape)

    def f(xt, kt):
        with tx.GradientTape() as outer:
            outer.watch(xt)
            with tx.GradientTape() as inner:
                inner.watch(kt)
                y = tx.nn.depthwise_conv2d(xt, kt, [1, 2, 2, 1], "SAME")
                loss = tx.reduce_sum(y * y)
            gk = inner.gradient(loss, kt)
            t = tx.reduce_sum(gk * tx.constant(wk))
        return outer.gradient(t, xt)

    got = (tx.function(f) if mode == "compiled" else f)(tx.constant(x), tx.constant(k))
    dn = jax.lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))

    def jloss(xv, kv):
        kr = kv.reshape(3, 3, 1, 6)
        y = jax.lax.conv_general_dilated(xv, kr, (2, 2), ((0, 1), (1, 1)), None, None, dn, 3,
                                         precision="highest")
        return (y * y).sum()

    want = jax.grad(lambda xv: (jax.grad(jloss, 1)(xv, k) * wk).sum())(x)
    np.testing.assert_allclose(got.numpy(), want, 1e-10, 1e-10)


RW_CASES = [(c, i) for c in ("max", "sum") for i in range(8)]


@pytest.mark.parametrize("computation,i", RW_CASES)
def test_reduce_window_matches_lax(computation, i):
    rng = _rng(f"rw/{computation}/{i}")
    r = 1 + i % 3
    x = rng.integers(-3, 3, tuple(int(v) for v in rng.integers(2, 7, r))).astype(np.float64)
    a = dict(computation=computation,
             window_dimensions=tuple(int(v) for v in rng.integers(1, 4, r)),
             window_strides=tuple(int(v) for v in rng.integers(1, 3, r)),
             padding=tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(r)),
             window_dilations=tuple(int(v) for v in rng.integers(1, 3, r)))
    init, fn = (-np.inf, jax.lax.max) if computation == "max" else (0.0, jax.lax.add)

    def jrw(v):
        return jax.lax.reduce_window(v, init, fn, a["window_dimensions"], a["window_strides"],
                                     a["padding"], window_dilation=a["window_dilations"])

    want = np.asarray(jrw(x))
    np.testing.assert_array_equal(reduce_window_op.reference(x, **a), want)
    X = tx.constant(x)
    with tx.GradientTape() as tape:
        tape.watch(X)
        y = bind(reduce_window_op, X, **a)
        w = rng.standard_normal(want.shape)
        t = tx.reduce_sum(y * tx.constant(w))
    np.testing.assert_array_equal(y.numpy(), want)
    g = tape.gradient(t, X).numpy()
    if computation == "sum":
        np.testing.assert_allclose(g, jax.vjp(jrw, x)[1](w)[0], 1e-12, 1e-12)
        return
    # max (integer-valued input: many ties): each window's cotangent goes to its first maximum
    want_g = np.zeros_like(x)
    xp = np.pad(x, a["padding"], constant_values=-np.inf)
    for o in np.ndindex(want.shape):
        for k in itertools.product(*(range(v) for v in a["window_dimensions"])):
            p = tuple(oi * s + ki * d for oi, s, ki, d in
                      zip(o, a["window_strides"], k, a["window_dilations"]))
            if xp[p] == want[o]:
                q = tuple(pi - lo for pi, (lo, _) in zip(p, a["padding"]))
                if all(0 <= qi < n for qi, n in zip(q, x.shape)):
                    want_g[q] += w[o]
                break
    np.testing.assert_allclose(g, want_g, 1e-12, 1e-12)


# ---------------------------------------------------------------- TF's pooling rules
@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_max_pool_gradient_goes_to_first_max(mode):
    x = np.array([[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 1.0, 3.0], [0.0, 0.0, 5.0, 5.0]])
    x4 = x[None, :, :, None]

    def f(t):
        with tx.GradientTape() as tape:
            tape.watch(t)
            y = tx.nn.max_pool2d(t, 2, [1, 2], "SAME")  # 3x2 windows over 3x4, ties inside
        return tape.gradient(y, t)

    g = (tx.function(f) if mode == "compiled" else f)(tx.constant(x4)).numpy()[0, :, :, 0]
    want = np.zeros_like(x)
    # windows rows r..r+1 (the last one only row 2: SAME pads one row at the end) x cols
    # 0..1 or 2..3; each window's first maximum in row-major order gets its cotangent 1:
    for p in [(0, 1), (0, 2), (1, 0), (2, 2), (2, 0), (2, 2)]:
        want[p] += 1
    np.testing.assert_array_equal(g, want)


@pytest.mark.parametrize("size,ksize,stride", [(5, 3, 1), (6, 3, 2), (7, 2, 2), (4, 4, 3)])
def test_avg_pool_same_divides_by_non_padding_count(size, ksize, stride):
    y = tx.nn.avg_pool2d(np.ones((1, size, size, 2), np.float32), ksize, stride, "SAME").numpy()
    np.testing.assert_array_equal(y, np.ones_like(y))  # 1, not (valid count / window size)
    x = np.arange(size, dtype=np.float64).reshape(1, size, 1)
    got = tx.nn.avg_pool1d(x, ksize, stride, "SAME").numpy()[0, :, 0]
    total = max((-(-size // stride) - 1) * stride + ksize - size, 0)
    lo = total // 2
    want = [np.mean(np.arange(size)[max(o * stride - lo, 0):o * stride - lo + ksize])
            for o in range(-(-size // stride))]
    np.testing.assert_allclose(got, want, 1e-15)


# ---------------------------------------------------------------- errors
X = np.zeros((2, 5, 5, 3), np.float32)
W = np.zeros((3, 3, 3, 4), np.float32)
ERRORS = {
    "rank": (lambda: tx.nn.conv2d(X[0], W, 1, "SAME"), ValueError, ["conv2d", "rank 4",
                                                                    "f32[5,5,3]"]),
    "filter_rank": (lambda: tx.nn.conv2d(X, W[0], 1, "SAME"), ValueError,
                    ["conv2d", "f32[2,5,5,3]", "f32[3,3,4]"]),
    "channels": (lambda: tx.nn.conv2d(X, np.zeros((3, 3, 2, 4), np.float32), 1, "SAME"),
                 ValueError, ["conv2d", "input channels (3", "in_channels (2", "f32[3,3,2,4]"]),
    "nchw_channels": (lambda: tx.nn.conv2d(X, W, 1, "SAME", data_format="NCHW"), ValueError,
                      ["conv2d", "input channels (5", "data_format=NCHW"]),
    "padding": (lambda: tx.nn.conv2d(X, W, 1, "same"), ValueError, ["conv2d", "'same'",
                                                                    '"SAME"']),
    "strides_len": (lambda: tx.nn.conv2d(X, W, [1, 2, 3], "SAME"), ValueError,
                    ["conv2d", "strides", "[1, 2, 3]", "1, 2 or 4"]),
    "strides_batch": (lambda: tx.nn.conv2d(X, W, [2, 1, 1, 1], "SAME"), ValueError,
                      ["conv2d", "batch and channel"]),
    "dtype": (lambda: tx.nn.conv2d(tx.constant(X), tx.constant(W.astype(np.float64)), 1,
                                   "SAME"), TypeError, ["conv2d", "f32[2,5,5,3]",
                                                        "f64[3,3,3,4]"]),
    "too_big": (lambda: tx.nn.conv2d(X, np.zeros((7, 7, 3, 4), np.float32), 1, "VALID"),
                ValueError, ["conv2d", "negative"]),
    "data_format": (lambda: tx.nn.conv1d(X[0], W[0], 1, "SAME", data_format="NHWC"), ValueError,
                    ["conv1d", "'NWC' or 'NCW'"]),
    "depthwise": (lambda: tx.nn.depthwise_conv2d(X, np.zeros((3, 3, 2, 2), np.float32),
                                                 [1, 1, 1, 1], "SAME"), ValueError,
                  ["depthwise_conv2d", "input channels (3", "in_channels (2"]),
    "transpose_shape": (lambda: tx.nn.conv2d_transpose(X, np.zeros((3, 3, 6, 3), np.float32),
                                                       [2, 11, 11, 6], 2), ValueError,
                        ["conv2d_transpose", "output_shape [2, 11, 11, 6]", "[6, 6]"]),
    "pool_ksize": (lambda: tx.nn.max_pool2d(X, [2, 2, 2], 2, "SAME"), ValueError,
                   ["max_pool2d", "ksize", "[2, 2, 2]"]),
    "max_pool_pad": (lambda: tx.nn.max_pool2d(X, 2, 1, [[0, 0], [2, 0], [0, 0], [0, 0]]),
                     ValueError, ["max_pool2d", "smaller than the window"]),
    "avg_explicit": (lambda: tx.nn.avg_pool2d(X, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]),
                     ValueError, ["avg_pool2d", '"SAME" or "VALID"']),
}


@pytest.mark.parametrize("key", list(ERRORS))
def test_errors_name_op_types_and_line(key):
    fn, cls, parts = ERRORS[key]
    with pytest.raises(cls) as e:
        fn()
    msg = str(e.value)
    for p in parts + ["test_conv_numpy.py:"]:
        assert p in msg, f"{p!r} not in {msg!r}"


def test_error_inside_a_trace_names_the_line():
    @tx.function
    def f(a, b):
        return tx.nn.conv2d(a, b, 1, "SAME", data_format="NCHW")

    with pytest.raises(ValueError, match=r"conv2d: input channels .*test_conv_numpy\.py:\d+"):
        f(tx.constant(X), tx.constant(W))


def test_unknown_batch_dim_forward_and_gradient():
    """Only the windowed dims need static sizes: a traced batch of unknown size works, with
    gradients through conv2d (grouped), max_pool2d and avg_pool2d."""
    rng = _rng("unknown-batch")
    x, k = rng.standard_normal((2, 6, 6, 4)), rng.standard_normal((3, 3, 2, 4))

    def body(a, b):
        with tx.GradientTape() as tape:
            tape.watch([a, b])
            y = tx.nn.conv2d(a, b, 2, "SAME")
            y = tx.nn.max_pool2d(y, 2, 1, "SAME") + tx.nn.avg_pool2d(y, 3, 1, "SAME")
            t = tx.reduce_sum(y * y)
        return y, tape.gradient(t, [a, b])

    sig = [tx.TensorSpec([None, 6, 6, 4], tx.float64), tx.TensorSpec([3, 3, 2, 4], tx.float64)]
    got = tx.function(body, input_signature=sig)(tx.constant(x), tx.constant(k))
    want = body(tx.constant(x), tx.constant(k))
    for g, w in zip([got[0], *got[1]], [want[0], *want[1]]):
        np.testing.assert_allclose(g.numpy(), w.numpy(), 1e-12, 1e-12)
