"""cholesky/triangular_solve lowering: LAPACK potrf/trsm on XLA:CPU (TF's triangle semantics kept),
StableHLO's own ops for other platforms and for empty operands."""
from __future__ import annotations

import numpy as np
import pytest

import compiler.ops  # noqa: F401  (registers every OpDef)
import tfx_core as tx
from compiler.ir.graph import GraphBuilder
from compiler.ir.types import F32, F64, TensorType
from compiler.lowering.options import LoweringOptions
from compiler.lowering.stablehlo import lower_graph
from compiler.registry import REGISTRY


def _lower(platform: str, name: str, types: list, attrs: dict) -> str:
    b = GraphBuilder("m")
    ins = [b.add_input(t) for t in types]
    outs = b.add_op(REGISTRY[name], ins, attrs)
    lowered = lower_graph(b.build(outs), LoweringOptions(platform))
    assert lowered.module.operation.verify()
    return lowered.text


A3 = TensorType(F32, (2, 4, 4))
B3 = TensorType(F32, (2, 4, 3))
TS = {"lower": False, "adjoint": True}


def test_cpu_emits_lapack_potrf_and_trsm():
    text = _lower("cpu", "cholesky", [TensorType(F64, (4, 4))], {})
    assert "lapack_dpotrf_ffi" in text and "uplo = 76 : ui8" in text, text
    assert "stablehlo.cholesky" not in text
    text = _lower("cpu", "triangular_solve", [A3, B3], TS)
    assert "lapack_strsm_ffi" in text and "stablehlo.triangular_solve" not in text, text
    # uplo 'U' (85), trans 'T' (84), left side 'L' (76), non-unit diagonal 'N' (78)
    for piece in ("uplo = 85 : ui8", "trans_x = 84 : ui8", "side = 76 : ui8", "diag = 78 : ui8"):
        assert piece in text, text


@pytest.mark.parametrize("platform", ["cuda", "tpu"])
def test_other_platforms_keep_stablehlo_ops(platform):
    assert "stablehlo.cholesky" in _lower(platform, "cholesky", [A3], {})
    text = _lower(platform, "triangular_solve", [A3, B3], TS)
    assert "stablehlo.triangular_solve" in text and "lapack_" not in text


def test_empty_operands_keep_stablehlo_ops():
    text = _lower("cpu", "cholesky", [TensorType(F32, (0, 3, 3))], {})
    assert "lapack_" not in text
    text = _lower("cpu", "triangular_solve", [A3, TensorType(F32, (2, 4, 0))], TS)
    assert "lapack_" not in text


def _spd(rng, shape, dtype):
    a = rng.standard_normal(shape)
    return (a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_cholesky_reads_lower_triangle_and_nans_failures(dtype):
    rng = np.random.default_rng(0)
    spd = _spd(rng, (3, 5, 5), dtype)
    garbage = spd + np.triu(rng.standard_normal((3, 5, 5)), 1).astype(dtype) * 50
    garbage[1] = -garbage[1]  # not positive definite: NaN in that matrix only
    f = tx.function(lambda x: tx.linalg.cholesky(x))
    for out in (f(garbage).numpy(), tx.linalg.cholesky(garbage).numpy()):
        want = np.linalg.cholesky(spd)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(out[[0, 2]], want[[0, 2]], rtol=tol, atol=tol)
        assert np.isnan(out[1][np.tril_indices(5)]).all()
        assert (out[1][np.triu_indices(5, 1)] == 0).all()


@pytest.mark.parametrize("lower,adjoint", [(True, False), (True, True), (False, False),
                                           (False, True)])
def test_compiled_triangular_solve_reads_one_triangle(lower, adjoint):
    rng = np.random.default_rng(1)
    a = _spd(rng, (2, 4, 4), np.float64) + rng.standard_normal((2, 4, 4))
    b = rng.standard_normal((2, 4, 3))
    w = np.tril(a) if lower else np.triu(a)
    want = np.linalg.solve(np.swapaxes(w, -1, -2) if adjoint else w, b)
    f = tx.function(lambda x, y: tx.linalg.triangular_solve(x, y, lower=lower, adjoint=adjoint))
    np.testing.assert_allclose(f(a, b).numpy(), want, rtol=1e-10, atol=1e-12)


def test_every_lapack_target_is_in_jaxs_stable_list():
    from jax._src.export import _export

    from compiler.ops.lapack import custom_call

    assert {"lapack_spotrf_ffi", "lapack_dtrsm_ffi"} <= set(custom_call.TARGETS)
    assert set(custom_call.TARGETS) <= set(_export._CUSTOM_CALL_TARGETS_GUARANTEED_STABLE)
