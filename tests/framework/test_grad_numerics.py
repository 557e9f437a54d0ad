"""Tape gradients of the op table (eager and compiled) vs finite differences, plus edge cases."""
from __future__ import annotations

import math
import zlib

import ml_dtypes
import numpy as np
import pytest

import tfx_core as tx
from tests.optable import GRAD_ZERO, all_entries

MAX_SAMPLES = 2  # per entry: the table has ~150 entries and each compiled case costs a compile
# Central differences with step h = c * max(1, |x|), c = eps**(1/3) of the output dtype. In
# float64 (c ~ 6e-6) the error is ~h^2 |f'''| / 6 + eps |f| / h, at most ~1e-9 relative on these
# samples (log near 0.1, tan near 1.2, exp(3)), so rtol 1e-7 is a wide margin that still catches
# a float32-precision constant in a float64 rule. Lower-precision outputs (cast to float32/16)
# are linear here and only rounding counts: ~eps / c = eps**(2/3), doubled.
F64_RTOL = 1e-7
MODES = ("eager", "compiled")


def _is_float(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _float_out(o: np.ndarray) -> bool:
    return o.dtype.kind == "f" or o.dtype == ml_dtypes.bfloat16


def _outputs(value) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _ref(info, args, kwargs) -> list[np.ndarray]:
    with np.errstate(all="ignore"):
        return [np.asarray(o) for o in _outputs(info.ref(*args, **kwargs))]


def _usable(info, sample) -> bool:
    """Has a float array argument; no empty tensors and no inf/NaN in or out."""
    arrays = [a for a in sample.args if isinstance(a, np.ndarray)]
    if not any(_is_float(a) for a in arrays) or any(a.size == 0 for a in arrays):
        return False
    if not all(np.isfinite(a).all() for a in arrays if _is_float(a)):
        return False
    outs = _ref(info, sample.args, sample.kwargs)
    return all(o.size and (not _float_out(o) or np.isfinite(o).all()) for o in outs)


def _samples(info, rng) -> list:
    """The entry's float32 samples when it has them (samplers give float32, a primary dtype,
    every shape and case, float64 only a rotated few), else its float64 ones."""
    return info.samples(rng, tx.float32 if tx.float32 in info.dtypes else tx.float64)


def _upcast(sample):
    """float32 arrays as float64 (exact), so finite differences run in double precision."""
    args = tuple(a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32
                 else a for a in sample.args)
    return type(sample)(args, dict(sample.kwargs))


def _cases():
    for info in all_entries():
        if not any(dt.is_floating for dt in info.dtypes):
            continue  # integer/bool-only ops: nothing to differentiate
        rng = np.random.default_rng(zlib.crc32(f"grad/{info.name}".encode()))
        samples = [s for s in map(_upcast, _samples(info, rng)) if _usable(info, s)]
        if not samples:
            continue
        n = min(len(samples), MAX_SAMPLES)
        for i in sorted({round(float(j)) for j in np.linspace(0, len(samples) - 1, n)}):
            yield pytest.param(info, samples[i], id=f"{info.name}-{i}")


CASES = list(_cases())


# ---------------------------------------------------------------- tape side
def _weighted_sum(outs, weights):
    """sum_k reduce_sum(float64(out_k) * w_k): a scalar target whose cotangent is not all ones."""
    total = None
    for o, w in zip(outs, weights):
        term = tx.reduce_sum(tx.cast(o, tx.float64) * tx.constant(w))
        total = term if total is None else total + term
    return total


def _tape_gradients(info, sample, weights, compiled: bool) -> list:
    """Gradients of the weighted target w.r.t. every float array argument (None kept)."""
    kinds = ["src" if _is_float(a) else "tensor" if isinstance(a, np.ndarray) else "py"
             for a in sample.args]

    def grads(*tensors):
        it = iter(tensors)
        args = [a if k == "py" else next(it) for a, k in zip(sample.args, kinds)]
        srcs = [a for a, k in zip(args, kinds) if k == "src"]
        with tx.GradientTape() as tape:
            for s in srcs:
                tape.watch(s)
            target = _weighted_sum(_outputs(info.fn(*args, **sample.kwargs)), weights)
        return tape.gradient(target, srcs)

    fn = tx.function(grads) if compiled else grads
    return list(fn(*[tx.constant(a) for a, k in zip(sample.args, kinds) if k != "py"]))


# ---------------------------------------------------------------- finite-difference side
def _finite_differences(info, sample, weights, pos):
    """d target / d arg[pos] by central differences, the mask of elements at a kink or jump,
    and the rtol those differences support."""
    x = sample.args[pos]
    outs = _ref(info, sample.args, sample.kwargs)
    fk = [k for k, o in enumerate(outs) if _float_out(o)]
    c = max(float(ml_dtypes.finfo(outs[k].dtype).eps) for k in fk) ** (1 / 3)
    ws = [weights[k] for k in fk]

    def f(xv):
        args = list(sample.args)
        args[pos] = xv
        o = _ref(info, args, sample.kwargs)
        return [o[k].astype(np.float64) for k in fk]

    base = f(x)
    fd, kink = np.zeros(x.shape), np.zeros(x.shape, bool)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        h = c * max(1.0, abs(float(x[i])))
        xp[i] += h
        xm[i] -= h
        hp, hm = float(xp[i] - x[i]), float(x[i] - xm[i])  # the steps actually taken
        with np.errstate(all="ignore"):
            up = sum(float(np.sum((a - b) * w)) for a, b, w in zip(f(xp), base, ws))
            dn = sum(float(np.sum((b - a) * w)) for a, b, w in zip(f(xm), base, ws))
        fd[i] = (up + dn) / (hp + hm)
        fwd, bwd = up / hp, dn / hm
        # a kink (one-sided slopes differ) or a jump (a slope ~1/h: no sample has |f'| > 1e3)
        kink[i] = not (math.isfinite(fwd) and math.isfinite(bwd)) or abs(fwd - bwd) > 0.01 * (
            1 + abs(fwd) + abs(bwd)) or max(abs(fwd), abs(bwd)) > 0.01 / h
    return fd, kink, 2 * c * c if c > 1e-5 else F64_RTOL


def _check_source(info, sample, weights, pos, got, where):
    x = sample.args[pos]
    fd, kink, rtol = _finite_differences(info, sample, weights, pos)
    if got is not None:
        assert isinstance(got, tx.Tensor), f"{where}: gradient is {type(got).__name__}"
        g = got.numpy()
        assert g.shape == x.shape, f"{where}: gradient shape {g.shape} != input {x.shape}"
        assert g.dtype == x.dtype, f"{where}: gradient dtype {g.dtype} != input {x.dtype}"
    if info.grad == GRAD_ZERO:  # TF gives None (floor, round, ...) or zeros (sign)
        if got is not None:
            np.testing.assert_array_equal(g, np.zeros_like(g), err_msg=f"{where}: want 0/None")
        np.testing.assert_allclose(fd[~kink], 0, atol=1e-12, err_msg=f"{where}: FD away from jumps")
        return
    keep = ~kink if info.grad else np.ones(x.shape, bool)  # "kinks: ..." leaves those out
    if got is None:  # TF: None only when disconnected, and then the derivative is exactly 0
        assert np.all(fd[keep] == 0), f"{where}: got None, finite differences give\n{fd}"
        return
    atol = rtol * max(1.0, float(np.max(np.abs(fd[keep]), initial=0)))
    note = f"\nnon-differentiable points in the sample at {np.argwhere(kink).tolist()}" if (
        kink.any() and not info.grad) else ""
    np.testing.assert_allclose(g[keep], fd[keep], rtol=rtol, atol=atol,
                               err_msg=f"{where}{note}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("info,sample", CASES)
def test_table_gradient(info, sample, mode):
    if info.grad not in (None, GRAD_ZERO) and not info.grad.startswith("kinks:"):
        pytest.skip(info.grad)
    if tx.float64 not in info.dtypes:  # float64 is off the entry's table: use it if accepted
        try:
            info.fn(*[tx.constant(a) if isinstance(a, np.ndarray) else a for a in sample.args],
                    **sample.kwargs)
        except (TypeError, ValueError) as e:
            pytest.skip(f"{info.name} rejects float64: {e}")
    outs = _ref(info, sample.args, sample.kwargs)
    rng = np.random.default_rng(zlib.crc32(f"grad-w/{info.name}/{sample!r}".encode()))
    weights = [rng.uniform(0.5, 1.5, o.shape) * rng.choice([-1.0, 1.0], o.shape) for o in outs]
    got = _tape_gradients(info, sample, weights, compiled=mode == "compiled")
    srcs = [i for i, a in enumerate(sample.args) if _is_float(a)]
    small = sum(np.size(a) for a in sample.args) <= 24
    repro = f"{info.name} {mode} sample={sample}" + (f" args={sample.args}" if small else "")
    assert len(got) == len(srcs), f"{repro}: {len(got)} gradients for {len(srcs)} sources"
    if not any(_float_out(o) for o in outs):  # TF: no gradient through non-float results
        bad = [p for p, g in zip(srcs, got) if g is not None]
        assert not bad, f"{repro}: non-float result, but args {bad} got gradients (want None)"
        return
    for p, g in zip(srcs, got):
        _check_source(info, sample, weights, p, g, f"{repro} d/d(arg {p})")


# ---------------------------------------------------------------- targeted cases
def _run(mode, fn, *arrays):
    """fn(*tensors) -> nested gradients, eagerly or under tx.function; numpy out (None kept)."""
    f = tx.function(fn) if mode == "compiled" else fn
    out = f(*[tx.constant(a) for a in arrays])

    def conv(v):
        if isinstance(v, (list, tuple)):
            return [conv(e) for e in v]
        return None if v is None else v.numpy()

    return conv(out)


def _grad_of(target_fn, weights=None):
    """fn(*xs) -> [d sum(w * target_fn(*xs)) / d x for x in xs]."""

    def fn(*xs):
        with tx.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            y = target_fn(*xs)
            t = tx.reduce_sum(y if weights is None else y * tx.constant(weights.astype(
                y.dtype.np_dtype)))
        return tape.gradient(t, list(xs))

    return fn


def _rng(name):
    return np.random.default_rng(zlib.crc32(f"grad-targeted/{name}".encode()))


def _softmax64(x, axis=-1):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax64(x, axis=-1):
    x = x.astype(np.float64)
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


BIG = np.array([[1e3, -1e3, 0.0, 999.0], [-1e3, -999.0, -1e3, 5.0], [2.0, 1.0, -1e3, 1e3]])
_TOL = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-14)}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_large_inputs(mode, dtype, approximate):
    x = np.array([-1e3, -30.0, -3.0, -0.5, 0.0, 0.7, 4.0, 30.0, 1e3], dtype)
    (g,) = _run(mode, _grad_of(lambda t: tx.nn.gelu(t, approximate=approximate)), x)
    x64 = x.astype(np.float64)
    if approximate:
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (x64 + 0.044715 * x64**3))
        want = 0.5 * (1 + t) + 0.5 * x64 * (1 - t * t) * k * (1 + 3 * 0.044715 * x64**2)
    else:
        cdf = 0.5 * (1 + np.vectorize(math.erf)(x64 / math.sqrt(2)))
        want = cdf + x64 * np.exp(-0.5 * x64**2) / math.sqrt(2 * math.pi)
    assert np.isfinite(g).all(), g
    np.testing.assert_allclose(g, want, *_TOL[dtype])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_large_logits(mode, dtype):
    x, w = BIG.astype(dtype), _rng("softmax").uniform(-1, 1, BIG.shape)
    (g,) = _run(mode, _grad_of(tx.nn.softmax, w), x)
    s = _softmax64(x)
    assert np.isfinite(g).all(), g
    np.testing.assert_allclose(g, s * (w - np.sum(s * w, -1, keepdims=True)), *_TOL[dtype])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_softmax_large_logits(mode, dtype):
    x, w = BIG.astype(dtype), _rng("log_softmax").uniform(-1, 1, BIG.shape)

    def fn(t):  # the cotangent given as output_gradients this time
        with tx.GradientTape() as tape:
            tape.watch(t)
            y = tx.nn.log_softmax(t)
        return tape.gradient(y, t, output_gradients=tx.constant(w.astype(dtype)))

    g = _run(mode, fn, x)
    s = _softmax64(x)
    assert np.isfinite(g).all(), g
    np.testing.assert_allclose(g, w - s * np.sum(w, -1, keepdims=True), *_TOL[dtype])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_cross_entropy_large_logits(mode, dtype):
    rng = _rng("xent")
    p = rng.uniform(0, 1, BIG.shape)
    labels, logits = (p / p.sum(-1, keepdims=True)).astype(dtype), BIG.astype(dtype)
    w = rng.uniform(0.5, 1.5, BIG.shape[0])
    gl, gx = _run(mode, _grad_of(
        lambda lab, lg: tx.nn.softmax_cross_entropy_with_logits(lab, lg), w), labels, logits)
    assert np.isfinite(gl).all() and np.isfinite(gx).all(), (gl, gx)
    # d/dlogits = w * (softmax * sum(labels) - labels); d/dlabels = -w * log_softmax
    want_x = w[:, None] * (_softmax64(logits) * labels.sum(-1, keepdims=True) - labels)
    np.testing.assert_allclose(gx, want_x, *_TOL[dtype])
    rtol, atol = _TOL[dtype]
    np.testing.assert_allclose(gl, -w[:, None] * _log_softmax64(logits), rtol, atol * 2e3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_softmax_cross_entropy_large_logits(mode, dtype):
    labels, logits = np.array([1, 0, 2], np.int32), BIG.astype(dtype)
    w = _rng("sparse_xent").uniform(0.5, 1.5, 3)

    def fn(lg):
        with tx.GradientTape() as tape:
            tape.watch(lg)
            loss = tx.nn.sparse_softmax_cross_entropy_with_logits(tx.constant(labels), lg)
            t = tx.reduce_sum(loss * tx.constant(w.astype(dtype)))
        return tape.gradient(t, lg)

    g = _run(mode, fn, logits)
    assert np.isfinite(g).all(), g
    onehot = np.eye(4)[labels]
    np.testing.assert_allclose(g, w[:, None] * (_softmax64(logits) - onehot), *_TOL[dtype])


def _unbroadcast(g, shape):
    """Sum `g` down to `shape` (the adjoint of broadcasting)."""
    g = np.sum(g, axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return np.sum(g, axis=axes, keepdims=True).reshape(shape)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sa,sb", [((2, 1), (1, 4)), ((4, 1, 3), (2, 1)), ((), (3,)),
                                   ((2, 3), (3,)), ((1, 3), (2, 1, 1))])
