"""tx.keras losses and metrics vs numpy, eagerly and inside @tx.function."""
import numpy as np
import pytest

import tfx_core as tx
from tfx_core import keras
from tfx_core.keras import losses, metrics

RNG = np.random.default_rng(2)
LOGITS = RNG.standard_normal((6, 4)).astype(np.float32)
LABELS = np.array([0, 3, 1, 1, 2, 0])
ONEHOT = np.eye(4, dtype=np.float32)[LABELS]
PRED = RNG.standard_normal((6, 3)).astype(np.float32)
TRUE = RNG.standard_normal((6, 3)).astype(np.float32)
BIN_LOGITS = RNG.standard_normal((6, 1)).astype(np.float32)
BIN_TRUE = np.array([[0], [1], [1], [0], [1], [0]], np.float32)
EPS = 1e-7


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _huber(t, p, d=1.0):
    e = np.abs(p - t)
    return np.where(e <= d, 0.5 * e ** 2, d * e - 0.5 * d ** 2).mean(-1)


def _bce(t, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)


PROBS = np.exp(_log_softmax(LOGITS))
CASES = [
    ("sparse_logits", losses.SparseCategoricalCrossentropy(from_logits=True), LABELS, LOGITS,
     -_log_softmax(LOGITS)[np.arange(6), LABELS]),
    ("sparse_probs", "sparse_categorical_crossentropy", LABELS, PROBS,
     -np.log(np.clip(PROBS, EPS, 1 - EPS))[np.arange(6), LABELS]),
    ("sparse_column_labels", losses.SparseCategoricalCrossentropy(from_logits=True),
     LABELS[:, None], LOGITS, -_log_softmax(LOGITS)[np.arange(6), LABELS]),
    ("categorical_logits", losses.CategoricalCrossentropy(from_logits=True), ONEHOT, LOGITS,
     -(ONEHOT * _log_softmax(LOGITS)).sum(-1)),
    ("categorical_probs", "categorical_crossentropy", ONEHOT, PROBS,
     -(ONEHOT * np.log(np.clip(PROBS, EPS, 1 - EPS))).sum(-1)),
    ("binary_logits", losses.BinaryCrossentropy(from_logits=True), BIN_TRUE, BIN_LOGITS,
     _bce(BIN_TRUE, _sigmoid(BIN_LOGITS))),
    ("binary_probs", "binary_crossentropy", BIN_TRUE, _sigmoid(BIN_LOGITS),
     _bce(BIN_TRUE, _sigmoid(BIN_LOGITS))),
    ("mse", "mse", TRUE, PRED, ((PRED - TRUE) ** 2).mean(-1)),
    ("mae", losses.MeanAbsoluteError(), TRUE, PRED, np.abs(PRED - TRUE).mean(-1)),
    ("huber", "huber", TRUE, PRED, _huber(TRUE, PRED)),
    ("huber_delta", losses.Huber(delta=0.3), TRUE, PRED, _huber(TRUE, PRED, 0.3)),
]


@pytest.mark.parametrize("name,loss,y,p,per_sample", CASES, ids=[c[0] for c in CASES])
def test_losses_match_numpy(name, loss, y, p, per_sample):
    fn = losses.get(loss)
    sw = np.linspace(0.5, 1.5, 6).astype(np.float32)
    expected = per_sample.mean()
    np.testing.assert_allclose(float(fn(y, p)), expected, rtol=1e-5, atol=1e-6)
    compiled = tx.function(lambda a, b: fn(a, b))(y, p)
    np.testing.assert_allclose(float(compiled), expected, rtol=1e-5, atol=1e-6)
    # Keras 3's sum_over_batch_size: weighted sum / number of samples
    np.testing.assert_allclose(float(fn(y, p, sample_weight=sw)), (per_sample * sw).sum() / 6,
                               rtol=1e-5, atol=1e-6)


def test_loss_names_and_errors():
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    assert losses.get("categorical_crossentropy").name == "categorical_crossentropy"
    custom = losses.get(lambda t, p: tx.reduce_sum(p - t, axis=-1))
    np.testing.assert_allclose(float(custom(TRUE, PRED)), (PRED - TRUE).sum(-1).mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="Could not interpret loss"):
        losses.get("nope")
    none = losses.MeanSquaredError(reduction="none")
    assert np.asarray(none(TRUE, PRED)).shape == (6,)


