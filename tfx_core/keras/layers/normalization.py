"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization."""
from __future__ import annotations

from typing import Any

from tfx_core.framework.convert import convert_to_tensor
from tfx_core.keras import constraints, initializers, regularizers
from tfx_core.keras.engine.layer import Layer, serialize_object
from tfx_core.ops.array_ops import expand_dims, reshape, squeeze, zeros_like
from tfx_core.ops.math_ops import cast, logical_or, where
from tfx_core.ops.norm_ops import batch_normalization, moments
from tfx_core.ops.reduction_ops import reduce_sum


def _axes(layer: Layer, axis: Any, rank: int) -> list[int]:
    """`axis` (an int or ints, negative allowed) as sorted non-negative axes of a rank-`rank`
    input; the batch axis 0 is not allowed."""
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = sorted({a + rank if a < 0 else a for a in axes})
    if not out or out[0] < 1 or out[-1] >= rank:
        raise ValueError(f"{type(layer).__name__} '{layer.name}': invalid axis {axis!r} for "
                         f"inputs of rank {rank}")
    return out


def _known(layer: Layer, input_shape: Any, axes: list[int]) -> list[int]:
    dims = [input_shape[a] for a in axes]
    if None in dims:
        raise ValueError(f"{type(layer).__name__} '{layer.name}': axis {axes} of the input "
                         f"must have a known size, got input shape {tuple(input_shape)}")
    return [int(d) for d in dims]


def _broadcast(v: Any, rank: int, axes: list[int]) -> Any:
    """A weight of shape [input dims at `axes`] reshaped to broadcast against the input."""
    if axes == [rank - 1]:
        return v
    shape = [1] * rank
    for a, d in zip(axes, v.shape.as_list()):
        shape[a] = d
    return reshape(v, shape)


class _Affine(Layer):
    """gamma/beta creation and the float cast every normalization layer shares."""

    def __init__(self, axis: Any, epsilon: float, center: bool, scale: bool,
                 beta_initializer: Any, gamma_initializer: Any, beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True  # a mask passes through (and steers BN's statistics)
        self.axis, self.epsilon = axis, float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = None if beta_regularizer is None else regularizers.get(
            beta_regularizer)
        self.gamma_regularizer = None if gamma_regularizer is None else regularizers.get(
            gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _build_affine(self, shape: list[int]) -> None:
        self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None

    def _float(self, inputs: Any) -> Any:
        return cast(inputs, self.dtype) if inputs.dtype != self.dtype else inputs

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": serialize_object(self.beta_regularizer),
                "gamma_regularizer": serialize_object(self.gamma_regularizer),
                "beta_constraint": serialize_object(self.beta_constraint),
                "gamma_constraint": serialize_object(self.gamma_constraint)}


class BatchNormalization(_Affine):
    """Normalize with the batch's statistics in training, the moving ones in inference.

    In a training call (`training=True` and the layer trainable) the batch mean and (biased)
    variance over every axis but `axis` normalize the inputs, and the non-trainable
    `moving_mean`/`moving_variance` are assigned `moving * momentum + batch * (1 - momentum)`
    — inside a compiled train step the assignments are part of the step's executable.
    Otherwise the moving statistics normalize. Output: (x - mean) / sqrt(var + epsilon) *
    gamma + beta.
    """

    def __init__(self, axis: Any = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         **kwargs)
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape: Any) -> None:
        self._tfx_axes = _axes(self, self.axis, len(input_shape))
        shape = _known(self, input_shape, self._tfx_axes)
        self._build_affine(shape)
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer,
                                           trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer,
                                               trainable=False, name="moving_variance")
        self.built = True

    def call(self, inputs: Any, training: bool = False, mask: Any = None) -> Any:
        x = self._float(inputs)
        rank, axes = x.shape.rank, self._tfx_axes
        if mask is not None:
            mask = convert_to_tensor(mask)
        if mask is not None and mask.shape.rank != rank - 1:
            raise ValueError(f"BatchNormalization '{self.name}': the mask provided should be "
                             f"one dimension less than the inputs, got mask.shape="
                             f"{tuple(mask.shape.as_list())}, inputs.shape="
                             f"{tuple(x.shape.as_list())}")
        if training and self.trainable:
            reduce = [a for a in range(rank) if a not in axes]
            mean, variance = (moments(x, reduce) if mask is None
                              else _masked_moments(x, mask, reduce))
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
            self.moving_variance.assign(self.moving_variance * m + variance * (1.0 - m))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        gamma = None if self.gamma is None else _broadcast(self.gamma, rank, axes)
        beta = None if self.beta is None else _broadcast(self.beta, rank, axes)
        return batch_normalization(x, _broadcast(mean, rank, axes),
                                   _broadcast(variance, rank, axes), beta, gamma, self.epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum,
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(
                    self.moving_variance_initializer)}


