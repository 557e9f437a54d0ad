"""Layers with regularizers, constraints, groups, output_padding and Flatten(data_format),
shared by record_keras_layer_args.py (tf.keras 3) and tests/keras/test_layer_regularizers_
constraints.py (tx): `make(k)` builds from a keras-like module (k.layers, k.regularizers,
k.constraints), the inputs and weights are seeded numpy values."""
from __future__ import annotations

from typing import Any

import numpy as np

SEQ, IMG = (2, 5, 4), (2, 5, 5, 4)

# name -> (make(keras module), input shapes (one per argument; "ints" for token ids))
LAYERS: dict[str, tuple[Any, list[Any]]] = {
    "conv1d_groups": (lambda k: k.layers.Conv1D(
        6, 3, groups=2, kernel_regularizer=k.regularizers.L2(0.1),
        bias_regularizer=k.regularizers.L1(0.2), activity_regularizer="l2"), [SEQ]),
    "conv2d_groups": (lambda k: k.layers.Conv2D(
        4, (2, 3), groups=4, padding="same", kernel_regularizer=k.regularizers.L1L2(0.1, 0.2),
        activity_regularizer=k.regularizers.L1(0.05)), [IMG]),
    "conv3d_groups": (lambda k: k.layers.Conv3D(
        4, 2, groups=2, strides=(1, 2, 1), kernel_regularizer="l2"), [(2, 4, 4, 3, 4)]),
    "conv2d_transpose_valid": (lambda k: k.layers.Conv2DTranspose(
        3, 3, strides=2, output_padding=1, kernel_regularizer="l1",
        bias_regularizer="l2"), [IMG]),
    "conv2d_transpose_same": (lambda k: k.layers.Conv2DTranspose(
        2, (3, 2), strides=(3, 2), padding="same", output_padding=(2, 1),
        activity_regularizer="l1"), [IMG]),
    "depthwise": (lambda k: k.layers.DepthwiseConv2D(
        3, depth_multiplier=2, depthwise_regularizer=k.regularizers.L2(0.3),
        bias_regularizer="l1"), [IMG]),
    "separable": (lambda k: k.layers.SeparableConv2D(
        3, 2, depthwise_regularizer="l1", pointwise_regularizer=k.regularizers.L2(0.2),
        bias_regularizer="l2", activity_regularizer="l2"), [IMG]),
    "embedding": (lambda k: k.layers.Embedding(
        7, 3, embeddings_regularizer=k.regularizers.L2(0.5), activity_regularizer="l1"),
        ["ints"]),
    "batch_norm": (lambda k: k.layers.BatchNormalization(
        gamma_regularizer="l2", beta_regularizer=k.regularizers.L1(0.3)), [(4, 3)]),
    "layer_norm": (lambda k: k.layers.LayerNormalization(
        gamma_regularizer=k.regularizers.L1(0.2), beta_regularizer="l2"), [SEQ]),
    "group_norm": (lambda k: k.layers.GroupNormalization(
        groups=2, gamma_regularizer="l1", beta_regularizer="l2"), [SEQ]),
    "mha": (lambda k: k.layers.MultiHeadAttention(
        2, 3, kernel_regularizer=k.regularizers.L2(0.1), bias_regularizer="l1",
        activity_regularizer="l2"), [SEQ, (2, 3, 4)]),
    "dense_activity": (lambda k: k.layers.Dense(
        3, activity_regularizer=k.regularizers.L1L2(0.1, 0.3)), [(4, 2)]),
    "flatten_channels_first": (lambda k: k.layers.Flatten(data_format="channels_first"),
                               [(2, 3, 2, 4)]),
}


def inputs(name: str) -> list[np.ndarray]:
    rng = np.random.default_rng(sum(map(ord, name)))
    out = []
    for spec in LAYERS[name][1]:
        if spec == "ints":
            out.append(np.array([[1, 0, 6], [3, 5, 2]], np.int32))
        else:
            out.append(rng.standard_normal(spec).astype(np.float32))
    return out


def weights_for(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Seeded weights (signed: L1 and L2 penalties both matter) for set_weights."""
    rng = np.random.default_rng(7)
    return [(rng.standard_normal(s) * 0.5).astype(np.float32) for s in shapes]


# constraints applied directly to a matrix: name -> make(keras module)
CONSTRAINTS: dict[str, Any] = {
    "max_norm": lambda k: k.constraints.MaxNorm(1.0),
    "max_norm_axis1": lambda k: k.constraints.MaxNorm(0.7, axis=1),
    "min_max_norm": lambda k: k.constraints.MinMaxNorm(0.8, 1.2, rate=0.5),
    "unit_norm_01": lambda k: k.constraints.UnitNorm(axis=[0, 1]),
    "non_neg": lambda k: k.constraints.NonNeg(),
}
CONSTRAINT_INPUT = np.random.default_rng(3).standard_normal((3, 2, 4)).astype(np.float32)


def fit_model(k: Any) -> Any:
    """A small model with constrained and regularized weights, for one SGD step of fit."""
    return k.Sequential([
        k.Input((5,)),
        k.layers.Dense(4, activation="tanh", kernel_constraint=k.constraints.MaxNorm(0.3),
                       bias_constraint="non_neg", kernel_regularizer="l2",
                       activity_regularizer="l1"),
        k.layers.Dense(2, kernel_constraint=k.constraints.UnitNorm(),
                       bias_constraint=k.constraints.MinMaxNorm(0.5, 1.0, axis=0)),
    ])


def fit_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    return (rng.standard_normal((8, 5)).astype(np.float32),
            rng.standard_normal((8, 2)).astype(np.float32))
