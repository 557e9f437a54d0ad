"""Model.compile/fit/evaluate/predict: learning, one compiled step, callbacks, progress output."""
import numpy as np
import pytest

import tfx_core as tx
from tfx_core import keras
from tfx_core.keras import callbacks, layers


def _blobs(n=256, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)
    return x.astype(np.float32), y.astype(np.int32)


def _model(lr=0.02, metrics=("accuracy",), seed=0, **compile_kwargs):
    model = keras.Sequential([keras.Input((2,)),
                              layers.Dense(8, activation="relu",
                                           kernel_initializer=keras.initializers.GlorotUniform(seed)),
                              layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(
                                  seed + 1))])
    model.compile(keras.optimizers.Adam(lr),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=list(metrics), **compile_kwargs)
    return model


def test_fit_learns_blobs_with_one_compiled_step():
    x, y = _blobs()
    model = _model()
    history = model.fit(x, y, batch_size=32, epochs=4, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"] and history.epoch == [0, 1, 2, 3]
    assert history.history["accuracy"][-1] > 0.95
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.train_function.experimental_get_tracing_count() == 1  # 256 = 8 full batches
    loss, acc = model.evaluate(x, y, verbose=0)
    pred = model.predict(x, batch_size=100, verbose=0)  # 100, 100, 56: predict per shape
    assert pred.shape == (256, 2) and acc > 0.95
    assert np.isclose(acc, (pred.argmax(-1) == y).mean())
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "accuracy"}


def test_partial_last_batch_traces_once_more_only():
    x, y = _blobs(100)
    model = _model()
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)  # 32, 32, 32, 4 per epoch
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert model.train_function.experimental_get_tracing_count() == 2


def test_compiled_step_matches_eager_step():
    x, y = _blobs(64)
    compiled, eager = _model(), _model(run_eagerly=True)
    eager.set_weights(compiled.get_weights())
    a = compiled.train_on_batch(x, y, return_dict=True)
    b = eager.train_on_batch(x, y, return_dict=True)
    assert a.keys() == b.keys() == {"loss", "accuracy"}
    np.testing.assert_allclose([a["loss"], a["accuracy"]], [b["loss"], b["accuracy"]], rtol=1e-5)
    for w1, w2 in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(w1, w2, rtol=1e-5, atol=1e-6)


def test_on_batch_methods_agree_with_evaluate_and_predict():
    x, y = _blobs(48)
    model = _model()
    np.testing.assert_allclose(model.test_on_batch(x, y),
                               model.evaluate(x, y, batch_size=48, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(tx.constant(x)), np.asarray(model(x)),
                               rtol=1e-6)


def test_regularization_loss_is_added():
    x, y = _blobs(32)
    inp = keras.Input((2,))
    dense = layers.Dense(2, kernel_regularizer=keras.regularizers.L2(1.0))
    model = keras.Model(inp, dense(inp))
    model.compile("sgd", "sparse_categorical_crossentropy")
    plain = keras.losses.SparseCategoricalCrossentropy()(y, model(x))
    penalty = (dense.kernel.numpy() ** 2).sum()
    np.testing.assert_allclose(model.test_on_batch(x, y), float(plain) + penalty, rtol=1e-5)


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            events = object.__getattribute__(self, "events")
            return lambda *args, **kwargs: events.append(
                name if not args or isinstance(args[0], dict) or args[0] is None
                else f"{name}:{args[0]}")
        return object.__getattribute__(self, name)


def test_callbacks_fire_in_keras_order():
    x, y = _blobs(10)
    rec = Recorder()
    _model().fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[rec],
                 validation_data=(x[:5], y[:5]))
    epoch = lambda e: [f"on_epoch_begin:{e}",  # noqa: E731
                       *[f"on_train_batch_{when}:{b}" for b in range(3)
                         for when in ("begin", "end")],
                       "on_test_begin",
                       *[f"on_test_batch_{when}:{b}" for b in range(2)
                         for when in ("begin", "end")],
                       "on_test_end", f"on_epoch_end:{e}"]
    assert rec.events == ["on_train_begin", *epoch(0), *epoch(1), "on_train_end"]
    assert rec.params == {"verbose": 0, "epochs": 2, "steps": 3}


