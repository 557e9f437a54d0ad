"""`save(include_compiled=True)` / `load(allow_compiled=True)`: bundled XLA executables are used
only on opt-in and only when jaxlib, platform and compile options match; otherwise tfx compiles
(with a warning when the caller opted in)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tfx_core as tx
from runtime import client
from tests.export._helpers import read_zip, rewrite

X = np.array([-1.0, 2.0, 3.0, -0.5], np.float32)


@pytest.fixture()
def bundled(tmp_path):
    f = tx.function(lambda x: tx.nn.relu(x) * 2.0 + 1.0,
                    input_signature=[tx.TensorSpec([4], tx.float32)])
    path = tmp_path / "f.tfx"
    tx.saved_model.save(f, str(path), include_compiled=True)
    return path, f(X).numpy()


def _hit(loaded) -> bool:
    """The signature runs the bundled executable (its timings say it was deserialized)."""
    return "deserialize" in loaded.signatures["serving_default"]._single.timings


def test_the_executable_is_stored_with_what_it_was_built_for(bundled):
    manifest, members = read_zip(bundled[0])
    info = manifest["functions"]["serving_default"]["compiled"]
    assert info["jaxlib"] == client.jaxlib_version()
    assert info["platform"] == client.platform_version(client.default_device())
    assert len(members[info["member"]]) > 1000  # native code


def test_allow_compiled_uses_it_in_a_fresh_process(bundled):
    path, want = bundled
    child = (f"import numpy as np, tfx_core as tx\n"
             f"L = tx.saved_model.load({str(path)!r}, allow_compiled=True)\n"
             f"print('deserialize' in L.signatures['serving_default']._single.timings)\n"
             f"print(L(np.array({X.tolist()}, np.float32)).numpy().tolist())\n")
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                         env={"TFX_CACHE_DIR": "none", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert out.returncode == 0, out.stderr
    hit, values = out.stdout.strip().splitlines()
    assert hit == "True"
    np.testing.assert_array_equal(np.array(eval(values), np.float32), want)  # noqa: S307


def test_without_opt_in_the_executable_is_never_deserialized(bundled, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("deserialized without allow_compiled")

    monkeypatch.setattr(client, "deserialize_executable", refuse)
    loaded = tx.saved_model.load(str(bundled[0]))
    assert not _hit(loaded)
    np.testing.assert_array_equal(loaded(X).numpy(), bundled[1])


@pytest.mark.parametrize("field", ["jaxlib", "platform", "options_sha256"])
def test_a_mismatch_compiles_instead_with_a_note(bundled, tmp_path, field):
    def edit(m):
        m["functions"]["serving_default"]["compiled"][field] = "something-else"

    p = rewrite(bundled[0], tmp_path / "other.tfx", manifest=edit)
    with pytest.warns(UserWarning, match=f"bundled executable is for another {field}"):
        loaded = tx.saved_model.load(str(p), allow_compiled=True)
    assert not _hit(loaded)
    np.testing.assert_array_equal(loaded(X).numpy(), bundled[1])


def test_a_damaged_executable_compiles_instead(bundled, tmp_path):
    manifest, _ = read_zip(bundled[0])
    member = manifest["functions"]["serving_default"]["compiled"]["member"]
    p = rewrite(bundled[0], tmp_path / "damaged.tfx", members={member: b"not an executable"})
    with pytest.warns(UserWarning, match="bundled executable did not load"):
        loaded = tx.saved_model.load(str(p), allow_compiled=True)
    np.testing.assert_array_equal(loaded(X).numpy(), bundled[1])
