"""compiler.graph_vjp: the forward (results + residuals) and backward graphs of a graph's vjp,
evaluated with the ops' numpy references against the joint graph and jax.grad."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import compiler.ops  # noqa: F401  (registers every OpDef)
from compiler.graph_vjp import impure_ops, joint_vjp, pads_to_concatenate, recompute_vjp, split_vjp
from compiler.ir.graph import ConstArray, GraphBuilder, walk
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


def test_residuals_of_invariant_inputs_are_hoisted():
    """With w named invariant (a loop body's weight), what is computed from w alone (the
    transpose the matmul's vjp reads) comes from `hoisted`, not from the forward."""
    b = GraphBuilder("step")
    x, w = b.add_input(T), b.add_input(W)
    wt = op(b, "transpose", op(b, "tanh", w), perm=(1, 0))
    h = op(b, "tanh", op(b, "dot_general", x, wt, lhs_batch=(), lhs_contract=(1,), rhs_batch=(),
                         rhs_contract=(0,)))
    g = b.build([op(b, "reduce_sum", op(b, "multiply", h, h), axes=(0, 1), keepdims=False)])
    plain = split_vjp(g, [0], [0, 1], pack=False)
    sp = split_vjp(g, [0], [0, 1], pack=False, invariant_inputs=[1])
    assert sp.hoisted is not None and sp.invariant_inputs == (1,)
    assert len(sp.hoisted.outputs) >= 1 and sp.num_residuals < plain.num_residuals
    verify_graph(sp.hoisted)
    rng = np.random.default_rng(3)
    xv, wv = rng.standard_normal((3, 4)) * 0.5, rng.standard_normal((4, 4)) * 0.5
    fwd = run(sp.forward, [xv, wv])
    hoisted = run(sp.hoisted, [wv])
    saved = [[xv, wv][i] for i in sp.input_residuals]
    got = run(sp.backward, [*fwd[1:], *hoisted, *saved, np.float32(1.0)])
    want = run(joint_vjp(g, [0], [0, 1]), [xv, wv, np.float32(1.0)])[1:]
    for a, c in zip(got, want):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)


def _sum_of_pads(sizes, lows, total=None, axis=1):
    """z (3 x total) -> the sum of slices of z padded back to z's shape, as the vjp of a split
    makes; `lows` place the pieces (a tiling when they are the running offsets)."""
    b = GraphBuilder("pads")
    total = total or sum(sizes)
    z = b.add_input(TensorType(F32, (3, total)))
    zero = op(b, "constant", value=ConstArray(np.zeros((), np.float32)))
    acc = None
    for size, low in zip(sizes, lows):
        piece = op(b, "slice", z, begin=(0, low), end=(3, low + size), strides=(1, 1))
        lo, hi = [0, 0], [0, 0]
        lo[axis], hi[axis] = low, total - low - size
        p = op(b, "pad", op(b, "tanh", piece), zero, low=tuple(lo), high=tuple(hi),
               interior=(0, 0))
        acc = p if acc is None else op(b, "add", acc, p)
    return b.build([acc])


def test_a_sum_of_pads_tiling_an_axis_becomes_one_concatenate():
    g = _sum_of_pads([2, 3, 1], [3, 0, 5])  # pieces listed out of order
    new = pads_to_concatenate(g)
    verify_graph(new)
    assert [o.name for o in new.ops].count("concatenate") == 1
    z = np.random.default_rng(4).standard_normal((3, 6))
    np.testing.assert_allclose(run(new, [z])[0], run(g, [z])[0], rtol=1e-6)
    np.testing.assert_allclose(run(new, [z])[0], np.tanh(z), rtol=1e-6)
    gap = _sum_of_pads([2, 2], [0, 3], total=5)  # column 2 is no piece's: left alone
    overlap = _sum_of_pads([3, 3], [0, 2])
    assert pads_to_concatenate(gap) is gap and pads_to_concatenate(overlap) is overlap
