"""`tx.config`: debugging switches, devices and the optimizer's pass options (tf.config)."""
from __future__ import annotations

import dataclasses
import os
import types
import warnings
from typing import Any

from compiler.lowering import conv_formulations
from compiler.lowering.options import CONV_FORMULATIONS, LoweringOptions
from compiler.lowering.stablehlo import lower_graph
from compiler.passes import DEFAULT_PIPELINE, PIPELINE_ORDER
from runtime import client, disk_cache, tiered
from runtime import compile as runtime_compile
from runtime.cache import MEMORY_CACHE

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
    0o700, and refuses one owned by someone else, a symlink, or one others can write). An
    unusable or untrusted directory gives one warning, then tfx runs without the disk cache.
    """
    disk_cache.set_cache_dir(path)


def get_compile_cache_dir() -> str | None:
    """The persistent compile cache's directory, or None when it is disabled."""
    return disk_cache.get_cache_dir()


# ---------------------------------------------------------------- memory and compile limits
_UNCHANGED: Any = object()
_TRACE_LIMIT: list[int | None] = [None]


def set_compile_cache_limits(*, max_bytes: int | None = _UNCHANGED,
                             max_entries: int | None = _UNCHANGED,
                             max_traces_per_function: int | None = _UNCHANGED) -> None:
    """Bound what compiled programs may keep in memory (arguments left out stay as they are).

    Args:
        max_bytes: the process-wide in-memory compile cache, in estimated bytes of host memory
            (default 512 MiB; None: unbounded). It drops an executable as soon as every
            function it was compiled for has been garbage-collected, and the least recently
            used ones past the bound.
        max_entries: the same cache's entry count (default 4096; None: unbounded).
        max_traces_per_function: the traces one tx.function keeps (and executables one
            ConcreteFunction keeps, one per input shape); past it the least recently used is
            dropped, with a warning (default None: unbounded, as TF).
    """
    limits = MEMORY_CACHE.limits()
    if max_bytes is not _UNCHANGED:
        limits["max_bytes"] = _limit(max_bytes, "max_bytes")
    if max_entries is not _UNCHANGED:
        limits["max_entries"] = _limit(max_entries, "max_entries")
    if max_traces_per_function is not _UNCHANGED:
        _TRACE_LIMIT[0] = _limit(max_traces_per_function, "max_traces_per_function")
    MEMORY_CACHE.set_limits(**limits)


def get_compile_cache_limits() -> dict[str, int | None]:
    return {**MEMORY_CACHE.limits(), "max_traces_per_function": _TRACE_LIMIT[0]}


def max_traces_per_function() -> int | None:
    return _TRACE_LIMIT[0]


def set_compile_limits(max_chain: int | None = None) -> None:
    """The longest chain of dependent ops tfx hands to XLA (default 10,000; None: default).

    XLA's CPU compiler recurses once per op of a fused chain on an 8 MB stack: about 25,000
    crash the process, and compile time grows quadratically well before. Longer programs are
    refused with tx.errors.ResourceExhaustedError; write long loops as `tx.range` loops.
    """
    runtime_compile.set_compile_limits(max_chain)


def get_compile_limits() -> dict[str, int]:
    return runtime_compile.compile_limits()


def _limit(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"tx.config.set_compile_cache_limits: {name} must be a positive int "
                         f"or None, got {value!r}")
    return value


# ---------------------------------------------------------------- lowering options
def _env_conv_formulation() -> str:
    mode = os.environ.get("TFX_CONV_FORMULATION", "auto")
    if mode not in CONV_FORMULATIONS:
        warnings.warn(f"TFX_CONV_FORMULATION={mode!r} is not one of {CONV_FORMULATIONS}; "
                      "using 'auto'", stacklevel=2)
        return "auto"
    return mode


_CONV_FORMULATION = [_env_conv_formulation()]
_LOWERING_OPTIONS: list[LoweringOptions | None] = [None]  # built on first use: asks the platform


def set_conv_formulation(mode: str) -> str:
    """How convolutions are lowered from now on; returns the previous setting.

    "auto" (the default, or `TFX_CONV_FORMULATION` in the environment) applies the rule measured
    on XLA:CPU (compiler/lowering/conv_formulations.py), "direct" always emits
    stablehlo.convolution, "im2col", "eigen" and "im2col_t" force that formulation wherever it
    is exact.
    Compile keys include it: eager ops and functions compiled from now on use it, a
    ConcreteFunction compiled before keeps its executable.
    """
    if mode not in CONV_FORMULATIONS:
        raise ValueError(f"conv formulation must be one of {CONV_FORMULATIONS}, got {mode!r}")
    prev, _CONV_FORMULATION[0] = _CONV_FORMULATION[0], mode
    if mode != prev:
        from tfx_core.framework.eager import EAGER  # (eager imports this module)

        EAGER.use_options(lowering_options())
    return prev


def get_conv_formulation() -> str:
    return _CONV_FORMULATION[0]


def lowering_options() -> LoweringOptions:
    """What programs are lowered with now: the conv formulation and the default device's
    platform (every compile key includes them)."""
    options, mode = _LOWERING_OPTIONS[0], _CONV_FORMULATION[0]
    if options is None or options.conv_formulation != mode:
        options = LoweringOptions(client.backend().platform, mode)
        _LOWERING_OPTIONS[0] = options
    return options


def set_tiered_compilation(enabled: bool) -> bool:
    """Whether a function whose convolutions lower to rewrites (faster to run, slower to
    compile) first compiles the plain lowering and swaps the tuned program in once a background
    compile finishes (runtime/tiered.py); returns the previous setting. On by default
    (`TFX_TIERED_COMPILATION=0` turns it off). The two programs differ only in rounding order."""
    return tiered.set_enabled(enabled)


def get_tiered_compilation() -> bool:
    return tiered.enabled()


def wait_for_background_compiles(timeout: float | None = None) -> bool:
    """Block until the tuned programs being compiled in the background are in use (True), or
    `timeout` seconds passed (False). For benchmarks that must time the tuned code."""
    return tiered.wait(timeout)


def quick_lowering(graph: Any, options: LoweringOptions, donate: tuple = ()) -> bytes | None:
    """The plain lowering of `graph` to compile first, or None when tiering does not apply
    (off, or the rule lowers every convolution plainly anyway)."""
    if not tiered.enabled() or options.conv_formulation != "auto" \
            or not conv_formulations.rewrites_in(graph, options):
        return None
    plain = dataclasses.replace(options, conv_formulation="direct")
    return lower_graph(graph, plain, donate=donate).bytecode


def alternative_lowering(graph: Any, options: LoweringOptions, donate: tuple = ()) -> tuple | None:
    """(module, XLA options) of `graph` lowered another way that may run faster, for tiered
    compilation to time against the rule's (conv_formulations.eigen_convs), or None."""
    if not tiered.enabled() or not conv_formulations.eigen_convs(graph, options):
        return None
    lowered = lower_graph(graph, dataclasses.replace(options, eigen_by_option=True),
                          donate=donate)
    return lowered.bytecode, lowered.xla_options


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
