"""The op library: importing this package registers every OpDef."""
from . import (  # noqa: F401
    constant,
    control_flow,
    dynamic_slice,
    elementwise,
    fusion,
    linalg,
    reduction,
    shape,
)
