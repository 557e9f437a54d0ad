"""tx.keras convolution, pooling, reshaping, normalization and embedding layers vs numpy
(eagerly and inside @tx.function) and vs tf.keras 3's recorded outputs; BatchNormalization's
moving statistics inside a compiled fit step."""
import math

import numpy as np
import pytest

import tfx_core as tx
from tests.keras.oracle_replay import check_case
from tests.oracles.keras_layer_cases import CASES
from tfx_core import keras
from tfx_core.keras import layers

RNG = np.random.default_rng(0)


def _both(layer, *inputs, **kwargs):
    """The layer's output eagerly and inside a tx.function (same weights)."""
    eager = layer(*inputs, **kwargs)
    compiled = tx.function(lambda *a: layer(*a, **kwargs))(*inputs)
    return np.asarray(eager), np.asarray(compiled)


def _close(layer, ref, *inputs, rtol=1e-4, atol=1e-5, **kwargs):
    eager, compiled = _both(layer, *inputs, **kwargs)
    np.testing.assert_allclose(eager, ref, rtol=rtol, atol=atol)
    np.testing.assert_allclose(compiled, ref, rtol=rtol, atol=atol)


def _x(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- numpy references
def _same_pads(n, k, s, d):
    """TF's SAME padding of one spatial dim: (low, high), the extra on the high side."""
    k = (k - 1) * d + 1
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def conv_ref(x, w, strides, padding, dilation=None):
    """N-d cross-correlation of channels-last x with w [*k, in, out], by kernel offsets."""
    n = x.ndim - 2
    dilation = dilation or (1,) * n
    ks = w.shape[:n]
    pads = [_same_pads(x.shape[1 + i], ks[i], strides[i], dilation[i]) if padding == "same"
            else (0, 0) for i in range(n)]
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    out_sp = [(xp.shape[1 + i] - (ks[i] - 1) * dilation[i] - 1) // strides[i] + 1
              for i in range(n)]
    out = np.zeros((x.shape[0], *out_sp, w.shape[-1]), np.float64)
    for off in np.ndindex(*ks):
        idx = tuple(slice(o * d, o * d + (m - 1) * s + 1, s)
                    for o, d, m, s in zip(off, dilation, out_sp, strides))
        out += xp[(slice(None), *idx)] @ w[off]
    return out


def depthwise_ref(x, w, strides, padding):
    """Per-channel convolution, output channel c * multiplier + m."""
    outs = [conv_ref(x[..., c:c + 1], w[:, :, c:c + 1, :], strides, padding)
            for c in range(x.shape[-1])]
    return np.concatenate(outs, axis=-1)


def pool_ref(x, size, strides, kind):
    """VALID max/average pooling of channels-last x."""
    n = x.ndim - 2
    out_sp = [(x.shape[1 + i] - size[i]) // strides[i] + 1 for i in range(n)]
    windows = []
    for off in np.ndindex(*size):
        idx = tuple(slice(o, o + (m - 1) * s + 1, s) for o, m, s in zip(off, out_sp, strides))
        windows.append(x[(slice(None), *idx)])
    return np.max(windows, 0) if kind == "max" else np.mean(windows, 0)


# ---------------------------------------------------------------- convolutions
CONV_CASES = [
    ("conv1d_valid", lambda: layers.Conv1D(3, 3), (2, 9, 2), "valid", (1,), None),
    ("conv1d_same_s2", lambda: layers.Conv1D(2, 4, strides=2, padding="same"), (2, 9, 3),
     "same", (2,), None),
    ("conv2d_same_s2_relu", lambda: layers.Conv2D(4, 3, strides=2, padding="same",
                                                  activation="relu"), (2, 7, 8, 3), "same",
     (2, 2), None),
    ("conv2d_dilated", lambda: layers.Conv2D(2, (3, 2), dilation_rate=(2, 1)), (1, 8, 6, 2),
     "valid", (1, 1), (2, 1)),
    ("conv3d_s2", lambda: layers.Conv3D(2, 2, strides=(1, 2, 2), use_bias=False),
     (1, 4, 5, 5, 2), "valid", (1, 2, 2), None),
]


@pytest.mark.parametrize("name,make,shape,padding,strides,dil", CONV_CASES,
                         ids=[c[0] for c in CONV_CASES])
def test_conv_matches_numpy(name, make, shape, padding, strides, dil):
    layer, x = make(), _x(*shape)
    layer(x)
    layer.bias is None or layer.bias.assign(_x(*layer.bias.shape.as_list()))
    ref = conv_ref(x, layer.kernel.numpy(), strides, padding, dil)
    if layer.bias is not None:
        ref = ref + layer.bias.numpy()
    if name.endswith("relu"):
        ref = np.maximum(ref, 0)
    _close(layer, ref, x)
    n = len(strides)
    assert layer.kernel.shape.as_list() == [*layer.kernel_size, shape[-1], layer.filters]
    assert layer.count_params() == math.prod(layer.kernel_size) * shape[-1] * layer.filters + (
        0 if layer.bias is None else layer.filters)
    assert len(layer.kernel_size) == n


def _transpose_ref(x, w, s, padding):
    """Scatter each input pixel through w [kh, kw, out, in]; SAME crops Keras's n * s."""
    b, h, wd, _ = x.shape
    kh, kw = w.shape[:2]
    full = np.zeros((b, (h - 1) * s[0] + kh, (wd - 1) * s[1] + kw, w.shape[2]))
    for i, j in np.ndindex(h, wd):
        full[:, i * s[0]:i * s[0] + kh, j * s[1]:j * s[1] + kw] += np.einsum(
            "bc,xyoc->bxyo", x[:, i, j], w)
    if padding == "valid":
        return full
    lo = [max(k - st, 0) // 2 for k, st in zip((kh, kw), s)]
    return full[:, lo[0]:lo[0] + h * s[0], lo[1]:lo[1] + wd * s[1]]


@pytest.mark.parametrize("padding,strides", [("same", (2, 2)), ("valid", (2, 1)),
                                             ("same", (1, 1))])
def test_conv2d_transpose_matches_numpy(padding, strides):
    layer, x = layers.Conv2DTranspose(3, (3, 2), strides=strides, padding=padding), _x(2, 4, 5, 2)
    layer(x)
    layer.bias.assign(_x(3))
    assert layer.kernel.shape.as_list() == [3, 2, 3, 2]  # Keras: [kh, kw, filters, in]
    _close(layer, _transpose_ref(x, layer.kernel.numpy(), strides, padding) + layer.bias.numpy(),
           x)


def test_depthwise_and_separable_match_numpy():
    x = _x(2, 7, 6, 3)
    dw = layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)
    dw(x)
    dw.bias.assign(_x(6))
    _close(dw, depthwise_ref(x, dw.kernel.numpy(), (2, 2), "same") + dw.bias.numpy(), x)
    sep = layers.SeparableConv2D(4, 3, depth_multiplier=2, activation="relu")
    sep(x)
    sep.bias.assign(_x(4))
    mid = depthwise_ref(x, sep.depthwise_kernel.numpy(), (1, 1), "valid")
    ref = np.maximum(mid @ sep.pointwise_kernel.numpy()[0, 0] + sep.bias.numpy(), 0)
    _close(sep, ref, x)
    assert [w.shape.as_list() for w in sep.weights] == [[3, 3, 3, 2], [1, 1, 6, 4], [4]]


def test_conv1d_causal_sees_only_the_past():
    x = _x(2, 7, 3)
    layer = layers.Conv1D(2, 3, padding="causal", dilation_rate=2, use_bias=False)
    layer(x)
    ref = conv_ref(np.pad(x, [(0, 0), (4, 0), (0, 0)]), layer.kernel.numpy(), (1,), "valid",
                   (2,))
    _close(layer, ref, x)
    y0 = np.asarray(layer(x))
    x2 = x.copy()
    x2[:, 5:] += 1.0  # the future changes: outputs before step 5 do not
    np.testing.assert_allclose(np.asarray(layer(x2))[:, :5], y0[:, :5], rtol=1e-6)


def test_conv_arguments_are_checked():
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        layers.Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="only supported by Conv1D"):
        layers.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="rank 4"):
        layers.Conv2D(2, 3)(_x(2, 5, 3))


