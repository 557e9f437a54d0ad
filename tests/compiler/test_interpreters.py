"""compiler/interpreters.py: the trace and recorder stacks are per thread."""
from __future__ import annotations

import threading

import numpy as np

import tfx_core as tx


def test_eager_ops_in_another_thread_while_tracing_stay_eager():
    started, release = threading.Event(), threading.Event()
    out = {}

    @tx.function
    def slow(x):
        started.set()
        release.wait(10)
        return x + 1.0

    t = threading.Thread(target=lambda: out.setdefault("traced", slow(tx.constant([1.0]))))
    t.start()
    started.wait(10)
    y = tx.exp(tx.constant([0.0, 1.0]))  # main thread, while the other thread is tracing
    release.set()
    t.join(10)
    np.testing.assert_allclose(y.numpy(), np.exp([0.0, 1.0]), rtol=1e-6)
    np.testing.assert_array_equal(out["traced"].numpy(), [2.0])
