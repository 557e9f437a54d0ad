"""MultiHeadAttention with Keras 3's weight layout (per-head einsum projections)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import init_scope
from tfx_core.keras import constraints, initializers, regularizers
from tfx_core.keras.engine.keras_tensor import KerasTensor
from tfx_core.keras.engine.layer import Layer, activity_penalty, serialize_object
from tfx_core.keras.layers.core import Dropout
from tfx_core.ops.array_ops import expand_dims, zeros_like
from tfx_core.ops.linalg_ops import einsum
from tfx_core.ops.math_ops import cast, exp, logical_and, not_equal, where
from tfx_core.ops.nn_ops import softmax
from tfx_core.ops.reduction_ops import reduce_logsumexp

# Keras's masked softmax: masked scores become -1e9 before the softmax (float32 inputs)
_LARGE_NEGATIVE = -1e9
_MAX_OUTPUT_DIMS = 6


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
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, activity_regularizer: Any = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # NOTE: as Keras 3, the activity regularizer applies to each of the four projections'
        # outputs (Keras's EinsumDense sublayers), not to the layer's output as such
        self.projection_activity_regularizer = None if activity_regularizer is None else \
            regularizers.get(activity_regularizer)
        for what, v in (("num_heads", num_heads), ("key_dim", key_dim),
                        ("value_dim", key_dim if value_dim is None else value_dim)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"MultiHeadAttention: {what} must be a positive int, got {v!r}")
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        self.attention_axes = None if attention_axes is None else tuple(
            int(a) for a in attention_axes)
        self.supports_masking = True  # the output keeps the query's mask (as Keras)
        self.num_heads, self.key_dim = num_heads, key_dim
        self.value_dim = key_dim if value_dim is None else value_dim
        self.dropout, self.use_bias = float(dropout), use_bias
        self.output_shape = output_shape
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = None if kernel_regularizer is None else regularizers.get(
            kernel_regularizer)
        self.bias_regularizer = None if bias_regularizer is None else regularizers.get(
            bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self.dropout_layer = Dropout(self.dropout, seed=seed) if self.dropout > 0 else None

    # ------------------------------------------------------------ weights
    def _projection(self, name: str, dim_in: int | None, units: int) -> tuple[Any, Any]:
        if dim_in is None:
            raise ValueError(f"MultiHeadAttention '{self.name}': the last dimension of the "
                             f"{name} input must be known")
        return self._weights(name, (dim_in, self.num_heads, units), (self.num_heads, units))

    def _weights(self, name: str, kernel_shape: tuple, bias_shape: tuple) -> tuple[Any, Any]:
        kernel = self.add_weight(kernel_shape, self.kernel_initializer, name=f"{name}/kernel",
                                 regularizer=self.kernel_regularizer,
                                 constraint=self.kernel_constraint)
        bias = self.add_weight(bias_shape, self.bias_initializer, name=f"{name}/bias",
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint) if self.use_bias else None
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
        if not 1 <= len(out) <= _MAX_OUTPUT_DIMS:
            raise ValueError(f"MultiHeadAttention: output_shape must have 1 to "
                             f"{_MAX_OUTPUT_DIMS} "
                             f"dims, got {self.output_shape!r}")
        self._tfx_out = out
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"MultiHeadAttention '{self.name}': all dimensions of `value` and "
                             f"`key`, except the last one, must be equal. Received: "
                             f"value_shape={tuple(value_shape)} and key_shape={tuple(key_shape)}")
        self._tfx_rank = len(query_shape)
        self._tfx_axes = _attention_axes(self.attention_axes, len(query_shape))
        self.query_kernel, self.query_bias = self._projection("query", query_shape[-1],
                                                              self.key_dim)
        self.key_kernel, self.key_bias = self._projection("key", key_shape[-1], self.key_dim)
        self.value_kernel, self.value_bias = self._projection("value", value_shape[-1],
                                                              self.value_dim)
        self.output_kernel, self.output_bias = self._weights(
            "attention_output", (self.num_heads, self.value_dim, *out), out)
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

    def _mask(self, query: Any, value: Any, query_mask: Any, value_mask: Any, key_mask: Any,
              attention_mask: Any, use_causal_mask: bool) -> Any:
        """Keras 3's combined mask: `attention_mask` AND the query mask (B, T, 1) AND the
        value/key masks (B, 1, S) AND the causal mask (1, T, S); None when there is none."""
        parts = []
        for m, axis in ((query_mask, -1), (value_mask, -2), (key_mask, -2)):
            if m is not None:
                parts.append(expand_dims(_bool(m), axis))
        if use_causal_mask:
            t, s = _dims(query)[1], _dims(value)[1]
            parts.append(convert_to_tensor(np.tril(np.ones((1, t, s), bool))))  # s <= t
        if attention_mask is not None:
            parts.insert(0, _bool(attention_mask))
        mask = None
        for part in parts:
            mask = part if mask is None else logical_and(mask, part)
        return mask

    def call(self, query: Any, value: Any, key: Any = None, query_mask: Any = None,
             value_mask: Any = None, key_mask: Any = None, attention_mask: Any = None,
             return_attention_scores: bool = False, training: bool = False,
             use_causal_mask: bool = False) -> Any:
        """`query_mask`/`value_mask`/`key_mask` default to the masks attached to the inputs
        (e.g. by `Embedding(mask_zero=True)`); the output carries the query's mask."""
        query, value = self._float(query), self._float(value)
        key = value if key is None else self._float(key)
        rank, axes = self._tfx_rank, self._tfx_axes
        if len(_dims(query)) != rank:
            raise ValueError(f"MultiHeadAttention '{self.name}': the query's rank changed from "
                             f"{rank} (at build) to {len(_dims(query))}")
        proj_in, proj_out, dot, combine, out_eq = _equations(rank, axes, len(self._tfx_out))
        q = einsum(f"{proj_in},{proj_out}", query, self.query_kernel)
        k = einsum(f"{proj_in},{proj_out}", key, self.key_kernel)
        v = einsum(f"{proj_in},{proj_out}", value, self.value_kernel)
        if self.use_bias:
            q, k, v = q + self.query_bias, k + self.key_bias, v + self.value_bias
        self._penalize(q, k, v)
        q = q * (1.0 / math.sqrt(float(self.key_dim)))
        # scores: (batch, <other dims>, heads, <query attention dims>, <key attention dims>)
        scores = einsum(dot, k, q)
        mask = self._mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                          use_causal_mask)
        norm = list(range(scores.shape.rank - len(axes), scores.shape.rank))
        if mask is not None:
            # NOTE: broadcast over the heads axis, which sits just before the attention dims
            while mask.shape.rank < scores.shape.rank:
                mask = expand_dims(mask, -2 * len(axes) - 1)
            scores = where(mask, scores, _LARGE_NEGATIVE * 1.0 + zeros_like(scores))
        if len(norm) == 1:
            probs = softmax(scores, axis=-1)
        else:  # a softmax over several axes at once
            probs = exp(scores - reduce_logsumexp(scores, norm, keepdims=True))
        # NOTE: Keras 3 (3.15) runs rank-3 inputs without dropout or returned scores through
        # its fused dot_product_attention, where a query row whose keys are ALL masked (e.g. a
        # padding query) gets a uniform row; its other path (scores returned, dropout, more
        # attention axes) zeros such rows. Both are mirrored.
        fused = rank == 3 and self.dropout_layer is None and not return_attention_scores
        if mask is not None and not fused:
            probs = where(mask, probs, zeros_like(probs))
        dropped = probs if self.dropout_layer is None else self.dropout_layer(
            probs, training=training)
        ctx = einsum(combine, dropped, v)  # (batch, <dims>, heads, value_dim)
        out = einsum(out_eq, ctx, self.output_kernel)
        if self.output_bias is not None:
            out = out + self.output_bias
        self._penalize(out)
        return (out, probs) if return_attention_scores else out

    def _penalize(self, *projections: Any) -> None:
        if self.projection_activity_regularizer is not None:
            for p in projections:
                self.add_loss(activity_penalty(self.projection_activity_regularizer, p))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout,
                "use_bias": self.use_bias, "output_shape": self.output_shape,
                "attention_axes": self.attention_axes, "seed": self.seed,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": serialize_object(self.kernel_regularizer),
                "bias_regularizer": serialize_object(self.bias_regularizer),
                "activity_regularizer": serialize_object(self.projection_activity_regularizer),
                "kernel_constraint": serialize_object(self.kernel_constraint),
                "bias_constraint": serialize_object(self.bias_constraint)}


