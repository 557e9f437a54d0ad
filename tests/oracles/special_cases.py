"""Inputs for tests/oracles/record_special.py and tests/ops/test_special_oracle.py: TF's special
functions, nan-safe arithmetic and integer division at poles, edges and out-of-domain points."""
from __future__ import annotations

import numpy as np

INF, NAN = np.inf, np.nan
_EDGE = [-np.inf, -3.0, -2.5, -1.0, -0.5, -0.0, 0.0, 1e-30, 0.3, 0.5, 1.0, 1.5, 2.0, 9.5, 60.0,
         np.inf, np.nan]
_UNIT = [-1.5, -1.0, -0.999, -0.5, -0.0, 0.0, 1e-7, 0.25, 0.999, 1.0, 1.5, np.nan]
_PROB = [-0.5, 0.0, 1e-30, 1e-10, 1e-4, 0.02, 0.3, 0.5, 0.7, 0.999, 1.0 - 1e-7, 1.0, 1.5, np.nan]


def _f(values, dtype=np.float32):
    return np.array(values, dtype)


def _pairs(a, b, dtype=np.float32):
    """Every combination of a and b, as two flat arrays."""
    aa, bb = np.meshgrid(np.array(a, dtype), np.array(b, dtype), indexing="ij")
    return aa.reshape(-1), bb.reshape(-1)


_I = np.array([7, -7, 7, -7, 0, 6, -6, 1, -1, 5], np.int32)
_J = np.array([2, 2, -2, -2, 3, 3, -3, 4, 4, -5], np.int32)
_X = _f([7.5, -7.5, 7.5, -7.5, 0.0, -0.0, 3.0, -3.0, 1.0, 5.0])
_Y = _f([2.0, 2.0, -2.0, -2.0, 3.0, 3.0, 0.0, 0.0, INF, -INF])

# (key, TF function path under tf, positional args, kwargs)
CASES: list[tuple[str, str, tuple, dict]] = []
for _name in ["acos", "acosh", "asin", "asinh", "atan", "atanh", "sinh", "cosh", "lgamma",
              "digamma", "erfc", "bessel_i0", "bessel_i0e", "bessel_i1", "bessel_i1e", "rint",
              "log_sigmoid", "reciprocal_no_nan"]:
    for _dt in (np.float32, np.float64):
        CASES.append((f"{_name}_{np.dtype(_dt).name}", f"math.{_name}", (_f(_EDGE, _dt),), {}))
for _name, _xs in [("erfinv", _UNIT), ("ndtri", _PROB), ("erfcinv", [2 * p for p in _PROB]),
                   ("acos", _UNIT), ("asin", _UNIT), ("atanh", _UNIT)]:
    for _dt in (np.float32, np.float64):
        CASES.append((f"{_name}_unit_{np.dtype(_dt).name}", f"math.{_name}", (_f(_xs, _dt),), {}))
