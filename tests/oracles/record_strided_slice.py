"""Record tf.strided_slice's answers (tensorflow-cpu 2.21, the `bench` extra) for
tests/ops/test_strided_slice.py: `python -m tests.oracles.record_strided_slice` writes
tests/oracles/strided_slice.json. `make test` never imports TensorFlow."""
from __future__ import annotations

import json
from pathlib import Path

from tests.oracles.strided_slice_cases import N_SPECS, X, spec


def main() -> None:
    import tensorflow as tf

    out = {"tensorflow": tf.__version__}
    for seed in range(N_SPECS):
        begin, end, strides, bm, em, elm, nam, sam = spec(seed)
        try:
            y = tf.strided_slice(X, begin, end, strides, begin_mask=bm, end_mask=em,
                                 ellipsis_mask=elm, new_axis_mask=nam,
                                 shrink_axis_mask=sam).numpy()
        except tf.errors.OpError as e:
            out[str(seed)] = {"error": type(e).__name__, "message": e.message}
            continue
        out[str(seed)] = {"shape": list(y.shape), "values": y.reshape(-1).tolist()}
    path = Path(__file__).with_name("strided_slice.json")
    path.write_text(json.dumps(out, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
