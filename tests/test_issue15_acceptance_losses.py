"""Issue 15 acceptance: losses vs tf.keras 3's recorded values, eagerly and compiled — sparse
cross-entropy with ignore_class, the Keras 3 reductions (mean, mean_with_sample_weight),
per-sample weights on per-step losses, binary cross-entropy over axis 1; `axis` vs the
same loss on moved axes; ignore_class inside fit."""
import json
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.keras_loss_cases import CASES, inputs, make
from tfx_core import keras

ORACLE = json.loads((Path(__file__).parent / "oracles" / "keras_losses.json").read_text())
DATA = inputs()


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_matches_tf_keras(name):
    kwargs, t, p, w = CASES[name]
    loss = make(keras.losses, kwargs)
    args = (DATA[t], DATA[p]) + (() if w is None else (DATA[w],))
    want = np.asarray(ORACLE["cases"][name])
    np.testing.assert_allclose(np.asarray(loss(*args)), want, rtol=1e-5, atol=1e-6)
    compiled = tx.function(lambda *a: loss(*a))(*args)
    np.testing.assert_allclose(np.asarray(compiled), want, rtol=1e-5, atol=1e-6)


def test_axis_equals_the_last_axis_case():
    logits, labels = DATA["logits"], np.array([[0, 1, 2], [3, 1, 0]], np.int32)
    moved = np.moveaxis(logits, 2, 1).copy()  # classes on axis 1
    for from_logits in (True, False):
        pred = logits if from_logits else DATA["probs"]
        pred_moved = moved if from_logits else np.moveaxis(DATA["probs"], 2, 1).copy()
        want = float(keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)(
            labels, pred))
        got = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, axis=1)(
            labels, pred_moved)
        np.testing.assert_allclose(float(got), want, rtol=1e-5)


def test_ignore_class_in_fit_never_learns_the_ignored_rows():
    """Rows labelled -1 contribute nothing: poisoning their inputs changes nothing."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    y[::4] = -1
    x_poison = x.copy()
    x_poison[::4] = 1e3

    def run(inputs):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
            2, kernel_initializer=keras.initializers.GlorotUniform(0))])
        model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=-1))
        history = model.fit(inputs, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        return history.history["loss"], model.get_weights()

    (la, wa), (lb, wb) = run(x), run(x_poison)
    np.testing.assert_allclose(la, lb, rtol=1e-6)
    for a, b in zip(wa, wb):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert keras.losses.SparseCategoricalCrossentropy(ignore_class=3).get_config()[
        "ignore_class"] == 3
