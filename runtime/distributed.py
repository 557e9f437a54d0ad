"""Multi-process setup: processes find each other through jaxlib's distributed runtime.

Process 0 runs the coordination service, every process (0 included) connects a client to it;
the CPU client then builds a global device list spanning every process and runs cross-process
collectives through gloo over TCP (jaxlib's implementation). `jax.distributed.initialize` is
the wrapper over exactly that service/client pair; nothing here computes with JAX.

Failure modes and what the user sees:
- backend already created            -> FailedPreconditionError, before touching the network
- no coordinator at the address       -> UnavailableError naming it, after `timeout_seconds`
- coordinator port unusable (proc 0)  -> UnavailableError naming the port
- process counts disagree             -> InvalidArgumentError naming both counts
- peers never all register / a duplicate process id / a peer dies later: jaxlib's coordination
  service ends every process with a message (heartbeat and registration timeouts bound the
  wait); a collective in flight when a peer dies raises its gloo error first.

NOTE: jaxlib 0.10.2 aborts the process from a service thread on those last errors: its
`missed_heartbeat_callback` hook cannot be used from Python (the status argument has no Python
conversion, so the callback itself crashes), hence a watchdog message before that abort.
"""
from __future__ import annotations

import math
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import jax

from . import client, errors

DEFAULT_TIMEOUT_SECONDS = 60  # waiting for the coordinator and for every process to register
DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 10  # a silent peer is declared dead after this (jax: 100)
# The exit barrier waits this long for peers still working (a chief writing a checkpoint...);
# when it runs out jaxlib ends every process, the slow one included, so it stays long (jax's
# value). A dead peer never makes anyone wait that long: its heartbeats stop first.
DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 300
CPU_COLLECTIVES = "gloo"
_KEY = "tfx/distributed/num_processes/"  # coordination key-value store: each process's count


@dataclass(frozen=True)
class _Cluster:
    coordinator_address: str
    num_processes: int
    process_id: int


_state: dict[str, _Cluster] = {}


def _backend_exists() -> bool:
    # NOTE: private jax API (pinned 0.10.2); the public check lives inside
    # jax.distributed.initialize, which raises a RuntimeError without saying what to do.
    from jax._src import xla_bridge

    return xla_bridge.backends_are_initialized()


def _coordination_client():
    from jax._src import distributed as jax_distributed  # NOTE: private (pinned jax 0.10.2)

    return jax_distributed.global_state.client


def _split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise errors.InvalidArgumentError(
            None, None, f"distributed.initialize: coordinator_address must be 'host:port', "
                        f"got {address!r}")
    return host.strip("[]"), int(port)


def _check_arguments(coordinator_address, num_processes, process_id, timeouts) -> None:
    def bad(msg: str) -> errors.OpError:
        return errors.InvalidArgumentError(None, None, f"distributed.initialize: {msg}")

    if not isinstance(coordinator_address, str):
        raise bad(f"coordinator_address must be a 'host:port' string, got "
                  f"{type(coordinator_address).__name__}")
    _split_address(coordinator_address)
    if isinstance(num_processes, bool) or not isinstance(num_processes, int) or num_processes < 1:
        raise bad(f"num_processes must be a positive int, got {num_processes!r}")
    if isinstance(process_id, bool) or not isinstance(process_id, int):
        raise bad(f"process_id must be an int, got {process_id!r}")
    if not 0 <= process_id < num_processes:
        raise bad(f"process_id must be in [0, {num_processes - 1}] for num_processes="
                  f"{num_processes}, got {process_id}")
    for name, value in timeouts.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise bad(f"{name} must be a positive number of seconds, got {value!r}")


def _wait_for_coordinator(address: str, process_id: int, timeout: float) -> None:
    """Poll the coordinator's TCP port: jaxlib's own connect aborts the process on failure."""
    host, port = _split_address(address)
    deadline = time.monotonic() + timeout
    last: OSError | None = None
    while True:
        try:
            socket.create_connection((host, port), timeout=min(1.0, timeout)).close()
            return
        except OSError as e:
            last = e
        if time.monotonic() >= deadline:
            raise errors.UnavailableError(
                None, None,
                f"distributed.initialize: no coordinator reachable at {address} after "
                f"{timeout:g} s (process {process_id}; last error: {last}). Start process 0 "
                f"first, and check that every process uses the same coordinator address.")
        time.sleep(0.1)


def _watchdog(address: str, num_processes: int, process_id: int, timeout: float):
    """A message on stderr if connecting outlives the timeout (jaxlib aborts next)."""
    def warn() -> None:
        print(f"tfx distributed: process {process_id} waited {timeout:g} s for all "
              f"{num_processes} processes to register with the coordinator at {address}; the "
              f"cluster is incomplete. Check that every process got num_processes="
              f"{num_processes} and a distinct process_id in [0, {num_processes - 1}], and "
              f"that all of them started. jaxlib ends this process now.",
              file=sys.stderr, flush=True)

    timer = threading.Timer(timeout, warn)
    timer.daemon = True
    timer.start()
    return timer


