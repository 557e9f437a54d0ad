"""The PassManager: runs named Graph -> Graph passes, timing, verifying and dumping each."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..ir.graph import Graph
from ..ir.printer import print_graph
from ..ir.verify import verify_graph


@dataclass(frozen=True)
class Pass:
    name: str
    fn: Callable[[Graph], Graph]


PASSES: dict[str, Pass] = {}


def graph_pass(name: str) -> Callable[[Callable[[Graph], Graph]], Callable[[Graph], Graph]]:
    """Register a function Graph -> Graph as the pass `name`."""

    def deco(fn: Callable[[Graph], Graph]) -> Callable[[Graph], Graph]:
        if name in PASSES:
            raise ValueError(f"pass {name!r} registered twice")
        PASSES[name] = Pass(name, fn)
        return fn

    return deco


_changes = threading.local()


def record_change(what: str, n: int = 1) -> None:
    """Count a change ("merged add", "folded multiply", ...) for the running pass's record.

    A no-op outside a PassManager run, so passes can be called directly.
    """
    counts = getattr(_changes, "counts", None)
    if counts is not None:
        counts[what] = counts.get(what, 0) + n


@dataclass(frozen=True)
class PassRecord:
    """What one pass did: its time, the op counts before and after, and what it changed."""

    name: str
    seconds: float
    ops_before: int
    ops_after: int
    changes: tuple[tuple[str, int], ...] = ()  # ("merged add", 3), ... most frequent first

    @property
    def changed(self) -> str:
        """e.g. "merged 12 ops (add 9, transpose 3)"; verbs group their op names."""
        if not self.changes:
            delta = self.ops_before - self.ops_after
            return "no change" if delta == 0 else (
                f"removed {delta} ops" if delta > 0 else f"added {-delta} ops")
        by_verb: dict[str, list[tuple[str, int]]] = {}
        for what, n in self.changes:
            verb, _, obj = what.partition(" ")
            by_verb.setdefault(verb, []).append((obj, n))
        parts = []
        for verb, items in by_verb.items():
            total = sum(n for _, n in items)
            detail = ", ".join(f"{obj} {n}" for obj, n in items if obj)
            noun = "op" if total == 1 else "ops"
            parts.append(f"{verb} {total} {noun}" + (f" ({detail})" if detail else ""))
        return "; ".join(parts)

    @property
    def summary(self) -> str:
        return f"{self.name}: {self.changed} ({self.seconds * 1e3:.2f} ms)"


class PassError(RuntimeError):
    """A pass raised, or left the graph failing verification."""


class PassManager:
    """Run a pipeline of passes by name.

    Args:
        passes: pass names, in order.
        verify: run the verifier after every pass (tests turn this on).
        dump_dir: write `NN_<pass>.tfx` after each pass (default: $TFX_DUMP_IR).
    """

    def __init__(self, passes: Sequence[str], verify: bool = False, dump_dir: str | None = None):
        unknown = [p for p in passes if p not in PASSES]
        if unknown:
            raise ValueError(f"unknown passes {unknown}; known: {sorted(PASSES)}")
        self.passes = [PASSES[p] for p in passes]
        self.verify = verify or os.environ.get("TFX_VERIFY_PASSES") == "1"
        self.dump_dir = dump_dir if dump_dir is not None else os.environ.get("TFX_DUMP_IR")

    def run(self, g: Graph) -> tuple[Graph, list[PassRecord]]:
        records: list[PassRecord] = []
        self._dump(0, "input", g)
        for i, p in enumerate(self.passes, 1):
            done = [r.name for r in records]
            outer = getattr(_changes, "counts", None)  # passes may run pipelines themselves
            _changes.counts = counts = {}
            t0 = time.perf_counter()
            try:
                out = p.fn(g)
                if self.verify:
                    verify_graph(out)
            except Exception as e:
                self._dump(i, f"{p.name}_failed_input", g)
                raise PassError(f"pass {p.name!r} failed after {done}: {e}") from e
            finally:
                _changes.counts = outer
            seconds = time.perf_counter() - t0
            changes = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
            records.append(PassRecord(p.name, seconds, len(g.ops), len(out.ops), changes))
            g = out
            self._dump(i, p.name, g)
        return g, records

    def _dump(self, i: int, name: str, g: Graph) -> None:
        if not self.dump_dir:
            return
        os.makedirs(self.dump_dir, exist_ok=True)
        path = os.path.join(self.dump_dir, f"{g.name}.{i:02d}_{name}.tfx")
        with open(path, "w") as f:
            f.write(print_graph(g, locs=True) + "\n")