@pytest.mark.parametrize("op", ["add", "mul"])
def test_broadcast_gradient_shapes(mode, sa, sb, op):
    rng = _rng(f"bcast/{sa}/{sb}")
    a, b = rng.uniform(-2, 2, sa), rng.uniform(-2, 2, sb)
    w = rng.uniform(-1, 1, np.broadcast_shapes(sa, sb))
    f = (lambda x, y: x + y) if op == "add" else (lambda x, y: x * y)
    ga, gb = _run(mode, _grad_of(f, w), a, b)
    assert ga.shape == sa and gb.shape == sb, (ga.shape, gb.shape)
    if op == "add":
        want_a, want_b = _unbroadcast(w, sa), _unbroadcast(w, sb)
    else:
        want_a, want_b = _unbroadcast(w * b, sa), _unbroadcast(w * a, sb)
    np.testing.assert_allclose(ga, want_a, 1e-12, 1e-12)
    np.testing.assert_allclose(gb, want_b, 1e-12, 1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["reduce_max", "reduce_min"])
@pytest.mark.parametrize("axis,keepdims", [(1, False), (None, False), (0, True), ([0, 1], True)])
def test_reduce_extremum_ties_split_gradient(mode, op, axis, keepdims):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [3.0, 0.0, 3.0]])
    if op == "reduce_min":
        x = -x
    fn = getattr(tx, op)
    np_fn = np.max if op == "reduce_max" else np.min
    out_shape = np_fn(x, axis=None if axis is None else tuple(np.atleast_1d(axis)),
                      keepdims=keepdims).shape
    w = _rng(f"ties/{op}/{axis}").uniform(0.5, 1.5, out_shape)
    (g,) = _run(mode, _grad_of(lambda t: fn(t, axis=axis, keepdims=keepdims), w), x)
    ax = None if axis is None else tuple(np.atleast_1d(axis))
    m = np_fn(x, axis=ax, keepdims=True)
    tie = (x == m).astype(np.float64)
    want = tie / tie.sum(axis=ax, keepdims=True) * w.reshape(m.shape)  # TF: split among ties
    np.testing.assert_allclose(g, want, 1e-12, 1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("key", [slice(1, 5, 2), slice(None, None, -1), (Ellipsis, 0), 2,
                                 (slice(None), slice(None, None, -2)), (None, 1, slice(1, 3))],
                         ids=["1:5:2", "::-1", "...,0", "2", ":,::-2", "None,1,1:3"])
def test_getitem_gradient(mode, key):
    x = _rng("getitem").uniform(-1, 1, (6, 4, 3))
    w = _rng(f"getitem/{key}").uniform(0.5, 1.5, x[key].shape)
    (g,) = _run(mode, _grad_of(lambda t: t[key], w), x)
    want = np.zeros_like(x)
    want[key] = w  # basic indexing never repeats an element
    np.testing.assert_array_equal(g, want)


@pytest.mark.parametrize("mode", MODES)
def test_concat_stack_gradients(mode):
    rng = _rng("concat")
    a, b, c = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 1)), rng.uniform(-1, 1, (2, 2))
    w = rng.uniform(0.5, 1.5, (2, 6))
    ga, gb, gc = _run(mode, _grad_of(lambda *xs: tx.concat(list(xs), axis=1), w), a, b, c)
    np.testing.assert_array_equal(ga, w[:, :3])
    np.testing.assert_array_equal(gb, w[:, 3:4])
    np.testing.assert_array_equal(gc, w[:, 4:])
    ws = rng.uniform(0.5, 1.5, (2, 2, 3))
    g0, g1 = _run(mode, _grad_of(lambda *xs: tx.stack(list(xs), axis=1), ws), a, a + 1)
    np.testing.assert_array_equal(g0, ws[:, 0])
    np.testing.assert_array_equal(g1, ws[:, 1])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("used", [(0, 1, 2), (1,)])
