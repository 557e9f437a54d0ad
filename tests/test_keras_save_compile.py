"""model.save keeps the compile settings (optimizer with a learning-rate schedule, loss and
metric functions, user classes, jit_compile, run_eagerly): a loaded model continues `fit`
bit-identically and evaluates the same; ModelCheckpoint(save_freq=N batches | "epoch")."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from runtime.artifact import ArtifactError
from tfx_core import keras
from tfx_core.keras import callbacks, layers

S = keras.optimizers.schedules


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    return x, rng.integers(0, 3, n).astype(np.int32)


def _model(**compile_args):
    init = keras.initializers.GlorotUniform
    m = keras.Sequential([keras.Input((4,)),
                          layers.Dense(6, activation="tanh", kernel_initializer=init(1)),
                          layers.Dense(3, kernel_initializer=init(2))])
    m.compile(**compile_args)
    return m


def _compile_section(path):
    return json.loads(zipfile.ZipFile(path).read("manifest.json"))["keras"]["compile"]


@keras.saving.register_keras_serializable(package="tests")
class InverseTime(S.LearningRateSchedule):
    """A user's schedule: lr / (1 + step / k)."""

    def __init__(self, lr, k):
        self.lr, self.k = lr, k

    def __call__(self, step):
        return self.lr / (1.0 + step / self.k)

    def get_config(self):
        return {"lr": self.lr, "k": self.k}


def _sparse_ce(y_true, y_pred):  # a user's loss function, passed in custom_objects
    return keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)


CASES = {  # compile arguments, made fresh for each model
    "exponential decay, Loss class, metric names": lambda: dict(
        optimizer=keras.optimizers.Adam(S.ExponentialDecay(0.05, 4, 0.5, staircase=True)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy", keras.metrics.SparseCategoricalAccuracy(name="acc2")],
        jit_compile=True),
    "cosine warmup, loss function, metric function": lambda: dict(
        optimizer=keras.optimizers.SGD(S.CosineDecay(0.0, 8, warmup_target=0.2,
                                                     warmup_steps=3), momentum=0.9),
        loss=_sparse_ce, metrics=[keras.losses.sparse_categorical_crossentropy]),
    "registered schedule, run_eagerly": lambda: dict(
        optimizer=keras.optimizers.RMSprop(InverseTime(0.01, 2.0)),
        loss="sparse_categorical_crossentropy", run_eagerly=True, jit_compile=False),
    "piecewise, Nadam with clipnorm": lambda: dict(
        optimizer=keras.optimizers.Nadam(S.PiecewiseConstantDecay([3, 6], [0.05, 0.02, 0.01]),
                                         clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["sparse_categorical_accuracy"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_saved_compile_settings_resume_bit_identically(case, tmp_path) -> None:
    x, y = _data()
    args = CASES[case]()
    whole, part = _model(**args), _model(**CASES[case]())
    whole.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)  # 9 steps
    part.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)  # 3 steps
    part.save(tmp_path / "m.tfx")
    loaded = keras.models.load_model(tmp_path / "m.tfx", custom_objects={
        "_sparse_ce": _sparse_ce})
    assert loaded.compiled and type(loaded.optimizer) is type(args["optimizer"])
    schedule = args["optimizer"]._learning_rate
    assert type(loaded.optimizer._learning_rate) is type(schedule)
    assert loaded.optimizer._learning_rate.get_config() == schedule.get_config()
    assert loaded.jit_compile == args.get("jit_compile", "auto")
    assert loaded.run_eagerly == args.get("run_eagerly", False)
    assert int(loaded.optimizer.iterations.numpy()) == 3
    np.testing.assert_array_equal(float(loaded.optimizer.learning_rate),
                                  float(part.optimizer.learning_rate))
    loaded.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)  # 6 more
    for u, v in zip(whole.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)
    assert loaded.metrics_names == whole.metrics_names
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == \
        whole.evaluate(x, y, verbose=0, return_dict=True)


def test_what_cannot_be_saved_warns_and_unknown_names_are_refused(tmp_path) -> None:
    x, y = _data()
    m = _model(optimizer=keras.optimizers.SGD(lambda step: 0.1 / (1.0 + step)),
               loss="sparse_categorical_crossentropy")
    m.fit(x, y, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="lambda"):
        m.save(tmp_path / "lambda.tfx")
    assert _compile_section(tmp_path / "lambda.tfx") is None
    assert not keras.models.load_model(tmp_path / "lambda.tfx").compiled

    m = _model(optimizer="adam", loss=_sparse_ce)
    m.save(tmp_path / "fn.tfx")
    assert _compile_section(tmp_path / "fn.tfx")["loss"] == {"class_name": "function",
                                                           "config": "_sparse_ce"}
    with pytest.raises(ArtifactError, match="could not locate function '_sparse_ce'.*"
                       "custom_objects"):
        keras.models.load_model(tmp_path / "fn.tfx")
    assert not keras.models.load_model(tmp_path / "fn.tfx", compile=False).compiled


# ------------------------------------------------------------------ ModelCheckpoint
class _Batches(callbacks.Callback):
    """The weights after every batch, by (epoch, batch)."""

    def __init__(self):
        super().__init__()
        self.epoch, self.weights = 0, {}

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.weights[self.epoch, batch] = (self.model.get_weights(), dict(logs))


def test_model_checkpoint_every_n_batches_across_epochs(tmp_path) -> None:
    x, y = _data(48)  # 3 batches of 16 per epoch
    m = _model(optimizer="sgd", loss="sparse_categorical_crossentropy")
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch}-{batch}-{loss:.4f}.ckpt"),
                                     save_weights_only=True, save_freq=2)
    record = _Batches()
    m.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[record, ckpt])
    # batches 1..9 overall; every 2nd: (epoch 1, batch 2), (2, 1), (2, 3), (3, 2)
    want = [(0, 1), (1, 0), (1, 2), (2, 1)]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"w-{e + 1}-{b + 1}-{record.weights[e, b][1]['loss']:.4f}.ckpt"
                           for e, b in want)
    for e, b in want:
        fresh = _model(optimizer="sgd", loss="sparse_categorical_crossentropy")
        fresh.load_weights(str(tmp_path / f"w-{e + 1}-{b + 1}-"
                                          f"{record.weights[e, b][1]['loss']:.4f}.ckpt"))
        for u, v in zip(fresh.get_weights(), record.weights[e, b][0], strict=True):
            np.testing.assert_array_equal(u, v)


