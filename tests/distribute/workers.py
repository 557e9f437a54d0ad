"""Running a multi-device check script in a subprocess with N simulated CPU devices (the test
process itself has one) and reading the JSON line it prints."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_worker(module: str, *args: str, devices: int = 8, timeout: float = 300) -> dict:
    """`python -m module *args` with `devices` CPU devices: its last "RESULT {...}" line."""
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"worker failed:\n{proc.stderr[-4000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def case(results: dict, name: str) -> dict:
    """One check's results; a check that raised in the worker fails here with its traceback."""
    r = results[name]
    assert "crashed" not in r, r["crashed"]
    return r
