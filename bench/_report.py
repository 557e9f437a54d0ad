"""Shared formatting for the benchmark tables: milliseconds and tfx/peer ratios."""
from __future__ import annotations


def fmt(v: float, unit: float = 1e3) -> str:
    """A time in seconds as milliseconds (or `unit`), "—" when not measured (NaN)."""
    return "—" if v != v else f"{v * unit:.2f}"


def ratio(a: float, b: float) -> str:
    """a / b as "0.93×", "—" when either is not measured."""
    return "—" if a != a or b != b else f"{a / b:.2f}×"
