"""The benchmark scripts run end to end (`--quick`) and print their tables; no timing asserts."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


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
    assert "tfx/jax" in proc.stdout
