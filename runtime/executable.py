"""`Executable`: one compiled XLA program with fixed input/output types, and how to call it."""
from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import client, errors, memory, sharding
from .host_callbacks import HostCallbackSet

# NOTE: fixed host memory one loaded CPU executable holds besides its serialized code (JIT'd
# LLVM objects, thunks, handlers), measured at 0.2-0.7 MB RSS each on jaxlib 0.10.2.
EXECUTABLE_OVERHEAD_BYTES = 256 << 10
# NOTE: XLA:CPU deadlocks (a collective's rendezvous times out after ~40 s) when too many SPMD
# calls with collectives are queued without anyone waiting; JAX's own jitted calls do too (at ~3000,
# tfx at ~200). A mesh program waits for the call this many calls back before queueing more.
MAX_SPMD_IN_FLIGHT = 16
# Programs needing more than this share of the machine check the memory available per call.
_BIG_SHARE = 4

_LIVE: weakref.WeakSet = weakref.WeakSet()  # every Executable not yet collected (for tests)


class Executable:
    """A loaded XLA executable plus its output handlers (built once, reused every call)."""

    __slots__ = ("name", "loaded", "out_sig", "_handlers", "_execute", "device", "_errors",
                 "_cpp", "nbytes", "_serialized", "callbacks", "mesh", "in_specs", "out_specs",
                 "_in_flight", "generation", "_deferred", "_watchers",
                 "__weakref__")

    def __init__(self, name: str, loaded: Any, out_sig: list[tuple[tuple, np.dtype]], device=None,
                 code_bytes: int = 0, serialized: bytes | None = None,
                 callbacks: HostCallbackSet | None = None,
                 mesh: sharding.MeshSpec | None = None, in_specs: Sequence[Any] = (),
                 out_specs: Sequence[Any] = ()):
        self.name = name
        self.loaded = loaded
        self.out_sig = out_sig
        # an SPMD program runs on every device of `mesh`; its inputs and results are split
        # over them as `in_specs` / `out_specs` say (runtime.sharding.Spec per array)
        self.mesh = mesh
        self.in_specs = tuple(in_specs)
        self.out_specs = tuple(out_specs)
        self._in_flight: deque | None = None
        if mesh is not None:
            self.device = sharding.devices_of(mesh)[0]
            self._handlers = sharding.result_handlers(out_sig, mesh, self.out_specs)
            if mesh.size > 1 and out_sig:
                self._in_flight = deque()
        else:
            self.device = device or client.default_device()
            self._handlers = client.result_handlers(out_sig, self.device)
        self._execute = loaded.execute_sharded
        self.generation = 0  # bumped by upgrade()
        # tiered compilation: started by the first run (given its outputs, to wait for them)
        self._deferred: Any = None
        self._watchers: list | None = None  # weak methods told about an upgrade
        self._errors = client.runtime_error_types()
        self._cpp: Any = False  # the C++ dispatcher, built on first host-array call
        # what keeping this executable costs (the in-memory compile cache's byte bound)
        self.nbytes = max(int(code_bytes), len(serialized or b"")) + EXECUTABLE_OVERHEAD_BYTES
        # NOTE: jaxlib 0.10.2 re-serializes a *deserialized* CPU executable without its object
        # code (running that blob fails: "Function ..._fusion not found"): keep the original.
        self._serialized = serialized
        self.callbacks = callbacks  # keeps the host callbacks alive as long as the program
        self._guard_memory()
        if callbacks is not None or mesh is not None:
            self._cpp = None  # the C++ fast path would not wait for the program (below)
        _LIVE.add(self)

    def defer(self, job: Any) -> None:
        """Call `job(outputs, inputs)` after this program's first run is dispatched (inputs:
        its device buffers when it ran on them; `job(None, None)` when a hot path takes an
        entry first): tiered compilation starts the tuned compile there, so it does not compete
        with compiling, or (it waits for `outputs`) running, this one."""
        self._deferred = job

    def on_upgrade(self, method: Any) -> None:
        """Call the bound `method()` (held weakly) when `upgrade` swaps the program: for hot
        paths that keep this object's entries (they must fetch them again)."""
        if self._watchers is None:
            self._watchers = []
        self._watchers.append(weakref.WeakMethod(method))

    def _start_deferred(self, outputs: Any, inputs: Any = None) -> None:
        job, self._deferred = self._deferred, None
        if job is not None:
            job(outputs, inputs)

    def upgrade(self, loaded: Any, serialized: bytes | None = None) -> None:
        """Run `loaded` from the next call on: the same program compiled better (tiered
        compilation, runtime/tiered.py). Calls already queued finish on the old one. Hot
        paths that keep `raw_entry`/`host_entry`/`direct_entry` results register with
        `on_upgrade` to fetch them again."""
        self.loaded = loaded
        self._serialized = serialized
        self.nbytes = len(serialized or b"") + EXECUTABLE_OVERHEAD_BYTES
        self._execute = loaded.execute_sharded
        self._cpp = False if self.callbacks is None and self.mesh is None else None
        self._guard_memory()  # may wrap _execute (and drop the C++ path) again
        self.generation += 1
        for ref in self._watchers or ():
            method = ref()
            if method is not None:
                method()

    def _guard_memory(self) -> None:
        """Refuse (or check per call) a program whose outputs and temporaries can't fit."""
        if self.device.platform != "cpu":
            return
        try:
            s = self.loaded.get_compiled_memory_stats()
            need = s.output_size_in_bytes + s.temp_size_in_bytes
        except Exception:  # not reported by this backend: nothing to check
            return
        total = memory.total_bytes()
        if not total or need * _BIG_SHARE <= total:
            return
        run = self._execute

        def checked(buffers: Sequence[Any]) -> Any:
            avail = memory.available_bytes() if need <= total else 0
            if avail is not None and need > avail:
                where = (f"only {memory.describe(avail)} is available now" if need <= total
                         else f"this machine has {memory.describe(total)} in all")
                raise errors.ResourceExhaustedError(
                    None, None, f"{self.name!r} needs {memory.describe(need)} of memory for its "
                    f"outputs and temporaries, but {where}; it was not run")
            return run(buffers)

        self._execute = checked
        self._cpp = None  # the C++ fast path would bypass the check

    def call_host(self, args: Sequence[Any], in_sig: list) -> list[Any]:
        """Run with a mix of device buffers and numpy arrays (converted on the way in)."""
        cpp = self.host_entry(in_sig)
        if cpp is None:
            return self([a if not isinstance(a, np.ndarray) else self._put(a, i)
                         for i, a in enumerate(args)])
        try:
            out = cpp(*args)
        except self._errors as e:
            raise self._failed(e) from e
        if self._deferred is not None:
            self._start_deferred(out)
        return out

    def host_entry(self, in_sig: list) -> Any:
        """The C++ dispatcher `call_host` uses (built on first use), or None where there is
        none: `(*buffers or numpy arrays) -> list of buffers`, without this object's error
        translation. For callers' hot paths that fall back to `call_host` when it raises."""
        if self._deferred is not None:
            self._start_deferred(None)
        cpp = self._cpp
        if cpp is False:
            cpp = self._cpp = client.cpp_dispatcher(self.loaded, self.name, in_sig,
                                                    self.out_sig, self.device)
        return cpp

    def _put(self, a: np.ndarray, i: int) -> Any:
        if self.mesh is None:
            return client.device_put(a)
        return sharding.put(a, self.mesh, self.in_specs[i])

    def __call__(self, buffers: Sequence[Any]) -> list[Any]:
        """Run on device buffers; returns device buffers (dispatch is asynchronous)."""
        try:
            out = self._execute(buffers).consume_with_handlers(self._handlers)
            if self._in_flight is not None:
                self._bound_in_flight(out[0])
            if self.callbacks is not None:
                # NOTE: a program with prints or assertions finishes before the call returns:
                # its output is in order with the caller's; a failed assertion raises here
                for b in out:
                    b.block_until_ready()
            if self._deferred is not None:
                self._start_deferred(out, buffers)
            return out
        except self._errors as e:
            raise self._failed(e) from e

    def _bound_in_flight(self, out: Any) -> None:
        q = self._in_flight
        q.append(out)
        if len(q) > MAX_SPMD_IN_FLIGHT:
            q.popleft().block_until_ready()

    def run_single(self, buffers: Sequence[Any]) -> Any:
        """`self(buffers)[0]` for one-result programs (the eager hot path)."""
        try:
            return self._execute(buffers).consume_with_handlers(self._handlers)[0]
        except self._errors as e:
            raise self._failed(e) from e

    def raw_entry(self) -> tuple[Any, Any]:
        """(execute, result handlers): `execute(buffers).consume_with_handlers(handlers)` runs
        the program without this object's error translation. For callers' hot paths that keep
        it and fall back to calling the Executable when anything raises."""
        if self._deferred is not None:
            self._start_deferred(None)
        return self._execute, self._handlers

    def direct_entry(self) -> tuple[Any, Any] | None:
        """`raw_entry()` where running it is all that calling this object does (no host
        callbacks to wait for, no SPMD calls in flight to bound); None otherwise."""
        if self._deferred is not None:
            self._start_deferred(None)
        if self.callbacks is not None or self._in_flight is not None:
            return None
        return self._execute, self._handlers

    def serialize(self) -> bytes:
        """The executable as bytes for `client.deserialize_executable` (native code)."""
        if self._serialized is None:
            return client.serialize_executable(self.loaded)
        return self._serialized

    def _failed(self, e: BaseException) -> errors.OpError:
        kept = self.callbacks.take_error() if self.callbacks is not None else None
        return kept or errors.from_status(e, f"XLA failed running {self.name!r}")

    def cost_analysis(self) -> dict:
        """XLA's cost estimate (flops, bytes accessed, ...)."""
        return dict(self.loaded.cost_analysis())

    def memory_stats(self) -> dict:
        """Argument/output/temp/alias sizes in bytes of the compiled program (of each device's
        part, for an SPMD program over a mesh)."""
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


def live_executables() -> int:
    """How many Executables exist right now (memory tests: dead functions free theirs)."""
    return len(_LIVE)
