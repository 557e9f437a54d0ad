"""`tx.keras.layers`: the layer classes (one line per name, no logic)."""
from tfx_core.keras.engine.input_layer import Input, InputLayer
from tfx_core.keras.engine.layer import Layer
from tfx_core.keras.layers.core import Activation, Dense, Dropout, Lambda, ReLU, Rescaling, Softmax
from tfx_core.keras.layers.merging import Add, Concatenate
from tfx_core.keras.layers.reshaping import Flatten, Reshape

__all__ = ["Activation", "Add", "Concatenate", "Dense", "Dropout", "Flatten", "Input",
           "InputLayer", "Lambda", "Layer", "ReLU", "Reshape", "Rescaling", "Softmax"]
