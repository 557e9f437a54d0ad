"""The benchmark scripts run end to end (`--quick`) and print their tables; no timing asserts."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
NO_JAX_PEER = {"data_pipeline.py", "debugging.py"}  # tfx against itself (no jax column)


@pytest.mark.parametrize(
    "script, header",
    [
        ("dispatch.py", "| case | tfx µs | jax µs | tfx/jax |"),
        ("first_call.py", "| stage | tfx ms | jax ms |"),
        ("train_step.py", "| | tfx | jax.jit | tf.function | tfx/jax | tfx/tf |"),
        ("passes.py", "| config | IR ops traced | IR ops after | StableHLO ops |"),
        ("export.py", "| row | import ms | load ms | first call ms | cold start ms |"),
        ("models.py", "| model |  | tfx | jax.jit |"),
        ("conv_formulations.py", "| case | candidate |"),
        ("keras_fit.py", "| model | framework | first epoch s | steady epoch s |"),
        ("data_pipeline.py", " x 784 f32 | s |"),
        ("debugging.py", "| | step | vs unchecked |"),
        ("rnn_grad.py", "| model | T | tfx ms | jax ms | tfx/jax |"),
        ("ops.py", "| op | tfx | jax.jit | tfx/jax.jit |"),
        ("distribute.py", "| step | mesh | tfx | jax.jit | tfx/jax.jit |"),
    ],
)
def test_bench_script_quick(script: str, header: str) -> None:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
    )
    assert proc.returncode == 0, f"{script} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert header in proc.stdout, proc.stdout
    if script not in NO_JAX_PEER:
        assert "tfx/jax" in proc.stdout
