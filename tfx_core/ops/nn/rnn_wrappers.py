"""tf.nn's RNN cell wrappers around a tx.keras recurrent cell: residual, dropout and device."""
from __future__ import annotations

from typing import Any

from tfx_core.keras.engine.layer import Layer
from tfx_core.nest import map_structure
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error
from tfx_core.ops.dropout_ops import dropout


class _CellWrapper(Layer):
    """Calls the wrapped cell (a Layer with call(inputs, states)) and reports its sizes."""

    def __init__(self, cell: Any, **kwargs: Any) -> None:
        if not callable(cell) or not hasattr(cell, "state_size"):
            raise op_error(type(self).__name__, f"cell must be an RNN cell (a layer with "
                           f"state_size), got {type(cell).__name__}", TypeError)
        super().__init__(**kwargs)
        self.cell = cell

    @property
    def state_size(self) -> Any:
        return self.cell.state_size

    @property
    def output_size(self) -> Any:
        return self.cell.output_size

    def _wrapped(self, inputs: Any, states: Any, **kwargs: Any) -> tuple[Any, Any]:
        return self.cell(inputs, states, **kwargs)

    def call(self, inputs: Any, states: Any, **kwargs: Any) -> tuple[Any, Any]:
        return self._wrapped(inputs, states, **kwargs)

    def get_config(self) -> dict[str, Any]:
        cell = {"class_name": type(self.cell).__name__, "config": self.cell.get_config()}
        return {**super().get_config(), "cell": cell}


class RNNCellResidualWrapper(_CellWrapper):
    """The cell's output plus its input (or residual_fn(inputs, outputs)); the state is the
    cell's (tf.nn.RNNCellResidualWrapper)."""

    def __init__(self, cell: Any, residual_fn: Any = None, **kwargs: Any) -> None:
        super().__init__(cell, **kwargs)
        self._residual_fn = residual_fn

    def call(self, inputs: Any, states: Any, **kwargs: Any) -> tuple[Any, Any]:
        outputs, new_states = self._wrapped(inputs, states, **kwargs)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, outputs), new_states

        def add(x: Any, y: Any) -> Any:
            if tuple(x.shape) != tuple(y.shape):
                raise op_error("RNNCellResidualWrapper", f"the input {x.shape} and the cell's "
                               f"output {y.shape} must have one shape to be added")
            return M.add(x, y)

        return map_structure(add, inputs, outputs), new_states


class RNNCellDropoutWrapper(_CellWrapper):
    """Dropout on the cell's inputs, new states and outputs with keep probabilities; applied
    on every call, as TF's wrapper (tf.nn.RNNCellDropoutWrapper). Only per-step masks:
    variational_recurrent=True (one mask for all steps) is rejected."""

    def __init__(self, cell: Any, input_keep_prob: float = 1.0, output_keep_prob: float = 1.0,
                 state_keep_prob: float = 1.0, variational_recurrent: bool = False,
                 input_size: Any = None, dtype: Any = None, seed: int | None = None,
                 dropout_state_filter_visitor: Any = None, **kwargs: Any) -> None:
        name = "RNNCellDropoutWrapper"
        for what, p in (("input_keep_prob", input_keep_prob),
                        ("output_keep_prob", output_keep_prob),
                        ("state_keep_prob", state_keep_prob)):
            if isinstance(p, (int, float)) and not 0.0 < float(p) <= 1.0:
                raise op_error(name, f"Parameter {what} must be between 0 and 1: {p}")
        if variational_recurrent:
            raise op_error(name, "variational_recurrent=True (one dropout mask for all time "
                           "steps) is not supported; use per-step masks or keras.layers.RNN's "
                           "dropout/recurrent_dropout")
        super().__init__(cell, **kwargs)
        self._keep = (input_keep_prob, state_keep_prob, output_keep_prob)
        self._seed = seed
        self._filter = dropout_state_filter_visitor or (lambda s: True)

    def _drop(self, x: Any, keep: Any, salt: int) -> Any:
        if isinstance(keep, (int, float)) and float(keep) == 1.0:
            return x
        seed = None if self._seed is None else self._seed + salt
        return map_structure(lambda t: dropout(t, M.subtract(1.0, keep) if not isinstance(
            keep, (int, float)) else 1.0 - float(keep), seed=seed), x)

    def call(self, inputs: Any, states: Any, **kwargs: Any) -> tuple[Any, Any]:
        keep_in, keep_state, keep_out = self._keep
        inputs = self._drop(inputs, keep_in, 0)
        outputs, new_states = self._wrapped(inputs, states, **kwargs)
        new_states = [self._drop(s, keep_state, 1 + i) if self._filter(s) else s
                      for i, s in enumerate(new_states)]
        return self._drop(outputs, keep_out, 100), new_states


class RNNCellDeviceWrapper(_CellWrapper):
    """Runs the cell on `device`: one device here, so the cell as is
    (tf.nn.RNNCellDeviceWrapper)."""

    def __init__(self, cell: Any, device: str | None = None, **kwargs: Any) -> None:
        super().__init__(cell, **kwargs)
        self._device = device

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "device": self._device}


__all__ = ["RNNCellDeviceWrapper", "RNNCellDropoutWrapper", "RNNCellResidualWrapper"]
