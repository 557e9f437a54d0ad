"""tx.image against tf.image outputs (and a few gradients) recorded once from TF 2.21
(tests/oracles/record_image.py -> image.npz), eagerly and under @tx.function."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.optable.image import np_nms
from tests.oracles.image_cases import CASES, Arr, Boxes, call, inputs, weights

DATA = np.load(Path(__file__).parents[1] / "oracles" / "image.npz")
# cases whose tx.image function has not landed yet
PENDING: set[str] = set()
# integer outputs of a float computation may land one step off TF's (rounding of x.5 values)
OFF_BY_ONE = {"hue_u8", "saturation_u8"}


def _is_arr(c) -> bool:
    return isinstance(c, (Arr, Boxes, np.ndarray))


def _tol(want: np.ndarray) -> dict:
    if want.dtype.kind in "iub":
        return {"rtol": 0, "atol": 0}
    single = want.dtype in (np.float32, np.float16)
    scale = max(1.0, float(np.max(np.abs(want), initial=0)))
    tol = 2e-3 if want.dtype == np.float16 else 1e-5 if single else 1e-11
    return {"rtol": tol, "atol": tol * scale}


def _fn(case, compiled: bool):
    args = inputs(case)
    is_arr = [_is_arr(c) for c in case.args]

    def f(*tensors):
        it = iter(tensors)
        return call(tx, case, [next(it) if a else v for v, a in zip(args, is_arr)])

    return (tx.function(f) if compiled else f), [tx.constant(v) for v, a in zip(args, is_arr)
                                                 if a]


CHECKED = [c for c in CASES if c.fn not in PENDING]
# Every case runs eagerly; the first case of each function (and a few more) also runs under
# @tx.function, to keep the file's compile time down (the optable runs each function compiled).
COMPILED = set({c.fn: c.name for c in reversed(CHECKED)}.values()) | {
    "resize_bicubic_down_aa", "resize_lanczos5_mixed_aa", "resize_u8_nearest", "cvt_f32_u8",
    "cvt_i32_u8", "hue_u8", "ssim_map"}


# results whose length depends on values: eager only (compiled code uses the padded form)
EAGER_ONLY = {"non_max_suppression", "non_max_suppression_with_scores",
              "non_max_suppression_overlaps"}


def _params(cases):
    return [pytest.param(c, m, id=f"{c.name}-{m}") for c in cases
            for m in ("eager", "compiled")
            if m == "eager" or (c.name in COMPILED and c.fn not in EAGER_ONLY)]


@pytest.mark.parametrize("sigma,score_threshold", [(0.0, 0.2), (0.3, 0.05), (1.0, -np.inf)])
def test_nms_with_scores_matches_numpy_greedy(sigma, score_threshold):
    """Eager (the length depends on values): picks and decayed scores as a plain greedy loop."""
    rng = np.random.default_rng(int(sigma * 10))
    c = rng.uniform(0, 0.7, (12, 2))
    boxes = np.concatenate([c, c + rng.uniform(0.1, 0.4, (12, 2))], 1).astype(np.float32)
    scores = (rng.permutation(12) / 12 + 0.01).astype(np.float32)
    idx, sc = tx.image.non_max_suppression_with_scores(boxes, scores, 8, 0.6, score_threshold,
                                                       sigma)
    want_idx, want_sc = np_nms(boxes, scores, 8, 0.6, score_threshold, sigma)
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    np.testing.assert_allclose(sc.numpy(), want_sc, rtol=1e-5)


def test_nms_compiled_needs_padded():
    """Compiled, non_max_suppression names the padded form; that one compiles and agrees."""
    case = next(c for c in CASES if c.name == "nms")
    boxes, scores, k, thr = inputs(case)
    # corners in order: the padded form takes every box's corner order from the first box
    boxes = np.concatenate([np.minimum(boxes[:, :2], boxes[:, 2:]),
                            np.maximum(boxes[:, :2], boxes[:, 2:])], 1)
    with pytest.raises(tx.errors.UnimplementedError, match="non_max_suppression_padded"):
        tx.function(lambda b, s: tx.image.non_max_suppression(b, s, k, thr))(boxes, scores)
    idx, n = tx.function(lambda b, s: tx.image.non_max_suppression_padded(
        b, s, k, thr, pad_to_max_output_size=True))(boxes[None], scores[None])
    want = DATA["nms__out0"]
    assert n.shape == (1,) and int(n[0]) == len(want) and idx.shape == (1, k)
    np.testing.assert_array_equal(idx.numpy()[0, :len(want)], want)


@pytest.mark.parametrize("case,mode", _params(CHECKED))
def test_output(case, mode):
    fn, tensors = _fn(case, mode == "compiled")
    out = fn(*tensors)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for i, o in enumerate(outs):
        want = DATA[f"{case.name}__out{i}"]
        got = o.numpy()
        assert got.shape == want.shape, f"{case.name}[{i}]: shape {got.shape} != TF's {want.shape}"
        assert got.dtype == want.dtype, f"{case.name}[{i}]: dtype {got.dtype} != TF's {want.dtype}"
        if case.name in OFF_BY_ONE:
            assert np.abs(got.astype(np.int64) - want).max() <= 1, case.name
        else:
            np.testing.assert_allclose(got, want, **_tol(want), err_msg=f"{case.name}[{i}]")


GRAD_CASES = [c for c in CHECKED if c.grad]


@pytest.mark.parametrize("case,mode", _params(GRAD_CASES))
def test_gradient(case, mode):
    fn, tensors = _fn(case, False)
    w = tx.constant(weights(case, DATA[f"{case.name}__out0"]))

    def g(x, w, *rest):
        with tx.GradientTape() as tape:
            tape.watch(x)
            loss = tx.reduce_sum(fn(x, *rest) * w)
        return tape.gradient(loss, x)

    g = tx.function(g) if mode == "compiled" else g
    got = g(tensors[0], w, *tensors[1:]).numpy()
    key = f"{case.name}__grad"
    if key in DATA:
        want = DATA[key]
        tol = 1e-4
        keep = np.ones(want.shape, bool)
    else:  # TF has no gradient for this kernel: differences of tx's own output, leaving out
        # the inputs that sit on a kink (where one-sided differences disagree)
        want, keep = _differences(lambda x: float(np.sum(fn(tx.constant(x), *tensors[1:])
                                                         .numpy() * w.numpy(), dtype=np.float64)),
                                  tensors[0].numpy())
        tol = 2e-3
        assert keep.mean() > 0.8, f"{case.name}: too many kinks"
    np.testing.assert_allclose(got[keep], want[keep], rtol=tol,
                               atol=tol * max(1.0, np.abs(want).max()), err_msg=case.name)


def _differences(f, x: np.ndarray, eps: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    out = np.zeros(x.shape, np.float64)
    keep = np.ones(x.shape, bool)
    f0 = f(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        fu, fd = f(up), f(down)
        out[i] = (fu - fd) / (2 * eps)
        keep[i] = abs((fu - f0) - (f0 - fd)) < 1e-2 * eps * max(1.0, abs(out[i]))
    return out, keep


@pytest.mark.parametrize("case_name", ["resize_bicubic_down", "patches_same_rate", "sobel",
                                       "ssim_map", "contrast", "crop_resize"])
def test_unknown_batch_under_input_signature(case_name):
    """Traced once with the batch dim unknown (an input_signature), the functions give TF's
    outputs."""
    case = next(c for c in CASES if c.name == case_name)
    args = inputs(case)
    is_arr = [_is_arr(c) for c in case.args]
    arrays = [v for v, a in zip(args, is_arr) if a]
    specs = [tx.TensorSpec([None, *a.shape[1:]], tx.as_dtype(a.dtype)) for a in arrays]

    def f(*tensors):
        it = iter(tensors)
        return call(tx, case, [next(it) if a else v for v, a in zip(args, is_arr)])

    got = tx.function(f, input_signature=specs)(*arrays)
    np.testing.assert_allclose(got.numpy(), DATA[f"{case.name}__out0"], **_tol(got.numpy()))
