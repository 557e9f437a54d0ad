"""Sequential, functional and subclassed models: same outputs, summary(), weights."""
import numpy as np
import pytest

import tfx_core as tx
from tfx_core import keras
from tfx_core.keras import layers

X = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)


def _mlp_layers():
    return [layers.Dense(8, activation="relu"), layers.Dense(3)]


def test_sequential_and_functional_give_the_same_outputs():
    seq = keras.Sequential([keras.Input((4,)), *_mlp_layers()])
    inp = keras.Input((4,))
    a, b = _mlp_layers()
    func = keras.Model(inp, b(a(inp)))
    func.set_weights(seq.get_weights())
    for model in (seq, func):
        h = np.maximum(X @ model.weights[0].numpy() + model.weights[1].numpy(), 0)
        ref = h @ model.weights[2].numpy() + model.weights[3].numpy()
        np.testing.assert_allclose(np.asarray(model(X)), ref, rtol=1e-5, atol=1e-6)
        compiled = tx.function(lambda t, m=model: m(t))(X)
        np.testing.assert_allclose(np.asarray(compiled), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(seq(X)), np.asarray(func(X)), rtol=1e-6)
    np.testing.assert_allclose(seq.predict(X, verbose=0), func.predict(X, verbose=0), rtol=1e-6)


def test_sequential_without_input_builds_on_first_call():
    seq = keras.Sequential(_mlp_layers())
    assert not seq.built and seq.weights == []
    out = seq(X)
    assert seq.built and out.shape.as_list() == [5, 3] and len(seq.weights) == 4
    seq2 = keras.Sequential([layers.Dense(2, input_shape=(4,))])
    assert seq2.built and seq2.outputs.shape == (None, 2)


def test_functional_graph_with_branches_and_two_inputs():
    a_in, b_in = keras.Input((4,), name="a"), keras.Input((2,), name="b")
    d1, d2 = layers.Dense(3), layers.Dense(3)
    merged = layers.Add()([d1(a_in), d2(b_in)])
    out = layers.Concatenate()([merged, b_in])
    model = keras.Model(inputs=[a_in, b_in], outputs=out)
    xb = np.ones((5, 2), np.float32)
    ref = X @ d1.kernel.numpy() + d1.bias.numpy() + xb @ d2.kernel.numpy() + d2.bias.numpy()
    np.testing.assert_allclose(np.asarray(model([X, xb])), np.concatenate([ref, xb], -1),
                               rtol=1e-5, atol=1e-6)
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer", "InputLayer", "Dense", "Dense", "Add", "Concatenate"]
    assert model.get_layer(d2.name) is d2
    with pytest.raises(ValueError, match="expects 2 input"):
        model(X)


def test_disconnected_graph_is_refused():
    a_in, b_in = keras.Input((4,)), keras.Input((4,))
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a_in, layers.Dense(2)(b_in))


class TwoTower(keras.Model):
    def __init__(self):
        super().__init__()
        self.left, self.right = layers.Dense(3), layers.Dense(3)
        self.drop = layers.Dropout(0.5)

    def call(self, x, training=False):
        return self.drop(self.left(x), training=training) + self.right(x)


def test_subclassed_model_tracks_layers_and_weights():
    m = TwoTower()
    out = m(X)
    assert [layer.name for layer in m.layers] == [m.left.name, m.right.name, m.drop.name]
    assert len(m.trainable_weights) == 4
    ref = (X @ m.left.kernel.numpy() + m.left.bias.numpy()
           + X @ m.right.kernel.numpy() + m.right.bias.numpy())
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-5, atol=1e-6)
    m.left.trainable = False
    assert len(m.trainable_weights) == 2 and len(m.non_trainable_weights) == 2


SEQ_SUMMARY = """\
Model: "mlp"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ hidden (Dense)                  │ (None, 64)             │         1,088 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ drop (Dropout)                  │ (None, 64)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ logits (Dense)                  │ (None, 10)             │           650 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 1,738 (6.79 KB)
 Trainable params: 1,738 (6.79 KB)
 Non-trainable params: 0 (0.00 B)"""


def test_summary_text(capsys):
    model = keras.Sequential([keras.Input((16,)), layers.Dense(64, name="hidden"),
                              layers.Dropout(0.1, name="drop"), layers.Dense(10, name="logits")],
                             name="mlp")
    model.summary()
    assert capsys.readouterr().out.rstrip("\n") == SEQ_SUMMARY
    lines = []
    model.layers[0].trainable = False
    model.summary(print_fn=lines.append)
    assert lines[-2:] == [" Trainable params: 650 (2.54 KB)",
                          " Non-trainable params: 1,088 (4.25 KB)"]


def test_functional_summary_lists_inputs_and_connections():
    a_in = keras.Input((4,), name="x_in")
    h = layers.Dense(3, name="h")(a_in)
    out = layers.Add(name="plus")([h, h])
    text = keras.Model(a_in, out, name="branchy").summary_text()
    assert text.startswith('Model: "branchy"')
    assert "Connected to" in text
    assert "│ x_in (InputLayer)" in text and "h[0][0], h[0][0]" in text
    assert " Total params: 15 (60.00 B)" in text
    chain = keras.Model(a_in, h).summary_text()
    assert "Connected to" not in chain and "│ x_in (InputLayer)" in chain


def test_summary_of_unbuilt_sequential():
    text = keras.Sequential([layers.Dense(2, name="late")], name="unbuilt").summary_text()
    assert "│ late (Dense)" in text and "0 (unbuilt)" in text
    assert " Total params: 0 (0.00 B)" in text


def test_sequential_config_round_trip_and_nesting():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu"),
                              layers.Dropout(0.2), layers.Dense(2)])
    clone = keras.Sequential.from_config(model.get_config())
    assert clone.built and [type(la).__name__ for la in clone.layers] == [
        "Dense", "Dropout", "Dense"]
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(clone(X)), np.asarray(model(X)), rtol=1e-6)
    outer = keras.Sequential([keras.Input((4,)), model, layers.Dense(1)])
    assert outer.outputs.shape == (None, 1) and len(outer.weights) == 6
    assert "│ sequential" in outer.summary_text() and "(None, 2)" in outer.summary_text()
