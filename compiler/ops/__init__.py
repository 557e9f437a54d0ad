"""The op library: importing this package registers every OpDef."""
from . import constant, elementwise, fusion, linalg, reduction, shape  # noqa: F401
