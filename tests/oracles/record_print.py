"""Record tf.print's text (tensorflow-cpu 2.21, the `bench` extra) for tests/debugging.

Run once: `python -m tests.oracles.record_print` writes tests/oracles/print.json. `make test`
never imports TensorFlow; it reads the JSON.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from tests.oracles.print_cases import CASES


def main() -> None:
    import tensorflow as tf

    out: dict = {"tensorflow": tf.__version__, "text": {}}
    with tempfile.TemporaryDirectory() as d:
        for name, value, summarize in CASES:
            path = os.path.join(d, name)
            tf.print(tf.constant(value), summarize=summarize, output_stream=f"file://{path}")
            out["text"][name] = Path(path).read_text()
    dest = Path(__file__).with_name("print.json")
    dest.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
