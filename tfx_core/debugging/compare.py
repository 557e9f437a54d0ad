"""`tx.debugging.compare`: why does compiled code differ from the math? Op by op, reference vs XLA.

The function is traced for the given arguments; its IR (as traced, then after our passes) is run
op by op through each op's numpy `reference` and through XLA (each op compiled alone, as eager
ops are), both fed the same inputs: the reference's values. The report names the first op whose
results disagree beyond tolerance, or that did something compiled code silently tolerates (an
out-of-range index clamped, a NaN born from finite inputs, an integer that wrapped), with its
source line, the pass that last rewrote it and the likely cause. The whole compiled program's
outputs are compared with the reference too.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compiler.divergence import (
    accumulation_magnitude,
    closeness,
    default_tolerances,
    index_hazard,
    integer_overflow,
    mismatch_cause,
    nan_born,
)
from compiler.ir.graph import Graph, Op, Value
from compiler.ir.printer import format_attr, print_graph
from compiler.ir.types import DType
from compiler.lowering.stablehlo import lower_graph
from compiler.ops.fusion import evaluate_reference
from compiler.passes import PassManager
from runtime import compile_stablehlo, device_put
from tfx_core import config
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.eager import EAGER
from tfx_core.framework.tensor import Tensor
from tfx_core.polymorphic_function.function import Function, function
from tfx_core.polymorphic_function.signature import flatten_call

MAX_STEPPED_ITERATIONS = 100  # while loops: iterations stepped through op by op
MAX_FINDINGS = 20

# Finding kinds, in the words the report uses.
KINDS = {
    "mismatch": "results differ",
    "nan_born": "NaN born here",
    "clamped_index": "clamped index",
    "integer_overflow": "integer overflow",
    "reference_error": "the numpy reference failed",
    "xla_error": "XLA failed",
    "pass_changed_results": "a pass changed the results",
    "whole_program": "the compiled program differs",
}


@dataclass(frozen=True)
class Divergence:
    """One op where compiled and reference results part ways (or compiled code hid a problem).

    Attributes:
        kind: a key of KINDS ("mismatch", "nan_born", "clamped_index", ...).
        op: the op's IR name ("dynamic_slice").
        loc: the user's "file.py:12" that created the op (None when a pass made it).
        stage: which IR: "traced IR", "optimized IR", "traced IR › while iteration 2 (body)"...
        index: the op's position in its graph.
        text: the op's line in the printed IR.
        cause: the likely cause, in words.
        rewritten_by: the pass that last rewrote the op (None: as traced).
        max_abs_error / max_rel_error: the largest differences between the two results.
    """

    kind: str
    op: str
    loc: str | None
    stage: str
    index: int
    text: str
    cause: str
    rewritten_by: str | None = None
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0

    def describe(self, indent: str = "  ") -> str:
        where = f" ({self.loc})" if self.loc else ""
        pass_ = (f"last rewritten by pass {self.rewritten_by!r}" if self.rewritten_by
                 else "as traced" if self.stage.startswith("traced") else "not rewritten")
        lines = [f"{KINDS.get(self.kind, self.kind)} at `{self.op}`{where}: op {self.index} "
                 f"of the {self.stage}, {pass_}",
                 f"{indent}{self.text}",
                 f"{indent}cause: {self.cause}"]
        if self.kind in ("mismatch", "whole_program"):
            lines.append(f"{indent}max abs error {self.max_abs_error:.3g}, max rel error "
                         f"{self.max_rel_error:.3g}")
        return "\n".join(lines)


@dataclass(frozen=True)
class OutputComparison:
    """One output of the whole compiled program against the reference evaluation."""

    what: str  # "output 0", "variable update 0"
    ok: bool
    max_abs_error: float
    max_rel_error: float


@dataclass
class CompareReport:
    """What `compare` found. `str(report)` is the readable form."""

    function: str
    findings: list[Divergence]
    outputs: list[OutputComparison]
    ops_compared: dict[str, int] = field(default_factory=dict)  # stage -> ops run
    tolerance: str = "dtype defaults"

    @property
    def ok(self) -> bool:
        """No op diverged, nothing was hidden, and the compiled outputs match."""
        return not self.findings and all(o.ok for o in self.outputs)

    @property
    def first_divergence(self) -> Divergence | None:
        return self.findings[0] if self.findings else None

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {stage} ops" for stage, n in self.ops_compared.items())
        agree = sum(o.ok for o in self.outputs)
        head = f"compare({self.function}): {counts} checked against their numpy references " \
               f"({self.tolerance}); outputs: {agree} of {len(self.outputs)} agree"
        if self.ok:
            return f"{head}\nOK: compiled and reference results agree"
        lines = [head, "first divergence: " + self.findings[0].describe()]
        if len(self.findings) > 1:
            lines.append("other findings:")
            lines += ["- " + d.describe("    ") for d in self.findings[1:]]
        lines.append("outputs (the whole compiled program vs the reference):")
        lines += [f"  {o.what}: {'ok' if o.ok else 'DIFFERS'} (max abs error "
                  f"{o.max_abs_error:.3g}, max rel error {o.max_rel_error:.3g})"
                  for o in self.outputs]
        return "\n".join(lines)

    def __repr__(self) -> str:
        first = self.first_divergence
        return (f"<CompareReport {self.function}: ok={self.ok}"
                + (f", first: {first.kind} at {first.op} ({first.loc})>" if first else ">"))


def compare(f: Callable, *args: Any, rtol: float | None = None, atol: float | None = None,
            **kwargs: Any) -> CompareReport:
    """Run `f`'s IR op by op through numpy references and XLA; report where they part ways.

    Args:
        f: a `tx.function` (a plain Python function is wrapped in one).
        *args, **kwargs: the call to check (tensors, numpy arrays, Python values).
        rtol, atol: tolerances for float results (default: per dtype, e.g. 1e-5 and 1e-6 for
            float32). A float sum or dot is measured against the magnitude of its terms.

    Returns:
        A CompareReport: `.ok`, `.first_divergence`, `.findings`, `.outputs`, and a readable
        `str()`.
    """
    fn = f if isinstance(f, Function) else function(f)
    name = getattr(fn, "__name__", None) or getattr(f, "__name__", "f")
    leaves = flatten_call(name, (args, kwargs))[0]
    cf = fn.get_concrete_function(*args, **kwargs)
    compiled = cf.compiled_for_leaves(leaves)
    traced, optimized = compiled.graph, compiled.optimized
    explicit = [leaves[i] for i in cf.tensor_indices] + list(cf.captured_inputs)
    inputs = [_host(x, t.dtype) for x, t in zip(explicit, traced.input_types)]

    checker = _Checker(rtol, atol)
    want = checker.run(traced, inputs, "traced IR")
    stages = _pass_stages(traced, cf.passes)
    checker.rewritten_by = _attribution(stages, optimized)
    want_opt = checker.run(optimized, inputs, "optimized IR")
    checker.rewritten_by = {}
    checker.check_passes(stages, inputs, want, want_opt)

    got = _run_whole(optimized, inputs, name, cf)
    outputs = checker.check_outputs(traced, optimized, want, got, len(cf.assigned_variables))
    tol = "dtype defaults" if rtol is None and atol is None else \
        f"rtol={'dtype default' if rtol is None else rtol}, " \
        f"atol={'dtype default' if atol is None else atol}"
    return CompareReport(name, checker.findings, outputs,
                         {"traced": len(traced.ops), "optimized": len(optimized.ops)}, tol)


# ---------------------------------------------------------------- running one op
def _host(x: Any, dtype: DType) -> np.ndarray:
    """An argument or capture as a numpy array of its traced dtype."""
    if isinstance(x, Tensor):
        return x.numpy()
    to_numpy = getattr(x, "numpy", None)  # Variables
    a = np.asarray(to_numpy() if callable(to_numpy) else x)
    return a.astype(dtype.np_dtype, copy=False)


def _quiet(fn: Callable[[], Any]) -> Any:
    """Run numpy code without its warnings: invalid values are what we look for ourselves."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def _reference(op: Op, ins: list) -> tuple[np.ndarray, ...]:
    res = _quiet(lambda: op.opdef.reference(*ins, **op.attr_dict))
    res = tuple(res) if op.opdef.multiple_results else (res,)
    outs = []
    for v, r in zip(op.outputs, res):
        r = np.asarray(r)
        want = v.type.dtype.np_dtype
        if r.shape != tuple(v.type.shape):
            raise ValueError(f"the reference returns shape {r.shape}, the op's type is {v.type}")
        outs.append(r if r.dtype == want else r.astype(want))
    return tuple(outs)


