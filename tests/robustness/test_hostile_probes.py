"""Every probe that once crashed, hung or leaked a raw error, replayed in a fresh process: the
process must exit cleanly within a time bound, with the right error class and message.

The hostile files are built here by short generators (no checked-in binaries).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.export._helpers import DROP, rewrite

REPORT = r"""
import json, sys, traceback
def report(fn):
    try:
        value = fn()
    except BaseException as e:  # the class and message are what the test checks
        print(json.dumps({"error": type(e).__name__, "message": str(e),
                          "mro": [c.__name__ for c in type(e).__mro__]}))
    else:
        print(json.dumps({"error": None, "value": repr(value)}))
"""


def child(code: str, timeout: float = 120, env: dict | None = None, cwd: Path | None = None
          ) -> tuple[dict, float]:
    """Run `code` (which calls report(fn) once) in a fresh interpreter; it must exit 0 within
    `timeout` seconds. Returns its report and the wall time."""
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", REPORT + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, **(env or {})})
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, f"exit {proc.returncode}:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), seconds


def load_report(path: Path, call: bool = True) -> str:
    return f"""
import numpy as np, tfx_core as tx
def go():
    m = tx.saved_model.load({str(path)!r})
    return m(np.ones(4, np.float32)).numpy() if {call} else m
report(go)
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    f = tx.function(lambda x: tx.exp(x) * 2.0, input_signature=[tx.TensorSpec([4], tx.float32)])
    path = tmp_path_factory.mktemp("probe") / "base.tfx"
    tx.saved_model.save(f, str(path))
    return path


def _ir_only(base: Path, out: Path, ir: str) -> Path:
    def drop_stablehlo(m):
        m["functions"]["serving_default"].pop("stablehlo", None)
        m["functions"]["serving_default"].pop("stablehlo_lowering", None)

    return rewrite(base, out, members={"functions/0.tfx": ir.encode(),
                                       "functions/0.stablehlo": DROP}, manifest=drop_stablehlo)


def chain_ir(n: int) -> str:
    lines = [f"  %{i}: f32[4] = exp %{i - 1}" for i in range(1, n + 1)]
    return "func @f(%0: f32[4]) -> (f32[4]) {\n" + "\n".join(lines) + f"\n  return %{n}\n}}\n"