# ---------------------------------------------------------------- pooling and reshaping
def test_pooling_matches_numpy():
    x2, x1 = _x(2, 7, 6, 3), _x(2, 9, 4)
    _close(layers.MaxPooling2D(), pool_ref(x2, (2, 2), (2, 2), "max"), x2)
    _close(layers.AveragePooling2D((3, 2), strides=(2, 1)), pool_ref(x2, (3, 2), (2, 1), "avg"),
           x2)
    _close(layers.MaxPooling1D(3, strides=2), pool_ref(x1, (3,), (2,), "max"), x1)
    _close(layers.AveragePooling1D(), pool_ref(x1, (2,), (2,), "avg"), x1)
    _close(layers.GlobalAveragePooling2D(), x2.mean((1, 2)), x2)
    _close(layers.GlobalAveragePooling2D(keepdims=True), x2.mean((1, 2), keepdims=True), x2)
    _close(layers.GlobalMaxPooling2D(), x2.max((1, 2)), x2)
    _close(layers.GlobalAveragePooling1D(), x1.mean(1), x1)


def test_reshaping_layers_match_numpy():
    x = _x(2, 3, 4, 5)
    _close(layers.Permute((3, 1, 2)), x.transpose(0, 3, 1, 2), x)
    _close(layers.ZeroPadding2D(((1, 0), (2, 3))), np.pad(x, [(0, 0), (1, 0), (2, 3), (0, 0)]),
           x)
    _close(layers.ZeroPadding2D(1, data_format="channels_first"),
           np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)]), x)
    _close(layers.UpSampling2D((2, 3)), x.repeat(2, axis=1).repeat(3, axis=2), x)
    _close(layers.UpSampling2D(2, data_format="channels_first"),
           x.repeat(2, axis=2).repeat(2, axis=3), x)
    a, b = _x(2, 3), _x(2, 3)
    eager = layers.Multiply()([a, b, a])
    compiled = tx.function(lambda p, q: layers.Multiply()([p, q, p]))(a, b)
    np.testing.assert_allclose(np.asarray(eager), a * b * a, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(compiled), a * b * a, rtol=1e-6)
    with pytest.raises(ValueError, match="consecutive"):
        layers.Permute((1, 3))


