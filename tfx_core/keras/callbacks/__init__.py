"""`tx.keras.callbacks`: the Callback hooks, History, progress, EarlyStopping,
ReduceLROnPlateau, LearningRateScheduler, TerminateOnNaN, ModelCheckpoint, CSVLogger and
TensorBoard."""
from tfx_core.keras.callbacks.base import (
    Callback,
    CallbackList,
    History,
    LambdaCallback,
    ProgbarLogger,
    ProgressBar,
)
from tfx_core.keras.callbacks.checkpoint import ModelCheckpoint
from tfx_core.keras.callbacks.loggers import CSVLogger, TensorBoard
from tfx_core.keras.callbacks.monitoring import (
    EarlyStopping,
    LearningRateScheduler,
    ReduceLROnPlateau,
    TerminateOnNaN,
)

__all__ = ["CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History",
           "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger",
           "ProgressBar", "ReduceLROnPlateau", "TensorBoard", "TerminateOnNaN"]