CASES += [
    ("rint_halves", "math.rint", (_f([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -0.4]),), {}),
    ("polygamma", "math.polygamma", _pairs([0, 1, 2, 3, -1, 1.5], [-2.0, -1.5, 0.0, 0.5, 1.0,
                                                                    3.0, INF, NAN]), {}),
    ("zeta", "math.zeta", _pairs([-1.0, 0.5, 1.0, 1.5, 2.0, 4.0, INF],
                                 [-2.0, -1.5, 0.0, 0.5, 1.0, 3.0, INF]), {}),
    ("igamma", "math.igamma", _pairs([-1.0, 0.0, 1e-3, 0.5, 1.0, 3.0, 20.0, INF],
                                     [-1.0, 0.0, 0.1, 1.0, 2.5, 30.0, INF, NAN]), {}),
    ("igammac", "math.igammac", _pairs([-1.0, 0.0, 1e-3, 0.5, 1.0, 3.0, 20.0, INF],
                                       [-1.0, 0.0, 0.1, 1.0, 2.5, 30.0, INF, NAN]), {}),
    ("igamma_f64", "math.igamma", _pairs([0.2, 1.0, 4.5, 100.0], [0.05, 1.0, 5.0, 120.0],
                                         np.float64), {}),
    ("betainc", "math.betainc", (*_pairs([-1.0, 0.0, 0.5, 1.0, 2.5, 30.0],
                                         [0.0, 0.5, 1.0, 3.0]),
                                 np.tile(_f([-0.5, 0.0, 0.2, 0.5, 0.9, 1.0]), 4)), {}),
    ("nextafter", "math.nextafter", (_f([0.0, 1.0, 1.0, -0.0, INF, NAN, 2.0, -1.0]),
                                     _f([1.0, 2.0, 0.0, -1.0, 0.0, 1.0, NAN, -1.0])), {}),
    ("lbeta", "math.lbeta", (_f([[1.0, 2.0], [0.5, 0.5], [3.0, 4.0], [1e-3, 1.0]]),), {}),
    ("lbeta_empty", "math.lbeta", (np.zeros((2, 0), np.float32),), {}),
    ("xlogy", "math.xlogy", (_f([0.0, 0.0, 0.0, 1.0, 2.0, NAN, -1.0]),
                             _f([0.0, -1.0, NAN, 0.0, 3.0, 0.0, 2.0])), {}),
    ("xlog1py", "math.xlog1py", (_f([0.0, 0.0, 0.0, 1.0, 2.0, NAN, -1.0]),
                                 _f([-1.0, -2.0, NAN, -1.0, 3.0, 0.0, 2.0])), {}),
    ("xdivy", "math.xdivy", (_f([0.0, 0.0, 0.0, 1.0, 2.0, NAN, -1.0]),
                             _f([0.0, INF, NAN, 0.0, 3.0, 0.0, 2.0])), {}),
    ("divide_no_nan", "math.divide_no_nan", (_f([0.0, 1.0, NAN, INF, 2.0, -3.0]),
                                             _f([0.0, 0.0, 0.0, 0.0, 4.0, NAN])), {}),
    ("multiply_no_nan", "math.multiply_no_nan", (_f([NAN, INF, 1.0, 2.0, 3.0]),
                                                 _f([0.0, 0.0, 0.0, NAN, INF])), {}),
    ("truncatediv_int", "truncatediv", (_I, _J), {}),
    ("truncatemod_int", "truncatemod", (_I, _J), {}),
    ("floordiv_int", "math.floordiv", (_I, _J), {}),
    ("floormod_int", "math.floormod", (_I, _J), {}),
    ("truncatediv_f", "truncatediv", (_X, _Y), {}),
    ("truncatediv_int_zero", "truncatediv", (_I[:3], np.array([1, 0, 2], np.int32)), {}),
    ("truncatemod_int_zero", "truncatemod", (_I[:3], np.array([1, 0, 2], np.int32)), {}),
    ("truncatediv_uint8", "truncatediv", (np.array([7, 200, 0], np.uint8),
                                          np.array([2, 7, 5], np.uint8)), {}),
    ("truncatemod_int64", "truncatemod", (_I.astype(np.int64), _J.astype(np.int64)), {}),
    ("realdiv_int", "realdiv", (_I, _J), {}),
    ("truncatemod_f", "truncatemod", (_X, _Y), {}),
    ("realdiv_f", "realdiv", (_X, _Y), {}),
    ("cumulative_logsumexp", "math.cumulative_logsumexp",
     (_f([[0.0, -INF, 1.0, 50.0], [-INF, -INF, 2.0, 3.0]]),), {"axis": 1}),
    ("cumulative_logsumexp_excl", "math.cumulative_logsumexp",
     (_f([[0.0, -INF, 1.0, 50.0], [-INF, -INF, 2.0, 3.0]]),), {"axis": 1, "exclusive": True}),
    ("cumulative_logsumexp_rev_excl", "math.cumulative_logsumexp",
     (_f([[0.0, -INF, 1.0, 50.0], [-INF, -INF, 2.0, 3.0]]),),
     {"axis": 1, "exclusive": True, "reverse": True}),
    ("in_top_k_ties", "math.in_top_k",
     (np.array([1, 0, 2, 3], np.int32),
      _f([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0], [0.0, NAN, 2.0, 0.0], [INF, 0.0, 1.0, 0.5]]),
      2), {}),
    ("zero_fraction", "math.zero_fraction", (_f([[0.0, -0.0, 1.0], [NAN, 0.0, 2.0]]),), {}),
    ("zero_fraction_empty", "math.zero_fraction", (np.zeros((0,), np.float32),), {}),
    ("count_nonzero", "math.count_nonzero", (_f([[0.0, -0.0, NAN], [1.0, 0.0, 2.0]]),),
     {"axis": 1}),
    ("reduce_euclidean_norm_int", "math.reduce_euclidean_norm",
     (np.array([[3, 4], [5, 12]], np.int32),), {"axis": 1}),
    ("polyval", "math.polyval", ([_f([1.0, 2.0]), _f(3.0), _f([-1.0, 0.5])], _f([2.0, 3.0])), {}),
    ("polyval_empty", "math.polyval", ([], _f([2.0, 3.0])), {}),
    ("confusion_matrix", "math.confusion_matrix",
     (np.array([0, 1, 2, 1], np.int32), np.array([0, 2, 2, 0], np.int32)), {}),
    ("confusion_matrix_weights", "math.confusion_matrix",
     (np.array([0, 1, 2, 1], np.int64), np.array([0, 2, 2, 0], np.int64)),
     {"num_classes": 4, "weights": _f([0.5, 1.0, 2.0, 3.0])}),
    ("invert_permutation", "math.invert_permutation", (np.array([2, 0, 3, 1], np.int32),), {}),
]

