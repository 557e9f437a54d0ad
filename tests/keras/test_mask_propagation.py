"""Keras masks through the core, merging and normalization layers and nested layer graphs."""
import warnings

import numpy as np
import pytest

import tfx_core as tx
from tfx_core import keras
from tfx_core.keras.engine.masks import get_keras_mask

L = keras.layers
TOKENS = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
KEEP = TOKENS > 0


def _mask(t):
    m = get_keras_mask(t)
    return None if m is None else np.asarray(m)


@pytest.mark.parametrize("layer", [
    lambda: L.Dense(2), lambda: L.Activation("tanh"), lambda: L.ReLU(), lambda: L.Dropout(0.5),
    lambda: L.Rescaling(2.0), lambda: L.LayerNormalization(), lambda: L.BatchNormalization(),
    lambda: L.Lambda(lambda x: x * 2.0)], ids=["dense", "activation", "relu", "dropout",
                                               "rescaling", "layer_norm", "batch_norm", "lambda"])
def test_a_mask_passes_through_elementwise_layers_eagerly_and_compiled(layer):
    emb, lay = L.Embedding(5, 3, mask_zero=True), layer()
    np.testing.assert_array_equal(_mask(lay(emb(TOKENS))), KEEP)

    @tx.function
    def f(t):
        out = lay(emb(t))
        return out, get_keras_mask(out)

    np.testing.assert_array_equal(f(TOKENS)[1].numpy(), KEEP)


def test_embedding_lstm_dense_keeps_the_mask_in_a_functional_model_without_warnings():
    inp = keras.Input((4,), dtype="int32")
    inner_in = keras.Input((4, 3))
    inner = keras.Model(inner_in, L.Dense(3)(inner_in))  # a nested layer graph
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = L.LSTM(4, return_sequences=True)(inner(L.Embedding(5, 3, mask_zero=True)(inp)))
        out = L.Dense(2)(h)
        model = keras.Model(inp, out)
        y = model(TOKENS)
    assert get_keras_mask(out) is not None
    np.testing.assert_array_equal(_mask(y), KEEP)


def test_a_subclassed_model_drops_the_mask_with_keras_warning():
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2)

        def call(self, x):
            return self.d(x)

    with pytest.warns(UserWarning, match="destroy the mask"):
        Sub()(L.Embedding(5, 3, mask_zero=True)(TOKENS))


def test_merge_masks_are_combined_as_keras():
    e1, e2 = L.Embedding(5, 3, mask_zero=True), L.Embedding(5, 3, mask_zero=True)
    plain = L.Embedding(5, 2)
    other = np.array([[0, 1, 1, 0], [0, 0, 0, 2]])
    a, b = e1(TOKENS), e2(other)
    np.testing.assert_array_equal(_mask(L.Add()([a, b])), KEEP | (other > 0))
    np.testing.assert_array_equal(_mask(L.Multiply()([a, b])), KEEP | (other > 0))
    assert get_keras_mask(L.Add()([a, L.Embedding(5, 3)(TOKENS)])) is None  # not every one has
    # Concatenate: an unmasked input counts as all-True, then any() over the last axis
    np.testing.assert_array_equal(_mask(L.Concatenate()([a, plain(TOKENS)])),
                                  np.ones_like(KEEP))
    np.testing.assert_array_equal(_mask(L.Concatenate(axis=1)([a, b])),
                                  np.concatenate([KEEP, other > 0], axis=1))
    with pytest.raises(ValueError, match="should be a list"):
        L.Add().compute_mask([a, b], KEEP)


def test_softmax_with_a_mask_matches_numpy():
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], np.float32)
    keep = np.array([[True, False, True], [False, False, False]])
    z = np.where(keep, x, -1e9)
    want = np.exp(z - z.max(-1, keepdims=True))
    want = np.where(keep, want / want.sum(-1, keepdims=True), 0.0)
    sm = L.Softmax()
    np.testing.assert_allclose(sm(x, mask=keep).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(tx.function(lambda a, m: sm(a, mask=m))(x, keep).numpy(), want,
                               rtol=1e-6)
    with pytest.raises(ValueError, match="broadcastable"):
        sm(x, mask=np.ones((2, 4), bool))


def test_batch_normalization_statistics_skip_masked_steps():
    emb = L.Embedding(5, 3, mask_zero=True)
    bn = L.BatchNormalization(momentum=0.5)
    x = emb(TOKENS)
    bn(x, training=True)
    kept = x.numpy()[KEEP]
    eps = 1e-7  # Keras's epsilon in the masked counts
    mean = kept.sum(0) / (len(kept) + eps)
    var = ((kept - mean) ** 2).sum(0) / (len(kept) + eps)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.5 + 0.5 * var, rtol=1e-5)
    with pytest.raises(ValueError, match="one dimension less"):
        bn(x, training=True, mask=np.ones((2,), bool))


def test_lambda_mask_argument_and_a_function_taking_the_mask():
    emb = L.Embedding(5, 3, mask_zero=True)
    seen = []

    def f(x, mask=None):
        seen.append(mask)
        return x

    out = L.Lambda(f)(emb(TOKENS))
    np.testing.assert_array_equal(np.asarray(seen[0]), KEEP)
    np.testing.assert_array_equal(_mask(out), KEEP)
    flipped = L.Lambda(lambda x: x * 1.0, mask=lambda x, m: tx.logical_not(m))(emb(TOKENS))
    np.testing.assert_array_equal(_mask(flipped), ~KEEP)