def _bool(m: Any) -> Any:
    m = m if isinstance(m, Tensor) else convert_to_tensor(np.asarray(m))
    return m if m.dtype.is_bool else not_equal(m, zeros_like(m))


def _attention_axes(axes: tuple[int, ...] | None, rank: int) -> tuple[int, ...]:
    """The attention axes of the inputs, non-negative (default: every axis between the batch
    and the features); a negative axis counts from the features axis, as Keras."""
    if axes is None:
        return tuple(range(1, rank - 1))
    out = tuple(a if a >= 0 else rank + a for a in axes)
    if any(not 1 <= a < rank - 1 for a in out) or len(set(out)) != len(out):
        raise ValueError(f"MultiHeadAttention: attention_axes {axes} must be distinct axes "
                         f"between the batch and the last axis of rank-{rank} inputs")
    return tuple(sorted(out))


def _equations(rank: int, axes: tuple[int, ...], out_dims: int) -> tuple[str, ...]:
    """Einsum equations for rank-`rank` inputs (batch, *dims, features): the projection's input
    and output parts, query-key scores, the weighted sum of values and the output projection.
    Projected tensors are (batch, *dims, heads, channels): axes that are not attention axes
    (and the heads) are batch-like; key attention axes get letters of their own."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    proj = rank + 1  # the projected rank
    target = letters[:proj]  # the query's letters; the last is the channel
    free = iter(letters[proj:])
    source = "".join(next(free) if i in axes else target[i] for i in range(proj))
    batch = [i for i in range(proj) if i not in axes and i != proj - 1]
    product = ("".join(target[i] for i in batch) + "".join(target[i] for i in axes)
               + "".join(source[i] for i in axes))
    feat, head = next(free), target[proj - 2]
    outs = "".join(next(free) for _ in range(out_dims))
    proj_in = target[:rank - 1] + feat
    proj_out = f"{feat}{head}{target[proj - 1]}->{target}"
    out_eq = f"{target},{head}{target[proj - 1]}{outs}->{target[:proj - 2]}{outs}"
    return proj_in, proj_out, f"{source},{target}->{product}", f"{product},{source}->{target}", \
        out_eq


__all__ = ["MultiHeadAttention"]
