"""Regression tests from a review of issue 16's ops against TF 2.21 (answers recorded by
tests/oracles/record_review16.py): complex nan-safe, trig and segment ops, integer promotion in
divide_no_nan/unsorted_segment_mean/leaky_relu, NaN and complex norms, cumulative_logsumexp over
a wide spread, and TF's eager errors for out-of-range labels and unsorted segment ids."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.review16_cases import CASES, GRAD_CASES

ORACLE = np.load(Path(__file__).parents[1] / "oracles" / "review16.npz")
HERE = "test_issue16_review.py"


def _fn(path: str):
    fn = tx
    for part in path.split("."):
        fn = getattr(fn, part)
    return fn


def _tol(want: np.ndarray) -> dict:
    wide = want.dtype in (np.float64, np.complex128)
    return {"rtol": 1e-12 if wide else 2e-6, "atol": 1e-12 if wide else 1e-6}


def _check(key: str, got) -> None:
    want = ORACLE[key]
    got = np.asarray(got)
    assert got.dtype == want.dtype and got.shape == want.shape, (key, got.dtype, want.dtype)
    if key.startswith("bitcast"):  # the same bits, NaN payloads included
        assert got.tobytes() == want.tobytes(), key
        return
    np.testing.assert_allclose(got, want, equal_nan=True, err_msg=key, **_tol(want))


@pytest.mark.parametrize("key,path,args,kwargs", CASES, ids=[c[0] for c in CASES])
def test_matches_tf_eager(key, path, args, kwargs):
    _check(key, _fn(path)(*args, **kwargs).numpy())


def test_matches_tf_compiled():
    """Every case in one tx.function, its data passed in (so nothing constant-folds; segment
    ids stay constants, as the sorted segment ops size their output from them)."""
    def fed(i, a):
        return isinstance(a, np.ndarray) and (i == 0 or a.dtype.kind not in "iu")

    arrays = [a for _, _, args, _ in CASES for i, a in enumerate(args) if fed(i, a)]

    @tx.function
    def everything(*flat):
        out, k = {}, 0
        for key, path, args, kwargs in CASES:
            full = []
            for i, a in enumerate(args):
                full.append(flat[k] if fed(i, a) else a)
                k += fed(i, a)
            out[key] = _fn(path)(*full, **kwargs)
        return out

    for key, got in everything(*arrays).items():
        _check(key, got.numpy())


def _weighted_loss(path, xs):
    y = tx.reshape(_fn(path)(*xs), [-1])
    n = y.shape[0]
    w = tx.cast(1 + 0.5 * np.arange(n), y.dtype)
    return tx.math.real(tx.reduce_sum(y * w))


@pytest.mark.parametrize("key,path,args,pos", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradient_matches_tf(key, path, args, pos):
    xs = [tx.constant(a) if isinstance(a, np.ndarray) else a for a in args]

    def grad(*ts):
        full = list(xs)
        full[pos] = ts[0]
        with tx.GradientTape() as tape:
            tape.watch(ts[0])
            loss = _weighted_loss(path, full)
        return tape.gradient(loss, ts[0])

    want = ORACLE[f"grad__{key}"]
    for got in (grad(xs[pos]), tx.function(grad)(xs[pos])):
        tol = {"rtol": 1e-9, "atol": 1e-12} if want.dtype.itemsize >= 8 else _tol(want)
        np.testing.assert_allclose(got.numpy(), want, err_msg=key, **tol)


@pytest.mark.parametrize("path,args,pos", [
    ("math.xlogy", 2, 0), ("math.xlogy", 2, 1), ("math.xlog1py", 2, 1), ("math.xdivy", 2, 1),
    ("math.multiply_no_nan", 2, 0), ("math.squared_difference", 2, 0),
    ("math.segment_prod", 1, 0), ("math.unsorted_segment_prod", 1, 0),
])
def test_complex_gradient_follows_the_convention(path, args, pos):
    """dL/dRe + i dL/dIm, by central differences (TF 2.21's rules for these forget the
    conjugate, so TF is no oracle here)."""
    rng = np.random.default_rng(3)
    z = [rng.standard_normal(4) + 1j * rng.standard_normal(4) for _ in range(args)]
    extra = ([np.array([0, 0, 1, 1], np.int32)] + ([2] if "unsorted" in path else [])
             if args == 1 else [])

    def loss(vals):
        y = _fn(path)(*[tx.constant(v) for v in vals], *extra)
        return float(tx.reduce_sum(tx.math.real(y * tx.math.conj(y))).numpy())

    v = [tx.constant(a) for a in z]
    with tx.GradientTape() as tape:
        tape.watch(v[pos])
        y = _fn(path)(*v, *extra)
        out = tx.reduce_sum(tx.math.real(y * tx.math.conj(y)))
    got = tape.gradient(out, v[pos]).numpy()
    h, want = 1e-6, np.zeros(4, np.complex128)
    for i in range(4):
        for unit, part in ((1, 1), (1j, 1j)):
            up = [a.copy() for a in z]
            dn = [a.copy() for a in z]
            up[pos][i] += h * unit
            dn[pos][i] -= h * unit
            want[i] += part * (loss(up) - loss(dn)) / (2 * h)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_weighted_cross_entropy_gradient_at_zero_logit_is_the_derivative():
    """The loss is smooth at logit 0 (pos_weight * softplus(-x) for label 1): its slope there
    is -pos_weight / 2 (TF 2.21's abs/relu pieces give 0; this gave -pos_weight)."""
    labels = np.array([1.0, 0.0, 0.5])

    def grad(v):
        with tx.GradientTape() as tape:
            tape.watch(v)
            loss = tx.reduce_sum(tx.nn.weighted_cross_entropy_with_logits(labels, v, 2.5))
        return tape.gradient(loss, v)

    # d/dx [(1 - z) x + (1 + 1.5 z) softplus(-x)] at 0 = (1 - z) - (1 + 1.5 z) / 2
    want = (1 - labels) - (1 + 1.5 * labels) / 2
    for g in (grad, tx.function(grad)):
        np.testing.assert_allclose(g(tx.constant(np.zeros(3))).numpy(), want, rtol=1e-12)


def test_sparse_cross_entropy_out_of_range_label_raises_eagerly():
    logits = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]], np.float32)
    sparse = tx.nn.sparse_softmax_cross_entropy_with_logits
    for labels, bad in (([0, 3], 3), ([-1, 0], -1)):
        with pytest.raises(tx.errors.InvalidArgumentError) as e:
            sparse(labels=np.array(labels, np.int32), logits=logits)
        msg = str(e.value)
        assert f"Received a label value of {bad} which is outside the valid range of [0, 3)" \
            in msg and HERE in msg and "sparse_softmax_cross_entropy_with_logits" in msg
    with pytest.raises(tx.errors.InvalidArgumentError, match="at least one class"):
        sparse(labels=np.zeros(2, np.int32), logits=np.zeros((2, 0), np.float32))


