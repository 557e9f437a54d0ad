"""Record TF 2.21's outputs for the cases in array_more_cases.py (segment ops with empty
segments, searchsorted, reverse_sequence, space/batch ops, extract_volume_patches, histograms,
pad REFLECT/SYMMETRIC, random_index_shuffle) for tests/ops/test_array_more_oracle.py.

Run once: `python -m tests.oracles.record_array_more` writes tests/oracles/array_more.npz
(`<case>` holds the output; plain arrays, no pickles). `make test` never imports TensorFlow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles.array_more_cases import CASES


def main() -> None:
    import tensorflow as tf

    arrays: dict[str, np.ndarray] = {"tf_version": np.array(tf.__version__)}
    for key, (path, args, kwargs) in CASES.items():
        fn = tf
        for part in path.split("."):
            fn = getattr(fn, part)
        kw = dict(kwargs)
        if "out_type" in kw:
            kw["out_type"] = tf.as_dtype(kw["out_type"])
        if "max_index" in kw:  # TF wants it in the index's dtype
            kw["max_index"] = args[0].dtype.type(kw["max_index"])
        arrays[key] = np.asarray(fn(*args, **kw))
    out = Path(__file__).with_name("array_more.npz")
    np.savez(out, **arrays)
    print(f"wrote {len(arrays) - 1} cases to {out}")


if __name__ == "__main__":
    main()