def test_split_unstack_gradients(mode, used):
    """Pieces left out of the target get zero gradient; the source still gets a full array."""
    rng = _rng(f"split/{used}")
    x = rng.uniform(-1, 1, (3, 6))
    ws = [rng.uniform(0.5, 1.5, (3, n)) for n in (2, 3, 1)]
    wu = [rng.uniform(0.5, 1.5, (6,)) for _ in range(3)]

    def fn(t):
        with tx.GradientTape(persistent=True) as tape:
            tape.watch(t)
            parts = tx.split(t, [2, -1, 1], axis=1)
            rows = tx.unstack(t, axis=0)
            ts = sum(tx.reduce_sum(parts[i] * tx.constant(ws[i])) for i in used)
            tu = sum(tx.reduce_sum(rows[i] * tx.constant(wu[i])) for i in used)
        return tape.gradient(ts, t), tape.gradient(tu, t)

    gs, gu = _run(mode, fn, x)
    want_s = np.concatenate([w if i in used else np.zeros_like(w) for i, w in enumerate(ws)], 1)
    want_u = np.stack([w if i in used else np.zeros_like(w) for i, w in enumerate(wu)], 0)
    np.testing.assert_array_equal(gs, want_s)
    np.testing.assert_array_equal(gu, want_u)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sa,sb,kw", [
    ((3, 2), (3, 4), {"transpose_a": True}),
    ((2, 3), (4, 3), {"transpose_b": True}),
    ((3, 2), (4, 3), {"adjoint_a": True, "adjoint_b": True}),
    ((2, 1, 3, 4), (5, 4, 2), {}),
    ((2, 1, 4, 3), (5, 2, 4), {"transpose_a": True, "transpose_b": True}),
    ((3, 4), (2, 4, 5), {}),
], ids=["ta", "tb", "adjoint", "batch-bcast", "batch-bcast-tt", "rank2-rank3"])
def test_matmul_gradient(mode, sa, sb, kw):
    rng = _rng(f"matmul/{sa}/{sb}")
    a, b = rng.uniform(-1, 1, sa), rng.uniform(-1, 1, sb)
    ta = kw.get("transpose_a") or kw.get("adjoint_a")
    tb = kw.get("transpose_b") or kw.get("adjoint_b")
    a2, b2 = (np.swapaxes(a, -1, -2) if ta else a), (np.swapaxes(b, -1, -2) if tb else b)
    w = rng.uniform(-1, 1, np.matmul(a2, b2).shape)
    ga, gb = _run(mode, _grad_of(lambda x, y: tx.matmul(x, y, **kw), w), a, b)
    da2 = np.matmul(w, np.swapaxes(b2, -1, -2))  # cotangents of the (transposed) operands
    db2 = np.matmul(np.swapaxes(a2, -1, -2), w)
    da, db = _unbroadcast(da2, a2.shape), _unbroadcast(db2, b2.shape)
    da, db = (np.swapaxes(da, -1, -2) if ta else da), (np.swapaxes(db, -1, -2) if tb else db)
    assert ga.shape == sa and gb.shape == sb, (ga.shape, gb.shape)
    np.testing.assert_allclose(ga, da, 1e-12, 1e-12)
    np.testing.assert_allclose(gb, db, 1e-12, 1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_where_gradient_only_to_chosen_branch(mode):
    rng = _rng("where")
    c = np.array([[True, False, True], [False, False, True]])
    x, y, s = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3)), np.array(0.7)
    w = rng.uniform(0.5, 1.5, (2, 3))

    def fn(xt, yt, st):
        with tx.GradientTape(persistent=True) as tape:
            tape.watch([xt, yt, st])
            t1 = tx.reduce_sum(tx.where(tx.constant(c), xt, yt) * tx.constant(w))
            t2 = tx.reduce_sum(tx.where(tx.constant(c), st, yt) * tx.constant(w))  # broadcast x
        return tape.gradient(t1, [xt, yt]), tape.gradient(t2, [st, yt])

    (gx, gy), (gs, gy2) = _run(mode, fn, x, y, s)
    np.testing.assert_array_equal(gx, np.where(c, w, 0.0))
    np.testing.assert_array_equal(gy, np.where(c, 0.0, w))
    np.testing.assert_allclose(gs, np.sum(w[c]), 1e-14)
    assert gs.shape == ()
    np.testing.assert_array_equal(gy2, np.where(c, 0.0, w))


