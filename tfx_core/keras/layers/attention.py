"""MultiHeadAttention with Keras 3's weight layout (per-head einsum projections)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import init_scope
from tfx_core.keras import initializers
from tfx_core.keras.engine.keras_tensor import KerasTensor
from tfx_core.keras.engine.layer import Layer
from tfx_core.keras.layers.core import Dropout
from tfx_core.ops.array_ops import expand_dims, zeros_like
from tfx_core.ops.linalg_ops import einsum
from tfx_core.ops.math_ops import cast, logical_and, not_equal, where
from tfx_core.ops.nn_ops import softmax

# Keras's masked softmax: masked scores become -1e9 before the softmax (float32 inputs)
_LARGE_NEGATIVE = -1e9
_LETTERS = "fghijk"  # einsum letters for the output_shape dims


def _dims(x: Any) -> tuple:
    s = x.shape
    return tuple(s) if isinstance(s, tuple) else tuple(s.as_list())


class MultiHeadAttention(Layer):
    """Scaled dot-product attention over `num_heads` heads (keras.layers.MultiHeadAttention).

    Weights, in order (Keras 3's layout, each `(kernel, bias)`):
    query (dim_q, heads, key_dim) + (heads, key_dim); key (dim_k, heads, key_dim) +
    (heads, key_dim); value (dim_v, heads, value_dim) + (heads, value_dim); attention_output
    (heads, value_dim, *output_shape) + (*output_shape,). `output_shape` defaults to the
    query's last dimension. Inputs are (batch, seq, dim); `attention_mask` (batch, T, S) is
    True where query position t may attend to key position s; `use_causal_mask` also forbids
    s > t.
    """

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None,
                 dropout: float = 0.0, use_bias: bool = True, output_shape: Any = None,
                 attention_axes: Any = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for what, v in (("num_heads", num_heads), ("key_dim", key_dim),
                        ("value_dim", key_dim if value_dim is None else value_dim)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"MultiHeadAttention: {what} must be a positive int, got {v!r}")
        if attention_axes is not None:
            raise NotImplementedError("MultiHeadAttention: attention_axes is not supported yet "
                                      "(attention runs over axis 1)")
        self.num_heads, self.key_dim = num_heads, key_dim
        self.value_dim = key_dim if value_dim is None else value_dim
        self.dropout, self.use_bias = float(dropout), use_bias
        self.output_shape = output_shape
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.seed = seed
        self.dropout_layer = Dropout(self.dropout, seed=seed) if self.dropout > 0 else None

    # ------------------------------------------------------------ weights
    def _projection(self, name: str, dim_in: int | None, units: int) -> tuple[Any, Any]:
        if dim_in is None:
            raise ValueError(f"MultiHeadAttention '{self.name}': the last dimension of the "
                             f"{name} input must be known")
        kernel = self.add_weight((dim_in, self.num_heads, units), self.kernel_initializer,
                                 name=f"{name}/kernel")
        bias = self.add_weight((self.num_heads, units), self.bias_initializer,
                               name=f"{name}/bias") if self.use_bias else None
        return kernel, bias

    def build_all(self, query_shape: tuple, value_shape: tuple,
                  key_shape: tuple | None = None) -> None:
        """Create the weights from the three inputs' shapes (Keras's build(query, value, key))."""
        key_shape = value_shape if key_shape is None else key_shape
        out = self.output_shape
        if out is None:
            out = (query_shape[-1],)
        elif isinstance(out, int):
            out = (out,)
        out = tuple(int(d) for d in out)
        if not 1 <= len(out) <= len(_LETTERS):
            raise ValueError(f"MultiHeadAttention: output_shape must have 1 to {len(_LETTERS)} "
                             f"dims, got {self.output_shape!r}")
        self._tfx_out = out
        self.query_kernel, self.query_bias = self._projection("query", query_shape[-1],
                                                              self.key_dim)
        self.key_kernel, self.key_bias = self._projection("key", key_shape[-1], self.key_dim)
        self.value_kernel, self.value_bias = self._projection("value", value_shape[-1],
                                                              self.value_dim)
        self.output_kernel = self.add_weight((self.num_heads, self.value_dim, *out),
                                             self.kernel_initializer,
                                             name="attention_output/kernel")
        self.output_bias = self.add_weight(out, self.bias_initializer,
                                           name="attention_output/bias") if self.use_bias \
            else None
        self.built = True

    def __call__(self, query: Any, value: Any = None, key: Any = None, **kwargs: Any) -> Any:
        if value is None:
            raise TypeError(f"MultiHeadAttention '{self.name}': call(query, value, key=None, "
                            "...) needs a value input")
        if not self.built:
            with init_scope():  # weights are created eagerly, even during a trace
                self.build_all(_dims(query), _dims(value), None if key is None else _dims(key))
        return super().__call__(query, value, key=key, **kwargs)

    # ------------------------------------------------------------ computation
    def _float(self, x: Any) -> Any:
        if not isinstance(x, (Tensor, KerasTensor)):
            x = convert_to_tensor(np.asarray(x))
        return cast(x, self.dtype) if x.dtype != self.dtype else x

    def _mask(self, attention_mask: Any, use_causal_mask: bool, t: int, s: int) -> Any:
        mask = None
        if attention_mask is not None:
            m = attention_mask if isinstance(attention_mask, Tensor) else convert_to_tensor(
                np.asarray(attention_mask))
            mask = m if m.dtype.name == "bool" else not_equal(m, zeros_like(m))
            if mask.shape.rank == 3:  # (batch, T, S): the same for every head
                mask = expand_dims(mask, 1)
        if use_causal_mask:
            causal = convert_to_tensor(np.tril(np.ones((t, s), bool)))  # t may see s <= t
            mask = causal if mask is None else logical_and(mask, causal)
        return mask

    def call(self, query: Any, value: Any, key: Any = None, attention_mask: Any = None,
             return_attention_scores: bool = False, training: bool = False,
             use_causal_mask: bool = False) -> Any:
        query, value = self._float(query), self._float(value)
        key = value if key is None else self._float(key)
        q = einsum("abc,cde->abde", query, self.query_kernel)
        k = einsum("abc,cde->abde", key, self.key_kernel)
        v = einsum("abc,cde->abde", value, self.value_kernel)
        if self.use_bias:
            q, k, v = q + self.query_bias, k + self.key_bias, v + self.value_bias
        q = q * (1.0 / math.sqrt(float(self.key_dim)))
        scores = einsum("aecd,abcd->acbe", k, q)  # (batch, heads, T, S)
        mask = self._mask(attention_mask, use_causal_mask, _dims(query)[1], _dims(key)[1])
        if mask is not None:
            scores = where(mask, scores, _LARGE_NEGATIVE * 1.0 + zeros_like(scores))
        probs = softmax(scores, axis=-1)
        if mask is not None:
            # as Keras: a query row whose keys are all masked gets zeros, not a uniform row
            probs = where(mask, probs, zeros_like(probs))
        dropped = probs if self.dropout_layer is None else self.dropout_layer(
            probs, training=training)
        ctx = einsum("acbe,aecd->abcd", dropped, v)  # (batch, T, heads, value_dim)
        letters = _LETTERS[:len(self._tfx_out)]
        out = einsum(f"abcd,cd{letters}->ab{letters}", ctx, self.output_kernel)
        if self.output_bias is not None:
            out = out + self.output_bias
        return (out, probs) if return_attention_scores else out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout,
                "use_bias": self.use_bias, "output_shape": self.output_shape, "seed": self.seed}


__all__ = ["MultiHeadAttention"]
