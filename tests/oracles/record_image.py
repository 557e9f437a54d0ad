"""Record tf.image outputs (TF 2.21) for tests/ops/test_image_oracle.py.

Run once: `python -m tests.oracles.record_image` writes tests/oracles/image.npz (plain arrays, no
pickles): per case of image_cases.CASES `<case>__out<i>` for each output i and, for cases with
grad=True, `<case>__grad` (the gradient of a weighted sum of output 0 with respect to the first
input; the inputs are regenerated from the case name) where TF has one. Tests never import
TensorFlow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles.image_cases import CASES, Arr, Boxes, call, inputs, weights


def main() -> None:
    import tensorflow as tf

    arrays: dict[str, np.ndarray] = {"tf_version": np.array(tf.__version__)}
    for case in CASES:
        args = inputs(case)
        is_arr = [isinstance(c, (Arr, Boxes)) or isinstance(c, np.ndarray) for c in case.args]
        tensors = [tf.constant(a) if t else a for a, t in zip(args, is_arr)]
        with tf.GradientTape() as tape:
            if case.grad:
                tape.watch(tensors[0])
            out = call(tf, case, tensors)
            outs = list(out) if isinstance(out, (tuple, list)) else [out]
            if case.grad:
                loss = tf.reduce_sum(outs[0] * weights(case, outs[0].numpy()))
        for i, o in enumerate(outs):
            arrays[f"{case.name}__out{i}"] = np.asarray(o)
        if case.grad:
            try:
                grad = tape.gradient(loss, tensors[0])
                if grad is None:
                    raise LookupError(case.name)
                arrays[f"{case.name}__grad"] = np.asarray(grad)
            except LookupError:  # AdjustHue & co. have no gradient in TF: tests use differences
                print(f"{case.name}: no TF gradient")
    path = Path(__file__).with_name("image.npz")
    np.savez(path, **arrays)
    print(f"wrote {path} ({len(CASES)} cases, TF {tf.__version__})")


if __name__ == "__main__":
    main()