def _xla(op: Op, ins: list) -> tuple[np.ndarray, ...]:
    """The op alone, compiled and run by XLA (through the eager executor and its cache)."""
    if op.name == "constant":  # nothing to compute: its value is the attribute
        return (op.attr_dict["value"].array,)
    args = [convert_to_tensor(np.asarray(x)) for x in ins]
    res = EAGER.process(op.opdef, args, op.attr_dict)
    return tuple(r.numpy() for r in (res if op.opdef.multiple_results else [res]))


def _run_whole(g: Graph, inputs: list, name: str, owner: Any) -> list[np.ndarray]:
    """The optimized program compiled whole (without donation: variables stay untouched)."""
    options = config.lowering_options()
    lowered = lower_graph(g, options)
    key = print_graph(g) + f"\n{options.cache_key}"  # shares the function's own executable
    out_sig = [(t.shape, t.dtype.np_dtype) for t in g.output_types]
    exe, _ = compile_stablehlo(lowered.bytecode, out_sig, name=name, cache_key=key,
                               measure_chain=lowered.longest_chain, owner=owner)
    return [np.asarray(o) for o in exe([device_put(a) for a in inputs])]


def _names(g: Graph) -> dict[Value, str]:
    """The printer's names: inputs, then each op's outputs in order."""
    names = {v: f"%{i}" for i, v in enumerate(g.inputs)}
    for op in g.ops:
        for v in op.outputs:
            names[v] = f"%{len(names)}"
    return names


