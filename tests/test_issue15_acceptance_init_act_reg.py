"""Issue 15 acceptance: every Keras 3 initializer (statistics, shape, dtype, seed determinism,
by name, config round trip), every Keras 3 activation name vs numpy (eager and compiled), and
L1 / L2 / L1L2 regularizers added to the loss that `fit` minimizes."""
import math

import numpy as np
import pytest

import tfx_core as tx
from tfx_core import keras

I = keras.initializers  # noqa: E741
SHAPE = (300, 200)  # fan_in 300, fan_out 200: 60k samples, statistics within a few %
FAN_IN, FAN_OUT = SHAPE


def _std_uniform(limit):
    return limit / math.sqrt(3.0)


# name: (instance, expected mean, expected std, bound or None)
DISTRIBUTIONS = {
    "GlorotUniform": (I.GlorotUniform(1), 0.0, _std_uniform(math.sqrt(6 / (FAN_IN + FAN_OUT))),
                      math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "GlorotNormal": (I.GlorotNormal(1), 0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)),
                     2 * math.sqrt(2 / (FAN_IN + FAN_OUT)) / 0.8796256610342398),
    "HeUniform": (I.HeUniform(1), 0.0, _std_uniform(math.sqrt(6 / FAN_IN)),
                  math.sqrt(6 / FAN_IN)),
    "HeNormal": (I.HeNormal(1), 0.0, math.sqrt(2 / FAN_IN),
                 2 * math.sqrt(2 / FAN_IN) / 0.8796256610342398),
    "LecunUniform": (I.LecunUniform(1), 0.0, _std_uniform(math.sqrt(3 / FAN_IN)),
                     math.sqrt(3 / FAN_IN)),
    "LecunNormal": (I.LecunNormal(1), 0.0, math.sqrt(1 / FAN_IN),
                    2 * math.sqrt(1 / FAN_IN) / 0.8796256610342398),
    "RandomNormal": (I.RandomNormal(0.5, 0.2, seed=1), 0.5, 0.2, None),
    "RandomUniform": (I.RandomUniform(-0.3, 0.1, seed=1), -0.1, _std_uniform(0.2), None),
    "TruncatedNormal": (I.TruncatedNormal(0.0, 0.1, seed=1), 0.0, 0.1 * 0.8796256610342398,
                        0.2),
    "VarianceScaling": (I.VarianceScaling(3.0, "fan_out", "untruncated_normal", seed=1), 0.0,
                        math.sqrt(3.0 / FAN_OUT), None),
}


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_random_initializer_statistics_and_seed(name):
    init, mean, std, bound = DISTRIBUTIONS[name]
    a = init(SHAPE).numpy()
    assert a.shape == SHAPE and a.dtype == np.float32
    assert abs(a.mean() - mean) < 0.03 * std + 1e-6
    assert abs(a.std() - std) < 0.03 * std
    if bound is not None:
        assert np.abs(a - mean).max() <= bound * (1 + 1e-6)
        assert np.abs(a - mean).max() > 0.9 * bound  # the bound is reached, not a smaller one
    np.testing.assert_array_equal(init(SHAPE).numpy(), a)  # seeded: same values every call
    other = type(init).from_config({**init.get_config(), "seed": 2})(SHAPE).numpy()
    assert not np.array_equal(other, a)
    assert init((4, 3), dtype=tx.float64).numpy().dtype == np.float64


def test_conv_kernel_fans_use_the_receptive_field():
    a = I.HeNormal(0)((3, 3, 16, 32)).numpy()  # fan_in 3*3*16
    assert abs(a.std() - math.sqrt(2 / 144)) < 0.05 * math.sqrt(2 / 144)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (2, 3, 8), (5, 5)])
def test_orthogonal(shape):
    q = I.Orthogonal(gain=2.0, seed=3)(shape).numpy()
    assert q.shape == shape
    flat = q.reshape(-1, shape[-1])
    small = min(flat.shape)
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)
    np.testing.assert_array_equal(I.Orthogonal(gain=2.0, seed=3)(shape).numpy(), q)
    with pytest.raises(ValueError, match="rank >= 2"):
        I.Orthogonal()((4,))


