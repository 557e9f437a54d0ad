"""Record tf.linalg outputs and gradients (TF 2.21) for tests/ops/test_linalg_oracle.py.

Run once: `python -m tests.oracles.record_linalg` writes tests/oracles/linalg.npz (plain arrays, no
pickles): per case of linalg_cases.CASES `<case>__out<i>` and, for grad cases, `<case>__grad<j>`
(the gradient of sum(out0 * weights) with respect to input j). Tests never import TensorFlow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles.linalg_cases import CASES, weights


def main() -> None:
    import tensorflow as tf

    arrays: dict[str, np.ndarray] = {"tf_version": np.array(tf.__version__)}
    for case in CASES:
        ts = [tf.constant(a) for a in case.args]
        with tf.GradientTape() as tape:
            for t in ts:
                tape.watch(t)
            out = case.call(tf, *ts)
            outs = list(out) if isinstance(out, (tuple, list)) else [out]
            if case.grad:
                loss = tf.reduce_sum(outs[0] * weights(case.name, tuple(outs[0].shape)))
        for i, o in enumerate(outs):
            arrays[f"{case.name}__out{i}"] = np.asarray(o)
        if case.grad:
            for j, g in enumerate(tape.gradient(loss, ts)):
                arrays[f"{case.name}__grad{j}"] = np.asarray(g)
    path = Path(__file__).with_name("linalg.npz")
    np.savez(path, **arrays)
    print(f"wrote {path} ({len(CASES)} cases, TF {tf.__version__})")


if __name__ == "__main__":
    main()
