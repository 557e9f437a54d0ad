"""`Model`: a functional layer graph (`Model(inputs, outputs)`) or a subclass with `call`."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tfx_core.framework.tensor_spec import TensorSpec
from tfx_core.keras import saving
from tfx_core.keras.engine.functional import LayerGraph
from tfx_core.keras.engine.functional_config import from_functional_config, functional_config
from tfx_core.keras.engine.keras_tensor import flatten
from tfx_core.keras.engine.layer import Layer
from tfx_core.keras.engine.masks import set_keras_mask
from tfx_core.keras.engine.summary import print_summary, summary_text
from tfx_core.keras.engine.training import Trainer
from tfx_core.polymorphic_function.function import function


class Model(Trainer, Layer):
    """keras.Model: `Model(inputs, outputs)` builds a functional model from KerasTensors; a
    subclass creates layers in `__init__` and computes in `call`. Both train with
    `compile`/`fit` (engine/training.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        inputs = kwargs.pop("inputs", args[0] if args else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if kwargs.get("name") is None:
            kwargs.pop("name", None)
            if inputs is not None and type(self) is Model:
                kwargs["name"] = _functional_name()
        Layer.__init__(self, **kwargs)
        Trainer.__init__(self)
        if type(self).compute_mask is Model.compute_mask:
            # a subclassed model drops an input mask unless it says otherwise (Keras 3);
            # a layer graph's masks flow (_tfx_set_graph)
            self.supports_masking = False
        self._tfx_graph: LayerGraph | None = None
        self.inputs: Any = None
        self.outputs: Any = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model: give both inputs and outputs (or neither, to subclass)")
            self._tfx_set_graph(LayerGraph(inputs, outputs))

    def _tfx_set_graph(self, graph: LayerGraph) -> None:
        self._tfx_graph = graph
        self._tfx_layers = [layer for layer in graph.layers if layer is not self]
        self.inputs, self.outputs = graph.inputs, graph.outputs
        self._tfx_output_shape = _shapes(graph.outputs)
        self.supports_masking = True  # masks flow through the layer graph (Keras 3)
        self.built = True

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in `layers`."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        if self._tfx_graph is None:
            raise NotImplementedError(f"Model {type(self).__name__} has no call(): subclass "
                                      "Model and define call, or use Model(inputs, outputs)")
        if mask is not None:  # as Keras: attached to the inputs for the graph's layers
            for x, m in zip(flatten(inputs), flatten(mask)):
                if m is not None:
                    set_keras_mask(x, m)
        return self._tfx_graph.run(inputs)

    def compute_mask(self, inputs: Any, previous_mask: Any) -> Any:
        # a layer graph's output layers attached the outputs' masks (or dropped them) already
        return None if self._tfx_graph is not None else previous_mask

    def build(self, input_shape: Any) -> None:
        """Build a subclassed model's layers by tracing `call` on a spec of `input_shape`."""
        subclassed = type(self).call is not Model.call
        if self._tfx_graph is None and input_shape is not None and subclassed:
            shape = list(input_shape)
            spec = TensorSpec([None, *shape[1:]], self.dtype) if shape else TensorSpec([])
            function(lambda x: self._call_in_context((x,), {})).get_concrete_function(spec)
        self.built = True

    def summary(self, line_length: int | None = None, positions: Any = None,
                print_fn: Callable[..., Any] | None = None, expand_nested: bool = False,
                show_trainable: bool = False) -> None:
        """Print the layers, their output shapes and parameter counts (Keras 3's table)."""
        print_summary(self.summary_text(), print_fn)

    def summary_text(self) -> str:
        chain = self._tfx_graph is None or self._tfx_graph.is_chain()
        return summary_text(self, self._summary_layers(), chain)

    def _summary_layers(self) -> list[Layer]:
        return self.layers

    def get_config(self) -> dict[str, Any]:
        """A functional model's layer graph (engine/functional_config.py), else the name."""
        if self._tfx_graph is not None and type(self).call is Model.call:
            return functional_config(self)
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
                    ) -> Model:
        """A new model (fresh weights) from `get_config()`: a functional graph is rebuilt with
        classes of tx.keras.layers, `custom_objects`, scopes and the registry."""
        if "nodes" in config and "layers" in config:
            return from_functional_config(config, custom_objects)
        return cls(**config)

    # ------------------------------------------------------------ saving (keras/saving.py)
    def save(self, filepath: Any, overwrite: bool = True) -> None:
        """Write the model to one tx saved-model file ("m.tfx"): a `serving_default`
        signature, the weights, the architecture and compile arguments, and the optimizer's
        state; `tx.keras.models.load_model` brings it back ready to predict or train on."""
        saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Write the weights (and optimizer state) to a tx.train.Checkpoint file."""
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any) -> Any:
        """Restore a `save_weights` file; an unbuilt model gets the values when it builds.
        Returns the checkpoint load status (`assert_consumed()` & co.)."""
        return saving.load_weights(self, filepath)


def _shapes(struct: Any) -> Any:
    if isinstance(struct, (list, tuple)):
        return [_shapes(s) for s in struct]
    if isinstance(struct, dict):
        return {k: _shapes(v) for k, v in struct.items()}
    return struct.shape


def _functional_name() -> str:
    from tfx_core.keras.engine.layer import unique_name

    return unique_name("functional")


__all__ = ["Model"]