def test_identity_zeros_ones_constant():
    np.testing.assert_array_equal(I.Identity(gain=3.0)((2, 3)).numpy(), 3.0 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D matrices"):
        I.Identity()((2, 2, 2))
    np.testing.assert_array_equal(I.Zeros()((2, 3), dtype=tx.int32).numpy(), np.zeros((2, 3)))
    assert I.Zeros()((2,), dtype=tx.int32).numpy().dtype == np.int32
    np.testing.assert_array_equal(I.Ones()((3,)).numpy(), np.ones(3))
    np.testing.assert_array_equal(I.Constant(7.5)((2, 2)).numpy(), np.full((2, 2), 7.5))
    np.testing.assert_array_equal(I.Constant([1, 2, 3, 4])((2, 2)).numpy(), [[1, 2], [3, 4]])


KERAS_NAMES = {  # keras.initializers.get spellings -> class
    "glorot_uniform": I.GlorotUniform, "glorot_normal": I.GlorotNormal,
    "he_uniform": I.HeUniform, "he_normal": I.HeNormal, "lecun_uniform": I.LecunUniform,
    "lecun_normal": I.LecunNormal, "orthogonal": I.Orthogonal, "identity": I.Identity,
    "zeros": I.Zeros, "ones": I.Ones, "constant": I.Constant, "random_normal": I.RandomNormal,
    "random_uniform": I.RandomUniform, "truncated_normal": I.TruncatedNormal,
    "variance_scaling": I.VarianceScaling, "Orthogonal": I.Orthogonal,
    "LecunNormal": I.LecunNormal, "GlorotUniform": I.GlorotUniform,
}


def test_every_initializer_by_name_and_in_a_layer():
    for name, cls in KERAS_NAMES.items():
        assert type(I.get(name)) is cls, name
    dense = keras.layers.Dense(4, kernel_initializer="orthogonal", bias_initializer="ones")
    dense(np.zeros((1, 4), np.float32))
    k = dense.kernel.numpy()
    np.testing.assert_allclose(k.T @ k, np.eye(4), atol=1e-5)
    np.testing.assert_array_equal(dense.bias.numpy(), np.ones(4))
    clone = keras.layers.Dense.from_config(keras.layers.Dense(
        3, kernel_initializer=I.LecunNormal(seed=5)).get_config())
    assert isinstance(clone.kernel_initializer, I.LecunNormal)
    assert clone.kernel_initializer.seed == 5


# ------------------------------------------------------------------ activations vs numpy
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0.0, x)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _sparsemax_ref(row):
    z = np.sort(row)[::-1]
    k = np.arange(1, len(z) + 1)
    support = 1 + k * z > np.cumsum(z)
    kz = k[support][-1]
    tau = (np.cumsum(z)[kz - 1] - 1) / kz
    return np.maximum(row - tau, 0.0)


_SELU_A, _SELU_S = 1.6732632423543772, 1.0507009873554805
_ERF = np.vectorize(math.erf)

REFERENCES = {  # name: (numpy reference, keyword arguments)
    "relu": (lambda x: np.maximum(x, 0), {}),
    "relu_leaky_capped": (lambda x: np.minimum(np.where(x >= 0.5, x, 0.1 * (x - 0.5)), 2.0),
                          {"negative_slope": 0.1, "max_value": 2.0, "threshold": 0.5}),
    "leaky_relu": (lambda x: np.where(x >= 0, x, 0.2 * x), {}),
    "relu6": (lambda x: np.clip(x, 0, 6), {}),
    "softmax": (_softmax, {}),
    "log_softmax": (lambda x: np.log(_softmax(x)), {}),
    "elu": (lambda x: np.where(x > 0, x, 0.7 * np.expm1(x)), {"alpha": 0.7}),
    "selu": (lambda x: _SELU_S * np.where(x > 0, x, _SELU_A * np.expm1(x)), {}),
    "celu": (lambda x: np.maximum(x, 0) + 1.5 * np.expm1(np.minimum(x, 0) / 1.5),
             {"alpha": 1.5}),
    "softplus": (_softplus, {}),
    "softsign": (lambda x: x / (1 + np.abs(x)), {}),
    "soft_shrink": (lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0), {}),
    "hard_shrink": (lambda x: np.where(np.abs(x) > 0.5, x, 0), {}),
    "sparse_plus": (lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x)), {}),
    "sparse_sigmoid": (lambda x: np.clip((x + 1) / 2, 0, 1), {}),
    "squareplus": (lambda x: (x + np.sqrt(x * x + 4)) / 2, {}),
    "silu": (lambda x: x * _sigmoid(x), {}),
    "swish": (lambda x: x * _sigmoid(x), {}),
    "gelu": (lambda x: 0.5 * x * (1 + _ERF(x / np.sqrt(2))), {}),
    "gelu_tanh": (lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
                  {"approximate": True}),
    "glu": (lambda x: x[:, :4] * _sigmoid(x[:, 4:]), {}),
    "tanh": (np.tanh, {}),
    "tanh_shrink": (lambda x: x - np.tanh(x), {}),
    "threshold": (lambda x: np.where(x > 0.3, x, -2.0), {"threshold": 0.3, "default_value": -2.0}),
    "sigmoid": (_sigmoid, {}),
    "exponential": (np.exp, {}),
    "hard_sigmoid": (lambda x: np.clip(x / 6 + 0.5, 0, 1), {}),
    "hard_silu": (lambda x: x * np.clip(x / 6 + 0.5, 0, 1), {}),
    "hard_swish": (lambda x: x * np.clip(x / 6 + 0.5, 0, 1), {}),
    "hard_tanh": (lambda x: np.clip(x, -1, 1), {}),
    "linear": (lambda x: x, {}),
    "mish": (lambda x: x * np.tanh(_softplus(x)), {}),
    "log_sigmoid": (lambda x: -_softplus(-x), {}),
    "sparsemax": (lambda x: np.stack([_sparsemax_ref(r) for r in x]), {}),
}
KERAS3_NAMES = {  # keras.activations.ALL_OBJECTS_DICT of Keras 3.15
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
    "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
    "tanh_shrink", "threshold"}


