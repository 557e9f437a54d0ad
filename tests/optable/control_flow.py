"""Op table: tx.cond / tx.switch_case / tx.while_loop (regions run compiled; eager runs Python)."""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from tests.optable import OpInfo, Sample, make_arg


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
           grad=None),  # no maximum_iterations: the checkpointed reverse sweep
]


def _map(x):
    return tx.map_fn(lambda r: tx.reduce_sum(r * r) + r[0], x)


def _map_ref(x):
    x64 = x.astype(np.float64)
    sq = (x64 * x64).reshape(len(x), -1).sum(1).reshape(len(x), *([1] * (x.ndim - 2)))
    return (sq + x64[:, 0]).astype(x.dtype)


def _scan(x):
    return tx.scan(lambda a, r: a * 0.5 + r, x, initializer=tx.zeros_like(x[0]))


def _scan_ref(x):
    acc, out = np.zeros_like(x[0], np.float64), []
    for r in x.astype(np.float64):
        acc = acc * 0.5 + r
        out.append(acc)
    return np.stack(out).astype(x.dtype)


def _foldl(x):
    return tx.foldl(lambda a, r: a * r, x)


def _foldl_ref(x):
    return np.prod(x.astype(np.float64), axis=0).astype(x.dtype)


def _rows_samples(rng, dtype):
    return [Sample((make_arg(rng, s, dtype, -2, 2),)) for s in [(1, 3), (4, 3), (5, 2, 2)]]


def _dynamic_slice(x, i, j):
    from compiler.interpreters import bind
    from compiler.ops.dynamic_slice import dynamic_slice_op

    return bind(dynamic_slice_op, x, i, j, sizes=(2, 2))


def _dynamic_slice_ref(x, i, j):
    i = min(max(int(i), 0), x.shape[0] - 2)
    j = min(max(int(j), 0), x.shape[1] - 2)
    return x[i:i + 2, j:j + 2]


def _dynamic_update(x, u, i, j):
    from compiler.interpreters import bind
    from compiler.ops.dynamic_slice import dynamic_update_slice_op

    return bind(dynamic_update_slice_op, x, u, i, j)


def _dynamic_update_ref(x, u, i, j):
    out = x.copy()
    i = min(max(int(i), 0), x.shape[0] - u.shape[0])
    j = min(max(int(j), 0), x.shape[1] - u.shape[1])
    out[i:i + u.shape[0], j:j + u.shape[1]] = u
    return out


def _starts():
    return [(1, 1), (0, 0), (3, 5), (-4, 2)]  # clamped into range, as XLA does


def _ds_samples(rng, dtype):
    return [Sample((make_arg(rng, (4, 5), dtype), np.array(i, np.int32), np.array(j, np.int32)))
            for i, j in _starts()]


def _dus_samples(rng, dtype):
    return [Sample((make_arg(rng, (4, 5), dtype), make_arg(rng, (2, 3), dtype),
                    np.array(i, np.int32), np.array(j, np.int32))) for i, j in _starts()]


ENTRIES += [
    OpInfo("map_fn", _map, _map_ref, _rows_samples, FLOATS32,
           ops=("while", "dynamic_slice", "dynamic_update_slice")),
    OpInfo("scan", _scan, _scan_ref, _rows_samples, FLOATS32, ops=("while",)),
    OpInfo("foldl", _foldl, _foldl_ref, _rows_samples, FLOATS32, ops=("while",)),
    OpInfo("dynamic_slice", _dynamic_slice, _dynamic_slice_ref, _ds_samples,
           (tx.float32, tx.float64, tx.int32), ops=("dynamic_slice",)),
    OpInfo("dynamic_update_slice", _dynamic_update, _dynamic_update_ref, _dus_samples,
           (tx.float32, tx.float64, tx.int32), ops=("dynamic_update_slice",)),
]
