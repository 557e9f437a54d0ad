"""tx.saved_model: round trips (loaded in a fresh process that has none of the defining code),
signatures and specs, call errors, atomic saves, export_stablehlo, dtypes."""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile

import ml_dtypes
import numpy as np
import pytest
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

import tfx_core as tx
from compiler.lowering.helpers import make_context
from runtime.artifact import ArtifactError

from ._helpers import read_zip, run_in_fresh_process

F32 = tx.float32


def _np(x):
    return x.numpy() if isinstance(x, tx.Tensor) else np.asarray(x)


def _to_numpy(tree):
    if isinstance(tree, dict):
        return {k: _to_numpy(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_to_numpy(v) for v in tree)
    return None if tree is None else _np(tree)


def assert_same_tree(got, want):
    """Same nesting (dict keys, list vs tuple), dtypes, shapes and bit-identical values."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), (got, want)
        for k in want:
            assert_same_tree(got[k], want[k])
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            assert_same_tree(g, w)
    elif want is None:
        assert got is None
    else:
        assert got.dtype == want.dtype and got.shape == want.shape, (got, want)
        np.testing.assert_array_equal(got, want, strict=True)


# ---------------------------------------------------------------- fresh-process round trips
def test_mlp_inference_round_trip_in_fresh_process(tmp_path):
    rng = np.random.default_rng(0)
    w1 = tx.constant(rng.standard_normal((8, 64)).astype(np.float32))  # 512: an IR constant
    w2 = tx.constant(rng.standard_normal((64, 32)).astype(np.float32))  # 2048: a capture
    b = tx.constant(rng.standard_normal(32).astype(np.float32))

    @tx.function(input_signature=[tx.TensorSpec([4, 8], F32, name="x")])
    def mlp(x):
        return tx.nn.relu(x @ w1) @ w2 + b

    x = rng.standard_normal((4, 8)).astype(np.float32)
    want = mlp(x).numpy()
    path = tmp_path / "mlp.tfx"
    tx.saved_model.save(mlp, str(path))
    manifest, members = read_zip(path)
    # the big weight is a captured constant stored as .npy; the program ships as StableHLO
    assert [c for c in manifest["functions"]["serving_default"]["captures"] if "constant" in c]
    assert any(n.startswith("constants/") for n in members)
    assert "functions/0.stablehlo" in members

    report = run_in_fresh_process(path, [(None, (x,)), ("serving_default", (x,))],
                                  tmp_path / "child")
    assert report["signatures"] == ["serving_default"]
    assert report["variables"] == []
    for got in report["outputs"]:
        assert_same_tree(got, want)


class Dense(tx.Module):
    def __init__(self, n_in, n_out, seed, name=None):
        super().__init__(name=name)
        rng = np.random.default_rng(seed)
        self.w = tx.Variable((rng.standard_normal((n_in, n_out)) / np.sqrt(n_in))
                             .astype(np.float32), name=f"{name}_w")
        self.b = tx.Variable(np.zeros(n_out, np.float32), name=f"{name}_b")

    def __call__(self, x):
        return x @ self.w + self.b


class Regressor(tx.Module):
    def __init__(self):
        super().__init__()
        self.hidden = Dense(4, 16, seed=1, name="hidden")
        self.out = Dense(16, 2, seed=2, name="out")
        self.scale = tx.Variable(np.array([2.0, 0.5], np.float32), trainable=False,
                                 name="scale")

    @tx.function(input_signature=[tx.TensorSpec([None, 4], F32)])
    def __call__(self, x):
        return self.out(tx.nn.relu(self.hidden(x))) * self.scale


def test_trained_module_round_trip_in_fresh_process(tmp_path):
    model = Regressor()
    opt = tx.optimizers.SGD(0.05)
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((8, 4)).astype(np.float32)
    ys = rng.standard_normal((8, 2)).astype(np.float32)
    before = [v.numpy().copy() for v in model.trainable_variables]
    losses = []
    for _ in range(4):
        with tx.GradientTape() as tape:
            loss = tx.reduce_mean(tx.square(model(xs) - ys))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss))
    assert losses[-1] < losses[0]
    assert all(not np.array_equal(a, v.numpy()) for a, v in zip(before, model.trainable_variables))

    x_new = rng.standard_normal((3, 4)).astype(np.float32)
    want = model(x_new).numpy()
    path = tmp_path / "model.tfx"
    tx.saved_model.save(model, str(path))
    report = run_in_fresh_process(path, [(None, (x_new,)), ("__call__", (x_new,))],
                                  tmp_path / "child")
    assert report["signatures"] == ["__call__"]
    for got in report["outputs"]:
        assert_same_tree(got, want)
    got_vars = {v["name"]: v for v in report["variables"]}
    assert len(got_vars) == len(model.variables) == 5
    for v in model.variables:
        g = got_vars[v.name]
        assert g["is_variable"] and g["trainable"] == v.trainable
        assert g["dtype"] == v.dtype.name and g["shape"] == list(v.shape)
        np.testing.assert_array_equal(g["value"], v.numpy(), strict=True)  # trained values
    assert not got_vars["scale:0"]["trainable"]


def test_nested_dict_inputs_and_outputs_round_trip_in_fresh_process(tmp_path):
    @tx.function(input_signature=[{"a": tx.TensorSpec([2, 3], F32),
                                   "b": (tx.TensorSpec([3], F32),
                                         tx.TensorSpec([2, 3], tx.int32))}])
    def f(d):
        y, z = d["b"]
        s = d["a"] + y
        return {"sum": s, "parts": [tx.reduce_sum(s, axis=1), z * 2, (y, None)],
                "count": tx.reduce_sum(z)}

    inputs = {"a": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
              "b": (np.array([1.5, -2.0, 0.25], np.float32),
                    np.arange(6, dtype=np.int32).reshape(2, 3) - 2)}
    want = _to_numpy(f(inputs))
    assert isinstance(want["parts"], list) and isinstance(want["parts"][2], tuple)
    path = tmp_path / "nested.tfx"
    tx.saved_model.save(f, str(path))
    report = run_in_fresh_process(path, [(None, (inputs,))], tmp_path / "child")
    assert_same_tree(report["outputs"][0], want)


def test_none_batch_dim_runs_any_batch_size_in_fresh_process(tmp_path):
    w = tx.constant(np.linspace(-1, 1, 15, dtype=np.float32).reshape(3, 5))

    @tx.function(input_signature=[tx.TensorSpec([None, 3], F32)])
    def f(x):
        return tx.tanh(x @ w), tx.reduce_max(x, axis=1)

    rng = np.random.default_rng(5)
    xs = [rng.standard_normal((n, 3)).astype(np.float32) for n in (1, 5, 17)]
    wants = [_to_numpy(f(x)) for x in xs]
    path = tmp_path / "batch.tfx"
    tx.saved_model.save(f, str(path))
    manifest, members = read_zip(path)
    entry = manifest["functions"]["serving_default"]
    assert "stablehlo" not in entry and not any(n.endswith(".stablehlo") for n in members)
    assert entry["inputs"]["tuple"][0]["tuple"][0]["t"]["shape"] == [None, 3]

    report = run_in_fresh_process(path, [(None, (x,)) for x in xs], tmp_path / "child")
    for got, want, x in zip(report["outputs"], wants, xs):
        assert got[0].shape == (len(x), 5)
        assert_same_tree(got, want)


class Accumulator(tx.Module):
    def __init__(self):
        super().__init__()
        self.total = tx.Variable(np.array([1.0, 2.0, 3.0], np.float32), name="total")
        self.calls = tx.Variable(np.zeros(1, np.int32), trainable=False, name="calls")

    @tx.function(input_signature=[tx.TensorSpec([3], F32)])
    def add(self, d):
        self.total.assign_add(d)
        self.calls.assign_add(np.ones(1, np.int32))
        return self.total.value() * 1.0

    @tx.function(input_signature=[])
    def read(self):
        return {"total": self.total.value(), "calls": self.calls.value()}


def test_assigning_method_updates_loaded_variables_in_fresh_process(tmp_path):
    acc = Accumulator()
    acc.add(np.array([10.0, 0.0, -1.0], np.float32))  # state after one call is what is saved
    path = tmp_path / "acc.tfx"
    tx.saved_model.save(acc, str(path))
    d = np.array([0.5, 0.25, 2.0], np.float32)
    # the child calls the methods as attributes of the loaded object
    report = run_in_fresh_process(path, [("add", (d,)), ("add", (d,)), ("read", ())],
                                  tmp_path / "child", attr=True)
    assert report["signatures"] == ["add", "read"]
    total = np.array([11.0, 2.0, 2.0], np.float32)
    assert_same_tree(report["outputs"][0], total + d)
    assert_same_tree(report["outputs"][1], total + 2 * d)
    # both signatures share one loaded Variable: `read` sees what `add` assigned
    assert_same_tree(report["outputs"][2], {"total": total + 2 * d,
                                            "calls": np.array([3], np.int32)})
    got = {v["name"]: v["value"] for v in report["variables"]}
    assert_same_tree(got, {"total:0": total + 2 * d, "calls:0": np.array([3], np.int32)})
    # the saving process's variables are untouched by the child's calls
    np.testing.assert_array_equal(acc.total.numpy(), total)


class Counter(tx.Module):
    def __init__(self):
        super().__init__()
        self.n = tx.Variable(0, name="n")

    @tx.function(input_signature=[])
    def bump(self):
        self.n.assign_add(1)
        return self.n.value()


def test_scalar_variable_counter_round_trips(tmp_path):
    c = Counter()
    c.bump()
    path = tmp_path / "counter.tfx"
    tx.saved_model.save(c, str(path))
    loaded = tx.saved_model.load(str(path))
    (n,) = loaded.variables
    assert isinstance(n, tx.Variable) and n.shape == () and int(n.numpy()) == 1
    assert int(loaded.bump().numpy()) == 2 and int(loaded.bump().numpy()) == 3
    assert int(n.numpy()) == 3


def test_scalar_variable_keeps_its_shape(tmp_path):
    v = tx.Variable(np.float32(2.5), name="s")

    @tx.function(input_signature=[tx.TensorSpec([2], F32)])
    def f(x):
        return x * v

    path = tmp_path / "s.tfx"
    tx.saved_model.save(f, str(path))
    manifest, members = read_zip(path)
    assert manifest["variables"][0]["shape"] == []
    assert np.load(io.BytesIO(members["variables/0.npy"])).shape == ()


# ---------------------------------------------------------------- in-process: signatures, specs
class TwoMethods(tx.Module):
    def __init__(self):
        super().__init__()
        self.w = tx.Variable(np.arange(12, dtype=np.float32).reshape(3, 4) / 10, name="w")

    @tx.function(input_signature=[tx.TensorSpec([None, 3], F32, name="x")])
    def __call__(self, x):
        return x @ self.w

    @tx.function(input_signature=[{"img": tx.TensorSpec([None, None, 3], F32),
                                   "ids": tx.TensorSpec([5], tx.int32)},
                                  [tx.TensorSpec([2], tx.bfloat16)]])
    def encode(self, d, extra):
        return {"pooled": tx.reduce_mean(d["img"], axis=[0, 1]),
                "ids": (d["ids"] + 1, extra[0])}

    def not_a_function(self, x):  # plain methods are not signatures
        return x


def test_loaded_signatures_and_specs_equal_the_original(tmp_path):
    m = TwoMethods()
    path = tmp_path / "two.tfx"
    tx.saved_model.save(m, str(path))
    loaded = tx.saved_model.load(str(path))
    assert sorted(loaded.signatures) == ["__call__", "encode"]
    assert loaded.encode is loaded.signatures["encode"]
    assert not hasattr(loaded, "not_a_function")
    for name in ("__call__", "encode"):
        orig = getattr(m, name).get_concrete_function()
        new = loaded.signatures[name]
        assert new.structured_input_signature == orig.structured_input_signature
        assert new.structured_outputs == orig.structured_outputs
        assert repr(new.structured_input_signature) == repr(orig.structured_input_signature)
        assert repr(new.structured_outputs) == repr(orig.structured_outputs)
    (x_spec,), kwargs = loaded.signatures["__call__"].structured_input_signature
    assert kwargs == {} and list(x_spec.shape) == [None, 3] and x_spec.dtype is F32
    orig_x = m.__call__.get_concrete_function().structured_input_signature[0][0]
    assert x_spec.name == orig_x.name
    (d, extra), _ = loaded.signatures["encode"].structured_input_signature
    assert list(d["img"].shape) == [None, None, 3] and isinstance(extra, list)
    assert extra[0].dtype is tx.bfloat16
    out = loaded.signatures["encode"].structured_outputs
    assert isinstance(out["ids"], tuple) and list(out["pooled"].shape) == [3]
    # and the loaded functions compute what the originals do
    x = np.ones((2, 3), np.float32)
    assert_same_tree(loaded(x).numpy(), m(x).numpy())
    args = ({"img": np.full((2, 3, 3), 0.5, np.float32), "ids": np.arange(5, dtype=np.int32)},
            [np.array([1.5, -2], ml_dtypes.bfloat16)])
    assert_same_tree(_to_numpy(loaded.encode(*args)), _to_numpy(m.encode(*args)))


def test_calls_with_wrong_dtype_shape_or_structure_are_clear_type_errors(tmp_path):
    path = tmp_path / "two.tfx"
    tx.saved_model.save(TwoMethods(), str(path))
    loaded = tx.saved_model.load(str(path))
    with pytest.raises(TypeError, match=r"__call__.*int32.*incompatible|__call__.*incompatible"):
        loaded(np.ones((2, 3), np.int32))
    with pytest.raises(TypeError, match=r"__call__.*incompatible"):
        loaded(np.ones((2, 4), np.float32))
    with pytest.raises(TypeError, match=r"__call__.*incompatible"):
        loaded(np.ones(3, np.float32))
    with pytest.raises(TypeError, match=r"__call__.*structure"):
        loaded(np.ones((2, 3), np.float32), np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match=r"encode.*structure"):
        loaded.encode({"img": np.ones((1, 1, 3), np.float32)}, [np.ones(2, np.float32)])
    with pytest.raises(TypeError, match=r"encode.*incompatible"):
        loaded.encode({"img": np.ones((1, 1, 3), np.float32), "ids": np.ones(5, np.float32)},
                      [np.ones(2, ml_dtypes.bfloat16)])


def test_single_function_and_concrete_function_and_signatures_dict(tmp_path):
    @tx.function
    def f(x, k):
        return x * k

    x = np.array([1.0, 2.0], np.float32)
    want = f(x, 3).numpy()  # traced once (no input_signature): that trace is saved
    tx.saved_model.save(f, str(tmp_path / "once.tfx"))
    once = tx.saved_model.load(str(tmp_path / "once.tfx"))
    assert_same_tree(once(x, 3).numpy(), want)
    with pytest.raises(TypeError, match="serving_default.*traced with 3"):
        once(x, 4)  # a Python argument is part of the signature

    cf = f.get_concrete_function(tx.TensorSpec([None], F32), 2)
    tx.saved_model.save(cf, str(tmp_path / "cf.tfx"))
    assert_same_tree(tx.saved_model.load(str(tmp_path / "cf.tfx"))(x, 2).numpy(), x * 2)

    tx.saved_model.save(None, str(tmp_path / "sigs.tfx"),
                        signatures={"double": cf, "triple": f.get_concrete_function(x, 3)})
    sigs = tx.saved_model.load(str(tmp_path / "sigs.tfx"))
    assert sorted(sigs.signatures) == ["double", "triple"]
    assert_same_tree(sigs.triple(x, 3).numpy(), want)
    with pytest.raises(TypeError, match="2 signatures"):
        sigs(x, 3)


def test_save_refuses_ambiguous_or_missing_signatures(tmp_path):
    @tx.function
    def f(x):
        return x + 1

    with pytest.raises(ValueError, match=r"'serving_default'.*traced 0 times"):
        tx.saved_model.save(f, str(tmp_path / "a.tfx"))
    f(np.ones(2, np.float32))
    f(np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"no input_signature and was traced 2 times"):
        tx.saved_model.save(f, str(tmp_path / "a.tfx"))

    class Empty(tx.Module):
        @tx.function
        def g(self, x):
            return x

    with pytest.raises(ValueError, match="Empty has no tx.function methods"):
        tx.saved_model.save(Empty(), str(tmp_path / "b.tfx"))
    with pytest.raises(TypeError, match="not a tx.function"):
        tx.saved_model.save(None, str(tmp_path / "c.tfx"), signatures=lambda x: x)
    assert sorted(os.listdir(tmp_path)) == []


# ---------------------------------------------------------------- atomic writes
def _fn(scale):
    @tx.function(input_signature=[tx.TensorSpec([3], F32)])
    def f(x):
        return x * scale

    return f


def test_saving_over_an_existing_file_replaces_it(tmp_path):
    path = tmp_path / "model.tfx"
    x = np.array([1.0, 2.0, 3.0], np.float32)
    tx.saved_model.save(_fn(2.0), str(path))
    first = tx.saved_model.load(str(path))
    tx.saved_model.save(_fn(5.0), path)  # os.PathLike works too
    assert_same_tree(tx.saved_model.load(path)(x).numpy(), x * 5)
    assert_same_tree(first(x).numpy(), x * 2)  # a loaded model does not read the file again
    assert os.listdir(tmp_path) == ["model.tfx"]
    with pytest.raises(IsADirectoryError):
        tx.saved_model.save(_fn(1.0), str(tmp_path))


@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()],
                         ids=["OSError", "KeyboardInterrupt"])
def test_failed_save_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch, exc):
    path = tmp_path / "model.tfx"
    tx.saved_model.save(_fn(2.0), str(path))
    old = path.read_bytes()
    real = zipfile.ZipFile.writestr
    calls = []

    def failing(self, *args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise exc
        return real(self, *args, **kwargs)

    monkeypatch.setattr("runtime.artifact.zipfile.ZipFile.writestr", failing)
    with pytest.raises(type(exc)):
        tx.saved_model.save(_fn(7.0), str(path))
    monkeypatch.undo()
    assert len(calls) == 2
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["model.tfx"]
    x = np.array([1.0, 2.0, 3.0], np.float32)
    assert_same_tree(tx.saved_model.load(str(path))(x).numpy(), x * 2)


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    def failing(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("runtime.artifact.zipfile.ZipFile.writestr", failing)
    with pytest.raises(OSError, match="disk full"):
        tx.saved_model.save(_fn(2.0), str(tmp_path / "model.tfx"))
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- export_stablehlo
ALLOWED = {"builtin.module", "func.func", "func.return", "stablehlo.exponential",
           "stablehlo.multiply", "stablehlo.add", "stablehlo.constant",
           "stablehlo.broadcast_in_dim"}


def _op_names(module: str | bytes) -> set[str]:
    """Every op name in a StableHLO module (text or bytecode)."""
    names: set[str] = set()

    def visit(op: ir.Operation) -> ir.WalkResult:
        names.add(op.name)
        return ir.WalkResult.ADVANCE

    with make_context():
        ir.Module.parse(module).operation.walk(visit)
    return names


def test_export_stablehlo_text_and_portable(tmp_path):
    @tx.function
    def f(x, y):
        return tx.exp(x) * y + 1.0

    spec = tx.TensorSpec([2, 3], F32)
    tx.saved_model.export_stablehlo(f, str(tmp_path / "f.mlir"), spec, spec)
    text = (tmp_path / "f.mlir").read_text()
    assert "func.func public @main" in text or "func.func @main" in text
    assert "tensor<2x3xf32>" in text and "stablehlo.exponential" in text
    assert _op_names(text) <= ALLOWED  # parses, and holds only StableHLO/func ops

    tx.saved_model.export_stablehlo(f.get_concrete_function(spec, spec),
                                    str(tmp_path / "f.vhlo"), portable=True)
    data = (tmp_path / "f.vhlo").read_bytes()
    assert data.startswith(b"ML\xefR")
    assert b"StableHLO_v" in data[:32]
    assert _op_names(hlo.deserialize_portable_artifact_str(data)) <= ALLOWED  # other tools read it
    assert sorted(os.listdir(tmp_path)) == ["f.mlir", "f.vhlo"]

    with pytest.raises(ValueError, match="static shapes"):
        tx.saved_model.export_stablehlo(f, str(tmp_path / "g.mlir"),
                                        tx.TensorSpec([None, 3], F32), spec)
    assert sorted(os.listdir(tmp_path)) == ["f.mlir", "f.vhlo"]


def test_export_stablehlo_text_has_a_public_main(tmp_path):
    @tx.function(input_signature=[tx.TensorSpec([2], F32)])
    def f(x):
        return x + 1.0

    tx.saved_model.export_stablehlo(f, str(tmp_path / "f.mlir"))
    text = (tmp_path / "f.mlir").read_text()
    assert "func.func @main(" in text and "private" not in text.split("@main")[0].splitlines()[-1]


# ---------------------------------------------------------------- dtypes
class ManyDtypes(tx.Module):
    def __init__(self):
        super().__init__()
        self.bf = tx.Variable(np.array([[1.5, -2.25, 3e-3], [65504, 1e-8, -0.0]],
                                       ml_dtypes.bfloat16), name="bf")
        self.i32 = tx.Variable(np.array([-(2**31), 7, 2**31 - 1], np.int32), name="i32")
        self.i64 = tx.Variable(np.array([2**40 + 1, -3], np.int64), trainable=False,
                               name="i64")
        self.f16 = tx.Variable(np.array([0.1, 6e4], np.float16), name="f16")
        self.u8 = tx.Variable(np.array([0, 255], np.uint8), name="u8")
        self.flag = tx.Variable(np.array([True, False]), name="flag")

    @tx.function(input_signature=[tx.TensorSpec([2, 3], tx.bfloat16),
                                  tx.TensorSpec([3], tx.int32)])
    def __call__(self, x, i):
        self.i32.assign_add(i)
        return {"bf": x * self.bf, "i32": self.i32.value() * 2, "i64": self.i64 + 1,
                "f16": self.f16 * 2.0, "u8": self.u8 // 2, "flag": tx.logical_not(self.flag)}


def test_bfloat16_and_integer_variables_round_trip(tmp_path):
    m = ManyDtypes()
    path = tmp_path / "dtypes.tfx"
    tx.saved_model.save(m, str(path))
    manifest, _ = read_zip(path)
    assert sorted(v["dtype"] for v in manifest["variables"]) == sorted(
        v.dtype.name for v in m.variables)
    loaded = tx.saved_model.load(str(path))
    got = {v.name: v for v in loaded.variables}
    assert len(got) == len(m.variables) == 6
    for b in m.variables:
        a = got[b.name]
        assert isinstance(a, tx.Variable) and a.dtype is b.dtype
        assert a.trainable == b.trainable and a.shape == b.shape
        assert_same_tree(a.numpy(), b.numpy())
    assert got["bf:0"].numpy().dtype == ml_dtypes.bfloat16
    x = np.array([[1, 2, 3], [4, 5, 6]], ml_dtypes.bfloat16)
    i = np.array([0, 1, -1], np.int32)
    assert_same_tree(_to_numpy(loaded(x, i)), _to_numpy(m(x, i)))
    assert_same_tree(got["i32:0"].numpy(), m.i32.numpy())


def test_manifest_is_plain_json_with_checksums(tmp_path):
    path = tmp_path / "m.tfx"
    tx.saved_model.save(Accumulator(), str(path))
    with zipfile.ZipFile(path) as z:
        infos = {i.filename: i for i in z.infolist()}
        manifest = json.loads(z.read("manifest.json"))
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos.values())
        assert set(manifest["members"]) == set(infos) - {"manifest.json"}
        for name, meta in manifest["members"].items():
            data = z.read(name)
            assert meta["size"] == len(data)
            assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["format"] == "tfx.saved_model" and manifest["format_version"] == 1
    assert sorted(manifest["functions"]) == ["add", "read"]
    assert manifest["functions"]["add"]["updates"] == [0, 1]


def test_load_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        tx.saved_model.load(str(tmp_path / "nope.tfx"))
    assert issubclass(ArtifactError, ValueError)


def test_unsaveable_structures_raise_type_error_and_write_nothing(tmp_path):
    class Opaque:
        pass

    @tx.function
    def static_arg(x, how):
        return x * 2

    static_arg(np.ones(2, np.float32), Opaque())
    with pytest.raises(TypeError, match="static argument .* cannot be saved"):
        tx.saved_model.save(static_arg, str(tmp_path / "a.tfx"))

    @tx.function(input_signature=[tx.TensorSpec([2], F32)])
    def int_keys(x):
        return {1: x}

    with pytest.raises(TypeError, match="dict keys must be strings"):
        tx.saved_model.save(int_keys, str(tmp_path / "b.tfx"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("dtype", [ml_dtypes.bfloat16, np.float16, np.float64, np.int8, np.uint8,
                                   np.int64, np.bool_], ids=lambda d: np.dtype(d).name)
def test_captured_constants_of_every_dtype_round_trip(tmp_path, dtype):
    c = tx.constant((np.arange(2048) % 7).astype(dtype))  # > 1024 elements: a capture

    @tx.function(input_signature=[tx.TensorSpec([3], F32)])
    def f(x):
        return {"x": x, "c": c}

    path = tmp_path / "c.tfx"
    tx.saved_model.save(f, str(path))
    assert any(n.startswith("constants/") for n in read_zip(path)[1])
    x = np.ones(3, np.float32)
    assert_same_tree(_to_numpy(tx.saved_model.load(str(path))(x)), _to_numpy(f(x)))


def test_loaded_none_dim_signature_keeps_the_saved_pass_pipeline(tmp_path):
    c = tx.constant(np.linspace(-3, 3, 1000, dtype=np.float32))

    @tx.function(input_signature=[tx.TensorSpec([None], F32)], experimental_passes=[])
    def f(x):
        return x * tx.exp(c) + tx.tanh(c) * tx.sin(c)

    x = np.ones(1000, np.float32)
    want = f(x).numpy()
    tx.saved_model.save(f, str(tmp_path / "p.tfx"))
    loaded = tx.saved_model.load(str(tmp_path / "p.tfx"))
    assert_same_tree(loaded(x).numpy(), want)
    assert loaded.signatures["serving_default"].passes == ()


def test_signature_names_do_not_shadow_loaded_attributes(tmp_path):
    f = _fn(2.0)
    tx.saved_model.save(None, str(tmp_path / "s.tfx"),
                        signatures={"signatures": f, "variables": f})
    loaded = tx.saved_model.load(str(tmp_path / "s.tfx"))
    assert isinstance(loaded.signatures, dict) and sorted(loaded.signatures) == [
        "signatures", "variables"]
    assert loaded.variables == []
