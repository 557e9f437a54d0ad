"""Differential fuzzer: random op-table programs run eagerly, compiled three ways and in numpy.

Modes (see `run`):
  eager         every op runs immediately (one XLA executable per op)
  compiled      the program inside @tx.function (default passes), returning the sinks
  compiled_all  @tx.function with every pass including the opt-in layout and fusion,
                returning every intermediate value
  folded        @tx.function over inputs captured from the closure: they become constants
                and constant folding computes the program with the ops' numpy references
  dynamic       @tx.function(input_signature=...) with every dim None: traced once with
                unknown dims, specialized and compiled per shape (ops that need static shapes
                refuse, as documented: the mode is then skipped and counted)
Checks: the same exception class in every mode (or none); every eager op against its op-table
reference on the inputs it received (table tolerances, as test_numerics); every compiled mode
against eager (same dtype/shape, values within tolerance, same NaNs; folded: same signs of zero)
wherever the chain determines the value (differential_compare.py, differential_checks.py).

CLI: python -m tests.fuzz.differential --n 1000 --seed 0 [--out failures.json] [--reduce]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

import tfx_core as tx
from compiler.passes import PIPELINE_ORDER

from .differential_catalog import OP
from .differential_checks import (
    Failure,
    cross_mode_failures,
    exception_failures,
    node_check,
    reference_chain,
    taints,
)
from .differential_gen import generate
from .differential_known import AVOID
from .differential_program import Input, Program, Ref

MODES = ("compiled", "compiled_all", "folded", "dynamic")
# what ops say when a None-dim signature leaves them a dim they need statically
NEEDS_STATIC = ("unknown at trace time", "static shape", "must be static", "known last two dims",
                "fully defined", "must be known at trace time",
                "size-1 axes of")  # squeeze() without axis can't tell which None dims are 1

__all__ = ["MODES", "Failure", "Result", "generate", "run", "main"]


@dataclass
class Result:
    program: Program
    status: str  # "ok" | "skip" | "fail"
    failures: list[Failure] = field(default_factory=list)
    reason: str = ""
    excused: Counter = field(default_factory=Counter)  # elements left out, by reason

    def report(self) -> str:
        head = [f"program seed={self.program.seed}: {self.status} {self.reason}"]
        head += [f"  {f}" for f in self.failures]
        return "\n".join(head + ["", self.program.describe(), "", "# repro:",
                                 self.program.snippet()])

    def to_json(self) -> dict:
        return {"seed": self.program.seed, "status": self.status,
                "failures": [f.__dict__ | {"signature": f.signature} for f in self.failures],
                "description": self.program.describe(), "program": self.program.to_json()}


# ---------------------------------------------------------------- executing a program
class _StepError(Exception):
    """An exception raised by step `step` (the original is `__cause__`)."""

    def __init__(self, step: int):
        super().__init__(step)
        self.step = step


def execute(program: Program, inputs) -> list:
    """Every step's value (tensors in, tensors out): the same code eagerly and when traced."""
    vals: list = [None] * len(program.steps)
    it = iter(inputs)
    for i, s in enumerate(program.steps):
        if isinstance(s, Input):
            vals[i] = next(it)
            continue
        args = [vals[a.i] if isinstance(a, Ref) else a for a in s.args]
        try:
            out = OP[s.op].entry.fn(*args, **s.kwargs)
            vals[i] = out if s.take is None else out[s.take]
        except Exception as e:
            raise _StepError(i) from e
    return vals


def _numpy(t) -> np.ndarray:
    if not isinstance(t, tx.Tensor):
        raise TypeError(f"expected a Tensor result, got {type(t).__name__}")
    return t.numpy()


def _run_mode(program: Program, mode: str, info: dict | None = None) -> dict[int, np.ndarray]:
    """{step: value} of the values `mode` returns (eager: every step). For "folded", `info`
    gets "all_folded": whether constant folding computed everything (no XLA arithmetic)."""
    arrays = [program.steps[i].array for i in program.input_ids]
    tensors = [tx.constant(a) for a in arrays]
    if mode == "eager":
        vals = execute(program, tensors)
        return {i: _numpy(vals[i]) for i in program.node_ids}
    ids = program.node_ids if mode == "compiled_all" else list(program.outputs)
    # NOTE: autograph=False: the bodies have no tensor control flow, and AutoGraph converts a
    # function from its source file, so a long fuzz run would trace whatever the file holds
    # now if it is edited meanwhile (it did: TypeErrors from a mismatched body).

    if mode == "folded":  # the inputs are captured by the closure: constants in the trace
        def body():
            vals = execute(program, tensors)
            return tuple(vals[i] for i in ids)

        f = tx.function(body, autograph=False)
        outs = f()
        if info is not None:
            ir = f.experimental_get_compiler_ir()(stage="ir_optimized")
            info["all_folded"] = all("= constant " in line for line in ir.splitlines()
                                     if line.lstrip().startswith("%"))
    elif mode == "dynamic":
        def body(*xs):
            vals = execute(program, xs)
            return tuple(vals[i] for i in ids)

        specs = [tx.TensorSpec([None] * a.ndim, tx.as_dtype(a.dtype)) for a in arrays]
        outs = tx.function(body, input_signature=specs, autograph=False)(*tensors)
    else:
        def body(*xs):
            vals = execute(program, xs)
            return tuple(vals[i] for i in ids)

        passes = list(PIPELINE_ORDER) if mode == "compiled_all" else None
        outs = tx.function(body, experimental_passes=passes, autograph=False)(*tensors)
    return {i: _numpy(o) for i, o in zip(ids, outs)}


