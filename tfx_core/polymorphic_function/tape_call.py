"""A compiled function called while an eager GradientTape records: one forward executable that
also returns residuals, ONE tape record, and a backward executable that `tape.gradient` runs
(as TF records a function call as one op whose gradient is another function).

Each program is built once per input signature and set of differentiated inputs: the traced
graph is specialized, its vjp split (`compiler.graph_vjp`) into the forward (results, Variable
updates, residuals) and the backward (residuals and output cotangents -> input cotangents).

A call runs op by op instead (the old way, which the tape sees op by op) when a compiled call
could not give the same gradients; `ConcreteFunction.explain()` says why:
- more than one tape watches its inputs (tape over tape: the outer tape must see the inner
  tape's gradient ops, which the inner sees only as one call);
- the body uses `tx.custom_gradient` (its grad_fn is Python the graph does not hold), or reads
  a Variable after assigning it (the tape differentiates each read of a Variable on its own,
  the graph would differentiate through the assigned value);
- the graph holds ops with side effects (prints, asserts): the split would move or repeat them;
- a tape watches a small tensor it closes over (baked into the program as a constant);
- building the gradient failed (e.g. a while_loop without maximum_iterations): the op-by-op run
  reports it when, and only if, that gradient is asked for.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compiler.graph_vjp import SplitVjp, impure_ops, recompute_vjp, split_vjp
from compiler.interpreters import bind, outside_traces, recorders
from compiler.ir.graph import walk
from compiler.ir.types import TensorType
from compiler.passes import PassManager
from runtime import client
from tfx_core.framework import sharded_execution
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.sharded_execution import ACTIVE as MESHES
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import Variable

FALLBACK = object()  # what call_recorded returns when the call must run op by op
MAX_PLANS = 16  # programs kept per ConcreteFunction (least recently used dropped)
# The backward reads residuals the forward saved (True), or recomputes the forward from the
# inputs (False: simpler; kept to measure against, see bench/train_step.py).
USE_RESIDUALS = True
PACK_RESIDUALS = True  # as one buffer per dtype (see compiler.graph_vjp.split_vjp)


@dataclass
class TapePlan:
    """The two executables of one differentiated call signature."""

    split: SplitVjp
    forward: Any  # Compiled
    backward: Any  # Compiled
    out_types: tuple[TensorType, ...]  # the function's own results
    in_types: tuple[TensorType, ...] = ()  # the explicit inputs it was built for
    backward_runs: int = 0  # compiled
    backward_bound: int = 0  # op by op (another tape records them)
    _zeros: dict = field(default_factory=dict)

    def zeros(self, k: int) -> Any:
        """A buffer of zeros for the k-th output cotangent (shared: nothing writes to it)."""
        buf = self._zeros.get(k)
        if buf is None:
            t = self.out_types[self.split.ct_outputs[k]]
            buf = self._zeros[k] = client.device_put(np.zeros(t.shape, t.dtype.np_dtype))
        return buf


class TapeState:
    """Per ConcreteFunction: its programs for tape calls, and what happened to such calls."""

    def __init__(self, blockers: Sequence[str] = (), baked: Sequence[Tensor] = ()):
        # why the graph's own ops don't give this function's gradient (noted while tracing)
        self.static_reason = "; ".join(dict.fromkeys(blockers)) or None
        self.baked = tuple(baked)  # outside tensors the program holds as constants
        self._plans: OrderedDict[tuple, TapePlan | str] = OrderedDict()
        self._lock = threading.Lock()
        self.compiled_calls = 0  # calls recorded as one op
        self.plain_calls = 0  # calls no tape watched: run compiled, nothing recorded
        self.backward_runs = 0  # backward executable runs
        self.backward_op_by_op = 0  # backwards bound op by op (another tape records them)
        self.fallbacks: dict[str, int] = {}  # reason -> calls run op by op

    def fallback(self, reason: str) -> Any:
        self.fallbacks[reason] = self.fallbacks.get(reason, 0) + 1
        return FALLBACK

    @property
    def plans(self) -> list[TapePlan]:
        return [p for p in self._plans.values() if isinstance(p, TapePlan)]

    def plan(self, cf: Any, types: tuple, needs: tuple[int, ...]) -> TapePlan | str:
        key = (types, needs)
        with self._lock:
            p = self._plans.get(key)
            if p is None:
                p = self._plans[key] = _build(cf, types, needs)
                if len(self._plans) > MAX_PLANS:
                    self._plans.popitem(last=False)
            else:
                self._plans.move_to_end(key)
        return p

    def describe(self) -> list[str]:
        """Lines for explain()."""
        lines = []
        if self.compiled_calls or self.plain_calls or self.fallbacks:
            lines.append(f"  under an eager GradientTape: {self.compiled_calls} calls compiled "
                         f"as one recorded op, {self.plain_calls} compiled unwatched, "
                         f"{sum(self.fallbacks.values())} op by op")
        for p in self.plans:
            sp = p.split
            sig = ", ".join(str(t) for t in p.in_types)
            lines.append(f"    ({sig}): forward {len(sp.forward.ops)} ops -> {sp.num_outputs} "
                         f"results + {sp.num_residuals} residual buffers; backward "
                         f"{len(sp.backward.ops)} ops -> {len(sp.grad_inputs)} gradients, run "
                         f"{p.backward_runs} times compiled, {p.backward_bound} op by op")
        for reason, n in self.fallbacks.items():
            lines.append(f"    op by op ({n} calls) because {reason}")
        return lines


def _build(cf: Any, types: tuple, needs: tuple[int, ...]) -> TapePlan | str:
    """The forward and backward executables, or why there are none."""
    g = cf.specialized(types)
    impure = impure_ops(g)
    if impure:
        return (f"its graph holds ops with side effects ({', '.join(dict.fromkeys(impure))}), "
                "which a forward/backward split would move or repeat")
    n_out = cf.num_outputs
    ct_outputs = [i for i in range(n_out) if g.outputs[i].type.dtype.is_inexact]
    prepare = [p for p in cf.passes if p != "fusion"]  # fusion would hide what to split

    def simplified(j: Any) -> Any:
        return PassManager(prepare).run(j)[0]

    try:
        with outside_traces():  # building programs is not a computation anyone records
            if USE_RESIDUALS:
                sp = split_vjp(g, ct_outputs, needs, prepare=simplified, pack=PACK_RESIDUALS)
            else:
                sp = recompute_vjp(g, ct_outputs, needs)
            fwd = cf.compile_graph(sp.forward, cf.donated_inputs)
            bwd = cf.compile_graph(sp.backward)
    except Exception as e:  # noqa: BLE001 (op by op raises it where the gradient is asked for)
        return f"its gradient could not be compiled ({type(e).__name__}: {e})"
    return TapePlan(sp, fwd, bwd, tuple(g.output_types[:n_out]), tuple(types))


def call_recorded(cf: Any, ins: Sequence[Any]) -> Any:
    """Call `cf` on its explicit tensor inputs `ins` while tapes record (no trace active):
    compiled, recorded as one op on the one tape that watches its inputs; FALLBACK when it
    must run op by op."""
    st = cf.tape
    if st.static_reason:
        return st.fallback(st.static_reason)
    tapes = recorders()
    if any(not hasattr(t, "watches") for t in tapes):
        return st.fallback("something other than a GradientTape records")
    if st.baked and any(t.watches(b) for t in tapes for b in st.baked):
        return st.fallback("a tape watches a tensor it closes over, which the program holds as "
                           "a constant")
    xs = [x if isinstance(x, (Tensor, Variable)) else convert_to_tensor(x) for x in ins]
    if any(isinstance(x, Tensor) and x._buf is None for x in xs):
        return st.fallback("a symbolic tensor was passed")  # the op-by-op run says what's wrong
    sources = [*xs, *cf.captured_inputs]
    watching = [t for t in tapes if any(t.watches(s) for s in sources)]
    if len(watching) > 1:
        return st.fallback("more than one tape watches its inputs (nested tapes: an outer "
                           "tape differentiates the inner one's gradient ops)")
    if not watching:
        st.plain_calls += 1
        return cf.call_inputs(xs)
    tape = watching[0]
    # Variables (arguments or captured) read as tapes see reads: the tensors the gradient flows to
    read = [s._as_tensor() if isinstance(s, Variable) else s for s in sources]
    needs = tuple(i for i, r in enumerate(read) if tape.watches(r))
    if not needs:
        st.plain_calls += 1
        return cf.call_inputs(xs)
    n_in = len(xs)
    plan = st.plan(cf, tuple(r._type for r in read[:n_in]), needs)
    if isinstance(plan, str):
        return st.fallback(plan)
    outs = cf.execute(plan.forward, read[:n_in], [r._buf for r in read[:n_in]])
    n_res = plan.split.num_residuals
    results = [Tensor(b, t) for b, t in zip(outs, plan.out_types)]
    call = TapeCall(cf.name, plan, outs[len(outs) - n_res:] if n_res else [], st)
    tape.record(call, tuple(read), {}, tuple(results))
    st.compiled_calls += 1
    return cf.structure_outputs(results)


class TapeCall:
    """A recorded compiled call: the tape's view of it as one op. Its vjp runs the backward
    executable on the residuals this call's forward returned."""

    multiple_results = True
    takes_missing_cotangents = True  # unused outputs' cotangents are zeros made once per plan
    __slots__ = ("name", "plan", "residuals", "state")

    def __init__(self, name: str, plan: TapePlan, residuals: list, state: TapeState):
        self.name = f"call {name}"
        self.plan = plan
        self.residuals = residuals  # device buffers
        self.state = state

    def vjp(self, ctx: Any, g: tuple) -> tuple:
        plan, sp = self.plan, self.plan.split
        cts = [g[i] for i in sp.ct_outputs]
        saved = [ctx.inputs[i] for i in sp.input_residuals]
        eager = all(c is None or (isinstance(c, Tensor) and c._buf is not None
                                  and c._type == plan.out_types[i])
                    for c, i in zip(cts, sp.ct_outputs))
        others = recorders()  # the differentiating tape has paused itself
        seen = [x for x in (*cts, *ctx.inputs) if isinstance(x, Tensor)]
        if eager and not any(t.watches(x) for t in others for x in seen):
            bufs = [*self.residuals, *(x._buf for x in saved),
                    *(c._buf if c is not None else plan.zeros(k) for k, c in enumerate(cts))]
            exe, back = plan.backward.exe, plan.backward
            if MESHES["on"]:  # residuals may live on a mesh: the SPMD backward for them
                got = sharded_execution.prepare(self.name, back.optimized, bufs, back.sharded)
                if got is not None:
                    exe, bufs = got
            grads = [Tensor(b, t) for b, t in zip(exe(bufs), back.out_types)]
            self.state.backward_runs += 1
            plan.backward_runs += 1
        else:
            grads = self._bound(saved, cts)
            self.state.backward_op_by_op += 1
            plan.backward_bound += 1
        out: list[Any] = [None] * len(ctx.inputs)
        for i, d in zip(sp.grad_inputs, grads):
            out[i] = d
        return tuple(out)

    def _bound(self, saved: list, cts: list) -> list:
        """The backward graph's ops bound one by one: other tapes see them (gradients of
        gradients with respect to the cotangents), and inside a trace they join it."""
        plan, bwd = self.plan, self.plan.split.backward
        args = [Tensor(b, v.type) for b, v in zip(self.residuals, bwd.inputs)]
        args += saved
        args += [c if c is not None else Tensor(plan.zeros(k), plan.out_types[i])
                 for k, (c, i) in enumerate(zip(cts, plan.split.ct_outputs))]

        def apply(o: Any, vals: list) -> tuple:
            res = bind(o.opdef, *vals, **o.attr_dict)
            return tuple(res) if o.opdef.multiple_results else (res,)

        return walk(bwd, args, apply)
