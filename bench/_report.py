"""Shared helpers for the benchmark tables: milliseconds, tfx/peer ratios, timed calls."""
from __future__ import annotations


def fmt(v: float, unit: float = 1e3) -> str:
    """A time in seconds as milliseconds (or `unit`), "—" when not measured (NaN)."""
    return "—" if v != v else f"{v * unit:.2f}"


def ratio(a: float, b: float) -> str:
    """a / b as "0.93×", "—" when either is not measured."""
    return "—" if a != a or b != b else f"{a / b:.2f}×"


def median_call_time(call, wait, n: int) -> float:
    """Median seconds of `n` calls, each waited for (`wait(call())`), with gc off."""
    import gc
    import statistics
    import time

    times = []
    gc.disable()
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            wait(call())
            times.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return statistics.median(times)
