"""`tx.linalg`: TF's linear algebra namespace (tf.linalg.matmul)."""
from tfx_core.ops.linalg_ops import (  # noqa: F401
    band_part,
    diag_part,
    einsum,
    matmul,
    matvec,
    norm,
    tensordot,
    trace,
)

__all__ = ["matmul"]
