"""State of sharded programs: a checkpoint saved from 8 simulated devices (DVariables, a plain
Variable made from a sharded tensor, int64 beyond 2**32, Adam's slots) restores onto a 4-device
mesh and onto single-device Variables, each restored Variable keeping its OWN layout, and
training continues with the same loss; a saved model whose functions ran sharded (relayout
inside, a DVariable read and updated) loads and runs here, on this process's one device. The
saving side runs once in a subprocess (tests/distribute/sharded_state_worker.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.distribute.workers import run_worker

ROOT = Path(__file__).resolve().parents[2]
U = "unsharded"


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("sharded_state")
    results = run_worker("tests.distribute.sharded_state_worker", str(out))
    results["expected"] = dict(np.load(out / "expected.npz"))
    return results


def case(saved: dict, name: str) -> dict:
    r = saved[name]
    assert "crashed" not in r, r["crashed"]
    return r


def check_values(got: dict, expected: dict) -> None:
    for k in ("w", "b", "p"):
        np.testing.assert_array_equal(np.asarray(got[k], np.float32), expected[k], err_msg=k)
    assert [int(v) for v in got["n"]] == [int(v) for v in expected["n"]]  # int64 exact


def test_saved_from_8_devices(saved):
    r = case(saved, "save")
    assert r["layouts"] == {"w": ["x", "y"], "b": ["y"], "n": ["x"], "p": [U, "x"]}
    assert r["losses"][1] < r["losses"][0]  # the sharded training moved the weights
    assert min(saved["expected"]["n"]) > 2**40


def test_restore_8_to_4_keeps_own_layout(saved):
    r = case(saved, "restore_4")
    check_values(r["values"], saved["expected"])
    want = {"w": [U, "a"], "b": ["a"], "n": ["a"], "p": ["a", U]}
    assert r["layouts_before"] == want and r["layouts"] == want
    assert r["n_dtype"] == "int64"
    # Adam's slots came back too: the next step gives the saving side's next loss
    assert r["next_loss"] == pytest.approx(case(saved, "save")["next_loss"], rel=1e-5)


def test_restore_8_to_single_device_variables(saved):
    r = case(saved, "restore_1")
    check_values(r["values"], saved["expected"])
    assert r["layouts"] == {"w": None, "b": None, "n": None, "p": None}
    assert r["next_loss"] == pytest.approx(case(saved, "save")["next_loss"], rel=1e-5)


def test_restore_in_a_one_device_process(saved):
    e = saved["expected"]
    vs = {"w": tx.Variable(np.zeros_like(e["w"])), "b": tx.Variable(np.zeros_like(e["b"])),
          "n": tx.Variable(np.zeros_like(e["n"])), "p": tx.Variable(np.zeros_like(e["p"]))}
    opt = tx.optimizers.Adam(0.05)
    tx.train.Checkpoint(opt=opt, **vs).restore(case(saved, "save")["path"]).assert_consumed()
    check_values({k: v.numpy() for k, v in vs.items()}, e)
    assert vs["n"].dtype == tx.int64

    @tx.function
    def step(x):
        with tx.GradientTape() as tape:
            y = tx.nn.relu(tx.matmul(x, vs["w"]) + vs["b"])
            loss = tx.reduce_mean(y * y) + tx.reduce_sum(vs["p"] * vs["p"]) * 0.01
        grads = tape.gradient(loss, [vs["w"], vs["b"], vs["p"]])
        opt.apply_gradients(zip(grads, [vs["w"], vs["b"], vs["p"]]))
        return loss

    loss = float(step(tx.constant(e["x"])))
    assert loss == pytest.approx(case(saved, "save")["next_loss"], rel=1e-5)


def test_saved_model_from_sharded_function_runs_on_one_device(saved):
    r = case(saved, "saved_model")
    assert r["y_layout"] == ["x", U] and r["seen_layout"] == ["x", U]  # it did run sharded
    e = saved["expected"]
    loaded = tx.saved_model.load(r["path"])
    x = e["x"]
    w0 = np.asarray(loaded.variables[0].numpy())
    y = loaded(tx.constant(x))
    np.testing.assert_allclose(y.numpy(), r["y"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(y.numpy(), np.maximum(x @ w0, 0), rtol=1e-5, atol=1e-5)
    # the saved `seen` holds one accumulation; one more doubles the total
    total = float(loaded.accumulate(tx.constant(x)))
    assert total == pytest.approx(2 * r["total"], rel=1e-5)
    assert all(tx.experimental.dtensor.fetch_layout(v) is None for v in loaded.variables)
