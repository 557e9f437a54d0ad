"""`tx.dtypes`: TF's dtypes namespace (DType, as_dtype, every dtype, cast, complex,
saturate_cast)."""
from tfx_core.framework.dtypes import *  # noqa: F403
from tfx_core.framework.dtypes import __all__ as _d
from tfx_core.ops.math_ops import cast, complex, saturate_cast  # noqa: A004

__all__ = [*_d, "cast", "complex", "saturate_cast"]
