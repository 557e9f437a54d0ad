"""tx.keras MultiHeadAttention vs numpy (eagerly and inside @tx.function) and vs tf.keras 3's
recorded outputs (masks, causal mask, output_shape, Keras 3's weight layout)."""
import numpy as np
import pytest

import tfx_core as tx
from tests.keras.oracle_replay import check_case
from tests.oracles.keras_layer_cases import CASES
from tfx_core import keras
from tfx_core.keras import layers

RNG = np.random.default_rng(1)


def _x(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def mha_ref(layer, q, v, k=None, mask=None):
    """Attention from the layer's weights, in numpy: (output, scores)."""
    w = [a.numpy() for a in layer.weights]
    wq, bq, wk, bk, wv, bv, wo, bo = w
    k = v if k is None else k
    qh = np.einsum("btd,dhk->bthk", q, wq) + bq
    kh = np.einsum("bsd,dhk->bshk", k, wk) + bk
    vh = np.einsum("bsd,dhk->bshk", v, wv) + bv
    scores = np.einsum("bthk,bshk->bhts", qh, kh) / np.sqrt(wq.shape[-1])
    if mask is not None:
        scores = np.where(mask[:, None], scores, -1e9)
    p = _softmax(scores)
    if mask is not None:
        p = np.where(mask[:, None], p, 0.0)
    ctx = np.einsum("bhts,bshk->bthk", p, vh)
    return np.einsum("bthk,hko->bto", ctx, wo) + bo, p


def _both(layer, *args, **kwargs):
    eager = layer(*args, **kwargs)
    compiled = tx.function(lambda *a: layer(*a, **kwargs))(*args)
    return eager, compiled


def test_self_attention_matches_numpy_and_weight_layout():
    q = _x(2, 4, 6)
    mha = layers.MultiHeadAttention(num_heads=3, key_dim=2, bias_initializer="random_normal")
    for out in _both(mha, q, q):
        np.testing.assert_allclose(np.asarray(out), mha_ref(mha, q, q)[0], rtol=1e-4, atol=1e-5)
    assert [tuple(w.shape.as_list()) for w in mha.weights] == [
        (6, 3, 2), (3, 2), (6, 3, 2), (3, 2), (6, 3, 2), (3, 2), (3, 2, 6), (6,)]
    assert mha.count_params() == 3 * (6 * 6 + 6) + 6 * 6 + 6


def test_cross_attention_mask_value_dim_output_shape_and_scores():
    q, v, k = _x(2, 3, 5), _x(2, 4, 6), _x(2, 4, 7)
    mask = RNG.random((2, 3, 4)) < 0.5
    mask[1, 2] = False  # a query that sees no key: zeros from the softmax, as Keras
    mha = layers.MultiHeadAttention(2, 3, value_dim=4, output_shape=8,
                                    bias_initializer="random_normal")
    mha(q, v, k)  # build
    ref, ref_p = mha_ref(mha, q, v, k, mask)
    for out, p in _both(mha, q, v, k, attention_mask=mask, return_attention_scores=True):
        np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.asarray(p), ref_p, rtol=1e-4, atol=1e-6)
    assert np.asarray(p)[1, :, 2].max() == 0
    assert mha.value_kernel.shape.as_list() == [6, 2, 4]
    assert mha.output_kernel.shape.as_list() == [2, 4, 8]


def test_causal_mask_combines_with_attention_mask():
    q = _x(2, 5, 4)
    mask = RNG.random((2, 5, 5)) < 0.7
    causal = np.tril(np.ones((5, 5), bool))
    mha = layers.MultiHeadAttention(2, 2)
    mha(q, q)  # build
    for kwargs, m in (({}, causal[None].repeat(2, 0)), ({"attention_mask": mask}, mask & causal)):
        for out in _both(mha, q, q, use_causal_mask=True, **kwargs):
            np.testing.assert_allclose(np.asarray(out), mha_ref(mha, q, q, mask=m)[0],
                                       rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", [n for n in CASES if n.startswith("mha")])
def test_matches_recorded_tf_keras(name):
    check_case(name)


def test_in_a_functional_model_fit():
    tokens = keras.Input((6,), dtype="int32")
    h = layers.Embedding(20, 8)(tokens)
    attended = layers.MultiHeadAttention(2, 4)(h, h, use_causal_mask=True)
    h = layers.LayerNormalization()(layers.Add()([h, attended]))
    assert h.shape == (None, 6, 8)
    model = keras.Model(tokens, layers.Dense(20, activation="softmax")(h))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    x = RNG.integers(0, 20, (8, 6)).astype(np.int32)
    hist = model.fit(x, np.roll(x, -1, axis=1), batch_size=8, epochs=4, verbose=0)
    losses = hist.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(0, 4)
    with pytest.raises(TypeError, match="value"):
        layers.MultiHeadAttention(2, 4)(_x(1, 2, 3))


def test_gradients_match_jax():
    import jax
    import jax.numpy as jnp

    q, v = _x(2, 3, 4), _x(2, 5, 6)
    mask = RNG.random((2, 3, 5)) < 0.6
    mask[:, :, 0] = True
    r = _x(2, 3, 4)
    mha = layers.MultiHeadAttention(2, 3, bias_initializer="random_normal")
    mha(q, v)

    def loss_jax(ws, q, v):
        wq, bq, wk, bk, wv, bv, wo, bo = ws
        qh = jnp.einsum("btd,dhk->bthk", q, wq) + bq
        kh = jnp.einsum("bsd,dhk->bshk", v, wk) + bk
        vh = jnp.einsum("bsd,dhk->bshk", v, wv) + bv
        s = jnp.einsum("bthk,bshk->bhts", qh, kh) / np.sqrt(3.0)
        p = jax.nn.softmax(jnp.where(mask[:, None], s, -1e9), axis=-1)
        out = jnp.einsum("bthk,hko->bto", jnp.einsum("bhts,bshk->bthk", p, vh), wo) + bo
        return jnp.sum(out * r)

    want = jax.jit(jax.grad(loss_jax, argnums=(0, 1)))([w.numpy() for w in mha.weights], q, v)

    def grads(q, v):
        qt = tx.convert_to_tensor(q)
        with tx.GradientTape() as tape:
            tape.watch(qt)
            loss = tx.reduce_sum(mha(qt, v, attention_mask=mask) * r)
        return tape.gradient(loss, [*mha.trainable_weights, qt])

    for got in (grads(q, v), tx.function(grads)(q, v)):
        for g, w in zip(got, [*want[0], want[1]]):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-4, atol=1e-5)


def test_dropout_on_attention_probabilities_in_training_only():
    q = _x(2, 4, 6)
    mha = layers.MultiHeadAttention(2, 3, dropout=0.5, seed=1)
    mha(q, q)
    ref, ref_p = mha_ref(mha, q, q)
    for out, _ in _both(mha, q, q, return_attention_scores=True):  # inference: no dropout
        np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-4, atol=1e-5)
    for out, p in _both(mha, q, q, return_attention_scores=True, training=True):
        # the scores returned are the softmax before dropout (Keras); the output differs
        np.testing.assert_allclose(np.asarray(p), ref_p, rtol=1e-4, atol=1e-6)
        assert not np.allclose(np.asarray(out), ref, atol=1e-3)
