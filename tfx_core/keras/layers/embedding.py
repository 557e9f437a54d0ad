"""Embedding: integer ids -> rows of a trainable (input_dim, output_dim) table."""
from __future__ import annotations

from typing import Any

from tfx_core.keras import constraints, initializers, regularizers
from tfx_core.keras.engine.layer import Layer, serialize_object
from tfx_core.ops.array_ops import zeros_like
from tfx_core.ops.indexing_ops import gather
from tfx_core.ops.math_ops import cast, not_equal


class Embedding(Layer):
    """`embeddings[ids]` for integer ids in [0, input_dim) (keras.layers.Embedding).

    With `mask_zero=True` the output carries a mask, False where the id is 0 (padding): layers
    downstream that take a `mask` (RNNs, pooling, attention, the compiled loss) skip those steps.
    The default initializer is Keras's "uniform": RandomUniform(-0.05, 0.05).
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = None,
                 mask_zero: bool = False, embeddings_regularizer: Any = None,
                 embeddings_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for what, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"Embedding: {what} must be a positive int, got {v!r}")
        self.input_dim, self.output_dim, self.mask_zero = input_dim, output_dim, bool(mask_zero)
        self.embeddings_initializer = initializers.get(
            embeddings_initializer or initializers.RandomUniform(-0.05, 0.05))
        self.embeddings_regularizer = None if embeddings_regularizer is None else \
            regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)

    def build(self, input_shape: Any) -> None:
        self.embeddings = self.add_weight((self.input_dim, self.output_dim),
                                          self.embeddings_initializer, name="embeddings",
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs: Any) -> Any:
        if not inputs.dtype.is_integer:
            # as Keras: float ids (e.g. from a float Input) are truncated to int32
            inputs = cast(inputs, "int32")
        return gather(self.embeddings, inputs)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """With `mask_zero`, True where the id is not 0 (id 0 is padding), as Keras."""
        if not self.mask_zero:
            return None
        return not_equal(inputs, zeros_like(inputs))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim, "mask_zero": self.mask_zero,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": serialize_object(self.embeddings_regularizer),
                "activity_regularizer": serialize_object(self.activity_regularizer),
                "embeddings_constraint": serialize_object(self.embeddings_constraint)}


__all__ = ["Embedding"]
