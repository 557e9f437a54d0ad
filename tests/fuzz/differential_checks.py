"""The checks of one run: exceptions, each op against its reference, each mode against eager."""
from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np

import tfx_core as tx

from .differential_catalog import MOVES, OP
from .differential_compare import (
    close_mask,
    compare,
    cross_tolerance,
    tolerance,
    unstable_masks,
)
from .differential_excuse import floordiv_gap, flush, has_subnormals, overflow_risk
from .differential_gen import call_reference
from .differential_program import Input, Node, Program, Ref
from .differential_values import is_float


@dataclass
class Failure:
    kind: str  # exception_mismatch | tfx_raises | ref_mismatch | mode_mismatch | crash
    mode: str
    step: int | None = None
    op: str | None = None
    detail: str = ""
    what: str = ""  # the Mismatch kind, or the exception classes

    @property
    def signature(self) -> str:
        return f"{self.kind}/{self.mode}/{self.op}/{self.what}"

    def __str__(self) -> str:
        at = f" at v{self.step} = {self.op}" if self.step is not None else ""
        return f"[{self.signature}]{at}: {self.detail}"


def reference_chain(program: Program, perturb=None, flush_inputs: bool = False) -> list:
    """Each step's value computed by the op-table references; `perturb` is applied to every
    op result (and to the inputs too when `flush_inputs`)."""
    vals: list = []
    for s in program.steps:
        if isinstance(s, Input):
            vals.append(perturb(s.array) if flush_inputs else s.array)
            continue
        out = call_reference(OP[s.op], s, vals)
        vals.append(out if perturb is None else perturb(out))
    return vals


def _tol_key(fop, args: list) -> str:
    tensors = [a for a in args if isinstance(a, np.ndarray)]
    t = tensors[fop.tol_arg] if len(tensors) > fop.tol_arg else tensors[0]
    return str(tx.as_dtype(t.dtype).name)


def node_tolerance(fop, args: list, result_dtype) -> tuple[float, float]:
    """The table's tolerance for the op (keyed by its operand dtype, as test_numerics), at least
    the default one of the result dtype: int32 / int32 is a float64 that XLA may compute as
    x * (1 / y) (its simplifier rewrites a division by a broadcast scalar), 1 ulp off."""
    r1, a1 = tolerance(fop.entry, _tol_key(fop, args))
    r2, a2 = tolerance(fop.entry, str(tx.as_dtype(result_dtype).name))
    return max(r1, r2), max(a1, a2)


def _env(program: Program, vals: dict) -> list:
    return [s.array if isinstance(s, Input) else vals.get(i)
            for i, s in enumerate(program.steps)]


def node_check(program: Program, i: int, vals: dict, excused: Counter,
               used: set | None = None):
    """Step i's eager result vs its reference on the eager values of its arguments; the
    excuses it needed are added to `used`.

    Only eager is checked this way: compiled code need not compute an op from its inputs'
    rounded values (XLA fuses, contracts FMAs, keeps float16/bfloat16 in float32, rewrites
    1 / (1 / x) to x), so compiled modes are compared with eager instead.
    """
    node: Node = program.steps[i]
    fop = OP[node.op]
    env = _env(program, vals)
    args = [env[a.i] if isinstance(a, Ref) else a for a in node.args]
    want = call_reference(fop, node, env)
    got = vals[i]
    tol = node_tolerance(fop, args, want.dtype)
    ignore = fop.undefined(args, node.kwargs) if fop.undefined else None
    m = compare(got, want, *tol, ignore=ignore)
    if m is None or m.kind in ("shape", "dtype"):
        return m
    bad = ~close_mask(got, want, *tol)
    ignore = np.zeros(got.shape, bool) if ignore is None else ignore
    reasons = {"floordiv": floordiv_gap(node.op, args, node.kwargs),
               "overflow": overflow_risk(node.op, args, node.kwargs, got.shape)}
    reasons["conditioning"] = ill_conditioned(fop, node, env, tol)
    if has_subnormals([*args, want]):  # XLA:CPU flushes subnormal operands and results
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            flushed = flush(call_reference(fop, node, [flush(v) for v in env]))
        reasons["ftz"] = close_mask(got, flushed, *tol) | close_mask(got, flush(want), *tol) \
            | subnormal_operands(args, got.shape)
    for reason, mask in reasons.items():
        if mask is None or np.shape(mask) != got.shape:
            continue
        n = int((bad & mask & ~ignore).sum())
        if n:
            excused[f"ref:{reason}"] += n
            if used is not None:
                used.add(reason)
        ignore = ignore | mask
    return compare(got, want, *tol, ignore=ignore)


