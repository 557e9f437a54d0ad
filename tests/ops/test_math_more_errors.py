"""Bad input to the tf.math special/nan-safe/reduction names: TF's error classes, messages that
name the op, and the user's file:line."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx

HERE = "test_math_more_errors.py"
F = np.array([1.0, 2.0], np.float32)
I = np.array([1, 2], np.int32)

CASES = [
    ("lgamma", lambda: tx.math.lgamma(tx.constant(I)), TypeError, "floating"),
    ("igamma", lambda: tx.math.igamma(tx.constant(F), tx.constant(F.astype(np.float64))),
     TypeError, "one dtype"),
    ("betainc", lambda: tx.math.betainc(tx.constant(F), tx.constant(F)), TypeError, "3 tensors"),
    ("xlogy", lambda: tx.math.xlogy(tx.constant(I), tx.constant(I)), TypeError, "floating"),
    ("rint", lambda: tx.math.rint(tx.constant(I)), TypeError, "floating"),
    ("realdiv", lambda: tx.realdiv(tx.constant(I), tx.constant(I)), tx.errors.NotFoundError,
     "no kernel"),
    ("add_n", lambda: tx.math.add_n([]), tx.errors.InvalidArgumentError, "at least one"),
    ("add_n", lambda: tx.math.add_n([tx.ones([2]), tx.ones([3])]),
     tx.errors.InvalidArgumentError, "same shape"),
    ("polyval", lambda: tx.math.polyval(tx.constant(F), 2.0), tx.errors.InvalidArgumentError,
     "must be a list"),
    ("lbeta", lambda: tx.math.lbeta(tx.constant(1.0)), tx.errors.InvalidArgumentError,
     "rank >= 1"),
    ("invert_permutation", lambda: tx.math.invert_permutation(tx.constant([0, 0, 1])),
     tx.errors.InvalidArgumentError, "0 is duplicated"),
    ("confusion_matrix", lambda: tx.math.confusion_matrix([0, -1], [1, 1]),
     tx.errors.InvalidArgumentError, "negative"),
    ("confusion_matrix", lambda: tx.math.confusion_matrix([0, 3], [1, 1], num_classes=2),
     tx.errors.InvalidArgumentError, "out of bound"),
    ("in_top_k", lambda: tx.math.in_top_k(tx.constant(I), tx.constant(F), 1),
     tx.errors.InvalidArgumentError, "batch"),
    ("approx_max_k", lambda: tx.math.approx_max_k(tx.constant(F), 1, reduction_dimension=3),
     tx.errors.InvalidArgumentError, "out of range"),
    ("truncatemod", lambda: tx.truncatemod(tx.constant(I), tx.constant([1, 0])),
     tx.errors.InternalError, "division by zero"),
    ("count_nonzero", lambda: tx.math.count_nonzero(tx.constant(F), axis=2),
     tx.errors.InvalidArgumentError, "out of range"),
]


@pytest.mark.parametrize("name,call,cls,text", CASES, ids=[f"{c[0]}-{i}" for i, c in
                                                        enumerate(CASES)])
def test_error_names_op_and_line(name, call, cls, text):
    with pytest.raises(cls) as info:
        call()
    msg = str(info.value)
    assert name in msg and text in msg, msg
    assert HERE in msg, msg


def test_integer_division_by_zero_compiled_follows_xla():
    """Compiled, TF's eager error cannot happen: XLA's rules (x / 0 = -1, x % 0 = x)."""
    f = tx.function(lambda x, y: (tx.truncatediv(x, y), tx.truncatemod(x, y)))
    q, r = f(tx.constant([7, -7]), tx.constant([0, 2]))
    np.testing.assert_array_equal(q.numpy(), [-1, -3])
    np.testing.assert_array_equal(r.numpy(), [7, -1])
