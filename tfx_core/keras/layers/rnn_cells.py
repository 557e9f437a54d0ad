"""Recurrent cells (one time step): SimpleRNNCell, LSTMCell, GRUCell."""
from __future__ import annotations

from typing import Any

from tfx_core.framework.tensor import Tensor
from tfx_core.keras import activations, constraints, initializers, regularizers
from tfx_core.keras.engine.layer import Layer
from tfx_core.ops.array_ops import concat, split
from tfx_core.ops.linalg_ops import matmul
from tfx_core.ops.math_ops import cast


def get_initializer(identifier: Any) -> Any:
    """keras.initializers.get (kept for the cells' callers; "orthogonal" is a Keras name)."""
    return initializers.get(identifier)


def _entry(obj: Any) -> Any:
    """An initializer as plain data: {"class_name", "config"} (a name or callable as is)."""
    config = getattr(obj, "get_config", None)
    return {"class_name": type(obj).__name__, "config": config()} if config else obj


def _regularizer(identifier: Any) -> Any:
    return None if identifier is None else regularizers.get(identifier)


class _Cell(Layer):
    """What the three cells share: units, the three weights' initializers and regularizers."""

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        who = type(self).__name__
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"{who}: units must be a positive int, got {units!r}")
        for arg, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= rate < 1:
                raise ValueError(f"{who}: {arg} must be in [0, 1), got {rate}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = get_initializer(kernel_initializer)
        self.recurrent_initializer = get_initializer(recurrent_initializer)
        self.bias_initializer = get_initializer(bias_initializer)
        self.kernel_regularizer = _regularizer(kernel_regularizer)
        self.recurrent_regularizer = _regularizer(recurrent_regularizer)
        self.bias_regularizer = _regularizer(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.seed = seed
        # (input mask, recurrent mask): set by the RNN layer around a training call; each mask
        # (0 or 1/(1-rate)) is drawn once per call and shared by all time steps, as Keras
        self._tfx_masks: tuple[Any, Any] = (None, None)

    gates = 1  # the kernels hold `gates * units` columns

    @property
    def state_size(self) -> list[int]:
        return [self.units]

    @property
    def output_size(self) -> int:
        return self.units

    def _bias_initializer(self) -> Any:
        return self.bias_initializer

    def _bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def build(self, input_shape: Any) -> None:
        last = input_shape[-1]
        if last is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the last dimension of the "
                             f"inputs must be known, got input shape {input_shape}")
        n = self.gates * self.units
        self.kernel = self.add_weight((last, n), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((self.units, n), self.recurrent_initializer,
                                                name="recurrent_kernel",
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight(self._bias_shape(), self._bias_initializer(), name="bias",
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def _input(self, x: Any) -> Any:
        """x @ kernel, with integer inputs cast as Dense does (and the input dropout mask)."""
        if x.dtype != self.kernel.dtype:
            x = cast(x, self.kernel.dtype)
        if self._tfx_masks[0] is not None:
            x = x * self._tfx_masks[0]
        return matmul(x, self.kernel)

    def _recurrent(self, h: Any) -> Any:
        """h_prev as the recurrent matmuls see it (with the recurrent dropout mask)."""
        return h if self._tfx_masks[1] is None else h * self._tfx_masks[1]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": _entry(self.kernel_initializer),
                "recurrent_initializer": _entry(self.recurrent_initializer),
                "bias_initializer": _entry(self.bias_initializer),
                "kernel_regularizer": _entry(self.kernel_regularizer),
                "recurrent_regularizer": _entry(self.recurrent_regularizer),
                "bias_regularizer": _entry(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> _Cell:
        config = dict(config)
        for key in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
            value = config.get(key)
            if isinstance(value, dict):  # {"class_name", "config"} of get_config
                made = get_initializer(value["class_name"])
                config[key] = type(made).from_config(value["config"])
        return cls(**config)


class SimpleRNNCell(_Cell):
    """h = activation(x @ kernel + bias + h_prev @ recurrent_kernel)."""

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple[Any, list[Any]]:
        z = self._input(inputs) + matmul(self._recurrent(states[0]), self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        h = self.activation(z)
        return h, [h]


class LSTMCell(_Cell):
    """Long short-term memory; the kernels' columns are the gates i, f, c, o (Keras's order).

    `unit_forget_bias` starts the forget gate's bias at 1 (Jozefowicz et al., 2015), so early in
    training the cell keeps its memory instead of forgetting it.
    """

    gates = 4

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]  # h, c

    def _bias_initializer(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = self.bias_initializer, self.units

        def bias(shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
            parts = [init((u,), dtype=dtype), initializers.Ones()((u,), dtype=dtype),
                     init((2 * u,), dtype=dtype)]
            return concat(parts, axis=0)

        return bias

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple[Any, list[Any]]:
        h_prev, c_prev = states[0], states[1]
        z = self._input(inputs) + matmul(self._recurrent(h_prev), self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        zi, zf, zc, zo = split(z, 4, axis=-1)
        i, f, o = (self.recurrent_activation(g) for g in (zi, zf, zo))
        c = f * c_prev + i * self.activation(zc)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    """Gated recurrent unit; the kernels' columns are the gates z (update), r (reset), h.

    With `reset_after` (Keras 3's default, cuDNN's formulation) the reset gate multiplies
    `h_prev @ recurrent_kernel + recurrent_bias`, and the bias has two rows (input, recurrent);
    without it the reset gate multiplies h_prev before its matmul.
    """

    gates = 3

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after

    def _bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple[Any, list[Any]]:
        h_prev = states[0]
        u = self.units
        x = self._input(inputs)
        in_bias = rec_bias = None
        if self.bias is not None:
            in_bias, rec_bias = (self.bias[0], self.bias[1]) if self.reset_after else \
                (self.bias, None)
            x = x + in_bias
        xz, xr, xh = split(x, 3, axis=-1)
        if self.reset_after:
            inner = matmul(self._recurrent(h_prev), self.recurrent_kernel)
            if rec_bias is not None:
                inner = inner + rec_bias
            rz, rr, rh = split(inner, 3, axis=-1)
            z = self.recurrent_activation(xz + rz)
            r = self.recurrent_activation(xr + rr)
            hh = self.activation(xh + r * rh)
        else:
            h_rec = self._recurrent(h_prev)
            rz, rr = split(matmul(h_rec, self.recurrent_kernel[:, :2 * u]), 2, axis=-1)
            z = self.recurrent_activation(xz + rz)
            r = self.recurrent_activation(xr + rr)
            hh = self.activation(xh + matmul(r * h_rec, self.recurrent_kernel[:, 2 * u:]))
        h = z * h_prev + (1.0 - z) * hh
        return h, [h]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


__all__ = ["GRUCell", "LSTMCell", "SimpleRNNCell", "get_initializer"]