def test_spatial_dropout_drops_whole_channels():
    x = np.abs(_x(4, 5, 6, 8)) + 1.0
    layer = layers.SpatialDropout2D(0.5, seed=3)
    _close(layer, x, x)  # inference: identity
    for y in (np.asarray(layer(x, training=True)),
              np.asarray(tx.function(lambda a: layer(a, training=True))(x))):
        kept = y[:, 0, 0, :] != 0  # one draw per (sample, channel)
        assert np.array_equal(y != 0, np.broadcast_to(kept[:, None, None, :], y.shape))
        np.testing.assert_allclose(y[y != 0], (2 * x)[y != 0], rtol=1e-6)
        assert 0 < kept.sum() < kept.size


# ---------------------------------------------------------------- normalization
def test_batch_normalization_training_and_inference_vs_numpy():
    x = _x(8, 3, 4) * 2 + 1
    bn = layers.BatchNormalization(momentum=0.8, epsilon=1e-3)
    bn(x)
    g, b = _x(4), _x(4)
    mm, mv = _x(4), np.abs(_x(4)) + 0.5
    assert [w.name.split("/")[-1] for w in bn.weights] == [
        "gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"]
    assert [w.trainable for w in bn.weights] == [True, True, False, False]
    mean, var = x.mean((0, 1)), x.var((0, 1))
    for mode in ("eager", "compiled"):
        bn.set_weights([g, b, mm, mv])
        run = (lambda t, bn=bn: bn(t, training=True)) if mode == "eager" else tx.function(
            lambda t: bn(t, training=True))
        y = np.asarray(run(x))
        np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3) * g + b, rtol=1e-4,
                                   atol=1e-4)
        np.testing.assert_allclose(bn.moving_mean.numpy(), 0.8 * mm + 0.2 * mean, rtol=1e-5)
        np.testing.assert_allclose(bn.moving_variance.numpy(), 0.8 * mv + 0.2 * var, rtol=1e-5)
    bn.set_weights([g, b, mm, mv])
    _close(bn, (x - mm) / np.sqrt(mv + 1e-3) * g + b, x)  # inference: moving statistics
    np.testing.assert_allclose(bn.moving_mean.numpy(), mm)  # ... left alone
    bn.trainable = False  # as Keras: a frozen BatchNormalization runs in inference mode
    _close(bn, (x - mm) / np.sqrt(mv + 1e-3) * g + b, x, training=True)


def test_batch_normalization_moving_stats_inside_compiled_fit():
    # NOTE: BatchNormalization is the first layer, so its inputs are the raw batches and the
    # moving statistics after an epoch follow from the data alone.
    x = (_x(24, 5) * 3 + 2).astype(np.float32)
    y = _x(24, 1)
    bn = layers.BatchNormalization(momentum=0.9)
    model = keras.Sequential([keras.Input((5,)), bn, layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    gamma0 = bn.gamma.numpy().copy()
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    mm, mv = np.zeros(5), np.ones(5)
    for i in range(0, 24, 8):
        batch = x[i:i + 8]
        mm = 0.9 * mm + 0.1 * batch.mean(0)
        mv = 0.9 * mv + 0.1 * batch.var(0)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), mv, rtol=1e-5, atol=1e-6)
    assert not np.allclose(bn.gamma.numpy(), gamma0)  # gamma/beta are trained
    # inference (predict) normalizes with the moving statistics
    g, b = bn.gamma.numpy(), bn.beta.numpy()
    k, c = model.layers[-1].kernel.numpy(), model.layers[-1].bias.numpy()
    ref = ((x - mm) / np.sqrt(mv + 1e-3) * g + b) @ k + c
    np.testing.assert_allclose(model.predict(x, verbose=0), ref, rtol=1e-4, atol=1e-4)


