"""tx.keras recurrent layers vs tf.keras 3's recorded outputs, eagerly and compiled; gradients vs
finite differences of a numpy reference; one loop per layer in the graph; a fit that learns."""
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.rnn_cases import CASES, call_kwargs, inputs, make
from tfx_core import keras
from tfx_core.keras import layers

ORACLE = np.load(Path(__file__).parents[1] / "oracles" / "keras_rnn.npz", allow_pickle=False)


def _outputs(name):
    n = sum(1 for k in ORACLE.files if k.startswith(f"{name}__out"))
    return [ORACLE[f"{name}__out{j}"] for j in range(n)]


def _as_list(out):
    return [np.asarray(o) for o in (out if isinstance(out, list) else [out])]


# NOTE: an eager call runs the same compiled loop as a traced one (the layer wraps it in a
# tx.function), plus eager glue (zero states, masks, merges); each of these cases checks that
# road for one family of options. Every case is checked compiled, all in ONE tx.function: one
# XLA compile instead of one per case keeps this file fast.
EAGER = ["bidi_lstm_state", "bidi_mask_last", "gru_mask_back", "gru_reset_before", "lstm_mask",
         "lstm_no_bias", "simple_rnn_back_relu", "simple_rnn_init", "simple_rnn_mask_zero",
         "time_distributed"]


@pytest.fixture(scope="module")
def recorded_cases():
    """Every case's layer with Keras's weights set; the EAGER cases' eager outputs and every
    case's compiled outputs."""
    names = sorted(CASES)
    built = {}
    for name in names:
        x, states = inputs(name)
        built[name] = (make(layers, name), x, call_kwargs(name, states))
    run_all = tx.function(lambda xs: [built[n][0](x, **built[n][2]) for n, x in zip(names, xs)])
    xs = [built[n][1] for n in names]
    run_all.get_concrete_function(xs)  # builds every layer (a trace: nothing compiled yet)
    for name in names:
        layer = built[name][0]
        n = len(layer.weights)
        assert f"{name}__w{n}" not in ORACLE.files, name  # as many weights as Keras
        layer.set_weights([ORACLE[f"{name}__w{i}"] for i in range(n)])  # Keras's order/shapes
    eager = {n: _as_list(built[n][0](built[n][1], **built[n][2])) for n in EAGER}
    compiled = {n: _as_list(out) for n, out in zip(names, run_all(xs))}
    return eager, compiled


