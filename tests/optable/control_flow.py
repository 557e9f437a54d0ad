"""Op table: tx.cond / tx.switch_case / tx.while_loop (regions run compiled; eager runs Python)."""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from tests.optable import OpInfo, Sample, make_arg

_NO_GRAD = "gradients through while_loop are not implemented yet"


def _cond(p, x):
    return tx.cond(p, lambda: x * 2.0 + 1.0, lambda: -x)


def _cond_ref(p, x):
    return (x * 2 + 1).astype(x.dtype) if p else -x


def _cond_samples(rng, dtype):
    return [Sample((np.array(p), make_arg(rng, s, dtype))) for p in (True, False)
            for s in [(), (3,), (2, 3)]]


def _switch(k, x):
    return tx.switch_case(k, [lambda: x, lambda: x * 3.0, lambda: tx.exp(x)])


def _switch_ref(k, x):
    k = int(k) if 0 <= int(k) < 3 else 2
    return [x, (x * 3).astype(x.dtype), np.exp(x.astype(np.float64)).astype(x.dtype)][k]


def _switch_samples(rng, dtype):
    return [Sample((np.array(k, np.int32), make_arg(rng, (4,), dtype, -1, 1)))
            for k in (0, 1, 2, 9, -1)]


def _loop(x, n):
    """Doubles x n times, counting up; the result carries both."""
    i, y = tx.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * 2.0),
                         (tx.constant(0), x))
    return y, i


def _loop_ref(x, n):
    k = max(int(n), 0)
    return (x * 2.0 ** k).astype(x.dtype), np.array(k, np.int32)


def _loop_samples(rng, dtype):
    return [Sample((make_arg(rng, s, dtype), np.array(n, np.int32)))
            for s, n in [((), 3), ((3,), 0), ((2, 2), 5), ((4,), -2)]]


FLOATS32 = (tx.float32, tx.float64)
ENTRIES = [
    OpInfo("cond", _cond, _cond_ref, _cond_samples, FLOATS32, ops=("case", "convert")),
    OpInfo("switch_case", _switch, _switch_ref, _switch_samples, FLOATS32, ops=("case",)),
    OpInfo("while_loop", _loop, _loop_ref, _loop_samples, FLOATS32, ops=("while",),
           grad=_NO_GRAD),
]
