"""`InputLayer` and `Input()`: the symbolic entry points of a functional model."""
from __future__ import annotations

from typing import Any

from compiler.ir.types import F32
from tfx_core.keras.engine.keras_tensor import KerasTensor, Node
from tfx_core.keras.engine.layer import Layer, unique_name


class InputLayer(Layer):
    """A layer with no weights whose output is a `KerasTensor` of shape `(batch_size, *shape)`."""

    def __init__(self, shape: Any = None, batch_size: int | None = None, dtype: Any = None,
                 name: str | None = None, **kwargs: Any) -> None:
        if "input_shape" in kwargs:  # the tf.keras 2 spelling
            shape = kwargs.pop("input_shape")
        if shape is None:
            raise ValueError("InputLayer: give the shape of one sample, e.g. shape=(784,)")
        if isinstance(shape, int):
            shape = (shape,)
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype or F32, **kwargs)
        self.shape = (batch_size, *tuple(None if d is None else int(d) for d in shape))
        self.batch_size = batch_size
        node = Node(self, (), {}, None)
        self.output = KerasTensor(self.shape, self.dtype, name=self.name, history=(node, 0))
        node.outputs = self.output
        node.output_tensors = [self.output]
        self._tfx_nodes.append(node)
        self._tfx_output_shape = self.shape
        self.built = True

    def call(self, inputs: Any) -> Any:
        return inputs

    def get_config(self) -> dict[str, Any]:
        return {"shape": self.shape[1:], "batch_size": self.batch_size,
                "dtype": self.dtype.name, "name": self.name}


def Input(shape: Any = None, batch_size: int | None = None, dtype: Any = None,  # noqa: N802
          name: str | None = None) -> KerasTensor:
    """A symbolic input of one sample's `shape` (keras.Input); the batch dimension is None."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name).output


__all__ = ["Input", "InputLayer"]
