"""`tx.keras.models`: Model, Sequential and load_model."""
from tfx_core.keras.engine.model import Model
from tfx_core.keras.engine.sequential import Sequential
from tfx_core.keras.saving import load_model

__all__ = ["Model", "Sequential", "load_model"]
