"""Default layer names follow Keras (`conv2d`, `simple_rnn`), not tf.Module's `conv2_d`."""
from __future__ import annotations

import pytest

from tfx_core.keras import layers
from tfx_core.keras.engine.layer import snake_case


@pytest.mark.parametrize("cls_name,expected", [
    ("Conv2D", "conv2d"), ("GlobalAveragePooling2D", "global_average_pooling2d"),
    ("LSTM", "lstm"), ("SimpleRNN", "simple_rnn"), ("MultiHeadAttention", "multi_head_attention"),
    ("Conv2DTranspose", "conv2d_transpose"), ("BatchNormalization", "batch_normalization"),
    ("ReLU", "re_lu"), ("UpSampling2D", "up_sampling2d"),
])
def test_snake_case_as_keras(cls_name, expected):
    assert snake_case(cls_name) == expected


def test_layer_and_weight_names():
    conv = layers.Conv2D(2, 3)
    assert conv.name.startswith("conv2d")
    conv(layers.Input((5, 5, 1)))
    assert conv.kernel.name.startswith(conv.name + "/")
