"""Issue 15 acceptance: tx.data — a raising generator gives TF's UnknownError, prefetch overlaps
a busy consumer (counters, no timing), seeded shuffle determinism across a fit; Checkpoint — a
CheckpointManager's damaged latest checkpoint is refused clearly and the previous one loads."""
import threading
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from runtime.artifact import ArtifactError
from tfx_core import keras
from tfx_core.data import Dataset

F32 = tx.TensorSpec([], tx.float32)


def _raising():
    yield 1.0
    raise KeyError("boom")


@pytest.mark.parametrize("pipeline", ["plain", "map_batch_prefetch"])
def test_a_raising_generator_gives_tfs_unknown_error(pipeline):
    """TF 2.21 (tests/oracles/data.json "gen_raise"): UnknownError "KeyError: 'boom'"; ours is
    also a KeyError, so code written for either catches it."""
    ds = Dataset.from_generator(_raising, output_signature=F32)
    if pipeline != "plain":
        ds = ds.map(lambda v: v * 2.0).batch(1).prefetch(2)
    it = iter(ds)
    next(it)
    with pytest.raises(tx.errors.UnknownError, match=r"^KeyError: 'boom'$") as e:
        next(it)
    assert isinstance(e.value, KeyError) and isinstance(e.value.__cause__, KeyError)
    assert e.value.error_code == tx.errors.UNKNOWN


def test_prefetch_runs_ahead_while_the_consumer_is_busy():
    """Each 'step' of the consumer blocks until the producer has made the NEXT batch: with
    prefetch this always happens (the producer runs during the step); the counters show the
    producer was ahead when the consumer asked."""
    made = []
    next_ready = [threading.Event() for _ in range(9)]

    def gen():
        for i in range(8):
            made.append(i)
            next_ready[i].set()
            yield float(i)

    ds = Dataset.from_generator(gen, output_signature=F32).map(lambda v: v + 1.0).prefetch(1)
    ahead_when_asked = []
    for k, value in enumerate(ds):
        assert float(value) == k + 1.0
        if k < 7:  # the "busy step": only returns once the producer made element k + 1
            assert next_ready[k + 1].wait(timeout=30), f"producer did not run ahead at {k}"
        ahead_when_asked.append(len(made) - (k + 1))
    assert all(a >= 1 for a in ahead_when_asked[:7]), ahead_when_asked
    assert made == list(range(8))


def test_without_prefetch_nothing_runs_ahead():
    """The same counters without prefetch: the producer is never ahead (the check can fail)."""
    made = []

    def gen():
        for i in range(5):
            made.append(i)
            yield float(i)

    ahead = [len(made) - (k + 1) for k, _ in enumerate(Dataset.from_generator(
        gen, output_signature=F32))]
    assert ahead == [0] * 5


def _fit_losses(seed):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x.sum(1) > 0).astype(np.int32)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(64, seed=seed).batch(16)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
        2, kernel_initializer=keras.initializers.GlorotUniform(1))])
    model.compile(keras.optimizers.SGD(0.5), keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    # NOTE: per-batch losses show the order; the epoch mean would hide it
    seen = []
    log = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append(round(float(logs["loss"]), 6)))
    model.fit(ds, epochs=3, verbose=0, callbacks=[log])
    return seen


def test_seeded_shuffle_makes_fit_repeatable_and_reshuffles_per_epoch():
    a, b, c = _fit_losses(5), _fit_losses(5), _fit_losses(6)
    assert a == b
    assert a != c


# ------------------------------------------------------------------ checkpoints
def _manager(tmp_path):
    ckpt = tx.train.Checkpoint(v=tx.Variable(np.zeros(4, np.float32)), step=tx.Variable(0))
    manager = tx.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3)
    for i in range(1, 4):
        ckpt.v.assign(np.full(4, float(i), np.float32))
        ckpt.step.assign(i)
        manager.save()
    return ckpt, manager