def test_validation_split_takes_the_last_fraction():
    x, y = _blobs(40, seed=3)
    model = _model()
    seen = []
    spy = callbacks.LambdaCallback(on_train_begin=lambda logs: seen.append(dict(spy.params)))
    history = model.fit(x, y, batch_size=8, epochs=1, validation_split=0.25, shuffle=False,
                        verbose=0, callbacks=[spy])
    assert seen[0]["steps"] == 4  # 30 training samples
    last = model.evaluate(x[30:], y[30:], verbose=0, return_dict=True)
    first = model.evaluate(x[:10], y[:10], verbose=0, return_dict=True)
    np.testing.assert_allclose(history.history["val_loss"][0], last["loss"], rtol=1e-5)
    assert not np.isclose(history.history["val_loss"][0], first["loss"], rtol=1e-5)
    with pytest.raises(ValueError, match="not sufficient"):
        model.fit(x[:1], y[:1], validation_split=0.1, verbose=0)


def test_early_stopping_and_restore_best_weights():
    x, y = _blobs(32)
    model = _model(lr=0.05)
    scripted = iter([1.0, 0.5, 0.7, 0.8, 0.9, 1.0])
    weights = []

    def script(epoch, logs):
        logs["val_loss"] = next(scripted)  # later callbacks see the scripted value
        weights.append(model.get_weights())

    stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=6, verbose=0, validation_data=(x, y),
                        callbacks=[callbacks.LambdaCallback(on_epoch_end=script), stop])
    assert history.history["val_loss"] == [1.0, 0.5, 0.7, 0.8]  # stopped after epoch 3
    assert stop.stopped_epoch == 3 and stop.best_epoch == 1 and model.stop_training
    for restored, best in zip(model.get_weights(), weights[1]):
        np.testing.assert_array_equal(restored, best)
    assert not np.array_equal(weights[1][0], weights[3][0])


def test_early_stopping_mode_and_min_delta():
    assert callbacks.EarlyStopping(monitor="val_accuracy").mode == "max"
    stop = callbacks.EarlyStopping(monitor="loss", min_delta=0.1, patience=1)

    class Fake:
        stop_training = False

    stop.set_model(Fake())
    stop.on_train_begin()
    for epoch, loss in enumerate([1.0, 0.95, 0.93]):  # improvements smaller than min_delta
        stop.on_epoch_end(epoch, {"loss": loss})
        if stop.model.stop_training:
            break
    assert stop.model.stop_training and stop.stopped_epoch == 1


def test_verbose_outputs(capsys):
    x, y = _blobs(24)
    model = _model()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, batch_size=8, epochs=2, verbose=2, validation_data=(x, y))
    lines = capsys.readouterr().out.strip().split("\n")
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert lines[1].startswith("3/3 - ") and "/step - accuracy: " in lines[1]
    assert lines[1].index("accuracy") < lines[1].index(" loss") < lines[1].index("val_accuracy")
    model.fit(x, y, batch_size=8, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "3/3" in out and "/step - accuracy: " in out and "Epoch" not in out
    model.evaluate(x, y, verbose=1)
    assert "1/1" in capsys.readouterr().out


def test_errors():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((4, 2)), np.zeros(4), verbose=0)
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="cardinality"):
        model.fit(np.zeros((4, 2)), np.zeros(3), verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(np.zeros((4, 2)), np.zeros(4), batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="Could not interpret optimizer"):
        model.compile("adamz", "mse")


class Regressor(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden, self.out = layers.Dense(8, activation="relu"), layers.Dense(1)

    def call(self, x, training=False):
        return self.out(self.hidden(x))


def test_subclassed_and_two_input_models_fit():
    rng = np.random.default_rng(4)
    x = rng.random((64, 3)).astype(np.float32)
    y = x.sum(1, keepdims=True)
    model = Regressor()
    model.compile(keras.optimizers.Adam(0.05), "mse", metrics=["mae"])
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0)  # built inside the step
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(model.trainable_weights) == 4
    assert model.train_function.experimental_get_tracing_count() == 1
    a, b = keras.Input((3,)), keras.Input((2,))
    two = keras.Model([a, b], layers.Dense(1)(layers.Concatenate()([a, b])))
    two.compile("sgd", "mse")
    losses = two.fit([x, x[:, :2]], y, epochs=3, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    assert two.predict([x, x[:, :2]], verbose=0).shape == (64, 1)


def test_class_weight_scales_the_loss():
    x, y = _blobs(16)
    model = _model()
    weights = {0: 2.0, 1: 0.5}
    per_sample = keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                            reduction="none")(y, model(x))
    expected = (np.asarray(per_sample) * np.where(y == 0, 2.0, 0.5)).mean()
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
                        class_weight=weights)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)
    with pytest.raises(ValueError, match="no weight for classes"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_progress_without_tqdm_prints_one_line(capsys, monkeypatch):
    from tfx_core.keras import progress

    monkeypatch.setattr(progress, "_tqdm", lambda: None)
    x, y = _blobs(16)
    _model().fit(x, y, batch_size=8, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert out.startswith("2/2 - ") and "/step - accuracy: " in out and out.count("\n") == 1
