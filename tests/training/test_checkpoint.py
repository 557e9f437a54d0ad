"""tx.train.Checkpoint / CheckpointManager: bit-identical resume, deferred restoration, status
assertions, refusal of damaged or hostile files, max_to_keep and crash-safe saving."""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from runtime.artifact import ArtifactError, LoadLimits
from tfx_core.training.checkpoint import apply_deferred_restorations
from tfx_core.training.checkpoint_format import read_checkpoint

N, M = 4, 3


class MLP(tx.Module):
    def __init__(self, seed: int):
        super().__init__()
        r = np.random.RandomState(seed)
        self.hidden = Dense(r, 4, 8)
        self.out = Dense(r, 8, 1)

    def __call__(self, x):
        return self.out(tx.nn.relu(self.hidden(x)))


class Dense(tx.Module):
    def __init__(self, r, n_in: int, n_out: int):
        super().__init__()
        self.kernel = tx.Variable(r.randn(n_in, n_out).astype(np.float32) * 0.5)
        self.bias = tx.Variable(r.randn(n_out).astype(np.float32) * 0.1)

    def __call__(self, x):
        return tx.matmul(x, self.kernel) + self.bias


def make_run(seed: int, rng_seed: int):
    """A model, Adam, a Generator feeding the batches, a step counter, and a compiled step."""
    model, opt = MLP(seed), tx.optimizers.Adam(0.05)
    rng, step = tx.random.Generator.from_seed(rng_seed), tx.Variable(0)

    @tx.function
    def train_step():
        x = rng.normal([16, 4])
        y = tx.reduce_sum(x, axis=1, keepdims=True) + rng.uniform([16, 1]) * 0.1
        with tx.GradientTape() as tape:
            loss = tx.reduce_mean((model(x) - y) ** 2)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        step.assign_add(1)
        return loss

    ckpt = tx.train.Checkpoint(model=model, optimizer=opt, rng=rng, step=step)
    return ckpt, train_step


def weights(ckpt) -> list[np.ndarray]:
    return [v.numpy() for v in ckpt.model.variables]


def train(step_fn, n: int) -> list[np.ndarray]:
    return [step_fn().numpy() for _ in range(n)]


@pytest.fixture(scope="module")
def uninterrupted():
    ckpt, step_fn = make_run(seed=0, rng_seed=42)
    losses = train(step_fn, N + M)
    return losses, weights(ckpt)


def test_resume_into_fresh_model_is_bit_identical(tmp_path, uninterrupted):
    losses_ref, weights_ref = uninterrupted
    ckpt, step_fn = make_run(seed=0, rng_seed=42)
    first = train(step_fn, N)
    manager = tx.train.CheckpointManager(ckpt, tmp_path, max_to_keep=3)
    path = manager.save()
    assert path == os.path.join(tmp_path, "ckpt-1")
    rest = train(step_fn, M)  # the same objects go on
    np.testing.assert_array_equal(first + rest, losses_ref)

    # a fresh model (other initial weights), optimizer without slots, generator elsewhere
    fresh, fresh_step = make_run(seed=7, rng_seed=1)
    assert not np.array_equal(weights(fresh)[0], weights_ref[0])
    with pytest.raises(KeyError):
        fresh.optimizer.get_slot(fresh.model.hidden.kernel, "momentum")
    status = fresh.restore(tx.train.latest_checkpoint(tmp_path))
    status.assert_consumed()
    assert int(fresh.step.numpy()) == N and int(fresh.optimizer.iterations.numpy()) == N
    resumed = train(fresh_step, M)
    for got, want in zip(resumed, losses_ref[N:]):
        assert got.tobytes() == want.tobytes()
    for got, want in zip(weights(fresh), weights_ref):
        assert got.tobytes() == want.tobytes()


def test_generator_resumes_the_same_stream(tmp_path):
    gen = tx.random.Generator.from_seed(3)
    gen.normal([5])
    path = tx.train.Checkpoint(rng=gen).write(str(tmp_path / "g"))
    expected = gen.normal([6]).numpy()
    other = tx.random.Generator.from_seed(99)
    tx.train.Checkpoint(rng=other).restore(path).assert_consumed()
    np.testing.assert_array_equal(other.normal([6]).numpy(), expected)


