"""Keras masks (Embedding(mask_zero), Masking, their flow through Sequential / functional
models into RNNs, pooling, attention and the compiled loss) and MultiHeadAttention's
attention_axes, vs tf.keras 3's recorded outputs, eagerly and compiled."""
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles import masking_cases as C
from tfx_core import keras
from tfx_core.keras.engine.masks import get_keras_mask

ORACLE = np.load(Path(__file__).parent / "oracles" / "keras_masking.npz", allow_pickle=False)


def _weights(prefix):
    n = sum(1 for k in ORACLE.files if k.startswith(f"{prefix}__w"))
    return [ORACLE[f"{prefix}__w{i}"] for i in range(n)]


def _assign(model, prefix):
    weights = _weights(prefix)
    assert [tuple(w.shape.as_list()) for w in model.trainable_weights] == [
        w.shape for w in weights]  # Keras's layout and order
    for var, w in zip(model.trainable_weights, weights):
        var.assign(w)


def _arg(inputs):
    return inputs if len(inputs) > 1 else inputs[0]


@pytest.fixture(scope="module")
def models():
    built = {}
    for name, build in C.CASES.items():
        model, inputs = build(keras)
        _assign(model, name)
        built[name] = (model, inputs)
    return built


@pytest.mark.parametrize("name", sorted(C.CASES))
def test_eager_output_and_mask_match_keras(models, name):
    model, inputs = models[name]
    out = model(_arg(inputs))
    np.testing.assert_allclose(out.numpy(), ORACLE[f"{name}__out"], rtol=1e-4, atol=1e-5)
    mask = get_keras_mask(out)
    if f"{name}__mask" in ORACLE.files:
        np.testing.assert_array_equal(mask.numpy(), ORACLE[f"{name}__mask"])
    else:
        assert mask is None


def test_compiled_outputs_and_masks_match_keras(models):
    # every case in ONE tx.function: one XLA compile for the file
    names = sorted(C.CASES)

    @tx.function
    def run_all(xs):
        outs = [models[n][0](_arg(x)) for n, x in zip(names, xs)]
        return outs, [get_keras_mask(o) if get_keras_mask(o) is not None else o * 0
                      for o in outs]

    outs, masks = run_all([list(models[n][1]) for n in names])
    for name, out, mask in zip(names, outs, masks):
        np.testing.assert_allclose(out.numpy(), ORACLE[f"{name}__out"], rtol=1e-4, atol=1e-5,
                                   err_msg=name)
        if f"{name}__mask" in ORACLE.files:
            np.testing.assert_array_equal(mask.numpy(), ORACLE[f"{name}__mask"], err_msg=name)


def test_symbolic_outputs_carry_a_mask_spec():
    ids = keras.Input((C.STEPS,), dtype="int32")
    x = keras.layers.Embedding(C.VOCAB, C.EMB, mask_zero=True)(ids)
    seq = keras.layers.LSTM(2, return_sequences=True)(x)
    last = keras.layers.LSTM(2)(x)
    assert get_keras_mask(x).shape == (None, C.STEPS) and get_keras_mask(x).dtype.is_bool
    assert get_keras_mask(seq).shape == (None, C.STEPS)
    assert get_keras_mask(last) is None  # the last step only: no time axis to mask


def test_mask_reaches_a_user_layer_with_a_mask_argument():
    seen = []

    class Count(keras.layers.Layer):
        def call(self, inputs, mask=None):
            seen.append(mask)
            return tx.reduce_sum(tx.cast(mask, "float32"), axis=1)

    emb = keras.layers.Embedding(C.VOCAB, 2, mask_zero=True)
    counts = Count()(emb(C.IDS))
    np.testing.assert_array_equal(counts.numpy(), (C.IDS != 0).sum(1))
    # an explicit mask wins over the attached one
    explicit = np.ones_like(C.IDS, bool)
    np.testing.assert_array_equal(Count()(emb(C.IDS), mask=explicit).numpy(), [C.STEPS] * 3)
    # a layer that neither takes nor computes a mask stops it (as Keras)
    # (Keras 3's Lambda passes masks on; Reshape does not)
    with pytest.warns(UserWarning, match="destroy the mask"):
        plain = keras.layers.Reshape((C.STEPS * 2,))(emb(C.IDS))
    assert get_keras_mask(plain) is None


