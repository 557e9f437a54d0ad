"""Small, varied saved models for the artifact mutation fuzzer, written fresh at test time."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from tests.export._helpers import read_zip_raw, write_zip

BIG = np.linspace(-1, 1, 2048, dtype=np.float32).reshape(2, 1024)  # > 1024 elements: a capture


def _module(tx):
    """Variables f32 and bf16, a captured constant; a static and a None-dim signature."""

    class Module(tx.Module):
        def __init__(self):
            super().__init__()
            self.w = tx.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="w")
            self.b = tx.Variable(tx.cast(tx.constant(np.ones(3, np.float32)), tx.bfloat16),
                                 name="b", trainable=False)
            self.big = tx.constant(BIG)

        @tx.function(input_signature=[tx.TensorSpec([2, 3], tx.float32)])
        def __call__(self, x):
            return x * self.w + tx.cast(self.b, tx.float32) + tx.reduce_sum(self.big[:, :3], 0)

        @tx.function(input_signature=[tx.TensorSpec([None, 3], tx.float32)])
        def dyn(self, x):
            return tx.nn.relu(x @ tx.transpose(self.w)) + tx.reduce_max(self.big)

    return Module(), None


def _nested(tx):
    """Nested dict/tuple inputs and outputs, an assigned Variable, a static Python value."""
    acc = tx.Variable(np.zeros(3, np.float32), name="acc")

    @tx.function(input_signature=[{"a": tx.TensorSpec([3], tx.float32),
                                   "b": (tx.TensorSpec([None], tx.int32),
                                         tx.TensorSpec([2, 2], tx.bfloat16))}])
    def nested(d):
        acc.assign_add(d["a"])
        return {"s": (tx.reduce_sum(d["b"][0]), tx.cast(d["b"][1], tx.float32)),
                "v": acc + 0.0, "n": None}

    @tx.function
    def scaled(x, k, pair):
        return [x * float(k), {"sum": pair[0] + pair[1]}]

    scaled(np.ones((2, 2), np.float32), 3, (np.ones(2, np.int32), np.ones(2, np.int32)))
    return nested, {"serving_default": nested, "scaled": scaled}


def _control(tx):
    """tx.cond inside tx.while_loop (regions nested in the IR), static and None-dim."""

    def ctl(x, n):
        y = tx.cond(tx.reduce_sum(x) > 0, lambda: x * 2.0, lambda: x - 1.0)

        def body(i, a):
            a = tx.cond(i > 1, lambda: a + y, lambda: a * 0.5)
            return i + 1, a

        _, out = tx.while_loop(lambda i, a: i < tx.minimum(n, 8), body, (tx.constant(0), y))
        return out

    static = tx.function(ctl, input_signature=[tx.TensorSpec([3], tx.float32),
                                               tx.TensorSpec([], tx.int32)])
    dyn = tx.function(ctl, input_signature=[tx.TensorSpec([None], tx.float32),
                                            tx.TensorSpec([], tx.int32)])
    return static, {"ctl": static, "ctl_dyn": dyn}


def _assign(tx):
    """A Module whose static method assigns Variables, over a mix of ops and dtypes."""

    class Counter(tx.Module):
        def __init__(self):
            super().__init__()
            self.count = tx.Variable(np.int32(0), name="count", trainable=False)
            self.total = tx.Variable(np.zeros([4], np.float32), name="total")

        @tx.function(input_signature=[tx.TensorSpec([3, 4], tx.float32),
                                      tx.TensorSpec([3], tx.int32)])
        def step(self, x, idx):
            self.count.assign_add(1)
            rows = tx.gather(x, tx.clip_by_value(idx, 0, 2))
            self.total.assign_add(tx.reduce_sum(rows, axis=0))
            best = tx.argmax(x, axis=1)
            flat = tx.concat([tx.reshape(x, [12]), tx.sort(x[0])], axis=0)
            return best, tx.where(flat > 0, flat, tx.zeros_like(flat)), self.count + 0

    return Counter(), None


def _compiled(tx):
    """Static, with a chlo op (no StableHLO member) and a bundled executable (never used)."""

    @tx.function(input_signature=[tx.TensorSpec([4], tx.float64)])
    def erf(x):
        return tx.math.erf(x) * tx.cast(tx.range(4), tx.float64)

    return erf, None


def _ops(tx):
    """Many op kinds in one static signature: conv, pooling, pad, map_fn (dynamic slices in a
    loop), segment sum, scatter, one-hot, softmax, cumsum, reverse."""

    @tx.function(input_signature=[tx.TensorSpec([1, 6, 6, 2], tx.float32),
                                  tx.TensorSpec([2], tx.int32), tx.TensorSpec([4], tx.int32)])
    def ops(img, scale, ids):
        k = tx.constant(np.linspace(-1, 1, 72, dtype=np.float32).reshape(3, 3, 2, 4))
        y = tx.nn.conv2d(img, k, strides=1, padding="SAME")
        y = tx.nn.max_pool2d(y, ksize=2, strides=2, padding="VALID")
        flat = tx.reshape(tx.pad(y, [[0, 0], [1, 1], [0, 1], [0, 0]]), [-1, 4])
        part = tx.map_fn(lambda r: r * tx.cast(scale[0], tx.float32), flat[:2])
        ids = tx.clip_by_value(ids, 0, 2)
        seg = tx.math.unsorted_segment_sum(tx.cast(ids, tx.float32) * 0.5, ids, 3)
        upd = tx.tensor_scatter_nd_add(tx.zeros([5, 4]), tx.reshape(ids, [4, 1]),
                                       tx.tile(part[:1], [4, 1]))
        return {"cs": tx.math.cumsum(tx.nn.softmax(part), axis=1), "seg": seg, "upd": upd,
                "rev": tx.reverse(tx.one_hot(ids, 3), [0])}

    return ops, None


BUILDERS = {"module": _module, "nested": _nested, "control": _control, "assign": _assign,
            "compiled": _compiled, "ops": _ops}


def normalized(path: Path) -> bytes:
    """The artifact rewritten with fixed timestamps, so its bytes (and so every byte-offset
    recipe) are the same on every run of the same product code."""
    buf = io.BytesIO()
    entries = read_zip_raw(path)
    write_zip(buf, entries)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:  # sanity: it is still a zip
        assert z.namelist() == list(entries)
    return buf.getvalue()


def build_bases(directory: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Save every base model under `directory` (normalized): {name: path}."""
    import tfx_core as tx

    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in names or list(BUILDERS):
        obj, signatures = BUILDERS[name](tx)
        raw = directory / f"{name}.raw.tfx"
        tx.saved_model.save(obj, str(raw), signatures=signatures,
                            include_compiled=name == "compiled")
        path = directory / f"{name}.tfx"
        path.write_bytes(normalized(raw))
        raw.unlink()
        out[name] = path
    return out
