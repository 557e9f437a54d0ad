"""The persistent compile cache: DiskCache on its own, compile_stablehlo through it, and fresh
processes sharing one directory (asserted through the counters the children print, not timing).
"""
from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

import runtime
from runtime import compile as rc
from runtime import disk_cache
from runtime.disk_cache import DiskCache

ROOT = Path(__file__).resolve().parents[2]


def entry_files(d) -> list[Path]:
    return sorted(p for p in Path(d).iterdir() if p.name.endswith(disk_cache.SUFFIX))


def flip_byte(path: Path, offset: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def valid_entry(path: Path) -> bool:
    data = path.read_bytes()
    if len(data) < disk_cache._HEADER.size:
        return False
    key_digest = disk_cache._HEADER.unpack_from(data)[3]
    return disk_cache._decode(data, key_digest) is not None


# ---------------------------------------------------------------- DiskCache
class TestDiskCache:
    def test_round_trip_and_counters(self, tmp_path):
        c = DiskCache(tmp_path / "c")
        assert c.get("k") is None
        assert c.put("k", b"payload" * 100)
        assert c.get("k") == b"payload" * 100
        info = c.info()
        assert (info["entries"], info["hits"], info["misses"], info["writes"]) == (1, 1, 1, 1)
        assert info["bytes"] > 700 and info["directory"] == str(tmp_path / "c")
        if os.name == "posix":
            assert stat.S_IMODE(os.stat(tmp_path / "c").st_mode) == 0o700
            assert stat.S_IMODE(os.stat(entry_files(tmp_path / "c")[0]).st_mode) == 0o600

    def test_file_name_is_a_digest_inside_the_directory(self, tmp_path):
        c = DiskCache(tmp_path)
        p = c.path("../../etc/passwd")
        assert os.path.dirname(p) == str(tmp_path)
        assert len(os.path.basename(p)) == 64 + len(disk_cache.SUFFIX)

    def test_lru_eviction_by_size(self, tmp_path):
        c = DiskCache(tmp_path, max_bytes=2500)
        blob = b"x" * 1000
        c.put("a", blob)
        c.put("b", blob)
        now = time.time()
        os.utime(c.path("a"), (now - 200, now - 200))
        os.utime(c.path("b"), (now - 100, now - 100))
        assert c.get("a") == blob  # a is now the most recently used
        c.put("c", blob)  # over the bound: the least recently used (b) goes
        assert [c.get(k) is not None for k in "abc"] == [True, False, True]
        assert c.info()["evictions"] == 1 and c.info()["bytes"] <= 2500

    def test_bound_is_kept_across_many_writes(self, tmp_path):
        c = DiskCache(tmp_path, max_bytes=10_000)
        for i in range(100):
            c.put(f"k{i}", bytes(900))
        c.evict()
        assert c.info()["bytes"] <= 10_000
        assert c.get("k99") is not None

    def test_entry_larger_than_the_bound_is_not_stored(self, tmp_path):
        c = DiskCache(tmp_path, max_bytes=100)
        assert not c.put("big", bytes(1000))
        assert c.get("big") is None and entry_files(tmp_path) == []

    @pytest.mark.parametrize("damage", ["flip_payload", "flip_header", "truncate", "empty",
                                        "garbage"])
    def test_corrupt_entry_is_dropped_then_rewritten(self, tmp_path, damage):
        c = DiskCache(tmp_path)
        c.put("k", b"0123456789" * 50)
        (path,) = entry_files(tmp_path)
        if damage == "flip_payload":
            flip_byte(path, -3)
        elif damage == "flip_header":
            flip_byte(path, 9)  # the format version
        elif damage == "truncate":
            path.write_bytes(path.read_bytes()[:-7])
        elif damage == "empty":
            path.write_bytes(b"")
        else:
            path.write_bytes(os.urandom(300))
        assert c.get("k") is None
        assert c.info()["corrupt_dropped"] == 1 and not path.exists()
        assert c.put("k", b"0123456789" * 50)
        assert c.get("k") == b"0123456789" * 50

    def test_entry_under_another_name_is_rejected(self, tmp_path):
        c = DiskCache(tmp_path)
        c.put("a", b"A" * 64)
        os.replace(c.path("a"), c.path("b"))  # a valid file, but not b's
        assert c.get("b") is None and c.info()["corrupt_dropped"] == 1

    def test_symlinks_are_not_followed(self, tmp_path):
        if not hasattr(os, "symlink") or os.name != "posix":
            pytest.skip("POSIX symlinks")
        other = DiskCache(tmp_path / "other")
        other.put("k", b"from elsewhere")
        c = DiskCache(tmp_path / "c")
        os.symlink(other.path("k"), c.path("k"))
        with pytest.warns(RuntimeWarning, match="is a symlink"):
            assert c.get("k") is None
        assert c.refused  # and nothing more is read from or written to it
        c.clear()
        assert other.get("k") == b"from elsewhere"  # clear() never touched the target

    def test_files_vanishing_during_eviction(self, tmp_path, monkeypatch):
        c = DiskCache(tmp_path, max_bytes=3000)
        for k in "abc":
            c.put(k, bytes(900))
        real_scan = c._scan

        def scan_then_another_process_evicts():
            entries, temps = real_scan()
            for _, _, p in entries[::2]:
                os.unlink(p)
            return entries, temps

        monkeypatch.setattr(c, "_scan", scan_then_another_process_evicts)
        c.put("d", bytes(2000))  # must not raise though files vanish under it
        c.max_bytes = 0
        c.evict()
        monkeypatch.undo()
        assert c.info()["entries"] == 0

    def test_stale_temp_files_are_cleaned_and_foreign_files_kept(self, tmp_path):
        c = DiskCache(tmp_path)
        stale = tmp_path / f"{disk_cache.TMP_PREFIX}123-dead"
        fresh = tmp_path / f"{disk_cache.TMP_PREFIX}456-live"
        foreign = tmp_path / "notes.txt"
        for p in (stale, fresh, foreign):
            p.write_bytes(b"x")
        old = time.time() - 2 * disk_cache.STALE_TMP_SECONDS
        os.utime(stale, (old, old))
        c.evict()
        assert not stale.exists() and fresh.exists()
        c.put("k", b"v")
        c.clear()
        assert entry_files(tmp_path) == [] and not fresh.exists() and foreign.exists()

    def test_world_writable_directory_is_refused(self, tmp_path):
        if os.name != "posix":
            pytest.skip("POSIX permissions")
        d = tmp_path / "shared"
        d.mkdir()
        os.chmod(d, 0o777)
        with pytest.raises(PermissionError, match="writable by everyone"):
            DiskCache(d)


CONCURRENT_WRITER = r"""
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("dc", sys.argv[1])
dc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dc)   # only this module: no jax import in the children
c = dc.DiskCache(sys.argv[2])
me = int(sys.argv[3])
payload = bytes([me]) * 200_000
while time.time() < float(sys.argv[4]):
    time.sleep(0.001)
seen = set()
for _ in range(40):
    c.put("same-key", payload)
    got = c.get("same-key")
    seen.add(None if got is None else (got[0], len(got), len(set(got))))
print(sorted(seen, key=str), c.info()["corrupt_dropped"])
"""


def test_concurrent_writers_of_one_key(tmp_path):
    """4 processes write (different payloads under) one key at once and read it back: every
    read is one writer's whole payload, nothing is counted corrupt, one valid entry remains."""
    d = tmp_path / "cache"
    DiskCache(d)
    start = time.time() + 0.5
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, disk_cache.__file__,
                               str(d), str(i + 1), str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        seen, corrupt = out.rsplit(" ", 1)
        assert corrupt.strip() == "0", out
        for item in ast.literal_eval(seen):  # (first byte, length, distinct bytes) of each read
            assert item is not None and item[0] in (1, 2, 3, 4) and item[1:] == (200_000, 1)
    (entry,) = entry_files(d)
    assert valid_entry(entry)
    assert not [p for p in d.iterdir() if p.name.startswith(disk_cache.TMP_PREFIX)]


# ---------------------------------------------------------------- choosing the directory
class TestDirectory:
    @pytest.fixture(autouse=True)
    def _restore(self, monkeypatch):
        monkeypatch.setattr(disk_cache, "_override", disk_cache._UNSET)

    @pytest.mark.parametrize("value", ["", "none", "None"])
    def test_env_disables(self, monkeypatch, value):
        monkeypatch.setenv("TFX_CACHE_DIR", value)
        assert disk_cache.get_cache_dir() is None and disk_cache.default_cache() is None

    def test_default_is_under_the_user_cache_dir(self, monkeypatch, tmp_path):
        monkeypatch.delenv("TFX_CACHE_DIR", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        if os.name != "nt":
            assert disk_cache.get_cache_dir() == str(tmp_path / "tfx" / "xla")

    def test_tx_config_overrides_the_env(self, monkeypatch, tmp_path):
        import tfx_core as tx

        monkeypatch.setenv("TFX_CACHE_DIR", str(tmp_path / "env"))
        tx.config.set_compile_cache_dir(tmp_path / "mine")
        assert tx.config.get_compile_cache_dir() == str(tmp_path / "mine")
        assert disk_cache.default_cache().directory == str(tmp_path / "mine")
        tx.config.set_compile_cache_dir(None)
        assert tx.config.get_compile_cache_dir() is None

    def test_unusable_directory_warns_once_and_compiling_still_works(self, tmp_path):
        blocker = tmp_path / "a-file"
        blocker.write_bytes(b"")
        disk_cache.set_cache_dir(blocker / "cache")  # under a file: can't be created
        with pytest.warns(RuntimeWarning, match="compile cache disabled") as record:
            assert disk_cache.default_cache() is None
            exe, stats = runtime.compile_stablehlo(MUL, F32_4, cache_key=uuid.uuid4().hex)
            assert disk_cache.default_cache() is None
        assert len(record) == 1 and not stats.disk_hit
        np.testing.assert_array_equal(run(exe), [0, 2, 4, 6])


# ---------------------------------------------------------------- compile_stablehlo
MUL = """
module @double {
  func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {
    %0 = stablehlo.add %arg0, %arg0 : tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}
"""
F32_4 = [((4,), np.float32)]


def run(exe) -> np.ndarray:
    (out,) = exe([runtime.device_put(np.arange(4, dtype=np.float32))])
    return runtime.to_numpy(out)


def unique_module() -> str:
    """A module no other test compiles (so the first compile is an XLA compile)."""
    return MUL.replace("@double", f"@m_{uuid.uuid4().hex}")


class TestCompileThroughDisk:
    @pytest.fixture(autouse=True)
    def cache(self, tmp_path):
        disk_cache.set_cache_dir(tmp_path)
        yield disk_cache.default_cache()
        disk_cache.reset_cache_dir()

    def test_second_memory_miss_is_a_disk_hit(self, cache):
        mod = unique_module()
        before = rc.counts()
        _, s1 = runtime.compile_stablehlo(mod, F32_4, cache_key=uuid.uuid4().hex)
        exe, s2 = runtime.compile_stablehlo(mod, F32_4, cache_key=uuid.uuid4().hex)
        after = rc.counts()
        assert not s1.disk_hit and s1.xla_seconds > 0
        assert s2.disk_hit and not s2.cache_hit and s2.xla_seconds == 0.0
        assert after["xla_compiles"] - before["xla_compiles"] == 1
        assert after["disk_loads"] - before["disk_loads"] == 1
        assert cache.info()["writes"] == 1 and cache.info()["hits"] == 1
        np.testing.assert_array_equal(run(exe), [0, 2, 4, 6])
        assert exe.memory_stats()["output_size_in_bytes"] == 16

    def test_unloadable_entry_is_dropped_and_recompiled(self, cache):
        mod = unique_module()
        _, s1 = runtime.compile_stablehlo(mod, F32_4, cache_key=uuid.uuid4().hex)
        (path,) = entry_files(cache.directory)
        key = rc.persistent_key(mod, runtime.default_device(), rc.client.compile_options_bytes(
            rc.client.compile_options(device=runtime.default_device())))
        cache.put(key, b"checksums fine, but not an executable")
        errors = rc.counts()["disk_load_errors"]
        exe, s2 = runtime.compile_stablehlo(mod, F32_4, cache_key=uuid.uuid4().hex)
        assert not s2.disk_hit and s2.xla_seconds > 0
        assert rc.counts()["disk_load_errors"] == errors + 1
        assert valid_entry(path) and cache.get(key) != b"checksums fine, but not an executable"
        np.testing.assert_array_equal(run(exe), [0, 2, 4, 6])

    def test_unkeyed_compiles_skip_the_disk(self, cache):
        runtime.compile_stablehlo(unique_module(), F32_4)
        assert entry_files(cache.directory) == []

    def test_disabled_cache_writes_nothing(self, cache):
        import tfx_core as tx

        tx.config.set_compile_cache_dir(None)
        before = disk_cache.stats()
        _, s = runtime.compile_stablehlo(unique_module(), F32_4, cache_key=uuid.uuid4().hex)
        assert not s.disk_hit and s.disk_seconds == 0.0
        assert disk_cache.stats() == before and entry_files(cache.directory) == []

    def test_key_covers_module_options_and_flags(self, monkeypatch):
        dev = runtime.default_device()
        opts = rc.client.compile_options_bytes(rc.client.compile_options(device=dev))
        dbg = rc.client.compile_options_bytes(rc.client.compile_options(
            {"xla_cpu_enable_fast_math": True}, device=dev))
        k = rc.persistent_key(MUL, dev, opts)
        assert k == rc.persistent_key(MUL.encode(), dev, opts)
        assert k != rc.persistent_key(unique_module(), dev, opts)
        assert k != rc.persistent_key(MUL, dev, dbg)
        monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=true")
        assert k != rc.persistent_key(MUL, dev, opts)


# ---------------------------------------------------------------- fresh processes
CHILD = r"""
import json, sys
import numpy as np
import tfx_core as tx
from runtime import compile as rc

v = tx.Variable(np.zeros(3, np.float32))

@tx.function
def predict(x, w):
    return tx.nn.relu(tx.matmul(x, w)) * 2.0

@tx.function
def accumulate(x):          # donates v's buffer: the aliasing is inside the cached module
    v.assign_add(tx.reduce_sum(x, axis=0))
    return v.read_value() * 1.0

x = np.arange(12, dtype=np.float32).reshape(4, 3) - 5.0
w = np.linspace(-1, 1, 9, dtype=np.float32).reshape(3, 3)
y = predict(x, w).numpy()
a1 = accumulate(x).numpy()
a2 = accumulate(x).numpy()
print("RESULT " + json.dumps({"counts": rc.counts(), "y": y.tolist(), "a": [a1.tolist(),
      a2.tolist()], "v": v.numpy().tolist(),
      "explain": predict.get_concrete_function(x, w).explain()}))
"""


def run_child(cache_dir) -> dict:
    env = dict(os.environ, TFX_CACHE_DIR=str(cache_dir), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_second_process_skips_xla_and_a_corrupt_entry_is_recovered(tmp_path):
    d = tmp_path / "cache"
    cold = run_child(d)
    c = cold["counts"]
    assert c["xla_compiles"] == 2 and c["disk_writes"] == 2 and c["disk_loads"] == 0
    assert len(entry_files(d)) == 2
    assert "executable: compiled by XLA" in cold["explain"]

    warm = run_child(d)
    w = warm["counts"]
    assert w["xla_compiles"] == 0 and w["disk_loads"] == 2 and w["disk_hits"] == 2
    assert w["disk_writes"] == 0
    assert "executable: persistent compile cache" in warm["explain"]
    for k in ("y", "a", "v"):
        assert warm[k] == cold[k], k
    assert cold["a"][1] == [2 * s for s in cold["a"][0]]  # the donated update really ran

    for path in entry_files(d):
        flip_byte(path, len(path.read_bytes()) // 2)
    fixed = run_child(d)
    f = fixed["counts"]
    assert f["disk_corrupt_dropped"] == 2 and f["xla_compiles"] == 2 and f["disk_writes"] == 2
    assert all(valid_entry(p) for p in entry_files(d)) and len(entry_files(d)) == 2
    for k in ("y", "a", "v"):
        assert fixed[k] == cold[k], k

