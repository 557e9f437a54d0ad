"""`tx.config`: debugging switches and devices (tf.config)."""
from __future__ import annotations

from runtime import client

_RUN_EAGERLY = [False]


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Run @tx.function bodies as plain Python (ops still run eagerly on XLA): for debugging."""
    _RUN_EAGERLY[0] = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    return _RUN_EAGERLY[0]


def list_physical_devices(device_type: str | None = None) -> list[client.Device]:
    """Devices jaxlib can see: CPU always, GPU/TPU when their plugin is installed."""
    return client.list_devices(device_type)


list_logical_devices = list_physical_devices
get_visible_devices = list_physical_devices