def _op_text(op: Op, names: dict[Value, str]) -> str:
    outs = ", ".join(f"{names[v]}: {v.type}" for v in op.outputs)
    text = f"{outs} = {op.name}"
    if op.inputs:
        text += " " + ", ".join(names.get(v, "%?") for v in op.inputs)
    attrs = [f"{k}=@{a.name}" if isinstance(a, Graph) else f"{k}=(regions)"
             if isinstance(a, tuple) and any(isinstance(x, Graph) for x in a)
             else f"{k}={format_attr(a)}" for k, a in op.attrs]
    return text + (f" {{{', '.join(attrs)}}}" if attrs else "")


# ---------------------------------------------------------------- the op-by-op walk
class _Checker:
    """Walks graphs op by op, feeding reference values to both sides, collecting findings."""

    def __init__(self, rtol: float | None, atol: float | None):
        self.rtol, self.atol = rtol, atol
        self.findings: list[Divergence] = []
        self._seen: set[tuple] = set()
        self.hits = 0  # findings met, repeats included (a region's ops may repeat the top's)
        self.rewritten_by: dict[Op, str] = {}
        self.magnitude: dict[Value, np.ndarray] = {}  # accumulating ops' term magnitudes

    def tolerances(self, dtype: DType) -> tuple[float, float]:
        r, a = default_tolerances(dtype)
        return (r if self.rtol is None else self.rtol, a if self.atol is None else self.atol)

    def add(self, d: Divergence) -> bool:
        """Record a finding once per (kind, op, line) and stage kind; False if a repeat."""
        key = (d.kind, d.op, d.loc, d.text if d.loc is None else "")
        self.hits += 1
        if key in self._seen or len(self.findings) >= MAX_FINDINGS:
            return False
        self._seen.add(key)
        self.findings.append(d)
        return True

    def run(self, g: Graph, inputs: list, stage: str) -> list[np.ndarray]:
        """Every op of `g` on reference values; returns the reference outputs."""
        env: dict[Value, np.ndarray] = dict(zip(g.inputs, inputs))
        names = _names(g)
        for k, op in enumerate(g.ops):
            outs = self._check_op(op, [env[v] for v in op.inputs], stage, k, names)
            env.update(zip(op.outputs, outs))
        return [env[v] for v in g.outputs]

    def _finding(self, kind: str, op: Op, stage: str, k: int, names: dict, cause: str,
                 errors: tuple[float, float] = (0.0, 0.0)) -> bool:
        return self.add(Divergence(kind, op.name, op.loc, stage, k, _op_text(op, names), cause,
                                   self.rewritten_by.get(op), *errors))

    def _check_op(self, op: Op, ins: list, stage: str, k: int, names: dict) -> tuple:
        try:
            want: tuple | None = _reference(op, ins)
        except Exception as e:  # noqa: BLE001  (reported as a finding)
            want, ref_error = None, e
        try:
            got: tuple | None = _xla(op, ins)
        except Exception as e:  # noqa: BLE001
            got, xla_error = None, e
        if want is None or got is None:
            if want is None and got is None:
                raise RuntimeError(f"compare: op {op.name} ({op.loc}) failed both in its numpy "
                                   f"reference ({ref_error}) and in XLA ({xla_error})")
            kind, e = ("reference_error", ref_error) if want is None else ("xla_error", xla_error)
            self._finding(kind, op, stage, k, names, f"{type(e).__name__}: {e}")
            return got if want is None else want
        before = self.hits
        self._step_into(op, ins, stage)
        if self.hits > before:  # the region's own op explains it better
            return want
        self._judge(op, ins, want, got, stage, k, names)
        return want

    def _judge(self, op: Op, ins: list, want: tuple, got: tuple, stage: str, k: int,
               names: dict) -> None:
        hazard = index_hazard(op, ins)
        if hazard:
            self._finding("clamped_index", op, stage, k, names, hazard)
            return
        nan = nan_born(op, ins, want, got)
        if nan:
            self._finding("nan_born", op, stage, k, names, nan)
            return
        for w in want:
            wrap = integer_overflow(op, ins, w)
            if wrap:
                self._finding("integer_overflow", op, stage, k, names, wrap)
                return
        for j, (v, w, g) in enumerate(zip(op.outputs, want, got)):
            mag = accumulation_magnitude(op, ins) if j == 0 else None
            if mag is not None:
                self.magnitude[v] = mag
            c = closeness(w, g, *self.tolerances(v.type.dtype), mag)
            if not c.ok:
                cause = mismatch_cause(op, ins, w, g, c, mag)
                if op.opdef.multiple_results:
                    cause = f"output {j}: {cause}"
                self._finding("mismatch", op, stage, k, names, cause, (c.max_abs, c.max_rel))
                return

    def _step_into(self, op: Op, ins: list, stage: str) -> None:
        """Regions: the taken case branch, a fusion body, and a while loop's iterations."""
        a = op.attr_dict
        if op.name == "fusion":
            self.run(a["body"], ins, f"{stage} › fusion @{a['body'].name}")
        elif op.name == "case":
            n = len(a["branches"])
            b = int(ins[0]) if 0 <= int(ins[0]) < n else n - 1
            self.run(a["branches"][b], ins[1:], f"{stage} › case branch {b}")
        elif op.name == "while":
            state = list(ins)
            for i in range(MAX_STEPPED_ITERATIONS):
                where = f"{stage} › while iteration {i}"
                if not bool(self.run(a["cond"], state, f"{where} (cond)")[0]):
                    return
                state = self.run(a["body"], state, f"{where} (body)")

    # ------------------------------------------------------------ whole-graph checks
    def check_passes(self, stages: list[tuple[str, Graph]], inputs: list, want: list,
                     want_opt: list) -> None:
        """If the passes changed the reference results, name the first pass that did."""
        if self._outputs_agree(stages[0][1], want, want_opt):
            return
        for name, g in stages[1:]:
            outs = [np.asarray(o) for o in _quiet(lambda g=g: evaluate_reference(g, inputs))]
            bad = self._first_bad_output(stages[0][1], want, outs)
            if bad is None:
                continue
            op = g.producers().get(g.outputs[bad])
            names = _names(g)
            self.add(Divergence(
                "pass_changed_results", op.name if op else "input", op.loc if op else None,
                f"IR after pass {name!r}", g.ops.index(op) if op else -1,
                _op_text(op, names) if op else "(a graph input)",
                f"the reference evaluation of the IR after pass {name!r} differs from the "
                f"traced IR's at output {bad}: the pass's rewrite is not exact for these "
                "inputs (NaN, signed zero or rounding semantics)", name))
            return

    def _first_bad_output(self, g: Graph, want: list, got: list) -> int | None:
        for j, (v, w, o) in enumerate(zip(g.outputs, want, got)):
            if not closeness(w, o, *self.tolerances(v.type.dtype), self.magnitude.get(v)).ok:
                return j
        return None

    def _outputs_agree(self, g: Graph, want: list, got: list) -> bool:
        return self._first_bad_output(g, want, got) is None

    def check_outputs(self, traced: Graph, optimized: Graph, want: list, got: list,
                      n_updates: int) -> list[OutputComparison]:
        """The compiled program's outputs against the traced IR's reference outputs."""
        n_out = len(want) - n_updates
        out = []
        for j, (v, w, g) in enumerate(zip(traced.outputs, want, got)):
            c = closeness(w, g, *self.tolerances(v.type.dtype), self.magnitude.get(v))
            what = f"output {j}" if j < n_out else f"variable update {j - n_out}"
            out.append(OutputComparison(what, c.ok, c.max_abs, c.max_rel))
            if not c.ok and not self.findings:
                op = optimized.producers().get(optimized.outputs[j])
                if op is None:
                    continue
                self.add(Divergence(
                    "whole_program", op.name, op.loc, "optimized IR", optimized.ops.index(op),
                    _op_text(op, _names(optimized)),
                    f"each op agrees with its reference alone, but {what} of the compiled "
                    "program does not: XLA's fusion reorders or contracts float math across "
                    "ops, or small per-op errors add up along the way", None,
                    c.max_abs, c.max_rel))
        return out


