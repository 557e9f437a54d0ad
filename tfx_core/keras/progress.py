"""Progress output for fit/evaluate/predict: a live tqdm bar (verbose=1) or one line (verbose=2).

tqdm is optional (`pip install tfx[progress]`): `tqdm.auto` draws a widget in Jupyter and a
terminal bar elsewhere; without tqdm, verbose=1 prints the verbose=2 line.
"""
from __future__ import annotations

import sys
import time
from typing import Any


def format_logs(logs: dict[str, Any]) -> str:
    """` - accuracy: 0.9375 - loss: 0.2113` in Keras's format (tiny values as 1.2345e-05)."""
    parts = []
    for key, value in logs.items():
        if isinstance(value, (int, float)):
            text = f"{value:.4f}" if abs(value) > 1e-3 or value == 0 else f"{value:.4e}"
            parts.append(f" - {key}: {text}")
    return "".join(parts)


def format_time(seconds: float, steps: int) -> str:
    """`1s 12ms/step`-style timing (Keras picks s, ms or us per step)."""
    per = seconds / max(1, steps)
    if per >= 1:
        unit = f"{per:.0f}s/step"
    elif per >= 1e-3:
        unit = f"{per * 1e3:.0f}ms/step"
    else:
        unit = f"{per * 1e6:.0f}us/step"
    return f"{seconds:.0f}s {unit}"


def _tqdm() -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """One bar (or line) over `steps` batches; `update(step, logs)`, then `finish(logs)`."""

    def __init__(self, steps: int | None, verbose: int) -> None:
        self.steps, self.verbose = steps, verbose
        self.start = time.perf_counter()
        self.seen = 0
        self.bar = None
        tqdm = _tqdm() if verbose == 1 else None
        if tqdm is not None:
            # NOTE: stdout (looked up now, so captured output works), Keras's layout: the
            # time left (ETA) while the epoch runs, the time per step once it is done
            self.bar = tqdm(total=steps, file=sys.stdout, leave=True, dynamic_ncols=True,
                            bar_format="{n_fmt}/{total_fmt} {bar} ETA {remaining}{desc}",
                            ascii=" =", mininterval=0.1)

    def update(self, step: int, logs: dict[str, Any] | None) -> None:
        self.seen = step + 1
        if self.bar is not None:
            self.bar.set_description_str(format_logs(_sorted(logs or {})), refresh=False)
            self.bar.update(self.seen - self.bar.n)

    def finish(self, logs: dict[str, Any] | None) -> None:
        elapsed = time.perf_counter() - self.start
        steps = self.steps or self.seen
        text = format_logs(_sorted(logs or {}))
        if self.bar is not None:
            self.bar.bar_format = "{n_fmt}/{total_fmt} {bar}{desc}"  # the time replaces elapsed
            self.bar.set_description_str(f" {format_time(elapsed, self.seen)}{text}", refresh=False)
            self.bar.update(steps - self.bar.n)
            self.bar.close()
        elif self.verbose:
            print(f"{steps}/{steps} - {format_time(elapsed, self.seen).replace(' ', ' - ')}"
                  f"{text}", flush=True)


def _sorted(logs: dict[str, Any]) -> dict[str, Any]:
    # Keras prints a step's metrics in name order, then the val_ entries of the epoch
    train = {k: logs[k] for k in sorted(logs) if not k.startswith("val_")}
    return {**train, **{k: logs[k] for k in sorted(logs) if k.startswith("val_")}}


__all__ = ["Progress", "format_logs", "format_time"]
