"""Saving the same model twice gives byte-identical files: in one process, and in two fresh ones."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np

import tfx_core as tx
from runtime.artifact import ZIP_DATE_TIME

# The same model built and saved by two separate interpreters (different pids, ids, clocks,
# hash seeds): nothing of the run may reach the file.
_SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np
    import tfx_core as tx

    class Model(tx.Module):
        def __init__(self):
            super().__init__()
            self.w = tx.Variable(np.arange(12, dtype=np.float32).reshape(3, 4) / 10, name="w")
            self.b = tx.Variable(np.zeros(4, np.float32), name="b")
            self.steps = tx.Variable(np.int64(0), trainable=False, name="steps")
            self.table = np.linspace(-1, 1, 400, dtype=np.float32).reshape(100, 4)

        @tx.function(input_signature=[tx.TensorSpec([None, 3], tx.float32)])
        def __call__(self, x):
            return {"y": tx.nn.relu(x @ self.w + self.b), "s": tx.reduce_sum(x)}

        @tx.function(input_signature=[tx.TensorSpec([2, 3], tx.float32)])
        def step(self, x):
            self.steps.assign_add(1)
            return tx.reduce_sum(x @ self.w) + tx.reduce_sum(tx.constant(self.table))

    tx.saved_model.save(Model(), sys.argv[1])
''')


def _save_in_fresh_process(tmp: Path, name: str) -> bytes:
    script = tmp / "make_model.py"
    script.write_text(_SCRIPT)
    out = tmp / name
    r = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "PYTHONHASHSEED": "random"})
    assert r.returncode == 0, r.stderr
    return out.read_bytes()


class Model(tx.Module):
    def __init__(self):
        super().__init__()
        self.w = tx.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="w")

    @tx.function(input_signature=[tx.TensorSpec([None, 3], tx.float32)])
    def __call__(self, x):
        return tx.tanh(x @ self.w)


def test_same_model_saved_twice_in_one_process_is_byte_identical(tmp_path):
    m = Model()
    tx.saved_model.save(m, tmp_path / "a.tfx")
    time.sleep(2.1)  # zip timestamps have a 2-second resolution: a stamped clock would show
    tx.saved_model.save(m, tmp_path / "b.tfx")
    a, b = (tmp_path / "a.tfx").read_bytes(), (tmp_path / "b.tfx").read_bytes()
    assert a == b
    with zipfile.ZipFile(tmp_path / "a.tfx") as z:
        infos = z.infolist()
    assert [i.filename for i in infos] == ["manifest.json"] + sorted(
        i.filename for i in infos[1:])
    assert {i.date_time for i in infos} == {ZIP_DATE_TIME}
    assert {i.external_attr >> 16 for i in infos} == {0o644}
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    loaded = tx.saved_model.load(tmp_path / "b.tfx")  # still checked and loadable
    np.testing.assert_allclose(loaded(x).numpy(), np.tanh(x @ m.w.numpy()), rtol=1e-6)


def test_same_model_saved_in_two_fresh_processes_is_byte_identical(tmp_path):
    a = _save_in_fresh_process(tmp_path, "a.tfx")
    b = _save_in_fresh_process(tmp_path, "b.tfx")
    assert a == b
    loaded = tx.saved_model.load(tmp_path / "a.tfx")
    assert sorted(loaded.signatures) == ["__call__", "step"]
    table = np.linspace(-1, 1, 400, dtype=np.float32)
    np.testing.assert_allclose(loaded.step(np.ones((2, 3), np.float32)).numpy(),
                               2 * 6.6 + table.sum(), rtol=1e-5)
    steps, = [v for v in loaded.variables if v.name.startswith("steps")]
    assert steps.numpy() == 1


def test_a_changed_weight_changes_the_bytes(tmp_path):
    m = Model()
    tx.saved_model.save(m, tmp_path / "a.tfx")
    m.w.assign(m.w.numpy() + 1)
    tx.saved_model.save(m, tmp_path / "b.tfx")
    assert (tmp_path / "a.tfx").read_bytes() != (tmp_path / "b.tfx").read_bytes()


def test_the_ir_member_carries_source_locations_by_base_name(tmp_path):
    tx.saved_model.save(Model(), tmp_path / "a.tfx")
    with zipfile.ZipFile(tmp_path / "a.tfx") as z:
        ir = z.read("functions/0.tfx").decode()
    assert "# test_reproducible.py:" in ir and str(tmp_path) not in ir and "/" not in \
        ir.split("# ", 1)[1].split("\n", 1)[0]