def _describe_exc(e: BaseException) -> tuple[str, str, int | None]:
    """(class name, message, step) of what a mode raised."""
    step = None
    if isinstance(e, _StepError):
        step, e = e.step, e.__cause__
    return type(e).__name__, str(e).splitlines()[0][:300] if str(e) else "", step


def run(program: Program, modes: tuple[str, ...] = MODES) -> Result:
    """Run `program` in every mode and check them against each other and the references."""
    if not program.outputs:
        return Result(program, "skip", reason="no ops")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref_vals = reference_chain(program)
    except Exception as e:
        return Result(program, "skip", reason=f"reference raised {type(e).__name__}: {e}")
    got: dict[str, dict] = {}
    raised: dict[str, tuple] = {}
    info: dict = {}
    for mode in ("eager", *modes):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got[mode] = _run_mode(program, mode, info)
        except Exception as e:
            raised[mode] = _describe_exc(e)
    skipped: Counter = Counter()
    dyn = raised.get("dynamic")
    if dyn and dyn[0] != raised.get("eager", (None,))[0] and any(
            m in dyn[1] for m in NEEDS_STATIC):
        del raised["dynamic"]  # a documented limit of unknown dims, not a divergence
        skipped["mode:dynamic-needs-static"] += 1
    if raised:
        return Result(program, "fail", exception_failures(program, modes, raised))
    failures: list[Failure] = []
    excused: Counter = Counter()
    used: dict[int, set] = {}  # step -> excuses its eager reference check needed
    for i in program.node_ids:
        m = node_check(program, i, got["eager"], excused, used.setdefault(i, set()))
        if m is not None:
            failures.append(Failure("ref_mismatch", "eager", i, program.steps[i].op, m.message,
                                    m.kind))
    taint = taints(program, got["eager"], used)
    failures += cross_mode_failures(program, modes, got, ref_vals, excused, taint,
                                    info.get("all_folded", False))
    excused = +(excused + skipped)  # drop zero counts
    return Result(program, "fail" if failures else "ok", failures, excused=excused)


# ---------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="programs to run")
    ap.add_argument("--seed", type=int, default=0, help="first seed (seeds are consecutive)")
    ap.add_argument("--out", help="write failing cases here (JSON)")
    ap.add_argument("--every", type=int, default=100, help="progress line every N programs")
    ap.add_argument("--reduce", action="store_true", help="shrink the first case of each kind")
    ap.add_argument("--verbose", action="store_true", help="print every failing program")
    ap.add_argument("--no-avoid-known", action="store_true",
                    help="also generate calls that hit the known bugs in differential_known.py")
    a = ap.parse_args(argv)
    AVOID[0] = not a.no_avoid_known
    t0 = time.time()
    stats: Counter = Counter()
    kinds: Counter = Counter()
    excused: Counter = Counter()
    cases: list[dict] = []
    reduced: dict[str, dict] = {}
    for k in range(a.n):
        seed = a.seed + k
        try:
            res = run(generate(seed))
        except BaseException as e:  # a harness crash must not stop the run (Ctrl-C does)
            if isinstance(e, KeyboardInterrupt):
                raise
            res = Result(Program([], [], seed), "fail",
                         [Failure("crash", "harness", detail=f"{type(e).__name__}: {e}")])
        stats[res.status] += 1
        excused.update(res.excused)
        if res.status == "fail":
            sigs = sorted({f.signature for f in res.failures})
            kinds.update(sigs)
            case = res.to_json()
            if a.reduce and any(s not in reduced for s in sigs) and res.program.steps:
                from .differential_reduce import reduce_result

                small = reduce_result(res)
                case["reduced"] = small.to_json()
                for s in sigs:
                    reduced.setdefault(s, case)
            cases.append(case)
            if a.verbose:
                print(res.report(), "\n", flush=True)
            else:
                print(f"seed {seed}: " + "; ".join(str(f) for f in res.failures)[:400],
                      flush=True)
        if (k + 1) % a.every == 0 or k + 1 == a.n:
            print(f"[{k + 1}/{a.n}] {time.time() - t0:.0f}s ok={stats['ok']} "
                  f"skip={stats['skip']} fail={stats['fail']}", flush=True)
            if a.out:
                _write(a.out, cases, stats, kinds, t0, excused)
    print(f"\n{a.n} programs in {time.time() - t0:.0f}s: ok={stats['ok']} skip={stats['skip']}"
          f" fail={stats['fail']}")
    for sig, n in kinds.most_common():
        print(f"  {n:6d}  {sig}")
    print("elements excused (documented differences: differential_excuse.py, _checks.py):")
    for why, n in excused.most_common():
        print(f"  {n:6d}  {why}")
    if a.out:
        _write(a.out, cases, stats, kinds, t0, excused)
    return 1 if stats["fail"] else 0


def _write(path: str, cases, stats, kinds, t0, excused) -> None:
    data = {"programs": sum(stats.values()), "seconds": round(time.time() - t0, 1),
            "status": dict(stats), "failures_by_kind": dict(kinds.most_common()),
            "excused_elements": dict(excused.most_common()), "cases": cases}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


if __name__ == "__main__":
    # XLA executables of fuzz programs are throwaway: keep them out of the user's disk cache;
    # verify the IR after every pass, as the test suite does.
    os.environ.setdefault("TFX_CACHE_DIR", "none")
    os.environ.setdefault("TFX_VERIFY_PASSES", "1")
    sys.exit(main())
