"""`tx.debugging.check_numerics` and `enable_check_numerics`: find where a NaN or Inf is born,
eagerly and inside compiled code (where TF skips these checks under XLA)."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ops.debug import debug_assert_op
from compiler.registry import PROPAGATES_NONFINITE
from compiler.tracing import user_location
from runtime import errors
from runtime.host_callbacks import numerics_problem
from tfx_core.debugging.effects import emit_assert
from tfx_core.framework import eager
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.polymorphic_function import tracer


def check_numerics(tensor: Any, message: str, name: str | None = None) -> Tensor:
    """Raise InvalidArgumentError ("<message> : Tensor had NaN values") if the floating tensor
    holds a NaN or Inf; returns the tensor."""
    x = convert_to_tensor(tensor)
    if not x.dtype.is_floating:
        raise TypeError(f"check_numerics: the tensor must be floating, got {x.dtype.name} "
                        f"({user_location()})")
    emit_assert(R.reduce_all(M.is_finite(x)), [x], kind="check_numerics", message=str(message),
                where=user_location() or "")
    return x


def enable_check_numerics(stack_height_limit: int = 30, path_length_limit: int = 50) -> None:
    """Check every floating result of every op, eagerly and in functions traced from now on
    (compiled too): the error names the first op that produced a NaN or Inf, and its line.

    Functions traced before keep their programs: call them with new shapes, or re-create them,
    to check them too (as TF, whose check applies to graphs built after enabling)."""
    tracer.CHECK_NUMERICS["on"] = True
    eager.EAGER.set_output_check(_check_eager_outputs)
    M.clear_fast_paths()


def disable_check_numerics() -> None:
    """Undo enable_check_numerics (for functions traced and eager ops run from now on)."""
    tracer.CHECK_NUMERICS["on"] = False
    eager.EAGER.set_output_check(None)


def _check_eager_outputs(opdef: Any, outs: list) -> None:
    for t in outs:
        if t.dtype.is_floating:
            a = t.numpy()
            if not np.isfinite(a).all():
                loc = user_location()
                raise errors.InvalidArgumentError(
                    None, None, f"tx.debugging.enable_check_numerics: {opdef.name}"
                    f"{' at ' + loc if loc else ''} produced {numerics_problem(a)} "
                    f"(an output of dtype {t.dtype.name}, shape {tuple(a.shape)})")


def _prune(ops: list, noted: list[tuple[Any, str]], escaping: list) -> list[tuple[Any, str]]:
    """The noted values worth checking, each with what it stands for.

    A value need not be checked when every op using it puts a NaN/Inf of it into its own
    result (PROPAGATES_NONFINITE) and those results are checked or covered the same way: the
    check downstream catches it, reading far less memory (a weight update's `lr * g` and
    `w - lr * g` are one check, not two). The check then names every op it stands for, in
    program order."""
    users: dict[Any, list] = {}
    for op in ops:
        for v in op.inputs:
            users.setdefault(v, []).append(op)
    desc = dict(noted)
    out = set(escaping)
    covered: dict[Any, bool] = {}
    stands_for: dict[Any, list[str]] = {}  # checked value -> descriptions of pruned ones
    pruned_into: dict[Any, list[Any]] = {}  # pruned value -> the values covering it

    for op in reversed(ops):
        for v in op.outputs:
            us = users.get(v, [])
            down = bool(us) and v not in out and all(
                PROPAGATES_NONFINITE in u.opdef.traits and all(covered.get(o) for o in u.outputs)
                for u in us)
            if down:
                pruned_into[v] = [o for u in us for o in u.outputs]
            covered[v] = down or v in desc
    keep = []
    for v, d in noted:
        if v not in pruned_into:
            keep.append((v, d))
            continue
        todo, seen = list(pruned_into[v]), set()
        while todo:  # the checked values this one's NaN would reach
            w = todo.pop()
            if w in seen:
                continue
            seen.add(w)
            if w in desc and w not in pruned_into:
                stands_for.setdefault(w, []).append(d)
            todo += pruned_into.get(w, [])
    return [(v, " or ".join(stands_for.get(v, []) + [d])) for v, d in keep]


def check_noted(trace: Any, noted: list[tuple[Any, str]], escaping: list = ()) -> None:
    """The trace's end: one conditional checking the noted values are finite (see `_prune`),
    which names the first (in program order) that is not."""
    noted = _prune(trace.trace.builder.ops, noted, list(escaping))
    flags = [R.reduce_all(M.is_finite(trace.wrap(v))) for v, _ in noted]
    from tfx_core.ops.array_ops import stack

    pred = stack(flags) if len(flags) > 1 else M.logical_and(flags[0], flags[0])
    if pred.shape.rank == 0:
        from tfx_core.ops.array_ops import reshape

        pred = reshape(pred, [1])
    from compiler.interpreters import bind

    tok = bind(debug_assert_op, trace.effect_token(), pred, kind="numerics", message="",
               template=(), summarize=3, where="", names=tuple(d for _, d in noted))
    trace.set_effect_token(tok)
