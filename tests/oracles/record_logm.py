"""Record tf.linalg.logm and complex solve outputs and gradients (TF 2.21) for
tests/ops/test_logm_oracle.py.

Run once: `python -m tests.oracles.record_logm` writes tests/oracles/logm.npz (plain arrays, no
pickles): per case of logm_cases.CASES `<case>__out<i>` and, for grad cases, `<case>__grad<j>`
(the gradient of sum(real(out0 * weights)) with respect to input j, TF's complex convention),
or `<case>__error` (the class of the error TF raises for it),
and `real_input_error`: the class TF raises for tf.linalg.logm of a float32 matrix.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles.logm_cases import CASES, weights


def main() -> None:
    import tensorflow as tf

    arrays: dict[str, np.ndarray] = {"tf_version": np.array(tf.__version__)}
    for case in CASES:
        ts = [tf.constant(a) for a in case.args]
        try:
            case.call(tf, *ts)
        except (TypeError, ValueError, tf.errors.OpError) as e:  # TF refuses: so must tfx
            arrays[f"{case.name}__error"] = np.array(type(e).__name__)
            continue
        with tf.GradientTape() as tape:
            for t in ts:
                tape.watch(t)
            out = case.call(tf, *ts)
            outs = list(out) if isinstance(out, (tuple, list)) else [out]
            if case.grad:
                w = weights(case.name, tuple(outs[0].shape))
                w = tf.constant((w if outs[0].dtype.is_complex else w.real).astype(
                    outs[0].dtype.as_numpy_dtype))
                loss = tf.reduce_sum(tf.math.real(outs[0] * w))
        for i, o in enumerate(outs):
            arrays[f"{case.name}__out{i}"] = np.asarray(o)
        if case.grad:
            for j, g in enumerate(tape.gradient(loss, ts)):
                arrays[f"{case.name}__grad{j}"] = np.asarray(g)
    try:
        tf.linalg.logm(tf.eye(2))
        arrays["real_input_error"] = np.array("none")
    except Exception as e:  # the class name only
        arrays["real_input_error"] = np.array(type(e).__name__)
    path = Path(__file__).with_name("logm.npz")
    np.savez(path, **arrays)
    print(f"wrote {path} ({len(CASES)} cases, TF {tf.__version__}, real input: "
          f"{arrays['real_input_error']})")


if __name__ == "__main__":
    main()
