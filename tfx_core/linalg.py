"""`tx.linalg`: TF's linear algebra namespace (tf.linalg.matmul)."""
from tfx_core.ops.array_ops import eye  # noqa: F401
from tfx_core.ops.linalg.decompositions import (  # noqa: F401
    cholesky,
    eigh,
    eigvalsh,
    lu,
    qr,
    svd,
    triangular_solve,
)
from tfx_core.ops.linalg.functions import (  # noqa: F401
    eig,
    eigh_tridiagonal,
    eigvals,
    expm,
    sqrtm,
)
from tfx_core.ops.linalg.logm import logm  # noqa: F401
from tfx_core.ops.linalg.solvers import (  # noqa: F401
    banded_triangular_solve,
    cholesky_solve,
    det,
    inv,
    logdet,
    lstsq,
    lu_matrix_inverse,
    lu_reconstruct,
    lu_solve,
    matrix_rank,
    pinv,
    slogdet,
    solve,
    tridiagonal_solve,
)
from tfx_core.ops.linalg.structure import (  # noqa: F401
    adjoint,
    cross,
    diag,
    global_norm,
    matrix_transpose,
    normalize,
    set_diag,
    tensor_diag,
    tensor_diag_part,
    tridiagonal_matmul,
)
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
from tfx_core.ops.norm_ops import l2_normalize  # noqa: F401

__all__ = ["matmul"]
