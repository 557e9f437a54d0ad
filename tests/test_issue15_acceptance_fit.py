"""Issue 15 acceptance: compile(jit_compile=True) trains through one compiled step, fit's
shuffle reorders the batches each epoch (repeatably under a numpy seed), and the cross-entropy
losses' label_smoothing matches numpy eagerly and compiled."""
import numpy as np
import pytest

import tfx_core as tx
from tfx_core import keras


def _data(n=48):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    return x, (x @ np.array([1.0, -2.0, 0.5], np.float32) > 0).astype(np.int32)


def _model(**compile_kwargs):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
        2, kernel_initializer=keras.initializers.GlorotUniform(3))])
    model.compile(keras.optimizers.SGD(0.3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], **compile_kwargs)
    return model


def _batch_losses(model, x, y, **fit_kwargs):
    seen = []
    log = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append(float(logs["loss"])))
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[log], **fit_kwargs)
    return seen


def test_jit_compile_true_is_one_compiled_step_equal_to_eager():
    x, y = _data()
    compiled, eager = _model(jit_compile=True), _model(run_eagerly=True)
    a = _batch_losses(compiled, x, y, shuffle=False)
    b = _batch_losses(eager, x, y, shuffle=False)
    np.testing.assert_allclose(a, b, rtol=1e-5)
    assert compiled.train_function.experimental_get_tracing_count() == 1
    assert a[-1] < a[0]


def test_fit_shuffle_reorders_each_epoch_and_a_numpy_seed_repeats_it():
    x, y = _data()
    plain = _batch_losses(_model(), x, y, shuffle=False)
    np.random.seed(11)
    s1 = _batch_losses(_model(), x, y, shuffle=True)
    np.random.seed(11)
    s2 = _batch_losses(_model(), x, y, shuffle=True)
    assert s1 == s2
    assert s1 != plain
    # the same rows each epoch, another order: epoch 1's first batch is not epoch 0's
    assert s1[:6] != s1[6:]


EPS = 1e-7


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


@pytest.mark.parametrize("from_logits", [True, False])
def test_label_smoothing_vs_numpy(from_logits):
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    onehot = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 6)]
    ls = 0.2
    smooth = onehot * (1 - ls) + ls / 4
    log_p = _log_softmax(logits) if from_logits else np.log(np.clip(
        np.exp(_log_softmax(logits)), EPS, 1 - EPS))
    pred = logits if from_logits else np.exp(_log_softmax(logits))
    cce = keras.losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=ls)
    want = -(smooth * log_p).sum(-1).mean()
    np.testing.assert_allclose(float(cce(onehot, pred)), want, rtol=1e-5)
    np.testing.assert_allclose(float(tx.function(lambda a, b: cce(a, b))(onehot, pred)), want,
                               rtol=1e-5)

    z = rng.standard_normal((5, 3)).astype(np.float32)
    t = rng.integers(0, 2, (5, 3)).astype(np.float32)
    tb = t * (1 - ls) + 0.5 * ls
    p = 1 / (1 + np.exp(-z))
    pc = p if from_logits else np.clip(p, EPS, 1 - EPS)
    want_b = -(tb * np.log(pc) + (1 - tb) * np.log(1 - pc)).mean(-1).mean()
    bce = keras.losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=ls)
    arg = z if from_logits else p
    np.testing.assert_allclose(float(bce(t, arg)), want_b, rtol=1e-5)
    np.testing.assert_allclose(float(tx.function(lambda a, b: bce(a, b))(t, arg)), want_b,
                               rtol=1e-5)


def _seeded_run(seed, dropout):
    keras.utils.set_random_seed(seed)
    x, y = _data()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu"),
                              *([keras.layers.Dropout(0.3)] if dropout else []),
                              keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    first = [w.copy() for w in model.get_weights()]
    return first, _batch_losses(model, x, y, shuffle=True)


def _check_repeats(dropout):
    w1, l1 = _seeded_run(7, dropout)
    w2, l2 = _seeded_run(7, dropout)
    w3, l3 = _seeded_run(8, dropout)
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert l1 == l2
    assert not np.array_equal(w1[0], w3[0]) and l1 != l3


def test_set_random_seed_repeats_unseeded_init_and_shuffle():
    """keras.utils.set_random_seed: unseeded initializers and fit's shuffle repeat."""
    _check_repeats(dropout=False)
    init = keras.initializers.GlorotUniform()  # unseeded: a new draw per call
    assert not np.array_equal(init((4, 4)).numpy(), init((4, 4)).numpy())
    with pytest.raises(ValueError, match="integer"):
        keras.utils.set_random_seed(1.5)


def test_set_random_seed_repeats_unseeded_dropout():
    _check_repeats(dropout=True)
