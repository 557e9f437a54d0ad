"""Gathers, scatters and einsum beyond the op table: out-of-range indices (eager raises,
compiled follows XLA), gradients at the edges, einsum gradients for every table equation,
errors, lowering and constant folding."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx
from compiler.interpreters import bind
from compiler.ir.graph import GraphBuilder
from compiler.ir.types import TensorType
from compiler.lowering.options import LoweringOptions
from compiler.lowering.stablehlo import lower_graph
from compiler.registry import REGISTRY
from tests.optable.einsum import EINSUM_CASES
from tfx_core.ops import indexing_ops as X

MODES = ("eager", "compiled")
P = np.arange(15, dtype=np.float32).reshape(5, 3)


def _i(*v):
    return np.array(v, np.int32)


def _t(shape, dtype=tx.float32) -> TensorType:
    return TensorType(dtype, shape)


def _run(mode, fn, *arrays):
    f = tx.function(fn) if mode == "compiled" else fn
    out = f(*[tx.constant(a) for a in arrays])
    conv = lambda v: [conv(e) for e in v] if isinstance(v, (list, tuple)) else (  # noqa: E731
        None if v is None else v.numpy())
    return conv(out)


# ---------------------------------------------------------------- out-of-range indices
OOB = [
    ("gather", lambda i: tx.gather(P, i), _i(0, 5), r"gather: indices\[1\] = 5 is not in \[0, 5\)"),
    ("gather_neg", lambda i: tx.gather(P, i, axis=1), _i([0], [-1]),
     r"gather: indices\[1, 0\] = -1 is not in \[0, 3\)"),
    ("gather_nd", lambda i: tx.gather_nd(P, i), _i([4, 2], [1, 3]),
     r"gather_nd: indices\[1\] = \[1, 3\] does not index into shape \[5, 3\]"),
    ("scatter_nd", lambda i: tx.scatter_nd(i, [1.0, 2.0], [4]), _i([3], [4]),
     r"scatter_nd: indices\[1\] = \[4\] does not index into shape \[4\]"),
    ("update", lambda i: tx.tensor_scatter_nd_update(P, i, np.ones((1, 3), np.float32)),
     _i([-2]), r"tensor_scatter_nd_update: indices\[0\] = \[-2\]"),
    ("embedding", lambda i: X.embedding_lookup(P, i), _i([1, 7]), r"indices\[0, 1\] = 7"),
]


@pytest.mark.parametrize("fn,idx,msg", [c[1:] for c in OOB], ids=[c[0] for c in OOB])
def test_eager_out_of_range_raises(fn, idx, msg):
    with pytest.raises(IndexError, match=msg) as e:
        fn(tx.constant(idx))
    assert "XLA semantics" in str(e.value) and "test_indexing.py" in str(e.value)


def test_compiled_gather_clamps():
    i = _i([0, 7], [-3, 2])
    f = tx.function(lambda t: tx.gather(P, t, axis=0))
    np.testing.assert_array_equal(f(tx.constant(i)).numpy(), P[np.clip(i, 0, 4)])
    g = tx.function(lambda t: tx.gather_nd(P, t))
    np.testing.assert_array_equal(g(tx.constant(_i([9, 1], [2, -1]))).numpy(), P[[4, 2], [1, 0]])


def test_compiled_scatter_skips_out_of_range():
    f = tx.function(lambda t: tx.tensor_scatter_nd_add(P, t, tx.ones((4, 3))))
    want = P.copy()
    want[[1, 4]] += 1  # rows 5 and -1 are dropped
    np.testing.assert_array_equal(f(tx.constant(_i([1], [5], [-1], [4]))).numpy(), want)
    h = tx.function(lambda t: tx.scatter_nd(t, tx.constant([1.0, 2.0, 3.0]), [2, 2]))
    np.testing.assert_array_equal(h(tx.constant(_i([0, 1], [2, 0], [1, -1]))).numpy(),
                                  [[0, 1], [0, 0]])


def _dims(**kw):
    base = dict(offset_dims=(), collapsed_slice_dims=(), operand_batching_dims=(),
                start_indices_batching_dims=(), start_index_map=(), index_vector_dim=0,
                slice_sizes=())
    base.update(kw)
    return base


IR_GATHERS = [  # (operand shape, indices, attrs): out-of-range starts included
    ((5, 4), _i([0, 3], [4, 9], [-2, 1]),
     _dims(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0, 1),
           index_vector_dim=1, slice_sizes=(1, 2))),
    ((3, 5, 4), _i([1, 6], [0, -1], [4, 2]),
     _dims(offset_dims=(2,), collapsed_slice_dims=(1,), operand_batching_dims=(0,),
           start_indices_batching_dims=(0,), start_index_map=(1,), index_vector_dim=2,
           slice_sizes=(1, 1, 3))),
    ((4, 6), _i([[5], [0]], [[2], [-9]]),
     _dims(offset_dims=(0, 3), start_index_map=(1,), index_vector_dim=2, slice_sizes=(2, 3))),
]


@pytest.mark.parametrize("shape,idx,attrs", IR_GATHERS)
def test_gather_reference_matches_xla(shape, idx, attrs):
    """The reference drives constant folding, so it must clamp exactly like XLA."""
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    got = bind(REGISTRY["gather"], tx.constant(x), tx.constant(idx), **attrs).numpy()
    np.testing.assert_array_equal(got, REGISTRY["gather"].reference(x, idx, **attrs))


@pytest.mark.parametrize("mode", ["add", "update", "max", "min"])
@pytest.mark.parametrize("batched", [False, True])
def test_scatter_reference_matches_xla(mode, batched):
    rng = np.random.default_rng(1)
    if batched:  # per-batch windows of 2 along dim 1; starts 3 (fits), 4, -1 (dropped)
        x, idx, upd = rng.normal(size=(3, 5, 2)), _i([3, 4], [-1, 0], [1, 1]), rng.normal(
            size=(3, 2, 2, 2))
        attrs = dict(update_window_dims=(2, 3), inserted_window_dims=(), input_batching_dims=(0,),
                     scatter_indices_batching_dims=(0,), scatter_dims_to_operand_dims=(1,),
                     index_vector_dim=2)
    else:
        x, idx, upd = rng.normal(size=(4, 3)), _i([0, 1], [3, 2], [0, 1], [4, 0], [1, -1]), \
            rng.normal(size=(5, 2))
        attrs = dict(update_window_dims=(1,), inserted_window_dims=(0,), input_batching_dims=(),
                     scatter_indices_batching_dims=(), scatter_dims_to_operand_dims=(0, 1),
                     index_vector_dim=1)
    if mode == "update":  # no repeated windows: XLA's order is not specified
        idx, upd = (idx[:2], upd[:2]) if not batched else (_i([3, 4], [-1, 0], [0, 3]), upd)
    op = REGISTRY["scatter"]
    got = bind(op, *map(tx.constant, (x, idx, upd)), mode=mode, **attrs).numpy()
    np.testing.assert_allclose(got, op.reference(x, idx, upd, mode=mode, **attrs), 1e-15)


def test_constant_inputs_fold_to_the_same_values():
    f = tx.function(lambda: (tx.gather(tx.constant(P), tx.constant(_i(4, 0, 9))),
                             tx.tensor_scatter_nd_max(tx.constant(P), tx.constant(_i([1], [7])),
                                                      tx.constant(np.full((2, 3), 4.0,
                                                                          np.float32)))))
    a, b = f()
    np.testing.assert_array_equal(a.numpy(), P[[4, 0, 4]])
    want = P.copy()
    want[1] = np.maximum(want[1], 4)
    np.testing.assert_array_equal(b.numpy(), want)


def test_lowering_emits_gather_and_scatter():
    b = GraphBuilder("m")
    x = b.add_input(_t((5, 3)))
    i = b.add_input(_t((2, 1), tx.int32))
    (g,) = b.add_op(REGISTRY["gather"], [x, i], dict(
        offset_dims=(1,), collapsed_slice_dims=(0,), operand_batching_dims=(),
        start_indices_batching_dims=(), start_index_map=(0,), index_vector_dim=1,
        slice_sizes=(1, None)))
    (s,) = b.add_op(REGISTRY["scatter"], [x, i, g], dict(
        update_window_dims=(1,), inserted_window_dims=(0,), input_batching_dims=(),
        scatter_indices_batching_dims=(), scatter_dims_to_operand_dims=(0,), index_vector_dim=1,
        mode="max"))
    lowered = lower_graph(b.build([s]), LoweringOptions("cpu"))
    assert lowered.module.operation.verify()
    for piece in ("stablehlo.gather", "slice_sizes = array<i64: 1, 3>", "stablehlo.scatter",
                  "stablehlo.maximum", "tensor<2x3xf32>"):
        assert piece in lowered.text, lowered.text


# ---------------------------------------------------------------- gradients at the edges
def _grads(fn, *args):
    def g(*ts):
        with tx.GradientTape() as tape:
            for t in ts:
                tape.watch(t)
            y = fn(*ts)
        return tape.gradient(y, list(ts))

    return g


@pytest.mark.parametrize("mode", MODES)
def test_gather_gradient_sums_repeats_batch_dims(mode):
    x = np.random.default_rng(2).normal(size=(2, 4, 3))
    idx = _i([3, 3, 0], [1, 2, 1])
    w = np.random.default_rng(3).normal(size=(2, 3, 3))
    (g,) = _run(mode, _grads(lambda t: tx.reduce_sum(
        tx.gather(t, tx.constant(idx), axis=1, batch_dims=1) * w)), x)
    want = np.zeros_like(x)
    for b in range(2):
        np.add.at(want[b], idx[b], w[b])
    np.testing.assert_allclose(g, want, 1e-14)


def test_compiled_gather_gradient_goes_to_clamped_rows_with_unknown_dims():
    @tx.function(input_signature=[tx.TensorSpec([None, 3], tx.float32),
                                  tx.TensorSpec([None], tx.int32)])
    def f(p, i):
        with tx.GradientTape() as tape:
            tape.watch(p)
            y = tx.reduce_sum(tx.gather(p, i))
        return tape.gradient(y, p)

    g = f(tx.constant(P), tx.constant(_i(1, 9, -4))).numpy()
    np.testing.assert_array_equal(g[:, 0], [1, 1, 0, 0, 1])


def test_compiled_scatter_gradients_skip_dropped_updates_with_unknown_dims():
    specs = [tx.TensorSpec([None, 3], tx.float32), tx.TensorSpec([None, 1], tx.int32),
             tx.TensorSpec([None, 3], tx.float32)]

    @tx.function(input_signature=specs)
    def f(t, i, u):
        with tx.GradientTape(persistent=True) as tape:
            tape.watch([t, u])
            a = tx.reduce_sum(tx.tensor_scatter_nd_update(t, i, u) * 2.0)
            b = tx.reduce_sum(tx.tensor_scatter_nd_add(t, i, u) * 3.0)
        return tape.gradient(a, [t, u]) + tape.gradient(b, [t, u])

    ga_t, ga_u, gb_t, gb_u = (v.numpy() for v in f(
        tx.constant(P), tx.constant(_i([1], [7], [3])), tx.constant(np.ones((3, 3), np.float32))))
    np.testing.assert_array_equal(ga_t[:, 0], [2, 0, 2, 0, 2])  # overwritten rows: no gradient
    np.testing.assert_array_equal(ga_u[:, 0], [2, 0, 2])  # the dropped update: none
    np.testing.assert_array_equal(gb_t, np.full((5, 3), 3.0))
    np.testing.assert_array_equal(gb_u[:, 0], [3, 0, 3])


@pytest.mark.parametrize("mode", MODES)
def test_scatter_max_gradient_splits_ties(mode):
    """TF's rule: the cotangent is shared between the operand and the updates equal to the
    result."""
    t, u = np.array([1.0, 5.0, 2.0]), np.array([5.0, 5.0, 0.0, 3.0])
    idx = _i([1], [1], [0], [2])
    gt, gu = _run(mode, _grads(lambda a, b: tx.reduce_sum(
        tx.tensor_scatter_nd_max(a, tx.constant(idx), b) * np.array([1.0, 6.0, 10.0]))), t, u)
    np.testing.assert_allclose(gt, [1.0, 2.0, 0.0])
    np.testing.assert_allclose(gu, [2.0, 2.0, 0.0, 10.0])


# ---------------------------------------------------------------- einsum gradients
def _fd_einsum(eq, ops, w, k):
    """d sum(w * einsum) / d ops[k] by central differences (exact: einsum is linear in it)."""
    out = np.zeros_like(ops[k])
    for j in np.ndindex(ops[k].shape):
        hi = [o.copy() for o in ops]
        lo = [o.copy() for o in ops]
        hi[k][j] += 0.5
        lo[k][j] -= 0.5
        out[j] = np.sum(w * (np.einsum(eq, *hi) - np.einsum(eq, *lo)))
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("eq,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_gradient(mode, eq, shapes):
    if mode == "compiled" and eq not in ("...ij,...jk->...ik", "iji->j", "ab,bc,ca->",
                                         "bhqd,bhkd->bhqk", "i,i->i"):
        pytest.skip("compiled: a representative subset (each case costs an XLA compile)")
    rng = np.random.default_rng(len(eq))
    ops = [rng.normal(size=s) for s in shapes]
    w = rng.normal(size=np.shape(np.einsum(eq, *ops)))
    got = _run(mode, _grads(lambda *ts: tx.reduce_sum(tx.einsum(eq, *ts) * w)), *ops)
    for k, g in enumerate(got):
        np.testing.assert_allclose(g, _fd_einsum(eq, ops, w, k), 1e-12, 1e-12,
                                   err_msg=f"{eq} d/d(operand {k})")


# ---------------------------------------------------------------- errors
ERRORS = [
    (lambda: tx.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 2))), ValueError,
     r"index 'j' has sizes 3 and 4"),
    (lambda: tx.einsum("ij->k", np.ones((2, 3))), ValueError, "appears in no input"),
    (lambda: tx.einsum("ij", np.ones((2, 3, 4))), ValueError, "rank 3"),
    (lambda: tx.einsum("i2", np.ones((2, 3))), ValueError, "invalid subscripts"),
    (lambda: tx.einsum("...i->i", np.ones((2, 3))), ValueError, "output has no '...'"),
    (lambda: tx.einsum("ij,jk", np.ones((2, 3)), np.ones((3, 2)), np.ones(2)), ValueError,
     "names 2 operands but 3"),
    (lambda: tx.einsum("i,i", tx.ones([2]), tx.ones([2], tx.int32)), TypeError,
     "dtypes differ"),
    (lambda: tx.tensordot(np.ones((2, 3)), np.ones((2, 3)), 1), ValueError, "differ"),
    (lambda: tx.norm(np.ones((2, 2)), ord=-1, axis=(0, 1)), ValueError, "matrix norm"),
    (lambda: tx.norm(np.ones(3), ord="fro"), ValueError, "vector norm"),
    (lambda: tx.norm(np.ones(3), ord=0), ValueError, "vector norm"),
    (lambda: tx.gather(np.ones((2, 3)), [[0], [1]], axis=0, batch_dims=1), ValueError,
     r"axis=0 must be in \[batch_dims=1"),
    (lambda: tx.gather(np.ones(3), [0.5]), TypeError, "integer tensor"),
    (lambda: tx.tensor_scatter_nd_add(np.ones((3, 2)), [[0]], np.ones((1, 3))), ValueError,
     r"must have shape indices.shape\[:-1\] \+ shape\[1:\] = \[1, 2\]"),
    (lambda: tx.tensor_scatter_nd_add(tx.ones([3]), [[0]], tx.ones([1], tx.float64)),
     TypeError, "dtypes differ"),
    (lambda: tx.one_hot([0], 2, on_value=1.0, off_value=0), TypeError, "does not match"),
    (lambda: tx.one_hot([0], 2, on_value=1.5, dtype=tx.int32), TypeError, "do not match"),
    (lambda: X.embedding_lookup([np.ones((3, 2)), np.ones((1, 2))], [0]), ValueError,
     "'div' partition"),
    (lambda: tx.linalg.diag_part(np.ones((2, 3)), k=3), ValueError, r"k=3 must be in"),
    (lambda: tx.linalg.diag_part(np.ones((2, 3)), k=(1, -1)), ValueError, "lo <= hi"),
    (lambda: tx.linalg.diag_part(np.ones((2, 3)), k=(0, 1), align="UP"), ValueError, "align"),
]


@pytest.mark.parametrize("fn,cls,msg", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(fn, cls, msg):
    with pytest.raises(cls, match=msg):
        fn()


@pytest.mark.parametrize("mode", MODES)
def test_embedding_lookup_div_shards(mode):
    shards = [np.arange(6.0).reshape(3, 2), np.arange(6.0, 10.0).reshape(2, 2)]
    got = _run(mode, lambda a, b: X.embedding_lookup([a, b], tx.constant(_i(4, 0, 3))), *shards)
    np.testing.assert_array_equal(got, np.concatenate(shards)[[4, 0, 3]])
