"""The `tfx` command: inspect, run, bench and cache, in subprocesses as a user runs them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx


class Dense(tx.Module):
    def __init__(self):
        super().__init__()
        self.w = tx.Variable(np.arange(12, dtype=np.float32).reshape(3, 4) / 10, name="w")

    @tx.function(input_signature=[tx.TensorSpec([None, 3], tx.float32)])
    def __call__(self, x):
        return {"y": tx.nn.relu(x @ self.w), "total": tx.reduce_sum(x)}

    @tx.function(input_signature=[tx.TensorSpec([2, 3], tx.float32)])
    def fixed(self, x):
        return x @ self.w


def tfx(*args: str, cache: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if cache is not None:
        env["TFX_CACHE_DIR"] = str(cache)
    return subprocess.run([sys.executable, "-m", "tfx_core.export.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    m = Dense()
    tx.saved_model.save(m, str(d / "m.tfx"))
    x = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
    np.save(d / "x.npy", x)
    return d, m, x


def test_inspect_lists_signatures_ops_and_sizes(saved):
    d, _, _ = saved
    out = tfx("inspect", str(d / "m.tfx"))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "tfx.saved_model v1" in text and "variables: 1" in text
    assert "signature '__call__': (f32[?,3], f32[3,4]) -> (f32[], f32[?,4])" in text
    assert "signature 'fixed': (f32[2,3], f32[3,4]) -> (f32[2,4])" in text
    assert "dot_general 1" in text and "StableHLO portable artifact" in text


def test_run_writes_the_outputs_of_the_saved_function(saved):
    d, m, x = saved
    out = tfx("run", str(d / "m.tfx"), "--input", str(d / "x.npy"), "--signature", "__call__",
              "--output", str(d / "out.npz"))
    assert out.returncode == 0, out.stderr
    with np.load(d / "out.npz", allow_pickle=False) as got:
        want = m(x)
        np.testing.assert_array_equal(got["y"], want["y"].numpy())
        np.testing.assert_array_equal(got["total"], want["total"].numpy())
    printed = tfx("run", str(d / "m.tfx"), "--input", str(d / "x.npy"), "--signature",
                  "__call__")
    assert "['y']: float32[5, 4]" in printed.stdout


def test_run_with_the_wrong_number_of_inputs_says_so(saved):
    d, _, _ = saved
    out = tfx("run", str(d / "m.tfx"), "--signature", "fixed")
    assert out.returncode != 0 and "takes 1 tensor inputs, got 0" in out.stderr


def test_bench_reports_load_first_call_and_per_call(saved):
    d, _, _ = saved
    out = tfx("bench", str(d / "m.tfx"), "--signature", "__call__", "--batch", "4",
              "--calls", "5")
    assert out.returncode == 0, out.stderr
    assert "load" in out.stdout and "first call" in out.stdout and "per call" in out.stdout


def test_cache_info_and_clear(saved, tmp_path):
    d, _, _ = saved
    cache = tmp_path / "cache"
    assert tfx("bench", str(d / "m.tfx"), "--signature", "fixed", "--calls", "1",
               cache=cache).returncode == 0
    info = tfx("cache", "info", cache=cache)
    assert info.returncode == 0 and str(cache) in info.stdout
    assert any(p.suffix == ".xex" for p in cache.iterdir())
    cleared = tfx("cache", "clear", cache=cache)
    assert cleared.returncode == 0 and "cleared" in cleared.stdout
    assert not any(p.suffix == ".xex" for p in cache.iterdir())
    off = tfx("cache", "info", cache=Path("none"))
    assert "disabled" in off.stdout


def test_a_bad_file_is_refused_with_exit_code_2(tmp_path):
    bad = tmp_path / "bad.tfx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    for cmd in ("inspect", "run", "bench"):
        out = tfx(cmd, str(bad))
        assert out.returncode == 2, (cmd, out.stderr)
        assert "not a tfx artifact" in out.stderr
