"""Inputs for tests/oracles/record_review16.py and tests/ops/test_issue16_review.py: the cases
where a review of issue 16's ops against TF 2.21 found tfx diverging (complex operands of the
nan-safe and segment ops, integer promotion, NaN/complex norms, wide-spread logsumexp scans)."""
from __future__ import annotations

import numpy as np

INF, NAN = np.inf, np.nan
_ZX = [0, 1 + 2j, 2 - 1j, 0, -0.5 + 0.25j, 3j]
_ZY = [0, 0.5 + 1j, -1 + 0.7j, NAN, 1.5 - 0.5j, 2]
_TRIG = [3 + 4j, -1j, 0.5 - 0.5j, -2 + 0j, 2 + 0j, 0.5 + 0j, -0.3 + 1e-3j, 0, 1e3 - 2j]
_SEG = [1 + 2j, -1j, 2 - 1j, 0.5 + 0.5j, 3, 0]
_WIDE = [[1.0, -INF, 3.0, 1000.0, -2.0], [-INF, -INF, 2.0, 0.0, 5.0], [-900.0, 0.0, 50.0, -5.0,
                                                                         -INF]]

# (key, path under tf / tx, positional args, kwargs)
CASES: list[tuple[str, str, tuple, dict]] = []
for _dt in (np.complex64, np.complex128):
    _n = np.dtype(_dt).name
    _x, _y = np.array(_ZX, _dt), np.array(_ZY, _dt)
    for _op in ("xlogy", "xlog1py", "divide_no_nan", "multiply_no_nan", "squared_difference"):
        CASES.append((f"{_op}_{_n}", f"math.{_op}", (_x, _y), {}))
    CASES.append((f"xdivy_{_n}", "math.xdivy", (_x[[0, 1, 2, 4]], _y[[0, 1, 2, 4]]), {}))
    CASES.append((f"reciprocal_no_nan_{_n}", "math.reciprocal_no_nan", (_x,), {}))
    for _op in ("sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh"):
        CASES.append((f"{_op}_{_n}", f"math.{_op}", (np.array(_TRIG, _dt),), {}))
    _d, _ids = np.array(_SEG, _dt), np.array([0, 0, 2, 2, 2, 3], np.int32)
    for _op in ("segment_sum", "segment_prod", "segment_mean"):
        CASES.append((f"{_op}_{_n}", f"math.{_op}", (_d, _ids), {}))
    for _op in ("unsorted_segment_sum", "unsorted_segment_prod"):
        CASES.append((f"{_op}_{_n}", f"math.{_op}", (_d, _ids[::-1].copy(), 5), {}))
    CASES.append((f"euclidean_norm_{_n}", "math.reduce_euclidean_norm",
                  (np.array([[3 + 4j, 1j], [0, -2]], _dt),), {"axis": 1}))
    CASES.append((f"l2_normalize_{_n}", "math.l2_normalize",
                  (np.array([[3 + 4j, 0], [1j, 1]], _dt),), {"axis": 1}))
for _dt in (np.int8, np.int32, np.uint8, np.uint32, np.int64):
    _n = np.dtype(_dt).name
    _a, _b = np.array([1, 0, 7, 3, 9], _dt), np.array([2, 0, 0, 3, 4], _dt)
    CASES.append((f"divide_no_nan_{_n}", "math.divide_no_nan", (_a, _b), {}))
    CASES.append((f"unsorted_segment_mean_{_n}", "math.unsorted_segment_mean",
                  (_a, np.array([0, 0, 1, 1, 3], np.int32), 4), {}))
    CASES.append((f"leaky_relu_{_n}", "nn.leaky_relu", (_a,), {"alpha": 0.5}))
CASES += [
    ("segment_mean_uint8", "math.segment_mean",
     (np.array([[1, 2], [4, 7], [5, 6], [9, 0]], np.uint8), np.array([0, 0, 2, 2], np.int32)), {}),
    ("euclidean_norm_nan", "math.reduce_euclidean_norm",
     (np.array([[0, 1.5, -2, 0], [3, 0, 0, NAN]], np.float32),), {"axis": 1}),
    ("euclidean_norm_nan_all", "math.reduce_euclidean_norm",
     (np.array([[0, 1.5], [3, NAN]], np.float32),), {}),
    ("compute_average_loss_empty", "nn.compute_average_loss", (np.zeros((0,), np.float32),), {}),
    ("compute_average_loss_empty_2d", "nn.compute_average_loss",
     (np.zeros((0, 3), np.float32),), {}),
]
for _kw in ({}, {"exclusive": True}, {"reverse": True}, {"exclusive": True, "reverse": True}):
    _k = "".join(k[0] for k in sorted(_kw))
    for _dt in (np.float32, np.float64):
        CASES.append((f"cumulative_logsumexp_{_k}_{np.dtype(_dt).name}",
                      "math.cumulative_logsumexp", (np.array(_WIDE, _dt),), {"axis": 1, **_kw}))

_ZM = np.array([[3 + 4j, -1j, 0.5 - 0.5j], [2, 1 + 1j, -3j]], np.complex64)
CASES += [
    ("norm_complex", "norm", (_ZM,), {}),
    ("norm_complex_ord1", "norm", (_ZM,), {"ord": 1}),
    ("norm_complex_ord2_axis", "norm", (_ZM,), {"ord": 2, "axis": 1}),
    ("norm_complex_inf", "norm", (_ZM,), {"ord": np.inf}),
    ("norm_complex_fro", "norm", (_ZM,), {"ord": "fro", "axis": [0, 1]}),
    ("norm_complex_matrix_1", "norm", (_ZM,), {"ord": 1, "axis": [0, 1]}),
    ("reduce_variance_complex", "math.reduce_variance", (_ZM,), {"axis": 1}),
    ("reduce_std_complex", "math.reduce_std", (_ZM.astype(np.complex128),), {}),
]
_SI = np.array([[0, 0], [0, 0], [1, 2]], np.int32)
_SU = np.array([9j, 1, 2 - 1j], np.complex64)
CASES += [
    ("tensor_scatter_nd_add_complex", "tensor_scatter_nd_add", (_ZM, _SI, _SU), {}),
    ("tensor_scatter_nd_sub_complex", "tensor_scatter_nd_sub", (_ZM, _SI, _SU), {}),
]

