"""Adagrad, Nadam, Lion, gradient clipping and learning-rate schedules vs tf.keras 3
(tests/oracles/keras_more.json), eagerly and inside @tx.function; a float learning rate set
later reaches a traced step."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tfx_core import keras
from tfx_core.keras.optimizers import schedules as S
from tfx_core.training import optimizers as O

ORACLE = json.loads((Path(__file__).parents[1] / "oracles" / "keras_more.json").read_text())
W0 = [np.array(w, np.float32) for w in ORACLE["inputs"]["w0"]]
GRADS = [[np.array(g, np.float32) for g in gs] for gs in ORACLE["inputs"]["grads"]]
MAKE = {
    "nadam": lambda: O.Nadam(learning_rate=0.01),
    "nadam_betas": lambda: O.Nadam(learning_rate=0.05, beta_1=0.8, beta_2=0.9),
    "lion": lambda: O.Lion(learning_rate=0.01),
    "lion_betas": lambda: O.Lion(learning_rate=0.02, beta_1=0.5, beta_2=0.7),
    "adagrad": lambda: O.Adagrad(learning_rate=0.1),
    "adam_clipnorm": lambda: O.Adam(learning_rate=0.01, clipnorm=0.5),
    "sgd_global_clipnorm": lambda: O.SGD(learning_rate=0.1, global_clipnorm=1.0),
    "sgd_clipvalue": lambda: O.SGD(learning_rate=0.1, clipvalue=0.3),
    "nadam_global_clipnorm": lambda: O.Nadam(learning_rate=0.01, global_clipnorm=0.7),
}


def _run(opt, mode):
    vs = [tx.Variable(w) for w in W0]
    step = tx.function(lambda gs: opt.apply_gradients(zip(gs, vs)))
    for gs in GRADS:
        gs = [tx.constant(g) for g in gs]
        step(gs) if mode == "function" else opt.apply_gradients(zip(gs, vs))
        yield [v.numpy() for v in vs]


@pytest.mark.parametrize("mode", ["eager", "function"])
@pytest.mark.parametrize("name", sorted(MAKE))
def test_matches_keras(name, mode):
    opt = MAKE[name]()
    for k, got in enumerate(_run(opt, mode)):
        for a, b in zip(got, ORACLE["optimizers"][name][k]):
            np.testing.assert_allclose(a, np.array(b), rtol=2e-5, atol=2e-6,
                                       err_msg=f"{name} step {k + 1}")
    assert int(opt.iterations) == len(GRADS)
    if mode == "eager":  # eager apply_gradients: one compiled update, traced once
        (step,) = opt._compiled.values()
        assert step.experimental_get_tracing_count() == 1


def test_clipping_actually_clips():
    """Guards the oracle cases: each clipping changes the result (after 4 steps: Adam's
    first step is scale-invariant)."""
    for clipped, plain in (("sgd_clipvalue", O.SGD(0.1)), ("sgd_global_clipnorm", O.SGD(0.1)),
                           ("adam_clipnorm", O.Adam(0.01))):
        got = list(_run(plain, "eager"))[-1]
        want = ORACLE["optimizers"][clipped][-1]
        assert max(np.abs(a - np.array(b)).max() for a, b in zip(got, want)) > 1e-3, clipped


def test_float64_lion_and_adagrad_vs_numpy():
    w = np.linspace(-1, 1, 5)
    g = [np.cos(np.arange(5.0) * (k + 1)) for k in range(3)]
    v = tx.Variable(w)
    lion, m = O.Lion(0.1, beta_1=0.6, beta_2=0.8), np.zeros(5)
    want = w.copy()
    for gk in g:
        lion.apply_gradients([(tx.constant(gk), v)])
        want -= 0.1 * np.sign(0.6 * m + 0.4 * gk)
        m = 0.8 * m + 0.2 * gk
    np.testing.assert_allclose(v.numpy(), want, rtol=1e-12)
    v, ada, acc, want = tx.Variable(w), O.Adagrad(0.5, initial_accumulator_value=0.3), \
        np.full(5, 0.3), w.copy()
    for gk in g:
        ada.apply_gradients([(tx.constant(gk), v)])
        acc += gk ** 2
        want -= 0.5 * gk / np.sqrt(acc + 1e-7)
    np.testing.assert_allclose(v.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(ada.get_slot(v, "accumulator").numpy(), acc, rtol=1e-12)


def test_clipping_arguments():
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue`"):
        O.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="clipnorm must be"):
        O.SGD(clipnorm=-1.0)
    with pytest.raises(TypeError):
        O.Lion(clip_norm=1.0)
    cfg = O.Nadam(global_clipnorm=2.0).get_config()
    assert cfg["global_clipnorm"] == 2.0 and cfg["clipnorm"] is None
    with pytest.raises(ValueError, match="beta_1"):
        O.Lion(beta_1=0.0)


def test_learning_rate_set_later_reaches_a_traced_step():
    v = tx.Variable(np.zeros(2, np.float32))
    opt = O.SGD(0.5)
    step = tx.function(lambda g: opt.apply_gradients([(g, v)]))
    step(tx.constant(np.ones(2, np.float32)))
    opt.learning_rate = 0.125
    step(tx.constant(np.ones(2, np.float32)))
    np.testing.assert_allclose(v.numpy(), [-0.625, -0.625])
    assert step.experimental_get_tracing_count() == 1
    assert opt.learning_rate == 0.125


SCHEDULES = {
    "cosine": lambda: S.CosineDecay(0.1, 10, alpha=0.1),
    "cosine_warmup": lambda: S.CosineDecay(0.0, 10, alpha=0.1, warmup_target=0.5,
                                           warmup_steps=5),
    "cosine_warmup_from": lambda: S.CosineDecay(0.1, 8, warmup_target=1.0, warmup_steps=3),
    "exponential": lambda: S.ExponentialDecay(0.1, 3, 0.5),
    "exponential_staircase": lambda: S.ExponentialDecay(0.1, 3, 0.5, staircase=True),
    "piecewise": lambda: S.PiecewiseConstantDecay([3, 7], [1.0, 0.5, 0.1]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_match_keras(name):
    sched = SCHEDULES[name]()
    want = np.array(ORACLE["schedules"][name])
    eager = [float(sched(tx.constant(float(s)))) for s in range(len(want))]
    np.testing.assert_allclose(eager, want, rtol=1e-6, atol=1e-7)
    compiled = tx.function(lambda s: sched(s))
    got = [float(compiled(tx.constant(float(s)))) for s in range(len(want))]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert compiled.experimental_get_tracing_count() == 1
    again = S.deserialize(S.serialize(sched))
    assert type(again) is type(sched) and again.get_config() == sched.get_config()


@pytest.mark.parametrize("mode", ["eager", "function"])
def test_schedule_as_learning_rate(mode):
    """SGD with a warmup schedule: step k uses lr(k); the compiled step traces once."""
    sched = SCHEDULES["cosine_warmup"]()
    opt = keras.optimizers.SGD(learning_rate=sched)
    want = [w.astype(np.float64) for w in W0]
    for k, got in enumerate(_run(opt, mode)):
        lr = ORACLE["schedules"]["cosine_warmup"][k]
        want = [w - lr * g for w, g in zip(want, GRADS[k])]
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(opt.learning_rate),
                               ORACLE["schedules"]["cosine_warmup"][len(GRADS)], rtol=1e-6)


def test_schedule_errors_and_optimizer_names():
    with pytest.raises(ValueError, match="boundaries"):
        S.PiecewiseConstantDecay([1, 2], [1.0, 0.5])
    with pytest.raises(ValueError, match="decay_steps"):
        S.CosineDecay(0.1, 0)
    for name, cls in (("adagrad", O.Adagrad), ("Nadam", O.Nadam), ("lion", O.Lion)):
        assert isinstance(keras.optimizers.get(name), cls)


@pytest.mark.parametrize("name", ["nadam", "lion", "adagrad"])
def test_resume_from_checkpoint_is_exact(name, tmp_path):
    """Two steps, a checkpoint, two more in a fresh optimizer == four steps straight (Nadam's
    momentum-schedule product is looked up from `iterations`, not kept in a Variable)."""
    def fresh():
        return MAKE[name](), [tx.Variable(w) for w in W0]

    straight, vs = fresh()
    for gs in GRADS:
        straight.apply_gradients(zip([tx.constant(g) for g in gs], vs))
    first, vs1 = fresh()
    for gs in GRADS[:2]:
        first.apply_gradients(zip([tx.constant(g) for g in gs], vs1))
    path = tx.train.Checkpoint(opt=first, vs=vs1).write(str(tmp_path / "ckpt"))
    second, vs2 = fresh()
    second.build(vs2)
    tx.train.Checkpoint(opt=second, vs=vs2).restore(path).assert_consumed()
    assert int(second.iterations) == 2
    for gs in GRADS[2:]:
        second.apply_gradients(zip([tx.constant(g) for g in gs], vs2))
    for a, b in zip(vs2, vs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_schedule_and_clipping_survive_model_save(tmp_path):
    """get_config writes a schedule as {"class_name", "config"}; load_model rebuilds it and
    the restored `iterations` puts the rate where training left it."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 3)).astype(np.float32), rng.integers(0, 2, 32)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    sched = SCHEDULES["cosine_warmup"]()
    model.compile(O.Nadam(sched, global_clipnorm=0.5), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    path = str(tmp_path / "m.tfx")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is dropped from the file
        model.save(path)
    loaded = keras.models.load_model(path)
    opt = loaded.optimizer
    assert type(opt) is O.Nadam and opt.global_clipnorm == 0.5
    assert isinstance(opt._learning_rate, S.CosineDecay)
    assert opt._learning_rate.get_config() == sched.get_config()
    assert int(opt.iterations) == 4
    np.testing.assert_allclose(float(opt.learning_rate), ORACLE["schedules"]["cosine_warmup"][4],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="cannot rebuild"):
        O.SGD.from_config({"learning_rate": {"class_name": "os.system", "config": {}}})


def test_a_schedule_is_not_replaced_by_a_float():
    opt = O.SGD(S.ExponentialDecay(0.1, 3, 0.5))
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.01
    traced = O.SGD(0.1)
    v = tx.Variable(np.zeros(2, np.float32))
    tx.function(lambda g: traced.apply_gradients([(g, v)]))(tx.constant([1.0, 1.0]))
    with pytest.warns(UserWarning, match="steps traced before"):
        traced.learning_rate = S.ExponentialDecay(0.1, 3, 0.5)
