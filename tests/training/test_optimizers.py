"""Optimizers vs numpy references of Keras' update rules, eagerly and in one compiled step."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tfx_core as tx

O = tx.optimizers  # noqa: E741
RNG = np.random.default_rng(0)
W0 = RNG.normal(size=(2, 3))
# Decreasing gradient sizes make Adam's velocity shrink, so AMSGrad's max() matters.
GRADS = [RNG.normal(size=(2, 3)) * s for s in (3.0, 0.1, 0.05)]


# ---------------------------------------------------------------- numpy references
def np_sgd(w, grads, lrs, momentum=0.0, nesterov=False):
    m, out = np.zeros_like(w), []
    for g, lr in zip(grads, lrs):
        if momentum == 0:
            w = w - lr * g
        else:
            m = momentum * m - lr * g
            w = w + (momentum * m - lr * g if nesterov else m)
        out.append(w)
    return out


def np_adam(w, grads, lrs, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
            weight_decay=None):
    m, v, v_hat, out = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w), []
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        if weight_decay is not None:
            w = w - w * weight_decay * lr
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        if amsgrad:
            v_hat = np.maximum(v_hat, v)
        w = w - alpha * m / (np.sqrt(v_hat if amsgrad else v) + epsilon)
        out.append(w)
    return out


def np_rmsprop(w, grads, lrs, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    vel, avg, mom, out = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w), []
    for g, lr in zip(grads, lrs):
        vel = rho * vel + (1 - rho) * g * g
        if centered:
            avg = rho * avg + (1 - rho) * g
            denominator = vel - avg * avg + epsilon
        else:
            denominator = vel + epsilon
        increment = lr * g / np.sqrt(denominator)
        if momentum > 0:
            mom = momentum * mom + increment
            w = w - mom
        else:
            w = w - increment
        out.append(w)
    return out


# (id, optimizer factory taking the learning rate, reference taking (w, grads, lrs))
CASES = [
    ("sgd", lambda lr: O.SGD(lr), np_sgd),
    ("sgd_momentum", lambda lr: O.SGD(lr, momentum=0.9),
     lambda *a: np_sgd(*a, momentum=0.9)),
    ("sgd_nesterov", lambda lr: O.SGD(lr, momentum=0.9, nesterov=True),
     lambda *a: np_sgd(*a, momentum=0.9, nesterov=True)),
    ("adam", lambda lr: O.Adam(lr), np_adam),
    ("adam_custom", lambda lr: O.Adam(lr, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
     lambda *a: np_adam(*a, beta_1=0.5, beta_2=0.9, epsilon=1e-3)),
    ("adam_amsgrad", lambda lr: O.Adam(lr, beta_2=0.5, amsgrad=True),
     lambda *a: np_adam(*a, beta_2=0.5, amsgrad=True)),
    ("adamw", lambda lr: O.AdamW(lr, weight_decay=0.1),
     lambda *a: np_adam(*a, weight_decay=0.1)),
    ("rmsprop", lambda lr: O.RMSprop(lr), np_rmsprop),
    ("rmsprop_centered", lambda lr: O.RMSprop(lr, centered=True),
     lambda *a: np_rmsprop(*a, centered=True)),
    ("rmsprop_momentum", lambda lr: O.RMSprop(lr, momentum=0.5),
     lambda *a: np_rmsprop(*a, momentum=0.5)),
    ("rmsprop_centered_momentum", lambda lr: O.RMSprop(lr, rho=0.8, momentum=0.5, centered=True),
     lambda *a: np_rmsprop(*a, rho=0.8, momentum=0.5, centered=True)),
]
IDS = [c[0] for c in CASES]
LR = 0.1


def tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == tx.float32 else {"rtol": 1e-12, "atol": 0}


def run_steps(opt, dtype, mode, grads=GRADS):
    """Apply `grads` one at a time; yields the variable's value after each step."""
    np_dt = dtype.as_numpy_dtype
    var = tx.Variable(W0.astype(np_dt), name="w")
    if mode == "eager":
        def step(g):
            return opt.apply_gradients([(g, var)])
    else:
        @tx.function
        def step(g):
            opt.apply_gradients([(g, var)])
    for g in grads:
        step(tx.constant(g.astype(np_dt)))
        yield var.numpy()
    if mode == "function":
        assert step.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("mode", ["eager", "function"])
