"""Record TF's answers (tensorflow-cpu 2.21, the `bench` extra) for the data-dependent-shape ops
in tests/ops/test_data_dependent_ops.py: `python -m tests.oracles.record_data_dependent` writes
tests/oracles/data_dependent.json. `make test` never imports TensorFlow."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.oracles.data_dependent_cases import CASES, ENSURE_SHAPE, GRAD_CASES, encode


def _kwargs(tf, kw: dict) -> dict:
    return {k: getattr(tf, v) if k == "out_idx" else v for k, v in kw.items()}


def _outputs(out) -> list:
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    return [encode(o.numpy()) for o in outs]


def main() -> None:
    import tensorflow as tf

    ops = {"boolean_mask": tf.boolean_mask, "where": tf.where, "unique": tf.unique,
           "unique_with_counts": tf.unique_with_counts,
           "dynamic_partition": tf.dynamic_partition}
    out: dict = {"tensorflow": tf.__version__}
    for name, (op, args, kw) in CASES.items():
        try:
            out[name] = {"outputs": _outputs(ops[op](*args, **_kwargs(tf, kw)))}
        except (tf.errors.OpError, ValueError, TypeError) as e:
            out[name] = {"error": type(e).__name__, "message": str(e).splitlines()[0]}
    for name, (op, args, kw, k) in GRAD_CASES.items():
        args = list(args)
        x = tf.constant(args[k])
        with tf.GradientTape() as tape:
            tape.watch(x)
            args[k] = x
            res = ops[op](*args, **_kwargs(tf, kw))
            res = [res[0]] if op == "unique" else res if isinstance(res, list) else [res]
            flat = tf.concat([tf.reshape(r, [-1]) for r in res], 0)
            w = tf.range(1, tf.size(flat) + 1, dtype=flat.dtype)
            loss = tf.reduce_sum(w * flat)
        try:
            g = tape.gradient(loss, x)
        except LookupError as e:  # no gradient registered for the op (Unique)
            out[name] = {"error": type(e).__name__, "message": str(e)}
            continue
        out[name] = {"gradient": None if g is None else encode(np.asarray(g))}
    for name, (shape, want) in ENSURE_SHAPE.items():
        try:
            tf.ensure_shape(tf.zeros(shape), want)
            out[name] = {"ok": True}
        except (tf.errors.OpError, ValueError, TypeError) as e:
            out[name] = {"error": type(e).__name__, "message": str(e).splitlines()[0]}
    path = Path(__file__).with_name("data_dependent.json")
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
