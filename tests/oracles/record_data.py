"""Record tf.data's answers (tensorflow-cpu 2.21) for tests/data/test_dataset.py.

Run once: `python -m tests.oracles.record_data` writes tests/oracles/data.json. `make test` never
imports TensorFlow; it reads the JSON. Each entry is the elements (as lists), the element_spec
(shapes, dtypes), or the exception class and message a pipeline gives.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _lists(x):
    if isinstance(x, dict):
        return {k: _lists(v) for k, v in sorted(x.items())}
    if isinstance(x, tuple):
        return [_lists(v) for v in x]
    return np.asarray(x).tolist()


def _spec(spec, tf):
    return [[None if d is None else int(d) for d in s.shape.as_list()] + [s.dtype.name]
            for s in tf.nest.flatten(spec)]


def main() -> None:
    import tensorflow as tf

    def gen_rows():  # rows of lengths 1..5, values i+1
        for n in range(1, 6):
            yield np.arange(1, n + 1, dtype=np.int32)

    row = tf.TensorSpec([None], tf.int32)

    def pipelines():
        rows = tf.data.Dataset.from_generator(gen_rows, output_signature=row)
        yield "padded_default", rows.padded_batch(2)
        yield "padded_fixed", rows.padded_batch(2, padded_shapes=[6], padding_values=-1)
        yield "padded_drop", rows.padded_batch(2, drop_remainder=True)
        pairs = rows.map(lambda r: (r, tf.size(r)))
        yield "padded_tuple", pairs.padded_batch(3, padding_values=(7, 0))
        dicts = rows.map(lambda r: {"a": r, "b": tf.cast(r, tf.float32) * 2.0})
        yield "padded_dict", dicts.padded_batch(2, padded_shapes={"a": [None], "b": [5]})
        static = tf.data.Dataset.from_tensor_slices(np.arange(12, dtype=np.float32).reshape(6, 2))
        yield "padded_static", static.padded_batch(4)
        yield "padded_2d", tf.data.Dataset.from_tensor_slices(np.arange(6).reshape(3, 2)).map(
            lambda r: tf.reshape(tf.range(r[0]), [-1, 1])).padded_batch(
                2, padding_values=np.int64(9))
        yield "unbatch_partial", tf.data.Dataset.range(5).batch(2).unbatch()
        yield "unbatch_tuple", tf.data.Dataset.from_tensor_slices(
            (np.arange(6).reshape(3, 2), np.arange(3) * 10)).batch(2).unbatch()
        yield "take_all", tf.data.Dataset.range(4).take(-1)
        yield "skip_all", tf.data.Dataset.range(4).skip(-1)
        yield "repeat_empty", tf.data.Dataset.range(0).repeat()
        yield "batch_spec", tf.data.Dataset.range(5).batch(2)
        yield "batch_drop_spec", tf.data.Dataset.range(5).batch(2, drop_remainder=True)
        yield "enumerate", tf.data.Dataset.from_tensor_slices([1.5, 2.5]).enumerate(start=3)
        yield "slices_python", tf.data.Dataset.from_tensor_slices({"x": [[1, 2], [3, 4]],
                                                                   "y": [0.5, 1.5]})
        yield "zip_nested", tf.data.Dataset.zip((tf.data.Dataset.range(3),
                                                 (tf.data.Dataset.range(5),
                                                  tf.data.Dataset.range(2))))
        yield "range_args", tf.data.Dataset.range(10, 2, -3)

        def bad(kind):
            def g():
                yield np.zeros([2], np.float32)
                if kind == "f64":
                    yield np.zeros([2], np.float64)
                elif kind == "pyfloat_int":
                    yield 1.5
                elif kind == "shape":
                    yield np.zeros([3], np.float32)
                elif kind == "raise":
                    raise KeyError("boom")
            return g
        f32 = tf.TensorSpec([2], tf.float32)
        yield "gen_f64", tf.data.Dataset.from_generator(bad("f64"), output_signature=f32)
        yield "gen_shape", tf.data.Dataset.from_generator(bad("shape"), output_signature=f32)
        yield "gen_raise", tf.data.Dataset.from_generator(bad("raise"), output_signature=f32)
        yield "gen_pyfloat_int", tf.data.Dataset.from_generator(
            lambda: iter([1, 1.5]), output_signature=tf.TensorSpec([], tf.int32))
        yield "gen_pyint_float", tf.data.Dataset.from_generator(
            lambda: iter([1, 2]), output_signature=tf.TensorSpec([], tf.float32))
        yield "batch_ragged", rows.batch(3)
        yield "unbatch_mismatch", tf.data.Dataset.from_generator(
            lambda: iter([(np.zeros(2), np.zeros(3))]),
            output_signature=(tf.TensorSpec([None]), tf.TensorSpec([None]))).unbatch()

    out: dict = {"tensorflow": tf.__version__, "cases": {}}
    for name, ds in pipelines():
        entry = {"spec": _spec(ds.element_spec, tf),
                 "cardinality": int(ds.cardinality().numpy())}
        try:
            entry["elements"] = [_lists(e) for e in ds.take(50).as_numpy_iterator()]
        except Exception as e:  # noqa: BLE001  (recording which class TF raises)
            entry["error"] = [type(e).__name__, str(e).splitlines()[0][:300]]
        out["cases"][name] = entry
    errors = {}
    for name, make in {"batch0": lambda: tf.data.Dataset.range(3).batch(0),
                       "padded_small": lambda: list(tf.data.Dataset.from_tensor_slices(
                           np.zeros([2, 4])).padded_batch(2, padded_shapes=[3])),
                       "unbatch_scalar": lambda: tf.data.Dataset.range(3).unbatch(),
                       "filter_nonbool": lambda: tf.data.Dataset.range(3).filter(
                           lambda x: x)}.items():
        try:
            make()
            errors[name] = None
        except Exception as e:  # noqa: BLE001
            errors[name] = [type(e).__name__, str(e).splitlines()[0][:300]]
    out["errors"] = errors
    path = Path(__file__).with_name("data.json")
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
