"""tf.linalg vs values and gradients recorded from TF 2.21 (tests/oracles/linalg.npz), eager and
compiled; invariants of the decompositions; errors; the LAPACK custom calls (which targets, and a
saved model using qr/svd loaded in a fresh process)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.linalg_cases import CASES, weights

ORACLE = np.load(Path(__file__).parents[1] / "oracles" / "linalg.npz")
MODES = ("eager", "compiled")


def _fix_cols(v: np.ndarray) -> np.ndarray:
    """Each column times the sign of its largest-|entry| element."""
    idx = np.argmax(np.abs(v), axis=-2)
    return v * np.sign(np.take_along_axis(v, idx[..., None, :], axis=-2))


def _run(case, mode):
    def f(*ts):
        with tx.GradientTape() as tape:
            for t in ts:
                tape.watch(t)
            out = case.call(tx, *ts)
            outs = list(out) if isinstance(out, (tuple, list)) else [out]
            grads = []
            if case.grad:
                w = weights(case.name, tuple(outs[0].shape)).astype(outs[0].dtype.np_dtype)
                grads = tape.gradient(tx.reduce_sum(outs[0] * w), list(ts))
        return outs, list(grads)

    fn = tx.function(f) if mode == "compiled" else f
    outs, grads = fn(*[tx.constant(a) for a in case.args])
    return [o.numpy() for o in outs], [g.numpy() for g in grads]


def _close(got, want, what):
    assert got.shape == want.shape, f"{what}: shape {got.shape} != TF's {want.shape}"
    if want.dtype.kind in "iub":
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    scale = max(1.0, float(np.abs(want).max()))
    tol = 2e-6 if want.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale, err_msg=what)


# Every case compiled; eagerly only where a gradient is recorded (the op table already runs
# every function eagerly against numpy).
RUNS = [pytest.param(c, m, id=f"{c.name}-{m}") for c in CASES for m in MODES
        if m == "compiled" or c.grad]


@pytest.mark.parametrize("case,mode", RUNS)
def test_matches_tf(case, mode):
    outs, grads = _run(case, mode)
    for i, got in enumerate(outs):
        want = ORACLE[f"{case.name}__out{i}"]
        if not case.exact and got.ndim >= 2:  # vectors: LAPACK and Eigen may flip signs
            got, want = _fix_cols(got), _fix_cols(want)
        _close(got, want, f"{case.name} {mode} output {i}")
    for j, got in enumerate(grads):
        _close(got, ORACLE[f"{case.name}__grad{j}"], f"{case.name} {mode} gradient {j}")


# ---------------------------------------------------------------- invariants
@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-13)])
def test_decompositions_reconstruct(dtype, tol):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 5, 3)).astype(dtype)

    @tx.function
    def decompose(x):
        return tx.linalg.qr(x), tx.linalg.svd(x), tx.linalg.eigh(tx.matmul(x, x,
                                                                           transpose_a=True))

    for fn in (decompose, decompose.python_function):
        (q, r), (s, u, v), (e, w) = [[t.numpy() for t in group] for group in fn(a)]
        eye = np.eye(3)
        np.testing.assert_allclose(q @ r, a, atol=tol * 10)
        np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, np.broadcast_to(eye, (2, 3, 3)),
                                   atol=tol * 10)
        assert np.all(np.tril(r, -1) == 0)
        np.testing.assert_allclose((u * s[..., None, :]) @ np.swapaxes(v, -1, -2), a,
                                   atol=tol * 10)
        assert np.all(np.diff(s, axis=-1) <= 0)
        ata = np.swapaxes(a, -1, -2) @ a
        np.testing.assert_allclose((w * e[..., None, :]) @ np.swapaxes(w, -1, -2), ata,
                                   atol=tol * 50)
        assert np.all(np.diff(e, axis=-1) >= 0)


def test_eig_pairs():
    a = np.random.default_rng(1).standard_normal((2, 4, 4))
    e, v = tx.eig(a)
    e, v = e.numpy(), v.numpy()
    np.testing.assert_allclose(a @ v, v * e[..., None, :], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(tx.eigvals(a).numpy()),
                               np.sort_complex(np.linalg.eigvals(a)), atol=1e-12)


# ---------------------------------------------------------------- errors
def test_errors_name_the_op_and_the_line():
    with pytest.raises(TypeError, match=r"cholesky: .*float32 or float64.*test_linalg_oracle"):
        tx.linalg.cholesky(np.eye(3, dtype=np.int32))
    with pytest.raises(tx.errors.InvalidArgumentError, match=r"inv: .*square.*test_linalg"):
        tx.linalg.inv(np.ones((2, 3)))
    with pytest.raises(tx.errors.InvalidArgumentError, match=r"solve: rhs"):
        tx.linalg.solve(np.eye(3), np.ones((2, 1)))
    with pytest.raises(tx.errors.InvalidArgumentError, match=r"diag: num_rows=4, num_cols=3"):
        tx.linalg.diag(np.ones(2), k=-1, num_rows=4, num_cols=3)
    with pytest.raises(tx.errors.InvalidArgumentError, match=r"cross: the last dim must be 3"):
        tx.linalg.cross(np.ones(2), np.ones(2))


# ---------------------------------------------------------------- custom calls
def test_targets_are_the_ones_the_runtime_prepares():
    from compiler.ops.lapack import custom_call
    from runtime import lapack

    assert set(custom_call.TARGETS) == lapack.TARGETS


def test_saved_model_with_qr_and_svd_in_a_fresh_process(tmp_path):
    from tests.export._helpers import read_zip, run_in_fresh_process

    @tx.function(input_signature=[tx.TensorSpec([2, 5, 3], tx.float64)])
    def factor(x):
        q, r = tx.linalg.qr(x)
        s, u, v = tx.linalg.svd(x)
        return {"q": q, "r": r, "s": s, "us": u * s[:, None, :], "solve": tx.linalg.solve(
            tx.matmul(x, x, transpose_a=True), tx.ones([2, 3, 1], tx.float64))}

    x = np.random.default_rng(2).standard_normal((2, 5, 3))
    want = {k: v.numpy() for k, v in factor(x).items()}
    path = tmp_path / "factor.tfx"
    tx.saved_model.save(factor, str(path))
    _, members = read_zip(path)
    stored = members["functions/0.stablehlo"]  # the custom calls' symbol names are in it
    for target in ("lapack_dgeqrf_ffi", "lapack_dorgqr_ffi", "lapack_dgesdd_ffi",
                   "lapack_dgetrf_ffi"):
        assert target.encode() in stored
    report = run_in_fresh_process(path, [(None, (x,))], tmp_path / "child")
    got = report["outputs"][0]
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


def test_unknown_batch_dims():
    """A [None, n, n] signature: traced once, right for each batch size; gradients too (those of
    the loops in expm/sqrtm need static shapes, as every tx.while_loop gradient)."""
    la = tx.linalg

    @tx.function(input_signature=[tx.TensorSpec([None, 3, 3], tx.float64)])
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.reduce_sum(la.det(x)) + tx.reduce_sum(la.inv(x)) + tx.reduce_sum(
                la.qr(x)[1]) + tx.reduce_sum(la.svd(x, compute_uv=False))
        return la.solve(x, x), la.expm(x), la.diag(la.eigvalsh(x)), tape.gradient(y, x)

    for batch in (2, 4):
        a = np.random.default_rng(batch).standard_normal((batch, 3, 3))
        solved, e, d, g = (t.numpy() for t in f(a))
        np.testing.assert_allclose(solved, np.broadcast_to(np.eye(3), a.shape), atol=1e-10)
        np.testing.assert_allclose(e, [sl_expm(m) for m in a], rtol=1e-12, atol=1e-12)
        assert d.shape == a.shape and g.shape == a.shape
        x = tx.constant(a)
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.reduce_sum(la.det(x)) + tx.reduce_sum(la.inv(x)) + tx.reduce_sum(
                la.qr(x)[1]) + tx.reduce_sum(la.svd(x, compute_uv=False))
        np.testing.assert_allclose(g, tape.gradient(y, x).numpy(), rtol=1e-12, atol=1e-12)


def sl_expm(m):
    import scipy.linalg

    return scipy.linalg.expm(m)
