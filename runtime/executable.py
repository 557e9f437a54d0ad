"""`Executable`: one compiled XLA program with fixed input/output types, and how to call it."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import client


class ExecutionError(RuntimeError):
    """XLA failed while running a program; the message names the function."""


class Executable:
    """A loaded XLA executable plus its output handlers (built once, reused every call)."""

    __slots__ = ("name", "loaded", "out_sig", "_handlers", "_execute", "device", "_errors",
                 "_cpp")

    def __init__(self, name: str, loaded: Any, out_sig: list[tuple[tuple, np.dtype]], device=None):
        self.name = name
        self.loaded = loaded
        self.out_sig = out_sig
        self.device = device or client.default_device()
        self._handlers = client.result_handlers(out_sig, self.device)
        self._execute = loaded.execute_sharded
        self._errors = client.runtime_error_types()
        self._cpp: Any = False  # the C++ dispatcher, built on first host-array call

    def call_host(self, args: Sequence[Any], in_sig: list) -> list[Any]:
        """Run with a mix of device buffers and numpy arrays (converted on the way in)."""
        cpp = self._cpp
        if cpp is False:
            cpp = self._cpp = client.cpp_dispatcher(self.loaded, self.name, in_sig,
                                                    self.out_sig, self.device)
        if cpp is None:
            return self([a if not isinstance(a, np.ndarray) else client.device_put(a)
                         for a in args])
        try:
            return cpp(*args)
        except self._errors as e:
            raise ExecutionError(f"XLA failed running {self.name!r}: {e}") from e

    def __call__(self, buffers: Sequence[Any]) -> list[Any]:
        """Run on device buffers; returns device buffers (dispatch is asynchronous)."""
        try:
            return self._execute(buffers).consume_with_handlers(self._handlers)
        except self._errors as e:
            raise ExecutionError(f"XLA failed running {self.name!r}: {e}") from e

    def run_single(self, buffers: Sequence[Any]) -> Any:
        """`self(buffers)[0]` for one-result programs (the eager hot path)."""
        try:
            return self._execute(buffers).consume_with_handlers(self._handlers)[0]
        except self._errors as e:
            raise ExecutionError(f"XLA failed running {self.name!r}: {e}") from e

    def cost_analysis(self) -> dict:
        """XLA's cost estimate (flops, bytes accessed, ...)."""
        return dict(self.loaded.cost_analysis())

    def memory_stats(self) -> dict:
        """Argument/output/temp/alias sizes in bytes of the compiled program."""
        s = self.loaded.get_compiled_memory_stats()
        return {
            k: getattr(s, k)
            for k in (
                "argument_size_in_bytes",
                "output_size_in_bytes",
                "alias_size_in_bytes",
                "temp_size_in_bytes",
                "generated_code_size_in_bytes",
            )
            if hasattr(s, k)
        }

    def optimized_hlo(self) -> str:
        """The HLO after XLA's optimisations (fusions, layouts)."""
        return self.loaded.hlo_modules()[0].to_string()
