"""Multi-process clusters on localhost: two processes x 4 CPU devices find each other through
jaxlib's coordination service, see 8 global devices and all-reduce across processes (gloo);
TF_CONFIG joins the same way and trains data-parallel (dtensor, MultiWorkerMirroredStrategy)
with one host's losses; a killed peer, a missing coordinator and mismatched process counts end
in clear errors within bounded time. Worker: tests/distribute/multiprocess_worker.py.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BOUND = 60  # seconds: far above the 3 s heartbeat timeout a failure takes to be noticed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


class Worker:
    """One worker process, its stdout and stderr in files (no pipe to fill up)."""

    def __init__(self, tmp: Path, mode: str, port: int, num_processes: int, process_id: int,
                 tf_config: dict | None = None, name: str = "", **env_vars: str):
        env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
                   JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT), **env_vars)
        env.pop("TF_CONFIG", None)
        if tf_config is not None:
            env["TF_CONFIG"] = json.dumps(tf_config)
        tag = name or f"{mode}{process_id}"
        self.out, self.err = tmp / f"{tag}.out", tmp / f"{tag}.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.distribute.multiprocess_worker", mode, str(port),
                 str(num_processes), str(process_id)], cwd=ROOT, env=env, stdout=out, stderr=err)

    def wait(self, timeout: float = BOUND) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"worker hung for {timeout} s; stderr:\n{self.stderr()}") from None

    def stdout(self) -> str:
        return self.out.read_text()

    def stderr(self) -> str:
        return self.err.read_text()

    def result(self) -> dict:
        self.wait()
        lines = [ln for ln in self.stdout().splitlines() if ln.startswith("RESULT ")]
        assert lines, f"no result; stdout:\n{self.stdout()}\nstderr:\n{self.stderr()[-3000:]}"
        return json.loads(lines[-1][len("RESULT "):])

    def wait_ready(self, timeout: float = BOUND) -> None:
        deadline = time.monotonic() + timeout
        while "READY" not in self.stdout():
            assert self.proc.poll() is None, f"worker died early:\n{self.stderr()[-3000:]}"
            assert time.monotonic() < deadline, "worker never became ready"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def workers():
    started: list[Worker] = []
    yield started
    for w in started:
        w.kill()


def check_cluster_result(r: dict, process_id: int) -> None:
    assert r["process_index"] == r["backend_process_index"] == process_id
    assert r["process_count"] == 2
    assert len(r["global_device_ids"]) == 8
    assert r["device_processes"] == [0] * 4 + [1] * 4
    assert r["local_device_ids"] == r["global_device_ids"][4 * process_id: 4 * process_id + 4]
    # device i holds i + 1: the all-reduce over both processes' devices sums 1..8
    assert r["all_reduce"] == [[36.0] * 4] * 4
    assert r["spmd_sum"] == [4 * 36.0] * 4
    assert r["spmd_hlo_all_reduce"]
    # the whole of an array split over both processes, on each host (all-gathered by XLA)
    assert not r["fully_addressable"]
    assert r["gathered"] == [float(i) for i in range(1, 9) for _ in range(4)]
    assert r["gathered_2d"] == [[6.0 * i + j for j in range(6)] for i in range(8)]


def test_two_processes_share_eight_devices_and_reduce_across_them(tmp_path, workers):
    port = free_port()
    workers += [Worker(tmp_path, "direct", port, 2, i) for i in (0, 1)]
    for i, w in enumerate(workers):
        check_cluster_result(w.result(), i)
        assert w.proc.returncode == 0, w.stderr()[-3000:]


def reference_training(steps: int = 5) -> tuple[list[float], np.ndarray]:
    """The worker's data-parallel SGD on one host, in numpy."""
    from tests.distribute.multiprocess_worker import regression_data

    x, y = regression_data()
    w, losses = np.zeros((5, 1), np.float32), []
    for _ in range(steps):
        r = x @ w - y
        losses.append(float(np.mean(r ** 2)))
        w = w - 0.1 * (2 * x.T @ r / len(x))
    return losses, w


def test_tf_config_cluster_trains_data_parallel_like_one_host(tmp_path, workers):
    port = free_port()
    cluster = {"chief": [f"localhost:{port}"], "worker": [f"localhost:{free_port()}"]}
    for task in ({"type": "chief", "index": 0}, {"type": "worker", "index": 0}):
        workers.append(Worker(tmp_path, "tf_config", 0, 0, 0,
                              {"cluster": cluster, "task": task}, name=task["type"]))
    results = [w.result() for w in workers]
    for i, r in enumerate(results):  # the chief is process 0 and hosts the coordinator
        check_cluster_result(r, i)
    losses, weights = reference_training()
    # a dtensor mesh and MultiWorkerMirroredStrategy: the batch split over both processes'
    # devices, the losses of one host, the weights identical on both
    for how in ("dtensor", "mirrored"):
        for r in results:
            got_losses, got_weights = r["trained"][how]
            np.testing.assert_allclose(got_losses, losses, rtol=1e-5, err_msg=how)
            np.testing.assert_allclose(got_weights, weights, rtol=1e-5, atol=1e-6, err_msg=how)
        assert results[0]["trained"][how][1] == results[1]["trained"][how][1], how


@pytest.mark.parametrize("victim, survivor_mode, expected", [
    # the survivor is inside a cross-process all-reduce: gloo's connection breaks
    (1, "hold_busy", ("Connection closed by peer", "another task died")),
    # the coordinator dies while the survivor idles: the coordination service is gone
    (0, "hold", ("another task died",)),
])
def test_a_killed_peer_ends_the_other_process_with_a_message(tmp_path, workers, victim,
                                                             survivor_mode, expected):
    port = free_port()
    modes = {victim: "hold", 1 - victim: survivor_mode}
    workers += [Worker(tmp_path, modes[i], port, 2, i) for i in (0, 1)]
    for w in workers:
        w.wait_ready()
    survivor = workers[1 - victim]
    start = time.monotonic()
    workers[victim].kill()
    code = survivor.wait(BOUND)
    elapsed = time.monotonic() - start
    assert code != 0
    assert elapsed < BOUND
    err = survivor.stderr()
    assert any(e in err for e in expected), err[-3000:]


def test_missing_coordinator_is_a_clear_error_after_the_timeout(tmp_path, workers):
    port = free_port()  # nothing listens there
    workers.append(Worker(tmp_path, "join", port, 2, 1, TFX_JOIN_TIMEOUT="2"))
    r = workers[0].result()
    assert r["error"] == "UnavailableError"
    assert f"no coordinator reachable at localhost:{port} after 2 s" in r["message"]
    assert 2 <= r["seconds"] < 10


def test_mismatched_process_counts_are_a_clear_error(tmp_path, workers):
    port = free_port()
    workers += [Worker(tmp_path, "join", port, n, i) for i, n in ((0, 2), (1, 3))]
    for w in workers:
        r = w.result()
        assert r["error"] == "InvalidArgumentError"
        assert "mismatched process count" in r["message"]
        assert "num_processes=2" in r["message"] and "num_processes=3" in r["message"]
