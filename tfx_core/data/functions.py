"""The user functions of `map` and `filter`: traced once with tx.function over the element
structure and run compiled per element; run eagerly only when they cannot be traced."""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from tfx_core.data import structure as st
from tfx_core.framework import nest
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.polymorphic_function.function import Function


def call_with_element(fn: Callable, element: Any) -> Any:
    """tf.data's calling convention: a plain tuple element is unpacked into arguments, anything
    else (a dict, a namedtuple, a single tensor) is passed as one argument."""
    return fn(*element) if type(element) is tuple else fn(element)


def _as_outputs(value: Any) -> Any:
    # As tf.data: a returned list is a tuple of components; numbers become tensors.
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, dict):
        return {k: _as_outputs(v) for k, v in value.items()}
    if isinstance(value, tuple):
        parts = [_as_outputs(v) for v in value]
        return type(value)(*parts) if st.is_namedtuple(value) else tuple(parts)
    if value is None:
        raise TypeError("a dataset function returned None; return tensors (or a structure of "
                        "them)")
    return convert_to_tensor(value)


class ElementFunction:
    """`fn` over one element, compiled once for the element spec (None dims: one trace, one
    executable per shape). `mode` says how it runs: "compiled", or "eager" when tracing raised
    (Python that reads tensor values, shapes that depend on data), with the reason in
    `fallback_reason`."""

    def __init__(self, fn: Callable, in_spec: Any, what: str,
                 first_element: Callable[[], list | None]):
        if not callable(fn):
            raise TypeError(f"{what}: expected a callable, got {type(fn).__name__}")
        self.fn = fn
        self.in_spec = in_spec
        self.what = what
        self.fallback_reason: str | None = None

        def flat_fn(*leaves: Tensor) -> Any:
            return _as_outputs(call_with_element(fn, st.pack(in_spec, list(leaves))))

        name = getattr(fn, "__name__", "fn")
        traced = Function(flat_fn, input_signature=st.flatten(in_spec),
                          name=f"{what}_{name}".replace(".", "_").replace("<", "").replace(">", ""))
        try:
            self._cf = traced.get_concrete_function()
        except Exception as e:  # noqa: BLE001  (any trace failure: try the eager road)
            self._cf = None
            self.fallback_reason = f"{type(e).__name__}: {e}"
            first = first_element()
            if first is None:
                raise
            out = self._eager(first)
            self.out_spec = st.pack(out, [self._loose(st.spec_of(x)) for x in nest.flatten(out)])
            warnings.warn(f"{what}: {name} could not be traced ({self.fallback_reason}); it runs "
                          "eagerly, op by op, for every element", stacklevel=4)
        else:
            self.out_spec = self._cf.structured_outputs

    @property
    def mode(self) -> str:
        return "compiled" if self._cf is not None else "eager"

    @staticmethod
    def _loose(spec: Any) -> Any:
        # Known from one eager example only, and an untraceable function's shapes may depend
        # on the data: every dim is unknown (the rank and dtype are kept).
        return type(spec)((None,) * len(spec.shape), spec.dtype)

    def _eager(self, leaves: list) -> Any:
        tensors = [st.to_device(x) for x in leaves]
        return _as_outputs(call_with_element(self.fn, st.pack(self.in_spec, tensors)))

    def __call__(self, leaves: list) -> list:
        """The function's result on one element, as flat leaves (device tensors)."""
        if self._cf is None:
            return nest.flatten(self._eager(leaves))
        out = self._cf.call_tensors(tuple(leaves))
        return nest.flatten(out)
