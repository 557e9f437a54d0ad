"""End-to-end training: GradientTape + optimizers + Variables + tx.Module, eagerly and as one
compiled `@tx.function` train step; the step's compiled program; errors inside train steps."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx

MODES = ("eager", "compiled")
HERE = Path(__file__)


def _line(tag: str) -> int:
    """The line of this file ending with the comment `# LINE:<tag>`."""
    lines = HERE.read_text().splitlines()
    hits = [i + 1 for i, s in enumerate(lines) if s.rstrip().endswith(f"# LINE:{tag}")]
    assert len(hits) == 1, tag
    return hits[0]


def _where(tag: str) -> str:
    return f"{HERE.name}:{_line(tag)}"


# ---------------------------------------------------------------- models
class Dense(tx.Module):
    def __init__(self, n_in, n_out, seed, activation=None, name=None):
        super().__init__(name=name)
        self.w = tx.Variable(tx.glorot_uniform_initializer(seed)([n_in, n_out]), name="w")
        self.b = tx.Variable(tx.zeros([n_out]), name="b")
        self.activation = activation

    def __call__(self, x):
        y = tx.matmul(x, self.w) + self.b
        return y if self.activation is None else self.activation(y)


class MLP(tx.Module):
    def __init__(self, sizes, seed=0):
        super().__init__()
        n = len(sizes) - 1
        self.layers = [Dense(a, b, seed + i, tx.nn.relu if i + 1 < n else None)
                       for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def make_train_step(model, opt, mode):
    """Forward + backward + update; compiled, the three form one @tx.function."""

    def step(x, y):
        with tx.GradientTape() as tape:
            logits = model(x)
            loss = tx.reduce_mean(tx.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return tx.function(step) if mode == "compiled" else step


# ---------------------------------------------------------------- data
def _blobs(n=1000, k=10, d=20, seed=0):
    """`k` Gaussian blobs in `d` dimensions (unit noise, well-separated centres)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.0, (k, d))
    y = rng.integers(0, k, n)
    x = centres[y] + rng.normal(0.0, 0.6, (n, d))
    return x.astype(np.float32), y.astype(np.int32)


X_BLOBS, Y_BLOBS = _blobs()
SIZES = (20, 32, 32, 10)


def _accuracy(model, x, y) -> float:
    return float((np.argmax(model(tx.constant(x)).numpy(), axis=1) == y).mean())


# ---------------------------------------------------------------- linear regression
W_TRUE = np.array([[1.5], [-2.0], [0.5], [3.0]])
B_TRUE = -0.7


class Linear(tx.Module):
    def __init__(self):
        super().__init__()
        self.w = tx.Variable(tx.zeros([4, 1]), name="w")
        self.b = tx.Variable(0.0, name="b")

    def __call__(self, x):
        return tx.matmul(x, self.w) + self.b