def test_layer_and_group_normalization_vs_numpy():
    x = _x(2, 3, 4, 6) * 2 + 1
    ln = layers.LayerNormalization(epsilon=1e-5)
    ln(x)
    g, b = _x(6), _x(6)
    ln.set_weights([g, b])
    m, v = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    _close(ln, (x - m) / np.sqrt(v + 1e-5) * g + b, x)
    gn = layers.GroupNormalization(groups=3)
    gn(x)
    gn.set_weights([g, b])
    xg = x.reshape(2, 3, 4, 3, 2)
    m, v = xg.mean((1, 2, 4), keepdims=True), xg.var((1, 2, 4), keepdims=True)
    ref = ((xg - m) / np.sqrt(v + 1e-3)).reshape(x.shape) * g + b
    _close(gn, ref, x)
    gn1 = layers.GroupNormalization(groups=2, axis=1, center=False)  # channels first
    xc = x.transpose(0, 3, 1, 2)
    gn1(xc)
    gn1.set_weights([g])
    xg = xc.reshape(2, 2, 3, 3, 4)
    m, v = xg.mean((2, 3, 4), keepdims=True), xg.var((2, 3, 4), keepdims=True)
    _close(gn1, ((xg - m) / np.sqrt(v + 1e-3)).reshape(xc.shape) * g[:, None, None], xc)
    with pytest.raises(ValueError, match="groups"):
        layers.GroupNormalization(groups=4)(x)


def test_embedding_vs_numpy():
    emb = layers.Embedding(10, 3)
    ids = np.array([[1, 0, 9], [4, 4, 2]], np.int32)
    eager, compiled = _both(emb, ids)
    table = emb.embeddings.numpy()
    assert table.shape == (10, 3) and np.abs(table).max() <= 0.05  # Keras's "uniform"
    np.testing.assert_allclose(eager, table[ids])
    np.testing.assert_allclose(compiled, table[ids])
    # mask_zero: see tests/test_keras_masking.py


# ---------------------------------------------------------------- tf.keras 3's answers
ORACLE = [n for n in CASES if not n.startswith("mha")]


@pytest.mark.parametrize("name", ORACLE)
def test_matches_recorded_tf_keras(name):
    check_case(name)


def test_functional_conv_model_shapes_and_fit():
    inp = keras.Input((8, 8, 3))
    h = layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    h = layers.BatchNormalization()(h)
    h = layers.MaxPooling2D()(h)
    h = layers.Conv2DTranspose(2, 3, strides=2, padding="same")(h)
    assert h.shape == (None, 8, 8, 2)
    h = layers.GlobalAveragePooling2D()(layers.SpatialDropout2D(0.2)(h))
    model = keras.Model(inp, layers.Dense(2)(h))
    model.compile(optimizer="adam", loss="mse")
    x, y = _x(16, 8, 8, 3), _x(16, 2)
    hist = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    assert model.predict(x[:3], verbose=0).shape == (3, 2)


def test_batch_normalization_training_gradient_vs_jax():
    import jax
    import jax.numpy as jnp

    x, r = _x(6, 4) * 2 + 1, _x(6, 4)
    bn = layers.BatchNormalization(epsilon=1e-3)
    bn(x)
    bn.set_weights([_x(4), _x(4), np.zeros(4, np.float32), np.ones(4, np.float32)])

    def loss_jax(x, g, b):
        m, v = x.mean(0), x.var(0)
        return jnp.sum(((x - m) / jnp.sqrt(v + 1e-3) * g + b) * r)

    want = jax.jit(jax.grad(loss_jax, argnums=(0, 1, 2)))(x, bn.gamma.numpy(), bn.beta.numpy())

    def grads(x):
        xt = tx.convert_to_tensor(x)
        with tx.GradientTape() as tape:
            tape.watch(xt)
            loss = tx.reduce_sum(bn(xt, training=True) * r)
        return tape.gradient(loss, [xt, bn.gamma, bn.beta])

    for got in (grads(x), tx.function(grads)(x)):
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-4, atol=1e-4)


def test_sequential_config_round_trip_keeps_layers():
    model = keras.Sequential([
        keras.Input((8, 8, 3)), layers.Conv2D(4, 3, strides=2, padding="same"),
        layers.BatchNormalization(momentum=0.5), layers.DepthwiseConv2D(2),
        layers.AveragePooling2D(), layers.Permute((3, 1, 2)), layers.Flatten(),
        layers.Dense(2)])
    clone = keras.Sequential.from_config(model.get_config())
    assert [type(la).__name__ for la in clone.layers] == [
        type(la).__name__ for la in model.layers]
    assert clone.layers[1].momentum == 0.5 and clone.layers[0].strides == (2, 2)
    x = _x(2, 8, 8, 3)
    clone(x)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)
