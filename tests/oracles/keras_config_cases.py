"""Layer constructions with non-default arguments, one per tx.keras.layers class, shared by
tests/test_keras_config_roundtrip.py (tx) and record_keras_configs.py (tf.keras 3): `make(L)`
builds the layer from a layers module, `arrays(name, rng)` its call's inputs."""
from __future__ import annotations

from typing import Any

import numpy as np

# class name -> (make(layers module), input shapes: a tuple per argument, a list of tuples for
# a list argument, "ints" for token ids)
SEQ, IMG = (2, 4, 3), (2, 5, 5, 3)
CASES: dict[str, tuple[Any, list[Any]]] = {
    "Activation": (lambda L: L.Activation("tanh"), [(2, 3)]),
    "Add": (lambda L: L.Add(), [[(2, 3), (2, 3)]]),
    "AveragePooling1D": (lambda L: L.AveragePooling1D(3, strides=1, padding="same"), [SEQ]),
    "AveragePooling2D": (lambda L: L.AveragePooling2D((2, 3), strides=1, padding="same"), [IMG]),
    "BatchNormalization": (lambda L: L.BatchNormalization(momentum=0.9, epsilon=1e-2,
                                                        center=False, gamma_regularizer="l2",
                                                        gamma_constraint="non_neg"), [(2, 3)]),
    "Bidirectional": (lambda L: L.Bidirectional(L.LSTM(3, return_sequences=True),
                                              merge_mode="sum"), [SEQ]),
    "Concatenate": (lambda L: L.Concatenate(axis=1), [[(2, 3), (2, 2)]]),
    "Conv1D": (lambda L: L.Conv1D(4, 3, strides=2, padding="same", activation="relu",
                                use_bias=False, kernel_regularizer="l1l2",
                                activity_regularizer="l2", kernel_constraint="non_neg"), [SEQ]),
    "Conv2D": (lambda L: L.Conv2D(4, (2, 3), padding="same", dilation_rate=2,
                                activation="tanh", kernel_initializer="he_normal",
                                bias_regularizer="l1", kernel_constraint="max_norm",
                                bias_constraint="unit_norm"), [IMG]),
    "Conv2DTranspose": (lambda L: L.Conv2DTranspose(3, 3, strides=2, padding="same",
                                                  output_padding=(1, 0),
                                                  kernel_regularizer="l2"), [IMG]),
    "Conv3D": (lambda L: L.Conv3D(2, 2, strides=(1, 2, 1), groups=2,
                                bias_constraint="min_max_norm"), [(1, 4, 4, 4, 2)]),
    "Dense": (lambda L: L.Dense(5, activation="relu", use_bias=False,
                              kernel_regularizer="l2", bias_regularizer="l1"), [(2, 3)]),
    "DepthwiseConv2D": (lambda L: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same",
                                                  depthwise_regularizer="l2",
                                                  depthwise_constraint="unit_norm"),
                        [IMG]),
    "Dropout": (lambda L: L.Dropout(0.3, seed=1), [(2, 3)]),
    "Embedding": (lambda L: L.Embedding(10, 4, mask_zero=True, embeddings_regularizer="l1",
                                      embeddings_constraint="non_neg"),
                  ["ints"]),
    "Flatten": (lambda L: L.Flatten(data_format="channels_first"), [IMG]),
    "GRU": (lambda L: L.GRU(3, return_sequences=True, reset_after=False, go_backwards=True),
            [SEQ]),
    "GRUCell": (lambda L: L.GRUCell(3, reset_after=False, recurrent_regularizer="l1"),
                [(2, 3), [(2, 3)]]),
    "GlobalAveragePooling1D": (lambda L: L.GlobalAveragePooling1D(keepdims=True), [SEQ]),
    "GlobalAveragePooling2D": (lambda L: L.GlobalAveragePooling2D(data_format="channels_first"),
                               [IMG]),
    "GlobalMaxPooling2D": (lambda L: L.GlobalMaxPooling2D(keepdims=True), [IMG]),
    "GroupNormalization": (lambda L: L.GroupNormalization(groups=2, epsilon=1e-2,
                                                        beta_constraint="non_neg"),
                           [(2, 5, 4)]),
    "LSTM": (lambda L: L.LSTM(3, return_state=True, unit_forget_bias=False), [SEQ]),
    "LSTMCell": (lambda L: L.LSTMCell(2, recurrent_activation="hard_sigmoid"),
                 [(2, 3), [(2, 2), (2, 2)]]),
    "LayerNormalization": (lambda L: L.LayerNormalization(epsilon=1e-2, center=False,
                                                        gamma_regularizer="l1"), [SEQ]),
    "Masking": (lambda L: L.Masking(mask_value=0.5), [SEQ]),
    "MaxPooling1D": (lambda L: L.MaxPooling1D(3, strides=2, padding="same"), [SEQ]),
    "MaxPooling2D": (lambda L: L.MaxPooling2D((2, 2), strides=1), [IMG]),
    "MultiHeadAttention": (lambda L: L.MultiHeadAttention(2, 3, value_dim=2, use_bias=False,
                                                        kernel_regularizer="l2",
                                                        kernel_constraint="max_norm"),
                           [SEQ, (2, 5, 3)]),
    "Multiply": (lambda L: L.Multiply(), [[(2, 3), (2, 3)]]),
    "Permute": (lambda L: L.Permute((2, 1)), [SEQ]),
    "RNN": (lambda L: L.RNN(L.SimpleRNNCell(3, activation="relu"), return_sequences=True),
            [SEQ]),
    "ReLU": (lambda L: L.ReLU(max_value=0.5, negative_slope=0.1, threshold=0.05), [(2, 3)]),
    "Rescaling": (lambda L: L.Rescaling(0.5, offset=1.0), [(2, 3)]),
    "Reshape": (lambda L: L.Reshape((3, 2)), [(2, 6)]),
    "SeparableConv2D": (lambda L: L.SeparableConv2D(4, 3, depth_multiplier=2, padding="same",
                                                  pointwise_regularizer="l2",
                                                  depthwise_constraint="non_neg",
                                                  pointwise_constraint="unit_norm"),
                        [IMG]),
    "SimpleRNN": (lambda L: L.SimpleRNN(3, activation="relu", return_sequences=True), [SEQ]),
    "SimpleRNNCell": (lambda L: L.SimpleRNNCell(3, use_bias=False), [(2, 3), [(2, 3)]]),
    "Softmax": (lambda L: L.Softmax(axis=1), [SEQ]),
    "SpatialDropout2D": (lambda L: L.SpatialDropout2D(0.5, seed=3), [IMG]),
    "TimeDistributed": (lambda L: L.TimeDistributed(L.Dense(2, activation="tanh")), [SEQ]),
    "UpSampling2D": (lambda L: L.UpSampling2D((2, 3)), [IMG]),
    "ZeroPadding2D": (lambda L: L.ZeroPadding2D(((1, 0), (2, 1))), [IMG]),
}


def arrays(name: str, rng: np.random.Generator) -> list[Any]:
    """The call's positional inputs for CASES[name] (float32 normal values)."""
    def one(spec: Any) -> Any:
        if spec == "ints":
            return np.array([[1, 0, 9], [3, 3, 0]], np.int32)
        if isinstance(spec, list):
            return [one(s) for s in spec]
        return rng.standard_normal(spec).astype(np.float32)

    return [one(spec) for spec in CASES[name][1]]
