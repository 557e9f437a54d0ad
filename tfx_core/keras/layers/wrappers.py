"""Layer wrappers: Bidirectional (an RNN both ways) and TimeDistributed (a layer per time step)."""
from __future__ import annotations

from typing import Any

from tfx_core.keras.engine.functional_config import deserialize_layer, serialize_layer
from tfx_core.keras.engine.layer import Layer
from tfx_core.keras.layers.recurrent import RNN
from tfx_core.ops.array_ops import concat, reshape, reverse

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Runs an RNN forwards and a copy of it backwards, then merges the two (Keras's wrapper).

    The backward layer is `layer`'s config with `go_backwards` flipped (or `backward_layer`);
    with `return_sequences` its outputs are flipped back, so step t of both halves describes
    input step t. `merge_mode` is "concat" (last axis), "sum", "mul", "ave" or None (a list
    [forward, backward]). With `return_state` the result is `[output, *forward_states,
    *backward_states]`; `initial_state` is the forward states then the backward ones.
    Weights: the forward layer's, then the backward layer's.
    """

    def __init__(self, layer: RNN, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: RNN | None = None, **kwargs: Any) -> None:
        if not isinstance(layer, RNN):
            raise ValueError(f"Bidirectional: `layer` must be a recurrent layer (an RNN such as "
                             f"LSTM), got {layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional: invalid merge_mode {merge_mode!r}; merge_mode "
                             f"should be one of {list(_MERGE_MODES)}")
        super().__init__(**kwargs)
        self._tfx_layer_config = serialize_layer(layer)  # plain data, as model.save needs
        forward_config = {**layer.get_config(), "name": f"forward_{layer.name}"}
        self.forward_layer = type(layer).from_config(forward_config)
        if backward_layer is None:
            backward_config = {**layer.get_config(), "name": f"backward_{layer.name}",
                               "go_backwards": not layer.go_backwards}
            backward_layer = type(layer).from_config(backward_config)
        elif not isinstance(backward_layer, RNN):
            raise ValueError(f"Bidirectional: backward_layer must be a recurrent layer, got "
                             f"{backward_layer!r}")
        elif (backward_layer.return_sequences != layer.return_sequences
              or backward_layer.return_state != layer.return_state):
            raise ValueError("Bidirectional: forward and backward layers must agree on "
                             "return_sequences and return_state")
        self.backward_layer = backward_layer
        for half in (self.forward_layer, self.backward_layer):
            # as Keras: masked steps of a returned sequence are zeros in both halves
            half.zero_output_for_mask = half.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        self._tfx_initial_weights = weights

    def build(self, input_shape: Any) -> None:
        for layer in (self.forward_layer, self.backward_layer):
            layer.build(input_shape)
            layer.built = True
        self.built = True
        if self._tfx_initial_weights is not None:
            self.set_weights(self._tfx_initial_weights)
            self._tfx_initial_weights = None

    def call(self, inputs: Any, initial_state: Any = None, mask: Any = None,
             training: Any = None) -> Any:
        fw_state = bw_state = None
        if initial_state is not None:
            states = list(initial_state)
            n = len(self.forward_layer.state_size)
            if len(states) != 2 * n:
                raise ValueError(f"Bidirectional '{self.name}': initial_state should be "
                                 f"{2 * n} tensors (the forward states, then the backward "
                                 f"ones), got {len(states)}")
            fw_state, bw_state = states[:n], states[n:]
        y = self.forward_layer(inputs, initial_state=fw_state, mask=mask, training=training)
        y_rev = self.backward_layer(inputs, initial_state=bw_state, mask=mask, training=training)
        fw_states = bw_states = []
        if self.return_state:
            y, fw_states, y_rev, bw_states = y[0], y[1:], y_rev[0], y_rev[1:]
        if self.return_sequences:  # the backward outputs come in reading order: flip them
            y_rev = reverse(y_rev, [1])
        if self.merge_mode == "concat":
            out = concat([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "ave":
            out = (y + y_rev) / 2.0
        elif self.merge_mode == "mul":
            out = y * y_rev
        else:
            out = [y, y_rev]
        if not self.return_state:
            return out
        head = out if isinstance(out, list) else [out]
        return [*head, *fw_states, *bw_states]

    @property
    def states(self) -> list[Any] | None:
        """A stateful wrapped layer's states: the forward ones, then the backward ones."""
        halves = [layer.states for layer in (self.forward_layer, self.backward_layer)]
        return None if halves[0] is None else [*halves[0], *(halves[1] or [])]

    def reset_states(self) -> None:
        """Zero both halves' states (stateful wrapped layers)."""
        for layer in (self.forward_layer, self.backward_layer):
            layer.reset_states()

    reset_state = reset_states

    def compute_mask(self, inputs: Any, previous_mask: Any) -> Any:
        """The input's time mask for returned sequences (one per half without merge_mode)."""
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        if not self.return_sequences:
            mask = None
        out = [mask, mask] if self.merge_mode is None else [mask]
        n = 2 * len(self.forward_layer.state_size) if self.return_state else 0
        masks = out + [None] * n
        return masks if len(masks) > 1 else masks[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": self._tfx_layer_config,
                "merge_mode": self.merge_mode,
                "backward_layer": serialize_layer(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Bidirectional:
        config = dict(config)
        layer = config["layer"]
        if isinstance(layer, dict):  # a fresh wrapped layer: a config never shares weights
            config["layer"] = deserialize_layer(layer)
        if isinstance(config.get("backward_layer"), dict):
            config["backward_layer"] = deserialize_layer(config["backward_layer"])
        return cls(**config)


class TimeDistributed(Layer):
    """Applies `layer` to every time step of (batch, time, ...) inputs independently
    (keras.layers.TimeDistributed): the batch and time axes are folded into one for a single
    call, so e.g. a Dense sees (batch * time, features) and shares its weights over time."""

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed: please initialize `TimeDistributed` layer with "
                             f"a `tx.keras.layers.Layer` instance, got {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True  # a time mask passes through unchanged (as Keras)

    def build(self, input_shape: Any) -> None:
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed '{self.name}': the inputs should be at least 3D "
                             f"(batch, time, ...), got input shape {tuple(input_shape)}")
        self.built = True

    def call(self, inputs: Any, training: Any = None) -> Any:
        shape = inputs.shape.as_list()
        if len(shape) < 3:
            raise ValueError(f"TimeDistributed '{self.name}': the inputs should be at least 3D "
                             f"(batch, time, ...), got input shape {tuple(shape)}")
        batch, steps, inner = shape[0], shape[1], shape[2:]
        if None in inner or (batch is None and steps is None):
            raise ValueError(f"TimeDistributed '{self.name}': all dimensions but one of batch "
                             f"and time must be known, got input shape {tuple(shape)}")
        y = self.layer(reshape(inputs, [-1, *inner]), training=training)
        rest = y.shape.as_list()[1:]
        return reshape(y, [-1, steps, *rest] if steps is not None else [batch, -1, *rest])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TimeDistributed:
        config = dict(config)
        if isinstance(config.get("layer"), dict):  # a fresh wrapped layer
            config["layer"] = deserialize_layer(config["layer"])
        return cls(**config)


__all__ = ["Bidirectional", "TimeDistributed"]
