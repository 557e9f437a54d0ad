"""Op table: tx.experimental.dtensor.relayout (the sharding_constraint op) on a one-device mesh:
the identity, eagerly and compiled (the compiled program is an SPMD program of one partition)."""
from __future__ import annotations

import tfx_core as tx
from tests.optable import OpInfo, Sample, make_arg


def _relayout(x, spec):
    dt = tx.experimental.dtensor
    mesh = dt.create_mesh([("x", 1)], devices=[0])
    return dt.relayout(x, dt.Layout(list(spec), mesh))


def _samples(rng, dtype):
    return [Sample((make_arg(rng, (4, 2), dtype), ("x", "unsharded"))),
            Sample((make_arg(rng, (3,), dtype), ("unsharded",))),
            Sample((make_arg(rng, (), dtype), ()))]


ENTRIES = [
    OpInfo("dtensor.relayout", _relayout, lambda x, spec: x, _samples,
           (tx.float32, tx.int32, tx.bool), ops=("sharding_constraint",)),
]
