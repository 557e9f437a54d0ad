"""The Python side of host callbacks in compiled code: prints and failed assertions.

A lowered module lists its callbacks as data, `(kind, attrs, operand types)` per index (see
compiler/ops/debug.py). `HostCallbackSet` turns that data into the Python functions jaxlib's CPU
client calls; nothing in the data is code, so a loaded artifact runs only what we wrote here.
A callback that must fail (an assertion) keeps its error here and makes XLA abort the run;
`Executable` then raises the kept error instead of XLA's generic status.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import numpy as np

from . import errors
from .host_format import format_tensor

# the custom call target of jaxlib's CPU host callbacks (compiler/ops/debug.py emits it)
CALLBACK_TARGET = b"xla_ffi_python_cpu_callback"
# what a module's callbacks may be: anything else in (possibly untrusted) data is refused
KINDS = ("print", "assert")


def render(template: Sequence[str | None], values: Sequence[np.ndarray], summarize: int) -> str:
    """The template's strings with each None slot replaced by the next value, formatted."""
    it = iter(values)
    return "".join(p if p is not None else format_tensor(next(it), summarize) for p in template)


def numerics_problem(a: np.ndarray) -> str:
    """'NaN', 'Inf' or 'NaN and Inf' (TF's check_numerics wording)."""
    nan, inf = bool(np.isnan(a).any()), bool(np.isinf(a).any())
    return "NaN and Inf" if nan and inf else ("NaN" if nan else "Inf")


def assertion_text(attrs: dict, pred: np.ndarray, data: Sequence[np.ndarray]) -> str:
    """The message of a failed assertion (its kind decides the wording)."""
    kind = attrs["kind"]
    where = f" ({attrs['where']})" if attrs.get("where") else ""
    if kind == "numerics":  # one flag per checked op: name the first that failed
        first = int(np.argmin(np.asarray(pred).reshape(-1)))
        return (f"tx.debugging.enable_check_numerics: {attrs['names'][first]} produced "
                f"{numerics_problem(data[first])}" if data else
                f"tx.debugging.enable_check_numerics: {attrs['names'][first]} produced NaN or Inf")
    if kind == "check_numerics":
        return f"{attrs['message']} : Tensor had {numerics_problem(data[0])} values{where}"
    body = render(attrs["template"], data, attrs["summarize"])
    return "\n".join(s for s in (attrs["message"], body) if s) + where


class HostCallbackSet:
    """The Python functions of one executable's host callbacks, built from their data."""

    def __init__(self, specs: Sequence[tuple]):
        self.specs = tuple(specs)
        self._error: errors.OpError | None = None  # NOTE: XLA may call back on its own thread
        self.functions: list[Callable] = [self._build(kind, attrs) for kind, attrs, _ in specs]

    def _build(self, kind: str, attrs: dict) -> Callable:
        if kind not in KINDS:
            raise ValueError(f"unknown host callback kind {kind!r}")
        if kind == "print":
            template, summarize = attrs["template"], attrs["summarize"]
            stream, end = attrs["stream"], attrs["end"]

            def print_(tok, *values):
                out = sys.stdout if stream == "stdout" else sys.stderr
                out.write(render(template, values, summarize) + end)
                out.flush()
                return (tok,)

            return print_

        def fail(tok, pred, *data):
            err = errors.InvalidArgumentError(None, None, assertion_text(attrs, pred, data))
            self._error = err
            raise err

        return fail

    def take_error(self) -> errors.OpError | None:
        """The error a callback raised during the last failed run (then forgotten)."""
        err, self._error = self._error, None
        return err
