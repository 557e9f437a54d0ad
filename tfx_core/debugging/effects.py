"""Emit a print or an assertion: run it on the host now (eagerly) or add it to the trace's
effect chain (compiled), with the same data either way."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.interpreters import bind
from compiler.ops.debug import debug_assert_op, debug_print_op
from runtime import errors
from runtime.host_callbacks import assertion_text, render
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import active_trace


def split_template(items: list[Any]) -> tuple[tuple, list[Tensor]]:
    """Strings and tensors -> (template with None where each tensor goes, the tensors)."""
    template = tuple(None if isinstance(x, Tensor) else x for x in items)
    return template, [x for x in items if isinstance(x, Tensor)]


def emit_print(items: list[Any], summarize: int, stream: str, end: str) -> None:
    """Print the items (strings and tensors) at run time, in program order."""
    template, tensors = split_template(items)
    trace = active_trace()
    if trace is None:
        from tfx_core.debugging.printing import stream_object

        text = render(template, [t.numpy() for t in tensors], summarize)
        out = stream_object(stream)
        out.write(text + end)
        out.flush()
        return
    tok = bind(debug_print_op, trace.effect_token(), *tensors, template=template,
               summarize=summarize, stream=stream, end=end)
    trace.set_effect_token(tok)


def emit_assert(pred: Tensor, items: list[Any], *, kind: str = "assert", message: str = "",
                summarize: int = 3, where: str = "", names: tuple = ()) -> None:
    """Raise tx.errors.InvalidArgumentError when `pred` (a bool scalar; one flag per checked op
    for kind "numerics") is false: now if eager or statically known, else at run time."""
    template, tensors = split_template(items)
    attrs = {"kind": kind, "message": message, "template": template, "summarize": summarize,
             "where": where}
    if names:
        attrs["names"] = names
    trace = active_trace()
    static = _static(pred) if trace is not None else pred.numpy()
    if static is not None and bool(np.all(static)):
        return
    if static is not None:
        data = [_static(t) if trace is not None else t.numpy() for t in tensors]
        if all(d is not None for d in data):  # the failure is known now: say it now (as TF)
            raise errors.InvalidArgumentError(None, None,
                                              assertion_text(attrs, np.asarray(static), data))
    tok = bind(debug_assert_op, trace.effect_token(), pred, *tensors, **attrs)
    trace.set_effect_token(tok)


def _static(t: Tensor) -> np.ndarray | None:
    from tfx_core.polymorphic_function.tracer import get_static_value

    return get_static_value(t)