def test_the_eager_cases_cover_every_option():
    options = set()
    for name in EAGER:
        cls, kwargs, wrapper, _, with_state = CASES[name]
        options |= {cls, wrapper, *kwargs, "initial_state" * with_state, "mask" * ("mask" in name)}
    assert options >= {"SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed",
                       "return_sequences", "return_state", "go_backwards", "initial_state",
                       "mask", "zero_output_for_mask", "reset_after", "use_bias"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tf_keras_eager_and_compiled(name, recorded_cases):
    eager, compiled = recorded_cases
    want = _outputs(name)
    got = [compiled[name]] + ([eager[name]] if name in eager else [])
    for outs in got:
        assert len(outs) == len(want)
        for o, w in zip(outs, want):
            np.testing.assert_allclose(o, w, rtol=1e-5, atol=1e-6)


def test_weight_shapes_names_and_keras_initial_values():
    lstm, gru = layers.LSTM(4), layers.GRU(4)
    lstm(np.zeros((2, 5, 3), np.float32))
    gru(np.zeros((2, 5, 3), np.float32))
    assert [tuple(w.shape.as_list()) for w in lstm.weights] == [(3, 16), (4, 16), (16,)]
    assert [tuple(w.shape.as_list()) for w in gru.weights] == [(3, 12), (4, 12), (2, 12)]
    assert [w.name.split("/")[-1] for w in lstm.weights] == [
        "kernel:0", "recurrent_kernel:0", "bias:0"]
    # unit_forget_bias: the forget gate (second block of i, f, c, o) starts at 1
    np.testing.assert_array_equal(lstm.bias.numpy(), np.repeat([0.0, 1.0, 0.0, 0.0], 4))
    assert not np.any(gru.bias.numpy())
    for rk in (lstm.recurrent_kernel.numpy(), gru.recurrent_kernel.numpy()):  # orthogonal
        np.testing.assert_allclose(rk @ rk.T, np.eye(4), atol=1e-5)
    no_forget = layers.LSTM(4, unit_forget_bias=False)
    no_forget(np.zeros((1, 2, 3), np.float32))
    assert not np.any(no_forget.bias.numpy())
    assert lstm.count_params() == 3 * 16 + 4 * 16 + 16


def _loop_ops(fn, x):
    graph = tx.function(fn).get_concrete_function(x).graph
    return len(graph.ops), sum(op.name == "while" for op in graph.ops)


def test_one_loop_whatever_the_length():
    lstm = layers.LSTM(4, return_sequences=True)
    short, long_ = np.zeros((2, 3, 3), np.float32), np.zeros((2, 40, 3), np.float32)
    n_short, loops_short = _loop_ops(lstm, short)
    n_long, loops_long = _loop_ops(lstm, long_)
    assert loops_short == loops_long == 1  # one while loop, not unrolled steps
    assert n_short == n_long
    bidi = layers.Bidirectional(layers.GRU(4))
    assert _loop_ops(bidi, short)[1] == 2  # one per direction


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _lstm_ref(x, k, rk, b, h, c):
    """Keras's LSTM in numpy (gates i, f, c, o): every step's h."""
    outs = []
    for t in range(x.shape[1]):
        i, f, g, o = np.split(x[:, t] @ k + h @ rk + b, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outs.append(h)
    return np.stack(outs, 1)


def _gru_ref(x, k, rk, b, h):
    """Keras 3's GRU (reset_after, gates z, r, h) in numpy: every step's h."""
    outs = []
    for t in range(x.shape[1]):
        xz, xr, xh = np.split(x[:, t] @ k + b[0], 3, axis=-1)
        rz, rr, rh = np.split(h @ rk + b[1], 3, axis=-1)
        z, r = _sigmoid(xz + rz), _sigmoid(xr + rr)
        h = z * h + (1 - z) * np.tanh(xh + r * rh)
        outs.append(h)
    return np.stack(outs, 1)


def _numeric_grads(loss, arrays, eps=1e-5):
    """Central differences of loss(*arrays) in float64, for every element of every array."""
    arrays = [a.astype(np.float64) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            keep = a[idx]
            a[idx] = keep + eps
            up = loss(*arrays)
            a[idx] = keep - eps
            g[idx] = (up - loss(*arrays)) / (2 * eps)
            a[idx] = keep
        grads.append(g)
    return grads


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_gradients_match_finite_differences(kind):
    """d(loss)/d(inputs, kernel, recurrent_kernel, bias) through the loop, on a tape eagerly and
    inside a tx.function, vs central differences of a numpy reference (which must also give
    the layer's forward values)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    h0 = rng.standard_normal((2, 4)).astype(np.float32)
    layer = getattr(layers, kind)(4, return_sequences=True)
    states = [h0, h0 * 0.5] if kind == "LSTM" else [h0]
    layer.build((2, 4, 3))
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape.as_list()).astype(np.float32)
                       for w in layer.weights])
    weights = [w.numpy() for w in layer.weights]
    proj = rng.standard_normal((2, 4, 4)).astype(np.float32)  # a loss that sees every step

    def ref(xx, *ws):
        return _lstm_ref(xx, *ws, *states) if kind == "LSTM" else _gru_ref(xx, *ws, h0)

    want = _numeric_grads(lambda *a: np.sum(ref(*a) * proj), [x, *weights])

    def grads(xx):
        xx = tx.convert_to_tensor(xx)
        with tx.GradientTape() as tape:
            tape.watch(xx)
            out = layer(xx, initial_state=states)
            loss = tx.reduce_sum(out * proj)
        return [out, *tape.gradient(loss, [xx, *layer.weights])]

    for out, *got in (grads(x), tx.function(grads)(x)):
        np.testing.assert_allclose(np.asarray(out), ref(x, *weights), rtol=1e-5, atol=1e-5)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), w, rtol=1e-4, atol=1e-4)


def test_symbolic_call_shapes_and_functional_model():
    inp = keras.Input((5, 3))
    seq, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(inp)
    assert seq.shape == (None, 5, 4) and h.shape == (None, 4) and c.shape == (None, 4)
    out = layers.TimeDistributed(layers.Dense(2))(seq)
    assert out.shape == (None, 5, 2)
    model = keras.Model(inp, [out, h])
    x = np.random.default_rng(1).standard_normal((3, 5, 3)).astype(np.float32)
    y, hh = model(x)
    assert np.asarray(y).shape == (3, 5, 2) and np.asarray(hh).shape == (3, 4)
    both = layers.Bidirectional(layers.SimpleRNN(4, return_sequences=True), merge_mode=None)(inp)
    assert [t.shape for t in both] == [(None, 5, 4), (None, 5, 4)]


def test_fit_on_a_sequence_task_learns():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6, 2)).astype(np.float32)
    y = 0.5 * x[:, :, 0].sum(1, keepdims=True) - x[:, -1, 1:2]  # needs memory over time
    model = keras.Sequential([keras.Input((6, 2)), layers.LSTM(8, dropout=0.1, seed=1),
                              layers.Dense(1)])
    model.set_weights([rng.uniform(-0.4, 0.4, w.shape.as_list()).astype(np.float32)
                       for w in model.weights])  # fixed start: the test is deterministic
    model.compile(keras.optimizers.Adam(0.02), "mse")
    loss = model.fit(x, y, epochs=25, batch_size=32, verbose=0, shuffle=False).history["loss"]
    assert max(loss[-3:]) < 0.25 * loss[0], loss  # 2.01 -> about 0.24 (input dropout: noisy)


def test_config_round_trip_gives_the_same_layer():
    gru = layers.GRU(3, reset_after=False, go_backwards=True, return_sequences=True,
                     activation="relu")
    x = np.random.default_rng(2).standard_normal((2, 4, 3)).astype(np.float32)
    gru(x)
    copy = layers.GRU.from_config(gru.get_config())
    copy(x)
    copy.set_weights(gru.get_weights())
    assert copy.get_config() == gru.get_config()
    np.testing.assert_allclose(np.asarray(copy(x)), np.asarray(gru(x)), rtol=1e-6)
    bidi = layers.Bidirectional(layers.LSTM(2, name="enc"), merge_mode="sum")
    again = layers.Bidirectional.from_config(bidi.get_config())
    assert again.get_config() == bidi.get_config()
    assert again.forward_layer.name == "forward_enc" and again.backward_layer.go_backwards
    cell = layers.RNN(layers.SimpleRNNCell(2))  # the generic RNN over a cell
    assert layers.RNN.from_config(cell.get_config()).cell is not cell.cell


def test_errors_name_the_layer():
    lstm = layers.LSTM(4, name="enc")
    with pytest.raises(ValueError, match="'enc'.*expected ndim=3"):
        lstm(np.zeros((2, 3), np.float32))
    lstm(np.zeros((2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="'enc': initial_state should be a list of 2"):
        lstm(np.zeros((2, 3, 3), np.float32), initial_state=[np.zeros((2, 4), np.float32)])
    with pytest.raises(ValueError, match=r"initial_state\[1\] must have shape \(batch, 4\)"):
        lstm(np.zeros((2, 3, 3), np.float32),
             initial_state=[np.zeros((2, 4), np.float32), np.zeros((2, 5), np.float32)])
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\) = \(2, 3\)"):
        lstm(np.zeros((2, 3, 3), np.float32), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="recurrent layer"):
        layers.Bidirectional(layers.Dense(2))
    with pytest.raises(ValueError, match="units must be a positive int"):
        layers.GRU(0)
    with pytest.raises(ValueError, match=r"recurrent_dropout must be in \[0, 1\)"):
        layers.LSTM(2, recurrent_dropout=1.0)


class _DoublingCell(layers.Layer):
    """A user cell: state h = tanh(x @ w + h @ u), output 2 h (so the output is not the state)."""

    state_size = 3

    def build(self, input_shape):
        self.w = self.add_weight((input_shape[-1], 3), name="w")
        self.u = self.add_weight((3, 3), name="u")

    def call(self, inputs, states):
        h = tx.tanh(tx.matmul(inputs, self.w) + tx.matmul(states, self.u))
        return 2.0 * h, h


@pytest.mark.parametrize("go_backwards", [False, True])
def test_rnn_over_a_user_cell_matches_numpy(go_backwards):
    x = np.random.default_rng(3).standard_normal((2, 4, 5)).astype(np.float32)
    rnn = layers.RNN(_DoublingCell(), return_sequences=True, return_state=True,
                     go_backwards=go_backwards)
    last = layers.RNN(rnn.cell, go_backwards=go_backwards)  # same cell, last output only
    seq, state = rnn(x)
    w, u = rnn.cell.w.numpy(), rnn.cell.u.numpy()
    h, want = np.zeros((2, 3), np.float32), []
    for t in (range(3, -1, -1) if go_backwards else range(4)):
        h = np.tanh(x[:, t] @ w + h @ u)
        want.append(2 * h)
    want = np.stack(want, 1)
    compiled = tx.function(lambda a: [*rnn(a), last(a)])(x)
    for got_seq, got_state, got_last in ((seq, state, last(x)), compiled):
        np.testing.assert_allclose(np.asarray(got_seq), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(got_state), want[:, -1] / 2, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(got_last), want[:, -1], rtol=1e-5, atol=1e-6)


def _assert_values(y, values):
    """Every element of y is one of `values`, and each of them occurs."""
    near = [np.isclose(y, v, rtol=1e-6) for v in values]
    assert np.logical_or.reduce(near).all() and all(n.any() for n in near)


def test_dropout_masks_are_shared_over_time_and_redrawn_per_call():
    """With identity weights and a linear activation the outputs ARE the masks: 0 or
    1/(1-rate), the same at every step (as Keras), new at each training call, none at
    inference; the recurrent mask compounds over steps (h_t = mask**t with h_0 = 1)."""
    x = np.ones((64, 4, 8), np.float32)
    eye, zero = np.eye(8, dtype=np.float32), np.zeros((8, 8), np.float32)
    inp = layers.SimpleRNN(8, dropout=0.25, activation=None, use_bias=False,
                           return_sequences=True, seed=1)
    inp(x)
    inp.set_weights([eye, zero])
    compiled = tx.function(lambda a: inp(a, training=True))
    first = np.asarray(compiled(x))
    for y in (np.asarray(inp(x, training=True)), first):
        _assert_values(y, [0.0, 1 / 0.75])
        np.testing.assert_array_equal(y, np.repeat(y[:, :1], 4, axis=1))
        assert 0.15 < (y == 0).mean() < 0.35
    assert (np.asarray(compiled(x)) != first).any()
    np.testing.assert_array_equal(np.asarray(inp(x)), x)  # inference: no dropout
    rec = layers.SimpleRNN(8, recurrent_dropout=0.5, activation=None, use_bias=False,
                           return_sequences=True)
    rec(x)
    rec.set_weights([zero, eye])
    y = np.asarray(rec(x, initial_state=[np.ones((64, 8), np.float32)], training=True))
    for t in range(4):
        _assert_values(y[:, t], [0.0, 2.0 ** (t + 1)])
