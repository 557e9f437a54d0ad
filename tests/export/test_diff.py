"""`tfx diff`: signatures, ops and weights that changed between two saved models; exit codes."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import tfx_core as tx
from tests.export._helpers import read_zip, rewrite
from tfx_core.export.cli import main
from tfx_core.export.diff import weight_change


class Net(tx.Module):
    def __init__(self, extra: bool = False, name: str = "w"):
        super().__init__()
        self.w = tx.Variable(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), name=name)
        self.b = tx.Variable(np.zeros(4, np.float32), name="b")
        self.extra = extra
        if extra:
            self.w2 = tx.Variable(np.full((4, 2), 0.5, np.float32), name="w2")

    @tx.function(input_signature=[tx.TensorSpec([None, 3], tx.float32)])
    def __call__(self, x):
        h = tx.nn.relu(x @ self.w + self.b)
        if self.extra:
            h = tx.tanh(h @ self.w2)  # the extra layer
        return {"y": h, "total": tx.reduce_sum(x)}


def tfx_diff(capsys, a, b, *flags: str) -> tuple[int, str]:
    rc = main(["diff", str(a), str(b), *flags])
    out = capsys.readouterr()
    assert out.err == ""
    return rc, out.out


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("diff")
    m = Net()
    tx.saved_model.save(m, d / "a.tfx")
    return d, m


def test_two_saves_of_one_model_are_identical(base, capsys):
    d, m = base
    tx.saved_model.save(m, d / "again.tfx")
    rc, out = tfx_diff(capsys, d / "a.tfx", d / "again.tfx")
    assert rc == 0 and out.startswith("identical:") and "(byte for byte)" in out


def test_same_content_in_another_zip_container_is_identical(base, tmp_path, capsys):
    d, _ = base  # other timestamps, unsorted manifest keys: the content is what's compared
    other = rewrite(d / "a.tfx", tmp_path / "old.tfx")
    assert other.read_bytes() != (d / "a.tfx").read_bytes()
    rc, out = tfx_diff(capsys, d / "a.tfx", other)
    assert rc == 0 and "identical" in out and "in content" in out


def test_a_training_step_lists_the_weights_with_their_max_change(base, tmp_path, capsys):
    d, _ = base
    m = Net()
    before = {v.name: v.numpy().copy() for v in (m.w, m.b)}
    x = np.array([[1.0, 2.0, -0.5], [0.3, -1.0, 2.0]], np.float32)
    with tx.GradientTape() as tape:
        loss = tx.reduce_sum(m(x)["y"] ** 2)
    grads = tape.gradient(loss, [m.w, m.b])
    tx.optimizers.SGD(0.1).apply_gradients(zip(grads, [m.w, m.b]))
    tx.saved_model.save(m, tmp_path / "trained.tfx")
    rc, out = tfx_diff(capsys, d / "a.tfx", tmp_path / "trained.tfx")
    assert rc == 1
    assert "weights:" in out and "signatures:" not in out and "ops:" not in out
    for v in (m.w, m.b):
        delta = np.abs(v.numpy().astype(np.float64) - before[v.name])
        line, = [x for x in out.splitlines() if x.strip().startswith(f"{v.name}:")]
        assert f"max abs change {delta.max():.4g} " in line, line
        assert f"{np.count_nonzero(delta)} of {delta.size} values changed" in line
    b_line, = [x for x in out.splitlines() if x.strip().startswith("b:0:")]
    assert b_line.endswith("max relative change 1")  # from 0: bounded, not infinite


def test_an_extra_layer_shows_in_signatures_ops_and_weights(base, tmp_path, capsys):
    d, _ = base
    tx.saved_model.save(Net(extra=True), tmp_path / "deeper.tfx")
    rc, out = tfx_diff(capsys, d / "a.tfx", tmp_path / "deeper.tfx")
    assert rc == 1
    assert "output output['y']: f32[?,4] -> f32[?,2]" in out
    assert "'__call__': 5 -> 7 ops (dot_general 1 -> 2, tanh 0 -> 1)" in out
    added = [x.strip() for x in out.splitlines() if x.strip().startswith("+ ")]
    line = 1 + open(__file__).read().splitlines().index(
        "            h = tx.tanh(h @ self.w2)  # the extra layer")
    assert any(" = tanh " in x and x.endswith(f"# test_diff.py:{line}") for x in added), out
    assert "+ w2:0: f32[4,2]" in out
    assert "captures ['w:0', 'b:0'] -> ['w:0', 'b:0', 'w2:0']" in out
    rc, out = tfx_diff(capsys, tmp_path / "deeper.tfx", d / "a.tfx")  # and the other way
    assert rc == 1 and "- w2:0: f32[4,2]" in out and "tanh 1 -> 0" in out


def test_signatures_added_removed_and_input_specs(tmp_path, capsys):
    w = tx.Variable(np.ones((3, 2), np.float32), name="w")
    f = tx.function(lambda x: x @ w, input_signature=[tx.TensorSpec([None, 3], tx.float32)])
    g = tx.function(lambda x: x @ w, input_signature=[tx.TensorSpec([5, 3], tx.float32)])
    tx.saved_model.save(None, tmp_path / "a.tfx", signatures={"f": f, "old": f})
    tx.saved_model.save(None, tmp_path / "b.tfx", signatures={"f": g, "new": g})
    rc, out = tfx_diff(capsys, tmp_path / "a.tfx", tmp_path / "b.tfx")
    assert rc == 1
    assert "- 'old': (args[0]: f32[?,3]) -> (output: f32[?,2]), 1 ops" in out
    assert "+ 'new': (args[0]: f32[5,3]) -> (output: f32[5,2]), 1 ops" in out
    assert "'f': input args[0]: f32[?,3] -> f32[5,3]" in out
    assert "'f': output output: f32[?,2] -> f32[5,2]" in out


def test_a_corrupted_file_exits_2_with_one_line(base, tmp_path):
    d, _ = base
    _, members = read_zip(d / "a.tfx")
    data = bytearray(members["variables/0.npy"])
    data[-1] ^= 1
    bad = rewrite(d / "a.tfx", tmp_path / "bad.tfx", members={"variables/0.npy": bytes(data)},
                  rehash=False)
    r = subprocess.run([sys.executable, "-m", "tfx_core.export.cli", "diff", str(d / "a.tfx"),
                        str(bad)], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "fails its checksum" in r.stderr, r.stderr


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really"], ids=["empty", "not-zip"])
def test_not_an_artifact_exits_2(base, tmp_path, capsys, content):
    d, _ = base
    (tmp_path / "x.tfx").write_bytes(content)
    assert main(["diff", str(tmp_path / "x.tfx"), str(d / "a.tfx")]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and "not a tfx artifact" in out.err
    assert main(["diff", str(d / "a.tfx"), str(tmp_path / "missing.tfx")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_control_characters_in_names_are_escaped(tmp_path, capsys):
    a, b = Net(name="w\x1b[31m"), Net(name="w\x1b[31m")
    b.w.assign(b.w.numpy() * 2)
    tx.saved_model.save(a, tmp_path / "a.tfx")
    tx.saved_model.save(b, tmp_path / "b.tfx")
    rc, out = tfx_diff(capsys, tmp_path / "a.tfx", tmp_path / "b.tfx")
    assert rc == 1 and "\x1b" not in out and "w\\x1b[31m:0: f32[3,4]" in out


def test_weight_change_figures():
    x = np.array([[0.0, 1.0], [-2.0, 4.0]], np.float32)
    y = np.array([[0.5, 1.0], [2.0, 4.25]], np.float32)
    text = weight_change(x, y)
    assert text == ("f32[2,2]: 3 of 4 values changed, max abs change 4 (at [1, 0]), "
                    "max relative change 2")  # -2 -> 2: |4| / max(2, 2)
    assert weight_change(x, x.copy()) is None
    assert weight_change(x, x.astype(np.float64)) == "f32[2,2] -> f64[2,2]"
    assert weight_change(x, x.reshape(4)) == "f32[2,2] -> f32[4]"
    nan = np.array([np.nan, 1.0], np.float32)
    assert weight_change(nan, nan.copy()) is None
    moved = weight_change(nan, np.array([0.0, 1.0], np.float32))
    assert "1 of 2 values changed" in moved and "1 values became or stopped being NaN" in moved
    zeros = weight_change(np.zeros(2, np.float32), -np.zeros(2, np.float32))
    assert zeros == "f32[2]: 0 of 2 values changed (the bits differ: signed zeros or NaN payloads)"
    ints = weight_change(np.arange(4, dtype=np.int32), np.array([0, 1, 2, 7], np.int32))
    assert "max abs change 4 (at [3])" in ints and "max relative change 0.5714" in ints


def test_outputs_with_none_leaves(tmp_path, capsys):
    w = tx.Variable(np.ones(3, np.float32), name="w")
    spec = [tx.TensorSpec([3], tx.float32)]
    f = tx.function(lambda x: (None, {"a": x * w, "n": None}, x + w), input_signature=spec)
    g = tx.function(lambda x: (None, {"a": x * w, "n": None}, tx.cast(x, tx.int32)),
                    input_signature=spec)
    tx.saved_model.save(f, tmp_path / "a.tfx")
    tx.saved_model.save(g, tmp_path / "b.tfx")
    rc, out = tfx_diff(capsys, tmp_path / "a.tfx", tmp_path / "b.tfx")
    assert rc == 1 and "'serving_default': output output[2]: f32[3] -> i32[3]" in out
    assert "output[1]['a']" not in out and "(add 1 -> 0, convert 0 -> 1)" in out
