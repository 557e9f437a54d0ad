"""Issue 14's acceptance: ordinary TensorFlow code, written against `import tfx_core as tf`,
runs eagerly and under @tf.function: loop-counter indexing, shape arithmetic, TensorArray loops,
nest utilities, tf.errors handling, prints and asserts."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import tfx_core as tf

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 6, 3)).astype(np.float32)  # batch, time, features
W = RNG.standard_normal((3, 5)).astype(np.float32) * 0.5
U = RNG.standard_normal((5, 5)).astype(np.float32) * 0.5


def rnn(x, w, u):
    """A simple RNN over time with a loop counter, x[:, t], a TensorArray and shape arithmetic."""
    batch = tf.shape(x)[0]
    steps = tf.shape(x)[1]
    h = tf.zeros(tf.stack([batch, tf.shape(u)[0]]))
    outputs = tf.TensorArray(tf.float32, size=steps)
    for t in tf.range(steps):
        h = tf.tanh(tf.matmul(x[:, t], w) + tf.matmul(h, u))
        outputs = outputs.write(t, h)
    seq = tf.transpose(outputs.stack(), [1, 0, 2])
    tf.debugging.assert_equal(tf.shape(seq)[1], steps, message="one output per step")
    return tf.reshape(seq, [tf.shape(seq)[0], -1])


def rnn_numpy(x, w, u):
    h = np.zeros((x.shape[0], u.shape[0]), np.float32)
    out = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ w + h @ u)
        out.append(h)
    return np.stack(out, 1).reshape(x.shape[0], -1)


@pytest.mark.parametrize("mode", ["eager", "function", "signature"])
def test_rnn_program(mode):
    f = {"eager": rnn, "function": tf.function(rnn),
         "signature": tf.function(rnn, input_signature=[
             tf.TensorSpec([None, None, 3], tf.float32), tf.TensorSpec([3, 5], tf.float32),
             tf.TensorSpec([5, 5], tf.float32)])}[mode]
    for n in (4, 2):
        got = f(tf.constant(X[:n]), tf.constant(W), tf.constant(U))
        np.testing.assert_allclose(got.numpy(), rnn_numpy(X[:n], W, U), rtol=1e-5, atol=1e-6)


def test_training_loop_with_tape_over_a_compiled_model(capfd):
    w = tf.Variable(W)
    opt = tf.optimizers.SGD(0.1)
    model = tf.function(lambda x: tf.reduce_mean(tf.square(rnn(x, w, tf.constant(U)))))
    losses = []
    for step in range(3):
        with tf.GradientTape() as tape:
            loss = model(tf.constant(X))
        grads = tape.gradient(loss, [w])
        opt.apply_gradients(zip(grads, [w]))
        tf.print("step", step, "loss", loss, output_stream=sys.stdout)
        losses.append(float(loss))
    assert losses[2] < losses[0]
    assert capfd.readouterr().out.splitlines()[0].startswith("step 0 loss ")


def test_nest_errors_and_asserts_together():
    @tf.function
    def safe_log(d):
        flat = tf.nest.flatten(d)
        for v in flat:
            tf.debugging.assert_positive(v, message="log of a non-positive value")
        return tf.nest.map_structure(tf.math.log, d)

    out = safe_log({"b": tf.constant([1.0, np.e]), "a": (tf.constant(1.0),)})
    assert tf.nest.flatten(tf.nest.map_structure(lambda t: t.numpy().tolist(), out)) == \
        [0.0, 0.0, pytest.approx(1.0)]
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-positive"):
        safe_log({"b": tf.constant([1.0, -1.0]), "a": (tf.constant(1.0),)})
    try:
        tf.reshape(tf.zeros([2, 3]), [4])
    except tf.errors.InvalidArgumentError as e:
        assert "reshape" in str(e)
    else:
        raise AssertionError("reshape to a wrong size must raise")
