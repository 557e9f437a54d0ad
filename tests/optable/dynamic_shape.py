"""Op-table entries for the shape-operand ops (reshape/broadcast/tile/iota/dynamic_slice_dynamic).

These ops exist only inside traces (a shape computed from None dims) and become their static
forms when the graph is specialized; eager execution of one alone has no compiler to do that. So
each entry binds the op inside a small `tx.function`: called eagerly it compiles (specialize
rewrites the op), called in the compiled test it inlines into that trace. The public patterns
under real None dims are in tests/polymorphic_function/test_dynamic_shapes.py.
"""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from compiler import dynamic_shape as D
from compiler.interpreters import bind

from . import OpInfo, Sample, make_arg

DTYPES = (tx.float32, tx.int32, tx.bool)
GRAD = "only inside traces: gradients under None dims in test_dynamic_shapes.py"


def _in_function(body):
    """`body(x, tx.shape(x))` bound inside a tx.function (a trace: where these ops live)."""
    def fn(x):
        return tx.function(lambda t: body(t, tx.shape(t)))(x)

    return fn


def _reshape(x, s):
    # [prod(s), 1] from the shape: the operand's entries are known only after specialization
    n = tx.reduce_prod(s) if s.shape[0] else tx.constant(1)
    shape = tx.stack([n, 1])
    return bind(D.reshape_dynamic_op, x, shape, known=(None, 1))


def _broadcast(x, s):
    shape = tx.concat([tx.constant([2], tx.int32), s], 0)
    return bind(D.broadcast_dynamic_op, x, shape, known=(2, *[None] * x.ndim))


def _tile(x, s):
    multiples = s * 0 + tx.range(x.ndim, dtype=tx.int32) + 1 if x.ndim else s
    return bind(D.tile_dynamic_op, x, multiples, known=(None,) * x.ndim)


def _iota(x, s):
    return bind(D.iota_dynamic_op, s, known=(None,) * x.ndim, dimension=x.ndim - 1,
                dtype=x.dtype)


def _iota_ref(x):
    idx = np.arange(x.shape[-1]).astype(x.dtype)
    return np.array(np.broadcast_to(idx, x.shape))


def _ds(x, s):
    """x[1, ...] (clamped like XLA) as a window whose sizes come from x's shape."""
    sizes = tx.concat([[1], s[1:]], 0)
    starts = [tx.constant(1)] + [tx.constant(0)] * (x.ndim - 1)
    return bind(D.dynamic_slice_dynamic_op, x, *starts, sizes, known=(1,) + (None,) * (x.ndim - 1))


def _ds_ref(x):
    i = min(1, x.shape[0] - 1)
    return x[i:i + 1].copy()


def _samples(rng, dtype):
    return [Sample((make_arg(rng, s, dtype),)) for s in [(3,), (2, 3), (2, 1, 2), (0, 2)]]


def _ds_samples(rng, dtype):  # a window of 1 along axis 0 needs a non-empty axis 0
    return [Sample((make_arg(rng, s, dtype),)) for s in [(3,), (2, 3), (2, 1, 2), (4, 0)]]


ENTRIES = [
    OpInfo("reshape_dynamic", _in_function(_reshape), lambda x: x.reshape(-1, 1), _samples,
           DTYPES, ops=("reshape_dynamic",), grad=GRAD),
    OpInfo("broadcast_dynamic", _in_function(_broadcast),
           lambda x: np.array(np.broadcast_to(x, (2, *x.shape))), _samples, DTYPES,
           ops=("broadcast_dynamic",), grad=GRAD),
    OpInfo("tile_dynamic", _in_function(_tile),
           lambda x: np.tile(x, [i + 1 for i in range(x.ndim)]), _samples, DTYPES,
           ops=("tile_dynamic",), grad=GRAD),
    OpInfo("dynamic_slice_dynamic", _in_function(_ds), _ds_ref, _ds_samples, DTYPES,
           ops=("dynamic_slice_dynamic",), grad=GRAD),
    OpInfo("iota_dynamic", _in_function(_iota), _iota_ref, _samples, (tx.float32, tx.int32),
           ops=("iota_dynamic",), grad=GRAD),
]
