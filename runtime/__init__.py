"""The runtime: XLA client adapter, executables, compile caches. Knows nothing of the IR."""
from . import errors
from .client import Device, default_device, device_put, list_devices, to_numpy
from .compile import CompileStats, compile_stablehlo
from .executable import Executable

__all__ = [
    "CompileStats",
    "Device",
    "Executable",
    "compile_stablehlo",
    "default_device",
    "device_put",
    "errors",
    "list_devices",
    "to_numpy",
]
