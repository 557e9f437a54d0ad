"""Shapes computed from tensors under an input_signature's None dims: traced once as *_dynamic
ops, specialized per call shape into reshape/broadcast_to/tile (compiler/specialize.py)."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx
from compiler import dynamic_shape as D
from compiler.ir.graph import GraphBuilder
from compiler.ir.parser import parse_graph
from compiler.ir.printer import print_graph
from compiler.ir.types import F32, I32, TensorType
from compiler.ir.verify import verify_graph
from compiler.lowering.options import LoweringOptions
from compiler.lowering.stablehlo import lower_graph
from compiler.ops.constant import shape_of_op
from compiler.specialize import specialize

SIG = [tx.TensorSpec([None, 6], tx.float32)]
BATCHES = (1, 3, 5)
W = np.arange(1, 7, dtype=np.float32)


def _x(n: int) -> np.ndarray:
    return np.arange(n * 6, dtype=np.float32).reshape(n, 6) - 7.0


def _op_names(graph) -> set[str]:
    names = set()
    for op in graph.ops:
        names.add(op.name)
        for r in D.regions(op):
            names |= _op_names(r)
    return names


DYNAMIC = {"reshape_dynamic", "broadcast_dynamic", "tile_dynamic", "iota_dynamic"}

# name: (tx body under SIG, numpy reference, the dynamic op the trace must hold)
PATTERNS = {
    "reshape_stack": (lambda x: tx.reshape(x, tx.stack([tx.shape(x)[0], -1, 2])),
                      lambda x: x.reshape(len(x), -1, 2), "reshape_dynamic"),
    "reshape_list": (lambda x: tx.reshape(x, [tx.shape(x)[0] * 2, 3]),
                     lambda x: x.reshape(len(x) * 2, 3), "reshape_dynamic"),
    "reshape_flat_size": (lambda x: tx.reshape(x, tx.expand_dims(tx.size(x), 0)),
                          lambda x: x.reshape(-1), "reshape_dynamic"),
    "reshape_int64_shape": (lambda x: tx.reshape(x, tx.shape(x, tx.int64)[::-1]),
                            lambda x: x.reshape(6, len(x)), "reshape_dynamic"),
    "reshape_concat": (lambda x: tx.reshape(x, tx.concat([[3], tx.shape(x)[:1], [-1]], 0)),
                       lambda x: x.reshape(3, len(x), -1), "reshape_dynamic"),
    "zeros": (lambda x: tx.zeros(tx.shape(x)) + x, lambda x: x, "broadcast_dynamic"),
    "zeros_scalar_shape": (lambda x: tx.zeros(tx.shape(x)[0], tx.int64),
                           lambda x: np.zeros(len(x), np.int64), "broadcast_dynamic"),
    "ones_int": (lambda x: tx.ones(tx.shape(x)[:1], tx.int32),
                 lambda x: np.ones(len(x), np.int32), "broadcast_dynamic"),
    "fill": (lambda x: tx.fill(tx.stack([2, tx.shape(x)[0]]), 7.5),
             lambda x: np.full((2, len(x)), 7.5, np.float32), "broadcast_dynamic"),
    "broadcast_to": (lambda x: tx.broadcast_to(tx.constant(W), tx.shape(x)) * x,
                     lambda x: W * x, "broadcast_dynamic"),
    "broadcast_to_new_axis": (
        lambda x: tx.broadcast_to(x, tx.concat([[2], tx.shape(x)], 0)),
        lambda x: np.broadcast_to(x, (2, *x.shape)), "broadcast_dynamic"),
    "tile": (lambda x: tx.tile(x, tx.stack([1, tx.shape(x)[0]])),
             lambda x: np.tile(x, (1, len(x))), "tile_dynamic"),
    "tile_rows": (lambda x: tx.tile(tx.constant(W)[None], [tx.shape(x)[0], 1]),
                  lambda x: np.tile(W[None], (len(x), 1)), "tile_dynamic"),
    "range": (lambda x: tx.range(tx.shape(x)[0]), lambda x: np.arange(len(x), dtype=np.int32),
              "iota_dynamic"),
    "range_step": (lambda x: tx.range(1, tx.shape(x)[0] * 3, 2),
                   lambda x: np.arange(1, len(x) * 3, 2, dtype=np.int32), "iota_dynamic"),
    "range_down_float": (lambda x: tx.range(tx.shape(x)[0], 0, -1, dtype=tx.float32),
                         lambda x: np.arange(len(x), 0, -1, dtype=np.float32), "iota_dynamic"),
    "range_positions": (lambda x: x + tx.cast(tx.range(tx.size(x) // tx.shape(x)[0]),
                                              tx.float32),
                        lambda x: x + np.arange(6, dtype=np.float32), "iota_dynamic"),
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_under_none_dims_at_several_batch_sizes(name):
    body, ref, op = PATTERNS[name]
    f = tx.function(body, input_signature=SIG)
    assert op in _op_names(f.get_concrete_function().graph)  # traced once, dynamic
    for n in BATCHES:
        got = f(_x(n)).numpy()
        want = np.asarray(ref(_x(n)))
        assert got.shape == want.shape and got.dtype == want.dtype, (n, got.shape, want.shape)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_static_shapes_keep_the_static_ops(name):
    """With static shapes the value is known at trace time: no *_dynamic op, same results."""
    body, ref, _ = PATTERNS[name]
    f = tx.function(body)
    assert not _op_names(f.get_concrete_function(tx.constant(_x(4))).graph) & DYNAMIC
    np.testing.assert_array_equal(f(_x(4)).numpy(), ref(_x(4)))
    np.testing.assert_array_equal(body(tx.constant(_x(2))).numpy(), ref(_x(2)))  # eager


def test_specialized_graph_has_only_static_ops_and_verifies():
    f = tx.function(lambda x: (PATTERNS["reshape_stack"][0](x), PATTERNS["tile"][0](x),
                               PATTERNS["fill"][0](x)), input_signature=SIG)
    g = f.get_concrete_function().graph
    s = specialize(g, (TensorType(F32, (4, 6)),))
    verify_graph(s)
    assert not _op_names(s) & DYNAMIC
    assert {"reshape", "tile", "broadcast_to"} <= _op_names(s)
    assert [t.shape for t in s.output_types] == [(4, 3, 2), (4, 24), (2, 4)]
    # the traced graph (with the dynamic ops) prints and parses back: what export stores
    assert print_graph(parse_graph(print_graph(g))) == print_graph(g)


def _traced_shape(body, *specs) -> tuple:
    return tx.function(body, input_signature=list(specs)).get_concrete_function() \
        .graph.output_types[0].shape


def test_specialized_program_is_the_static_one():
    """After specialization and passes, the shape arithmetic is gone: the optimized graph (and
    so the executable, by its compile key) is the one a static trace gives."""
    def body(x, dynamic):
        for k in range(3):
            x = x + tx.tanh(x * float(k))
            x = tx.reshape(x, tx.stack([tx.shape(x)[0], -1]) if dynamic else [4, 6])
        return tx.zeros(tx.shape(x) if dynamic else [4, 6]) + x

    graphs = []
    for dynamic, sig in ((True, SIG), (False, [tx.TensorSpec([4, 6])])):
        f = tx.function(lambda x, d=dynamic: body(x, d), input_signature=sig)
        f(_x(4))
        (compiled,) = f.get_concrete_function().executables.values()
        graphs.append(print_graph(compiled.optimized))
    assert graphs[0] == graphs[1]


def test_known_entries_give_the_traced_type():
    spec = tx.TensorSpec([None, 3, 4])
    # the input's own unknown dim cancels: -1 is known (TF's reshape shape function does this)
    assert _traced_shape(lambda x: tx.reshape(x, tx.stack([tx.shape(x)[0], -1, 2])),
                         spec) == (None, 6, 2)
    assert _traced_shape(lambda x: tx.reshape(x, [-1, tx.shape(x)[0] * 3]), spec) == (None, None)
    assert _traced_shape(lambda x, y: tx.reshape(x, [tx.shape(y)[0], -1]), spec,
                         tx.TensorSpec([None])) == (None, None)  # another tensor's dim
    assert _traced_shape(lambda x: tx.zeros(tx.shape(x)), SIG[0]) == (None, 6)
    assert _traced_shape(lambda x: tx.tile(x, [tx.shape(x)[0], 2]), SIG[0]) == (None, 12)


def test_flatten_then_dense_layer_with_gradient():
    """The common `tf.reshape(x, [tf.shape(x)[0], -1])` before a matmul: the last dim is
    static at trace time, so a weight of the right shape fits and the gradient flows."""
    w = tx.Variable(np.linspace(-1, 1, 12 * 2, dtype=np.float32).reshape(12, 2))

    @tx.function(input_signature=[tx.TensorSpec([None, 3, 4])])
    def f(x):
        with tx.GradientTape() as tape:
            flat = tx.reshape(x, [tx.shape(x)[0], -1])
            loss = tx.reduce_sum(tx.matmul(flat, w) ** 2)
        return loss, tape.gradient(loss, w)

    for n in (2, 3):
        x = np.arange(n * 12, dtype=np.float32).reshape(n, 3, 4) / 10
        flat = x.reshape(n, -1)
        loss, g = f(x)
        np.testing.assert_allclose(loss.numpy(), ((flat @ w.numpy()) ** 2).sum(), rtol=1e-5)
        np.testing.assert_allclose(g.numpy(), 2 * flat.T @ (flat @ w.numpy()), rtol=1e-5)


def test_shape_size_and_range_loop_after_specialization():
    @tx.function(input_signature=SIG)
    def f(x):
        s = tx.shape(x)
        acc = tx.zeros([6])
        for i in tx.range(s[0]):  # the trip count is the batch size
            rows = tx.reshape(tx.ones(s) * x, tx.stack([-1, s[1]]))  # shape from a capture
            acc = acc + tx.reduce_sum(rows, axis=0) + tx.cast(i, tx.float32)
        return acc, s, tx.size(x), tx.rank(x), tx.zeros_like(x), x.shape[1]

    for n in BATCHES:
        x = _x(n)
        acc, s, size, rank, z, d1 = f(x)
        np.testing.assert_allclose(acc.numpy(), n * x.sum(0) + n * (n - 1) / 2)
        np.testing.assert_array_equal(s.numpy(), [n, 6])
        assert int(size) == n * 6 and int(rank) == 2 and int(d1) == 6
        np.testing.assert_array_equal(z.numpy(), np.zeros((n, 6), np.float32))


def test_loop_over_the_batch_indexing_rows():
    @tx.function(input_signature=SIG)
    def f(x):
        acc = tx.zeros([6])
        for i in tx.range(tx.shape(x)[0]):
            acc = acc + x[i] * tx.cast(i + 1, tx.float32) + x[-1]
        return acc

    for n in BATCHES:
        x = _x(n)
        np.testing.assert_allclose(f(x).numpy(), (x * np.arange(1, n + 1)[:, None]).sum(0)
                                   + n * x[-1])


def test_rnn_over_time_steps_with_unknown_batch():
    """x[:, t] with the batch unknown: a window whose other sizes are known per call shape."""
    wh = np.eye(3, dtype=np.float32) * 0.5

    @tx.function(input_signature=[tx.TensorSpec([None, 5, 3])])
    def rnn(x):
        h = tx.zeros(tx.stack([tx.shape(x)[0], 3]))
        for t in tx.range(5):
            h = tx.tanh(tx.matmul(h, tx.constant(wh)) + x[:, t])
        return h

    for n in (2, 4):
        x = np.random.default_rng(n).normal(size=(n, 5, 3)).astype(np.float32)
        h = np.zeros((n, 3), np.float32)
        for t in range(5):
            h = np.tanh(h @ wh + x[:, t])
        np.testing.assert_allclose(rnn(x).numpy(), h, rtol=1e-5, atol=1e-6)


def test_gradient_of_a_run_time_column():
    @tx.function(input_signature=SIG + [tx.TensorSpec([], tx.int32)])
    def f(x, i):
        with tx.GradientTape() as tape:
            tape.watch(x)
            loss = tx.reduce_sum(x[:, i] ** 2)
        return tape.gradient(loss, x)

    for n in (1, 3):
        want = np.zeros((n, 6), np.float32)
        want[:, -2] = 2 * _x(n)[:, -2]
        np.testing.assert_array_equal(f(_x(n), np.int32(-2)).numpy(), want)


def test_shape_used_inside_cond_branches():
    @tx.function(input_signature=SIG + [tx.TensorSpec([], tx.bool)])
    def f(x, p):
        s = tx.shape(x)
        return tx.cond(p, lambda: tx.reshape(x, tx.stack([2, s[0] * 3])),
                       lambda: tx.reshape(x * 2.0, tx.stack([2, -1])))

    for n in (2, 4):
        np.testing.assert_array_equal(f(_x(n), True).numpy(), _x(n).reshape(2, -1))
        np.testing.assert_array_equal(f(_x(n), False).numpy(), 2 * _x(n).reshape(2, -1))


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("call", [
    lambda x: tx.reshape(x, [tx.cast(tx.reduce_sum(x), tx.int32), -1]),
    lambda x: tx.zeros(tx.cast(x[0, :2], tx.int32)),
    lambda x: tx.tile(x, tx.stack([1, tx.cast(tx.reduce_max(x), tx.int32)])),
], ids=["reshape", "zeros", "tile"])
def test_shape_from_tensor_values_is_a_clear_error(call):
    f = tx.function(call, input_signature=SIG)
    with pytest.raises(TypeError) as e:
        f(_x(2))
    msg = str(e.value)
    assert msg.split(":")[0] in ("reshape", "zeros", "tile")
    assert "depends on the value of argument 0 (f32[?,6])" in msg
    assert "read by " in msg and "test_dynamic_shapes.py:" in msg


def test_loop_counter_shape_is_a_clear_error():
    @tx.function(input_signature=SIG)
    def f(x):
        acc = tx.zeros([1])
        for i in tx.range(3):
            acc = acc + tx.reduce_sum(tx.tile(x, tx.stack([1, i])))
        return acc

    with pytest.raises(TypeError, match=r"tile: multiples must be known at trace time.*"
                                        r"loop variable.*test_dynamic_shapes\.py:\d+"):
        f(_x(2))


def test_wrong_element_count_at_call_time_names_reshape_and_line():
    f = tx.function(lambda x: tx.reshape(x, tx.stack([-1, tx.shape(x)[0] + 1])),
                    input_signature=SIG)
    np.testing.assert_array_equal(f(_x(2)).numpy(), _x(2).reshape(-1, 3))
    with pytest.raises(TypeError, match=r"reshape: cannot reshape f32\[4,6\].*"
                                         r"test_dynamic_shapes\.py:\d+"):
        f(_x(4))  # 24 elements into [-1, 5]


def test_range_that_cannot_reach_its_limit_names_range_and_line():
    f = tx.function(lambda x: tx.range(tx.shape(x)[0], 3), input_signature=SIG)
    np.testing.assert_array_equal(f(_x(1)).numpy(), [1, 2])
    with pytest.raises(ValueError, match=r"range: start cannot reach limit.*-2.*"
                                         r"test_dynamic_shapes\.py:\d+"):
        f(_x(5))


def _graph_reading_a_shape_input():
    b = GraphBuilder("g")
    x = b.add_input(TensorType(F32, (None, 6)))
    s = b.add_input(TensorType(I32, (2,)))
    (y,) = b.add_op(D.reshape_dynamic_op, [x, s], {"known": (None, None)}, "user.py:7")
    return b.build([y])


def test_specialize_refuses_a_shape_read_from_an_input():
    with pytest.raises(D.DynamicShapeError, match=r"reshape: .*depends on the value of input 1 "
                                                  r"\(i32\[2\]\).*user\.py:7"):
        specialize(_graph_reading_a_shape_input(),
                   (TensorType(F32, (2, 6)), TensorType(I32, (2,))))


def test_lowering_never_sees_a_dynamic_op():
    b = GraphBuilder("g")
    x = b.add_input(TensorType(F32, (2, 6)))
    (s,) = b.add_op(shape_of_op, [x])
    (y,) = b.add_op(D.reshape_dynamic_op, [x, s], {"known": (None, None)})
    g = b.build([y])
    with pytest.raises(Exception, match="specialize"):
        lower_graph(g, LoweringOptions("cpu"))
    lower_graph(specialize(g, g.input_types), LoweringOptions("cpu"))  # rewritten: lowers


# ---------------------------------------------------------------- gradients
def test_gradients_through_dynamic_reshape_tile_broadcast():
    @tx.function(input_signature=SIG)
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            a = tx.reshape(x, tx.stack([tx.shape(x)[0], -1, 2]))
            b = tx.tile(x, tx.stack([1, tx.shape(x)[0]]))
            c = tx.broadcast_to(tx.reduce_sum(x * x), tx.shape(x))
            w = tx.tile(tx.constant(W), tx.expand_dims(tx.shape(x)[0], 0))
            loss = tx.reduce_sum(a * a) + tx.reduce_sum(b * w) + tx.reduce_sum(c)
        return tape.gradient(loss, x)

    for n in BATCHES:
        x = _x(n)
        # d/dx: 2x from a; each x[i, j] appears n times in b, weighted W[j]; c sums n*6 copies
        want = 2 * x + n * W[None] + 2 * x * x.size
        np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-6)


@pytest.mark.parametrize("spec,target,shape", [
    ([None, 1], lambda x: tx.stack([tx.shape(x)[0], 3]), (4, 1)),  # the None dim not broadcast
    ([None, 1], lambda x: tx.stack([2, 3]) + tx.shape(x) * 0, (1, 1)),  # ... broadcast (1 -> 2)
    ([None, 3], lambda x: tx.concat([[2], tx.shape(x)], 0), (2, 3)),  # a new leading axis
    ([None, None], lambda x: tx.stack([5, tx.shape(x)[1] * 0 + 4]), (1, 4)),
    ([None, 2], lambda x: tx.shape(x), (0, 2)),  # empty
])
def test_gradient_of_broadcast_from_unknown_dims(spec, target, shape):
    @tx.function(input_signature=[tx.TensorSpec(spec)])
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.broadcast_to(x, target(x))
            w = tx.cast(tx.reshape(tx.range(tx.size(y)), tx.shape(y)), tx.float32)
            loss = tx.reduce_sum(y * w)
        return y, tape.gradient(loss, x)

    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1
    y, g = f(x)
    np.testing.assert_array_equal(y.numpy(), np.broadcast_to(x, y.shape))
    w = np.arange(np.prod(y.shape), dtype=np.float32).reshape(y.shape)
    lead = w.ndim - x.ndim
    want = w.sum(axis=tuple(range(lead)))
    want = want.sum(axis=tuple(i for i, d in enumerate(x.shape) if d == 1 and want.shape[i] != 1),
                    keepdims=True)
    np.testing.assert_array_equal(g.numpy(), want.reshape(x.shape))


# ---------------------------------------------------------------- saved models
class Model(tx.Module):
    def __init__(self):
        super().__init__()
        self.w = tx.Variable(W, name="w")

    @tx.function(input_signature=SIG)
    def __call__(self, x):
        rows = tx.reshape(x * self.w, tx.stack([tx.shape(x)[0], -1, 2]))
        ones = tx.ones(tx.shape(x)[:1])
        return tx.reduce_sum(rows, axis=2), ones, tx.tile(x, tx.stack([tx.shape(x)[0], 1]))


def test_export_round_trip_runs_two_batch_sizes(tmp_path):
    m = Model()
    path = str(tmp_path / "model.tfx")
    tx.saved_model.save(m, path)
    loaded = tx.saved_model.load(path)
    for n in (2, 5):
        x = _x(n)
        a, ones, t = loaded(x)
        np.testing.assert_allclose(a.numpy(), (x * W).reshape(n, -1, 2).sum(2), rtol=1e-6)
        np.testing.assert_array_equal(ones.numpy(), np.ones(n, np.float32))
        np.testing.assert_array_equal(t.numpy(), np.tile(x, (n, 1)))


def test_export_loads_in_a_fresh_process(tmp_path):
    """The loader alone (no test modules, nothing traced there) parses, verifies and
    specializes the *_dynamic ops per call shape."""
    from tests.export._helpers import run_in_fresh_process

    m = Model()
    path = tmp_path / "model.tfx"
    tx.saved_model.save(m, str(path))
    report = run_in_fresh_process(path, [(None, (_x(2),)), (None, (_x(3),))], tmp_path / "child")
    for n, (a, ones, t) in zip((2, 3), report["outputs"]):
        np.testing.assert_allclose(a, (_x(n) * W).reshape(n, -1, 2).sum(2), rtol=1e-6)
        np.testing.assert_array_equal(ones, np.ones(n, np.float32))
        np.testing.assert_array_equal(t, np.tile(_x(n), (n, 1)))
