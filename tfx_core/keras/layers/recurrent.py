"""Recurrent layers: RNN (any cell over time in one compiled loop), SimpleRNN, LSTM, GRU."""
from __future__ import annotations

from typing import Any

import numpy as np

from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.variables import Variable, active_trace, init_scope
from tfx_core.keras.engine.functional_config import deserialize_layer, serialize_layer
from tfx_core.keras.engine.layer import Layer
from tfx_core.keras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, get_initializer
from tfx_core.keras.utils import seeded_generator
from tfx_core.ops.array_ops import expand_dims, ones_like, reverse, transpose, zeros, zeros_like
from tfx_core.ops.control_flow_ops import while_loop
from tfx_core.ops.dropout_ops import dropout
from tfx_core.ops.indexing_ops import gather
from tfx_core.ops.math_ops import cast, not_equal, where
from tfx_core.ops.tensor_array import TensorArray
from tfx_core.polymorphic_function.function import function

# constructor arguments that belong to the layer, not to its cell
_LAYER_KEYS = ("name", "dtype", "trainable", "input_shape", "zero_output_for_mask")


def _sizes(size: Any) -> list[int]:
    return [int(s) for s in size] if isinstance(size, (list, tuple)) else [int(size)]


class RNN(Layer):
    """Runs `cell` over the time axis of (batch, time, features) inputs (keras.layers.RNN).

    The cell is a layer whose `call(inputs_t, states)` returns `(output_t, new_states)` and which
    has a `state_size` (int or list of ints). All time steps run in ONE `tx.while_loop` (a
    single XLA while loop with a static trip count, so it is differentiable), never unrolled in
    Python: a trace's size does not grow with the sequence length. Called eagerly, the loop runs
    as a `tx.function` compiled once per input shape rather than op by op.

    `return_sequences` gives every step's output (batch, time, units) instead of the last;
    `return_state` adds the final states (`[output, *states]`); `go_backwards` reads the
    sequence from its end (the returned sequence is then in reading order, as Keras);
    `initial_state` (a tensor or list of tensors, one per state) replaces the zero states;
    `mask` (batch, time) skips steps: a masked step keeps the states and repeats the previous
    output (zeros with `zero_output_for_mask`). A cell's `dropout` / `recurrent_dropout` draw
    one mask per training call, shared by all steps (as Keras).
    `stateful=True` carries the final states of one call (one batch) into the next: they are
    non-trainable Variables (`states`) of a fixed batch size, set back to zeros by
    `reset_states()`; inside a compiled fit step they are assigned in the step.
    `unroll` is accepted for compatibility and changes nothing (the loop is compiled anyway).
    """

    def __init__(self, cell: Layer, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
            raise TypeError(f"RNN: cell must be a Layer with a state_size (e.g. "
                            f"tx.keras.layers.LSTMCell), got {cell!r}")
        self.cell = cell
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = (bool(go_backwards), bool(stateful),
                                                         bool(unroll))
        self.supports_masking = True
        # stateful: the carried states, non-trainable Variables made at build (kept out of
        # `weights`, as Keras 3)
        self._tfx_states: list[Variable] | None = None
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._tfx_compiled_loop = None
        self._tfx_rng = None

    @property
    def state_size(self) -> list[int]:
        return _sizes(self.cell.state_size)

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != 3:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                             f"expected ndim=3 (batch, time, features), found ndim="
                             f"{len(input_shape)}. Full shape received: {tuple(input_shape)}")
        if not self.cell.built:
            self.cell.build((input_shape[0], input_shape[2]))
            self.cell.built = True
        if self.stateful:
            self._make_states(input_shape[0])
        if self._rates() != (0.0, 0.0):  # the dropout masks' own random stream, as Dropout
            self._tfx_rng = seeded_generator(getattr(self.cell, "seed", None))
        self.built = True

    # ------------------------------------------------------------ stateful
    @property
    def states(self) -> list[Variable] | None:
        """A stateful layer's carried states (Variables (batch, size)); None otherwise."""
        return None if self._tfx_states is None else list(self._tfx_states)

    def _make_states(self, batch: int | None) -> None:
        if self._tfx_states is not None:
            self.reset_states()
            return
        if batch is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': when using `stateful=True` "
                             f"in a RNN, the batch size must be static. Found dynamic batch "
                             f"size: give the input a batch size (tx.keras.Input(shape, "
                             f"batch_size=...)) or call the layer on a batch")
        dtype = self.cell.dtype
        with init_scope():
            self._tfx_states = [
                Variable(np.zeros((int(batch), size), dtype.np_dtype), trainable=False,
                         name=f"{self.name}/rnn_state_{i}", dtype=dtype)
                for i, size in enumerate(self.state_size)]

    def reset_states(self) -> None:
        """Set a stateful layer's states back to zeros (keras RNN.reset_states)."""
        for v in self._tfx_states or []:
            v.assign(np.zeros(v.shape.as_list(), v.dtype.np_dtype))

    reset_state = reset_states

    def _stateful_initial(self, inputs: Any, initial_state: Any) -> Any:
        """The stored states (unless `initial_state` is given), after checking the batch."""
        expected = self._tfx_states[0].shape.as_list()[0]
        got = inputs.shape.as_list()[0]
        if got is not None and got != expected:
            raise ValueError(f"{type(self).__name__} '{self.name}': if an RNN is stateful, the "
                             f"batch size of the input sequences must be the same as the batch "
                             f"size of the initial state.\n- Expected batch size: {expected}\n"
                             f"- Received batch size: {got}")
        if initial_state is not None:
            return initial_state
        return [v.value() for v in self._tfx_states]

    def _rates(self) -> tuple[float, float]:
        return (float(getattr(self.cell, "dropout", 0.0)),
                float(getattr(self.cell, "recurrent_dropout", 0.0)))

    def _dropout_masks(self, inputs: Any, states: list[Any], training: Any) -> Any:
        """(input mask (batch, features), recurrent mask (batch, units)) for a training call:
        0 or 1 / (1 - rate), drawn once and shared by every time step (as Keras)."""
        rates = self._rates()
        if not training or rates == (0.0, 0.0):
            return None
        ones = (ones_like(inputs[:, 0]), ones_like(states[0]))
        return [None if rate == 0 else dropout(o, rate, rng=self._tfx_rng)
                for o, rate in zip(ones, rates)]

    def call(self, inputs: Any, initial_state: Any = None, mask: Any = None,
             training: Any = None) -> Any:
        if inputs.shape.rank != 3:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                             f"expected ndim=3 (batch, time, features), found ndim="
                             f"{inputs.shape.rank}. Full shape received: "
                             f"{tuple(inputs.shape.as_list())}")
        if inputs.shape.as_list()[1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the number of time steps "
                             f"must be known when the layer is traced, got input shape "
                             f"{tuple(inputs.shape.as_list())}")
        dtype = self.cell.dtype
        if inputs.dtype != dtype:
            inputs = cast(inputs, dtype)
        if self.stateful:
            initial_state = self._stateful_initial(inputs, initial_state)
        states = self._initial_states(inputs, initial_state)
        mask = None if mask is None else self._mask(inputs, mask)
        masks = self._dropout_masks(inputs, states, training)
        if active_trace() is None:
            # NOTE: eagerly the loop would run step by step through the eager executor; as one
            # tx.function it is compiled once per shape and still differentiable on a tape.
            # (autograph=False: the loop has no Python control flow on tensors to convert)
            if self._tfx_compiled_loop is None:
                self._tfx_compiled_loop = function(self._loop, autograph=False)
            seq, last, final = self._tfx_compiled_loop(inputs, states, mask, masks)
        else:
            seq, last, final = self._loop(inputs, states, mask, masks)
        if self.stateful:  # the next call (or batch) starts from here
            for v, value in zip(self._tfx_states, final):
                v.assign(value)
        out = seq if self.return_sequences else last
        return [out, *final] if self.return_state else out

    def _initial_states(self, inputs: Any, initial_state: Any) -> list[Any]:
        sizes, dtype = self.state_size, self.cell.dtype
        if initial_state is None:
            # zeros of shape (batch, size), built from the inputs so an unknown batch works
            column = zeros_like(inputs[:, 0, 0:1], dtype=dtype)
            return [column + zeros([s], dtype) for s in sizes]
        given = list(initial_state) if isinstance(initial_state, (list, tuple)) else \
            [initial_state]
        if len(given) != len(sizes):
            raise ValueError(f"{type(self).__name__} '{self.name}': initial_state should be a "
                             f"list of {len(sizes)} tensors (one per state), got {len(given)}")
        states = []
        for i, (s, size) in enumerate(zip(given, sizes)):
            s = convert_to_tensor(s)
            if s.dtype != dtype:
                s = cast(s, dtype)
            shape = s.shape.as_list()
            if len(shape) != 2 or shape[1] != size:
                raise ValueError(f"{type(self).__name__} '{self.name}': initial_state[{i}] "
                                 f"must have shape (batch, {size}), got {tuple(shape)}")
            states.append(s)
        return states

    def _step(self, x_t: Any, states: list[Any]) -> tuple[Any, list[Any]]:
        single = not isinstance(self.cell.state_size, (list, tuple))
        out, new = self.cell.call(x_t, states[0] if single else states)
        return out, _sizes_list(new)

    def _loop(self, inputs: Any, states: list[Any], mask: Any,
              dropout_masks: Any) -> tuple[Any, Any, list[Any]]:
        """(every output (batch, time, out) or None, the last output, the final states)."""
        steps = inputs.shape.as_list()[1]
        x = transpose(inputs, [1, 0, 2])  # time major: the loop takes rows
        if mask is not None:
            mask = transpose(mask, [1, 0])
        if self.go_backwards:
            x = reverse(x, [0])
            mask = None if mask is None else reverse(mask, [0])
        out_size = int(getattr(self.cell, "output_size", self.state_size[0]))
        prev = zeros_like(states[0][:, 0:1]) + zeros([out_size], states[0].dtype)
        # every output is collected only for return_sequences; the last one is carried
        outputs = TensorArray(states[0].dtype, size=steps, element_shape=[
            inputs.shape.as_list()[0], out_size]) if self.return_sequences else ()

        def body(t: Any, states: list[Any], prev: Any, outputs: Any) -> Any:
            # NOTE: gather (not a static slice) takes row t of a loop counter; it also keeps
            # working when the batch dimension is unknown (a symbolic Keras call)
            out, new = self._step(gather(x, t), states)
            if mask is not None:  # as Keras: a masked step keeps the states and the output
                keep = expand_dims(gather(mask, t), -1)
                out = where(keep, out, zeros_like(out) if self.zero_output_for_mask else prev)
                new = [where(keep, n, s) for n, s in zip(new, states)]
            return t + 1, new, out, outputs.write(t, out) if self.return_sequences else ()

        # the trip count is static, so the loop is differentiable (see tx.while_loop); its
        # gradient saves only the body's residuals per step and never copies the output
        # buffer, so fwd+bwd is linear in T (bench/rnn_grad.py)
        if dropout_masks is not None:
            self.cell._tfx_masks = tuple(dropout_masks)
        try:
            _, final, last, outputs = while_loop(
                lambda t, s, p, o: t < steps, body,
                (convert_to_tensor(0), list(states), prev, outputs), maximum_iterations=steps)
        finally:
            if dropout_masks is not None:
                self.cell._tfx_masks = (None, None)
        seq = transpose(outputs.stack(), [1, 0, 2]) if self.return_sequences else None
        return seq, last, list(final)

    def _mask(self, inputs: Any, mask: Any) -> Any:
        """The (batch, time) mask as bools, checked against the inputs."""
        m = convert_to_tensor(mask)
        if not m.dtype.is_bool:
            m = not_equal(m, zeros_like(m))
        want, got = inputs.shape.as_list()[:2], m.shape.as_list()
        if len(got) != 2 or any(w is not None and g is not None and w != g
                                for w, g in zip(want, got)):
            raise ValueError(f"{type(self).__name__} '{self.name}': mask must have shape "
                             f"(batch, time) = {tuple(want)}, got {tuple(got)}")
        return m

    def compute_mask(self, inputs: Any, previous_mask: Any) -> Any:
        """The input's time mask for a returned sequence, else none (as Keras)."""
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        out = mask if self.return_sequences else None
        return [out, *[None] * len(self.state_size)] if self.return_state else out

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "return_sequences": self.return_sequences,
                  "return_state": self.return_state, "go_backwards": self.go_backwards,
                  "stateful": self.stateful, "unroll": self.unroll,
                  "zero_output_for_mask": self.zero_output_for_mask}
        if type(self) is RNN:
            config["cell"] = serialize_layer(self.cell)  # plain data, as model.save needs
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RNN:
        config = dict(config)
        cell = config.pop("cell", None)
        if isinstance(cell, dict):  # a fresh cell: a config never shares weights
            cell = {**cell, "config": {k: v for k, v in cell["config"].items() if k != "name"}}
            config["cell"] = deserialize_layer(cell)
        elif cell is not None:
            config["cell"] = cell
        return cls(**config)


