"""model.save / load_model / save_weights / load_weights, and deferred checkpoint restoration."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import tfx_core as tx
from runtime.artifact import ArtifactError
from tfx_core import keras


def _data(n: int = 48):
    rng = np.random.default_rng(1)
    return (rng.standard_normal((n, 5)).astype(np.float32),
            rng.integers(0, 3, n).astype(np.int32))


def _sequential(with_input: bool = True) -> keras.Sequential:
    layers = [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)]
    m = keras.Sequential(([keras.Input((5,))] if with_input else []) + layers)
    if with_input:
        m.compile(keras.optimizers.Adam(1e-2),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return m


def _forward(m, x):
    k1, b1, k2, b2 = m.get_weights()
    return np.maximum(x @ k1 + b1, 0) @ k2 + b2


def test_save_load_resumes_training_bit_identically(tmp_path) -> None:
    x, y = _data()
    a, b = _sequential(), _sequential()
    b.set_weights(a.get_weights())
    a.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)  # N + M = 9 steps
    b.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)  # N = 3 steps
    path = tmp_path / "m.tfx"
    b.save(path)
    c = keras.models.load_model(path)
    assert type(c) is keras.Sequential and c.compiled
    assert type(c.optimizer) is keras.optimizers.Adam and c.metrics_names == ["loss"]
    np.testing.assert_array_equal(c.predict(x, verbose=0), b.predict(x, verbose=0))
    np.testing.assert_allclose(c.predict(x, verbose=0), _forward(b, x), rtol=1e-5, atol=1e-5)
    assert int(c.optimizer.iterations.numpy()) == 3
    c.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)  # M = 6 more
    for u, v in zip(a.get_weights(), c.get_weights()):
        np.testing.assert_array_equal(u, v)
    assert c.evaluate(x, y, verbose=0) == a.evaluate(x, y, verbose=0)


def test_saved_file_serves_without_keras(tmp_path) -> None:
    x, y = _data()
    m = _sequential()
    m.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.tfx"
    m.save(path)
    loaded = tx.saved_model.load(path)
    serve = loaded.signatures["serving_default"]
    for n in (7, 48):  # the batch dimension is None in the signature
        np.testing.assert_allclose(serve(x[:n]).numpy(), _forward(m, x[:n]), rtol=1e-5,
                                   atol=1e-5)
    with pytest.raises(FileExistsError):
        m.save(path, overwrite=False)


def _rewrite(path, change) -> None:
    """Rewrite the zip at `path` with `change(name, data) -> data` applied to each member."""
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for info, data in items:
            z.writestr(info, change(info.filename, data))


def test_tampered_files_are_refused(tmp_path) -> None:
    x, y = _data()
    m = _sequential()
    m.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.tfx"
    m.save(path)
    original = path.read_bytes()

    def flip(name, data):
        return data[:-3] + bytes([data[-3] ^ 1]) + data[-2:] if name == "keras/checkpoint" \
            else data

    _rewrite(path, flip)
    with pytest.raises(ArtifactError, match="keras/checkpoint"):
        keras.models.load_model(path)

    def manifest(field, value):
        def change(name, data):
            if name != "manifest.json":
                return data
            doc = json.loads(data)
            doc["keras"][field] = value
            return json.dumps(doc).encode()
        return change

    path.write_bytes(original)
    _rewrite(path, manifest("model", {"class_name": "Popen", "config": {}}))
    with pytest.raises(ValueError, match="custom_objects"):
        keras.models.load_model(path)
    path.write_bytes(original)
    bad_opt = {"optimizer": {"class_name": "get", "config": {}}, "loss": None, "metrics": []}
    _rewrite(path, manifest("compile", bad_opt))
    with pytest.raises(ArtifactError, match="could not locate class 'get'"):
        keras.models.load_model(path)
    path.write_bytes(original)
    graph = {"layers": [{"class_name": "Popen", "config": {}}], "nodes": [], "inputs": None,
             "outputs": None}
    _rewrite(path, manifest("model", {"class_name": "Functional", "config": graph}))
    with pytest.raises(ArtifactError, match="unknown layer class 'Popen'"):
        keras.models.load_model(path)
    path.write_bytes(original)
    _rewrite(path, manifest("format", 99))
    with pytest.raises(ArtifactError, match="keras"):
        keras.models.load_model(path)


def test_load_without_compile_and_plain_saved_model(tmp_path) -> None:
    x, y = _data()
    m = _sequential()
    m.fit(x, y, epochs=1, verbose=0)
    m.save(tmp_path / "m.tfx")
    c = keras.models.load_model(tmp_path / "m.tfx", compile=False)
    assert not c.compiled
    np.testing.assert_array_equal(c.predict(x, verbose=0), m.predict(x, verbose=0))
    f = tx.function(lambda t: t * 2.0, input_signature=[tx.TensorSpec([None], tx.float32)])
    tx.saved_model.save(f, str(tmp_path / "f.tfx"))
    with pytest.raises(ValueError, match="tx.saved_model.load"):
        keras.models.load_model(tmp_path / "f.tfx")


class Tiny(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(4, activation="tanh")
        self.out = keras.layers.Dense(1)

    def call(self, inputs, training=None):
        return self.out(self.hidden(inputs))


def test_subclassed_model_needs_custom_objects(tmp_path) -> None:
    x = np.random.default_rng(2).standard_normal((10, 3)).astype(np.float32)
    m = Tiny()
    with pytest.raises(ValueError, match="not built"):
        m.save(tmp_path / "t.tfx")
    m.compile("sgd", "mse")
    m.fit(x, x[:, :1], epochs=1, verbose=0)
    m.save(tmp_path / "t.tfx")
    with pytest.raises(ValueError, match="custom_objects"):
        keras.models.load_model(tmp_path / "t.tfx")
    c = keras.models.load_model(tmp_path / "t.tfx", custom_objects={"Tiny": Tiny})
    np.testing.assert_array_equal(c.predict(x, verbose=0), m.predict(x, verbose=0))
    assert int(c.optimizer.iterations.numpy()) == 1


def test_functional_model_with_two_inputs_and_a_shared_layer(tmp_path) -> None:
    rng = np.random.default_rng(3)
    xa, xb = (rng.standard_normal((24, 3)).astype(np.float32) for _ in range(2))
    y = rng.standard_normal((24, 1)).astype(np.float32)
    a_in, b_in = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = keras.layers.Dense(4, activation="tanh")
    merged = keras.layers.Concatenate(axis=-1)([shared(a_in), shared(b_in)])
    f = keras.Model([a_in, b_in], keras.layers.Dense(1)(merged))
    f.compile(keras.optimizers.RMSprop(0.01), "mse")
    f.fit([xa, xb], y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    f.save(tmp_path / "f.tfx")
    served = tx.saved_model.load(tmp_path / "f.tfx").signatures["serving_default"]([xa, xb])
    want = f.predict([xa, xb], verbose=0)
    np.testing.assert_allclose(served.numpy(), want, rtol=1e-6)
    k, b, k2, b2 = f.get_weights()  # numpy reference of the graph
    ref = np.concatenate([np.tanh(xa @ k + b), np.tanh(xb @ k + b)], -1) @ k2 + b2
    np.testing.assert_allclose(want, ref, rtol=1e-5, atol=1e-5)
    c = keras.models.load_model(tmp_path / "f.tfx")
    assert len(c.layers) == len(f.layers) and type(c.optimizer) is keras.optimizers.RMSprop
    np.testing.assert_array_equal(c.predict([xa, xb], verbose=0), want)
    f.fit([xa, xb], y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    c.fit([xa, xb], y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for u, v in zip(f.get_weights(), c.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_save_weights_load_weights_deferred(tmp_path) -> None:
    x, y = _data()
    m = _sequential()
    m.fit(x, y, epochs=1, verbose=0)
    m.save_weights(tmp_path / "w.ckpt")
    fresh = _sequential(with_input=False)  # unbuilt: no weights exist yet
    status = fresh.load_weights(tmp_path / "w.ckpt")
    assert "model/layers/0/kernel" in status.pending
    out = fresh.predict(x, verbose=0)  # building it applies the saved values
    np.testing.assert_array_equal(out, m.predict(x, verbose=0))
    for u, v in zip(fresh.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(u, v)
    status.assert_existing_objects_matched()


def test_checkpoint_restore_before_build_applies_when_built(tmp_path) -> None:
    x, _ = _data(4)
    m = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(3)])
    path = tx.train.Checkpoint(model=m).write(str(tmp_path / "ck"))
    fresh = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    status = tx.train.Checkpoint(model=fresh).restore(path)
    with pytest.raises(AssertionError, match="matched no object"):
        status.assert_consumed()
    fresh(x)  # the first call builds the layers: deferred values replace the initial ones
    status.assert_consumed()
    for u, v in zip(fresh.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_allclose(fresh(x).numpy(), _forward(m, x), rtol=1e-5, atol=1e-5)


def test_cnn_with_batchnorm_and_momentum_resumes_bit_identically(tmp_path) -> None:
    # non-trainable weights (moving statistics) and SGD momentum slots travel too
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 32).astype(np.int32)

    def make():
        m = keras.Sequential([
            keras.Input((8, 8)), keras.layers.Reshape((8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.BatchNormalization(),
            keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dense(3)])
        m.compile(keras.optimizers.SGD(0.1, momentum=0.9),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return m

    a, b = make(), make()
    b.set_weights(a.get_weights())
    a.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    b.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    b.save(tmp_path / "cnn.tfx")
    c = keras.models.load_model(tmp_path / "cnn.tfx")
    np.testing.assert_array_equal(c.predict(x, verbose=0), b.predict(x, verbose=0))
    assert c.optimizer.momentum == 0.9
    c.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for u, v in zip(a.get_weights(), c.get_weights()):
        np.testing.assert_array_equal(u, v)
