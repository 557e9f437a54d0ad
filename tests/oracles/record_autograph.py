"""Record what TF 2.21's AutoGraph does with comprehensions over tensors and `assert` (for
tests/autograph/test_autograph_listcomp_assert.py and the design note in
tfx_core/autograph/listcomp_assert.py).

Run once: `python -m tests.oracles.record_autograph` writes tests/oracles/autograph.json.
`make test` never imports TensorFlow; it reads the JSON.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _outcome(fn: Any, *args: Any) -> dict:
    try:
        out = fn(*args)
    except Exception as e:  # noqa: BLE001 (recording which class TF raises is the point)
        lines = [ln.strip() for ln in str(e).splitlines() if "assertion failed" in ln]
        return {"raises": type(e).__name__, "bases": [c.__name__ for c in type(e).__mro__],
                "message": str(e)[:300], "assertion_line": lines[0] if lines else None}
    if isinstance(out, list):
        return {"list_of": [float(t.numpy()) for t in out]}
    return {"value": out.numpy().tolist()}


def main() -> None:
    import tensorflow as tf

    x = tf.constant([0.0, 1.0, 2.0, 3.0])

    def comp_range(x):
        return [x[i] * 2 for i in tf.range(3)]

    def comp_range_tensor_n(x, n):
        return [x[i] * 2 for i in tf.range(n)]

    def comp_tensor(x):
        return [r * 2 for r in x]

    def comp_python_range(x):
        return tf.stack([x[i] * 2 for i in range(3)])

    def tensor_assert(x):
        assert tf.reduce_all(x > 0), "x must be positive"
        return x * 2

    def bare_tensor_assert(x):
        assert tf.reduce_all(x > 0)
        return x * 2

    def python_assert(x):
        assert x.shape[0] == 3, "need 3 rows"
        return x * 2

    out: dict = {"tensorflow": tf.__version__}
    out["comp_range_eager"] = _outcome(comp_range, x)
    out["comp_range_function"] = _outcome(tf.function(comp_range), x)
    out["comp_range_tensor_n_function"] = _outcome(tf.function(comp_range_tensor_n), x,
                                                   tf.constant(3))
    out["comp_tensor_eager"] = _outcome(comp_tensor, x)
    out["comp_tensor_function"] = _outcome(tf.function(comp_tensor), x)
    out["comp_python_range_function"] = _outcome(tf.function(comp_python_range), x)
    out["assert_to_code_has_assert_stmt"] = "ag__.assert_stmt" in tf.autograph.to_code(
        tensor_assert)
    out["comp_to_code_unchanged"] = "for i in tf.range(3)" in tf.autograph.to_code(comp_range)
    out["tensor_assert_passes"] = _outcome(tf.function(tensor_assert), x + 1)
    out["tensor_assert_fails"] = _outcome(tf.function(tensor_assert), x)
    out["bare_tensor_assert_fails"] = _outcome(tf.function(bare_tensor_assert), x)
    out["python_assert_fails"] = _outcome(tf.function(python_assert), x)
    # asserts are converted only with the optional ASSERT_STATEMENTS feature (off by default)
    feature = tf.autograph.experimental.Feature
    with_asserts = {"experimental_autograph_options": (feature.ASSERT_STATEMENTS,)}
    out["feature_tensor_assert_passes"] = _outcome(tf.function(tensor_assert, **with_asserts),
                                                   x + 1)
    out["feature_tensor_assert_fails"] = _outcome(tf.function(tensor_assert, **with_asserts),
                                                  x)
    out["feature_bare_tensor_assert_fails"] = _outcome(
        tf.function(bare_tensor_assert, **with_asserts), x)
    out["feature_python_assert_fails"] = _outcome(tf.function(python_assert, **with_asserts),
                                                  x)
    out["all_features_comp_range_function"] = _outcome(
        tf.function(comp_range, experimental_autograph_options=(feature.ALL,)), x)
    path = Path(__file__).with_name("autograph.json")
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
