"""KLDivergence, CosineSimilarity vs numpy; top-k accuracies, Precision, Recall and AUC vs
tf.keras 3 (tests/oracles/keras_more.json), eagerly, compiled and inside `fit`/`evaluate`."""
import json
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tfx_core import keras
from tfx_core.keras import losses, metrics

ORACLE = json.loads((Path(__file__).parents[1] / "oracles" / "keras_more.json").read_text())
INPUTS = ORACLE["inputs"]
Y, P, W = (np.array(INPUTS[k], np.float32) for k in ("y_true", "y_score", "weights"))
LABELS = np.array(INPUTS["labels"])
LOGITS = np.array(INPUTS["logits"], np.float32)
RNG = np.random.default_rng(5)
DIST_T = RNG.dirichlet(np.ones(4), 6).astype(np.float32)
DIST_P = RNG.dirichlet(np.ones(4), 6).astype(np.float32)
DIST_T[0, 1] = 0.0  # a zero probability: clipped to eps, its term is 0 * log(...)
VEC_T = RNG.standard_normal((6, 3)).astype(np.float32)
VEC_P = RNG.standard_normal((6, 3)).astype(np.float32)
VEC_P[2] = 0.0  # a zero vector: similarity 0


def _kld(t, p):
    t, p = np.clip(t, 1e-7, 1), np.clip(p, 1e-7, 1)
    return (t * np.log(t / p)).sum(-1)


def _neg_cos(t, p):
    def unit(v):
        n = np.linalg.norm(v, axis=-1, keepdims=True)
        return v / np.where(n == 0, 1, n)
    return -(unit(t) * unit(p)).sum(-1)