# ---------------------------------------------------------------- which pass rewrote an op
def _pass_stages(g: Graph, passes: tuple[str, ...]) -> list[tuple[str, Graph]]:
    """The graph as traced, then after each pass of the pipeline in turn."""
    stages = [("traced", g)]
    for p in passes:
        g = PassManager([p]).run(g)[0]
        stages.append((p, g))
    return stages


def _attr_key(a: Any) -> Any:
    if isinstance(a, Graph):
        return a.fingerprint()
    if isinstance(a, tuple):
        return tuple(_attr_key(x) for x in a)
    return a


def _op_keys(g: Graph) -> dict[Op, Any]:
    """Structural keys: equal for the same op on the same (structural) inputs in two graphs,
    so an op keeps its key through passes that don't touch it or what feeds it."""
    keys: dict[Value, Any] = {v: ("input", i) for i, v in enumerate(g.inputs)}
    out = {}
    for op in g.ops:
        k = hash((op.name, _attr_key(op.attrs), tuple(keys[v] for v in op.inputs),
                  tuple(v.type for v in op.outputs)))
        out[op] = k
        keys.update((v, (k, j)) for j, v in enumerate(op.outputs))
    return out


def _attribution(stages: list[tuple[str, Graph]], optimized: Graph) -> dict[Op, str]:
    """For each op of the optimized graph, the last pass that produced it (absent: as traced)."""
    seen = [set(_op_keys(g).values()) for _, g in stages]
    result = {}
    for op, k in _op_keys(optimized).items():
        for i in range(1, len(stages)):
            if k in seen[i] and k not in seen[i - 1]:
                result[op] = stages[i][0]
    return result