def test_embedding_mask_zero_off_gives_no_mask_and_config_round_trips():
    emb = keras.layers.Embedding(C.VOCAB, 2)
    assert get_keras_mask(emb(C.IDS)) is None
    again = keras.layers.Embedding.from_config(
        keras.layers.Embedding(C.VOCAB, 2, mask_zero=True).get_config())
    assert again.mask_zero
    np.testing.assert_array_equal(again.compute_mask(tx.constant(C.IDS), None).numpy(),
                                  C.IDS != 0)


def test_masking_layer_zeros_masked_steps():
    x = np.array([[[1.0, 2.0], [-1.0, -1.0], [0.0, -1.0]]], np.float32)
    out = keras.layers.Masking(-1.0)(x)
    np.testing.assert_array_equal(out.numpy(), [[[1, 2], [0, 0], [0, -1]]])
    np.testing.assert_array_equal(get_keras_mask(out).numpy(), [[True, False, True]])


def test_fit_applies_the_output_mask_to_loss_and_metrics():
    model = C.fit_model(keras)
    _assign(model, "fit")
    model.compile(keras.optimizers.SGD(0.5),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    hist = model.fit(C.IDS, C.FIT_Y, batch_size=len(C.IDS), epochs=C.FIT_STEPS, shuffle=False,
                     verbose=0)
    np.testing.assert_allclose(hist.history["loss"], ORACLE["fit__loss"], rtol=1e-4)
    np.testing.assert_allclose(hist.history["accuracy"], ORACLE["fit__accuracy"], rtol=1e-5)


def test_attention_axes_errors_and_config():
    with pytest.raises(ValueError, match="attention_axes"):
        keras.layers.MultiHeadAttention(2, 3, attention_axes=(3,))(
            np.zeros((1, 2, 3, 4), np.float32), np.zeros((1, 2, 3, 4), np.float32))
    layer = keras.layers.MultiHeadAttention(2, 3, attention_axes=2)
    assert layer.get_config()["attention_axes"] == (2,)


def test_compute_loss_weighs_by_mask_and_sample_weight_vs_numpy():
    model = C.fit_model(keras)
    _assign(model, "fit")
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    sw = np.array([1.0, 2.0, 0.5], np.float32)
    y_pred = model(C.IDS)
    got = model.compute_loss(C.IDS, C.FIT_Y, y_pred, sample_weight=sw).numpy()
    logits = y_pred.numpy()
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_step = -np.take_along_axis(logp, C.FIT_Y[..., None], -1)[..., 0]
    mask = C.IDS != 0
    # Keras 3: the mean over the kept steps (masked ones weigh 0), times the sample weights
    want = (per_step * mask * sw[:, None]).sum() / mask.sum()
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_mask_crosses_a_nested_model():
    inner = keras.Sequential([keras.layers.Embedding(C.VOCAB, C.EMB, mask_zero=True),
                              keras.layers.GRU(3, return_sequences=True)])
    ids = keras.Input((C.STEPS,), dtype="int32")
    seq = inner(ids)
    assert get_keras_mask(seq).shape == (None, C.STEPS)
    model = keras.Model(ids, keras.layers.LSTM(2)(seq))
    emb, gru = inner.layers
    want = model.layers[-1](gru(emb(C.IDS)), mask=C.IDS != 0).numpy()
    np.testing.assert_allclose(model(C.IDS).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(tx.function(model)(C.IDS).numpy(), want, rtol=1e-5, atol=1e-6)
    # without the mask the padded steps would change the result
    assert np.abs(model.layers[-1](gru(emb(C.IDS)), mask=np.ones_like(C.IDS, bool)).numpy()
                  - want).max() > 1e-4


def test_sequential_takes_a_mask_and_passes_the_attached_one_on():
    inner = keras.Sequential([keras.layers.GRU(3, return_sequences=True)])
    emb = keras.layers.Embedding(C.VOCAB, C.EMB, mask_zero=True)
    gru = inner.layers[0]
    out = inner(emb(C.IDS))
    np.testing.assert_allclose(out.numpy(), gru(emb(C.IDS), mask=C.IDS != 0).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(get_keras_mask(out).numpy(), C.IDS != 0)
    x = emb(C.IDS).numpy()  # a plain array: the mask comes from the argument
    keep = C.IDS != 0
    got = inner(x, mask=keep).numpy()
    np.testing.assert_allclose(got, gru(x, mask=keep).numpy(), rtol=1e-6)
    assert np.abs(got - gru(x).numpy()).max() > 1e-4  # the mask changed the result
