"""`tx.debugging.check_numerics` and `enable_check_numerics`: find where a NaN or Inf is born,
eagerly and inside compiled code (where TF skips these checks under XLA)."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ops.debug import debug_assert_op
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


def check_noted(trace: Any, noted: list[tuple[Any, str]]) -> None:
    """The trace's end: one conditional checking every noted value is finite, which names the
    first (in program order) that is not."""
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
