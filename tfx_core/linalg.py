"""`tx.linalg`: TF's linear algebra namespace (tf.linalg.matmul)."""
from .einsum_ops import band_part, diag_part, einsum, matvec, norm, tensordot, trace  # noqa: F401
from .linalg_ops import matmul

__all__ = ["matmul"]