def _sizes_list(new: Any) -> list[Any]:
    return list(new) if isinstance(new, (list, tuple)) else [new]


def _split_kwargs(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the layer's own constructor arguments, the cell's)."""
    layer = {k: kwargs.pop(k) for k in _LAYER_KEYS if k in kwargs}
    if "dtype" in layer:
        kwargs["dtype"] = layer["dtype"]
    return layer, kwargs


def _serialize(obj: Any) -> Any:
    config = getattr(obj, "get_config", None)
    return {"class_name": type(obj).__name__, "config": config()} if config else obj


class _Builtin(RNN):
    """SimpleRNN / LSTM / GRU: an RNN over its own cell, configured by the cell's arguments."""

    _cell_class: type = SimpleRNNCell

    def __init__(self, units: int, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 implementation: int = 2, use_cudnn: Any = "auto", **kwargs: Any) -> None:
        # `implementation` and `use_cudnn` choose Keras's kernels; XLA compiles one loop anyway
        layer_kwargs, cell_kwargs = _split_kwargs(dict(kwargs))
        cell = self._cell_class(units, **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         **layer_kwargs)

    @property
    def units(self) -> int:
        return self.cell.units

    @property
    def kernel(self) -> Any:
        return self.cell.kernel

    @property
    def recurrent_kernel(self) -> Any:
        return self.cell.recurrent_kernel

    @property
    def bias(self) -> Any:
        return self.cell.bias

    def get_config(self) -> dict[str, Any]:
        cell = {k: v for k, v in self.cell.get_config().items()
                if k not in ("name", "trainable", "dtype")}
        for key in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
            cell[key] = _serialize(cell[key])
        return {**super().get_config(), **cell}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RNN:
        config = dict(config)
        for key in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
            value = config.get(key)
            if isinstance(value, dict):
                made = get_initializer(value["class_name"])
                config[key] = type(made).from_config(value["config"])
        return cls(**config)


class SimpleRNN(_Builtin):
    """A fully connected RNN: h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)
    (keras.layers.SimpleRNN; weights kernel (features, units), recurrent_kernel (units, units),
    bias (units,))."""

    _cell_class = SimpleRNNCell


class LSTM(_Builtin):
    """Long short-term memory (keras.layers.LSTM): gates i, f, c, o in the kernels' columns,
    kernel (features, 4 units), recurrent_kernel (units, 4 units), bias (4 units,); states
    [h, c]; the forget gate's bias starts at 1 (`unit_forget_bias`)."""

    _cell_class = LSTMCell


class GRU(_Builtin):
    """Gated recurrent unit (keras.layers.GRU): gates z, r, h; with `reset_after` (the default)
    the bias is (2, 3 units) — input and recurrent rows — else (3 units,)."""

    _cell_class = GRUCell


__all__ = ["GRU", "LSTM", "RNN", "SimpleRNN"]
