"""Shrinking a failing program to a small repro that fails the same way.

Greedy, each step kept only if the failure (same kind, mode, op and mismatch kind) remains:
keep only what the failing value depends on; replace intermediate values by inputs holding
their eager values (fewer ops); replace input elements by plain values (fewer specials).
"""
from __future__ import annotations

import time

import numpy as np

from .differential_program import Input, Node, Program, Ref
from .differential_values import is_float


def prune(program: Program, outputs: list[int], replace: dict | None = None) -> Program:
    """The steps `outputs` depend on (steps in `replace` become inputs holding those arrays),
    renumbered."""
    replace = replace or {}
    need: set[int] = set()
    stack = list(outputs)
    while stack:
        i = stack.pop()
        if i in need:
            continue
        need.add(i)
        s = program.steps[i]
        if isinstance(s, Node) and i not in replace:
            stack += [a.i for a in s.args if isinstance(a, Ref)]
    new: dict[int, int] = {}
    steps: list = []
    for i in sorted(need):
        s = program.steps[i]
        if i in replace:
            steps.append(Input(replace[i]))
        elif isinstance(s, Input):
            steps.append(Input(s.array))
        else:
            args = [Ref(new[a.i]) if isinstance(a, Ref) else a for a in s.args]
            steps.append(Node(s.op, args, dict(s.kwargs), s.take))
        new[i] = len(steps) - 1
    return Program(steps, [new[i] for i in outputs], program.seed)


def _plain(a: np.ndarray):
    if a.dtype == np.bool_:
        return True
    return a.dtype.type(1) if not is_float(a.dtype) else np.float32(1).astype(a.dtype)


def reduce_result(res, budget: float = 120.0):
    """A smaller program failing like `res` (the first failure), and its Result."""
    from .differential import _run_mode, run

    first = res.failures[0]
    sig = first.signature

    def fails(p: Program):
        try:
            r = run(p)
        except Exception:
            return None
        return r if any(f.signature == sig for f in r.failures) else None

    best, best_res = res.program, res
    deadline = time.time() + budget
    if first.step is not None:
        p = prune(best, [first.step])
        r = fails(p)
        if r is not None:
            best, best_res = p, r
    changed = True
    while changed and time.time() < deadline:  # cut intermediate values into inputs
        changed = False
        try:
            eager = _run_mode(best, "eager")
        except Exception:
            break
        for j in reversed(best.node_ids):
            if j in best.outputs or time.time() > deadline:
                continue
            p = prune(best, best.outputs, {j: eager[j]})
            r = fails(p)
            if r is not None:
                best, best_res, changed = p, r, True
                break
    for i in best.input_ids:  # plain input elements where the specials do not matter
        a = best.steps[i].array
        for k in range(min(a.size, 48)):
            if time.time() > deadline:
                break
            flat = a.reshape(-1).copy()
            if flat[k] == _plain(a) and not (is_float(a.dtype) and np.signbit(
                    flat[k].astype(np.float64))):
                continue
            flat[k] = _plain(a)
            steps = list(best.steps)
            steps[i] = Input(flat.reshape(a.shape))
            p = Program(steps, best.outputs, best.seed)
            r = fails(p)
            if r is not None:
                best, best_res, a = p, r, flat.reshape(a.shape)
    return best_res