def _masked_moments(x: Any, mask: Any, reduce: list[int]) -> tuple[Any, Any]:
    """Mean and (biased) variance over `reduce` of the entries whose step `mask` keeps (the
    mask covers every axis but the last), as Keras 3's BatchNormalization."""
    keep = logical_or(expand_dims(cast(mask, "bool"), -1), cast(x * 0.0, "bool"))
    weight = cast(keep, x.dtype)
    count = reduce_sum(weight, reduce, keepdims=True) + KERAS_EPSILON
    mean = reduce_sum(where(keep, x, zeros_like(x)), reduce, keepdims=True) / count
    diff = where(keep, x - mean, zeros_like(x))
    variance = reduce_sum(diff * diff, reduce, keepdims=True) / count
    return squeeze(mean, reduce), squeeze(variance, reduce)


KERAS_EPSILON = 1e-7  # keras.config.epsilon(): keeps an all-masked batch finite


class LayerNormalization(_Affine):
    """Normalize each sample over `axis` (default the last): (x - mean) / sqrt(var + epsilon)
    * gamma + beta, gamma/beta shaped like the normalized dims (keras.layers.LayerNormalization).
    """

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         **kwargs)

    def build(self, input_shape: Any) -> None:
        self._tfx_axes = _axes(self, self.axis, len(input_shape))
        self._build_affine(_known(self, input_shape, self._tfx_axes))
        self.built = True

    def call(self, inputs: Any) -> Any:
        x = self._float(inputs)
        rank, axes = x.shape.rank, self._tfx_axes
        mean, variance = moments(x, axes, keepdims=True)
        gamma = None if self.gamma is None else _broadcast(self.gamma, rank, axes)
        beta = None if self.beta is None else _broadcast(self.beta, rank, axes)
        return batch_normalization(x, mean, variance, beta, gamma, self.epsilon)


class GroupNormalization(_Affine):
    """Split the channels (`axis`) into `groups` and normalize each group of each sample over
    its channels and all other non-batch axes; gamma/beta are per channel."""

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         **kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"GroupNormalization: groups must be a positive int, got {groups!r}")
        self.groups = groups

    def build(self, input_shape: Any) -> None:
        (axis,) = _axes(self, self.axis, len(input_shape))
        (channels,) = _known(self, input_shape, [axis])
        if channels % self.groups:
            raise ValueError(f"GroupNormalization '{self.name}': number of groups "
                             f"({self.groups}) must be a multiple of the number of channels "
                             f"({channels}) of input shape {tuple(input_shape)}")
        self._tfx_axis = axis
        self._build_affine([channels])
        self.built = True

    def call(self, inputs: Any) -> Any:
        x = self._float(inputs)
        shape = x.shape.as_list()
        axis, g = self._tfx_axis, self.groups
        if any(d is None for d in shape[1:]):
            raise ValueError(f"GroupNormalization '{self.name}': the non-batch dimensions must "
                             f"be known, got {tuple(shape)}")
        grouped = [-1, *shape[1:axis], g, shape[axis] // g, *shape[axis + 1:]]
        y = reshape(x, grouped)
        reduce = [a for a in range(1, len(grouped)) if a != axis]
        mean, variance = moments(y, reduce, keepdims=True)
        y = batch_normalization(y, mean, variance, None, None, self.epsilon)
        y = reshape(y, [-1, *shape[1:]])
        rank = len(shape)
        if self.gamma is not None:
            y = y * _broadcast(self.gamma, rank, [axis])
        if self.beta is not None:
            y = y + _broadcast(self.beta, rank, [axis])
        return y

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "groups": self.groups}


__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization"]
