"""The op library: importing this package registers every OpDef."""
from . import (  # noqa: F401
    bitwise,
    cast,
    constant,
    control_flow,
    conv,
    debug,
    dynamic_slice,
    elementwise,
    fusion,
    indexing,
    lapack,
    linalg,
    random,
    reduction,
    segment,
    shape,
    sharding,
    sorting,
    special,  # a package: special functions, nan-safe ops
    spectral,
)
