"""Tape gradients of whole models (MLPs, softmax classifiers, a mixed shape-op network, a
tx.Module) vs `jax.grad` of the same math written with jax.numpy, eagerly and compiled.

jax is only the oracle here. The reference always runs in float64; float64 tfx runs are held
to rtol 1e-10 (both sides compute the same expression in double precision, so only rounding
differs), float32 ones to rtol 1e-5 / atol 1e-6 against the float64 reference.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tfx_core as tx

MODES = ("eager", "compiled")
TOL = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 1e-5, "atol": 1e-6}}
N, D_IN, H1, H2, D_OUT, K = 16, 5, 7, 6, 3, 4


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, name)))


# ---------------------------------------------------------------- models (tfx and jax.numpy)
def _mlp_params(rng):
    sizes = (D_IN, H1, H2, D_OUT)
    ps = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        ps += [rng.normal(0, 1 / np.sqrt(a), (a, b)), rng.normal(0, 0.5, (b,))]
    return ps, [rng.normal(size=(N, D_IN)), rng.normal(size=(N, D_OUT))]


def _mlp_tx(act, p, x, y):
    w1, b1, w2, b2, w3, b3 = p
    h = act(tx.matmul(x, w1) + b1)
    h = act(tx.matmul(h, w2) + b2)
    out = tx.matmul(h, w3) + b3
    return tx.reduce_mean(tx.square(out - y))


def _mlp_jax(act, p, x, y):
    w1, b1, w2, b2, w3, b3 = p
    h = act(x @ w1 + b1)
    h = act(h @ w2 + b2)
    out = h @ w3 + b3
    return jnp.mean((out - y) ** 2)


def _dense_softmax_params(rng):
    logits = rng.normal(size=(N, K))
    labels = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)  # soft labels, rows sum to 1
    # labels are a differentiated input as well (tf.nn.softmax_cross_entropy_with_logits
    # has a gradient w.r.t. labels).
    return [rng.normal(size=(D_IN, K)), rng.normal(size=(K,)), labels], \
        [rng.normal(size=(N, D_IN))]


def _dense_softmax_tx(p, x):
    w, b, labels = p
    logits = tx.matmul(x, w) + b
    return tx.reduce_mean(tx.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def _dense_softmax_jax(p, x):
    w, b, labels = p
    logits = x @ w + b
    return jnp.mean(-jnp.sum(labels * jax.nn.log_softmax(logits, axis=-1), axis=-1))


def _sparse_softmax_params(rng):
    y = rng.integers(0, K, N).astype(np.int32)
    return [rng.normal(size=(D_IN, K)), rng.normal(size=(K,))], [rng.normal(size=(N, D_IN)), y]


def _sparse_softmax_tx(p, x, y):
    w, b = p
    logits = tx.matmul(x, w) + b
    return tx.reduce_mean(tx.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def _sparse_softmax_jax(p, x, y):
    w, b = p
    logp = jax.nn.log_softmax(x @ w + b, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def _mixed_params(rng):
    return [rng.normal(size=(D_IN, 8)), rng.normal(size=(8,)), rng.normal(size=(4,)),
            rng.normal(size=(1, 4))], [rng.normal(size=(N, D_IN))]


def _mixed_tx(p, x):
    w1, b1, s, bias = p
    h = tx.tanh(tx.matmul(x, w1) + b1)                          # (n, 8)
    a, b = tx.split(h, 2, axis=1)                               # (n, 4) x 2
    c = tx.concat([a * b, a - b[:, ::-1]], axis=1)              # (n, 8)
    t = tx.transpose(tx.reshape(c, [-1, 2, 4]), [0, 2, 1])      # (n, 4, 2)
    m = tx.reduce_max(t, axis=2)                                # (n, 4)
    z = tx.where(m > 0.0, m * s, 0.1 * m) + bias                # broadcast (4,) and (1, 4)
    outer = z[:, None, :] * tx.reshape(s, [4, 1])               # (n, 4, 4)
    lo, hi = tx.split(outer, [1, 3], axis=1)
    return (tx.reduce_sum(hi ** 2) / N + tx.reduce_mean(lo)
            + tx.reduce_mean(h[::2, :3]) + tx.reduce_sum(tx.nn.softmax(z) * z[:, ::-1]))


def _mixed_jax(p, x):
    w1, b1, s, bias = p
    h = jnp.tanh(x @ w1 + b1)
    a, b = jnp.split(h, 2, axis=1)
    c = jnp.concatenate([a * b, a - b[:, ::-1]], axis=1)
    t = jnp.transpose(jnp.reshape(c, (-1, 2, 4)), (0, 2, 1))
    m = jnp.max(t, axis=2)
    z = jnp.where(m > 0.0, m * s, 0.1 * m) + bias
    outer = z[:, None, :] * jnp.reshape(s, (4, 1))
    lo, hi = outer[:, :1], outer[:, 1:]
    return (jnp.sum(hi ** 2) / N + jnp.mean(lo)
            + jnp.mean(h[::2, :3]) + jnp.sum(jax.nn.softmax(z) * z[:, ::-1]))


_gelu_tanh = functools.partial(tx.nn.gelu, approximate=True)
CASES = {
    "mlp_relu": (_mlp_params, functools.partial(_mlp_tx, tx.nn.relu),
                 functools.partial(_mlp_jax, jax.nn.relu)),
    "mlp_gelu": (_mlp_params, functools.partial(_mlp_tx, tx.nn.gelu),
                 functools.partial(_mlp_jax, functools.partial(jax.nn.gelu, approximate=False))),
    "mlp_gelu_tanh": (_mlp_params, functools.partial(_mlp_tx, _gelu_tanh),
                      functools.partial(_mlp_jax, functools.partial(jax.nn.gelu,
                                                                    approximate=True))),
    "softmax_dense": (_dense_softmax_params, _dense_softmax_tx, _dense_softmax_jax),
    "softmax_sparse": (_sparse_softmax_params, _sparse_softmax_tx, _sparse_softmax_jax),
    "mixed": (_mixed_params, _mixed_tx, _mixed_jax),
}


# ---------------------------------------------------------------- harness
def _jax_value_and_grad(jloss, params, data):
    """Loss and gradients w.r.t. every parameter, in float64."""
    with jax.enable_x64(True):
        ps = [jnp.asarray(np.asarray(p, np.float64)) for p in params]
        ds = [jnp.asarray(d.astype(np.float64) if d.dtype.kind == "f" else d) for d in data]
        # NOTE: jitted: op-by-op jax would compile every primitive separately (slow).
        loss, grads = jax.jit(jax.value_and_grad(jloss))(ps, *ds)
        return float(loss), [np.asarray(g) for g in grads]


def _as(a: np.ndarray, dtype: str) -> np.ndarray:
    return a.astype(dtype) if a.dtype.kind == "f" else a


def _tx_value_and_grad(txloss, params, data, dtype, mode, source):
    """Tape loss and gradients: params passed in as watched tensors, or captured Variables."""
    data_t = [tx.constant(_as(d, dtype)) for d in data]
    if source == "tensor":
        def run(ps, *ds):
            with tx.GradientTape() as tape:
                tape.watch(ps)
                loss = txloss(ps, *ds)
            return loss, tape.gradient(loss, ps)

        args = ([tx.constant(_as(p, dtype)) for p in params], *data_t)
    else:
        vs = [tx.Variable(_as(p, dtype), name=f"p{i}") for i, p in enumerate(params)]

        def run(*ds):
            with tx.GradientTape() as tape:
                loss = txloss(vs, *ds)
            return loss, tape.gradient(loss, vs)

        args = tuple(data_t)
    if mode == "compiled":
        run = tx.function(run)
    loss, grads = run(*args)
    if mode == "compiled":
        assert run.experimental_get_tracing_count() == 1
    return loss, grads


def _check(loss, grads, ref_loss, ref_grads, dtype):
    tol = TOL[dtype]
    assert loss.dtype == getattr(tx, dtype)
    np.testing.assert_allclose(loss.numpy(), ref_loss, **tol)
    assert len(grads) == len(ref_grads)
    for i, (g, r) in enumerate(zip(grads, ref_grads)):
        assert g is not None, f"no gradient for parameter {i}"
        assert g.dtype == getattr(tx, dtype), f"parameter {i}: {g.dtype}"
        assert tuple(g.shape) == r.shape, f"parameter {i}: {tuple(g.shape)} vs {r.shape}"
        np.testing.assert_allclose(g.numpy(), r, **tol, err_msg=f"gradient of parameter {i}")


# ---------------------------------------------------------------- tests
_REFS: dict[tuple[str, str], tuple[float, list[np.ndarray]]] = {}


# NOTE: float64 with parameters as watched tensors passed in, float32 with captured Variables
# (each combination costs compiles; this covers both dtypes and both sources per model).
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("dtype", "source"), [("float64", "tensor"), ("float32", "variable")])
@pytest.mark.parametrize("case", list(CASES))
def test_model_gradients_match_jax(case, dtype, source, mode):
    make, txloss, jloss = CASES[case]
    params, data = make(_rng(case))
    # NOTE: float32 runs start from float32-rounded inputs; the reference (in float64) too.
    params = [_as(p, dtype) for p in params]
    data = [_as(d, dtype) for d in data]
    if (case, dtype) not in _REFS:  # shared by the eager and compiled runs
        _REFS[case, dtype] = _jax_value_and_grad(jloss, params, data)
    ref_loss, ref_grads = _REFS[case, dtype]
    loss, grads = _tx_value_and_grad(txloss, params, data, dtype, mode, source)
    _check(loss, grads, ref_loss, ref_grads, dtype)


def test_mixed_network_exercises_both_where_branches_and_all_relu_signs():
    """Guards the test data: the comparisons above are only meaningful if `where` takes both
    branches and the ReLUs see both signs."""
    params, data = _mixed_params(_rng("mixed"))
    w1, b1 = params[0], params[1]
    h = np.tanh(data[0] @ w1 + b1)
    a, b = h[:, :4], h[:, 4:]
    c = np.concatenate([a * b, a - b[:, ::-1]], axis=1)
    m = c.reshape(-1, 2, 4).transpose(0, 2, 1).max(axis=2)
    assert 0.1 < (m > 0).mean() < 0.9
    ps, (x, _) = _mlp_params(_rng("mlp_relu"))
    pre = x @ ps[0] + ps[1]
    assert 0.1 < (pre > 0).mean() < 0.9


# ---------------------------------------------------------------- the TF pattern: tx.Module
class Dense(tx.Module):
    def __init__(self, n_in, n_out, seed, dtype, activation=None, name=None):
        super().__init__(name=name)
        self.w = tx.Variable(tx.glorot_uniform_initializer(seed)([n_in, n_out], dtype), name="w")
        self.b = tx.Variable(tx.random_normal_initializer(0.0, 0.1, seed)([n_out], dtype),
                             name="b")
        self.activation = activation

    def __call__(self, x):
        y = tx.matmul(x, self.w) + self.b
        return y if self.activation is None else self.activation(y)


class MLP(tx.Module):
    """Two hidden layers; the middle one is applied twice (tied weights, so its gradient is the
    sum over both uses), and a non-trainable temperature divides the logits."""

    def __init__(self, dtype, activation):
        super().__init__()
        self.inp = Dense(D_IN, H1, 1, dtype, activation)
        self.hidden = Dense(H1, H1, 2, dtype, activation)
        self.out = Dense(H1, K, 3, dtype)
        self.temperature = tx.Variable(np.asarray(1.5, dtype), trainable=False, name="temp")

    def __call__(self, x):
        return self.out(self.hidden(self.hidden(self.inp(x)))) / self.temperature

    def layers(self):
        return [self.inp, self.hidden, self.out]


def _module_jax(act, p, temp, x, y):
    w1, b1, w2, b2, w3, b3 = p
    h = act(x @ w1 + b1)
    h = act(h @ w2 + b2)
    h = act(h @ w2 + b2)
    logp = jax.nn.log_softmax((h @ w3 + b3) / temp, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("act", "dtype"), [("relu", "float64"), ("gelu", "float32")])
def test_module_trainable_variables_gradients_match_jax(act, dtype, mode):
    tx_act = {"relu": tx.nn.relu, "gelu": tx.nn.gelu}[act]
    jax_act = {"relu": jax.nn.relu,
               "gelu": functools.partial(jax.nn.gelu, approximate=False)}[act]
    model = MLP(dtype, tx_act)
    rng = _rng("module")
    x = rng.normal(size=(N, D_IN)).astype(dtype)
    y = rng.integers(0, K, N).astype(np.int32)

    tv = model.trainable_variables
    assert len(tv) == 6 and len(model.variables) == 7
    assert all(v is not model.temperature for v in tv)

    def grads(x, y):
        with tx.GradientTape() as tape:
            logits = model(x)
            loss = tx.reduce_mean(tx.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        g = tape.gradient(loss, [*model.trainable_variables, model.temperature])
        return loss, g

    if mode == "compiled":
        grads = tx.function(grads)
    loss, g = grads(tx.constant(x), tx.constant(y))
    # A non-trainable variable is not watched automatically: no gradient (as TF).
    assert g[-1] is None
    g = dict(zip(map(id, tv), g[:-1]))

    ordered = [v for layer in model.layers() for v in (layer.w, layer.b)]
    assert {id(v) for v in ordered} == set(g)
    ref_loss, ref = _jax_value_and_grad(
        lambda p, x, y: _module_jax(jax_act, p, 1.5, x, y), [v.numpy() for v in ordered],
        [x, y])
    _check(loss, [g[id(v)] for v in ordered], ref_loss, ref, dtype)
    if mode == "compiled":
        assert grads.experimental_get_tracing_count() == 1
