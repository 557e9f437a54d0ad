"""compiler.graph_vjp: the forward (results + residuals) and backward graphs of a graph's vjp,
evaluated with the ops' numpy references against the joint graph and jax.grad."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import compiler.ops  # noqa: F401  (registers every OpDef)
from compiler.graph_vjp import impure_ops, joint_vjp, recompute_vjp, split_vjp
from compiler.ir.graph import GraphBuilder, walk
from compiler.ir.types import F32, TensorType
from compiler.ir.verify import verify_graph
from compiler.registry import REGISTRY

T = TensorType(F32, (3, 4))
W = TensorType(F32, (4, 4))


def op(b, name, *ins, **attrs):
    return b.add_op(REGISTRY[name], ins, attrs)[0]


def chain_graph(layers=3):
    """x, w -> (sum(h*h), h) with h = h + tanh(h @ w), `layers` times."""
    b = GraphBuilder("chain")
    x, w = b.add_input(T), b.add_input(W)
    h = x
    for _ in range(layers):
        d = op(b, "dot_general", h, w, lhs_batch=(), lhs_contract=(1,), rhs_batch=(),
               rhs_contract=(0,))
        h = op(b, "add", h, op(b, "tanh", d))
    loss = op(b, "reduce_sum", op(b, "multiply", h, h), axes=(0, 1), keepdims=False)
    return b.build([loss, h])


def run(g, args):
    def apply(o, ins):
        r = o.opdef.reference(*ins, **o.attr_dict)
        return r if o.opdef.multiple_results else (np.asarray(r),)

    return walk(g, [np.asarray(a, np.float32) for a in args], apply)


def ref_loss(x, w, layers=3):
    h = x
    for _ in range(layers):
        h = h + jnp.tanh(h @ w)
    return jnp.sum(h * h)


def test_split_forward_backward_equal_the_joint_graph_and_jax():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4)) * 0.5, rng.standard_normal((4, 4)) * 0.5
    g = chain_graph()
    sp = split_vjp(g, ct_outputs=[0], grad_inputs=[0, 1])
    for part in (sp.forward, sp.backward):
        verify_graph(part)
    fwd = run(sp.forward, [x, w])
    assert len(fwd) == sp.num_outputs + sp.num_residuals and sp.num_residuals >= 1
    saved = [[x, w][i] for i in sp.input_residuals]
    grads = run(sp.backward, [*fwd[sp.num_outputs:], *saved, np.float32(1.0)])
    joint = run(joint_vjp(g, [0], [0, 1]), [x, w, np.float32(1.0)])
    np.testing.assert_allclose(fwd[0], joint[0], rtol=1e-6)
    for a, b in zip(grads, joint[2:]):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    jx, jw = jax.grad(ref_loss, (0, 1))(x.astype(np.float32), w.astype(np.float32))
    np.testing.assert_allclose(grads[0], jx, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grads[1], jw, rtol=1e-4, atol=1e-5)


def test_small_residuals_are_packed_into_one_buffer_per_dtype():
    g = chain_graph(layers=4)
    packed = split_vjp(g, [0], [1])
    apart = split_vjp(g, [0], [1], pack=False)
    assert apart.num_residuals > 2 and packed.num_residuals == 1
    assert packed.forward.outputs[-1].type.rank == 1
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 4)) * 0.5, rng.standard_normal((4, 4)) * 0.5
    out = []
    for sp in (packed, apart):
        fwd = run(sp.forward, [x, w])
        saved = [[x, w][i] for i in sp.input_residuals]
        out.append(run(sp.backward, [*fwd[sp.num_outputs:], *saved, np.float32(2.0)]))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-6)


def test_only_asked_gradients_and_cotangents():
    g = chain_graph()
    sp = split_vjp(g, ct_outputs=[1], grad_inputs=[0])  # d(h)/dx with a cotangent on h only
    assert len(sp.backward.outputs) == 1 and sp.backward.outputs[0].type == T
    assert sp.backward.inputs[-1].type == T  # h's cotangent comes last


def test_recompute_backward_takes_every_input():
    g = chain_graph()
    sp = recompute_vjp(g, [0], [1])
    assert sp.forward is g and sp.num_residuals == 0 and sp.input_residuals == (0, 1)
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((3, 4)) * 0.5, rng.standard_normal((4, 4)) * 0.5
    (dw,) = run(sp.backward, [x, w, np.float32(1.0)])
    jw = jax.grad(ref_loss, 1)(x.astype(np.float32), w.astype(np.float32))
    np.testing.assert_allclose(dw, jw, rtol=1e-4, atol=1e-5)


def test_impure_ops_are_listed():
    assert impure_ops(chain_graph()) == []
