"""Cluster resolvers (tf.distribute.cluster_resolver): who is in the cluster and which task this
process is, from TF_CONFIG or given directly, and joining the cluster they describe."""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from runtime import distributed
from runtime.errors import InvalidArgumentError, OpError

# jobs that form the training cluster, in process-id order (TF's coordination service leader
# is the chief when there is one, else worker 0; it becomes process 0 here)
TRAINING_JOBS = ("chief", "worker")


def _bad(where: str, msg: str) -> OpError:
    return InvalidArgumentError(None, None, f"{where}: {msg}")


def _check_address(where: str, address: Any) -> str:
    host, sep, port = address.rpartition(":") if isinstance(address, str) else ("", "", "")
    if not (sep and host and port.isdigit()):
        raise _bad(where, f"expected a 'host:port' address, got {address!r}")
    return address


def _tasks(where: str, job: str, tasks: Any) -> dict[int, str]:
    """A job's tasks as {index: address} (TF accepts a list, or a dict for sparse jobs)."""
    if isinstance(tasks, (list, tuple)):
        return {i: _check_address(f"{where}[{job!r}][{i}]", a) for i, a in enumerate(tasks)}
    if isinstance(tasks, Mapping):
        out = {}
        for k, a in tasks.items():
            try:
                i = int(k)
            except (TypeError, ValueError):
                raise _bad(f"{where}[{job!r}]", f"task index {k!r} is not an int") from None
            out[i] = _check_address(f"{where}[{job!r}][{k!r}]", a)
        return dict(sorted(out.items()))
    raise _bad(f"{where}[{job!r}]", f"expected a list of 'host:port' addresses, got "
                                    f"{type(tasks).__name__}")


class ClusterSpec:
    """Job name -> task index -> 'host:port' (tf.train.ClusterSpec)."""

    def __init__(self, cluster: Any, where: str = "cluster"):
        if isinstance(cluster, ClusterSpec):
            cluster = cluster.as_dict()
        if not isinstance(cluster, Mapping):
            raise _bad(where, f"expected a dict of job name -> list of 'host:port', got "
                              f"{type(cluster).__name__}")
        self._jobs = {str(j): _tasks(where, str(j), t) for j, t in cluster.items()}

    @property
    def jobs(self) -> list[str]:
        return list(self._jobs)

    def num_tasks(self, job_name: str) -> int:
        return len(self._job(job_name))

    def task_indices(self, job_name: str) -> list[int]:
        return list(self._job(job_name))

    def task_address(self, job_name: str, task_index: int) -> str:
        tasks = self._job(job_name)
        if task_index not in tasks:
            raise _bad("ClusterSpec", f"no task {task_index} in job {job_name!r} "
                                      f"(tasks {list(tasks)})")
        return tasks[task_index]

    def job_tasks(self, job_name: str) -> list[str]:
        return list(self._job(job_name).values())

    def as_dict(self) -> dict[str, list[str] | dict[int, str]]:
        out: dict[str, list[str] | dict[int, str]] = {}
        for job, tasks in self._jobs.items():
            dense = list(tasks) == list(range(len(tasks)))
            out[job] = list(tasks.values()) if dense else dict(tasks)
        return out

    def __bool__(self) -> bool:
        return bool(self._jobs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClusterSpec) and self._jobs == other._jobs

    def __repr__(self) -> str:
        return f"ClusterSpec({self.as_dict()!r})"

    def _job(self, job_name: str) -> dict[int, str]:
        if job_name not in self._jobs:
            raise _bad("ClusterSpec", f"no job {job_name!r} (jobs {self.jobs})")
        return self._jobs[job_name]


class ClusterResolver:
    """The cluster and this process's task in it (tf.distribute.cluster_resolver's base)."""

    task_type: str | None = None
    task_id: int | None = None
    environment: str = ""
    rpc_layer: str | None = None

    def cluster_spec(self) -> ClusterSpec:
        raise NotImplementedError

    def master(self, task_type: str | None = None, task_id: int | None = None,
               rpc_layer: str | None = None) -> str:
        """The address of a task (this one by default), `rpc_layer://`-prefixed if one is set."""
        task_type = self.task_type if task_type is None else task_type
        task_id = self.task_id if task_id is None else task_id
        if task_type is None or task_id is None:
            return ""
        address = self.cluster_spec().task_address(task_type, task_id)
        layer = rpc_layer or self.rpc_layer
        return f"{layer}://{address}" if layer else address

    def num_accelerators(self, task_type: str | None = None, task_id: int | None = None,
                         config_proto: Any = None) -> dict[str, int]:
        """This machine's accelerators by kind (none on a CPU-only host). It creates the XLA
        backend: in a multi-process job call it only after joining the cluster."""
        from runtime import client

        counts: dict[str, int] = {}
        for dev in client.list_devices():
            if dev.device_type != "CPU":
                counts[dev.device_type] = counts.get(dev.device_type, 0) + 1
        return counts


