"""tf.linalg.logm and the complex solves vs values and gradients recorded from TF 2.21
(tests/oracles/logm.npz). One mode per case (the suite's time budget): logm eagerly, which runs
it as one compiled program (tfx_core/ops/linalg/logm.py), the others all in one compiled
function; the op table (tests/optable/linalg_logm.py) checks both modes against scipy/numpy."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.logm_cases import CASES, weights

ORACLE = np.load(Path(__file__).parents[1] / "oracles" / "logm.npz")
TOL = {np.complex64: (2e-5, 2e-5), np.complex128: (1e-10, 1e-10), np.float64: (1e-10, 1e-10)}


def _case_outputs(case, ts):
    """(outputs, gradients) of one case on tensors ts, as record_logm.py computes them."""
    with tx.GradientTape() as tape:
        for t in ts:
            tape.watch(t)
        out = case.call(tx, *ts)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        grads = []
        if case.grad:
            w = weights(case.name, tuple(outs[0].shape))
            w = tx.constant((w if outs[0].dtype.is_complex else w.real).astype(
                outs[0].dtype.np_dtype))
            grads = tape.gradient(tx.reduce_sum(tx.math.real(outs[0] * w)), list(ts))
    return outs, list(grads)


def _check(case, outs, grads, mode):
    rtol, atol = TOL[case.args[0].dtype.type]
    for i, got in enumerate(outs):
        got = got.numpy()
        want = ORACLE[f"{case.name}__out{i}"]
        assert got.dtype == want.dtype, f"{case.name} out{i}: {got.dtype} != TF's {want.dtype}"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                   err_msg=f"{case.name} out{i} ({mode})")
    for j, got in enumerate(grads):
        want = ORACLE[f"{case.name}__grad{j}"]
        if case.name == "det":
            # TF's det gradient is g * det * A^-H; TF's complex convention (its other rules,
            # and finite differences) gives g * conj(det) * A^-H, which tfx follows
            d = ORACLE["det__out0"][..., None, None]
            want = want * np.conj(d) / d
        np.testing.assert_allclose(got.numpy(), want, rtol=rtol, atol=atol,
                                   err_msg=f"{case.name} grad{j} ({mode})")


LOGM = [c for c in CASES if c.name.startswith("logm")]
REFUSED = [c for c in CASES if f"{c.name}__error" in ORACLE]
OTHERS = [c for c in CASES if c not in LOGM and c not in REFUSED]


@pytest.mark.parametrize("case", LOGM, ids=[c.name for c in LOGM])
def test_logm_matches_tf(case):
    outs, grads = _case_outputs(case, [tx.constant(a) for a in case.args])
    _check(case, outs, grads, "eager")


def test_compiled_cases_match_tf():
    """Every other case in ONE @tx.function (one compile: the suite's time budget)."""
    sizes = [len(c.args) for c in OTHERS]

    @tx.function
    def all_cases(*flat):
        results, k = [], 0
        for case, n in zip(OTHERS, sizes):
            results.append(_case_outputs(case, list(flat[k:k + n])))
            k += n
        return results

    flat = [tx.constant(a) for c in OTHERS for a in c.args]
    for case, (outs, grads) in zip(OTHERS, all_cases(*flat)):
        _check(case, outs, grads, "compiled")


@pytest.mark.parametrize("case", REFUSED, ids=[c.name for c in REFUSED])
def test_tf_refusals_are_ours(case):
    with pytest.raises((TypeError, ValueError)):
        case.call(tx, *[tx.constant(a) for a in case.args])


def test_real_input_raises_tfs_error():
    assert str(ORACLE["real_input_error"]) == "InvalidArgumentError"
    with pytest.raises(tx.errors.InvalidArgumentError, match=r"logm: .*complex64 or complex128"):
        tx.linalg.logm(np.eye(2, dtype=np.float32))
    with pytest.raises(tx.errors.InvalidArgumentError, match=r"logm: needs square"):
        tx.linalg.logm(np.ones((2, 3), np.complex64))
