"""fit/evaluate/predict on a tx.data.Dataset of batches equal the same on arrays."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx
from tfx_core import keras

Dataset = tx.data.Dataset


def _data(n: int = 40):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.1).astype(np.float32)
    w = rng.uniform(0.5, 2.0, n).astype(np.float32)
    return x, y, w


def _pair():
    """Two compiled models with the same initial weights."""
    models = []
    for _ in range(2):
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(1)])
        m.compile(keras.optimizers.SGD(0.05), "mse", metrics=["mae"])
        models.append(m)
    models[1].set_weights(models[0].get_weights())
    return models


def _same(a, b) -> None:
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("weighted", [False, True])
def test_fit_dataset_equals_arrays(weighted: bool) -> None:
    x, y, w = _data()
    a, b = _pair()
    initial = a.get_weights()[0]
    ha = a.fit(x, y, sample_weight=w if weighted else None, batch_size=16, epochs=2,
               shuffle=False, verbose=0)
    parts = (x, y, w) if weighted else (x, y)
    hb = b.fit(Dataset.from_tensor_slices(parts).batch(16), epochs=2, verbose=0)
    _same(a, b)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-5)
    assert not np.allclose(a.get_weights()[0], initial)  # it trained


def test_validation_evaluate_predict_on_datasets() -> None:
    x, y, _ = _data()
    a, b = _pair()
    ha = a.fit(x[:32], y[:32], batch_size=8, epochs=1, shuffle=False, verbose=0,
               validation_data=(x[32:], y[32:]), validation_batch_size=8)
    hb = b.fit(Dataset.from_tensor_slices((x[:32], y[:32])).batch(8), epochs=1, verbose=0,
               validation_data=Dataset.from_tensor_slices((x[32:], y[32:])).batch(8))
    np.testing.assert_allclose(ha.history["val_loss"], hb.history["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(ha.history["val_mae"], hb.history["val_mae"], rtol=1e-5)
    ds = Dataset.from_tensor_slices((x, y)).batch(16)
    np.testing.assert_allclose(a.evaluate(x, y, batch_size=16, verbose=0),
                               b.evaluate(ds, verbose=0), rtol=1e-5)
    want = a.predict(x, batch_size=16, verbose=0)
    np.testing.assert_allclose(b.predict(ds, verbose=0), want, rtol=1e-5, atol=1e-6)
    only_x = Dataset.from_tensor_slices(x).batch(16)
    np.testing.assert_allclose(b.predict(only_x, verbose=0), want, rtol=1e-5, atol=1e-6)
    assert b.predict(only_x, steps=1, verbose=0).shape == (16, 1)
    # the model's own forward pass, as a numpy reference for predict
    k1, b1, k2, b2 = b.get_weights()
    np.testing.assert_allclose(want, np.tanh(x @ k1 + b1) @ k2 + b2, rtol=1e-5, atol=1e-5)


def test_steps_per_epoch_continues_one_iterator_across_epochs() -> None:
    x, y, _ = _data()
    a, b = _pair()
    # 5 batches of 8; 2 epochs of 2 steps read batches 0-3 (not 0,1,0,1), as Keras
    a.fit(x[:32], y[:32], batch_size=8, epochs=1, shuffle=False, verbose=0)
    hist = b.fit(Dataset.from_tensor_slices((x, y)).batch(8), epochs=2, steps_per_epoch=2,
                 verbose=0)
    _same(a, b)
    assert len(hist.history["loss"]) == 2
    # arrays: steps_per_epoch caps each epoch's batches
    c, d = _pair()
    c.fit(x[:16], y[:16], batch_size=8, epochs=1, shuffle=False, verbose=0)
    d.fit(x, y, batch_size=8, epochs=1, steps_per_epoch=2, shuffle=False, verbose=0)
    _same(c, d)


def test_running_out_of_data_cuts_the_epoch_with_a_warning() -> None:
    x, y, _ = _data(16)
    m = _pair()[0]
    with pytest.warns(UserWarning, match="ran out of data"):
        hist = m.fit(Dataset.from_tensor_slices((x, y)).batch(8), epochs=5, steps_per_epoch=3,
                     verbose=0)
    # Keras 3.15: each epoch ends early at the end of the data, the next one starts afresh
    # (tests/keras/test_training_args.py checks the values against tf.keras)
    assert len(hist.history["loss"]) == 5


def test_infinite_dataset_with_steps_per_epoch() -> None:
    x, y, _ = _data(16)
    a, b = _pair()
    a.fit(np.concatenate([x, x]), np.concatenate([y, y]), batch_size=8, epochs=1,
          shuffle=False, verbose=0)
    b.fit(Dataset.from_tensor_slices((x, y)).batch(8).repeat(), epochs=2, steps_per_epoch=2,
          verbose=0)
    _same(a, b)


def test_dataset_errors() -> None:
    x, y, _ = _data(16)
    m = _pair()[0]
    ds = Dataset.from_tensor_slices((x, y)).batch(8)
    with pytest.raises(ValueError, match="`y` argument is not supported"):
        m.fit(ds, y, verbose=0)
    with pytest.raises(ValueError, match="`batch_size` argument is not supported"):
        m.evaluate(ds, batch_size=8, verbose=0)
    with pytest.raises(ValueError, match="infinite"):
        m.fit(ds.repeat(), verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        m.fit(ds, validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        m.fit(ds, steps_per_epoch=0, verbose=0)


def test_class_weight_on_a_dataset_equals_arrays() -> None:
    x, y, _ = _data(32)
    labels = (y[:, 0] > 0).astype(np.int32)
    a, b = _pair()
    weights = {0: 0.5, 1: 2.0}
    a.fit(x, labels, class_weight=weights, batch_size=8, epochs=1, shuffle=False, verbose=0)
    b.fit(Dataset.from_tensor_slices((x, labels)).batch(8), class_weight=weights, epochs=1,
          verbose=0)
    _same(a, b)


def test_a_callback_reading_batch_logs_gets_floats() -> None:
    # fit reads the logs per batch only for such callbacks (otherwise once per epoch)
    x, y, _ = _data(16)
    seen = []
    cb = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs))
    hist = _pair()[0].fit(Dataset.from_tensor_slices((x, y)).batch(8), epochs=1, verbose=0,
                          callbacks=[cb])
    assert len(seen) == 2 and all(type(v) is float for logs in seen for v in logs.values())
    assert seen[-1]["loss"] == hist.history["loss"][-1]
