"""The data-dependent-shape op calls whose answers tests/oracles/record_data_dependent.py records
from TF (boolean_mask, one-argument where, unique, unique_with_counts, dynamic_partition)."""
from __future__ import annotations

import numpy as np

NAN = float("nan")
X3 = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
M23 = np.array([[True, False, True], [False, False, True]])

# name -> (op, positional args, keyword args); arrays keep their dtype when passed to TF and tx
CASES: dict[str, tuple[str, tuple, dict]] = {
    "mask_1d": ("boolean_mask", (np.array([1.0, 2.0, 3.0, 4.0], np.float32),
                                 np.array([True, False, True, True])), {}),
    "mask_rows": ("boolean_mask", (X3, np.array([False, True])), {}),
    "mask_2d": ("boolean_mask", (X3, M23), {}),
    "mask_axis1": ("boolean_mask", (X3, np.array([True, False, True])), {"axis": 1}),
    "mask_axis_neg": ("boolean_mask", (X3, np.array([True, False, False, True])), {"axis": -1}),
    "mask_2d_axis1": ("boolean_mask", (X3, np.ones((3, 4), bool)), {"axis": 1}),
    "mask_none_true": ("boolean_mask", (X3, np.zeros(2, bool)), {}),
    "mask_int": ("boolean_mask", (np.array([5, 6, 7], np.int32), np.array([True, True, False])),
                 {}),
    "mask_bad_shape": ("boolean_mask", (X3, np.ones(3, bool)), {}),
    "mask_scalar": ("boolean_mask", (X3, np.array(True)), {}),
    "where_bool": ("where", (M23,), {}),
    "where_3d": ("where", (X3 > 15,), {}),
    "where_float": ("where", (np.array([0.0, -0.0, 1.5, NAN, -2.0], np.float32),), {}),
    "where_int": ("where", (np.array([[0, 3], [-1, 0]], np.int32),), {}),
    "where_scalar": ("where", (np.array(True),), {}),
    "where_none": ("where", (np.zeros((2, 2), bool),), {}),
    "unique_int": ("unique", (np.array([1, 1, 2, 4, 4, 4, 7, 8, 8], np.int32),), {}),
    "unique_order": ("unique", (np.array([5, 3, 5, 1, 3, 9], np.int32),), {}),
    "unique_float": ("unique", (np.array([2.5, NAN, -0.0, 0.0, NAN, 2.5], np.float32),), {}),
    "unique_i64_idx": ("unique", (np.array([3, 1, 3], np.int64),), {"out_idx": "int64"}),
    "unique_empty": ("unique", (np.zeros(0, np.float32),), {}),
    "unique_2d": ("unique", (np.ones((2, 2), np.float32),), {}),
    "unique_bool": ("unique", (np.array([True, False, True]),), {}),
    "counts_int": ("unique_with_counts", (np.array([1, 1, 2, 4, 4, 4, 7, 8, 8], np.int32),), {}),
    "counts_order": ("unique_with_counts", (np.array([5, 3, 5, 1, 3, 9], np.float64),),
                     {"out_idx": "int64"}),
    "part_1d": ("dynamic_partition", (np.array([10, 20, 30, 40, 50], np.float32),
                                      np.array([0, 0, 1, 1, 0], np.int32), 2), {}),
    "part_rows": ("dynamic_partition", (X3.reshape(6, 4), np.array([2, 0, 2, 1, 0, 2], np.int32),
                                        3), {}),
    "part_2d": ("dynamic_partition", (X3, np.array([[1, 0, 1], [0, 0, 1]], np.int32), 2), {}),
    "part_empty_bucket": ("dynamic_partition", (np.arange(4, dtype=np.float32),
                                                np.array([0, 2, 2, 0], np.int32), 4), {}),
    "part_out_of_range": ("dynamic_partition", (np.arange(4, dtype=np.float32),
                                                np.array([0, 2, 5, 0], np.int32), 3), {}),
    "part_negative": ("dynamic_partition", (np.arange(4, dtype=np.float32),
                                            np.array([0, -1, 1, 0], np.int32), 3), {}),
    "part_bad_shape": ("dynamic_partition", (np.arange(4, dtype=np.float32),
                                             np.array([0, 1, 1], np.int32), 2), {}),
}

# name -> (op, args, kwargs, index of the differentiated argument); TF's gradient of
# sum(w * out) for fixed weights w = 1, 2, 3, ... over every output element (None: no gradient)
GRAD_CASES: dict[str, tuple[str, tuple, dict, int]] = {
    "grad_mask_2d": ("boolean_mask", CASES["mask_2d"][1], {}, 0),
    "grad_mask_axis1": ("boolean_mask", CASES["mask_axis1"][1], {"axis": 1}, 0),
    "grad_part_2d": ("dynamic_partition", CASES["part_2d"][1], {}, 0),
    "grad_unique": ("unique", (np.array([2.0, 1.0, 2.0, 3.0], np.float32),), {}, 0),
}

# tf.ensure_shape eagerly: name -> (shape of a zeros tensor, expected shape)
ENSURE_SHAPE: dict[str, tuple[list, object]] = {
    "ensure_ok": ([2, 3], [2, None]),
    "ensure_none": ([2, 3], None),
    "ensure_dim": ([2, 3], [2, 4]),
    "ensure_rank": ([2, 3], [2, 3, 1]),
    "ensure_wildcards": ([2, 3], [None, None]),
}


def encode(a: np.ndarray) -> dict:
    """One array as JSON: dtype name, shape and flat values (NaN kept as JSON's NaN)."""
    a = np.asarray(a)
    return {"dtype": a.dtype.name, "shape": list(a.shape), "values": a.reshape(-1).tolist()}


def decode(d: dict) -> np.ndarray:
    return np.asarray(d["values"], np.dtype(d["dtype"])).reshape(d["shape"])
