"""The rest of tf.nn against outputs recorded once from TF 2.21 (tests/oracles/nn_more.npz, by
tests/oracles/record_nn_more.py), eagerly and compiled; plus what a table entry cannot say:
fractional pooling's random sequences, the RNN cell wrappers, aliases and errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tfx_core.ops.nn.fractional import pool_with_sequences

DATA = np.load(Path(__file__).parents[1] / "oracles" / "nn_more.npz")


def _inputs(case: str) -> list[np.ndarray]:
    out, i = [], 0
    while f"{case}__in{i}" in DATA.files:
        out.append(DATA[f"{case}__in{i}"])
        i += 1
    return out


def _outputs(case: str) -> list[np.ndarray]:
    out, i = [], 0
    while f"{case}__out{i}" in DATA.files:
        out.append(DATA[f"{case}__out{i}"])
        i += 1
    return out


def _morph(name: str):
    op, pad, st, rt = name.split("_")
    strides, rates = [1, int(st[0]), int(st[1]), 1], [1, int(rt[0]), int(rt[1]), 1]
    return lambda v, w: getattr(tx.nn, op)(v, w, strides, pad, "NHWC", rates)


def _calls() -> dict:
    calls = {
        "argmax_3x3_s1": lambda v: tx.nn.max_pool_with_argmax(v, 3, 1, "SAME"),
        "lrn": lambda v: tx.nn.local_response_normalization(v, 2, 1.5, 0.3, 0.75),
        "lrn_default": tx.nn.lrn,
        "weighted_ce": tx.nn.weighted_cross_entropy_with_logits,
        "log_poisson_full": lambda t, c: tx.nn.log_poisson_loss(t, c, True),
        "isotonic_1": tx.nn.isotonic_regression,
        "isotonic_0": lambda v: tx.nn.isotonic_regression(v, decreasing=False),
        "isotonic_axis0": lambda v: tx.nn.isotonic_regression(v, axis=0),
        "isotonic_int32": tx.nn.isotonic_regression,
        "avg_loss_per_example_weights": tx.nn.compute_average_loss,
        "depth_to_space_NHWC": lambda v: tx.nn.depth_to_space(v, 2),
        "depth_to_space_NCHW": lambda v: tx.nn.depth_to_space(v, 2, "NCHW"),
        "space_to_depth_NHWC": lambda v: tx.nn.space_to_depth(v, 2),
        "space_to_depth_NCHW": lambda v: tx.nn.space_to_depth(v, 2, data_format="NCHW"),
        "atrous_transpose_SAME": lambda v, w: tx.nn.atrous_conv2d_transpose(
            v, w, [1, 7, 8, 4], 2, "SAME"),
        "atrous_transpose_VALID": lambda v, w: tx.nn.atrous_conv2d_transpose(
            v, w, [1, 11, 12, 4], 2, "VALID"),
        "in_top_k": lambda t, p: tx.nn.in_top_k(t, p, 1),
        "in_top_k2": lambda t, p: tx.nn.in_top_k(t, p, 2),
        "softmax_ce_axis0": lambda a, b: tx.nn.softmax_cross_entropy_with_logits(a, b, axis=0),
        "softmax_ce_rank3_axis1": lambda a, b: tx.nn.softmax_cross_entropy_with_logits(
            a, b, axis=1),
        "sparse_ce_rank3": tx.nn.sparse_softmax_cross_entropy_with_logits,
    }
    for pad in ("SAME", "VALID"):
        for b in (0, 1):
            calls[f"argmax_{pad}_{b}"] = lambda v, p=pad, b=b: tx.nn.max_pool_with_argmax(
                v, [1, 2, 3, 1], [1, 2, 2, 1], p, include_batch_in_index=bool(b))
        for kind in ("MAX", "AVG"):
            calls[f"pool_{kind}_{pad}"] = lambda v, k=kind, p=pad: tx.nn.pool(
                v, [2, 3], k, padding=p, dilations=[2, 2])
    for name in DATA.files:
        case = name.split("__")[0]
        if case.startswith(("dilation2d_", "erosion2d_")):
            calls[case] = _morph(case)
    return calls


CALLS = _calls()
CASES = sorted(CALLS)


def test_every_recorded_case_is_checked():
    recorded = {n.split("__")[0] for n in DATA.files if "__" in n}
    assert recorded - set(CALLS) <= {n for n in recorded if n.startswith(
        ("fractional_", "collapse_repeated"))}


def _compare(got, want, case):
    got = got if isinstance(got, (tuple, list)) else (got,)
    assert len(got) == len(want), case
    for g, w in zip(got, want):
        g = g.numpy()
        assert g.shape == w.shape, case
        if w.dtype.kind == "f":
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6, err_msg=case)
        else:
            np.testing.assert_array_equal(g, w, err_msg=case)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("case", CASES)
def test_matches_tf(case, compiled):
    fn = tx.function(CALLS[case]) if compiled else CALLS[case]
    args = [tx.constant(a) for a in _inputs(case)]
    if f"{case}__error" in DATA.files:  # TF rejects it (pool SAME with dilations): so do we
        with pytest.raises(ValueError, match="dilations"):
            fn(*args)
        return
    _compare(fn(*args), _outputs(case), case)


# ---------------------------------------------------------------- fractional pooling
FRACTIONAL = sorted({n.split("__")[0] for n in DATA.files if n.startswith("fractional_")})


@pytest.mark.parametrize("case", FRACTIONAL)
def test_fractional_pool_with_tf_sequences(case):
    """Given TF's (seeded) row/col sequences, our pooling is TF's, eagerly and compiled."""
    _, kind, flags = case.split("_")
    out, rows, cols = _outputs(case)
    (x,) = _inputs(case)

    def run(v):
        return pool_with_sequences(v, rows, cols, flags[1] == "1", kind)

    _compare(run(tx.constant(x)), [out], case)
    _compare(tx.function(run)(tx.constant(x)), [out], case)


def _np_fractional(x, rows, cols, overlapping, kind):
    def region(seq, i, n):
        return slice(seq[i], min(seq[i + 1] + (1 if overlapping else 0), n))

    out = np.empty((x.shape[0], len(rows) - 1, len(cols) - 1, x.shape[3]), x.dtype)
    for i in range(len(rows) - 1):
        for j in range(len(cols) - 1):
            win = x[:, region(rows, i, x.shape[1]), region(cols, j, x.shape[2])]
            out[:, i, j] = win.max((1, 2)) if kind == "max" else win.mean((1, 2))
    return out


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("pseudo_random,overlapping", [(False, False), (True, True)])
def test_fractional_pool_sequences_and_output(kind, pseudo_random, overlapping):
    x = np.random.default_rng(3).standard_normal((2, 10, 11, 2)).astype(np.float32)
    fn = getattr(tx.nn, f"fractional_{kind}_pool")

    def call(v):
        return fn(v, [1.0, 1.44, 1.73, 1.0], pseudo_random=pseudo_random,
                  overlapping=overlapping, seed=5)

    out, rows, cols = call(tx.constant(x))
    rows, cols = rows.numpy(), cols.numpy()
    assert rows.dtype == cols.dtype == np.int64
    for seq, n, m in ((rows, 10, 6), (cols, 11, 6)):  # floor(10 / 1.44), floor(11 / 1.73)
        assert len(seq) == m + 1 and seq[0] == 0 and seq[-1] == n
        assert set(np.diff(seq)) <= {n // m, n // m + 1}
    np.testing.assert_allclose(out.numpy(), _np_fractional(x, rows, cols, overlapping, kind),
                               rtol=1e-5, atol=1e-6)
    again = tx.function(call)(tx.constant(x))  # same seed, same sequences, compiled
    np.testing.assert_array_equal(again[1].numpy(), rows)
    np.testing.assert_allclose(again[0].numpy(), out.numpy(), rtol=1e-6)


def test_fractional_max_pool_gradient_goes_to_each_region_max():
    x = tx.constant(np.random.default_rng(4).permutation(60).reshape(1, 6, 10, 1)
                    .astype(np.float32))
    with tx.GradientTape() as tape:
        tape.watch(x)
        out, rows, cols = tx.nn.fractional_max_pool(x, [1.0, 1.5, 1.5, 1.0], seed=1)
    g = tape.gradient(out, x).numpy()
    want = np.zeros_like(g)
    xv = x.numpy()
    r, c = rows.numpy(), cols.numpy()
    for i in range(len(r) - 1):
        for j in range(len(c) - 1):
            win = xv[0, r[i]:r[i + 1], c[j]:c[j + 1], 0]
            a, b = np.unravel_index(np.argmax(win), win.shape)
            want[0, r[i] + a, c[j] + b, 0] += 1
    np.testing.assert_array_equal(g, want)


# ---------------------------------------------------------------- isotonic regression
def test_isotonic_gradient_averages_within_segments():
    """TF's gradient: each element gets the mean upstream gradient of its segment."""
    x = tx.constant(np.array([[1, 3, 2, 4, 3.5, 5]], np.float32))
    w = np.array([[1, 2, 3, 4, 5, 6]], np.float32)
    with tx.GradientTape() as tape:
        tape.watch(x)
        y, seg = tx.nn.isotonic_regression(x, decreasing=False)
        target = tx.reduce_sum(y * w)
    g = tape.gradient(target, x).numpy()
    s = seg.numpy()
    want = np.array([[w[0][s[0] == k].mean() for k in s[0]]])
    np.testing.assert_allclose(g, want, rtol=1e-6)