def test_every_keras3_activation_name_resolves():
    for name in KERAS3_NAMES:
        assert callable(keras.activations.get(name)), name
        assert keras.activations.serialize(keras.activations.get(name)) in (name, "silu",
                                                                            "hard_silu")
    with pytest.raises(ValueError, match="Could not interpret"):
        keras.activations.get("nope")


X = np.linspace(-3.7, 3.7, 64).astype(np.float32).reshape(8, 8)
X[0, :4] = [-1.0, 1.0, 0.5, -0.5]  # the kinks of sparse_plus / hard_shrink exactly


@pytest.mark.parametrize("case", sorted(REFERENCES))
def test_activation_vs_numpy_eager_and_compiled(case):
    ref, kwargs = REFERENCES[case]
    fn = keras.activations.get(case.split("_leaky")[0].replace("_tanh", "")
                               if case in ("relu_leaky_capped", "gelu_tanh") else case)
    want = ref(X.astype(np.float64))
    eager = fn(tx.constant(X), **kwargs).numpy()
    compiled = tx.function(lambda v: fn(v, **kwargs))(tx.constant(X)).numpy()
    np.testing.assert_allclose(eager, want, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(compiled, want, rtol=2e-5, atol=2e-6)


def test_activation_gradients_vs_numpy():
    x = tx.constant(X)
    derivatives = {"softsign": lambda v: 1 / (1 + np.abs(v)) ** 2, "mish": None,
                   "hard_sigmoid": lambda v: np.where(np.abs(v) < 3, 1 / 6, 0)}
    for name, dref in derivatives.items():
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.reduce_sum(keras.activations.get(name)(x))
        g = tape.gradient(y, x).numpy()
        if dref is None:  # central differences in float64
            ref, _ = REFERENCES[name]
            h = 1e-5
            xd = X.astype(np.float64)
            dref_v = (ref(xd + h) - ref(xd - h)) / (2 * h)
        else:
            dref_v = dref(X.astype(np.float64))
        np.testing.assert_allclose(g, dref_v, rtol=1e-4, atol=1e-5)


def test_glu_needs_an_even_axis():
    with pytest.raises(ValueError, match="divisible by 2"):
        keras.activations.glu(tx.constant(np.zeros((2, 3), np.float32)))


# ------------------------------------------------------------------ regularizers in fit
@pytest.mark.parametrize("reg, penalty_grad", [
    (keras.regularizers.L1(0.3), lambda w: 0.3 * np.sign(w)),
    (keras.regularizers.L2(0.2), lambda w: 0.4 * w),
    (keras.regularizers.L1L2(l1=0.1, l2=0.05), lambda w: 0.1 * np.sign(w) + 0.1 * w),
])
def test_regularizer_is_in_the_loss_fit_minimizes(reg, penalty_grad):
    """One SGD step of fit on a linear model with MSE: the update is the data gradient plus
    the penalty's gradient (kernel and bias regularized), computed in numpy."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    y = rng.standard_normal((16, 2)).astype(np.float32)
    dense = keras.layers.Dense(2, kernel_initializer=I.RandomNormal(stddev=0.5, seed=1),
                               bias_initializer=I.Constant([0.3, -0.2]),
                               kernel_regularizer=reg, bias_regularizer=reg)
    model = keras.Sequential([keras.Input((3,)), dense])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    w, b = (v.copy() for v in model.get_weights())
    loss = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0).history["loss"][0]
    pred = x @ w + b
    data = ((pred - y) ** 2).mean()
    penalty = float(reg(tx.constant(w))) + float(reg(tx.constant(b)))
    np.testing.assert_allclose(loss, data + penalty, rtol=1e-5)
    d_pred = 2 * (pred - y) / pred.size
    gw, gb = x.T @ d_pred + penalty_grad(w), d_pred.sum(0) + penalty_grad(b)
    new_w, new_b = model.get_weights()
    np.testing.assert_allclose(new_w, w - 0.1 * gw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_b, b - 0.1 * gb, rtol=1e-5, atol=1e-6)
    assert len(model.losses) == 2


def test_regularizers_by_name_and_config():
    R = keras.regularizers
    assert isinstance(R.get("l1"), R.L1) and R.get("l1").l1 == 0.01
    assert isinstance(R.get("l2"), R.L2) and R.get("l2").l2 == 0.01
    assert isinstance(R.get("l1_l2"), R.L1L2)
    r = R.L1L2.from_config(R.L1L2(0.2, 0.3).get_config())
    w = np.array([[1.0, -2.0], [0.5, 0.0]], np.float32)
    np.testing.assert_allclose(float(r(tx.constant(w))),
                               0.2 * np.abs(w).sum() + 0.3 * (w**2).sum(), rtol=1e-6)