METRIC_CASES = [
    ("sparse_acc", metrics.SparseCategoricalAccuracy(), LABELS, LOGITS,
     (LOGITS.argmax(-1) == LABELS).mean()),
    ("cat_acc", metrics.CategoricalAccuracy(), ONEHOT, LOGITS,
     (LOGITS.argmax(-1) == LABELS).mean()),
    ("bin_acc", metrics.BinaryAccuracy(), BIN_TRUE, _sigmoid(BIN_LOGITS),
     ((_sigmoid(BIN_LOGITS) > 0.5) == BIN_TRUE).mean()),
    ("acc", metrics.Accuracy(), LABELS, LOGITS.argmax(-1), (LOGITS.argmax(-1) == LABELS).mean()),
    ("mse", metrics.MeanSquaredError(), TRUE, PRED, ((PRED - TRUE) ** 2).mean()),
]


@pytest.mark.parametrize("name,metric,y,p,expected", METRIC_CASES,
                         ids=[c[0] for c in METRIC_CASES])
def test_metrics_accumulate_eagerly_and_compiled(name, metric, y, p, expected):
    metric.update_state(y[:3], p[:3])  # eagerly
    update = tx.function(lambda a, b: metric.update_state(a, b))
    update(y[3:], p[3:])  # inside a compiled function: the state variables are updated
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_one_dimensional_labels_meet_a_single_output_column_elementwise():
    # Dense(1) on targets of shape (batch,): Keras's loss classes align the ranks first, so the
    # loss is per sample, not a (batch, batch) broadcast
    y = BIN_TRUE[:, 0]
    prob = 1 / (1 + np.exp(-BIN_LOGITS))
    bce = -(y[:, None] * np.log(prob) + (1 - y[:, None]) * np.log(1 - prob)).mean()
    mse = ((prob - y[:, None]) ** 2).mean()
    for loss, want in [(losses.BinaryCrossentropy(), bce), (losses.MeanSquaredError(), mse)]:
        np.testing.assert_allclose(float(loss(y, prob)), want, rtol=1e-5)
        np.testing.assert_allclose(float(tx.function(loss)(y, prob)), want, rtol=1e-5)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    p_model = model.predict(x, verbose=0)
    want = -(y[:, None] * np.log(p_model) + (1 - y[:, None]) * np.log(1 - p_model)).mean()
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), want, rtol=1e-4)


def test_mean_weighted():
    m = metrics.Mean()
    m.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 0.0, 2.0])
    m.update_state(5.0)
    np.testing.assert_allclose(float(m.result()), (1 + 6 + 5) / 4)


def test_accuracy_string_resolution():
    def kind(y, p, loss=None):
        return type(metrics.get("accuracy", tx.constant(y), tx.constant(p), loss)).__name__

    assert kind(LABELS, LOGITS) == "SparseCategoricalAccuracy"
    assert kind(LABELS[:, None], LOGITS) == "SparseCategoricalAccuracy"
    assert kind(ONEHOT, LOGITS) == "CategoricalAccuracy"
    assert kind(BIN_TRUE, BIN_LOGITS) == "BinaryAccuracy"
    assert kind(ONEHOT, LOGITS, losses.BinaryCrossentropy()) == "BinaryAccuracy"
    assert metrics.get("acc", tx.constant(LABELS), tx.constant(LOGITS)).name == "acc"
    with pytest.raises(ValueError, match="Could not interpret metric"):
        metrics.get("precision_at_7")


def test_optimizer_and_activation_names():
    assert isinstance(keras.optimizers.get("adam"), keras.optimizers.Adam)
    assert isinstance(keras.optimizers.get("SGD"), keras.optimizers.SGD)
    assert keras.optimizers.Adam is tx.optimizers.Adam
    with pytest.raises(ValueError, match="Could not interpret optimizer"):
        keras.optimizers.get("adamax2")
    x = np.linspace(-2, 2, 9).astype(np.float32)
    for name, ref in (("selu", 1.0507009873554805 * np.where(
            x > 0, x, 1.6732632423543772 * (np.exp(x) - 1))), ("linear", x),
                      ("elu", np.where(x > 0, x, np.exp(x) - 1))):
        np.testing.assert_allclose(np.asarray(keras.activations.get(name)(tx.constant(x))), ref,
                                   rtol=1e-5, atol=1e-6)
