"""Record tf.signal outputs (TF 2.21) for tests/ops/test_signal_oracle.py.

Run once: `python -m tests.oracles.record_signal` writes tests/oracles/signal.npz (plain arrays,
no pickles): per case of signal_cases.CASES `<case>__out` and, for cases with grad=True,
`<case>__grad` (the gradient of a weighted sum of the output; the inputs are regenerated from
the case name); `<case>__error` names TF's exception class when TF cannot run the case (the
FFTND family has no CPU kernel in TF 2.21). Tests never import TensorFlow; they read the arrays.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles.signal_cases import CASES, Arr, call, gradient, inputs, weights


def main() -> None:
    import tensorflow as tf

    arrays: dict[str, np.ndarray] = {"tf_version": np.array(tf.__version__)}
    for case in CASES:
        args = inputs(case)
        tensors = [tf.constant(a) if isinstance(c, Arr) else a for a, c in zip(args, case.args)]
        try:
            out = np.asarray(call(tf, case, tensors))
        except tf.errors.OpError as e:  # e.g. FFTND: no CPU kernel in TF 2.21
            arrays[f"{case.name}__error"] = np.array(type(e).__name__)
            print(f"{case.name}: TF fails ({type(e).__name__})")
            continue
        arrays[f"{case.name}__out"] = out
        if case.grad:
            try:
                arrays[f"{case.name}__grad"] = np.asarray(gradient(tf, case, args,
                                                                   weights(case, out)))
            except tf.errors.OpError as e:  # TF's own gradient fails: recorded as missing
                print(f"{case.name}: no TF gradient ({type(e).__name__})")
    path = Path(__file__).with_name("signal.npz")
    np.savez(path, **arrays)
    print(f"wrote {path} ({len(CASES)} cases, TF {tf.__version__})")


if __name__ == "__main__":
    main()
