"""Stateful SimpleRNN/LSTM/GRU: states carried across calls and fit batches, reset_states(),
the fixed batch size, vs tf.keras 3's recorded outputs, eagerly and compiled."""
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles import masking_cases as C
from tfx_core import keras

ORACLE = np.load(Path(__file__).parent / "oracles" / "keras_masking.npz", allow_pickle=False)


def _model(cls, prefix):
    model = C.stateful_model(keras, cls)
    n = sum(1 for k in ORACLE.files if k.startswith(f"{prefix}__w"))
    weights = [ORACLE[f"{prefix}__w{i}"] for i in range(n)]
    assert [tuple(w.shape.as_list()) for w in model.trainable_weights] == [
        w.shape for w in weights]
    for var, w in zip(model.trainable_weights, weights):
        var.assign(w)
    return model


@pytest.mark.parametrize("cls", C.STATEFUL)
def test_consecutive_calls_carry_states_then_reset(cls):
    model = _model(cls, f"{cls}_stateful")
    layer = model.layers[-1]
    # the states are non-trainable Variables outside `weights` (as Keras 3)
    assert len(layer.states) == (2 if cls == "LSTM" else 1)
    assert not any(s is w for s in layer.states for w in model.weights)
    step = tx.function(lambda x: model(x))
    for mode in ("eager", "compiled"):
        layer.reset_states()
        for i, x in enumerate(C.stateful_inputs()):
            if i == 3:
                layer.reset_states()
            out = model(x) if mode == "eager" else step(x)
            np.testing.assert_allclose(out.numpy(), ORACLE[f"{cls}_stateful__out{i}"],
                                       rtol=1e-4, atol=1e-5, err_msg=f"{cls} {mode} call {i}")


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_fit_assigns_the_states_in_the_compiled_step(cls):
    model = _model(cls, f"{cls}_stateful_fit")
    model.compile(keras.optimizers.SGD(0.1), "mse")
    hist = model.fit(C.STATEFUL_FIT_X, C.STATEFUL_FIT_Y, batch_size=2, epochs=2, shuffle=False,
                     verbose=0)
    np.testing.assert_allclose(hist.history["loss"], ORACLE[f"{cls}_stateful_fit__loss"],
                               rtol=1e-4)
    for i, s in enumerate(model.layers[-1].states):
        np.testing.assert_allclose(s.numpy(), ORACLE[f"{cls}_stateful_fit__state{i}"],
                                   rtol=1e-4, atol=1e-5)


def test_batch_size_must_be_fixed_and_match():
    with pytest.raises(ValueError, match="batch size must be static"):
        keras.Sequential([keras.Input((4, 2)), keras.layers.GRU(3, stateful=True)])
    layer = keras.layers.SimpleRNN(3, stateful=True)
    layer(np.zeros((2, 4, 2), np.float32))
    with pytest.raises(ValueError, match="Expected batch size: 2"):
        layer(np.zeros((3, 4, 2), np.float32))


def test_initial_state_overrides_and_stateless_layers_have_no_states():
    layer = keras.layers.SimpleRNN(2, stateful=True, kernel_initializer="ones",
                                   recurrent_initializer="ones")
    x = np.full((1, 1, 1), 0.5, np.float32)
    np.testing.assert_allclose(layer(x).numpy(), np.tanh([[0.5, 0.5]]), rtol=1e-6)
    # an explicit initial_state replaces the carried one; the result is carried on
    got = layer(x, initial_state=[np.full((1, 2), -0.25, np.float32)]).numpy()
    np.testing.assert_allclose(got, [[0.0, 0.0]], atol=1e-7)  # tanh(0.5 - 0.25 - 0.25)
    np.testing.assert_allclose(layer(x).numpy(), np.tanh([[0.5, 0.5]]), rtol=1e-6)
    assert keras.layers.LSTM(2).states is None
    assert keras.layers.LSTM(2, stateful=True).get_config()["stateful"] is True


def test_bidirectional_of_a_stateful_layer_carries_and_resets_both_halves():
    bidi = keras.layers.Bidirectional(keras.layers.GRU(2, stateful=True))
    x = C.stateful_inputs()[0]
    first = bidi(x).numpy()
    assert len(bidi.states) == 2 and all(s.shape.as_list() == [2, 2] for s in bidi.states)
    second = bidi(x).numpy()
    assert np.abs(second - first).max() > 1e-3  # started from the carried states
    bidi.reset_states()
    np.testing.assert_allclose(bidi(x).numpy(), first, rtol=1e-6)
    # the forward half alone is a stateful GRU over the same sequence
    fw = bidi.forward_layer
    fw.reset_states()
    np.testing.assert_allclose(fw(x).numpy(), first[:, :2], rtol=1e-6)
