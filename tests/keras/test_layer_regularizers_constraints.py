"""Layer regularizers (weights and activity), constraints, Conv groups, Conv2DTranspose
output_padding and Flatten(data_format): against tf.keras 3's recorded outputs
(tests/oracles/keras_layer_args.npz) and numpy, eagerly and compiled."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.keras_layer_arg_cases import (
    CONSTRAINT_INPUT,
    CONSTRAINTS,
    LAYERS,
    fit_data,
    fit_model,
    inputs,
)

K = tx.keras
ORACLE = np.load(Path(__file__).parents[1] / "oracles" / "keras_layer_args.npz")


def _built(name: str):
    layer, args = LAYERS[name][0](K), inputs(name)
    layer(*args)
    n = sum(k.startswith(f"{name}__w") for k in ORACLE.files)
    layer.set_weights([ORACLE[f"{name}__w{i}"] for i in range(n)])
    return layer, args


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_outputs_and_losses_match_keras(name: str) -> None:
    layer, args = _built(name)
    out = layer(*args)
    np.testing.assert_allclose(np.asarray(out), ORACLE[f"{name}__out"], rtol=1e-5, atol=1e-5)
    losses = np.sort([float(v) for v in layer.losses])
    np.testing.assert_allclose(losses, ORACLE[f"{name}__losses"], rtol=1e-5, atol=1e-6)

    @tx.function
    def run(*a):
        return layer(*a), layer.losses  # the activity penalty is traced with the call

    out_c, losses_c = run(*args)
    np.testing.assert_allclose(np.asarray(out_c), ORACLE[f"{name}__out"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.sort([float(v) for v in losses_c]),
                               ORACLE[f"{name}__losses"], rtol=1e-5, atol=1e-6)


def test_grouped_conv_is_per_group_convolutions_numpy() -> None:
    layer, (x,) = _built("conv1d_groups")
    k, b = layer.kernel.numpy(), layer.bias.numpy()  # k: [3, 4 / 2, 6]
    want = np.zeros((2, 3, 6), np.float32)
    for g in range(2):
        xs, ks = x[..., 2 * g:2 * g + 2], k[..., 3 * g:3 * g + 3]
        for t in range(3):
            want[:, t, 3 * g:3 * g + 3] = np.einsum("bkc,kcf->bf", xs[:, t:t + 3], ks)
    np.testing.assert_allclose(np.asarray(layer(x)), want + b, rtol=1e-5, atol=1e-5)


def test_activity_penalty_is_divided_by_the_batch_numpy() -> None:
    d = K.layers.Dense(2, kernel_initializer="ones", activity_regularizer=K.regularizers.L2(0.5))
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    y = np.asarray(d(x))
    (loss,) = d.losses
    np.testing.assert_allclose(float(loss), 0.5 * np.sum(y ** 2) / 3, rtol=1e-6)
    d(x[:1])  # a new outermost call replaces the penalty
    assert len(d.losses) == 1
    np.testing.assert_allclose(float(d.losses[0]), 0.5 * np.sum(y[:1] ** 2), rtol=1e-6)


def test_nested_activity_penalties_reach_model_losses() -> None:
    inp = K.Input((2,))
    hidden = K.layers.Dense(3, activity_regularizer="l1", kernel_initializer="ones")
    model = K.Model(inp, K.layers.Dense(1, kernel_regularizer="l2")(hidden(inp)))
    assert len(model.losses) == 1  # the weight penalty; the symbolic call's are dropped
    x = np.ones((4, 2), np.float32)
    model(x)
    h = np.asarray(hidden(x))
    model(x)
    got = sorted(float(v) for v in model.losses)
    want_activity = 0.01 * np.abs(h).sum() / 4
    assert len(got) == 2 and any(np.isclose(v, want_activity, rtol=1e-6) for v in got)


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_constraints_match_keras(name: str) -> None:
    c = CONSTRAINTS[name](K)
    np.testing.assert_allclose(np.asarray(c(CONSTRAINT_INPUT)), ORACLE[f"c__{name}"],
                               rtol=1e-5, atol=1e-6)
    again = K.constraints.get(K.constraints.serialize(c))
    assert type(again) is type(c) and again.get_config() == c.get_config()
    f = tx.function(lambda w: c(w))
    np.testing.assert_allclose(np.asarray(f(CONSTRAINT_INPUT)), ORACLE[f"c__{name}"],
                               rtol=1e-5, atol=1e-6)


def test_max_norm_numpy() -> None:
    w = CONSTRAINT_INPUT[0]
    norms = np.sqrt((w ** 2).sum(axis=0, keepdims=True))
    want = w * np.clip(norms, 0, 1.0) / (1e-7 + norms)
    np.testing.assert_allclose(np.asarray(K.constraints.MaxNorm(1.0)(w)), want, rtol=1e-6)


@pytest.mark.parametrize("compiled", [True, False])
def test_fit_projects_constrained_weights_as_keras(compiled: bool) -> None:
    model = fit_model(K)
    n = sum(k.startswith("fit__w") for k in ORACLE.files)
    model.set_weights([ORACLE[f"fit__w{i}"] for i in range(n)])
    model.compile(K.optimizers.SGD(0.1), "mse", run_eagerly=not compiled)
    x, y = fit_data()
    history = model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, ORACLE[f"fit__end{i}"], rtol=1e-5, atol=1e-6)
    # fit's loss holds the weight and activity penalties
    np.testing.assert_allclose(history.history["loss"][0], ORACLE["fit__loss"], rtol=1e-5)


def test_eager_apply_gradients_projects_numpy() -> None:
    d = K.layers.Dense(2, kernel_constraint="non_neg", bias_constraint=K.constraints.MaxNorm(0.1))
    d(np.ones((1, 3), np.float32))
    assert isinstance(d.kernel.constraint, K.constraints.NonNeg)
    d.set_weights([np.full((3, 2), 0.05, np.float32), np.zeros(2, np.float32)])
    grads = [tx.constant(np.array([[1, -1]] * 3, np.float32)),
             tx.constant(np.array([-3.0, -4.0], np.float32))]
    opt = K.optimizers.SGD(0.1)
    opt.apply_gradients(zip(grads, [d.kernel, d.bias]))
    np.testing.assert_allclose(d.kernel.numpy(), [[0.0, 0.15]] * 3, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(d.bias.numpy(), [0.06, 0.08], rtol=1e-5)  # |(.3,.4)| -> 0.1


def test_flatten_channels_first_numpy() -> None:
    x = inputs("flatten_channels_first")[0]
    layer = K.layers.Flatten(data_format="channels_first")
    want = np.transpose(x, (0, 2, 3, 1)).reshape(2, -1)
    np.testing.assert_array_equal(np.asarray(layer(x)), want)
    np.testing.assert_array_equal(np.asarray(tx.function(layer)(x)), want)


def test_transpose_output_padding_shape_and_configs() -> None:
    t = K.layers.Conv2DTranspose(2, 3, strides=2, output_padding=1)
    assert t(np.zeros((1, 4, 4, 1), np.float32)).shape.as_list() == [1, 10, 10, 2]
    config = t.get_config()
    assert config["output_padding"] == (1, 1)
    assert K.layers.Conv2DTranspose.from_config(config).output_padding == (1, 1)
    c = K.layers.Conv2D(4, 3, groups=2, kernel_constraint="max_norm", bias_regularizer="l1")
    config = c.get_config()
    assert config["groups"] == 2 and config["kernel_constraint"]["class_name"] == "MaxNorm"
    again = K.layers.Conv2D.from_config(config)
    assert isinstance(again.kernel_constraint, K.constraints.MaxNorm) and again.groups == 2


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="divisible by the number of groups"):
        K.layers.Conv2D(3, 3, groups=2)
    with pytest.raises(ValueError, match="divisible by the number of groups"):
        K.layers.Conv2D(4, 3, groups=2)(np.zeros((1, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="positive integer"):
        K.layers.Conv1D(4, 3, groups=0)
    with pytest.raises(ValueError, match="smaller than its stride"):
        K.layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="Could not interpret constraint"):
        K.layers.Dense(2, kernel_constraint="no_such")
    with pytest.raises(ValueError, match="data_format"):
        K.layers.Flatten(data_format="NHWC")
    with pytest.raises(TypeError, match="unrecognized keyword arguments"):
        K.layers.Conv2D(4, 3, kernel_regularizr="l2")


def test_grouped_conv_gradient_matches_jax() -> None:
    import jax
    import jax.numpy as jnp

    layer, (x,) = _built("conv2d_groups")  # 4 groups of 1 input channel, "same" padding
    k = layer.kernel.numpy()

    def ref(kernel):
        y = jax.lax.conv_general_dilated(x, kernel, (1, 1), "SAME", feature_group_count=4,
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jnp.sum(jnp.tanh(y + layer.bias.numpy()) ** 2)

    @tx.function
    def grad(v):
        with tx.GradientTape() as tape:
            loss = tx.reduce_sum(tx.tanh(layer(v)) ** 2)
        return tape.gradient(loss, layer.kernel)

    np.testing.assert_allclose(np.asarray(grad(x)), np.asarray(jax.grad(ref)(k)),
                               rtol=1e-4, atol=1e-5)


def test_registered_user_constraint_round_trips() -> None:
    @K.saving.register_keras_serializable("h15test")
    class Clip(K.constraints.Constraint):
        def __init__(self, limit: float = 1.0) -> None:
            self.limit = limit

        def __call__(self, w):
            return tx.clip_by_value(w, -self.limit, self.limit)

        def get_config(self):
            return {"limit": self.limit}

    config = K.layers.Dense(2, kernel_constraint=Clip(0.25)).get_config()
    assert config["kernel_constraint"]["registered_name"] == "h15test>Clip"
    d = K.layers.Dense.from_config(config)
    assert isinstance(d.kernel_constraint, Clip) and d.kernel_constraint.limit == 0.25
    with pytest.raises(ValueError, match="could not locate class 'Nope'"):
        K.constraints.get({"class_name": "Nope", "config": {}})


def test_saved_model_keeps_constraints_and_penalties(tmp_path) -> None:
    model = fit_model(K)
    model.compile(K.optimizers.SGD(0.1), "mse")
    x, y = fit_data()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.tfx")
    loaded = K.models.load_model(tmp_path / "m.tfx")
    assert isinstance(loaded.layers[0].kernel.constraint, K.constraints.MaxNorm)
    assert isinstance(loaded.layers[1].bias.constraint, K.constraints.MinMaxNorm)
    a = model.fit(x, y, epochs=1, verbose=0, shuffle=False).history["loss"]
    b = loaded.fit(x, y, epochs=1, verbose=0, shuffle=False).history["loss"]
    assert a == b
    for u, v in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("layer_cls", ["SimpleRNN", "LSTM", "GRU"])
def test_recurrent_constraints_are_applied_in_fit_and_round_trip(layer_cls):
    cls = getattr(K.layers, layer_cls)
    layer = cls(3, kernel_constraint="non_neg", recurrent_constraint=K.constraints.MaxNorm(0.5),
                bias_constraint="non_neg")
    model = K.Sequential([K.Input((4, 2)), layer])
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    model.fit(rng.standard_normal((8, 4, 2)).astype(np.float32),
              rng.standard_normal((8, 3)).astype(np.float32), epochs=1, verbose=0)
    cell = layer.cell
    assert (cell.kernel.numpy() >= 0).all() and (cell.bias.numpy() >= 0).all()
    norms = np.sqrt((cell.recurrent_kernel.numpy() ** 2).sum(axis=0))
    assert (norms <= 0.5 + 1e-5).all()
    again = cls.from_config(layer.get_config())
    assert type(again.cell.recurrent_constraint).__name__ == "MaxNorm"
    assert again.cell.recurrent_constraint.max_value == 0.5
