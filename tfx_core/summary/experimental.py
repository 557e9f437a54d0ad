"""`tx.summary.experimental`: the default step (tf.summary.experimental.set_step/get_step)."""
from tfx_core.summary.writer import get_step, set_step

__all__ = ["get_step", "set_step"]
