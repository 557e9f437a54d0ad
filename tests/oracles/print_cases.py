"""The tensors whose tf.print text is recorded (tests/oracles/record_print.py) and checked
against tx.print (tests/debugging/test_print.py): (name, numpy value, summarize)."""
from __future__ import annotations

import numpy as np

CASES = [
    ("int_scalar", np.array(5, np.int32), 3),
    ("float_scalar", np.array(2.5, np.float32), 3),
    ("third_f32", np.array(1 / 3, np.float32), 3),
    ("third_f64", np.array(1 / 3, np.float64), 3),
    ("tenth_f32", np.array(0.1, np.float32), 3),
    ("ints", np.array([1, 2, 3], np.int32), 3),
    ("range10", np.arange(10, dtype=np.int32), 3),
    ("range10_s2", np.arange(10, dtype=np.int32), 2),
    ("range10_all", np.arange(10, dtype=np.int32), -1),
    ("range6_s3", np.arange(6, dtype=np.int32), 3),
    ("range7_s3", np.arange(7, dtype=np.int32), 3),
    ("matrix", np.array([[1.5, 2.0], [3.0, 4.25]], np.float32), 3),
    ("bools", np.array([True, False]), 3),
    ("cube", np.arange(24, dtype=np.int32).reshape(2, 3, 4), 3),
    ("specials", np.array([1e-7, 1e10, np.nan, np.inf, -np.inf], np.float32), 3),
    ("tenths", np.array([0.1, 0.2, 0.30000001], np.float32), 3),
    ("big_matrix", np.arange(100, dtype=np.int32).reshape(10, 10), 3),
    ("empty", np.zeros([0], np.float32), 3),
    ("negative", np.array([-1.5, 0.0, 2.0], np.float32), 3),
    ("int64", np.array([2**40, -3], np.int64), 3),
    ("f64_values", np.array([1.0, 0.1, 1e300], np.float64), 3),
    ("tall", np.arange(16, dtype=np.int32).reshape(8, 2), 2),
]
