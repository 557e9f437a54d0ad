"""`schur`: complex Schur decomposition a = z t z^H by LAPACK gees (complex64/complex128), t
upper triangular with the eigenvalues on its diagonal; for tf.linalg.logm. No gradient."""
from __future__ import annotations

import numpy as np

from ...ir.types import I32, TensorType
from ...registry import NOT_DIFFERENTIABLE, PURE, OpDef, OpTypeError, register
from . import custom_call as CC
from .triangular import check_square


def _schur_infer(a: TensorType) -> tuple:
    check_square(a, "schur", complex_ok=True)
    if not a.dtype.is_complex:
        raise OpTypeError(f"schur takes complex64 or complex128 matrices, got {a}")
    return a, a


def _schur_lower(ctx, a):
    t = ctx.types_in[0]
    if t.shape[-1] == 0:
        return [a, a]
    info_t = TensorType(I32, t.shape[:-2])
    w_t = TensorType(t.dtype, t.shape[:-1])
    tri, z, _, _, info = CC.call(CC.target("gees", t), [a], (t,),
                                 (t, t, w_t, info_t, info_t), alias={0: 0}, mode="V", sort="N")
    return [CC.nan_where_failed(tri, info, t, info_t), CC.nan_where_failed(z, info, t, info_t)]


def _schur_reference(a):
    import scipy.linalg as sl  # (scipy comes with jaxlib)

    t = np.zeros_like(a)
    z = np.zeros_like(a)
    for idx in np.ndindex(a.shape[:-2]):
        if a.shape[-1]:
            t[idx], z[idx] = sl.schur(a[idx], output="complex")
    return t, z


schur_op = register(OpDef("schur", _schur_infer, _schur_lower, _schur_reference,
                          NOT_DIFFERENTIABLE, frozenset({PURE}), multiple_results=True))