def test_model_checkpoint_best_per_batch_with_threshold_and_full_model(tmp_path) -> None:
    x, y = _data(48)
    m = _model(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    record = _Batches()
    first = _model(optimizer="sgd", loss="sparse_categorical_crossentropy")
    threshold = float(first.evaluate(x[:16], y[:16], verbose=0))  # about the first loss
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "best.tfx"), monitor="loss",
                                     save_best_only=True, save_freq=1,
                                     initial_value_threshold=threshold - 0.05)
    m.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[record, ckpt])
    losses = {k: logs["loss"] for k, (_, logs) in record.weights.items()}
    assert min(losses.values()) < threshold - 0.05
    saved = [k for k in sorted(losses) if losses[k] < min(
        [threshold - 0.05] + [losses[j] for j in sorted(losses) if j < k])]
    assert saved and ckpt.best == losses[saved[-1]]
    loaded = keras.models.load_model(tmp_path / "best.tfx")
    for u, v in zip(loaded.get_weights(), record.weights[saved[-1]][0], strict=True):
        np.testing.assert_array_equal(u, v)
    # a threshold nothing beats: no file at all
    never = callbacks.ModelCheckpoint(str(tmp_path / "never.tfx"), monitor="loss",
                                      save_best_only=True, initial_value_threshold=0.0)
    m.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[never])
    assert not (tmp_path / "never.tfx").exists()


# ------------------------------------------------------------------ damaged files
def test_truncated_or_tampered_model_and_weights_files_are_refused(tmp_path) -> None:
    x, y = _data()
    m = _model(optimizer="adam", loss="sparse_categorical_crossentropy")
    m.fit(x, y, epochs=1, verbose=0)
    m.save(tmp_path / "good.tfx")
    m.save_weights(tmp_path / "good.weights")
    want = m.predict(x, verbose=0)
    m.fit(x, y, epochs=1, verbose=0)
    for name, save in (("new.tfx", m.save), ("new.weights", m.save_weights)):
        save(tmp_path / name)
        data = (tmp_path / name).read_bytes()
        damaged = {"truncated": data[: len(data) * 2 // 3],
                   "tampered": data[:100] + bytes([data[100] ^ 0x20]) + data[101:],
                   "empty": b""}
        for bad in damaged.values():
            (tmp_path / name).write_bytes(bad)
            with pytest.raises(ArtifactError):
                if name.endswith(".tfx"):
                    keras.models.load_model(tmp_path / name)
                else:
                    _model(optimizer="adam", loss="sparse_categorical_crossentropy") \
                        .load_weights(tmp_path / name)
    # the earlier good files still load, to the earlier values
    np.testing.assert_array_equal(
        keras.models.load_model(tmp_path / "good.tfx").predict(x, verbose=0), want)
    fresh = _model(optimizer="adam", loss="sparse_categorical_crossentropy")
    fresh.load_weights(tmp_path / "good.weights")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), want)


