"""`tx.linalg`: TF's linear algebra namespace (tf.linalg.matmul)."""
from tfx_core.ops.einsum_ops import band_part, diag_part, einsum, matvec, norm, tensordot, trace  # noqa: F401
from tfx_core.ops.linalg_ops import matmul

__all__ = ["matmul"]
