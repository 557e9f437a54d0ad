"""Record tf.nn outputs whose semantics are easy to get subtly wrong (TF 2.21), for
tests/ops/test_nn_more_oracle.py.

Run once: `python -m tests.oracles.record_nn_more` writes tests/oracles/nn_more.npz (plain
arrays, no pickles). Inputs are seeded numpy arrays stored beside the outputs as `<case>__in<i>`;
outputs are `<case>__out<i>`. Fractional pools also store TF's row/col pooling sequences, which
the tests feed back to check our pooling given TF's sequences (the draws themselves differ).
`make test` never imports TensorFlow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("nn_more.npz")


def _nchw(tf, op: str):
    def fn(v):
        return getattr(tf.nn, op)(v, 2, data_format="NCHW")

    return fn


def cases(tf):
    """name -> (inputs, fn(*tf_inputs) -> output or tuple of outputs)."""
    rng = np.random.default_rng(16)
    f32 = np.float32
    x = rng.integers(-3, 4, (2, 5, 6, 3)).astype(f32)  # small ints: many ties
    xs = rng.standard_normal((2, 6, 7, 3)).astype(f32)
    filt = rng.standard_normal((2, 3, 3)).astype(f32)
    out = {}
    for pad in ("SAME", "VALID"):
        for batch in (False, True):
            out[f"argmax_{pad}_{int(batch)}"] = ((x,), lambda v, p=pad, b=batch: tf.nn.
                                                 max_pool_with_argmax(v, [1, 2, 3, 1], [1, 2, 2, 1],
                                                                      p, include_batch_in_index=b))
    out["argmax_3x3_s1"] = ((x,), lambda v: tf.nn.max_pool_with_argmax(v, 3, 1, "SAME"))
    out["lrn"] = ((rng.standard_normal((2, 3, 4, 7)).astype(f32),),
                  lambda v: tf.nn.local_response_normalization(v, 2, 1.5, 0.3, 0.75))
    out["lrn_default"] = ((rng.standard_normal((1, 2, 2, 12)).astype(f32),),
                          lambda v: tf.nn.lrn(v))
    for pad in ("SAME", "VALID"):
        for st, rt in (((1, 1), (1, 1)), ((2, 1), (1, 2)), ((1, 2), (2, 1))):
            for op in ("dilation2d", "erosion2d"):
                out[f"{op}_{pad}_{st[0]}{st[1]}_{rt[0]}{rt[1]}"] = (
                    (xs, filt), lambda v, w, o=op, p=pad, s=st, r=rt: getattr(tf.nn, o)(
                        v, w, [1, *s, 1], p, "NHWC", [1, *r, 1]))
    lab = rng.uniform(0, 1, (3, 5)).astype(f32)
    logit = rng.uniform(-30, 30, (3, 5)).astype(f32)
    out["weighted_ce"] = ((lab, logit, np.float32(2.5)), lambda a, b, q: tf.nn.
                          weighted_cross_entropy_with_logits(a, b, q))
    tgt = np.array([[0, 0.5, 1, 1.5, 2], [3, 7, 0.9, 1.0, 20]], f32)
    li = rng.uniform(-2, 2, (2, 5)).astype(f32)
    out["log_poisson_full"] = ((tgt, li), lambda t, c: tf.nn.log_poisson_loss(t, c, True))
    px = rng.standard_normal((2, 10, 11, 2)).astype(f32)
    for pr in (False, True):
        for ov in (False, True):
            for kind in ("max", "avg"):
                out[f"fractional_{kind}_{int(pr)}{int(ov)}"] = (
                    (px,), lambda v, k=kind, p=pr, o=ov: getattr(tf.nn, f"fractional_{k}_pool")(
                        v, [1.0, 1.44, 1.73, 1.0], pseudo_random=p, overlapping=o, seed=7))
    iso = np.array([[1, 3, 2, 4, 3.5, 5], [5, 4, 4, 3, 6, 1], [2, 2, 2, 1, 1, 3],
                    [0, 1, 0, 1, 0, 1]], f32)
    for dec in (True, False):
        out[f"isotonic_{int(dec)}"] = ((iso,), lambda v, d=dec: tf.nn.isotonic_regression(
            v, decreasing=d))
    out["isotonic_axis0"] = ((iso,), lambda v: tf.nn.isotonic_regression(v, axis=0))
    out["isotonic_int32"] = ((np.array([[3, 1, 2, 5, 4]], np.int32),), tf.nn.isotonic_regression)
    out["avg_loss_per_example_weights"] = (
        (np.arange(12, dtype=f32).reshape(4, 3), np.array([1, 2, 3, 4], f32)),
        tf.nn.compute_average_loss)
    out["depth_to_space_NHWC"] = ((rng.standard_normal((2, 3, 4, 8)).astype(f32),),
                                  lambda v: tf.nn.depth_to_space(v, 2))
    # NCHW has no CPU kernel in TF; its XLA kernel (jit_compile) is what runs it on CPU.
    out["depth_to_space_NCHW"] = ((rng.standard_normal((2, 8, 3, 4)).astype(f32),),
                                  tf.function(_nchw(tf, "depth_to_space"), jit_compile=True))
    out["space_to_depth_NCHW"] = ((rng.standard_normal((2, 3, 4, 6)).astype(f32),),
                                  tf.function(_nchw(tf, "space_to_depth"), jit_compile=True))
    out["space_to_depth_NHWC"] = ((rng.standard_normal((2, 4, 6, 3)).astype(f32),),
                                  lambda v: tf.nn.space_to_depth(v, 2))
    ac = rng.standard_normal((1, 7, 8, 2)).astype(f32)
    acw = rng.standard_normal((3, 3, 4, 2)).astype(f32)
    for pad in ("SAME", "VALID"):
        shape = [1, 7, 8, 4] if pad == "SAME" else [1, 11, 12, 4]
        out[f"atrous_transpose_{pad}"] = ((ac, acw), lambda v, w, s=shape, p=pad: tf.nn.
                                          atrous_conv2d_transpose(v, w, s, 2, p))
    for kind in ("MAX", "AVG"):
        for pad in ("SAME", "VALID"):
            out[f"pool_{kind}_{pad}"] = ((xs,), lambda v, k=kind, p=pad: tf.nn.pool(
                v, [2, 3], k, padding=p, dilations=[2, 2]))
    preds = np.array([[0.1, 0.5, 0.5, 0.2], [1, 2, 3, np.inf], [0.3, 0.3, 0.3, 0.3],
                      [4, 3, 2, 1]], f32)
    out["in_top_k"] = ((np.array([2, 0, 3, 5], np.int32), preds),
                       lambda t, p: tf.math.in_top_k(t, p, 1))
    out["in_top_k2"] = ((np.array([2, 0, 3, 1], np.int32), preds),
                        lambda t, p: tf.math.in_top_k(t, p, 2))
    labels = np.array([[1, 1, 2, 2, 2, 3, 3], [4, 4, 4, 4, 5, 5, 6]], np.int32)
    out["collapse_repeated"] = ((labels, np.array([5, 7], np.int32)),
                                lambda a, n: tf.nn.collapse_repeated(a, n))
    sl = rng.standard_normal((4, 3)).astype(f32)
    sy = rng.dirichlet(np.ones(4), 3).T.astype(f32)
    out["softmax_ce_axis0"] = ((sy, sl), lambda a, b: tf.nn.softmax_cross_entropy_with_logits(
        a, b, axis=0))
    out["sparse_ce_rank3"] = ((rng.integers(0, 5, (2, 3)).astype(np.int64),
                               rng.standard_normal((2, 3, 5)).astype(f32) * 10),
                              lambda a, b: tf.nn.sparse_softmax_cross_entropy_with_logits(a, b))
    out["softmax_ce_rank3_axis1"] = (
        (rng.dirichlet(np.ones(5), (2, 3)).astype(f32), rng.standard_normal((2, 3, 5)).astype(f32)),
        lambda a, b: tf.nn.softmax_cross_entropy_with_logits(a, b, axis=1))
    return out


def main() -> None:
    import tensorflow as tf

    arrays: dict[str, np.ndarray] = {"tf_version": np.array(tf.__version__)}
    for name, (inputs, fn) in cases(tf).items():
        for i, a in enumerate(inputs):
            arrays[f"{name}__in{i}"] = np.asarray(a)
        try:
            res = fn(*[tf.constant(a) for a in inputs])
        except Exception as e:  # recorded, so the tests can say TF rejects the case
            arrays[f"{name}__error"] = np.array(f"{type(e).__name__}: {str(e)[:200]}")
            print(name, "raised", type(e).__name__)
            continue
        res = res if isinstance(res, (tuple, list)) else (res,)
        for i, r in enumerate(res):
            arrays[f"{name}__out{i}"] = np.asarray(r)
    np.savez(OUT, **arrays)
    print(f"wrote {OUT} ({len(arrays)} arrays)")


if __name__ == "__main__":
    main()
