"""Tiered compilation: run a quickly compiled program now, swap in the tuned one once XLA is done.

Some lowerings are faster to run but slower to compile (tfx's convolution rewrites add loop
kernels that XLA:CPU compiles for 15-30 ms each). For those, the caller hands `compile_stablehlo`
both modules: the quick one is compiled and returned at once; the tuned one is compiled here, on
one background thread (XLA releases the GIL while compiling), and then replaces the quick
program inside the same `Executable` (`Executable.upgrade`), so every holder of it runs the
tuned code from its next call on. Both modules compute the same function (they differ only in
rounding order). The tuned executable is what the persistent cache keeps, so a later process
loads it directly.

Off with `set_enabled(False)` (tx.config.set_tiered_compilation) or TFX_TIERED_COMPILATION=0.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_STATE = {"on": os.environ.get("TFX_TIERED_COMPILATION", "1") != "0"}
_LOCK = threading.Lock()
_PENDING: set[Future] = set()
_POOL: list[ThreadPoolExecutor] = []  # created on first use; one worker: compiles queue up
COUNTS = {"started": 0, "upgraded": 0, "failed": 0, "timed": 0}


def set_enabled(on: bool) -> bool:
    """Turn tiered compilation on or off for later compiles; returns the previous setting."""
    prev = _STATE["on"]
    _STATE["on"] = bool(on)
    return prev


def enabled() -> bool:
    return _STATE["on"]


def submit(compile_tuned: Callable[[], Any], upgrade: Callable[[Any], None],
           wait_for: Any = None) -> None:
    """Run `upgrade(compile_tuned())` on the background thread, once the device buffers
    `wait_for` (the quick program's first outputs) are ready; a failure keeps the quick program
    (it is correct, only slower) and is counted, never raised."""
    def work() -> None:
        _lower_priority()
        for b in wait_for or ():  # let the caller's first result come first
            try:
                b.block_until_ready()
            except Exception:  # noqa: BLE001 - its failure is the caller's to see
                pass
        try:
            tuned = compile_tuned()
        except Exception:  # noqa: BLE001 - the quick program stays in use
            COUNTS["failed"] += 1
            return
        upgrade(tuned)
        COUNTS["upgraded"] += 1

    with _LOCK:
        if not _POOL:  # its worker is joined at interpreter exit, so a compile is never cut
            _POOL.append(ThreadPoolExecutor(1, thread_name_prefix="tfx-tiered-compile"))
        fut = _POOL[0].submit(work)
        _PENDING.add(fut)
        COUNTS["started"] += 1
    fut.add_done_callback(_done)


TIMING_ROUNDS = 3


def faster(a: Any, b: Any, inputs: list) -> Any:
    """Of two loaded executables of the same function, the one that runs `inputs` (the first
    call's device buffers) faster: best of TIMING_ROUNDS interleaved runs each. `a` when the
    inputs are gone (donated) or `b` fails."""
    best = [float("inf"), float("inf")]
    try:
        if any(x.is_deleted() for x in inputs):
            return a
        for _ in range(TIMING_ROUNDS):
            for i, exe in enumerate((a, b)):
                t0 = time.perf_counter()
                results = exe.execute_sharded(list(inputs))
                for out in results.disassemble_into_single_device_arrays():
                    for buf in out:
                        buf.block_until_ready()
                best[i] = min(best[i], time.perf_counter() - t0)
    except Exception:  # noqa: BLE001 - keep the rule's program
        return a
    COUNTS["timed"] += 1
    return b if best[1] < best[0] else a


def _lower_priority() -> None:
    """Let the program the caller is running now (the quick one, on every core) go first: on
    Linux a thread has its own nice value."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + 10))
    except (AttributeError, OSError):  # not Linux, or not allowed: same priority then
        pass


def _done(fut: Future) -> None:
    with _LOCK:
        _PENDING.discard(fut)


def wait(timeout: float | None = None) -> bool:
    """Block until every background compile started so far has finished (True), or until
    `timeout` seconds have passed (False)."""
    with _LOCK:
        pending = list(_PENDING)
    for fut in pending:
        try:
            fut.result(timeout)
        except TimeoutError:
            return False
    return True


def pending() -> int:
    """Background compiles not finished yet."""
    with _LOCK:
        return len(_PENDING)