@pytest.mark.parametrize("loss,t,p,per_sample", [
    ("kl_divergence", DIST_T, DIST_P, _kld(DIST_T, DIST_P)),
    ("kld", DIST_T, DIST_P, _kld(DIST_T, DIST_P)),
    (losses.KLDivergence(), DIST_T, DIST_P, _kld(DIST_T, DIST_P)),
    ("cosine_similarity", VEC_T, VEC_P, _neg_cos(VEC_T, VEC_P)),
    (losses.CosineSimilarity(axis=0), VEC_T, VEC_P, _neg_cos(VEC_T.T, VEC_P.T)),
], ids=["kld_name", "kld_short", "kld_class", "cosine_name", "cosine_axis0"])
def test_new_losses_match_numpy(loss, t, p, per_sample):
    fn = losses.get(loss)
    np.testing.assert_allclose(float(fn(t, p)), per_sample.mean(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(tx.function(lambda a, b: fn(a, b))(t, p)),
                               per_sample.mean(), rtol=1e-5, atol=1e-6)
    none = type(fn).from_config({**fn.get_config(), "reduction": "none"})
    assert np.asarray(none(t, p)).shape == per_sample.shape


def test_names_and_class_names():
    for name, cls in (("KLDivergence", losses.KLDivergence), ("kld", losses.KLDivergence),
                      ("CosineSimilarity", losses.CosineSimilarity)):
        assert type(losses.get(name)) is cls
    for name, cls in (("AUC", metrics.AUC), ("auc", metrics.AUC),
                      ("Precision", metrics.Precision), ("recall", metrics.Recall),
                      ("TopKCategoricalAccuracy", metrics.TopKCategoricalAccuracy),
                      ("sparse_top_k_categorical_accuracy",
                       metrics.SparseTopKCategoricalAccuracy)):
        m = metrics.get(name)
        assert type(m) is cls and m.name == name


def test_cosine_similarity_sign_and_parallel_vectors():
    """Keras 3's sign: parallel vectors give -1 (the loss is minimized by alignment)."""
    v = VEC_T[:2]
    np.testing.assert_allclose(np.asarray(losses.cosine_similarity(v, 3 * v)), [-1, -1],
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(losses.cosine_similarity(v, -v)), [1, 1], rtol=1e-6)


def _feed(metric, y, p, sw=None):
    """First 25 samples eagerly, the rest inside a compiled update (state accumulates)."""
    metric.update_state(y[:25], p[:25], sample_weight=None if sw is None else sw[:25])
    rest = np.ones(len(y) - 25, np.float32) if sw is None else sw[25:]
    tx.function(lambda a, b, c: metric.update_state(a, b, sample_weight=c))(y[25:], p[25:],
                                                                            rest)
    return float(metric.result())


ORACLE_CASES = {
    "auc_roc": (lambda: metrics.AUC(), False),
    "auc_pr": (lambda: metrics.AUC(curve="PR"), False),
    "auc_roc_50": (lambda: metrics.AUC(num_thresholds=50), False),
    "auc_roc_weighted": (lambda: metrics.AUC(), True),
    "auc_pr_weighted": (lambda: metrics.AUC(curve="pr"), True),
    "precision": (lambda: metrics.Precision(), False),
    "recall": (lambda: metrics.Recall(), False),
    "precision_03": (lambda: metrics.Precision(thresholds=0.3), True),
    "recall_07": (lambda: metrics.Recall(thresholds=0.7), True),
}


@pytest.mark.parametrize("name", sorted(ORACLE_CASES))
def test_confusion_metrics_match_keras(name):
    make, weighted = ORACLE_CASES[name]
    m = make()
    got = _feed(m, Y, P, W if weighted else None)
    np.testing.assert_allclose(got, ORACLE["metrics"][name], rtol=1e-5, atol=1e-6)
    m.reset_state()
    assert float(m.result()) == 0.0


def test_precision_recall_vs_numpy_and_threshold_lists():
    pred = P > 0.5
    tp, fp, fn = ((pred & (Y == 1)).sum(), (pred & (Y == 0)).sum(), (~pred & (Y == 1)).sum())
    assert np.isclose(ORACLE["metrics"]["precision"], tp / (tp + fp))
    assert np.isclose(ORACLE["metrics"]["recall"], tp / (tp + fn))
    m = metrics.Precision(thresholds=[0.3, 0.5, 0.99])
    m.update_state(Y, P)
    want = [(Y[P > t] == 1).mean() if (P > t).any() else 0.0 for t in (0.3, 0.5, 0.99)]
    np.testing.assert_allclose(np.asarray(m.result()), want, rtol=1e-6)


def test_confusion_metric_configs_round_trip():
    for m in (metrics.Precision(), metrics.Recall(thresholds=[0.2, 0.7]),
              metrics.AUC(num_thresholds=20, curve="PR", name="pr")):
        again = type(m).from_config(m.get_config())
        assert again.get_config() == m.get_config()
        again.update_state(Y, P)
        m.update_state(Y, P)
        np.testing.assert_array_equal(np.asarray(again.result()), np.asarray(m.result()))
    assert np.asarray(metrics.Precision.from_config(metrics.Precision().get_config())
                      .result()).shape == ()


def test_auc_from_logits_equals_auc_of_probabilities():
    logits = np.log(P / (1 - P))
    a, b = metrics.AUC(from_logits=True), metrics.AUC()
    a.update_state(Y, logits)
    b.update_state(Y, P)
    np.testing.assert_allclose(float(a.result()), ORACLE["metrics"]["auc_roc"], rtol=1e-5)
    np.testing.assert_allclose(float(a.result()), float(b.result()), rtol=1e-6)


def test_auc_perfect_and_reversed_ranking():
    y = np.array([0, 0, 1, 1], np.float32)
    for p, want in ((np.array([0.1, 0.2, 0.8, 0.9], np.float32), 1.0),
                    (np.array([0.9, 0.8, 0.2, 0.1], np.float32), 0.0)):
        m = metrics.AUC()
        m.update_state(y, p)
        np.testing.assert_allclose(float(m.result()), want, atol=1e-6)


def _in_top_k(labels, logits, k):
    true = logits[np.arange(len(labels)), labels]
    return (np.sort(logits, -1)[:, -k][None] <= true).ravel().astype(np.float32)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_accuracies(k):
    want = _in_top_k(LABELS, LOGITS, k).mean()
    sparse = metrics.SparseTopKCategoricalAccuracy(k=k)
    dense = metrics.TopKCategoricalAccuracy(k=k)
    onehot = np.eye(5, dtype=np.float32)[LABELS]
    for m, y in ((sparse, LABELS), (dense, onehot)):
        m.update_state(y[:5], LOGITS[:5])
        tx.function(lambda a, b, m=m: m.update_state(a, b))(y[5:], LOGITS[5:])
        np.testing.assert_allclose(float(m.result()), want, rtol=1e-6)
    if k == 2:
        assert np.isclose(want, ORACLE["metrics"]["sparse_top2"])
    if k == 3:
        assert np.isclose(want, ORACLE["metrics"]["top3"])


def test_top_k_ties_count_as_in():
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    m.update_state(np.array([[2]]), np.array([[0.5, 0.1, 0.5]], np.float32))
    assert float(m.result()) == 1.0


def test_metrics_by_name_in_fit_and_evaluate():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 96).astype(np.float32)
    x = (rng.standard_normal((96, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)).astype(np.float32)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(
        1, activation="sigmoid", kernel_initializer=keras.initializers.GlorotUniform(1))])
    model.compile(keras.optimizers.Adam(0.1), "binary_crossentropy",
                  metrics=["auc", "precision", "recall", metrics.AUC(curve="PR", name="pr")])
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    assert {"auc", "precision", "recall", "pr"} <= set(history.history)
    logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    for name, m in (("auc", metrics.AUC()), ("precision", metrics.Precision()),
                    ("recall", metrics.Recall()), ("pr", metrics.AUC(curve="PR"))):
        m.update_state(y, p)
        np.testing.assert_allclose(logs[name], float(m.result()), rtol=1e-5, err_msg=name)
    assert logs["auc"] > 0.9