@pytest.mark.parametrize("mode", MODES)
def test_stop_gradient(mode):
    x = _rng("stop_gradient").uniform(-1, 1, (2, 3))

    def fn(t):
        with tx.GradientTape(persistent=True) as tape:
            tape.watch(t)
            y = tx.reduce_sum(t * tx.stop_gradient(t))
            z = tx.reduce_sum(tx.stop_gradient(t * 2.0))
        return tape.gradient(y, t), tape.gradient(z, t)

    gy, gz = _run(mode, fn, x)
    np.testing.assert_array_equal(gy, x)  # only the path outside stop_gradient counts
    assert gz is None


_K = np.array([-1.0, 0.0, 0.0, 6.0, 7.0])  # kinks at 0 and 6 (relu6); -0.0 and 0.0 are ties
KINK_CASES = {  # TF's choice at non-differentiable points: {id: (fn, args, wanted grads)}
    "relu": (tx.nn.relu, (_K,), ([0, 0, 0, 1, 1],)),
    "relu6": (tx.nn.relu6, (_K,), ([0, 0, 0, 0, 0],)),
    "leaky_relu": (lambda x: tx.nn.leaky_relu(x, alpha=0.25), (_K,), ([0.25, 0.25, 0.25, 1, 1],)),
    "elu": (tx.nn.elu, (_K,), ([math.exp(-1), 1, 1, 1, 1],)),
    "abs": (tx.abs, (np.array([-0.0, 0.0, 2.0]),), ([0, 0, 1],)),
    "maximum": (tx.maximum, (np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])),
                ([1, 1, 0], [0, 0, 1])),  # ties go to x (x >= y)
    "minimum": (tx.minimum, (np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])),
                ([1, 0, 1], [0, 1, 0])),  # ties go to x (x <= y)
    "clip_by_value": (lambda t, lo, hi: tx.clip_by_value(t, lo, hi),
                      (np.array([-1.0, 2.0, 0.5, -3.0, 5.0]), np.array(-1.0), np.array(2.0)),
                      ([1, 1, 1, 0, 0], 1, 1)),  # at a bound the gradient goes to t
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(KINK_CASES))
def test_tf_choice_at_kinks(mode, name):
    fn, args, want = KINK_CASES[name]
    got = _run(mode, _grad_of(fn), *args)
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, np.broadcast_to(w, args[i].shape), 1e-15,
                                   err_msg=f"{name} d/d(arg {i})")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("axis", [1, None])