@pytest.mark.parametrize("damage", ["truncate", "flip_payload_byte", "empty"])
def test_damaged_latest_checkpoint_is_refused_and_the_previous_loads(tmp_path, damage):
    ckpt, manager = _manager(tmp_path)
    latest, previous = manager.checkpoints[-1], manager.checkpoints[-2]
    data = bytearray(Path(latest).read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip_payload_byte":
        at = data.index(np.full(4, 3.0, np.float32).tobytes())
        data[at + 1] ^= 0x01
    else:
        data = bytearray()
    Path(latest).write_bytes(bytes(data))

    fresh = tx.train.Checkpoint(v=tx.Variable(np.full(4, -1.0, np.float32)),
                                step=tx.Variable(-1))
    with pytest.raises(ArtifactError) as e:
        fresh.restore(tx.train.latest_checkpoint(str(tmp_path)))
    assert isinstance(e.value, tx.errors.DataLossError)  # TF's class for a corrupted file
    message = str(e.value)
    assert latest in message and len(message.splitlines()) <= 3  # names the file, short
    np.testing.assert_array_equal(fresh.v.numpy(), np.full(4, -1.0))  # nothing changed
    assert int(fresh.step.numpy()) == -1
    fresh.restore(previous).assert_consumed()
    np.testing.assert_array_equal(fresh.v.numpy(), np.full(4, 2.0))
    assert int(fresh.step.numpy()) == 2
    with pytest.raises(tx.errors.NotFoundError, match="no checkpoint at"):
        fresh.restore(latest + "-missing")
    # the manager keeps working: a new save after the damage is the new latest and loads
    ckpt.v.assign(np.full(4, 9.0, np.float32))
    newest = manager.save()
    fresh.restore(newest).assert_consumed()
    np.testing.assert_array_equal(fresh.v.numpy(), np.full(4, 9.0))


def test_manager_numbers_by_a_variable_and_honours_checkpoint_interval(tmp_path):
    """TF's CheckpointManager arguments: checkpoint_number may be an integer Variable;
    step_counter + checkpoint_interval skip saves too close together; init_fn runs when there
    is nothing to restore; `checkpoint` is the managed object."""
    step = tx.Variable(0, dtype=tx.int64)
    ckpt = tx.train.Checkpoint(v=tx.Variable(1.0), step=step)
    inits = []
    manager = tx.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=None,
                                         step_counter=step, checkpoint_interval=3,
                                         init_fn=lambda: inits.append(1))
    assert manager.checkpoint is ckpt and manager.checkpoint_interval == 3
    assert manager.restore_or_initialize() is None and inits == [1]
    saved = []
    for s in range(8):
        step.assign(s)
        saved.append(manager.save(checkpoint_number=step))
    names = [None if p is None else Path(p).name for p in saved]
    assert names == ["ckpt-0", None, None, "ckpt-3", None, None, "ckpt-6", None]
    # check_interval=False saves step 7 anyway (numbered by save_counter), never twice
    assert Path(manager.save(check_interval=False)).name == "ckpt-4"
    assert manager.save(check_interval=False) is None
    with pytest.raises(ValueError, match="step_counter"):
        tx.train.CheckpointManager(ckpt, str(tmp_path), checkpoint_interval=2)
    with pytest.raises(TypeError, match="checkpoint_number must be an integer"):
        manager.save(checkpoint_number=tx.Variable(1.5), check_interval=False)


# ------------------------------------------------------------------ Dataset.cache(filename)
def _counting(calls, n=5):
    def gen():
        for i in range(n):
            calls.append(i)
            yield np.full(2, i, np.float32)
    return Dataset.from_generator(gen, output_signature=tx.TensorSpec([2], tx.float32))


def test_file_cache_replays_the_first_complete_pass(tmp_path):
    calls = []
    prefix = str(tmp_path / "sub" / "ds")
    ds = _counting(calls).map(lambda v: v * 2.0).cache(prefix)
    want = [[2.0 * i] * 2 for i in range(5)]
    assert [e.tolist() for e in ds.take(2).as_numpy_iterator()] == want[:2]
    assert not list((tmp_path / "sub").iterdir())  # a partial pass leaves nothing
    assert [e.tolist() for e in ds.as_numpy_iterator()] == want
    assert len(calls) == 2 + 5
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["ds.tfxcache"]
    assert [e.tolist() for e in ds.as_numpy_iterator()] == want and len(calls) == 7
    again = _counting(calls).map(lambda v: v * 2.0).cache(prefix)  # a new pipeline (process)
    assert [e.tolist() for e in again.as_numpy_iterator()] == want and len(calls) == 7
    assert all(isinstance(t, tx.Tensor) for t in again)
    # nested elements and bfloat16 survive the file
    nested = Dataset.from_tensor_slices({"a": np.arange(3), "b": np.ones((3, 2), np.float32)})
    nested = nested.map(lambda e: {"a": e["a"], "b": tx.cast(e["b"], tx.bfloat16)})
    first = list(nested.cache(str(tmp_path / "nested")).as_numpy_iterator())
    second = list(nested.cache(str(tmp_path / "nested")).as_numpy_iterator())
    assert [int(e["a"]) for e in second] == [0, 1, 2]
    assert second[0]["b"].dtype == first[0]["b"].dtype and second[0]["b"].dtype.name == "bfloat16"


def test_file_cache_refuses_another_dataset_or_a_damaged_file(tmp_path):
    prefix = str(tmp_path / "ds")
    list(_counting([]).cache(prefix))
    with pytest.raises(tx.errors.InvalidArgumentError, match=r"written for elements "
                       r"\[\['float32', \[2\]\]\].*delete the file"):
        list(Dataset.range(3).cache(prefix))
    path = Path(prefix + ".tfxcache")
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(tx.errors.InvalidArgumentError, match="not a readable cache file"):
        list(_counting([]).cache(prefix))