def test_deferred_restoration_of_a_model_added_later(tmp_path, uninterrupted):
    ckpt, step_fn = make_run(seed=0, rng_seed=42)
    train(step_fn, N)
    path = ckpt.save(str(tmp_path / "run"))
    assert path.endswith("run-1") and tx.train.latest_checkpoint(tmp_path) == path
    saved = {k: v.numpy() for k, v in zip(["k", "b"], [ckpt.model.hidden.kernel,
                                                        ckpt.model.hidden.bias])}
    m_saved = ckpt.optimizer.get_slot(ckpt.model.out.kernel, "momentum").numpy()

    opt = tx.optimizers.Adam(0.05)
    late = tx.train.Checkpoint(optimizer=opt, rng=tx.random.Generator.from_seed(0),
                               step=tx.Variable(0))
    status = late.restore(path)
    assert "model/hidden/kernel" in status.pending
    assert "optimizer/.slot/model/out/kernel/momentum" in status.pending
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match=r"matched no object: \[.*'model/"):
        status.assert_consumed()
    model = MLP(seed=5)
    late.model = model  # the values waiting for it are applied now
    assert status.pending == ()
    status.assert_consumed()
    np.testing.assert_array_equal(model.hidden.kernel.numpy(), saved["k"])
    np.testing.assert_array_equal(model.hidden.bias.numpy(), saved["b"])
    np.testing.assert_array_equal(opt.get_slot(model.out.kernel, "momentum").numpy(), m_saved)


def test_assert_consumed_names_what_did_not_match(tmp_path):
    a, b = tx.Variable([1.0, 2.0]), tx.Variable(3.0)
    path = tx.train.Checkpoint(a=a, extra=b).write(str(tmp_path / "c"))
    target = tx.Variable([0.0, 0.0])
    status = tx.train.Checkpoint(a=target, new=tx.Variable(0.0)).restore(path)
    np.testing.assert_array_equal(target.numpy(), [1.0, 2.0])
    with pytest.raises(AssertionError) as e:
        status.assert_consumed()
    msg = str(e.value)
    assert "1 value(s) in the file matched no object: ['extra']" in msg
    assert "have no value in the file: ['new']" in msg and path in msg
    with pytest.raises(AssertionError, match="no value in the file: \\['new'\\]"):
        status.assert_existing_objects_matched()
    assert status.expect_partial() is status
    status.assert_nontrivial_match()


def test_shape_mismatch_is_refused_before_anything_changes(tmp_path):
    path = tx.train.Checkpoint(a=tx.Variable([1.0, 2.0]), b=tx.Variable(5.0)).write(
        str(tmp_path / "c"))
    b = tx.Variable(0.0)
    with pytest.raises(ValueError, match=r"'a' is float32\[2\] but its object is float32\[3\]"):
        tx.train.Checkpoint(a=tx.Variable([0.0, 0.0, 0.0]), b=b).restore(path)
    assert float(b.numpy()) == 0.0


def test_not_trackable_and_reserved_names():
    with pytest.raises(TypeError, match="x=str is not trackable"):
        tx.train.Checkpoint(x="hello")
    with pytest.raises(ValueError, match="save_counter"):
        tx.train.Checkpoint(save_counter=tx.Variable(0))


def _small_checkpoint(tmp_path):
    v = tx.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
    ckpt = tx.train.Checkpoint(v=v)
    good = ckpt.write(str(tmp_path / "good"))
    return ckpt, v, good