@keras.saving.register_keras_serializable(package="tests")
class Tiny(keras.Model):
    """A user's registered subclassed model."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(5, activation="relu",
                                   kernel_initializer=keras.initializers.GlorotUniform(3))
        self.out = layers.Dense(units, kernel_initializer=keras.initializers.GlorotUniform(4))

    def call(self, inputs, training=None):
        return self.out(self.hidden(inputs))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="tests")
class ScaledCE(keras.losses.Loss):
    """A user's registered loss class with a config argument."""

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * keras.losses.sparse_categorical_crossentropy(y_true, y_pred,
                                                                         from_logits=True)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


class Err(keras.metrics.SparseCategoricalAccuracy):
    """A user's metric class, found through custom_object_scope (not registered)."""


def test_registered_model_and_loss_and_scoped_metric_resume(tmp_path) -> None:
    x, y = _data()

    def make():
        m = Tiny(units=3)
        m.compile(keras.optimizers.Adam(S.ExponentialDecay(0.02, 2, 0.7)), ScaledCE(0.5),
                  metrics=[Err(name="err")])
        return m

    whole, part = make(), make()
    whole.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    part.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    part.save(tmp_path / "t.tfx")
    section = _compile_section(tmp_path / "t.tfx")
    assert section["loss"]["registered_name"] == "tests>ScaledCE"
    with pytest.raises(ArtifactError, match="could not locate class 'Err'"):
        keras.models.load_model(tmp_path / "t.tfx")
    with keras.saving.custom_object_scope({"Err": Err}):
        loaded = keras.models.load_model(tmp_path / "t.tfx")
    assert type(loaded) is Tiny and loaded.units == 3 and loaded.loss.scale == 0.5
    loaded.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for u, v in zip(whole.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == \
        whole.evaluate(x, y, verbose=0, return_dict=True)


def test_multi_output_compile_arguments_survive_save(tmp_path):
    # per-output losses, loss_weights, metrics and weighted_metrics (lists and dicts) round-trip
    init = keras.initializers.GlorotUniform
    inp = keras.Input((4,))
    h = layers.Dense(5, activation="relu", kernel_initializer=init(3))(inp)
    cls = layers.Dense(3, name="cls", kernel_initializer=init(4))(h)
    reg = layers.Dense(1, name="reg", kernel_initializer=init(5))(h)
    model = keras.Model(inp, [cls, reg])
    model.compile(optimizer="adam",
                  loss={"cls": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                        "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.25},
                  metrics={"cls": ["accuracy"], "reg": [keras.metrics.MeanAbsoluteError()]},
                  weighted_metrics=[[], ["mse"]])
    x, y = _data()
    targets = {"cls": y, "reg": x[:, :1]}
    weights = np.linspace(0.5, 1.5, len(x)).astype(np.float32)
    model.fit(x, targets, sample_weight=weights, batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "multi.tfx")
    model.save(path)
    section = _compile_section(path)
    assert section["loss_weights"] == {"by_output": {"cls": 1.0, "reg": 0.25}}
    loaded = keras.models.load_model(path)
    before = model.evaluate(x, targets, sample_weight=weights, verbose=0, return_dict=True)
    after = loaded.evaluate(x, targets, sample_weight=weights, verbose=0, return_dict=True)
    assert before.keys() == after.keys() and {"reg_mean_absolute_error", "reg_mse"} <= set(after)
    for k in before:
        np.testing.assert_allclose(after[k], before[k], rtol=1e-6)
    for m in (model, loaded):
        m.fit(x, targets, sample_weight=weights, batch_size=16, epochs=1, shuffle=False,
              verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_damaged_per_output_compile_section_is_refused(tmp_path):
    model = _model(optimizer="sgd", loss="sparse_categorical_crossentropy",
                   loss_weights=[0.5], metrics=["accuracy"])
    x, y = _data(16)
    model.fit(x, y, epochs=1, verbose=0)
    good, bad = str(tmp_path / "good.tfx"), str(tmp_path / "bad.tfx")
    model.save(good)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["keras"]["compile"]["loss_weights"] = {"list": [{"oops": 1}]}
                data = json.dumps(manifest).encode()
            dst.writestr(item, data)
    with pytest.raises(ArtifactError, match="loss_weights"):
        keras.models.load_model(bad)
    assert keras.models.load_model(good).loss_weights == [0.5]
