"""Issue 15 acceptance: tx.keras callbacks against tf.keras 3's recorded behaviour — hook order
in fit (with validation and initial_epoch), evaluate and predict; EarlyStopping (patience,
min_delta, baseline, start_from_epoch, restore_best_weights, mode) and ReduceLROnPlateau
(cooldown, min_lr, mode) on scripted monitor values; validation_split with shuffle."""
import json
from pathlib import Path

import numpy as np
import pytest

from tests.oracles.keras_callback_cases import EARLY_STOPPING, REDUCE_LR, order_data
from tfx_core import keras
from tfx_core.keras import callbacks

ORACLE = json.loads((Path(__file__).parent / "oracles" / "keras_callbacks.json").read_text())


class Recorder(callbacks.Callback):
    """Every hook call as "name" or "name:index" (the same recorder the oracle used)."""

    def __init__(self):
        super().__init__()
        self.events = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            events = object.__getattribute__(self, "events")

            def record(*args, **kwargs):
                first = args[0] if args else None
                events.append(name if first is None or isinstance(first, dict)
                              else f"{name}:{first}")
            return record
        return object.__getattribute__(self, name)


def _model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_hook_order_matches_tf_keras():
    x, y, xv, yv = order_data()
    want = ORACLE["order"]
    runs = {
        "fit": lambda m, cb: m.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[cb],
                                   validation_data=(xv, yv)),
        "fit_initial_epoch": lambda m, cb: m.fit(x, y, batch_size=4, epochs=3, initial_epoch=1,
                                                 verbose=0, callbacks=[cb]),
        "evaluate": lambda m, cb: m.evaluate(x, y, batch_size=4, verbose=0, callbacks=[cb]),
        "predict": lambda m, cb: m.predict(x, batch_size=4, verbose=0, callbacks=[cb]),
    }
    for name, run in runs.items():
        rec = Recorder()
        run(_model(), rec)
        assert rec.events == want[name], name


def test_log_keys_match_tf_keras():
    """The names in each hook's logs and in History (fit with accuracy and validation)."""
    x, y, xv, yv = order_data()
    keys = {}
    spy = callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: keys.setdefault("train_batch", sorted(logs)),
        on_test_batch_end=lambda b, logs: keys.setdefault("test_batch", sorted(logs)),
        on_epoch_end=lambda e, logs: keys.setdefault("epoch", sorted(logs)))
    history = _model().fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[spy],
                           validation_data=(xv, yv))
    assert {**keys, "history": sorted(history.history)} == ORACLE["order"]["log_keys"]


def _drive(callback, values, monitor):
    """The oracle's driver: scripted epoch logs; before epoch e every weight is e."""
    model = _model()
    callback.set_model(model)
    callback.on_train_begin()
    ran, lrs = 0, []
    for epoch, value in enumerate(values):
        model.set_weights([np.full(w.shape, epoch, w.dtype) for w in model.get_weights()])
        logs = {monitor: value}
        callback.on_epoch_end(epoch, logs)
        lrs.append(float(logs.get("learning_rate", -1.0)))
        ran = epoch + 1
        if model.stop_training:
            break
    callback.on_train_end()
    return {"epochs_run": ran, "stopped_epoch": int(getattr(callback, "stopped_epoch", -1)),
            "best_epoch": int(getattr(callback, "best_epoch", -1)),
            "weights_after": float(model.get_weights()[0].flat[0]), "learning_rates": lrs,
            "final_lr": float(np.asarray(model.optimizer.learning_rate))}


def _compare(got, want):
    assert got["epochs_run"] == want["epochs_run"]
    assert got["stopped_epoch"] == want["stopped_epoch"]
    assert got["best_epoch"] == want["best_epoch"]
    assert got["weights_after"] == want["weights_after"]
    np.testing.assert_allclose(got["learning_rates"], want["learning_rates"], rtol=1e-6)
    np.testing.assert_allclose(got["final_lr"], want["final_lr"], rtol=1e-6)


# auto_max_min_delta: mode="auto" on an accuracy takes min_delta's sign from the resolved
# direction (it once keyed on the `mode` argument and stopped later than Keras)
@pytest.mark.parametrize("name", sorted(EARLY_STOPPING))
def test_early_stopping_matches_tf_keras(name):
    kwargs, values = EARLY_STOPPING[name]
    got = _drive(callbacks.EarlyStopping(**kwargs), values, kwargs["monitor"])
    _compare(got, ORACLE["early_stopping"][name])


@pytest.mark.parametrize("name", sorted(REDUCE_LR))
def test_reduce_lr_on_plateau_matches_tf_keras(name):
    kwargs, values = REDUCE_LR[name]
    got = _drive(callbacks.ReduceLROnPlateau(**kwargs), values, kwargs["monitor"])
    want = dict(ORACLE["reduce_lr"][name], best_epoch=-1, stopped_epoch=-1)
    _compare(got, want)


def test_validation_split_with_shuffle_validates_on_the_last_rows_only():
    """Keras splits before shuffling: the validation rows are the last 25 % in every epoch,
    and they never reach a training step (a huge loss on them does not move the weights)."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 2)).astype(np.float32)
    y = rng.integers(0, 2, 40).astype(np.int32)
    x_poison = x.copy()
    x_poison[30:] = 1e4  # only in the validation part
    b = _model()
    hb = b.fit(x_poison, y, batch_size=10, epochs=2, validation_split=0.25, shuffle=True,
               verbose=0)
    np.testing.assert_allclose(
        hb.history["val_loss"][-1],
        b.evaluate(x_poison[30:], y[30:], verbose=0, return_dict=True)["loss"], rtol=1e-5)
    assert np.all(np.isfinite(np.concatenate([w.ravel() for w in b.get_weights()])))
    assert max(abs(w).max() for w in b.get_weights()) < 100.0  # 1e4 inputs never trained on
