"""The tf.keras 3 layer cases recorded by record_keras_layers.py and replayed by
tests/keras/test_conv_norm_layers.py and tests/keras/test_attention.py (same constructors, same
inputs, same weights on both sides)."""
from __future__ import annotations

import zlib

import numpy as np


def _mask(b: int, t: int, s: int) -> np.ndarray:
    """A random (b, t, s) attention mask with at least one visible key per query row (a fully
    masked row differs between Keras's fused and explicit attention paths)."""
    rng = np.random.default_rng(7)
    m = rng.random((b, t, s)) < 0.6
    m[:, :, 0] = True
    return m


# name -> (constructor of `layers`, input shapes, call kwargs of each recorded call)
CASES = {
    "conv2d_same_s2": (lambda L: L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
                       [(2, 7, 7, 3)], [{}]),
    "conv2d_same_s23_even": (lambda L: L.Conv2D(3, (4, 2), strides=(2, 3), padding="same"),
                             [(2, 8, 9, 2)], [{}]),
    "conv2d_dilated_same": (lambda L: L.Conv2D(2, 3, dilation_rate=2, padding="same",
                                               use_bias=False), [(1, 7, 6, 2)], [{}]),
    # NOTE: Keras 3.15 on TF adds a channels_first bias along the LAST axis when the output's
    # width equals the filter count (seen with a (3, 3, 3) output); this case avoids that shape.
    "conv2d_channels_first": (lambda L: L.Conv2D(3, 2, strides=2, padding="same",
                                                 data_format="channels_first"),
                              [(2, 2, 8, 4)], [{}]),
    "conv1d_same_s2": (lambda L: L.Conv1D(3, 4, strides=2, padding="same"), [(2, 9, 2)], [{}]),
    "conv1d_causal_dilated": (lambda L: L.Conv1D(2, 3, padding="causal", dilation_rate=2),
                              [(2, 7, 3)], [{}]),
    "conv3d_same_s2": (lambda L: L.Conv3D(2, 3, strides=2, padding="same"),
                       [(1, 5, 6, 4, 2)], [{}]),
    "conv2d_transpose_same": (lambda L: L.Conv2DTranspose(3, 3, strides=2, padding="same"),
                              [(2, 4, 5, 2)], [{}]),
    "conv2d_transpose_valid": (lambda L: L.Conv2DTranspose(2, (3, 2), strides=(2, 1),
                                                           activation="tanh"),
                               [(1, 3, 4, 3)], [{}]),
    "depthwise_same_s2": (lambda L: L.DepthwiseConv2D(3, strides=2, padding="same",
                                                      depth_multiplier=2), [(2, 7, 6, 3)], [{}]),
    "separable_same": (lambda L: L.SeparableConv2D(4, 3, padding="same", depth_multiplier=2),
                       [(2, 5, 5, 3)], [{}]),
    "avgpool2d_same": (lambda L: L.AveragePooling2D(3, 2, padding="same"), [(2, 7, 6, 3)], [{}]),
    "maxpool1d_same": (lambda L: L.MaxPooling1D(3, 2, padding="same"), [(2, 8, 3)], [{}]),
    "batchnorm": (lambda L: L.BatchNormalization(momentum=0.9, epsilon=0.01),
                  [(6, 3, 4)], [{"training": False}, {"training": True}]),
    "batchnorm_axis1": (lambda L: L.BatchNormalization(axis=1, center=False),
                        [(5, 3, 2, 2)], [{"training": True}, {"training": False}]),
    "layernorm_2axes": (lambda L: L.LayerNormalization(axis=[-2, -1], epsilon=1e-5),
                        [(2, 3, 4)], [{}]),
    "groupnorm": (lambda L: L.GroupNormalization(groups=2), [(2, 3, 3, 6)], [{}]),
    "mha_self": (lambda L: L.MultiHeadAttention(2, 3), [(2, 4, 5), (2, 4, 5)],
                 [{}, {"return_attention_scores": True}]),
    "mha_cross_mask": (lambda L: L.MultiHeadAttention(3, 2, value_dim=4, output_shape=7),
                       [(2, 3, 5), (2, 4, 6), (2, 4, 3)],
                       [{"attention_mask": _mask(2, 3, 4)},
                        {"attention_mask": _mask(2, 3, 4), "return_attention_scores": True}]),
    "mha_causal": (lambda L: L.MultiHeadAttention(2, 4, use_bias=False), [(2, 5, 6), (2, 5, 6)],
                   [{"use_causal_mask": True},
                    {"use_causal_mask": True, "attention_mask": _mask(2, 5, 5),
                     "return_attention_scores": True}]),
}


def _rng(name: str, salt: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()) + salt)


def inputs(name: str) -> list[np.ndarray]:
    """The case's positional inputs (float32)."""
    rng = _rng(name, 0)
    return [rng.standard_normal(s).astype(np.float32) for s in CASES[name][1]]


def weights_for(name: str, shapes: list[tuple]) -> list[np.ndarray]:
    """Fixed weights for the case (positive for batch norm: its moving variance)."""
    rng = _rng(name, 1)
    if name.startswith("batchnorm"):
        return [rng.uniform(0.3, 1.5, s).astype(np.float32) for s in shapes]
    return [(0.5 * rng.standard_normal(s)).astype(np.float32) for s in shapes]


def run(layer, name: str) -> list:
    """The outputs of every recorded call, in order (a call with attention scores gives two)."""
    xs = inputs(name)
    outs = []
    for kwargs in CASES[name][2]:
        out = layer(*xs, **kwargs)
        outs.extend(out if isinstance(out, (list, tuple)) else [out])
    return outs