@pytest.mark.parametrize("mode", MODES)
def test_linear_regression_sgd_recovers_the_weights(mode):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    y = (x @ W_TRUE + B_TRUE + rng.normal(0, 0.01, (256, 1))).astype(np.float32)
    model, opt = Linear(), tx.optimizers.SGD(0.1)

    def step(x, y):
        with tx.GradientTape() as tape:
            loss = tx.reduce_mean(tx.square(model(x) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    if mode == "compiled":
        step = tx.function(step)
    xt, yt = tx.constant(x), tx.constant(y)
    losses = [float(step(xt, yt)) for _ in range(100)]

    np.testing.assert_allclose(model.w.numpy(), W_TRUE, atol=1e-2)
    assert abs(float(model.b.numpy()) - B_TRUE) < 1e-2
    # Tighter: the least-squares solution of the noisy data, which full-batch GD converges to.
    sol = np.linalg.lstsq(np.c_[x, np.ones(256)].astype(np.float64), y, rcond=None)[0]
    np.testing.assert_allclose(model.w.numpy(), sol[:4], atol=1e-4)
    np.testing.assert_allclose(float(model.b.numpy()), sol[4, 0], atol=1e-4)
    assert losses[-1] < 2e-4 < losses[0]
    assert int(opt.iterations.numpy()) == 100
    if mode == "compiled":
        assert step.experimental_get_tracing_count() == 1


# ---------------------------------------------------------------- MLP classifier
STEPS = 25


@pytest.mark.parametrize("mode", MODES)
def test_mlp_adam_fits_gaussian_blobs(mode):
    model = MLP(SIZES)
    opt = tx.optimizers.Adam(0.01)
    step = make_train_step(model, opt, mode)
    x, y = tx.constant(X_BLOBS), tx.constant(Y_BLOBS)
    assert _accuracy(model, X_BLOBS, Y_BLOBS) < 0.5
    losses = [float(step(x, y)) for _ in range(STEPS)]
    assert _accuracy(model, X_BLOBS, Y_BLOBS) > 0.95
    assert losses[-1] < losses[0] / 5
    assert int(opt.iterations.numpy()) == STEPS
    if mode == "compiled":
        assert step.experimental_get_tracing_count() == 1


OPTIMIZERS = {
    "adam": lambda: tx.optimizers.Adam(0.01),
    "sgd_momentum": lambda: tx.optimizers.SGD(0.1, momentum=0.9),
    "rmsprop": lambda: tx.optimizers.RMSprop(0.003),
}


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_eager_and_compiled_training_agree(opt):
    """The same ops from the same initial weights: the losses of the first steps agree up to
    float32 rounding differences (XLA fuses the compiled step; eager runs op by op). Measured
    differences are ~1e-7 relative; the bound is 1e-5. Training continues compiled and the loss
    keeps falling."""
    x, y = tx.constant(X_BLOBS), tx.constant(Y_BLOBS)
    runs = {}
    for mode in MODES:
        model = MLP(SIZES)
        step = make_train_step(model, OPTIMIZERS[opt](), mode)
        runs[mode] = (model, step, [float(step(x, y)) for _ in range(5)])
    eager, compiled = runs["eager"][2], runs["compiled"][2]
    np.testing.assert_allclose(compiled, eager, rtol=1e-5)
    assert all(b < a for a, b in zip(eager, eager[1:])), eager
    for ve, vc in zip(runs["eager"][0].variables, runs["compiled"][0].variables):
        np.testing.assert_allclose(vc.numpy(), ve.numpy(), rtol=1e-4, atol=1e-6)

    model, step, losses = runs["compiled"]
    losses += [float(step(x, y)) for _ in range(15)]
    assert losses[-1] < losses[0] / 2, losses
    assert step.experimental_get_tracing_count() == 1


# ---------------------------------------------------------------- the compiled program
def _dot_count(ir: str) -> int:
    return sum(" = dot_general " in line for line in ir.splitlines())


def test_train_step_compiles_forward_backward_and_update_into_one_function():
    model, opt = MLP(SIZES), tx.optimizers.Adam(0.01)
    step = make_train_step(model, opt, "compiled")
    forward = tx.function(lambda x: model(x))
    x, y = tx.constant(X_BLOBS[:64]), tx.constant(Y_BLOBS[:64])
    step(x, y)  # the first call creates Adam's slots (during the trace)

    fwd_ir = forward.experimental_get_compiler_ir(x)(stage="ir")
    ir = step.experimental_get_compiler_ir(x, y)(stage="ir")
    n_layers = len(SIZES) - 1
    assert _dot_count(fwd_ir) == n_layers
    # Forward L matmuls; backward L weight gradients and L - 1 input gradients (none for the
    # data, which is not differentiated): 3L - 1 in all.
    assert _dot_count(ir) == 3 * n_layers - 1
    assert ir.count("func @") == 1 and " call " not in ir

    # Inputs: x, y, every variable (weights, Adam's slots, iterations) and the learning rate
    # (a float64 Variable read, never written, so `opt.learning_rate = x` needs no retrace);
    # outputs: the loss and every variable's new value, whose buffers are donated.
    n_vars = len(model.variables) + len(opt.variables)
    assert n_vars == 2 * n_layers * 3 + 1
    header = ir.splitlines()[0]
    params, results = header.split(" -> ")
    types = re.compile(r"\b[a-z]+\d+\[[\d,]*\]")
    assert len(types.findall(params)) == 3 + n_vars, header
    assert len(types.findall(results)) == 1 + n_vars, header
    hlo = step.experimental_get_compiler_ir(x, y)(stage="hlo")
    donors = hlo.split("buffer_donor={", 1)[1].split("}, entry", 1)[0]
    assert donors.count("(") == n_vars, donors
    assert step.experimental_get_tracing_count() == 1


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("mode", MODES)
def test_gradient_of_integer_loss_is_a_type_error(mode):
    model = MLP((4, 3))

    def step(x):
        with tx.GradientTape() as tape:
            predicted = tx.argmax(model(x), axis=1)
            errors = tx.reduce_sum(tx.cast(tx.not_equal(predicted, 0), tx.int32))
        return tape.gradient(errors, model.trainable_variables)  # LINE:int_target

    if mode == "compiled":
        step = tx.function(step)
    with pytest.raises(TypeError) as e:
        step(tx.constant(np.ones((2, 4), np.float32)))
    msg = str(e.value)
    assert "floating" in msg and "i32" in msg, msg
    assert _where("int_target") in msg, msg


def test_variable_created_on_a_retrace_is_a_value_error():
    model = MLP((4, 3))

    @tx.function
    def step(x):
        scale = tx.Variable(lambda: tx.ones([3]), name="scale")  # LINE:var_retrace
        return tx.reduce_sum(model(x) * scale)

    step(tx.constant(np.ones((2, 4), np.float32)))  # the first trace may create it
    with pytest.raises(ValueError) as e:
        step(tx.constant(np.ones((5, 4), np.float32)))  # a new batch size retraces
    msg = str(e.value)
    assert "first trace" in msg and "'scale'" in msg, msg
    assert _where("var_retrace") in msg, msg
    assert step.experimental_get_tracing_count() == 1  # the failed trace is not kept


def test_optimizer_created_inside_the_train_step_fails_on_the_retrace():
    """A classic mistake: the optimizer (its `iterations` Variable) built inside the step."""
    model = MLP((4, 3))

    @tx.function
    def step(x):
        opt = tx.optimizers.Adam(0.01)  # LINE:opt_retrace
        with tx.GradientTape() as tape:
            loss = tx.reduce_sum(tx.square(model(x)))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                model.trainable_variables))
        return loss

    w0 = model.layers[0].w.numpy()
    step(tx.constant(np.ones((2, 4), np.float32)))
    assert not np.array_equal(model.layers[0].w.numpy(), w0)  # the first call trained
    with pytest.raises(ValueError) as e:
        step(tx.constant(np.ones((5, 4), np.float32)))
    msg = str(e.value)
    assert "first trace" in msg, msg
    assert _where("opt_retrace") in msg, msg


