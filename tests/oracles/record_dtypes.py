"""Record TF 2.21's answers for the dtype cases in tests/oracles/dtypes_cases.py (shifts,
complex gradients, saturate_cast, bitcast): `python -m tests.oracles.record_dtypes` writes
tests/oracles/dtypes.npz, read by tests/ops/test_complex.py and tests/ops/test_bitwise_dtypes.py.
`make test` never imports TensorFlow."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles.dtypes_cases import (
    INT_DTYPES,
    bitcast_cases,
    grad_cases,
    saturate_cases,
    shift_inputs,
)


def _record(out: dict, key: str, fn, *args) -> None:
    """out[key] = fn(*args).numpy(), or out[key + "/error"] = the exception class TF raised."""
    try:
        out[key] = np.asarray(fn(*args).numpy())
    except Exception as e:  # noqa: BLE001  (any TF error is an answer to record)
        out[key + "/error"] = np.array(type(e).__name__)


def main() -> None:
    import tensorflow as tf

    out: dict[str, np.ndarray] = {"tensorflow": np.array(tf.__version__)}
    for dt in INT_DTYPES:
        x, y = shift_inputs(dt)
        _record(out, f"shift/{dt}/left", tf.bitwise.left_shift, x, y)
        _record(out, f"shift/{dt}/right", tf.bitwise.right_shift, x, y)
    for name, (fn, sources) in grad_cases(tf).items():
        vs = [tf.constant(s) for s in sources]
        with tf.GradientTape() as tape:
            tape.watch(vs)
            loss = fn(*vs)
        out[f"grad/{name}/loss"] = loss.numpy()
        for i, g in enumerate(tape.gradient(loss, vs)):
            out[f"grad/{name}/{i}"] = g.numpy()
    for name, (a, to) in saturate_cases().items():
        _record(out, f"saturate/{name}", tf.dtypes.saturate_cast, a, to)
    for name, (a, to) in bitcast_cases().items():
        _record(out, f"bitcast/{name}", tf.bitcast, a, to)
    path = Path(__file__).with_name("dtypes.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {path} ({len(out)} arrays)")


if __name__ == "__main__":
    main()
