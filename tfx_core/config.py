"""`tx.config`: debugging switches, devices and the optimizer's pass options (tf.config)."""
from __future__ import annotations

import os
import types
from typing import Any

from compiler.passes import DEFAULT_PIPELINE, PIPELINE_ORDER
from runtime import client, disk_cache

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


# ---------------------------------------------------------------- the persistent compile cache
def set_compile_cache_dir(path: str | os.PathLike | None) -> None:
    """Where compiled executables are cached on disk from now on; None disables the cache.

    Overrides `TFX_CACHE_DIR` (whose default is `~/.cache/tfx/xla`). The directory holds
    native code that tfx loads and runs: it must be yours alone (tfx creates it with mode
    0o700 and refuses a world-writable one). An unusable directory gives one warning, then
    tfx runs without the disk cache.
    """
    disk_cache.set_cache_dir(path)


def get_compile_cache_dir() -> str | None:
    """The persistent compile cache's directory, or None when it is disabled."""
    return disk_cache.get_cache_dir()


# ---------------------------------------------------------------- tx.config.optimizer
# TF's Grappler option names that map onto our passes.
_TF_NAMES = {"arithmetic_optimization": "simplify", "layout_optimizer": "layout",
             "remapping": "fusion"}
_DISABLED: set[str] = set()
_ENABLED: set[str] = set()  # opt-in passes switched on


def _pass_name(key: str) -> str:
    name = _TF_NAMES.get(key, key)
    if name not in PIPELINE_ORDER:  # other registered passes: tx.function(experimental_passes=)
        known = sorted(set(PIPELINE_ORDER) | set(_TF_NAMES))
        raise ValueError(f"tx.config.optimizer: unknown option {key!r}; known: {known}")
    return name


def set_experimental_options(options: dict[str, Any]) -> None:
    """Turn passes on or off for functions traced from now on (tf.config.optimizer's spelling):
    `{"constant_folding": False, "cse": True, ...}`; unknown names are an error."""
    for key, on in dict(options).items():
        name = _pass_name(key)
        if not isinstance(on, bool):
            raise TypeError(f"tx.config.optimizer: option {key!r} must be True or False, "
                            f"got {on!r}")
        (_DISABLED.discard if on else _DISABLED.add)(name)
        (_ENABLED.add if on else _ENABLED.discard)(name)


def get_experimental_options() -> dict[str, bool]:
    """The on/off state of every pass (the opt-in ones, layout and fusion, start off)."""
    return {name: _is_on(name) for name in PIPELINE_ORDER}


def _is_on(name: str) -> bool:
    return name in _ENABLED if name not in DEFAULT_PIPELINE else name not in _DISABLED


def pipeline() -> tuple[str, ...]:
    """The passes switched on, in pipeline order."""
    return tuple(p for p in PIPELINE_ORDER if _is_on(p))


optimizer = types.SimpleNamespace(
    set_experimental_options=set_experimental_options,
    get_experimental_options=get_experimental_options,
    pipeline=pipeline,
)
