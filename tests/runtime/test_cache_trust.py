"""The persistent compile cache holds native code: it is used only when nobody but the current
user can have written it. Every other directory or entry is refused with one warning, and the
disk cache is then off for the process (compiling still works). Foreign owners need root to
set up; those cases skip otherwise."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest

import runtime
from runtime import disk_cache
from runtime.disk_cache import DiskCache, UntrustedCacheError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")
ROOT_ONLY = pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0,
                               reason="making files owned by another user needs root")
OTHER_UID = 12345

DOUBLE = """
module @double_%s {
  func.func @main(%%arg0: tensor<4xf32>) -> tensor<4xf32> {
    %%0 = stablehlo.add %%arg0, %%arg0 : tensor<4xf32>
    return %%0 : tensor<4xf32>
  }
}
"""
F32_4 = [((4,), np.float32)]


def compile_double(cache_key: str | None = None):
    exe, stats = runtime.compile_stablehlo(DOUBLE % uuid.uuid4().hex, F32_4,
                                           cache_key=cache_key or uuid.uuid4().hex)
    (out,) = exe([runtime.device_put(np.arange(4, dtype=np.float32))])
    np.testing.assert_array_equal(runtime.to_numpy(out), [0, 2, 4, 6])
    return stats


@pytest.fixture(autouse=True)
def _restore_cache_dir():
    yield
    disk_cache.reset_cache_dir()


def refused_dir(d: Path, pattern: str) -> None:
    """`d` as the cache directory: refused with one warning naming why; compiling works."""
    with pytest.raises(UntrustedCacheError, match=pattern):
        DiskCache(d)
    disk_cache.set_cache_dir(d)
    with pytest.warns(RuntimeWarning, match="compile cache disabled") as record:
        assert disk_cache.default_cache() is None
        stats = compile_double()
    assert len(record) == 1 and not stats.disk_hit


# ---------------------------------------------------------------- the directory
@pytest.mark.parametrize("mode,who", [(0o777, "everyone"), (0o775, "its group"),
                                      (0o770, "its group"), (0o730, "its group")])
def test_a_directory_others_can_write_is_refused(tmp_path, mode, who):
    d = tmp_path / "cache"
    d.mkdir()
    os.chmod(d, mode)
    refused_dir(d, f"writable by {who}")


def test_a_symlinked_directory_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "cache"
    link.symlink_to(real)
    refused_dir(link, "is a symlink")


def test_a_parent_others_can_write_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # no sticky bit: anyone could rename our directory away
    d = shared / "cache"
    d.mkdir(mode=0o700)
    refused_dir(d, "above it.*writable by everyone")


def test_a_sticky_parent_like_tmp_is_fine(tmp_path):
    shared = tmp_path / "tmp-like"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    assert DiskCache(shared / "cache").refused is None


@ROOT_ONLY
def test_a_directory_owned_by_another_user_is_refused(tmp_path):
    d = tmp_path / "cache"
    d.mkdir(mode=0o700)
    os.chown(d, OTHER_UID, OTHER_UID)
    refused_dir(d, f"owned by uid {OTHER_UID}")


@ROOT_ONLY
def test_a_symlink_into_another_users_directory_is_refused(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, OTHER_UID, OTHER_UID)
    link = tmp_path / "cache"
    link.symlink_to(theirs)
    refused_dir(link, "symlink")


# ---------------------------------------------------------------- entries
@pytest.fixture
def good_cache(tmp_path):
    d = tmp_path / "cache"
    disk_cache.set_cache_dir(d)
    cache = disk_cache.default_cache()
    assert cache is not None and cache.refused is None
    return cache


def _one_entry(cache: DiskCache) -> Path:
    cache.put("key", b"payload")
    (p,) = [p for p in Path(cache.directory).iterdir() if p.name.endswith(disk_cache.SUFFIX)]
    return p


def refused_entry(cache: DiskCache, pattern: str) -> None:
    with pytest.warns(RuntimeWarning, match=f"compile cache disabled.*{pattern}"):
        assert cache.get("key") is None
    assert cache.refused
    assert disk_cache.default_cache() is None  # off for the rest of the process
    assert not cache.put("other", b"x") and cache.get("other") is None
    compile_double()  # compiling still works, without the cache


@pytest.mark.parametrize("mode", [0o666, 0o664, 0o620])
def test_an_entry_others_can_write_is_refused(good_cache, mode):
    os.chmod(_one_entry(good_cache), mode)
    refused_entry(good_cache, "writable by")


def test_an_entry_that_is_a_symlink_is_refused(good_cache, tmp_path):
    p = _one_entry(good_cache)
    elsewhere = tmp_path / "elsewhere.xex"
    shutil.move(p, elsewhere)
    p.symlink_to(elsewhere)
    refused_entry(good_cache, "symlink")


@ROOT_ONLY
def test_an_entry_owned_by_another_user_is_refused(good_cache):
    os.chown(_one_entry(good_cache), OTHER_UID, OTHER_UID)
    refused_entry(good_cache, f"owned by uid {OTHER_UID}")


PLANTED = r"""
import os, sys, warnings
import numpy as np
import tfx_core as tx
from runtime import compile as rc, disk_cache

warnings.simplefilter("always")
f = tx.function(lambda x: x * 2.0, input_signature=[tx.TensorSpec([4], tx.float32)])
g = tx.function(lambda x: x + 100.0, input_signature=[tx.TensorSpec([4], tx.float32)])
x = np.arange(4, dtype=np.float32)
if sys.argv[1] == "plant":
    f(x); g(x)  # two entries; then swap g's program into f's entry, re-checksummed
    cache = disk_cache.default_cache()
    def key(fn):
        c = fn.get_concrete_function().compiled_for(fn.get_concrete_function().input_types)
        dev = c.exe.device
        return rc.persistent_key(c.lowered.bytecode, dev, rc.client.compile_options_bytes(
            rc.client.compile_options(device=dev)))
    cache.put(key(f), cache.get(key(g)))
    os.chmod(cache.path(key(f)), int(sys.argv[2], 8))
else:
    print(f(x).numpy().tolist(), rc.counts()["disk_loads"])
"""


@pytest.mark.parametrize("mode", ["600", "666"])
def test_a_planted_executable_runs_only_from_a_trusted_entry(tmp_path, mode):
    """The attack: a world-writable entry holding another program under our key. With 0600 the
    user's own (here: swapped by the test itself) entry is trusted and loads; with 0666 it is
    never loaded: tfx compiles the real program."""
    script = tmp_path / "planted.py"
    script.write_text(textwrap.dedent(PLANTED))
    env = dict(os.environ, TFX_CACHE_DIR=str(tmp_path / "cache"))

    def child(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(script), *args], env=env,
                              capture_output=True, text=True, timeout=120)

    assert child("plant", mode).returncode == 0
    out = child("run")
    assert out.returncode == 0, out.stderr
    values, loads = out.stdout.split("]")
    if mode == "600":  # trusted: the (swapped) entry is what runs
        assert values.strip("[ ") == "100.0, 101.0, 102.0, 103.0" and int(loads) == 1
    else:
        assert values.strip("[ ") == "0.0, 2.0, 4.0, 6.0" and int(loads) == 0
        assert "compile cache disabled" in out.stderr and "writable by everyone" in out.stderr
