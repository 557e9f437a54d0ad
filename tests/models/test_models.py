"""End-to-end models, compiled: a small CNN and a transformer block against numpy versions."""
from __future__ import annotations

import numpy as np
from scipy import special

import tfx_core as tx


# ---------------------------------------------------------------- numpy references (float64)
def np_conv2d_same(x, w):
    """Stride-1 SAME conv, NHWC x HWIO, as a sum of shifted matmuls."""
    kh, kw = w.shape[:2]
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    xp = np.pad(x, ((0, 0), (ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    h, wd = x.shape[1:3]
    return sum(xp[:, i:i + h, j:j + wd, :] @ w[i, j] for i in range(kh) for j in range(kw))


def np_max_pool_2x2(x):
    n, h, w, c = x.shape
    return x[:, :h // 2 * 2, :w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def np_cnn(p, x):
    h = np_max_pool_2x2(np.maximum(np_conv2d_same(x, p["w1"]) + p["b1"], 0))
    h = np_max_pool_2x2(np.maximum(np_conv2d_same(h, p["w2"]) + p["b2"], 0))
    return h.reshape(h.shape[0], -1) @ p["wd"] + p["bd"]


def np_layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(x.var(-1, keepdims=True) + eps) * g + b


def np_transformer_block(p, x, heads):
    b, s, d = x.shape
    dk = d // heads
    h = np_layer_norm(x, p["g1"], p["be1"])
    q, k, v = (np.einsum("bsd,dhk->bshk", h, p[n].reshape(d, heads, dk)) for n in "qkv")
    scores = np.einsum("bqhk,bshk->bhqs", q, k) / np.sqrt(dk)
    att = np.exp(scores - scores.max(-1, keepdims=True))
    att /= att.sum(-1, keepdims=True)
    ctx = np.einsum("bhqs,bshk->bqhk", att, v).reshape(b, s, d)
    x = x + ctx @ p["o"]
    h = np_layer_norm(x, p["g2"], p["be2"])
    u = h @ p["w1"] + p["c1"]
    u = 0.5 * u * (1 + special.erf(u / np.sqrt(2)))
    return x + u @ p["w2"] + p["c2"]


# ---------------------------------------------------------------- the same models in tfx
def tx_cnn(p, x):
    for w, b in (("w1", "b1"), ("w2", "b2")):
        x = tx.nn.relu(tx.nn.conv2d(x, p[w], strides=1, padding="SAME") + p[b])
        x = tx.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")
    x = tx.reshape(x, [x.shape[0], -1])
    return tx.matmul(x, p["wd"]) + p["bd"]


def tx_layer_norm(x, g, b, eps=1e-5):
    mean, var = tx.nn.moments(x, axes=[-1], keepdims=True)
    return tx.nn.batch_normalization(x, mean, var, b, g, eps)


def tx_transformer_block(p, x, heads):
    b, s, d = x.shape
    dk = d // heads
    h = tx_layer_norm(x, p["g1"], p["be1"])
    q, k, v = (tx.einsum("bsd,dhk->bshk", h, tx.reshape(p[n], [d, heads, dk])) for n in "qkv")
    scores = tx.einsum("bqhk,bshk->bhqs", q, k) / float(np.sqrt(dk))
    ctx = tx.einsum("bhqs,bshk->bqhk", tx.nn.softmax(scores, axis=-1), v)
    x = x + tx.matmul(tx.reshape(ctx, [b, s, d]), p["o"])
    h = tx_layer_norm(x, p["g2"], p["be2"])
    u = tx.nn.gelu(tx.matmul(h, p["w1"]) + p["c1"])
    return x + tx.matmul(u, p["w2"]) + p["c2"]


def _params(rng, shapes):
    return {k: (rng.standard_normal(s) / np.sqrt(np.prod(s[:-1]) if len(s) > 1 else 1) + (
        1.0 if k.startswith("g") else 0.0)).astype(np.float32) for k, s in shapes.items()}


def test_small_cnn_compiled_matches_numpy():
    rng = np.random.default_rng(0)
    p = _params(rng, {"w1": (3, 3, 3, 8), "b1": (8,), "w2": (3, 3, 8, 16), "b2": (16,),
                      "wd": (3 * 3 * 16, 10), "bd": (10,)})
    x = rng.standard_normal((4, 15, 15, 3)).astype(np.float32)  # odd: pools drop an edge
    f = tx.function(tx_cnn)
    got = f({k: tx.constant(v) for k, v in p.items()}, x).numpy()
    want = np_cnn({k: v.astype(np.float64) for k, v in p.items()}, x.astype(np.float64))
    assert got.shape == (4, 10)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(tx_cnn(p, x).numpy(), want, rtol=1e-4, atol=1e-4)  # eager


def test_small_cnn_training_gradients_match_jax():
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(1)
    p = _params(rng, {"w1": (3, 3, 3, 4), "b1": (4,), "w2": (3, 3, 4, 8), "b2": (8,),
                      "wd": (2 * 2 * 8, 5), "bd": (5,)})
    x = rng.standard_normal((3, 8, 8, 3)).astype(np.float32)
    y = rng.integers(0, 5, 3).astype(np.int32)
    vs = {k: tx.Variable(v) for k, v in p.items()}

    @tx.function
    def grads(x, y):
        with tx.GradientTape() as tape:
            logits = tx_cnn(vs, x)
            loss = tx.reduce_mean(tx.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        return loss, tape.gradient(loss, vs)

    def jax_loss(p):
        def conv(h, w):
            return jax.lax.conv_general_dilated(h, w, (1, 1), "SAME",
                                                dimension_numbers=("NHWC", "HWIO", "NHWC"))

        def pool(h):
            return jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1),
                                         "VALID")

        h = pool(jax.nn.relu(conv(x, p["w1"]) + p["b1"]))
        h = pool(jax.nn.relu(conv(h, p["w2"]) + p["b2"]))
        logits = h.reshape(3, -1) @ p["wd"] + p["bd"]
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(3), y])

    want_loss, want = jax.value_and_grad(jax_loss)(p)
    loss, got = grads(x, y)
    np.testing.assert_allclose(loss.numpy(), want_loss, rtol=1e-5)
    for k in p:
        np.testing.assert_allclose(got[k].numpy(), want[k], rtol=1e-4, atol=1e-5, err_msg=k)


def test_transformer_block_compiled_matches_numpy():
    rng = np.random.default_rng(2)
    d, heads, ff = 32, 4, 64
    p = _params(rng, {"q": (d, d), "k": (d, d), "v": (d, d), "o": (d, d), "g1": (d,),
                      "be1": (d,), "g2": (d,), "be2": (d,), "w1": (d, ff), "c1": (ff,),
                      "w2": (ff, d), "c2": (d,)})
    x = rng.standard_normal((2, 12, d)).astype(np.float32)
    f = tx.function(lambda p, x: tx_transformer_block(p, x, heads))
    got = f({k: tx.constant(v) for k, v in p.items()}, x).numpy()
    want = np_transformer_block({k: v.astype(np.float64) for k, v in p.items()},
                                x.astype(np.float64), heads)
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-4)
    np.testing.assert_allclose(tx_transformer_block(p, x, heads).numpy(), want, rtol=2e-4,
                               atol=2e-4)
