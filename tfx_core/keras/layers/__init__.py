"""`tx.keras.layers`: the layer classes (one line per name, no logic)."""
from tfx_core.keras.engine.input_layer import Input, InputLayer
from tfx_core.keras.engine.layer import Layer
from tfx_core.keras.layers.attention import MultiHeadAttention
from tfx_core.keras.layers.convolutional import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    DepthwiseConv2D,
    SeparableConv2D,
)
from tfx_core.keras.layers.core import Activation, Dense, Dropout, Lambda, ReLU, Rescaling, Softmax
from tfx_core.keras.layers.embedding import Embedding
from tfx_core.keras.layers.masking import Masking
from tfx_core.keras.layers.merging import Add, Concatenate, Multiply
from tfx_core.keras.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
)
from tfx_core.keras.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from tfx_core.keras.layers.recurrent import GRU, LSTM, RNN, SimpleRNN
from tfx_core.keras.layers.regularization import SpatialDropout2D
from tfx_core.keras.layers.reshaping import Flatten, Permute, Reshape, UpSampling2D, ZeroPadding2D
from tfx_core.keras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from tfx_core.keras.layers.wrappers import Bidirectional, TimeDistributed

__all__ = ["Activation", "Add", "AveragePooling1D", "AveragePooling2D", "BatchNormalization",
           "Bidirectional", "Concatenate", "Conv1D", "Conv2D", "Conv2DTranspose", "Conv3D",
           "Dense", "DepthwiseConv2D", "Dropout", "Embedding", "Flatten", "GRU", "GRUCell",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
           "GroupNormalization", "Input", "InputLayer", "LSTM", "LSTMCell", "Lambda", "Layer",
           "LayerNormalization", "Masking", "MaxPooling1D", "MaxPooling2D", "MultiHeadAttention",
           "Multiply",
           "Permute", "RNN", "ReLU", "Rescaling", "Reshape", "SeparableConv2D", "SimpleRNN",
           "SimpleRNNCell", "Softmax", "SpatialDropout2D", "TimeDistributed", "UpSampling2D",
           "ZeroPadding2D"]