# ---------------------------------------------------------------- collapse_repeated
def test_collapse_repeated():
    labels, lengths = _inputs("collapse_repeated")
    want = _outputs("collapse_repeated")
    _compare(tx.nn.collapse_repeated(tx.constant(labels), tx.constant(lengths)), want, "eager")
    # compiled: the output width needs the values at trace time (constants here)
    const = tx.function(lambda: tx.nn.collapse_repeated(tx.constant(labels),
                                                        tx.constant(lengths)))
    _compare(const(), want, "compiled")
    with pytest.raises(tx.errors.UnimplementedError, match="collapse_repeated.*data-dependent"):
        tx.function(tx.nn.collapse_repeated)(tx.constant(labels), tx.constant(lengths))


# ---------------------------------------------------------------- RNN cell wrappers
def _cell_and_inputs():
    cell = tx.keras.layers.SimpleRNNCell(3, kernel_initializer="ones",
                                         recurrent_initializer="ones")
    x = tx.constant(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
    h = [tx.constant(np.full((2, 3), 0.1, np.float32))]
    return cell, x, h


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_residual_and_device_wrappers(compiled):
    cell, x, h = _cell_and_inputs()
    base_out, base_state = cell(x, h)
    res = tx.nn.RNNCellResidualWrapper(cell)
    dev = tx.nn.RNNCellDeviceWrapper(cell, "/cpu:0")
    run = tx.function if compiled else (lambda f: f)
    out, state = run(lambda a, b: res(a, [b]))(x, h[0])
    np.testing.assert_allclose(out.numpy(), base_out.numpy() + x.numpy(), rtol=1e-6)
    np.testing.assert_allclose(state[0].numpy(), base_state[0].numpy(), rtol=1e-6)
    out, _ = run(lambda a, b: dev(a, [b]))(x, h[0])
    np.testing.assert_allclose(out.numpy(), base_out.numpy(), rtol=1e-6)
    assert res.state_size == cell.state_size and res.output_size == 3
    custom = tx.nn.RNNCellResidualWrapper(cell, residual_fn=lambda i, o: o - i)
    np.testing.assert_allclose(custom(x, h)[0].numpy(), base_out.numpy() - x.numpy(), rtol=1e-6)


def test_dropout_wrapper():
    cell, x, h = _cell_and_inputs()
    base_out, base_state = cell(x, h)
    same = tx.nn.RNNCellDropoutWrapper(cell)
    np.testing.assert_allclose(same(x, h)[0].numpy(), base_out.numpy(), rtol=1e-6)
    drop = tx.nn.RNNCellDropoutWrapper(cell, output_keep_prob=0.5, state_keep_prob=0.25,
                                       seed=3)
    out, state = drop(x, h)
    o, b = out.numpy(), base_out.numpy()
    assert np.all(np.isclose(o, 0) | np.isclose(o, b / 0.5, rtol=1e-6))
    s, bs = state[0].numpy(), base_state[0].numpy()
    assert np.all(np.isclose(s, 0) | np.isclose(s, bs / 0.25, rtol=1e-6))
    keep_in = tx.nn.RNNCellDropoutWrapper(cell, input_keep_prob=0.5, seed=1)
    assert keep_in(x, h)[0].shape == (2, 3)
    with pytest.raises(ValueError, match="input_keep_prob must be between 0 and 1"):
        tx.nn.RNNCellDropoutWrapper(cell, input_keep_prob=1.5)
    with pytest.raises(ValueError, match="variational_recurrent"):
        tx.nn.RNNCellDropoutWrapper(cell, variational_recurrent=True)


def test_wrapped_cell_runs_in_keras_rnn():
    cell, _, _ = _cell_and_inputs()
    layer = tx.keras.layers.RNN(tx.nn.RNNCellResidualWrapper(cell), return_sequences=True)
    seq = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    out = layer(tx.constant(seq)).numpy()
    h = np.zeros((2, 3), np.float32)
    for t in range(4):  # SimpleRNN with all-ones kernels, plus the residual input
        h_new = np.tanh(seq[:, t] @ np.ones((3, 3)) + h @ np.ones((3, 3)))
        np.testing.assert_allclose(out[:, t], h_new + seq[:, t], rtol=1e-5, atol=1e-6)
        h = h_new


# ---------------------------------------------------------------- aliases and errors
def test_aliases():
    assert tx.nn.top_k is tx.math.top_k
    assert tx.nn.in_top_k is tx.math.in_top_k and tx.nn.approx_max_k is tx.math.approx_max_k
    assert tx.nn.space_to_batch is tx.space_to_batch
    assert tx.nn.lrn is tx.nn.local_response_normalization
    assert tx.math.softsign is tx.nn.softsign
    assert tx.math.l2_normalize is tx.nn.l2_normalize
    assert tx.math.zero_fraction is tx.nn.zero_fraction


def test_errors_name_the_op_and_the_line():
    here = f"{Path(__file__).name}:"
    with pytest.raises(tx.errors.InvalidArgumentError,
                       match=f"sigmoid_cross_entropy_with_logits: .*same shape.*{here}"):
        tx.nn.sigmoid_cross_entropy_with_logits(np.zeros((2, 3), np.float32),
                                                np.zeros((3,), np.float32))
    with pytest.raises(TypeError, match=f"selu: .*floating.*i32.*{here}"):
        tx.nn.selu(np.array([1, 2], np.int32))
    with pytest.raises(ValueError, match="depth_to_space: depth 3 must be divisible"):
        tx.nn.depth_to_space(np.zeros((1, 2, 2, 3), np.float32), 2)
    with pytest.raises(ValueError, match="compute_average_loss: .*rank >= 1"):
        tx.nn.compute_average_loss(np.float32(1.0))
    with pytest.raises(ValueError, match="dilation2d: data_format must be 'NHWC'"):
        tx.nn.dilation2d(np.zeros((1, 3, 3, 1), np.float32), np.zeros((2, 2, 1), np.float32),
                         [1, 1, 1, 1], "SAME", "NCHW", [1, 1, 1, 1])


# ---------------------------------------------------------------- with_space_to_batch
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_with_space_to_batch_is_a_dilated_op(compiled):
    """A VALID conv run through with_space_to_batch at rate r is the r-dilated conv (SAME: the
    zero padding of the filter's span), and channels-first pools match channels-last ones."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 7, 8, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)

    def run(v):
        via = [tx.nn.with_space_to_batch(v, [2, 3], pad, lambda t, n, p: tx.nn.conv2d(t, w, 1, p),
                                          filter_shape=[3, 3]) for pad in ("SAME", "VALID")]
        direct = [tx.nn.conv2d(v, w, 1, pad, dilations=[2, 3]) for pad in ("SAME", "VALID")]
        first = tx.nn.pool(tx.transpose(v, [0, 3, 1, 2]), [2, 2], "AVG", padding="VALID",
                           dilations=[2, 1], data_format="NCHW")
        last = tx.nn.pool(v, [2, 2], "AVG", padding="VALID", dilations=[2, 1])
        return via, direct, tx.transpose(first, [0, 2, 3, 1]), last

    via, direct, first, last = (tx.function(run) if compiled else run)(tx.constant(x))
    for a, b in zip(via, direct):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(first.numpy(), last.numpy(), rtol=1e-6)


def test_softplus_gradient_is_sigmoid_at_the_kink_and_far_out():
    x = tx.constant([0.0, 2.0, -3.0, 100.0, -100.0, np.inf])
    for fn in (tx.nn.softplus, tx.math.softplus):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        np.testing.assert_allclose(tape.gradient(y, x).numpy(),
                                   [0.5, 1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(3.0)), 1, 0, 1],
                                   rtol=1e-6)
