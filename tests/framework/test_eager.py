"""tfx_core/framework/eager.py: the eager executor's compile cache."""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from tfx_core.framework import eager


def test_eager_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(eager, "MAX_EAGER_CACHE", 8)
    x = tx.constant(np.arange(40.0, dtype=np.float32))
    for i in range(20):
        assert float(x[i]) == i
    assert len(eager.EAGER.cache) <= 8
