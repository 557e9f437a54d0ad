"""Emitting jaxlib's LAPACK typed-FFI custom calls (XLA:CPU): target names, layouts, attrs.

Facts from jaxlib 0.10.2: targets are `lapack_<s|d|c|z><fn>_ffi`; matrices are passed
column-major (layout minor-to-major [r-2, r-1, r-3, ..., 0]), vectors and the per-matrix
`info` row-major; scalar attributes go in the typed-FFI backend_config dict as ui8 character
codes (mode 'V'/'N'/'S'/'A', uplo 'L'/'U'); the handlers loop over leading batch dims.
"""
from __future__ import annotations

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from ...ir.types import BOOL, C64, C128, F32, F64, TensorType
from ...lowering import helpers as H
from ...registry import OpTypeError

# Every target this package emits: FUNCTIONS for float32/float64 (s, d), COMPLEX_FUNCTIONS for
# complex64/complex128 (c, z); runtime/lapack.py initializes jaxlib's LAPACK kernels when a
# module calls one, and docs/format.md lists them.
FUNCTIONS = ("geqrf", "orgqr", "gesdd", "syevd", "getrf", "geev", "potrf", "trsm")
COMPLEX_FUNCTIONS = ("getrf", "trsm", "gees", "geev", "potrf", "heevd", "geqrf",
                     "ungqr", "gesdd")
TARGETS = (*(f"lapack_{p}{fn}_ffi" for fn in FUNCTIONS for p in "sd"),
           *(f"lapack_{p}{fn}_ffi" for fn in COMPLEX_FUNCTIONS for p in "cz"))
_PREFIX = {F32: "s", F64: "d", C64: "c", C128: "z"}


def target(fn: str, t: TensorType) -> str:
    if t.dtype not in _PREFIX or (t.dtype.is_complex and fn not in COMPLEX_FUNCTIONS) or \
            (not t.dtype.is_complex and fn not in FUNCTIONS):
        raise OpTypeError(f"LAPACK {fn} does not take {t} here")
    return f"lapack_{_PREFIX[t.dtype]}{fn}_ffi"


def _layout(rank: int, matrix: bool) -> ir.DenseElementsAttr:
    dims = [rank - 2, rank - 1, *range(rank - 3, -1, -1)] if matrix else \
        list(range(rank - 1, -1, -1))
    return ir.DenseElementsAttr.get(np.asarray(dims, np.int64).reshape(len(dims)),
                                    type=ir.IndexType.get())


def _layouts(types: tuple, matrix_rank: int) -> ir.ArrayAttr:
    return ir.ArrayAttr.get([_layout(t.rank, t.rank == matrix_rank) for t in types])


def call(name: str, operands: list, types_in: tuple, types_out: tuple,
         alias: dict | None = None, **chars: str) -> list:
    """One LAPACK custom call; `chars` are its single-character attributes (mode='V');
    `alias` {result index: operand index} lets XLA hand the kernel the operand's buffer as
    that result (the kernels work in place; no copy when the operand is dead afterwards)."""
    u8 = ir.IntegerType.get_unsigned(8)
    config = ir.DictAttr.get({k: ir.IntegerAttr.get(u8, ord(v)) for k, v in chars.items()})
    rank = max(t.rank for t in types_in)
    tupled = len(types_out) > 1
    aliases = ir.ArrayAttr.get([
        hlo.OutputOperandAlias.get([r] if tupled else [], o, [])
        for r, o in (alias or {}).items()])
    op = hlo.CustomCallOp(
        [H.ir_type(t) for t in types_out], operands, name, has_side_effect=False,
        backend_config=config, api_version=ir.IntegerAttr.get(ir.IntegerType.get_signless(32), 4),
        operand_layouts=_layouts(types_in, rank), result_layouts=_layouts(types_out, rank),
        output_operand_aliases=aliases)
    return list(op.results)


def nan_where_failed(x, info, t: TensorType, info_t: TensorType, ok: str = "EQ"):
    """x, with NaN for every matrix whose LAPACK `info` reports failure (as TF's kernels
    return garbage there, NaN at least shows it)."""
    zero = H.splat(0, info_t)
    good = H.compare(info, zero, ok, info_t)
    nb = info_t.rank
    bt = TensorType(BOOL, t.shape)
    good = hlo.broadcast_in_dim(H.ir_type(bt), good, list(range(nb)))
    return hlo.select(good, x, H.splat(np.nan, t))

