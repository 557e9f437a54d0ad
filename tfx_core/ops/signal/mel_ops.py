"""tf.signal.linear_to_mel_weight_matrix: triangular filters on TF's (HTK) mel scale,
mel = 1127 ln(1 + hz / 700). A constant, computed on the host in float64 like the windows."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import F32
from tfx_core.framework.dtypes import as_dtype
from tfx_core.framework.operands import Tensor
from tfx_core.ops.arguments import concrete_value, op_error, static_int

_BREAK_HZ = 700.0
_HIGH_Q = 1127.0


def hertz_to_mel(hz: np.ndarray) -> np.ndarray:
    return _HIGH_Q * np.log1p(np.asarray(hz, np.float64) / _BREAK_HZ)


def _number(v: Any, what: str) -> float:
    name = "linear_to_mel_weight_matrix"
    if isinstance(v, Tensor):
        v = concrete_value(v, name, what)
    try:
        return float(np.asarray(v))
    except (TypeError, ValueError):
        raise op_error(name, f"{what} must be a real number, got {v!r}", TypeError) from None


def linear_to_mel_weight_matrix(num_mel_bins: Any = 20, num_spectrogram_bins: Any = 129,
                                sample_rate: Any = 8000, lower_edge_hertz: Any = 125.0,
                                upper_edge_hertz: Any = 3800.0, dtype: Any = F32,
                                name: str | None = None) -> Tensor:
    """A [num_spectrogram_bins, num_mel_bins] matrix mapping linear spectrogram bins (0 to
    sample_rate / 2) to mel bands whose edges are spaced evenly in mel between the two edges;
    the DC bin gets no weight (tf.signal.linear_to_mel_weight_matrix)."""
    name = "linear_to_mel_weight_matrix"
    mels = static_int(num_mel_bins, name, "num_mel_bins")
    bins = static_int(num_spectrogram_bins, name, "num_spectrogram_bins")
    rate = _number(sample_rate, "sample_rate")
    lo, hi = _number(lower_edge_hertz, "lower_edge_hertz"), _number(upper_edge_hertz,
                                                                    "upper_edge_hertz")
    dt = as_dtype(dtype)
    # TF's checks, in TF's order
    if mels <= 0:
        raise op_error(name, f"num_mel_bins must be positive, got {mels}")
    if lo < 0.0:
        raise op_error(name, f"lower_edge_hertz must be non-negative, got {lo}")
    if lo >= hi:
        raise op_error(name, f"lower_edge_hertz {lo:.1f} >= upper_edge_hertz {hi:.1f}")
    if rate <= 0.0:
        raise op_error(name, f"sample_rate must be positive, got {rate}")
    if hi > rate / 2:
        raise op_error(name, f"upper_edge_hertz must not be larger than the Nyquist frequency "
                       f"(sample_rate / 2), got {hi} for sample_rate {rate}")
    if not dt.is_floating:
        raise op_error(name, f"dtype must be a floating point type, got {dt.name}")
    if bins < 0:
        raise op_error(name, f"num_spectrogram_bins must be non-negative, got {bins}")
    spec_mel = hertz_to_mel(np.linspace(0.0, rate / 2.0, bins)[1:])[:, None]
    edges = np.linspace(hertz_to_mel(lo), hertz_to_mel(hi), mels + 2)
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    with np.errstate(all="ignore"):
        up = (spec_mel - lower) / (center - lower)
        down = (upper - spec_mel) / (upper - center)
    w = np.maximum(0.0, np.minimum(up, down))
    w = np.concatenate([np.zeros((min(bins, 1), mels)), w], axis=0)
    return Tensor.from_numpy(w.astype(dt.np_dtype))