# ---------------------------------------------------------------- files that crashed or hung
def test_stablehlo_calling_a_bodyless_declaration(tmp_path, base):
    """Was: segfault inside XLA compile, in load() and `tfx run`."""
    text = """module @m {
  func.func private @external_fn(%arg0: tensor<4xf32>) -> tensor<4xf32>
  func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {
    %0 = func.call @external_fn(%arg0) : (tensor<4xf32>) -> tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}"""
    from compiler.lowering.portable import to_portable

    p = rewrite(base, tmp_path / "m.tfx", members={"functions/0.stablehlo": to_portable(text)})
    got, seconds = child(load_report(p))
    assert got["error"] == "ArtifactError" and "not what the signature's IR lowers to" in \
        got["message"] and seconds < 60
    out = subprocess.run([sys.executable, "-m", "tfx_core.export.cli", "run", str(p)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_thirty_thousand_nested_case_regions(tmp_path, base):
    """Was: segfault in deserialize_portable_artifact_str (1k-10k deep: RecursionError)."""
    body = "stablehlo.return %arg0 : tensor<4xf32>"
    for d in range(30_000):
        body = (f'%c{d} = "stablehlo.case"(%i) ({{ {body} }}) : (tensor<i32>) -> tensor<4xf32>\n'
                f"stablehlo.return %c{d} : tensor<4xf32>")
    member = f"module {{ func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {{ {body} }} }}"
    assert len(member) > 1_500_000
    p = rewrite(base, tmp_path / "m.tfx", members={"functions/0.stablehlo": member.encode()})
    got, seconds = child(load_report(p))
    assert got["error"] == "ArtifactError" and seconds < 60


def test_infeed_program_no_longer_hangs(tmp_path, base):
    """Was: loads, then the call never returns (and SIGINT is ignored)."""
    text = """module @m {
  func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {
    %t = stablehlo.create_token : !stablehlo.token
    %0:2 = "stablehlo.infeed"(%t) {infeed_config = ""} : (!stablehlo.token) -> (tensor<4xf32>, !stablehlo.token)
    return %0#0 : tensor<4xf32>
  }
}"""  # noqa: E501
    from compiler.lowering.portable import to_portable

    p = rewrite(base, tmp_path / "m.tfx", members={"functions/0.stablehlo": to_portable(text)})
    got, seconds = child(load_report(p), timeout=60)
    assert got["error"] == "ArtifactError" and seconds < 60

    def foreign(m):  # from another lowering: ignored, and the IR (exp * 2) is what runs
        m["functions"]["serving_default"]["stablehlo_lowering"] = "another tfx"

    p2 = rewrite(p, tmp_path / "m2.tfx", manifest=foreign)
    got, _ = child(load_report(p2), timeout=60)
    assert got["error"] is None and "5.4365635" in got["value"]  # 2 e


def test_ir_with_more_ops_than_the_limit_is_refused_while_parsing(tmp_path, base):
    """Was: 200,000 chained ops load in 4 s, then XLA compile uses 6 GB and crashes."""
    p = _ir_only(base, tmp_path / "m.tfx", chain_ir(200_001))
    got, seconds = child(load_report(p))
    assert got["error"] == "ArtifactError" and "op count (200,001) exceeds the limit of 200,000" \
        in got["message"] and seconds < 60


def test_ir_with_a_chain_xla_cannot_compile_is_refused(tmp_path, base):
    p = _ir_only(base, tmp_path / "m.tfx", chain_ir(30_000))
    got, seconds = child(load_report(p))
    assert got["error"] == "ArtifactError" and "chain of 30,00" in got["message"]
    assert seconds < 60


def test_user_function_with_a_long_chain_is_refused_not_crashed():
    """Was: >= 30k chained ops in a @tx.function segfault in XLA (jax.jit: at 50k)."""
    got, seconds = child("""
import numpy as np, tfx_core as tx
@tx.function
def f(x):
    for i in range(50_000):
        x = tx.sin(x) if i % 2 else tx.exp(x) * 0.5
    return x
report(lambda: f(tx.constant(np.ones(4, np.float32))).numpy())
""")
    assert got["error"] == "ResourceExhaustedError" and "OpError" in got["mro"]
    assert "chain of 75,00" in got["message"] and "tx.range" in got["message"]
    assert seconds < 90


def test_the_chain_limit_is_configurable():
    got, _ = child("""
import numpy as np, tfx_core as tx
tx.config.set_compile_limits(max_chain=50)
@tx.function
def f(x):
    for _ in range(60):
        x = tx.sin(x)
    return x
report(lambda: f(tx.constant(np.ones(4, np.float32))).numpy())
""")
    assert got["error"] is None  # 60 ops: too small a module to be measured at all
    got, _ = child("""
import numpy as np, tfx_core as tx
from compiler.lowering import stablehlo
stablehlo.SMALL_MODULE_BYTES = 0  # measure every module
tx.config.set_compile_limits(max_chain=50)
@tx.function
def f(x):
    for _ in range(60):
        x = tx.sin(x)
    return x
report(lambda: f(tx.constant(np.ones(4, np.float32))).numpy())
""", env={"TFX_CACHE_DIR": "none"})  # (a cached executable needs no compile, so no check)
    assert got["error"] == "ResourceExhaustedError"
    assert "chain of 61 dependent ops, over the 50" in got["message"]


# ---------------------------------------------------------------- the public API
def test_a_tensor_too_big_for_memory_raises_instead_of_aborting():
    """Was: SIGABRT in to_numpy (Check failed: buffer_.IsConcrete())."""
    got, seconds = child("""
import tfx_core as tx
report(lambda: tx.random.stateless_normal([10**6, 10**6], seed=[1, 2]).numpy())
""")
    assert got["error"] == "ResourceExhaustedError" and "4.0 TB" in got["message"]
    assert seconds < 60


def test_reading_a_failed_buffer_raises_its_error():
    """With the memory check out of the way, XLA's own failure reaches .numpy(), repr and
    float as a Python exception (reading the poisoned buffer used to abort)."""
    got, _ = child("""
import tfx_core as tx
from runtime import executable
executable.Executable._guard_memory = lambda self: None
t = tx.random.stateless_normal([10**6, 10**6], seed=[1, 2])
out = []
for read in (lambda: t.numpy(), lambda: repr(t), lambda: float(t[0, 0]) if False else str(t)):
    try:
        read()
    except tx.errors.ResourceExhaustedError as e:  # (XLA itself says INTERNAL here)
        out.append("Out of memory allocating 4000000000000 bytes" in str(e))
report(lambda: out)
""")
    assert got["error"] is None and got["value"] == "[True, True, True]"


def test_an_out_of_memory_matmul_is_one_clear_error(tmp_path):
    """Was: ~14,000 'allocate of <8> failed.' lines, then an unwrapped JaxRuntimeError."""
    proc = subprocess.run([sys.executable, "-c", REPORT + textwrap.dedent("""
import tfx_core as tx
a = tx.ones([300_000, 1])
report(lambda: tx.matmul(a, tx.transpose(a)).numpy())
""")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr.count("allocate") == 0
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["error"] == "ResourceExhaustedError" and "360.0 GB" in got["message"]


def test_integer_division_by_zero_raises_eagerly_as_tf():
    ops = ("a // b", "a % b", "tx.math.floordiv(a, b)", "tx.math.floormod(a, b)")
    calls = "\n".join(f"    report(lambda: ({op}).numpy())" for op in ops)
    got, _ = child(f"""
import contextlib, io
import tfx_core as tx
a, b = tx.constant([7, -7, 3]), tx.constant([2, 0, 1])
out = io.StringIO()
with contextlib.redirect_stdout(out):  # one process for the four: one report line each
{calls}
print(json.dumps([json.loads(line) for line in out.getvalue().splitlines()]))
""")
    assert len(got) == len(ops)
    for op, r in zip(ops, got):
        assert r["error"] == "InvalidArgumentError" and "ValueError" in r["mro"], (op, r)
        assert "integer division by zero" in r["message"] and "<string>:" in r["message"], op


@pytest.mark.parametrize("dtype", ["datetime64[D]", "float128", "[('a', 'f4'), ('b', 'i4')]",
                                   "clongdouble", "timedelta64[s]"])
def test_unsupported_numpy_dtypes_are_a_type_error(dtype):
    a = np.zeros(3, dtype=eval(dtype) if dtype.startswith("[") else dtype)  # noqa: S307
    for fn in (tx.constant, tx.exp, tx.function(lambda x: x)):
        with pytest.raises(TypeError, match="unsupported dtype"):
            fn(a)


def test_arguments_nested_too_deeply_are_a_value_error():
    nested: object = np.float32(1.0)
    for _ in range(990):
        nested = [nested]
    f = tx.function(lambda x: 1.0)
    with pytest.raises(ValueError, match="nested too deeply"):
        f(nested)


# ---------------------------------------------------------------- raw errors from files
def _bad(tmp_path: Path, base: Path, **kw) -> Path:
    return rewrite(base, tmp_path / "m.tfx", **kw)


BAD_FILES = {
    "huge-constant": lambda t, b: _ir_only(b, t / "m.tfx", (
        "func @f(%0: f32[4]) -> (f32[4]) {\n  %1: f32[4294967296,4294967296] = constant "
        "{value=dense<f32[4294967296,4294967296] []>}\n  return %0\n}\n")),
    "5000-digit-version": lambda t, b: _bad(t, b, raw_manifest=(
        b'{"format": "tfx.saved_model", "format_version": ' + b"9" * 5000 + b"}")),
    "version-true": lambda t, b: _bad(t, b, manifest=lambda m: m.update(format_version=True)),
    "negative-variable-index": lambda t, b: _bad(t, b, manifest=lambda m: m["functions"][
        "serving_default"].update(captures=[{"variable": -1}])),
    "malformed-ir": lambda t, b: _ir_only(b, t / "m.tfx", "func @f(%0: f32[4]) -> (f32[4]) {"),
    "ir-bad-attr": lambda t, b: _ir_only(b, t / "m.tfx", (
        "func @f(%0: f32[4]) -> (f32[4]) {\n  %1: f32[4] = exp %0 {x=bogus}\n  return %1\n}\n")),
    "manifest-functions-list": lambda t, b: _bad(t, b, manifest=lambda m: m.update(
        functions=[1, 2])),
    "manifest-graph-missing": lambda t, b: _bad(t, b, manifest=lambda m: m["functions"][
        "serving_default"].pop("graph")),
}
EXPECTED = {
    "huge-constant": "too large", "5000-digit-version": "not valid JSON",
    "version-true": "bad format_version True", "negative-variable-index":
    "captures\\[0\\].variable: -1 is not a variable index", "malformed-ir": "its IR is invalid",
    "ir-bad-attr": "unknown attribute value 'bogus'", "manifest-functions-list":
    "functions: expected an object", "manifest-graph-missing": "graph: expected a string",
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_files_give_one_artifact_error_in_load_and_inspect(tmp_path, base, kind):
    """Was: ValueError (reshape, 4300 digits), ParseError/KeyError/AttributeError/RecursionError
    tracebacks from `tfx inspect`, `format_version: true` and negative indices accepted."""
    import re

    p = BAD_FILES[kind](tmp_path, base)
    with pytest.raises(tx.saved_model.ArtifactError) as info:
        tx.saved_model.load(str(p))
    assert re.search(EXPECTED[kind], str(info.value)), str(info.value)
    out = subprocess.run([sys.executable, "-m", "tfx_core.export.cli", "inspect", str(p)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("tfx: ") and out.stderr.count("\n") == 1, out.stderr
    assert re.search(EXPECTED[kind], out.stderr)


def test_a_damaged_member_names_a_reason(tmp_path, base):
    """Was: `member ... is damaged:` with an empty reason."""
    from runtime import artifact

    class Silent(Exception):
        def __str__(self) -> str:
            return ""

    def read(*a, **k):
        raise artifact.zipfile.BadZipFile() from Silent()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(artifact.zipfile.ZipFile, "read", read)
        with pytest.raises(tx.saved_model.ArtifactError, match=r"is damaged: BadZipFile"):
            tx.saved_model.load(str(base))
