"""The op library: importing this package registers every OpDef."""
from . import constant, control_flow, elementwise, fusion, linalg, reduction, shape  # noqa: F401