class SimpleClusterResolver(ClusterResolver):
    """A cluster given directly (tf.distribute.cluster_resolver.SimpleClusterResolver)."""

    def __init__(self, cluster_spec: Any, master: str = "", task_type: str | None = None,
                 task_id: int | None = None, environment: str = "",
                 num_accelerators: Mapping[str, int] | None = None,
                 rpc_layer: str | None = None):
        self._cluster_spec = ClusterSpec(cluster_spec, "SimpleClusterResolver.cluster_spec")
        self._master = master
        self.task_type = task_type
        self.task_id = task_id
        self.environment = environment
        self.rpc_layer = rpc_layer
        self._num_accelerators = dict(num_accelerators) if num_accelerators else None

    def cluster_spec(self) -> ClusterSpec:
        return self._cluster_spec

    def master(self, task_type: str | None = None, task_id: int | None = None,
               rpc_layer: str | None = None) -> str:
        if task_type is None and task_id is None and self._master:
            layer = rpc_layer or self.rpc_layer
            return f"{layer}://{self._master}" if layer else self._master
        return super().master(task_type, task_id, rpc_layer)

    def num_accelerators(self, task_type: str | None = None, task_id: int | None = None,
                         config_proto: Any = None) -> dict[str, int]:
        if self._num_accelerators is not None:
            return dict(self._num_accelerators)
        return super().num_accelerators(task_type, task_id, config_proto)


class TFConfigClusterResolver(ClusterResolver):
    """The cluster described by the TF_CONFIG environment variable, read at each call
    (tf.distribute.cluster_resolver.TFConfigClusterResolver): `{"cluster": {"chief": [...],
    "worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}`; the arguments
    override TF_CONFIG's task and rpc_layer."""

    def __init__(self, task_type: str | None = None, task_id: int | None = None,
                 rpc_layer: str | None = None, environment: str | None = None):
        self._task_type = task_type
        self._task_id = task_id
        self._rpc_layer = rpc_layer
        self._environment = environment

    def _config(self) -> dict:
        text = os.environ.get("TF_CONFIG", "")
        if not text.strip():
            return {}
        try:
            config = json.loads(text)
        except json.JSONDecodeError as e:
            raise _bad("TF_CONFIG", f"not valid JSON ({e})") from None
        if not isinstance(config, dict):
            raise _bad("TF_CONFIG", f"expected a JSON object, got {type(config).__name__}")
        return config

    def _task(self) -> dict:
        task = self._config().get("task", {})
        if not isinstance(task, dict):
            raise _bad("TF_CONFIG['task']", f"expected an object with 'type' and 'index', got "
                                            f"{type(task).__name__}")
        return task

    @property
    def task_type(self) -> str | None:
        if self._task_type is not None:
            return self._task_type
        value = self._task().get("type")
        if value is not None and not isinstance(value, str):
            raise _bad("TF_CONFIG['task']['type']", f"expected a job name, got {value!r}")
        return value

    @task_type.setter
    def task_type(self, value: str | None) -> None:
        self._task_type = value

    @property
    def task_id(self) -> int | None:
        if self._task_id is not None:
            return self._task_id
        value = self._task().get("index")
        if value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad("TF_CONFIG['task']['index']", f"expected an int, got {value!r}") from None

    @task_id.setter
    def task_id(self, value: int | None) -> None:
        self._task_id = value

    @property
    def environment(self) -> str:
        if self._environment is not None:
            return self._environment
        return str(self._config().get("environment", ""))

    @property
    def rpc_layer(self) -> str | None:
        if self._rpc_layer is not None:
            return self._rpc_layer
        return self._config().get("rpc_layer")

    def cluster_spec(self) -> ClusterSpec:
        return ClusterSpec(self._config().get("cluster", {}), "TF_CONFIG['cluster']")


def process_layout(resolver: ClusterResolver) -> tuple[str, int, int]:
    """(coordinator address, process count, this process's id) of the training cluster: the
    chief's tasks then the workers', in order; process 0 (the chief, else worker 0) coordinates."""
    spec = resolver.cluster_spec()
    tf_config = isinstance(resolver, TFConfigClusterResolver)
    where = "TF_CONFIG" if tf_config else type(resolver).__name__
    order = [(job, i) for job in TRAINING_JOBS if job in spec.jobs for i in spec.task_indices(job)]
    if not order:
        raise _bad(f"{where}['cluster']", f"no 'chief' or 'worker' job (jobs: {spec.jobs})")
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type is None or task_id is None:
        raise _bad(f"{where}['task']", "needs a 'type' and an 'index' (this process's task)")
    if task_type not in TRAINING_JOBS:
        raise _bad(f"{where}['task']['type']", f"{task_type!r} is not part of the training "
                                               f"cluster (only {list(TRAINING_JOBS)} are)")
    if (task_type, task_id) not in order:
        raise _bad(f"{where}['task']['index']",
                   f"{task_id} is not a task of job {task_type!r} (it has tasks "
                   f"{spec.task_indices(task_type) if task_type in spec.jobs else []})")
    coordinator = spec.task_address(*order[0])
    return coordinator, len(order), order.index((task_type, task_id))


def initialize_from_resolver(resolver: ClusterResolver | None = None, **timeouts: float) -> None:
    """Join the cluster a resolver describes (TF_CONFIG's by default): see
    `runtime.distributed.initialize` for the timeouts it takes."""
    coordinator, count, index = process_layout(resolver or TFConfigClusterResolver())
    distributed.initialize(coordinator, count, index, **timeouts)