def test_variable_created_once_survives_retraces():
    """The supported pattern: create on the first trace only, then reuse."""

    class Scaled(tx.Module):
        def __init__(self):
            super().__init__()
            self.scale = None

        @tx.function
        def __call__(self, x):
            if self.scale is None:
                self.scale = tx.Variable(lambda: tx.fill([4], 2.0), name="scale")
            return tx.reduce_sum(x * self.scale)

    m = Scaled()
    assert float(m(tx.constant(np.ones((2, 4), np.float32)))) == 16.0
    assert float(m(tx.constant(np.ones((3, 4), np.float32)))) == 24.0
    assert len(m.trainable_variables) == 1


@pytest.mark.parametrize("mode", MODES)
def test_assigning_a_wrong_shape_in_a_train_step_is_a_value_error(mode):
    model = MLP((4, 3))
    w, b = model.layers[0].w, model.layers[0].b
    w0, b0 = w.numpy(), b.numpy()

    def step(x):
        with tx.GradientTape() as tape:
            loss = tx.reduce_sum(tx.square(model(x)))
        gw, gb = tape.gradient(loss, [w, b])
        b.assign_sub(0.1 * gb)
        w.assign_sub(0.1 * tx.transpose(gw))  # LINE:bad_assign
        return loss

    if mode == "compiled":
        step = tx.function(step)
    with pytest.raises(ValueError) as e:
        step(tx.constant(np.ones((2, 4), np.float32)))
    msg = str(e.value)
    assert "'w:0'" in msg and "[3, 4]" in msg and "[4, 3]" in msg, msg
    assert _where("bad_assign") in msg, msg
    np.testing.assert_array_equal(w.numpy(), w0)
    if mode == "compiled":  # nothing ran: no partial update of b either
        np.testing.assert_array_equal(b.numpy(), b0)


@pytest.mark.parametrize("mode", MODES)
def test_apply_gradients_with_a_wrong_shape_names_the_callers_line(mode):
    model = MLP((4, 3))
    opt = tx.optimizers.SGD(0.1)

    def step(x):
        with tx.GradientTape() as tape:
            loss = tx.reduce_sum(tx.square(model(x)))
        gw, gb = tape.gradient(loss, [model.layers[0].w, model.layers[0].b])
        opt.apply_gradients([(tx.transpose(gw), model.layers[0].w)])  # LINE:bad_apply
        return loss

    if mode == "compiled":
        step = tx.function(step)
    with pytest.raises(ValueError) as e:
        step(tx.constant(np.ones((2, 4), np.float32)))
    msg = str(e.value)
    assert "'w:0'" in msg and "[3, 4]" in msg and "[4, 3]" in msg, msg
    assert _where("bad_apply") in msg, msg