@pytest.mark.parametrize("dtype", [tx.float32, tx.float64], ids=lambda d: d.name)
@pytest.mark.parametrize("name,make,ref", CASES, ids=IDS)
def test_matches_numpy_reference(name, make, ref, dtype, mode):
    opt = make(LR)
    expected = ref(W0, GRADS, [LR] * len(GRADS))
    for k, got in enumerate(run_steps(opt, dtype, mode)):
        assert got.dtype == dtype.as_numpy_dtype
        np.testing.assert_allclose(got, expected[k], **tol(dtype), err_msg=f"{name} step {k + 1}")
    assert int(opt.iterations.numpy()) == len(GRADS)


def test_amsgrad_case_differs_from_plain_adam():
    """Guards the AMSGrad test data: with it, max(v_hat, v) changes the result."""
    plain = np_adam(W0, GRADS, [LR] * 3, beta_2=0.5)[-1]
    ams = np_adam(W0, GRADS, [LR] * 3, beta_2=0.5, amsgrad=True)[-1]
    assert np.abs(plain - ams).max() > 1e-2


@pytest.mark.parametrize("mode", ["eager", "function"])
@pytest.mark.parametrize("dtype", [tx.float32, tx.float64], ids=lambda d: d.name)
@pytest.mark.parametrize("name,make,ref", [CASES[1], CASES[3], CASES[6]],
                         ids=[CASES[1][0], CASES[3][0], CASES[6][0]])
def test_learning_rate_schedule(name, make, ref, dtype, mode):
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (1.0 + step)

    opt = make(schedule)
    expected = ref(W0, GRADS, [0.1 / (1 + k) for k in range(len(GRADS))])
    for k, got in enumerate(run_steps(opt, dtype, mode)):
        np.testing.assert_allclose(got, expected[k], **tol(tx.float32), err_msg=f"step {k + 1}")
    assert all(isinstance(s, tx.Tensor) and s.dtype == tx.float32 and s.shape == ()
               for s in seen)
    if mode == "eager":
        assert [float(s) for s in seen] == [0.0, 1.0, 2.0]
    assert float(opt.learning_rate) == pytest.approx(0.1 / 4)


def test_zero_argument_learning_rate_callable():
    opt = O.SGD(lambda: 0.5)
    expected = np_sgd(W0, GRADS, [0.5] * 3)
    for k, got in enumerate(run_steps(opt, tx.float64, "eager")):
        np.testing.assert_allclose(got, expected[k], rtol=1e-12)


@pytest.mark.parametrize("mode", ["eager", "function"])
def test_mixed_then_compiled_steps_continue_state(mode):
    """One eager step creates the slots; compiled steps then reuse and update them."""
    opt = O.Adam(LR)
    var = tx.Variable(W0.astype(np.float32), name="w")
    opt.apply_gradients([(tx.constant(GRADS[0].astype(np.float32)), var)])

    @tx.function
    def step(g):
        opt.apply_gradients(zip([g], [var]))

    expected = np_adam(W0, GRADS, [LR] * 3)
    for k in (1, 2):
        step(tx.constant(GRADS[k].astype(np.float32)))
        np.testing.assert_allclose(var.numpy(), expected[k], rtol=1e-5, atol=1e-6)
    assert step.experimental_get_tracing_count() == 1
    assert int(opt.iterations.numpy()) == 3


