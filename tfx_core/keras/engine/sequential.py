"""`Sequential`: a stack of layers, each called on the previous one's output."""
from __future__ import annotations

from typing import Any

from tfx_core.keras.engine.functional import LayerGraph
from tfx_core.keras.engine.functional_config import deserialize_layer, serialize_layer
from tfx_core.keras.engine.input_layer import Input, InputLayer
from tfx_core.keras.engine.keras_tensor import KerasTensor
from tfx_core.keras.engine.layer import Layer
from tfx_core.keras.engine.masks import set_keras_mask
from tfx_core.keras.engine.model import Model


class Sequential(Model):
    """keras.Sequential: with a known input shape (an `Input`/`InputLayer` first, or
    `input_shape=` on the first layer) it is built at once; otherwise on its first call."""

    def __init__(self, layers: list[Any] | None = None, trainable: bool = True,
                 name: str | None = None) -> None:
        super().__init__(trainable=trainable, name=name)
        self._tfx_input: InputLayer | None = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (an `Input` tensor becomes the model's InputLayer)."""
        if isinstance(layer, KerasTensor):
            layer = layer.history[0].layer
        if not isinstance(layer, Layer):
            raise TypeError(f"Only instances of `keras.Layer` can be added to a Sequential "
                            f"model. Received: {layer!r} (of type {type(layer)})")
        if isinstance(layer, InputLayer):
            if self._tfx_layers or self._tfx_input is not None:
                raise ValueError("Sequential: an InputLayer can only be the first layer")
            self._tfx_input = layer
        else:
            if any(layer is other for other in self._tfx_layers):
                raise ValueError(f"Sequential: layer '{layer.name}' was already added")
            self._tfx_layers.append(layer)
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not self._tfx_layers:
            raise TypeError("There are no layers in the model.")
        layer = self._tfx_layers.pop()
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self) -> None:
        self.built, self._tfx_graph = False, None
        if self._tfx_input is not None:
            self.build(self._tfx_input.shape)
        elif self._tfx_layers and self._tfx_layers[0]._tfx_input_shape is not None:
            self.build(self._tfx_layers[0]._tfx_input_shape)

    def build(self, input_shape: Any = None) -> None:
        """Build every layer by calling the stack on a symbolic input of `input_shape`."""
        if input_shape is None:
            raise ValueError("Sequential.build: you must provide an input_shape")
        shape = tuple(input_shape)
        if self._tfx_input is None:
            inputs = Input(shape=shape[1:])
        else:
            inputs = self._tfx_input.output
        x = inputs
        for layer in self._tfx_layers:
            x = layer(x)
        graph = LayerGraph(inputs, x)
        self._tfx_graph = graph
        self.inputs, self.outputs = graph.inputs, graph.outputs
        self._tfx_output_shape = x.shape if isinstance(x, KerasTensor) else None
        self.built = True

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        if mask is not None:  # as Keras: the mask is attached to the input for the layers
            set_keras_mask(inputs, mask)
        x = inputs
        for layer in self._tfx_layers:
            x = layer(x)
        return x

    def compute_mask(self, inputs: Any, previous_mask: Any) -> Any:
        # the last layer already attached the output's mask (or dropped it): nothing to add
        return None

    def get_config(self) -> dict[str, Any]:
        shape = None if self.inputs is None or not self.built else list(self.inputs.shape)
        return {"name": self.name, "trainable": self.trainable, "build_input_shape": shape,
                "layers": [serialize_layer(layer) for layer in self._tfx_layers]}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
                    ) -> Sequential:
        """A new, unbuilt-weights copy of the architecture (built if the input shape is known);
        layer classes come from `tx.keras.layers`, `custom_objects`, scopes and the registry."""
        made = [deserialize_layer(entry, custom_objects) for entry in config["layers"]]
        model = cls(made, trainable=config.get("trainable", True), name=config.get("name"))
        if not model.built and config.get("build_input_shape") is not None:
            model.build(config["build_input_shape"])
        return model


__all__ = ["Sequential"]