def _check_process_counts(num_processes: int, process_id: int, timeout: float) -> None:
    """Every process must have been told the same count: the service only knows process 0's."""
    kv = _coordination_client()
    ms = max(1, int(timeout * 1000))
    try:
        kv.key_value_set(f"{_KEY}{process_id}", str(num_processes))
    except client.runtime_error_types() as e:
        raise errors.AlreadyExistsError(
            None, None, f"distributed.initialize: another process already joined with "
                        f"process_id={process_id}: process ids must be distinct ({e})") from e
    others = [0] if process_id else range(1, num_processes)
    for other in others:
        try:
            theirs = int(kv.blocking_key_value_get(f"{_KEY}{other}", ms))
        except client.runtime_error_types() as e:
            raise errors.DeadlineExceededError(
                None, None, f"distributed.initialize: process {other} did not report its "
                            f"process count within {timeout:g} s ({e})") from e
        if theirs != num_processes:
            raise errors.InvalidArgumentError(
                None, None, f"distributed.initialize: mismatched process count: this process "
                            f"(id {process_id}) was started with num_processes={num_processes}"
                            f", process {other} with num_processes={theirs}")


def initialize(coordinator_address: str, num_processes: int, process_id: int,
               local_device_ids: Sequence[int] | None = None, *,
               timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
               heartbeat_timeout_seconds: float = DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
               shutdown_timeout_seconds: float = DEFAULT_SHUTDOWN_TIMEOUT_SECONDS) -> None:
    """Join a cluster of `num_processes` processes coordinated at `coordinator_address`.

    Call once per process at program startup, before anything lists devices, places a tensor or
    runs an op. Process 0 also hosts the coordinator, bound to every interface on the port of
    `coordinator_address`. `local_device_ids` restricts the GPUs this process uses (ignored
    on CPU). Afterwards `global_devices()` lists the devices of every process.
    """
    _check_arguments(coordinator_address, num_processes, process_id, {
        "timeout_seconds": timeout_seconds, "heartbeat_timeout_seconds": heartbeat_timeout_seconds,
        "shutdown_timeout_seconds": shutdown_timeout_seconds})
    if _state or jax.distributed.is_initialized():
        raise errors.AlreadyExistsError(
            None, None, "distributed.initialize: this process already joined a cluster "
                        "(initialize may be called once per process)")
    if _backend_exists():
        raise errors.FailedPreconditionError(
            None, None, "distributed.initialize: multi-process setup must be configured at "
                        "program startup: the XLA backend already exists (something listed "
                        "devices, placed a tensor or ran an op before this call)")
    start = time.monotonic()
    if process_id != 0:
        _wait_for_coordinator(coordinator_address, process_id, timeout_seconds)
    remaining = max(1.0, timeout_seconds - (time.monotonic() - start))
    # the CPU client reads these when it is created (right after this call, on first use)
    jax.config.update("jax_cpu_collectives_implementation", CPU_COLLECTIVES)
    topology_minutes = max(1, math.ceil(timeout_seconds / 60))
    jax.config.update("jax_cpu_get_local_topology_timeout_minutes", topology_minutes)
    jax.config.update("jax_cpu_get_global_topology_timeout_minutes", topology_minutes + 1)
    timer = _watchdog(coordinator_address, num_processes, process_id, remaining)
    try:
        jax.distributed.initialize(
            coordinator_address, num_processes, process_id, local_device_ids,
            cluster_detection_method="deactivate",
            initialization_timeout=math.ceil(remaining),
            heartbeat_timeout_seconds=math.ceil(heartbeat_timeout_seconds),
            shutdown_timeout_seconds=math.ceil(shutdown_timeout_seconds))
    except client.runtime_error_types() as e:
        if "Failed to start RPC server" in str(e):
            raise errors.UnavailableError(
                None, None, f"distributed.initialize: process 0 could not start the "
                            f"coordinator on port {_split_address(coordinator_address)[1]} "
                            f"(already in use?): {e}") from e
        raise errors.from_status(e, "distributed.initialize") from e
    finally:
        timer.cancel()
    _check_process_counts(num_processes, process_id, remaining)
    _state["cluster"] = _Cluster(coordinator_address, num_processes, process_id)


def is_initialized() -> bool:
    """Whether this process joined a cluster through `initialize`."""
    return bool(_state)


def process_index() -> int:
    """This process's id in the cluster (0 without a cluster)."""
    return _state["cluster"].process_id if _state else 0


def process_count() -> int:
    """The number of processes in the cluster (1 without a cluster)."""
    return _state["cluster"].num_processes if _state else 1


def coordinator_address() -> str | None:
    return _state["cluster"].coordinator_address if _state else None


def global_devices() -> list:
    """Every device of every process (the default backend's), ordered by id."""
    return sorted(client.backend().devices(), key=lambda d: d.id)


def local_devices() -> list:
    """The devices this process can address."""
    return list(client.backend().local_devices())


def shutdown() -> None:
    """Leave the cluster: waits (up to the shutdown timeout) for every process to shut down too.

    Runs at interpreter exit anyway; collectives fail afterwards.
    """
    jax.distributed.shutdown()
    _state.clear()
