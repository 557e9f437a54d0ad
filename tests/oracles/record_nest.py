"""Record tf.nest's answers (tensorflow-cpu 2.21, the `bench` extra) for tests/ops/test_nest.py.

Run once: `python -m tests.oracles.record_nest` writes tests/oracles/nest.json. `make test` never
imports TensorFlow; it reads the JSON.
"""
from __future__ import annotations

import json
from pathlib import Path

from tests.oracles.nest_cases import CASES, PAIRS, encode


def main() -> None:
    import tensorflow as tf
    from tensorflow.python.util import nest as tf_nest  # paths: not in the public tf.nest

    out: dict = {"tensorflow": tf.__version__, "flatten": {}, "paths": {}, "is_nested": {},
                 "same_structure": {}}
    for name, make in CASES.items():
        s = make()
        out["flatten"][name] = encode(tf.nest.flatten(s))
        out["paths"][name] = [[p, encode(v)] for p, v in
                              tf_nest.flatten_with_joined_string_paths(s)]
        out["is_nested"][name] = tf.nest.is_nested(s)
    for name, (a, b) in PAIRS.items():
        row = {}
        for check in (True, False):
            try:
                tf.nest.assert_same_structure(a(), b(), check_types=check)
                row[str(check)] = "ok"
            except (TypeError, ValueError) as e:
                row[str(check)] = type(e).__name__
        out["same_structure"][name] = row
    path = Path(__file__).with_name("nest.json")
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
