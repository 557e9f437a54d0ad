"""`tx.math`: TF's math namespace (aliases of the top-level elementwise and reduction ops)."""
from .math_ops import *  # noqa: F403
from .math_ops import __all__ as _m
from .reduction_ops import *  # noqa: F403
from .reduction_ops import __all__ as _r
from .sort_ops import *  # noqa: F403
from .sort_ops import __all__ as _s

__all__ = list(_m) + list(_r) + list(_s)
