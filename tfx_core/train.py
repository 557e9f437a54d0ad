"""`tx.train`: training checkpoints (tf.train.Checkpoint, CheckpointManager, latest_checkpoint)."""
from tfx_core.training.checkpoint import Checkpoint, CheckpointLoadStatus
from tfx_core.training.checkpoint_format import latest_checkpoint
from tfx_core.training.checkpoint_manager import CheckpointManager

__all__ = ["Checkpoint", "CheckpointLoadStatus", "CheckpointManager", "latest_checkpoint"]
