"""Record TF 2.21's special functions, nan-safe arithmetic and integer division/modulo signs
for tests/ops/test_special_oracle.py.

Run once: `python -m tests.oracles.record_special` writes tests/oracles/special.npz (plain
arrays, no pickles): `<key>` per special_cases.CASES (or `<key>__error` holding the exception
class name when TF raises), `grad__<key>` per GRAD_CASES (`grad__<key>__none` when TF returns
no gradient). `make test` never imports TensorFlow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles import special_cases as C


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
        xs = [tf.constant(a) for a in args]
        with tf.GradientTape() as tape:
            tape.watch(xs[pos])
            y = _resolve(tf, path)(*xs)
            w = 1 + 0.5 * tf.range(tf.size(y), dtype=y.dtype)
            loss = tf.reduce_sum(tf.reshape(y, [-1]) * w)
        try:
            g = tape.gradient(loss, xs[pos])
        except Exception as e:
            arrays[f"grad__{key}__error"] = np.array(type(e).__name__)
            continue
        if g is None:
            arrays[f"grad__{key}__none"] = np.array(True)
        else:
            arrays[f"grad__{key}"] = np.asarray(g)
    out = Path(__file__).with_name("special.npz")
    np.savez(out, **arrays)
    print(f"wrote {out} ({len(arrays)} arrays)")


if __name__ == "__main__":
    main()
