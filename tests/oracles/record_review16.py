"""Record TF 2.21's answers for the issue-16 review cases (tests/oracles/review16_cases.py) for
tests/ops/test_issue16_review.py.

Run once: `python -m tests.oracles.record_review16` writes tests/oracles/review16.npz (plain
arrays, no pickles): `<key>` per CASES (`<key>__error` holding the exception class name when TF
raises) and `grad__<key>` per GRAD_CASES, the gradient of sum(w * f(x)) with w = 1 + 0.5 * i.
`make test` never imports TensorFlow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles import review16_cases as C


def _resolve(tf, path: str):
    fn = tf
    for part in path.split("."):
        fn = getattr(fn, part)
    return fn


def main() -> None:
    import tensorflow as tf

    arrays: dict[str, np.ndarray] = {"tf_version": np.array(tf.__version__)}
    for key, path, args, kwargs in C.CASES:
        try:
            arrays[key] = np.asarray(_resolve(tf, path)(*args, **kwargs))
        except Exception as e:  # recorded: the test expects the same class
            arrays[f"{key}__error"] = np.array(type(e).__name__)
    for key, path, args, pos in C.GRAD_CASES:
        xs = [tf.constant(a) if isinstance(a, np.ndarray) else a for a in args]
        with tf.GradientTape() as tape:
            tape.watch(xs[pos])
            y = tf.reshape(_resolve(tf, path)(*xs), [-1])
            w = tf.cast(1 + 0.5 * tf.range(tf.size(y), dtype=tf.float64), y.dtype)
            loss = tf.math.real(tf.reduce_sum(y * w))
        arrays[f"grad__{key}"] = np.asarray(tape.gradient(loss, xs[pos]))
    out = Path(__file__).with_name("review16.npz")
    np.savez(out, **arrays)
    print(f"wrote {out} ({len(arrays)} arrays)")


if __name__ == "__main__":
    main()