def test_reduce_prod_with_zeros(mode, axis):
    """The product of the other elements, also where x == 0 (no 0/0, as TF's cumprod rule)."""
    x = np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 2.0], [2.0, 3.0, 4.0]])
    (g,) = _run(mode, _grad_of(lambda t: tx.reduce_prod(t, axis=axis)), x)
    if axis is None:
        want = np.zeros_like(x)
    else:
        want = np.array([[0.0, 3.0, 0.0], [0.0, 0.0, 0.0], [12.0, 8.0, 6.0]])
    np.testing.assert_array_equal(g, want)


@pytest.mark.parametrize("mode", MODES)
def test_pow_at_zero_and_negative_base(mode):
    """TF: d/dy x**y is 0 where x <= 0 (log masked), d/dx x**y = y x**(y-1) (0 at x = 0, y > 1)."""
    x, y = np.array([0.0, 0.0, -2.0, 2.0]), np.array([2.0, 3.0, 2.0, 0.5])
    gx, gy = _run(mode, _grad_of(tx.pow), x, y)
    np.testing.assert_allclose(gx, [0.0, 0.0, -4.0, 0.5 * 2**-0.5], 1e-15)
    np.testing.assert_allclose(gy, [0.0, 0.0, 0.0, math.log(2) * 2**0.5], 1e-15)
