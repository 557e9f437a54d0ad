"""The op library: importing this package registers every OpDef."""
from . import constant, elementwise, linalg, reduction, shape  # noqa: F401
