"""`tx.keras.models`: Model and Sequential."""
from tfx_core.keras.engine.model import Model
from tfx_core.keras.engine.sequential import Sequential

__all__ = ["Model", "Sequential"]