@pytest.mark.parametrize("mode", ["eager", "function"])
def test_none_gradients_are_skipped(mode):
    opt = O.SGD(LR, momentum=0.9)
    a = tx.Variable(W0.astype(np.float32), name="a")
    b = tx.Variable(np.ones(3, np.float32), name="b")

    def apply(g):
        return opt.apply_gradients([(g, a), (None, b)])

    step = apply if mode == "eager" else tx.function(apply)
    with pytest.warns(UserWarning, match="do not exist for variables \\['b:0'\\]"):
        step(tx.constant(GRADS[0].astype(np.float32)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step(tx.constant(GRADS[1].astype(np.float32)))
    np.testing.assert_allclose(a.numpy(), np_sgd(W0, GRADS[:2], [LR] * 2, momentum=0.9)[-1],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(b.numpy(), np.ones(3))
    assert len(opt.variables) == 2  # iterations + a's momentum; none for b
    assert int(opt.iterations.numpy()) == 2


def test_all_none_gradients_raise():
    v = tx.Variable([1.0], name="v")
    with pytest.raises(ValueError, match="no gradients provided"):
        O.Adam().apply_gradients([(None, v)])


def test_iterations_counter_and_return_value():
    opt = O.Adam()
    assert opt.iterations.dtype == tx.int64 and not opt.iterations.trainable
    assert int(opt.iterations.numpy()) == 0
    v = tx.Variable([1.0, 2.0], name="v")
    for k in range(1, 4):
        it = opt.apply_gradients([(tx.constant([0.1, 0.2]), v)])
        assert it is opt.iterations and int(it.numpy()) == k


def test_multiple_variables_and_variables_order():
    opt = O.Adam(LR)
    w = tx.Variable(W0.astype(np.float32), name="w")
    b = tx.Variable(np.zeros(3, np.float32), name="b")
    assert opt.variables == [opt.iterations]  # slots are created lazily
    with pytest.raises(KeyError, match="no slots"):
        opt.get_slot(w, "momentum")
    g_b = np.array([0.3, -0.2, 0.1])
    opt.apply_gradients([(tx.constant(GRADS[0].astype(np.float32)), w),
                         (tx.constant(g_b.astype(np.float32)), b)])
    slots = [opt.get_slot(w, "momentum"), opt.get_slot(w, "velocity"),
             opt.get_slot(b, "momentum"), opt.get_slot(b, "velocity")]
    assert opt.variables == [opt.iterations, *slots]
    assert all(not s.trainable for s in slots)
    assert [tuple(s.shape) for s in slots] == [(2, 3), (2, 3), (3,), (3,)]
    np.testing.assert_allclose(opt.get_slot(b, "momentum").numpy(), 0.1 * g_b, rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), np_adam(np.zeros(3), [g_b], [LR])[0], rtol=1e-5)
    opt.apply_gradients([(tx.constant(GRADS[1].astype(np.float32)), w)])
    assert opt.variables == [opt.iterations, *slots]  # stable: no new slots


def test_build_creates_slots_eagerly():
    opt = O.RMSprop(momentum=0.5, centered=True)
    v = tx.Variable(np.zeros((2,), np.float64), name="v")
    opt.build([v])
    assert len(opt.variables) == 4
    assert opt.get_slot(v, "average_gradient").dtype == tx.float64


def test_compiled_training_step_with_gradient_tape():
    """A whole training step in one compiled function: tape gradient + Adam update."""
    target = np.array([1.0, -2.0, 0.5])
    w = tx.Variable(np.zeros(3, np.float32), name="w")
    opt = O.Adam(0.1)

    @tx.function
    def train_step(t):
        with tx.GradientTape() as tape:
            loss = tx.reduce_sum(tx.square(w - t))
        grads = tape.gradient(loss, [w])
        opt.apply_gradients(zip(grads, [w]))
        return loss

    w_ref, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    for t in range(1, 4):
        loss = train_step(tx.constant(target.astype(np.float32)))
        np.testing.assert_allclose(float(loss), np.sum((w_ref - target) ** 2), rtol=1e-5)
        g = 2 * (w_ref - target)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        alpha = 0.1 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        w_ref = w_ref - alpha * m / (np.sqrt(v) + 1e-7)
        np.testing.assert_allclose(w.numpy(), w_ref, rtol=1e-5, atol=1e-6)
    assert train_step.experimental_get_tracing_count() == 1


def test_minimize_with_callable_loss():
    w = tx.Variable([3.0, -1.0], name="w")
    opt = O.SGD(0.25)
    for _ in range(2):
        opt.minimize(lambda: tx.reduce_sum(tx.square(w)), [w])  # grad 2w: w *= 0.5 per step
    np.testing.assert_allclose(w.numpy(), [0.75, -0.25], rtol=1e-6)
    with pytest.raises(ValueError, match="tape"):
        opt.minimize(tx.constant(1.0), [w])


# ---------------------------------------------------------------- errors
def test_gradient_shape_mismatch_names_variable():
    v = tx.Variable(np.zeros((2, 3), np.float32), name="kernel")
    with pytest.raises(ValueError, match=r"'kernel:0' has shape \[3\].*\[2, 3\]"):
        O.SGD().apply_gradients([(tx.zeros([3]), v)])


def test_gradient_dtype_mismatch_names_variable():
    v = tx.Variable(np.zeros(3, np.float32), name="bias")
    with pytest.raises(TypeError, match="'bias:0' has dtype float64.*float32"):
        O.Adam().apply_gradients([(tx.zeros([3], tx.float64), v)])


def test_non_variable_in_variable_position():
    with pytest.raises(TypeError, match="expected a tx.Variable.*Tensor"):
        O.SGD().apply_gradients([(tx.ones([2]), tx.ones([2]))])
    with pytest.raises(TypeError, match="expected a tx.Variable.*ndarray"):
        O.SGD().apply_gradients([(tx.ones([2]), np.ones(2))])


def test_malformed_pairs_and_integer_variables():
    v = tx.Variable([1.0], name="v")
    with pytest.raises(TypeError, match="element 0 must be a \\(gradient, variable\\) pair"):
        O.SGD().apply_gradients([(tx.ones([1]), v, None)])
    iv = tx.Variable([1, 2], name="counts")
    with pytest.raises(TypeError, match="'counts:0' has dtype int32"):
        O.SGD().apply_gradients([(tx.constant([1, 1]), iv)])


def test_python_and_numpy_gradients_are_converted():
    v = tx.Variable([1.0, 2.0], name="v")
    O.SGD(0.5).apply_gradients([([1.0, 1.0], v)])
    O.SGD(0.5).apply_gradients([(np.array([1.0, 1.0], np.float32), v)])
    np.testing.assert_allclose(v.numpy(), [0.0, 1.0])


@pytest.mark.parametrize("make,msg", [
    (lambda: O.SGD(-0.1), "learning_rate"),
    (lambda: O.SGD(momentum=1.5), "momentum"),
    (lambda: O.Adam(beta_1=1.2), "beta_1"),
    (lambda: O.RMSprop(epsilon=-1.0), "epsilon"),
    (lambda: O.AdamW(weight_decay=None), "weight_decay"),
])
def test_bad_hyperparameters(make, msg):
    with pytest.raises(ValueError, match=msg):
        make()


def test_bad_hyperparameter_types():
    with pytest.raises(TypeError, match="learning_rate must be a float"):
        O.SGD("fast")
    with pytest.raises(TypeError, match="momentum must be a float"):
        O.SGD(momentum=True)


def test_names_and_config():
    assert O.SGD().name == "SGD" and O.Adam().name == "adam"
    assert O.AdamW().name == "adamw" and O.RMSprop().name == "rmsprop"
    cfg = O.AdamW(0.01, weight_decay=0.1).get_config()
    assert cfg["learning_rate"] == 0.01 and cfg["weight_decay"] == 0.1 and cfg["beta_2"] == 0.999
    assert O.Adam(0.003).learning_rate == 0.003


def test_exclude_from_weight_decay():
    w = tx.Variable(np.ones(2, np.float64), name="kernel")
    b = tx.Variable(np.ones(2, np.float64), name="bias")
    opt = O.AdamW(LR, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    g = np.array([0.1, -0.2])
    opt.apply_gradients([(tx.constant(g), w), (tx.constant(g), b)])
    np.testing.assert_allclose(w.numpy(), np_adam(np.ones(2), [g], [LR], weight_decay=0.5)[0],
                               rtol=1e-12)
    np.testing.assert_allclose(b.numpy(), np_adam(np.ones(2), [g], [LR])[0], rtol=1e-12)
