"""How much host memory there is, and refusing programs that cannot fit before they run.

XLA's CPU runtime answers an allocation it cannot make by returning poisoned buffers (and, when
the machine is nearly full, by printing one line per failed small allocation); reading such a
buffer aborts the process. A program whose outputs and temporaries cannot fit is refused here,
with a ResourceExhaustedError, before it is dispatched.
"""
from __future__ import annotations

import functools
import os


@functools.cache
def total_bytes() -> int:
    """Physical memory plus swap (0 when unknown: nothing is refused)."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
    return ram + _meminfo().get("SwapTotal", 0)


def available_bytes() -> int | None:
    """What the kernel says a new allocation can get now (MemAvailable + SwapFree), or None."""
    info = _meminfo()
    if "MemAvailable" not in info:
        return None
    return info["MemAvailable"] + info.get("SwapFree", 0)


def _meminfo() -> dict[str, int]:
    try:
        with open("/proc/meminfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    out = {}
    for line in lines:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[key] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return out


def describe(n: float) -> str:
    """A byte count for people: 4.0 TB, 210 MB, 12 KB."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"