def test_sparse_cross_entropy_out_of_range_label_is_nan_compiled():
    logits = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]], np.float32)
    f = tx.function(lambda y: tx.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    out = f(np.array([0, 3], np.int32)).numpy()
    np.testing.assert_allclose(out[0], 2.4076059, rtol=1e-6)  # TF 2.21 (XLA: the same NaN)
    assert np.isnan(out[1])


@pytest.mark.parametrize("ids", [[1, 0], [-1, 0]])
def test_segment_sum_checks_known_ids_as_tf(ids):
    with pytest.raises(tx.errors.InvalidArgumentError, match="segment_sum.*not increasing"):
        tx.math.segment_sum(np.array([1.0, 2.0], np.float32), np.array(ids, np.int32))


@pytest.mark.parametrize("call", [
    lambda: tx.math.segment_max(np.ones(2, np.complex64), [0, 1]),
    lambda: tx.math.unsorted_segment_min(np.ones(2, np.complex64), [0, 1], 2),
    lambda: tx.math.unsorted_segment_mean(np.ones(2, np.complex64), [0, 1], 2),
    lambda: tx.math.unsorted_segment_sqrt_n(np.ones(2, np.int32), [0, 1], 2),
    lambda: tx.math.reciprocal_no_nan(np.ones(2, np.int32)),
    lambda: tx.math.xlogy(np.ones(2, np.int32), np.ones(2, np.int32)),
], ids=["segment_max", "unsorted_segment_min", "unsorted_segment_mean", "sqrt_n_int",
        "reciprocal_no_nan_int", "xlogy_int"])
def test_dtypes_tf_has_no_kernel_for_still_raise(call):
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize("value_range", [[10.0, 0.0], [1.0, 1.0]])
def test_histogram_fixed_width_checks_a_known_range(value_range):
    with pytest.raises(tx.errors.InvalidArgumentError,
                       match=r"histogram_fixed_width: value_range should satisfy value_range\[0\] "
                             r"< value_range\[1\]"):
        tx.histogram_fixed_width(np.array([0.0, 1.0, 5.0], np.float32), value_range, nbins=3)


def test_ctc_loss_of_an_infeasible_label_is_inf_with_zero_gradient():
    """A label that cannot fit in its frames (3 repeats need 5 frames, 4 are given): the
    likelihood is 0, so the loss is inf (TF 2.21 gives a large finite number, ~710, from its
    log(0) stand-in) and no NaN reaches the logits' gradient."""
    logits = tx.constant(np.random.default_rng(1).standard_normal((4, 1, 3)).astype(np.float32))
    args = (np.array([[1, 1, 1]], np.int32), np.array([3], np.int32), np.array([4], np.int32))
    with tx.GradientTape() as tape:
        tape.watch(logits)
        loss = tx.nn.ctc_loss(args[0], logits, *args[1:])
    assert np.isinf(loss.numpy()).all()
    np.testing.assert_array_equal(tape.gradient(loss, logits).numpy(), 0.0)


def test_ctc_loss_argument_errors_name_the_op():
    logits = np.zeros((4, 2, 3), np.float32)
    with pytest.raises(tx.errors.InvalidArgumentError, match="ctc_loss: label_length"):
        tx.nn.ctc_loss(np.zeros((2, 2), np.int32), logits, [1, 1, 1], [4, 4])
    with pytest.raises(tx.errors.InvalidArgumentError, match="ctc_loss: blank_index 3"):
        tx.nn.ctc_loss(np.zeros((2, 2), np.int32), logits, [1, 1], [4, 4], blank_index=3)


def test_transpose_conjugate_and_adjoint_conjugate_complex_entries():
    """tf.transpose(conjugate=True), tf.linalg.matrix_transpose(conjugate=True) and
    tf.linalg.adjoint conjugate (the flag was ignored: adjoint was a plain transpose)."""
    z = np.array([[[3 + 4j, -1j], [0.5 - 0.5j, 2]]], np.complex64)
    want = np.conj(np.swapaxes(z, -1, -2))
    calls = [lambda a: tx.transpose(a, [0, 2, 1], conjugate=True),
             lambda a: tx.linalg.matrix_transpose(a, conjugate=True), tx.linalg.adjoint]
    for call in calls:
        for fn in (call, tx.function(call)):
            np.testing.assert_array_equal(fn(z).numpy(), want)
    np.testing.assert_array_equal(tx.transpose(z.real, conjugate=True).numpy(), z.real.T)
