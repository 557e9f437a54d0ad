"""Issue 18 convnet workloads for bench/models.py: a CNN training step and a ResNet basic block.

    cnn_train:  batch 32, 32x32x3 NHWC f32, labels int32[32]; three conv3x3 stride 2
                (3->32->64->128, SAME, no bias) each + BatchNorm in training mode (batch
                moments, gamma/beta) + relu, spatial mean, dense 128->10, mean sparse softmax
                cross-entropy; one SGD step (lr 0.01) on all weights.
                Output: [loss, dloss/dw1 flattened].
    resblock:   batch 8, 56x56x64 NHWC f32, inference: relu(bn(conv3x3(x))), bn(conv3x3(.)),
                + x, relu; BN uses fixed moving statistics (inference mode).

numpy (float64) checks the forward values (the loss, the block output); the training step's
filter gradient is checked peer against peer (every peer against jax.jit).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

LR = 0.01
EPS = 1e-3
SIZES = {"full": {"cnn_train": (32, 32), "resblock": (8, 56, 64)},
         "quick": {"cnn_train": (4, 8), "resblock": (1, 8, 8)}}


# ---------------------------------------------------------------- data
def train_data(size: str = "full", seed: int = 0) -> tuple[dict, tuple]:
    b, hw = SIZES[size]["cnn_train"]
    rng = np.random.default_rng(seed)
    p = {}
    for i, (ci, co) in enumerate(((3, 32), (32, 64), (64, 128)), 1):
        w = rng.standard_normal((3, 3, ci, co)) * np.sqrt(2 / (9 * ci))
        p[f"w{i}"] = w.astype(np.float32)
        p[f"g{i}"] = np.ones(co, np.float32)
        p[f"b{i}"] = np.zeros(co, np.float32)
    p["wd"] = (rng.standard_normal((128, 10)) / np.sqrt(128)).astype(np.float32)
    p["bd"] = np.zeros(10, np.float32)
    x = rng.standard_normal((b, hw, hw, 3)).astype(np.float32)
    y = rng.integers(0, 10, b).astype(np.int32)
    return p, (x, y)


def block_data(size: str = "full", seed: int = 0) -> tuple[dict, tuple]:
    b, hw, c = SIZES[size]["resblock"]
    rng = np.random.default_rng(seed)
    p = {}
    for i in (1, 2):
        p[f"w{i}"] = (rng.standard_normal((3, 3, c, c)) * np.sqrt(2 / (9 * c))).astype(np.float32)
        p[f"g{i}"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
        p[f"b{i}"] = rng.uniform(-0.1, 0.1, c).astype(np.float32)
        p[f"m{i}"] = rng.uniform(-0.1, 0.1, c).astype(np.float32)
        p[f"v{i}"] = rng.uniform(0.5, 2.0, c).astype(np.float32)
    return p, (rng.standard_normal((b, hw, hw, c)).astype(np.float32),)


# ---------------------------------------------------------------- numpy (float64)
def _np_conv(h, w, stride):
    n, hh, ww, _ = h.shape
    oh, ow = -(-hh // stride), -(-ww // stride)
    ph, pw = max((oh - 1) * stride + 3 - hh, 0), max((ow - 1) * stride + 3 - ww, 0)
    hp = np.pad(h, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    return sum(hp[:, i:i + stride * oh:stride, j:j + stride * ow:stride] @ w[i, j]
               for i in range(3) for j in range(3))


def np_train(p, data):
    x, y = data
    h = x
    for i in (1, 2, 3):
        h = _np_conv(h, p[f"w{i}"], 2)
        m, v = h.mean((0, 1, 2)), h.var((0, 1, 2))
        h = np.maximum((h - m) / np.sqrt(v + EPS) * p[f"g{i}"] + p[f"b{i}"], 0)
    z = h.mean((1, 2)) @ p["wd"] + p["bd"]
    z = z - z.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return np.array([-logp[np.arange(len(y)), y.astype(int)].mean()])  # the loss only


def np_block(p, data):
    (x,) = data
    h = x
    for i in (1, 2):
        h = (_np_conv(h, p[f"w{i}"], 1) - p[f"m{i}"]) / np.sqrt(p[f"v{i}"] + EPS) * p[f"g{i}"]
        h = h + p[f"b{i}"]
        h = np.maximum(h, 0) if i == 1 else h
    return np.maximum(h + x, 0)


# ---------------------------------------------------------------- tfx and tf: one source
def _lib_train_forward(lib, vs, x):
    h = x
    for i in (1, 2, 3):
        h = lib.nn.conv2d(h, vs[f"w{i}"], strides=2, padding="SAME")
        m, v = lib.nn.moments(h, axes=[0, 1, 2])
        h = lib.nn.relu(lib.nn.batch_normalization(h, m, v, vs[f"b{i}"], vs[f"g{i}"], EPS))
    return lib.matmul(lib.reduce_mean(h, axis=[1, 2]), vs["wd"]) + vs["bd"]


def lib_train(lib, vs, x, y):
    names = sorted(vs)
    with lib.GradientTape() as tape:
        logits = _lib_train_forward(lib, vs, x)
        loss = lib.reduce_mean(
            lib.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    grads = tape.gradient(loss, [vs[k] for k in names])
    for k, g in zip(names, grads):
        vs[k].assign_sub(LR * g)
    return lib.concat([lib.reshape(loss, [1]), lib.reshape(grads[names.index("w1")], [-1])], 0)


def lib_block(lib, vs, x):
    h = x
    for i in (1, 2):
        h = lib.nn.conv2d(h, vs[f"w{i}"], strides=1, padding="SAME")
        h = lib.nn.batch_normalization(h, vs[f"m{i}"], vs[f"v{i}"], vs[f"b{i}"], vs[f"g{i}"], EPS)
        h = lib.nn.relu(h) if i == 1 else h
    return lib.nn.relu(h + x)


# ---------------------------------------------------------------- jax
def _jconv(h, w, s):
    return jax.lax.conv_general_dilated(h, w, (s, s), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _jax_loss(p, x, y):
    h = x
    for i in (1, 2, 3):
        h = _jconv(h, p[f"w{i}"], 2)
        m = h.mean((0, 1, 2))
        v = jnp.square(h - m).mean((0, 1, 2))
        h = jax.nn.relu((h - m) * jax.lax.rsqrt(v + EPS) * p[f"g{i}"] + p[f"b{i}"])
    z = h.mean((1, 2)) @ p["wd"] + p["bd"]
    logp = jax.nn.log_softmax(z)
    return -jnp.take_along_axis(logp, y[:, None], 1).mean()


def jax_train(p, x, y):
    """One SGD step: returns (new params, [loss, dloss/dw1 flattened])."""
    loss, g = jax.value_and_grad(_jax_loss)(p, x, y)
    new = jax.tree_util.tree_map(lambda a, b: a - LR * b, p, g)
    return new, jnp.concatenate([loss[None], g["w1"].ravel()])


def jax_block(p, x):
    h = x
    for i in (1, 2):
        h = (_jconv(h, p[f"w{i}"], 1) - p[f"m{i}"]) * jax.lax.rsqrt(p[f"v{i}"] + EPS)
        h = h * p[f"g{i}"] + p[f"b{i}"]
        h = jax.nn.relu(h) if i == 1 else h
    return jax.nn.relu(h + x)


def make_jax_train(model, params, data):
    f = jax.jit(model, donate_argnums=0)
    state = [jax.device_put(params)]
    args = [jax.device_put(a) for a in data]

    def call():
        state[0], out = f(state[0], *args)
        return out

    return call, lambda out: out.block_until_ready()