# (key, TF function path, args, index of the argument to differentiate): the gradient of
# sum(f(*args) * w) for w = 1 + 0.5 * arange, recorded with tf.GradientTape.
GRAD_CASES: list[tuple[str, str, tuple, int]] = [
    ("multiply_no_nan_dy", "math.multiply_no_nan", (_f([2.0, 3.0, NAN]), _f([0.0, 1.0, 0.0])), 1),
    ("multiply_no_nan_dx", "math.multiply_no_nan", (_f([2.0, 3.0, NAN]), _f([0.0, 1.0, 0.0])), 0),
    ("divide_no_nan_dy", "math.divide_no_nan", (_f([2.0, 3.0, 0.0]), _f([0.0, 2.0, 0.0])), 1),
    ("xlogy_dx", "math.xlogy", (_f([0.0, 2.0, 0.0]), _f([0.0, 3.0, 2.0])), 0),
    ("xlogy_dy", "math.xlogy", (_f([0.0, 2.0, 0.0]), _f([0.0, 3.0, 2.0])), 1),
    ("xdivy_dy", "math.xdivy", (_f([0.0, 2.0, 0.0]), _f([0.0, 3.0, 2.0])), 1),
    ("xlog1py_dy", "math.xlog1py", (_f([0.0, 2.0, 0.0]), _f([-1.0, 3.0, 2.0])), 1),
    ("bessel_i0e_dx", "math.bessel_i0e", (_f([0.0, 0.5, -2.0, 30.0]),), 0),
    ("bessel_i1e_dx", "math.bessel_i1e", (_f([0.0, 0.5, -2.0, 30.0]),), 0),
    ("bessel_i1_dx", "math.bessel_i1", (_f([0.0, 0.5, -2.0]),), 0),
    ("igamma_dx", "math.igamma", (_f([0.5, 2.0, 3.0]), _f([1.0, 2.0, 0.5])), 1),
    ("igamma_da", "math.igamma", (_f([0.5, 2.0, 3.0]), _f([1.0, 2.0, 0.5])), 0),
    ("igammac_da", "math.igammac", (_f([0.5, 2.0, 3.0]), _f([1.0, 2.0, 0.5])), 0),
    ("betainc_dx", "math.betainc", (_f([0.5, 2.0]), _f([1.5, 3.0]), _f([0.3, 0.6])), 2),
    ("zeta_dq", "math.zeta", (_f([2.0, 3.5]), _f([1.5, 0.7])), 1),
    ("polygamma_dx", "math.polygamma", (_f([0.0, 2.0]), _f([1.5, 0.7])), 1),
    ("erfinv_dx", "math.erfinv", (_f([0.0, 0.5, -0.9]),), 0),
    ("ndtri_dx", "math.ndtri", (_f([0.5, 0.1, 0.97]),), 0),
    ("acosh_dx", "math.acosh", (_f([1.5, 3.0]),), 0),
    ("log_sigmoid_dx", "math.log_sigmoid", (_f([-100.0, 0.0, 30.0]),), 0),
    ("reduce_euclidean_norm_dx", "math.reduce_euclidean_norm", (_f([[3.0, 4.0], [0.0, 0.0]]),), 0),
    ("cumulative_logsumexp_dx", "math.cumulative_logsumexp", (_f([0.0, 1.0, -2.0, 3.0]),), 0),
]
