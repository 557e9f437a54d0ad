"""Op table: the `fusion` op (a region held as a nested graph), bound directly with a body."""
from __future__ import annotations

import numpy as np

from compiler.interpreters import bind
from compiler.ir.graph import ConstArray, GraphBuilder
from compiler.ir.types import TensorType
from compiler.ops.fusion import fusion_op
from compiler.registry import REGISTRY
from tests.optable import FLOATS, OpInfo, Sample, make_arg


def _body(t: TensorType):
    """(x, y) -> (reduce_sum(exp(x) * y + 1, last axis), tanh(x) * y): two exits."""
    b = GraphBuilder("region")
    x, y = b.add_input(t), b.add_input(t)
    op = REGISTRY.__getitem__
    (one,) = b.add_op(op("constant"), (), {"value": ConstArray(np.ones((), t.dtype.np_dtype))})
    (e,) = b.add_op(op("exp"), (x,))
    (m,) = b.add_op(op("multiply"), (e, y))
    (s,) = b.add_op(op("add"), (m, one))
    (r,) = b.add_op(op("reduce_sum"), (s,), {"axes": (t.rank - 1,), "keepdims": False})
    (h,) = b.add_op(op("tanh"), (x,))
    (p,) = b.add_op(op("multiply"), (h, y))
    return b.build([r, p])


def _fused(x, y):
    return tuple(bind(fusion_op, x, y, body=_body(TensorType(x.dtype, tuple(x.shape)))))


def _ref(x, y):
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    return ((np.exp(x64) * y64 + 1).sum(-1).astype(x.dtype), (np.tanh(x64) * y64).astype(x.dtype))


def _samples(rng, dtype):
    return [Sample((make_arg(rng, s, dtype, -2, 2), make_arg(rng, s, dtype, -2, 2)))
            for s in [(5,), (2, 3), (2, 1, 4), (0, 3)]]


ENTRIES = [
    OpInfo("fusion", _fused, _ref, _samples, FLOATS, ops=("fusion",),
           tol={"float32": (1e-5, 1e-5), "float64": (1e-12, 1e-12)}),
]
