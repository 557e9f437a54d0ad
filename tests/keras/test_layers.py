"""tx.keras layers vs numpy, eagerly and inside @tx.function; Layer mechanics."""
import numpy as np
import pytest

import tfx_core as tx
from tfx_core import keras
from tfx_core.keras import layers

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 6)).astype(np.float32)


def _both(layer, *inputs, **kwargs):
    """The layer's output eagerly and inside a tx.function (same weights)."""
    eager = layer(*inputs, **kwargs)
    compiled = tx.function(lambda *a: layer(*a, **kwargs))(*inputs)
    return np.asarray(eager), np.asarray(compiled)


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


CASES = [
    ("relu", lambda: layers.ReLU(), lambda x: np.maximum(x, 0)),
    ("relu_cap_slope", lambda: layers.ReLU(max_value=0.5, negative_slope=0.1, threshold=0.2),
     lambda x: np.minimum(np.where(x >= 0.2, x, 0.1 * (x - 0.2)), 0.5)),
    ("softmax", lambda: layers.Softmax(), _softmax),
    ("softmax_axis0", lambda: layers.Softmax(axis=0), lambda x: _softmax(x, 0)),
    ("activation_tanh", lambda: layers.Activation("tanh"), np.tanh),
    ("activation_sigmoid", lambda: layers.Activation("sigmoid"), lambda x: 1 / (1 + np.exp(-x))),
    ("flatten", lambda: layers.Flatten(), lambda x: x.reshape(4, -1)),
    ("reshape", lambda: layers.Reshape((3, -1)), lambda x: x.reshape(4, 3, 2)),
    ("rescaling", lambda: layers.Rescaling(0.5, offset=1.0), lambda x: x * 0.5 + 1.0),
    ("lambda", lambda: layers.Lambda(lambda t, k: t * k, arguments={"k": 3.0}), lambda x: 3 * x),
    ("dropout_inference", lambda: layers.Dropout(0.5), lambda x: x),
]


