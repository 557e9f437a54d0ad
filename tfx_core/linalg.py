"""`tx.linalg`: TF's linear algebra namespace (tf.linalg.matmul)."""
from .linalg_ops import matmul

__all__ = ["matmul"]