CONDITION = 16  # elements with a larger condition number may miss the table's tolerance


def ill_conditioned(fop, node: Node, env: list, tol: tuple) -> np.ndarray | None:
    """Elements whose reference moves beyond the tolerance when the float operands move by
    rtol / CONDITION (relatively, at most 0.03 / CONDITION; in float64): a composite that
    rounds inside, in the operands' dtype, cannot match the float64 reference there (the
    spread of [114657.70, 114657.70, 114657.73] is 2 ulps: float32's rounding of their mean
    is as large as the deviations). Single roundings of exact operands never need this."""
    if tol[0] == 0:
        return None
    wide = [v.astype(np.float64) if isinstance(v, np.ndarray) and is_float(v.dtype) else v
            for v in env]
    refs = {a.i for a in node.args if isinstance(a, Ref)}

    def evaluate(perturb):
        nudged = [perturb(v) if i in refs else v for i, v in enumerate(wide)]
        return [call_reference(fop, node, nudged)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = evaluate(lambda v: v)
        ulps = min(tol[0], 0.03) / CONDITION / float(np.finfo(np.float64).eps)
        mask = unstable_masks(evaluate, base, [tol], ulps=ulps)[0]
        for j in refs:  # each operand alone, up and down: floor(x / y) at x == y moves only so
            for sign in (1.0, -1.0):
                one = [v * (1 + sign * ulps * np.finfo(np.float64).eps)
                       if i == j and isinstance(v, np.ndarray) and v.dtype == np.float64 else v
                       for i, v in enumerate(wide)]
                r = np.asarray(call_reference(fop, node, one))
                if r.shape == base[0].shape:
                    mask |= ~close_mask(r, np.asarray(base[0]), *tol)
        return mask


def subnormal_operands(args: list, shape: tuple) -> np.ndarray:
    """Result positions of an elementwise op that read a subnormal operand: XLA:CPU's ops
    disagree on those (most flush them, pow and a few others compute with garbage)."""
    mask = np.zeros(shape, bool)
    for a in args:
        if not isinstance(a, np.ndarray) or flush(a) is a:
            continue
        try:
            if np.broadcast_shapes(a.shape, shape) == tuple(shape):
                mask |= np.broadcast_to(flush(a) != a, shape)
        except ValueError:
            continue  # not elementwise in this argument
    return mask


PRODUCTS = {"multiply", "op_mul", "scalar_rmul", "square", "squared_difference", "matmul",
            "scalar_pow", "nn.bias_add"}
# which modes a taint excuses: "fma" (a product that overflowed when rounded may be contracted
# into an FMA by a consumer in a fused kernel, where it does not overflow), "overflow" (the
# order of an accumulation decides an overflow), "conditioning" (an ill-conditioned composite:
# a fused or folded sum inside it may round differently), "ftz"/"floordiv" (numpy in constant
# folding differs from XLA inside a composite), "zero_sign" (see taints)
XLA_MODES = {"compiled", "compiled_all", "dynamic"}  # traced, compiled with fusion by XLA
TAINT_MODES = {"fma": XLA_MODES, "overflow": XLA_MODES | {"folded"},
               "conditioning": XLA_MODES | {"folded"}, "ftz": {"folded"}, "floordiv": {"folded"},
               "zero_sign": XLA_MODES | {"folded"}}
ACCUMULATING = {"matmul", "reduce_sum", "reduce_mean", "cumsum", "reduce_logsumexp",
                "reduce_variance", "reduce_std", "reduce_prod", "cumprod"}


def _overflowed_product(node: Node, args: list, out: np.ndarray) -> bool:
    """A product that is +-inf where its operands are finite (a fused FMA would not be)."""
    if node.op not in PRODUCTS or not is_float(out.dtype):
        return False
    floats = [a for a in args if isinstance(a, np.ndarray) and is_float(a.dtype)]
    with np.errstate(all="ignore"):
        inf = np.isinf(out.astype(np.float64))
        if not inf.any():
            return False
        try:
            finite = np.ones(out.shape, bool)
            for a in floats:
                finite &= np.broadcast_to(np.isfinite(a.astype(np.float64)), out.shape)
        except ValueError:  # matmul: any overflow counts
            return all(np.isfinite(a.astype(np.float64)).all() for a in floats)
        return bool((inf & finite).any())


# composites computing x - f(x) (a max or a mean of x): fed a product, a fused kernel may see
# the product unrounded (contracted into an FMA) on one side and rounded on the other, and
# the residue (an ulp of the product, huge for huge values) goes through exp or a square
SHIFTING = {"reduce_logsumexp", "nn.softmax", "nn.log_softmax", "reduce_variance",
            "reduce_std"}


def taints(program: Program, eager: dict, excused_at: dict) -> list[set]:
    """Per step, the reasons (TAINT_MODES) its value may legitimately differ across modes:
    the step's own excuses in the eager reference check, propagated to every later use."""
    env = _env(program, eager)
    out: list[set] = []
    hot: set[int] = set()  # values holding an overflowed product, maybe moved around
    prod: set[int] = set()  # values holding a product, maybe moved around
    zero: set[int] = set()  # accumulations that produced a zero
    anc: list[set] = []  # the steps each value depends on
    for i, s in enumerate(program.steps):
        t: set = set()
        refs = [a.i for a in s.args if isinstance(a, Ref)] if isinstance(s, Node) else []
        anc.append(set(refs).union(*(anc[j] for j in refs)) if refs else set())
        if isinstance(s, Node):
            for j in refs:
                t |= out[j]
            t |= excused_at.get(i, set()) & set(TAINT_MODES)
            args = [env[a.i] if isinstance(a, Ref) else a for a in s.args]
            if s.op in MOVES:
                hot.update([i] if any(j in hot for j in refs) else [])
                prod.update([i] if any(j in prod for j in refs) else [])
            elif any(j in hot for j in refs) or (s.op in SHIFTING and refs[0] in prod) or any(
                    j in prod and any(j in anc[k] for k in refs if k != j) for j in refs):
                t.add("fma")  # a product and something computed from it, in one kernel
            if s.op in PRODUCTS:
                prod.add(i)
            if env[i] is not None and _overflowed_product(s, args, env[i]):
                hot.add(i)
            if s.op in ACCUMULATING and env[i] is not None and is_float(env[i].dtype) and \
                    bool(np.any(env[i] == 0)):
                zero.add(i)
            elif any(j in zero for j in refs):
                t.add("zero_sign")  # downstream of a zero whose sign may differ (see below)
        out.append(t)
    return out


def exception_failures(program: Program, modes, raised: dict) -> list[Failure]:
    """Every mode must raise the class eager raises (or nothing, as eager)."""
    out = []
    e_cls, e_msg, e_step = raised.get("eager", (None, "", None))
    for mode in modes:
        m_cls, m_msg, m_step = raised.get(mode, (None, "", None))
        if m_cls != e_cls:
            step = e_step if e_step is not None else m_step
            op = program.steps[step].op if step is not None else None
            out.append(Failure(
                "exception_mismatch", mode, step, op,
                f"eager: {e_cls or 'no exception'} {e_msg} | {mode}: {m_cls or 'no exception'} "
                f"{m_msg}", f"{e_cls}-vs-{m_cls}"))
    if not out:  # every mode raised the same class, though the reference computed it
        op = program.steps[e_step].op if e_step is not None else None
        out.append(Failure("tfx_raises", "all", e_step, op, f"{e_cls}: {e_msg}", e_cls))
    return out


def _moved(f: np.ndarray, b: np.ndarray, tol: tuple) -> np.ndarray:
    """Where the flushed chain `f` differs from the plain one `b`, zero signs included."""
    if f.shape != b.shape:
        return np.ones(b.shape, bool)
    out = ~close_mask(f, b, *tol)
    if is_float(b.dtype):
        fw, bw = f.astype(np.float64), b.astype(np.float64)
        out |= (fw == 0) & (bw == 0) & (np.signbit(fw) != np.signbit(bw))
    return out


def _sign_flips(program: Program, compiled: dict, eager: dict) -> set[int]:
    """Values computed from a zero whose sign compiled code flipped (seen in compiled_all,
    which returns every value): 1 / x then gives inf for -inf."""
    out: set[int] = set()
    for i in program.node_ids:
        node = program.steps[i]
        if any(isinstance(a, Ref) and a.i in out for a in node.args):
            out.add(i)
            continue
        v, w = compiled.get(i), eager.get(i)
        if v is None or v.shape != w.shape or v.dtype != w.dtype or not is_float(w.dtype):
            continue
        g, e = v.astype(np.float64), w.astype(np.float64)
        if np.any((g == 0) & (e == 0) & (np.signbit(g) != np.signbit(e))):
            out.update(j for j in program.node_ids if j > i and _uses(program, j, i))
    return out


def _uses(program: Program, j: int, i: int) -> bool:
    """Whether step j depends on step i."""
    stack, seen = [j], set()
    while stack:
        k = stack.pop()
        if k == i:
            return True
        if k in seen or not isinstance(program.steps[k], Node):
            continue
        seen.add(k)
        stack += [a.i for a in program.steps[k].args if isinstance(a, Ref)]
    return False


def cross_mode_failures(program: Program, modes, got: dict, ref_vals: list,
                        excused: Counter, taint: list[set],
                        all_folded: bool = False) -> list[Failure]:
    """Each compiled mode vs eager, on the elements the chain determines (see
    differential_compare.py), and on the values no taint excuses for that mode."""
    tols = [(0.0, 0.0) if isinstance(s, Input) else cross_tolerance(node_tolerance(
        OP[s.op], [ref_vals[a.i] if isinstance(a, Ref) else a for a in s.args],
        ref_vals[i].dtype), ref_vals[i].dtype) for i, s in enumerate(program.steps)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unstable = unstable_masks(lambda p: reference_chain(program, p), ref_vals, tols,
                                  seed=program.seed or 0)
        try:  # XLA:CPU flushes subnormals where numpy (and constant folding) keeps them
            ftz = reference_chain(program, flush, flush_inputs=True)
            ftz = [_moved(np.asarray(f), np.asarray(b), t) for f, b, t in zip(ftz, ref_vals, tols)]
        except Exception:
            ftz = [np.ones(np.shape(b), bool) for b in ref_vals]
    out = []
    eager = got["eager"]
    flipped = _sign_flips(program, got.get("compiled_all", {}), eager)
    for mode in modes:
        for i, v in got.get(mode, {}).items():
            w = eager[i]
            # XLA does not keep signs of zero (x + 0.0 is x, also for -0.0; max(-0.0, 0.0)
            # depends on the operands' order); the folding references model XLA's runtime
            # rules, so signs are compared where folding computed everything
            signs = mode == "folded" and all_folded
            m = compare(v, w, *tols[i], ignore=unstable[i] | ftz[i], zero_sign=signs)
            if m is not None and m.kind == "signed_zero" and program.steps[i].op in ACCUMULATING:
                excused["cross:zero_sign"] += m.count  # a sum of zeros: the sign depends on
                continue  # where the accumulator starts (+0.0, or the first term)
            if mode != "folded" and i in flipped:
                excused["cross:zero_sign"] += int((~close_mask(v, w, *tols[i])).sum())
                continue
            why = sorted(r for r in taint[i] if mode in TAINT_MODES[r])
            if why and v.shape == w.shape and v.dtype == w.dtype:
                excused[f"cross:{why[0]}"] += int((~close_mask(v, w, *tols[i])).sum())
                continue
            if v.shape == w.shape and v.dtype == w.dtype:
                bad = ~close_mask(v, w, *tols[i])
                excused["cross:ftz"] += int((bad & ftz[i]).sum())
                excused["cross:unstable"] += int((bad & unstable[i] & ~ftz[i]).sum())
            m = compare(v, w, *tols[i], ignore=unstable[i] | ftz[i], zero_sign=signs)
            if m is not None:
                out.append(Failure("mode_mismatch", mode, i, program.steps[i].op,
                                   f"{mode} vs eager: {m.message}", m.kind))
    return out