@pytest.mark.parametrize("name,make,ref", CASES, ids=[c[0] for c in CASES])
def test_stateless_layers_match_numpy(name, make, ref):
    eager, compiled = _both(make(), X)
    np.testing.assert_allclose(eager, ref(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(compiled, ref(X), rtol=1e-5, atol=1e-6)


def test_dense_matches_numpy_eager_and_compiled():
    d = layers.Dense(3, activation="relu", bias_initializer=keras.initializers.Constant(0.25))
    eager, compiled = _both(d, X)
    k, b = d.kernel.numpy(), d.bias.numpy()
    ref = np.maximum(X @ k + b, 0)
    np.testing.assert_allclose(eager, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(compiled, ref, rtol=1e-5, atol=1e-6)
    assert [w.name for w in d.weights] == [f"{d.name}/kernel:0", f"{d.name}/bias:0"]
    assert d.count_params() == 6 * 3 + 3


def test_dense_on_rank3_contracts_last_axis():
    d = layers.Dense(2, use_bias=False)
    x = RNG.standard_normal((2, 5, 6)).astype(np.float32)
    eager, compiled = _both(d, x)
    ref = x @ d.kernel.numpy()
    np.testing.assert_allclose(eager, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(compiled, ref, rtol=1e-5, atol=1e-5)
    assert d.bias is None and len(d.weights) == 1


def test_add_and_concatenate():
    a, b = X, RNG.standard_normal((4, 6)).astype(np.float32)
    for layer, ref in ((layers.Add(), a + b), (layers.Concatenate(), np.concatenate([a, b], -1)),
                       (layers.Concatenate(axis=0), np.concatenate([a, b], 0))):
        eager = layer([a, b])
        compiled = tx.function(lambda p, q, layer=layer: layer([p, q]))(a, b)
        np.testing.assert_allclose(np.asarray(eager), ref, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(compiled), ref, rtol=1e-6)
    with pytest.raises(ValueError, match="expects a list"):
        layers.Add()(a)


def test_dropout_training_only_and_new_mask_each_compiled_step():
    d = layers.Dropout(0.5, seed=3)
    x = np.ones((64, 32), np.float32)
    np.testing.assert_array_equal(np.asarray(d(x)), x)  # inference: identity
    out = np.asarray(d(x, training=True))
    assert set(np.unique(out)) <= {0.0, 2.0}  # kept values scaled by 1 / (1 - rate)
    assert 0.35 < (out == 0).mean() < 0.65
    step = tx.function(lambda t: d(t, training=True))
    m1, m2 = np.asarray(step(x)), np.asarray(step(x))
    assert set(np.unique(m1)) <= {0.0, 2.0} and not np.array_equal(m1, m2)
    assert step.experimental_get_tracing_count() == 1


def test_training_flag_reaches_nested_layers():
    inner = layers.Dropout(0.9, seed=0)
    model = keras.Sequential([keras.Input((16,)), layers.Dense(16), inner])
    x = np.ones((8, 16), np.float32)
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(model(x)))
    assert (np.asarray(model(x, training=True)) == 0).mean() > 0.5


def test_layer_built_on_first_call_inside_function():
    d = layers.Dense(4)
    assert not d.built and d.weights == []
    out = tx.function(lambda t: d(t))(X)
    assert d.built and d.kernel.shape.as_list() == [6, 4]
    np.testing.assert_allclose(np.asarray(out), X @ d.kernel.numpy() + d.bias.numpy(),
                               rtol=1e-5, atol=1e-6)


class Scale(keras.Layer):
    """A custom layer: one trainable scale and one non-trainable counter-like weight."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.scale = self.add_weight((input_shape[-1],), "ones", name="scale",
                                     regularizer=keras.regularizers.L2(0.5))
        self.offset = self.add_weight((), "zeros", name="offset", trainable=False)

    def call(self, inputs, training=None):
        return inputs * self.scale + (1.0 if training else 0.0) + self.offset


def test_custom_layer_weights_trainable_and_training_arg():
    s = Scale()
    np.testing.assert_allclose(np.asarray(s(X)), X)
    np.testing.assert_allclose(np.asarray(s(X, training=True)), X + 1)
    assert [w.name.split("/")[-1] for w in s.weights] == ["scale:0", "offset:0"]
    assert [len(s.trainable_weights), len(s.non_trainable_weights)] == [1, 1]
    np.testing.assert_allclose(float(s.losses[0]), 0.5 * 6)  # 0.5 * sum(ones(6) ** 2)
    s.trainable = False
    assert s.trainable_weights == [] and len(s.non_trainable_weights) == 2


def test_get_config_round_trip():
    d = layers.Dense(5, activation="relu", use_bias=False, name="head")
    config = d.get_config()
    assert config["units"] == 5 and config["activation"] == "relu" and config["name"] == "head"
    clone = layers.Dense.from_config(config)
    assert clone.units == 5 and clone.use_bias is False and clone.name == "head"
    for layer in (layers.Dropout(0.3, seed=1), layers.Reshape((2, 3)), layers.ReLU(max_value=6.0),
                  layers.Concatenate(axis=1), layers.Rescaling(2.0)):
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == layer.get_config()


def test_set_weights_checks_shapes():
    d = layers.Dense(2)
    d(X)
    d.set_weights([np.ones((6, 2)), np.zeros(2)])
    np.testing.assert_allclose(np.asarray(d(X)), X.sum(1, keepdims=True).repeat(2, 1),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="has shape"):
        d.set_weights([np.ones((3, 2)), np.zeros(2)])


def test_symbolic_call_shapes_and_errors():
    inp = keras.Input((3, 4))
    assert inp.shape == (None, 3, 4)
    assert layers.Flatten()(inp).shape == (None, 12)
    assert layers.Reshape((-1, 2))(inp).shape == (None, 6, 2)
    assert layers.Dense(7)(inp).shape == (None, 3, 7)
    with pytest.raises(ValueError, match="Reshape"):
        layers.Reshape((5, -1))(inp)
    with pytest.raises(ValueError, match="positive int"):
        layers.Dense(0)
    with pytest.raises(TypeError, match="unrecognized keyword"):
        layers.Dense(3, unitz=4)


class Blocks(keras.Layer):
    def __init__(self):
        super().__init__()
        self.blocks = []
        for width in (3, 2):
            self.blocks.append(layers.Dense(width))  # appended after assignment: still tracked
        self.extra = {"w": tx.Variable(np.ones(2, np.float32), name="extra")}

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return x * self.extra["w"]


def test_layers_in_containers_are_tracked_and_input_checked():
    b = Blocks()
    out = b(X)
    assert out.shape.as_list() == [4, 2]
    assert b.layers == b.blocks and len(b.weights) == 5 and len(b.trainable_weights) == 5
    assert b.weights[0].name == "extra:0"  # own weights first, as Keras
    d = b.blocks[0]
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 6"):
        d(np.ones((2, 5), np.float32))
    ints = np.arange(12, dtype=np.int32).reshape(2, 6)
    np.testing.assert_allclose(np.asarray(d(ints)), ints @ d.kernel.numpy() + d.bias.numpy(),
                               rtol=1e-5, atol=1e-5)
