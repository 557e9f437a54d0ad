"""`tx.optimizers`: SGD, Adam, AdamW, RMSprop and learning-rate schedules (tf.keras.optimizers)."""
from tfx_core.training.optimizers import *  # noqa: F403
from tfx_core.training.optimizers import __all__  # noqa: F401
