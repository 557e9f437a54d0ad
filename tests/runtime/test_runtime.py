"""The runtime on its own: hand-written StableHLO in, device buffers through, caches, analyses."""
from __future__ import annotations

import uuid

import numpy as np
import pytest

import runtime
from runtime import client
from runtime.cache import MEMORY_CACHE, CompileCache

MUL_ADD = """
module @mul_add {
  func.func @main(%arg0: tensor<4xf32>, %arg1: tensor<4xf32>) -> tensor<4xf32> {
    %0 = stablehlo.multiply %arg0, %arg1 : tensor<4xf32>
    %1 = stablehlo.add %0, %arg1 : tensor<4xf32>
    return %1 : tensor<4xf32>
  }
}
"""

ADD_I64_F64 = """
module @wide {
  func.func @main(%arg0: tensor<2xi64>, %arg1: tensor<2xf64>)
      -> (tensor<2xi64>, tensor<2xf64>) {
    %0 = stablehlo.add %arg0, %arg0 : tensor<2xi64>
    %1 = stablehlo.multiply %arg1, %arg1 : tensor<2xf64>
    return %0, %1 : tensor<2xi64>, tensor<2xf64>
  }
}
"""

F32_4 = [((4,), np.float32)]


def unique_key() -> str:
    return f"tests/test_runtime/{uuid.uuid4().hex}"


def put(a) -> object:
    return runtime.device_put(np.asarray(a))


class TestCompile:
    def test_compile_and_run_text_module(self):
        exe, stats = runtime.compile_stablehlo(MUL_ADD, F32_4, name="mul_add")
        assert isinstance(exe, runtime.Executable)
        assert not stats.cache_hit and stats.xla_seconds > 0
        x = np.arange(4, dtype=np.float32)
        y = np.full(4, 2.0, np.float32)
        (out,) = exe([put(x), put(y)])
        np.testing.assert_array_equal(runtime.to_numpy(out), x * y + y)

    def test_cache_hit_on_same_key(self):
        key = unique_key()
        exe1, s1 = runtime.compile_stablehlo(MUL_ADD, F32_4, name="mul_add", cache_key=key)
        exe2, s2 = runtime.compile_stablehlo(MUL_ADD, F32_4, name="mul_add", cache_key=key)
        assert not s1.cache_hit
        assert s2.cache_hit and s2.xla_seconds == 0.0
        assert exe2 is exe1

    def test_no_key_no_cache(self):
        _, s1 = runtime.compile_stablehlo(MUL_ADD, F32_4)
        exe, s2 = runtime.compile_stablehlo(MUL_ADD, F32_4)
        assert not s1.cache_hit and not s2.cache_hit

    def test_memory_cache_counts(self):
        key = unique_key()
        hits, misses = MEMORY_CACHE.hits, MEMORY_CACHE.misses
        runtime.compile_stablehlo(MUL_ADD, F32_4, cache_key=key)
        runtime.compile_stablehlo(MUL_ADD, F32_4, cache_key=key)
        assert MEMORY_CACHE.misses == misses + 1
        assert MEMORY_CACHE.hits == hits + 1

    def test_wide_dtypes_run_exactly(self):
        exe, _ = runtime.compile_stablehlo(
            ADD_I64_F64, [((2,), np.int64), ((2,), np.float64)], name="wide")
        i = np.array([2**40 + 1, -(2**62)], np.int64)
        f = np.array([1 / 3, 1e150], np.float64)
        oi, of = exe([put(i), put(f)])
        oi, of = runtime.to_numpy(oi), runtime.to_numpy(of)
        assert oi.dtype == np.int64 and of.dtype == np.float64
        np.testing.assert_array_equal(oi, i + i)
        np.testing.assert_array_equal(of, f * f)

    def test_execution_error_names_the_function(self):
        exe, _ = runtime.compile_stablehlo(MUL_ADD, F32_4, name="my_prog")
        with pytest.raises(runtime.errors.InvalidArgumentError, match="my_prog") as info:
            exe([put(np.zeros(4, np.float32))])  # one argument short
        assert isinstance(info.value, runtime.errors.OpError)

    def test_cost_analysis_has_flops(self):
        exe, _ = runtime.compile_stablehlo(MUL_ADD, F32_4)
        cost = exe.cost_analysis()
        assert isinstance(cost, dict)
        assert "flops" in cost and cost["flops"] > 0

    def test_memory_stats(self):
        exe, _ = runtime.compile_stablehlo(MUL_ADD, F32_4)
        stats = exe.memory_stats()
        for k in ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes"):
            assert k in stats, stats
        assert stats["argument_size_in_bytes"] == 2 * 4 * 4
        assert stats["output_size_in_bytes"] == 4 * 4

    def test_optimized_hlo(self):
        exe, _ = runtime.compile_stablehlo(MUL_ADD, F32_4)
        assert "HloModule" in exe.optimized_hlo()

    def test_hlo_text(self):
        text = client.stablehlo_to_hlo_text(MUL_ADD)
        assert "HloModule mul_add" in text and "multiply" in text


class TestDevicePut:
    @pytest.mark.parametrize(
        "array",
        [
            pytest.param(np.array([2**40 + 1, -(2**62) - 3, 2**63 - 1], np.int64), id="int64"),
            pytest.param(np.array([1 / 3, 1e300, -5e-324], np.float64), id="float64"),
            pytest.param(np.array([2**32 + 7], np.uint64), id="uint64"),
            pytest.param(np.array([[1.5, -2.25]], np.float32), id="float32"),
            pytest.param(np.array([True, False]), id="bool"),
            pytest.param(np.array(7, np.int8), id="int8-scalar"),
        ],
    )
    def test_roundtrip_exact(self, array):
        back = runtime.to_numpy(runtime.device_put(array))
        assert back.dtype == array.dtype
        assert back.shape == array.shape
        np.testing.assert_array_equal(back, array)

    def test_device_put_copies(self):
        a = np.zeros(3, np.float32)
        buf = runtime.device_put(a)
        a[:] = 5.0
        np.testing.assert_array_equal(runtime.to_numpy(buf), [0.0, 0.0, 0.0])

    def test_devices(self):
        devs = runtime.list_devices()
        assert any(d.device_type == "CPU" for d in devs)
        assert runtime.list_devices("CPU")
        assert runtime.default_device() is not None
        assert ":" in client.platform_version()


class TestCompileCache:
    def test_lru_eviction(self):
        c = CompileCache(capacity=2)
        c.put("a", 1)
        c.put("b", 2)
        assert c.get("a") == 1  # "a" is now most recently used
        c.put("c", 3)  # evicts "b"
        assert len(c) == 2
        assert c.get("b") is None
        assert c.get("a") == 1 and c.get("c") == 3
        c.put("d", 4)  # evicts "a" (least recently used)
        assert c.get("a") is None
        assert c.get("c") == 3 and c.get("d") == 4

    def test_put_existing_key_refreshes(self):
        c = CompileCache(capacity=2)
        c.put("a", 1)
        c.put("b", 2)
        c.put("a", 10)  # update + refresh
        c.put("c", 3)  # evicts "b"
        assert c.get("a") == 10
        assert c.get("b") is None

    def test_hits_misses_and_clear(self):
        c = CompileCache(capacity=4)
        assert c.get("x") is None
        c.put("x", "exe")
        assert c.get("x") == "exe"
        assert (c.hits, c.misses) == (1, 1)
        c.clear()
        assert len(c) == 0 and (c.hits, c.misses) == (0, 0)
        assert c.get("x") is None
