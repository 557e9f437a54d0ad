"""Shape values known in part: under input_signature [None, 4, 3], tx.shape(x)[1] is 4 while
tracing (only dim 0 is unknown), so loops over it have a static trip count (and gradients)."""
from __future__ import annotations

import numpy as np

import tfx_core as tx

SIG = [tx.TensorSpec([None, 4, 3], tx.float32)]
RNG = np.random.default_rng(0)
W = (RNG.standard_normal((3, 3)) * 0.5).astype(np.float32)


def test_known_entries_of_a_partly_known_shape():
    seen = {}

    @tx.function(input_signature=SIG)
    def f(x):
        s = tx.shape(x)
        seen["t"] = tx.get_static_value(s[1])
        seen["batch"] = tx.get_static_value(s[0])
        seen["tail"] = tx.get_static_value(s[1:])
        seen["prod"] = tx.get_static_value(s[1] * s[2])
        return x

    f(tx.zeros([2, 4, 3]))
    assert seen["t"] == 4 and seen["batch"] is None
    assert list(seen["tail"]) == [4, 3] and seen["prod"] == 12


def _rnn_grad(x, w):
    with tx.GradientTape() as tape:
        h = tx.zeros_like(x[:, 0])
        for t in tx.range(tx.shape(x)[1]):
            h = tx.tanh(tx.matmul(x[:, t], w) + h)
        loss = tx.reduce_sum(h)
    return tape.gradient(loss, w)


def _numpy_grad(x, w):
    import jax
    import jax.numpy as jnp

    def loss(w):
        h = jnp.zeros_like(x[:, 0])
        for t in range(x.shape[1]):
            h = jnp.tanh(x[:, t] @ w + h)
        return h.sum()

    return np.asarray(jax.grad(loss)(w))


def test_loop_over_a_known_dim_has_gradients_under_a_none_batch():
    w = tx.Variable(W)
    f = tx.function(lambda x: _rnn_grad(x, w), input_signature=SIG)
    for n in (2, 5):
        x = RNG.standard_normal((n, 4, 3)).astype(np.float32)
        np.testing.assert_allclose(f(tx.constant(x)).numpy(), _numpy_grad(x, W),
                                   rtol=1e-4, atol=1e-5)
    assert f.experimental_get_tracing_count() == 1
