"""The runtime: XLA client adapter, executables, compile caches. Knows nothing of the IR."""
from .client import Device, default_device, device_put, list_devices, to_numpy
from .compile import CompileError, CompileStats, compile_stablehlo
from .executable import Executable, ExecutionError

__all__ = [
    "CompileError",
    "CompileStats",
    "Device",
    "Executable",
    "ExecutionError",
    "compile_stablehlo",
    "default_device",
    "device_put",
    "list_devices",
    "to_numpy",
]
