"""Op table: tx.print and tx.debugging.check_numerics in a computation (values pass through;
the effect ops must not change results, eagerly or compiled)."""
from __future__ import annotations

import sys

import tfx_core as tx
from tests.optable import OpInfo, Sample, make_arg


def _printed(x):
    tx.print("x:", x, output_stream=sys.stderr)
    return x * 2.0


def _checked(x):
    return tx.debugging.check_numerics(x * 3.0, "checked")


def _samples(rng, dtype):
    return [Sample((make_arg(rng, s, dtype),)) for s in [(), (3,), (2, 4)]]


FLOATS = (tx.float32, tx.float64)
ENTRIES = [
    OpInfo("print", _printed, lambda x: (x * 2).astype(x.dtype), _samples, FLOATS,
           ops=("debug_print", "effect_token", "effect_sink")),
    OpInfo("check_numerics", _checked, lambda x: (x * 3).astype(x.dtype), _samples, FLOATS,
           ops=("debug_assert",)),
]
