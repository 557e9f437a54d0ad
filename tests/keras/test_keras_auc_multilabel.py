"""Multi-label AUC (label weights, every summation method, ROC and PR, from_logits, explicit
thresholds) and Precision/Recall with top_k, class_id and threshold lists, against tf.keras 3
(tests/oracles/keras_auc.json), eagerly then inside a compiled update and inside model.fit."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.record_keras_auc import CASES
from tfx_core import keras
from tfx_core.keras import metrics

ORACLE = json.loads((Path(__file__).parent.parent / "oracles" / "keras_auc.json").read_text())
Y = np.array(ORACLE["inputs"]["y_true"], np.float32)
SCORES = np.array(ORACLE["inputs"]["y_score"], np.float32)
LOGITS = np.array(ORACLE["inputs"]["logits"], np.float32)
W = np.array(ORACLE["inputs"]["weights"], np.float32)
SPLIT = ORACLE["split"]


def _make(name):
    cls, kwargs, which, weighted = CASES[name]
    return getattr(metrics, cls)(**kwargs), LOGITS if which == "logits" else SCORES, weighted


# every feature once in the compiled step (compiling all the cases would cost seconds)
COMPILED = ("auc_ml_pr_lw_w", "auc_ml_logits", "auc_ml_minoring_pr", "auc_flat_lw",
            "auc_roc_majoring", "auc_thresholds_pr_ml", "precision_top1_class0",
            "recall_list_top2", "recall_class2_w")


def test_every_case_matches_keras_eager_then_compiled():
    made = {name: _make(name) for name in CASES}
    for name, (m, p, weighted) in made.items():
        halves = (slice(0, SPLIT),) if name in COMPILED else (slice(0, SPLIT), slice(SPLIT, None))
        for part in halves:
            m.update_state(Y[part], p[part], sample_weight=W[part] if weighted else None)

    @tx.function
    def update(y, scores, logits, w):  # one compiled step updates these metrics' state
        for name in COMPILED:
            m, p, weighted = made[name]
            m.update_state(y, logits if p is LOGITS else scores,
                           sample_weight=w if weighted else None)

    update(Y[SPLIT:], SCORES[SPLIT:], LOGITS[SPLIT:], W[SPLIT:])
    for name, (m, _, _) in made.items():
        np.testing.assert_allclose(np.asarray(m.result()), ORACLE["cases"][name], rtol=1e-5,
                                   atol=1e-6, err_msg=name)


def _single_label_auc(column, **kwargs):
    m = metrics.AUC(**kwargs)
    m.update_state(Y[:, column], SCORES[:, column])
    return float(m.result())


@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_multi_label_is_the_label_weighted_mean_of_per_column_aucs(curve):
    per_label = np.array([_single_label_auc(c, curve=curve) for c in range(Y.shape[1])])
    lw = np.array([0.5, 1.0, 2.0, 0.25], np.float32)
    for weights, want in ((None, per_label.mean()), (lw, (per_label * lw).sum() / lw.sum())):
        m = metrics.AUC(multi_label=True, curve=curve, label_weights=weights)
        m.update_state(Y, SCORES)
        np.testing.assert_allclose(float(m.result()), want, rtol=1e-5)
        assert m.true_positives.shape.as_list() == [200, 4]


def test_summation_methods_bracket_the_interpolated_area_and_roc_vs_numpy():
    areas = {}
    for method in ("minoring", "interpolation", "majoring"):
        m = metrics.AUC(summation_method=method, num_thresholds=6)
        m.update_state(Y[:, 0], SCORES[:, 0])
        areas[method] = float(m.result())
    assert areas["minoring"] < areas["interpolation"] < areas["majoring"]
    # with thresholds finer than the scores' gaps the ROC area is the rank statistic
    pos, neg = SCORES[Y[:, 0] == 1, 0], SCORES[Y[:, 0] == 0, 0]
    rank_auc = (pos[:, None] > neg[None, :]).mean()
    fine = metrics.AUC(num_thresholds=20000)
    fine.update_state(Y[:, 0], SCORES[:, 0])
    np.testing.assert_allclose(float(fine.result()), rank_auc, atol=1e-3)


def test_precision_top_k_and_class_id_vs_numpy():
    top2 = np.argsort(-SCORES, axis=1, kind="stable")[:, :2]
    kept = np.zeros_like(Y, bool)
    np.put_along_axis(kept, top2, True, axis=1)
    m = metrics.Precision(top_k=2)
    m.update_state(Y, SCORES)
    np.testing.assert_allclose(float(m.result()), Y[kept].mean(), rtol=1e-6)
    r = metrics.Recall(class_id=2, thresholds=[0.25, 0.75])
    r.update_state(Y, SCORES)
    truth = Y[:, 2] == 1
    want = [(SCORES[truth, 2] > t).mean() for t in (0.25, 0.75)]
    np.testing.assert_allclose(np.asarray(r.result()), want, rtol=1e-6)


def test_multi_label_auc_and_top_k_precision_inside_fit():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = (x[:, :3] + 0.3 * rng.standard_normal((64, 3)) > 0).astype(np.float32)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(
        3, activation="sigmoid", kernel_initializer=keras.initializers.GlorotUniform(2))])
    made = {"ml_auc": lambda: metrics.AUC(multi_label=True, name="ml_auc"),
            "pr_minor": lambda: metrics.AUC(curve="PR", summation_method="minoring",
                                            name="pr_minor"),
            "p_top1": lambda: metrics.Precision(top_k=1, name="p_top1"),
            "r_c1": lambda: metrics.Recall(class_id=1, name="r_c1")}
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy",
                  metrics=[make() for make in made.values()])
    history = model.fit(x, y, batch_size=16, epochs=4, verbose=0)
    assert set(made) <= set(history.history)
    logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    p = np.asarray(model.predict(x, verbose=0))
    for name, make in made.items():
        m = make()
        m.update_state(y, p)
        np.testing.assert_allclose(logs[name], float(m.result()), rtol=1e-5, err_msg=name)
    assert logs["ml_auc"] > 0.8


def test_any_nonzero_label_is_a_positive_as_keras():
    soft = ORACLE["soft"]
    y, p = (np.array(soft[k], np.float32) for k in ("y_true", "y_score"))
    for name in ("AUC", "Precision", "Recall"):
        m = getattr(metrics, name)()
        tx.function(lambda a, b, m=m: m.update_state(a, b))(y, p)
        np.testing.assert_allclose(float(m.result()), soft[name], rtol=1e-6, err_msg=name)


def test_rank_1_labels_meet_column_scores_elementwise():
    # (batch,) labels against (batch, 1) scores: Keras brings them to one rank (never a
    # (batch, batch) broadcast), eagerly and compiled
    y = np.array([1, 0, 1, 0], np.float32)
    p = np.array([[0.9], [0.2], [0.4], [0.1]], np.float32)
    want = {"BinaryAccuracy": 0.75, "MeanSquaredError": np.mean((y - p[:, 0]) ** 2),
            "MeanAbsoluteError": np.mean(np.abs(y - p[:, 0])), "AUC": 1.0, "Recall": 0.5}
    for name, value in want.items():
        eager, compiled = getattr(metrics, name)(), getattr(metrics, name)()
        eager.update_state(y, p)
        tx.function(lambda a, b, m=compiled: m.update_state(a, b))(y, p)
        for m in (eager, compiled):
            np.testing.assert_allclose(float(m.result()), value, rtol=1e-6, err_msg=name)
    assert np.asarray(metrics.binary_accuracy(y[:, None], p[:, 0])).shape == (4,)


def test_configs_round_trip_and_reset():
    for m in (metrics.AUC(multi_label=True, num_labels=4, label_weights=[1, 2, 3, 4],
                          summation_method="majoring", curve="PR"),
              metrics.AUC(thresholds=[0.2, 0.6]), metrics.Precision(top_k=2, class_id=1),
              metrics.Recall(thresholds=[0.3, 0.4])):
        again = type(m).from_config(m.get_config())
        assert again.get_config() == m.get_config()
        m.update_state(Y, SCORES)
        again.update_state(Y, SCORES)
        np.testing.assert_array_equal(np.asarray(again.result()), np.asarray(m.result()))
        m.reset_state()
        assert not np.asarray(m.result()).any()
    assert float(metrics.AUC(multi_label=True).result()) == 0.0  # no state yet


def test_clear_errors():
    with pytest.raises(ValueError, match="summation_method"):
        metrics.AUC(summation_method="careful")
    with pytest.raises(ValueError, match=r"threshold values must be in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="non-negative"):
        metrics.AUC(multi_label=True, label_weights=[1.0, -1.0])
    with pytest.raises(ValueError, match=r"AUC.update_state: multi_label needs \(batch, "
                       r"labels\).*test_keras_auc_multilabel.py"):
        metrics.AUC(multi_label=True).update_state(Y[:, 0], SCORES[:, 0])
    with pytest.raises(ValueError, match="expected 3 labels"):
        metrics.AUC(multi_label=True, num_labels=3).update_state(Y, SCORES)
