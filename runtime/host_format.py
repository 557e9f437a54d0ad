"""Text of tensor values as TensorFlow prints them (tf.print, assertion messages)."""
from __future__ import annotations

import numpy as np


def format_scalar(x: np.generic) -> str:
    """One element: bools as 1/0, floats in the fewest of 6/9 (f32) or 15/17 (f64) significant
    digits that read back exactly (TF's FloatToBuffer / DoubleToBuffer)."""
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, (np.floating, float)):
        if np.isnan(x):
            return "nan" if not np.signbit(x) else "-nan"
        if np.isinf(x):
            return "inf" if x > 0 else "-inf"
        digits = (15, 17) if np.asarray(x).dtype == np.float64 else (6, 9)
        t = np.asarray(x).dtype.type
        short = f"{float(x):.{digits[0]}g}"
        return short if t(short) == x else f"{float(x):.{digits[1]}g}"
    return str(x)


def format_tensor(a: np.ndarray, summarize: int = 3) -> str:
    """A tensor the way tf.print shows it: nested brackets, elements separated by spaces, and
    each axis longer than 2*summarize cut to its first and last `summarize` with `...`
    (summarize < 0: everything)."""
    a = np.asarray(a)
    if a.ndim == 0:
        return format_scalar(a[()])
    return _format_axis(a, summarize, 1)


def _format_axis(a: np.ndarray, summarize: int, depth: int) -> str:
    n = a.shape[0]
    cut = 0 <= summarize and 2 * summarize < n
    idx = list(range(summarize)) + [None] + list(range(n - summarize, n)) if cut \
        else list(range(n))
    if a.ndim == 1:
        return "[" + " ".join("..." if i is None else format_scalar(a[i]) for i in idx) + "]"
    sep = "\n" * (a.ndim - 1) + " " * depth
    return "[" + sep.join("..." if i is None else _format_axis(a[i], summarize, depth + 1)
                          for i in idx) + "]"


def format_value(x: object, summarize: int = 3) -> str:
    """A tensor (numpy array), string, or Python value, as tf.print shows it."""
    if isinstance(x, str):
        return x
    if isinstance(x, np.ndarray) or isinstance(x, np.generic):
        return format_tensor(np.asarray(x), summarize)
    return str(x)