_BITS = np.random.default_rng(5)
for _src, _dst, _shape in [("complex64", "float32", (3,)), ("complex64", "uint8", (2, 3)),
                           ("complex64", "int64", (3,)), ("complex128", "complex64", (3,)),
                           ("float32", "complex64", (3, 2)), ("float64", "complex64", (3,)),
                           ("uint8", "complex64", (2, 8)), ("complex64", "complex128", (3, 2)),
                           ("int16", "complex64", (2, 4)), ("complex128", "int8", (2,))]:
    _v = _BITS.standard_normal((2, *_shape))
    _arr = (_v[0] + 1j * _v[1] if np.dtype(_src).kind == "c" else
            _v[0] * (1 if np.dtype(_src).kind == "f" else 50)).astype(_src)
    CASES.append((f"bitcast_{_src}_{_dst}", "bitcast", (_arr, _dst), {}))

_CTC = np.random.default_rng(16).standard_normal((6, 2, 5)).astype(np.float32)
_CTC_ARGS = (np.array([[1, 2, 2], [3, 0, 0]], np.int32), _CTC, np.array([3, 1], np.int32),
             np.array([6, 4], np.int32))
CASES += [
    ("ctc_loss", "nn.ctc_loss", _CTC_ARGS, {}),
    ("ctc_loss_blank_last", "nn.ctc_loss", _CTC_ARGS, {"blank_index": -1}),
    ("ctc_loss_blank_2", "nn.ctc_loss", _CTC_ARGS, {"blank_index": 2}),
    ("ctc_loss_batch_major", "nn.ctc_loss",
     (_CTC_ARGS[0], np.ascontiguousarray(_CTC.transpose(1, 0, 2)), *_CTC_ARGS[2:]),
     {"logits_time_major": False}),
    ("ctc_loss_repeats_and_empty", "nn.ctc_loss",
     (np.array([[1, 1, 1], [0, 0, 0]], np.int32), _CTC, np.array([3, 0], np.int32),
      np.array([5, 6], np.int32)), {}),
    ("ctc_loss_one_frame", "nn.ctc_loss",
     (np.array([[1, 1], [2, 0]], np.int32), _CTC[:1], np.array([0, 1], np.int32),
      np.array([1, 1], np.int32)), {}),
]

# gradients of sum(w * f(x)) w.r.t. argument `pos`, where TF's rule is the convention
# (dL/dRe + i dL/dIm for complex; TF's xlogy/xlog1py/xdivy/mul_no_nan/segment_prod rules miss
# the conjugate and are checked against finite differences in the test instead)
_ZG = np.array([0.5 + 1j, 1 + 2j, 2 - 1j, 0.3 - 0.2j], np.complex128)
_ZH = np.array([1.5 - 0.5j, 0.5 + 1j, -1 + 0.7j, 2 + 0j], np.complex128)
GRAD_CASES: list[tuple[str, str, tuple, int]] = [
    ("divide_no_nan_x", "math.divide_no_nan", (_ZG, _ZH), 0),
    ("divide_no_nan_y", "math.divide_no_nan", (_ZG, _ZH), 1),
    ("segment_sum", "math.segment_sum", (_ZG, np.array([0, 0, 1, 1], np.int32)), 0),
    ("segment_mean", "math.segment_mean", (_ZG, np.array([0, 0, 1, 1], np.int32)), 0),
    ("sinh", "math.sinh", (_ZG,), 0),
    ("cosh", "math.cosh", (_ZG,), 0),
    ("asin", "math.asin", (_ZG,), 0),
    ("acos", "math.acos", (_ZG,), 0),
    ("atan", "math.atan", (_ZG,), 0),
    ("asinh", "math.asinh", (_ZG,), 0),
    ("acosh", "math.acosh", (_ZG,), 0),
    ("atanh", "math.atanh", (_ZG,), 0),
    ("euclidean_norm", "math.reduce_euclidean_norm", (_ZG,), 0),
    ("ctc_loss", "nn.ctc_loss", _CTC_ARGS, 1),
    ("ctc_loss_blank_last", "nn.ctc_loss", (*_CTC_ARGS, True, None, -1), 1),
    ("selu_at_0", "nn.selu", (np.array([-2.0, 0.0, 1.0]),), 0),
    ("sigmoid_ce_at_0", "nn.sigmoid_cross_entropy_with_logits",
     (np.array([1.0, 0.0, 0.3, 1.0]), np.array([0.0, 0.0, 0.0, -2.0])), 1),
]
for _kw in ({}, {"exclusive": True}, {"reverse": True}):
    _k = "".join(k[0] for k in sorted(_kw))
    GRAD_CASES.append((f"cumulative_logsumexp_{_k}", "math.cumulative_logsumexp",
                       (np.array([[1.0, -3.0, 3.0, 700.0, -2.0], [-800.0, 1.0, 2.0, 0.0, 5.0]]),
                        1, *[_kw.get(k, False) for k in ("exclusive", "reverse")]), 0))
