"""compile/fit/evaluate arguments (loss_weights, per-output losses and metrics,
weighted_metrics, validation_freq, steps_per_epoch, steps_per_execution, ...) against
numpy and tf.keras 3 (tests/oracles/keras_training_args.json, recorded once)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tfx_core import keras

ORACLE = json.loads((Path(__file__).parents[1] / "oracles" /
                     "keras_training_args.json").read_text())
A = {k: np.asarray(v, np.float32) for k, v in ORACLE["inputs"].items()}
Dataset = tx.data.Dataset


def _two_outputs() -> keras.Model:
    x = keras.Input((3,))
    model = keras.Model(x, [keras.layers.Dense(2, name="a")(x),
                            keras.layers.Dense(1, name="b")(x)])
    model.set_weights([A["ka"], A["ba"], A["kb"], A["bb"]])
    return model


def _one_output(activation: str | None = None) -> keras.Model:
    x = keras.Input((3,))
    model = keras.Model(x, keras.layers.Dense(1, activation=activation)(x))
    model.set_weights([A["kb"], A["bb"]])
    return model


def _close_history(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=2e-5, atol=1e-6, err_msg=k)


def _close_weights(model: keras.Model, want: list) -> None:
    for w, v in zip(model.get_weights(), want):
        np.testing.assert_allclose(w, np.asarray(v, np.float32), rtol=2e-5, atol=1e-6)


def test_per_output_losses_loss_weights_and_metrics_as_keras() -> None:
    want = ORACLE["multi"]
    m = _two_outputs()
    m.compile(keras.optimizers.SGD(0.1), loss={"a": "mse", "b": "mae"},
              loss_weights={"a": 0.5, "b": 2.0}, metrics={"a": ["mae"], "b": ["mse"]},
              weighted_metrics={"a": ["mae"]})
    h = m.fit(A["x"], [A["ya"], A["yb"]], sample_weight=A["sw"], batch_size=4, epochs=2,
              shuffle=False, verbose=0)
    _close_history(h.history, want["history"])
    _close_weights(m, want["weights"])
    args = dict(x=A["x"], y=[A["ya"], A["yb"]], sample_weight=A["sw"], batch_size=4, verbose=0)
    _close_history(m.evaluate(**args, return_dict=True), want["evaluate_dict"])
    np.testing.assert_allclose(m.evaluate(**args), want["evaluate_list"], rtol=2e-5)


def test_loss_and_weight_lists_dict_targets_and_one_loss_for_all_outputs() -> None:
    m = _two_outputs()
    m.compile(keras.optimizers.SGD(0.1), loss=["mse", "mae"], loss_weights=[1.0, 3.0])
    h = m.fit(A["x"], {"a": A["ya"], "b": A["yb"]}, batch_size=5, epochs=2, shuffle=False,
              verbose=0)
    _close_history(h.history, ORACLE["multi_list"]["history"])
    _close_weights(m, ORACLE["multi_list"]["weights"])
    m = _two_outputs()
    m.compile(keras.optimizers.SGD(0.1), loss="mse")
    h = m.fit(A["x"], [A["ya"], A["yb"]], batch_size=5, epochs=1, shuffle=False, verbose=0)
    _close_history(h.history, ORACLE["multi_one_loss"]["history"])
    # numpy: the first step's total loss is the sum of the two outputs' MSE
    pa, pb = A["x"][:5] @ A["ka"] + A["ba"], A["x"][:5] @ A["kb"] + A["bb"]
    first = np.mean((pa - A["ya"][:5]) ** 2) + np.mean((pb - A["yb"][:5]) ** 2)
    m = _two_outputs()
    m.compile(keras.optimizers.SGD(0.0), loss="mse")
    logs = m.test_on_batch(A["x"][:5], [A["ya"][:5], A["yb"][:5]], return_dict=True)
    np.testing.assert_allclose(logs["loss"], first, rtol=1e-5)


def test_weighted_metrics_see_class_and_sample_weights_metrics_do_not() -> None:
    want = ORACLE["weighted"]
    m = _one_output("sigmoid")
    m.compile(keras.optimizers.SGD(0.5), loss="binary_crossentropy",
              metrics=["accuracy", "mse"], weighted_metrics=["accuracy", "mse"])
    h = m.fit(A["x"], A["labels"], class_weight={0: 1.0, 1: 3.0}, batch_size=4, epochs=2,
              shuffle=False, verbose=0)
    _close_history(h.history, want["history"])
    ev = m.evaluate(A["x"], A["labels"], sample_weight=A["sw"], batch_size=4, verbose=0,
                    return_dict=True)
    _close_history(ev, want["evaluate_dict"])
    # numpy: the weighted mse is sum(w * err) / sum(w), the plain one a mean
    p = m.predict(A["x"], verbose=0)
    err = ((p - A["labels"]) ** 2)[:, 0]
    np.testing.assert_allclose(ev["mse"], err.mean(), rtol=1e-5)
    np.testing.assert_allclose(ev["weighted_mse"], (A["sw"] * err).sum() / A["sw"].sum(),
                               rtol=1e-5)


@pytest.mark.parametrize("name, freq", [("int", 2), ("list", [1, 3])])
def test_validation_freq(name: str, freq) -> None:
    m = _one_output()
    m.compile(keras.optimizers.SGD(0.1), loss="mse")
    h = m.fit(A["x"][:6], A["yb"][:6], batch_size=3, epochs=4, shuffle=False, verbose=0,
              validation_data=(A["x"][6:], A["yb"][6:]), validation_freq=freq)
    _close_history(h.history, ORACLE[f"validation_freq_{name}"])
    with pytest.raises(ValueError, match="validation_freq"):
        m.fit(A["x"], A["yb"], verbose=0, validation_data=(A["x"], A["yb"]),
              validation_freq="2")


@pytest.mark.parametrize("name", ["repeat", "finite"])
def test_steps_per_epoch_over_a_dataset(name: str) -> None:
    m = _one_output()
    m.compile(keras.optimizers.SGD(0.1), loss="mse")
    ds = Dataset.from_tensor_slices((A["x"], A["yb"])).batch(4)
    if name == "repeat":
        ds = ds.repeat()
        h = m.fit(ds, steps_per_epoch=2, epochs=3, verbose=0)
    else:  # 3 batches: the second epoch ends after one, the third starts a fresh pass
        with pytest.warns(UserWarning, match="ran out of data"):
            h = m.fit(ds, steps_per_epoch=2, epochs=3, verbose=0)
    _close_history(h.history, ORACLE[f"steps_per_epoch_{name}"]["history"])
    _close_weights(m, ORACLE[f"steps_per_epoch_{name}"]["weights"])


def test_steps_per_execution_gives_keras_results() -> None:
    m = _one_output()
    m.compile(keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"], steps_per_execution=3)
    assert m.steps_per_execution == 3
    h = m.fit(A["x"], A["yb"], batch_size=2, epochs=2, shuffle=False, verbose=0)
    _close_history(h.history, ORACLE["steps_per_execution"]["history"])
    _close_weights(m, ORACLE["steps_per_execution"]["weights"])
    with pytest.raises(ValueError, match="steps_per_execution"):
        m.compile("sgd", loss="mse", steps_per_execution=0)


def test_compile_argument_errors() -> None:
    m = _two_outputs()
    with pytest.raises(ValueError, match="not output names"):
        m.compile("sgd", loss={"a": "mse", "c": "mae"})
        m.train_on_batch(A["x"], [A["ya"], A["yb"]])
    m = _two_outputs()
    with pytest.raises(ValueError, match="loss_weights must match"):
        m.compile("sgd", loss="mse", loss_weights=[1.0, 2.0])
        m.train_on_batch(A["x"], [A["ya"], A["yb"]])
    with pytest.raises(ValueError, match="loss_weights"):
        m.compile("sgd", loss="mse", loss_weights="heavy")
    m = _two_outputs()
    m.compile("sgd", loss="mse", metrics=["mae"])  # 1 entry for 2 outputs: ambiguous
    with pytest.raises(ValueError, match="one entry per output"):
        m.train_on_batch(A["x"], [A["ya"], A["yb"]])


def test_train_on_batch_class_weight_and_evaluate_steps() -> None:
    a, b = _one_output("sigmoid"), _one_output("sigmoid")
    for m in (a, b):
        m.compile(keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    cw = {0: 1.0, 1: 3.0}
    a.train_on_batch(A["x"], A["labels"], class_weight=cw)
    b.train_on_batch(A["x"], A["labels"],
                     sample_weight=np.where(A["labels"][:, 0] == 1, 3.0, 1.0))
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(u, v, rtol=1e-6)
    with pytest.raises(ValueError, match="at the same time"):
        a.train_on_batch(A["x"], A["labels"], sample_weight=A["sw"], class_weight=cw)
    # evaluate(steps=1) sees only the first batch; predict(steps=) likewise
    one = a.evaluate(A["x"], A["labels"], batch_size=4, steps=1, verbose=0, return_dict=True)
    first = a.evaluate(A["x"][:4], A["labels"][:4], verbose=0, return_dict=True)
    np.testing.assert_allclose(one["loss"], first["loss"], rtol=1e-6)
    assert a.predict(A["x"], batch_size=4, steps=2, verbose=0).shape == (8, 1)


def test_terminate_on_nan_raise_error_skips_on_train_end() -> None:
    x = A["x"].copy()
    x[5] = np.nan  # the second batch of 4
    ended = []
    end = keras.callbacks.LambdaCallback(on_train_end=lambda logs: ended.append(1))
    m = _one_output()
    m.compile(keras.optimizers.SGD(0.1), loss="mse")
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 1"):
        m.fit(x, A["yb"], batch_size=4, epochs=2, shuffle=False, verbose=0,
              callbacks=[keras.callbacks.TerminateOnNaN(raise_error=True), end])
    assert ended == []
    h = m.fit(x, A["yb"], batch_size=4, epochs=2, shuffle=False, verbose=0,
              callbacks=[keras.callbacks.TerminateOnNaN(), end])
    assert ended == [1] and h.epoch == [0]


def test_checkpoint_manager_keep_checkpoint_every_n_hours(tmp_path, monkeypatch) -> None:
    from tfx_core.training import checkpoint_manager as cm

    class Clock:  # a fake time.time: no sleeping
        now = 1000.0

        @classmethod
        def time(cls) -> float:
            return cls.now

    monkeypatch.setattr(cm, "time", Clock)
    v = tx.Variable(1.0)
    manager = tx.train.CheckpointManager(tx.train.Checkpoint(v=v), str(tmp_path),
                                         max_to_keep=2, keep_checkpoint_every_n_hours=1)
    # saves every 20 minutes; the manager was created at t=1000 (last kept: 999)
    for k in range(1, 10):
        Clock.now = 1000.0 + 1200.0 * k
        v.assign(float(k))
        manager.save()
    files = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("ckpt-"))
    # TF: pushed out oldest first, ckpt-k (saved at 1000+1200k) is kept when it is at least
    # 3600 s after the last kept one: ckpt-3 (>= 999+3600), then ckpt-6; 8 and 9 are live
    # (the same files as tf.train.CheckpointManager under a patched clock)
    assert files == ["ckpt-3", "ckpt-6", "ckpt-8", "ckpt-9"]
    assert [p.rsplit("/", 1)[-1] for p in manager.checkpoints] == ["ckpt-8", "ckpt-9"]
    w = tx.Variable(0.0)
    tx.train.Checkpoint(v=w).restore(str(tmp_path / "ckpt-3"))
    assert float(w.numpy()) == 3.0
    with pytest.raises(ValueError, match="keep_checkpoint_every_n_hours"):
        tx.train.CheckpointManager(tx.train.Checkpoint(v=v), str(tmp_path / "b"),
                                   keep_checkpoint_every_n_hours=0)
