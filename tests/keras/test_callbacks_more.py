"""ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler, CSVLogger, TerminateOnNaN and
TensorBoard behave as Keras documents them in a small fit (2-class blobs)."""
import csv
import sys

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tfx_core import keras
from tfx_core.keras import callbacks, layers


def _blobs(n=128, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)
    return x.astype(np.float32), y.astype(np.int32)


def _model(optimizer=None, seed=0):
    init = keras.initializers.GlorotUniform
    model = keras.Sequential([keras.Input((2,)),
                              layers.Dense(8, activation="relu", kernel_initializer=init(seed)),
                              layers.Dense(2, kernel_initializer=init(seed + 1))])
    model.compile(optimizer or keras.optimizers.SGD(0.05),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


class _Record(callbacks.Callback):
    """The model's weights at each epoch's end."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def test_model_checkpoint_save_best_only_weights(tmp_path):
    x, y = _blobs()
    model, record = _model(keras.optimizers.SGD(0.2)), _Record()
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch:02d}.ckpt"), monitor="val_loss",
                                     save_best_only=True, save_weights_only=True)
    # without shuffling, val_loss improves for 3 epochs, then rises: both branches run
    history = model.fit(x, y, batch_size=16, epochs=6, validation_split=0.25, verbose=0,
                        shuffle=False, callbacks=[ckpt, record])
    val = history.history["val_loss"]
    improved = [e for e in range(6) if val[e] < min(val[:e], default=np.inf)]
    assert improved == [0, 1, 2]
    saved = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".ckpt"))
    assert saved == [f"w-{e + 1:02d}.ckpt" for e in improved]
    best = int(np.argmin(val))
    assert ckpt.best == pytest.approx(val[best])
    fresh = _model(seed=7)
    fresh.load_weights(str(tmp_path / f"w-{best + 1:02d}.ckpt"))
    for a, b in zip(fresh.get_weights(), record.weights[best]):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_max_mode_every_epoch_and_full_model(tmp_path):
    x, y = _blobs(64)
    assert callbacks.ModelCheckpoint(str(tmp_path / "a"), monitor="val_accuracy").mode == "max"
    assert callbacks.ModelCheckpoint(str(tmp_path / "a"), monitor="auc").mode == "max"
    model = _model()
    every = callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}-{loss:.3f}.ckpt"),
                                      save_weights_only=True)
    full = callbacks.ModelCheckpoint(str(tmp_path / "model.tfx"), monitor="accuracy",
                                     mode="max", save_best_only=True)
    record = _Record()
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0,
                        callbacks=[every, full, record])
    names = {p.name for p in tmp_path.iterdir()}
    for e, loss in enumerate(history.history["loss"]):
        assert f"e{e + 1}-{loss:.3f}.ckpt" in names
    best = int(np.argmax(history.history["accuracy"]))
    assert full.best == history.history["accuracy"][best]
    loaded = keras.models.load_model(str(tmp_path / "model.tfx"))  # the best epoch's model
    model.set_weights(record.weights[best])
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    with pytest.raises(KeyError, match="val_auc"):
        callbacks.ModelCheckpoint(str(tmp_path / "{val_auc}")).on_epoch_end(0, {"loss": 1.0})
    for bad in ("batch", 0, 2.5, True):
        with pytest.raises(ValueError, match="save_freq"):
            callbacks.ModelCheckpoint("x", save_freq=bad)


def test_learning_rate_scheduler_reaches_the_compiled_step():
    """Rate 0 from the second epoch: the compiled step (traced once) stops moving weights."""
    x, y = _blobs(64)
    model, record = _model(), _Record()
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else 0.0)
    history = model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=[sched, record])
    assert history.history["learning_rate"] == [pytest.approx(0.05), 0.0, 0.0]
    assert model.train_function.experimental_get_tracing_count() == 1
    first = [w.copy() for w in record.weights[0]]
    assert any(np.abs(a - b).max() > 0 for a, b in zip(first, _model().get_weights()))
    for later in record.weights[1:]:
        for a, b in zip(later, first):
            np.testing.assert_array_equal(a, b)
    one_arg = callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[one_arg])
    assert history.history["learning_rate"] == [pytest.approx(0.01), pytest.approx(0.02)]
    bad = callbacks.LearningRateScheduler(lambda epoch: "fast")
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[bad])


def test_reduce_lr_on_plateau():
    """min_delta larger than any improvement: from the second epoch on the monitored loss
    never improves, so the rate halves every `patience` epochs, then stops at min_lr."""
    x, y = _blobs(64)
    model = _model(keras.optimizers.SGD(0.08))
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2,
                                         min_delta=100.0, min_lr=0.015)
    history = model.fit(x, y, batch_size=32, epochs=7, verbose=0, callbacks=[reduce])
    # logged before each epoch's decision: epochs 2, 4, 6 (0-based) reduce
    assert history.history["learning_rate"] == pytest.approx(
        [0.08, 0.08, 0.08, 0.04, 0.04, 0.02, 0.02])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.015)  # max(0.01, min_lr)
    assert model.train_function.experimental_get_tracing_count() == 1
    cool = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=2,
                                       min_delta=100.0)
    model = _model(keras.optimizers.SGD(0.08))
    history = model.fit(x, y, batch_size=32, epochs=6, verbose=0, callbacks=[cool])
    # Keras's counting: a cooldown of 2 skips the epoch after the cut; the counter reaches 0
    # during the second, which then counts (and cuts) again
    assert history.history["learning_rate"] == pytest.approx(
        [0.08, 0.08, 0.04, 0.04, 0.02, 0.02])
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.0)
    assert callbacks.ReduceLROnPlateau(monitor="val_precision").mode == "max"


def test_csv_logger(tmp_path):
    x, y = _blobs(64)
    path = tmp_path / "log.csv"
    model = _model()
    history = model.fit(x, y, batch_size=32, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[callbacks.CSVLogger(str(path))])
    model.fit(x, y, batch_size=32, epochs=2, validation_split=0.25, verbose=0,
              callbacks=[callbacks.CSVLogger(str(path), append=True)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(rows) == 1 + 3 + 2 and [r[0] for r in rows[1:]] == ["0", "1", "2", "0", "1"]
    for e, row in enumerate(rows[1:4]):
        assert [float(v) for v in row[1:]] == [history.history[k][e] for k in rows[0][1:]]
    callbacks_path = tmp_path / "semi.csv"
    model.fit(x, y, batch_size=32, epochs=1, verbose=0,
              callbacks=[callbacks.CSVLogger(str(callbacks_path), separator=";")])
    assert callbacks_path.read_text().splitlines()[0] == "epoch;accuracy;loss"


def test_terminate_on_nan(capsys):
    x, y = _blobs(64)
    x[70 % 64] = np.nan  # sample 6: in the first batch of 8
    x[40] = np.nan  # batch 5 (0-based) of 8 without shuffling
    x[6] = 0.0
    batches = []
    seen = callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    model = _model()
    history = model.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0,
                        callbacks=[callbacks.TerminateOnNaN(), seen])
    assert batches == [0, 1, 2, 3, 4, 5] and history.epoch == [0]
    assert np.isnan(history.history["loss"][0])
    assert "Batch 5: Invalid loss, terminating training" in capsys.readouterr().out


def _scalars(folder):
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def test_tensorboard_event_files_read_back_by_tensorboard(tmp_path):
    x, y = _blobs(64)
    model = _model()
    board = callbacks.TensorBoard(str(tmp_path), histogram_freq=2, update_freq=3)
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", patience=100)  # logs learning_rate
    history = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[reduce, board])
    train, val = _scalars(tmp_path / "train"), _scalars(tmp_path / "validation")
    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy",
                                            "epoch_learning_rate", "batch_loss",
                                            "batch_accuracy"}
    assert set(val.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy"}
    for name in ("loss", "accuracy"):
        events = train.Scalars(f"epoch_{name}")
        assert [e.step for e in events] == [0, 1, 2]
        np.testing.assert_allclose([e.value for e in events], history.history[name], rtol=1e-6)
        np.testing.assert_allclose([e.value for e in val.Scalars(f"epoch_{name}")],
                                   history.history[f"val_{name}"], rtol=1e-6)
    # 3 batches of 16 per epoch (48 training samples), 9 in all: every 3rd is written
    assert [e.step for e in train.Scalars("batch_loss")] == [3, 6, 9]
    hist_tags = train.Tags()["histograms"]
    assert len(hist_tags) == len(model.weights)
    kernel = train.Histograms(hist_tags[0])
    assert [h.step for h in kernel] == [0, 2]
    assert kernel[-1].histogram_value.num == model.weights[0].numpy().size
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoard(str(tmp_path), update_freq="sometimes")


def test_tensorboard_without_tensorboardx_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if not installed
    board = callbacks.TensorBoard(str(tmp_path))  # constructing needs nothing
    x, y = _blobs(32)
    with pytest.raises(ImportError, match=r"pip install tfx\[tensorboard\]"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[board])
