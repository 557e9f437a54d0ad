"""Record tf.keras 3 (tensorflow-cpu 2.21) callback behaviour for the issue-15 acceptance tests.

Run once: `python -m tests.oracles.record_keras_callbacks` writes
tests/oracles/keras_callbacks.json: the hook order of fit (with validation), evaluate and predict
seen by a recording callback, and EarlyStopping / ReduceLROnPlateau decisions on scripted
monitor values (the cases are in keras_callback_cases.py, shared with the tests). Tests never
import TensorFlow.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from tests.oracles.keras_callback_cases import EARLY_STOPPING, REDUCE_LR, order_data


def _recorder(keras):
    class Recorder(keras.callbacks.Callback):
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

    return Recorder()


def _model(keras):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _order(keras) -> dict:
    x, y, xv, yv = order_data()
    out = {}
    rec = _recorder(keras)
    _model(keras).fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[rec],
                      validation_data=(xv, yv))
    out["fit"] = rec.events
    rec = _recorder(keras)
    _model(keras).fit(x, y, batch_size=4, epochs=3, initial_epoch=1, verbose=0, callbacks=[rec])
    out["fit_initial_epoch"] = rec.events
    keys = {}
    spy = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: keys.setdefault("train_batch", sorted(logs)),
        on_test_batch_end=lambda b, logs: keys.setdefault("test_batch", sorted(logs)),
        on_epoch_end=lambda e, logs: keys.setdefault("epoch", sorted(logs)))
    history = _model(keras).fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[spy],
                                validation_data=(xv, yv))
    out["log_keys"] = {**keys, "history": sorted(history.history)}
    rec = _recorder(keras)
    _model(keras).evaluate(x, y, batch_size=4, verbose=0, callbacks=[rec])
    out["evaluate"] = rec.events
    rec = _recorder(keras)
    _model(keras).predict(x, batch_size=4, verbose=0, callbacks=[rec])
    out["predict"] = rec.events
    return out


def _drive(keras, callback, values, monitor) -> dict:
    """Feed scripted epoch logs; before epoch e the model's weights are all e."""
    model = _model(keras)
    model.evaluate(np.zeros((2, 2), np.float32), np.zeros(2, np.int32), verbose=0)
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


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    out = {"tensorflow": tf.__version__, "keras": keras.__version__, "order": _order(keras),
           "early_stopping": {}, "reduce_lr": {}}
    for name, (kwargs, values) in EARLY_STOPPING.items():
        cb = keras.callbacks.EarlyStopping(**kwargs)
        out["early_stopping"][name] = _drive(keras, cb, values, kwargs["monitor"])
    for name, (kwargs, values) in REDUCE_LR.items():
        cb = keras.callbacks.ReduceLROnPlateau(**kwargs)
        out["reduce_lr"][name] = _drive(keras, cb, values, kwargs["monitor"])
    path = Path(__file__).with_name("keras_callbacks.json")
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
