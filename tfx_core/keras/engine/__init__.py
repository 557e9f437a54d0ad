"""The Keras engine: Layer, KerasTensor graphs, Model/Sequential and the training loops."""