def _rewrite(src: str, dst: str, manifest_fn=None, extra: dict | None = None) -> None:
    """Copy a checkpoint zip member by member, editing its manifest / adding members."""
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    manifest = json.loads(members["manifest.json"])
    if manifest_fn is not None:
        manifest_fn(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    members.update(extra or {})
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as z:
        for n, data in members.items():
            z.writestr(n, data)


def _assert_refused(ckpt, v, good, bad, match):
    before = v.numpy().copy()
    with pytest.raises(ArtifactError, match=match) as e:
        ckpt.restore(bad)
    assert bad in str(e.value)
    np.testing.assert_array_equal(v.numpy(), before)
    v.assign(np.zeros((2, 3), np.float32))
    ckpt.restore(good).assert_consumed()  # the previous checkpoint still loads
    np.testing.assert_array_equal(v.numpy(), np.arange(6).reshape(2, 3))


def test_truncated_checkpoint_is_refused(tmp_path):
    ckpt, v, good = _small_checkpoint(tmp_path)
    data = Path(good).read_bytes()
    bad = str(tmp_path / "truncated")
    with open(bad, "wb") as f:
        f.write(data[: len(data) * 2 // 3])
    _assert_refused(ckpt, v, good, bad, "not a readable zip file")


def test_flipped_byte_fails_the_checksum(tmp_path):
    ckpt, v, good = _small_checkpoint(tmp_path)
    data = bytearray(Path(good).read_bytes())
    at = data.index(np.float32(5.0).tobytes())  # inside the array's payload
    data[at] ^= 0x40
    bad = str(tmp_path / "flipped")
    with open(bad, "wb") as f:
        f.write(bytes(data))
    # the zip's CRC or our sha256, whichever looks first
    _assert_refused(ckpt, v, good, bad, r"member 'values/00000\d.npy' (is damaged: "
                                        r"BadZipFile: Bad CRC-32|fails its checksum)")


def test_wrong_checksum_in_the_index_is_refused(tmp_path):
    ckpt, v, good = _small_checkpoint(tmp_path)
    bad = str(tmp_path / "index")

    def tamper(m):
        m["values"][0]["sha256"] = "0" * 64

    _rewrite(good, bad, tamper)
    _assert_refused(ckpt, v, good, bad, r"index: values\[0\]: sha256 '0000.*not member")
    bad2 = str(tmp_path / "members")

    def tamper_table(m):
        m["members"]["values/000000.npy"]["sha256"] = "f" * 64

    _rewrite(good, bad2, tamper_table)
    _assert_refused(ckpt, v, good, bad2, "fails its checksum")


def test_hostile_files_are_refused(tmp_path):
    ckpt, v, good = _small_checkpoint(tmp_path)
    traversal = str(tmp_path / "traversal")
    _rewrite(good, traversal, extra={"../evil.npy": b"x"})
    _assert_refused(ckpt, v, good, traversal, r"refusing member name '../evil.npy'")
    bad_json = str(tmp_path / "json")
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(bad_json, "w") as out:
        for n in z.namelist():
            out.writestr(n, b"{not json" if n == "manifest.json" else z.read(n))
    _assert_refused(ckpt, v, good, bad_json, "manifest.json is not valid JSON")
    with pytest.raises(ArtifactError, match="over the limit"):
        ckpt.restore(good, limits=LoadLimits(max_file_bytes=100))
    shape = str(tmp_path / "shape")

    def lie(m):
        m["values"][1]["shape"] = [3, 2, 1]  # values[1] is v (save_counter sorts first)

    _rewrite(good, shape, lie)
    _assert_refused(ckpt, v, good, shape, r"holds float32\[2, 3\], the index says")


def test_a_saved_model_or_another_kind_is_not_a_checkpoint(tmp_path):
    ckpt, v, good = _small_checkpoint(tmp_path)
    model = str(tmp_path / "m.tfx")
    tx.saved_model.save(tx.function(lambda x: x * 2.0, input_signature=[
        tx.TensorSpec([2], tx.float32)]), model)
    _assert_refused(ckpt, v, good, model, "a tx.saved_model, not a checkpoint")
    with pytest.raises(ArtifactError, match="is a directory"):
        ckpt.restore(str(tmp_path))
    other = str(tmp_path / "kind")

    def kind(m):
        m["kind"] = "something"

    _rewrite(good, other, kind)
    _assert_refused(ckpt, v, good, other, "not a checkpoint")


def test_a_checkpoint_given_to_saved_model_load_says_what_it_is(tmp_path):
    _, _, good = _small_checkpoint(tmp_path)
    with pytest.raises(ArtifactError, match="not a saved model but a training checkpoint"):
        tx.saved_model.load(good)


def test_manager_keeps_the_newest(tmp_path):
    ckpt = tx.train.Checkpoint(v=tx.Variable(0.0))
    manager = tx.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    assert manager.latest_checkpoint is None and tx.train.latest_checkpoint(tmp_path) is None
    for i in range(4):
        ckpt.v.assign(float(i))
        manager.save()
    names = [os.path.basename(p) for p in manager.checkpoints]
    assert names == ["ckpt-3", "ckpt-4"]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.json", "ckpt-3", "ckpt-4"]
    assert tx.train.latest_checkpoint(tmp_path) == manager.latest_checkpoint
    state = json.loads((tmp_path / "checkpoint.json").read_text())
    assert state["all"] == ["ckpt-3", "ckpt-4"] and state["latest"] == "ckpt-4"
    again = tx.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    assert again.checkpoints == manager.checkpoints
    assert again.save(checkpoint_number=10).endswith("ckpt-10")
    assert [os.path.basename(p) for p in again.checkpoints] == ["ckpt-4", "ckpt-10"]
    fresh = tx.train.Checkpoint(v=tx.Variable(-1.0))
    fresh.restore(tx.train.latest_checkpoint(tmp_path)).assert_consumed()
    assert float(fresh.v.numpy()) == 3.0 and int(fresh.save_counter.numpy()) == 5
    other = tx.train.Checkpoint(v=tx.Variable(-1.0))
    assert tx.train.CheckpointManager(other, str(tmp_path / "empty")).restore_or_initialize() \
        is None and float(other.v.numpy()) == -1.0
    assert tx.train.CheckpointManager(other, str(tmp_path)).restore_or_initialize() == \
        os.path.join(tmp_path, "ckpt-10") and float(other.v.numpy()) == 3.0
    with pytest.raises(ValueError, match="max_to_keep must be a positive int"):
        tx.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=0)


def test_a_crash_mid_save_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    ckpt = tx.train.Checkpoint(a=tx.Variable([1.0, 2.0]), b=tx.Variable(7.0))
    manager = tx.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=1)
    first = manager.save()
    ckpt.a.assign([5.0, 6.0])
    writes = []
    real = zipfile.ZipFile.writestr

    def failing(self, name, data, *args, **kwargs):
        writes.append(name)
        if len(writes) == 3:  # the disk fills up half-way through the file
            raise OSError(28, "No space left on device")
        return real(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="No space left"):
        manager.save()
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.json", "ckpt-1"]  # no temp file left
    assert tx.train.latest_checkpoint(tmp_path) == first == manager.latest_checkpoint
    assert int(ckpt.save_counter.numpy()) == 1
    fresh = tx.train.Checkpoint(a=tx.Variable([0.0, 0.0]), b=tx.Variable(0.0))
    fresh.restore(first).assert_consumed()
    np.testing.assert_array_equal(fresh.a.numpy(), [1.0, 2.0])
    assert manager.save().endswith("ckpt-2")


def test_hostile_state_file_is_refused(tmp_path):
    (tmp_path / "checkpoint.json").write_text(json.dumps(
        {"kind": "tfx.checkpoint_state", "version": 1, "latest": "../../etc/passwd",
         "all": ["../../etc/passwd"]}))
    with pytest.raises(ArtifactError, match="refusing checkpoint name '../../etc/passwd'"):
        tx.train.latest_checkpoint(tmp_path)
    (tmp_path / "checkpoint.json").write_text("[" * 100)
    with pytest.raises(ArtifactError, match="not a checkpoint state file"):
        tx.train.latest_checkpoint(tmp_path)


def test_save_inside_a_function_is_refused(tmp_path):
    ckpt = tx.train.Checkpoint(v=tx.Variable(1.0))

    @tx.function
    def f():
        ckpt.write(str(tmp_path / "x"))
        return ckpt.v + 1.0

    with pytest.raises(RuntimeError, match=r"Checkpoint.write\(\) runs eagerly"):
        f()


class LazyModel(tx.Module):
    """Creates its layer on the first call, as a keras layer's build does."""

    def __init__(self, seed: int):
        super().__init__()
        self.seed, self.dense = seed, None

    def __call__(self, x):
        if self.dense is None:
            self.dense = Dense(np.random.RandomState(self.seed), x.shape[-1], 2)
            apply_deferred_restorations()  # what a layer's build does after creating weights
        return self.dense(x)


def test_deferred_restoration_of_a_layer_built_later(tmp_path):
    x = tx.constant(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))

    def step(model, opt):
        with tx.GradientTape() as tape:
            loss = tx.reduce_mean(model(x) ** 2)
        variables = model.trainable_variables
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss.numpy()

    model, opt = LazyModel(0), tx.optimizers.Adam(0.1)
    step(model, opt)
    path = tx.train.Checkpoint(model=model, optimizer=opt).write(str(tmp_path / "lazy"))
    expected = step(model, opt), step(model, opt)

    fresh, fresh_opt = LazyModel(9), tx.optimizers.Adam(0.1)
    status = tx.train.Checkpoint(model=fresh, optimizer=fresh_opt).restore(path)
    assert {"model/dense/kernel", "optimizer/.slot/model/dense/kernel/velocity"} <= set(
        status.pending)
    fresh(x)  # builds: the kernel, bias and their Adam slots get the saved values
    status.assert_consumed()
    got = step(fresh, fresh_opt), step(fresh, fresh_opt)
    assert [g.tobytes() for g in got] == [e.tobytes() for e in expected]
    np.testing.assert_array_equal(fresh.dense.kernel.numpy(), model.dense.kernel.numpy())


class Stack(tx.Module):
    """Keeps its layers internally behind a `layers` property, as keras containers do."""

    def __init__(self, layers):
        super().__init__()
        self._tfx_items = list(layers)

    @property
    def layers(self):
        return list(self._tfx_items)


def test_object_paths(tmp_path):
    r = np.random.RandomState(0)
    shared = tx.Variable(1.0)
    stack = Stack([Dense(r, 2, 2), Dense(r, 2, 1)])
    stack.table = {"a/b": tx.Variable(2.0), "c.d": tx.Variable(3.0), "alias": shared}
    path = tx.train.Checkpoint(model=stack, s=shared).write(str(tmp_path / "p"))
    keys = [v.key for v in read_checkpoint(path)]
    # breadth first: `shared` once, at its shortest path; `/` and `.` in names escaped
    assert keys == ["s", "save_counter", "model/table/a.Sb", "model/table/c..d",
                    "model/layers/0/bias", "model/layers/0/kernel", "model/layers/1/bias",
                    "model/layers/1/kernel"]
