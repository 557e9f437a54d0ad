"""`tx.keras`: Keras 3's layers, models, losses, metrics, callbacks and training loops, on tx.

    model = tx.keras.Sequential([tx.keras.Input((4,)), tx.keras.layers.Dense(2)])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=5, validation_split=0.1)

Each train step (forward, loss, gradients, optimizer update, metrics) is one `@tx.function`.
"""
from tfx_core.keras import (
           activations,
           callbacks,
           constraints,
           initializers,
           layers,
           losses,
           metrics,
           models,
           optimizers,
           regularizers,
           saving,
           utils,
)
from tfx_core.keras.engine.input_layer import Input
from tfx_core.keras.engine.keras_tensor import KerasTensor
from tfx_core.keras.engine.layer import Layer
from tfx_core.keras.engine.model import Model
from tfx_core.keras.engine.sequential import Sequential

__all__ = ["Input", "KerasTensor", "Layer", "Model", "Sequential", "activations", "callbacks",
           "constraints", "initializers", "layers", "losses", "metrics", "models", "optimizers",
           "regularizers", "saving", "utils"]
