"""tx.experimental.dtensor over 8 simulated CPU devices: tensor-parallel matmuls and a
Megatron-style transformer block equal numpy / the unsharded run, each device holds 1/N of a
split weight, the optimized HLO has the collectives each layout needs (none, all-gather,
all-reduce); eager ops, relayout, DVariable, pack/unpack and 64-bit dtypes on a mesh; clear
errors for bad layouts; gradients through sharded code. One subprocess runs every check
(tests/distribute/dtensor_worker.py) and prints JSON that the tests below read.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.distribute.workers import case, run_worker

ROOT = Path(__file__).resolve().parents[2]
TOL = 1e-4  # float32 matmuls of 64 terms, summed in another order per device


@pytest.fixture(scope="module")
def results() -> dict:
    return run_worker("tests.distribute.dtensor_worker")


@pytest.mark.parametrize("name, layout, collectives", [
    ("matmul_col", ["unsharded", "m"], {}),  # output-dim split: each device its own columns
    ("matmul_col_batch", ["unsharded", "m"], {"all-gather": 1}),  # x's rows gathered
    ("matmul_row", ["unsharded", "unsharded"], {"all-reduce": 1}),  # partial sums added
    ("matmul_2d", ["batch", "model"], {}),
])
def test_tensor_parallel_matmul(results, name, layout, collectives):
    r = case(results, name)
    assert r["err"] < TOL and r["eager_err"] < TOL
    assert r["layout"] == layout and r["eager_layout"] == layout
    assert r["collectives"] == collectives
    assert r["explain_has_specs"]


def test_matmul_per_device_bytes_are_split(results):
    b = results["bytes"]
    # x replicated + 1/8 of W; then 1/8 of both; then x/2 + W/4 on the 2x4 mesh
    assert case(results, "matmul_col")["arg_bytes"] == b["x"] + b["w"] // 8
    assert case(results, "matmul_col")["out_bytes"] == b["out"] // 8
    assert case(results, "matmul_col_batch")["arg_bytes"] == b["x"] // 8 + b["w"] // 8
    assert case(results, "matmul_row")["arg_bytes"] == b["x"] // 8 + b["w"] // 8
    assert case(results, "matmul_row")["out_bytes"] == b["out"]  # replicated result
    assert case(results, "matmul_2d")["arg_bytes"] == b["x"] // 2 + b["w"] // 4


def test_transformer_block_equals_unsharded(results):
    r = case(results, "block")
    assert r["err_vs_unsharded"] < 1e-5 * r["scale"]
    assert r["err_vs_numpy"] < 1e-5 * r["scale"]
    assert r["layout"] == ["batch", "unsharded", "unsharded"] and r["unsharded_layout"] is None
    # one all-reduce after attention's Wo, one after the MLP's W2 (Megatron)
    assert r["collectives"] == {"all-reduce": 2}
    assert r["arg_bytes"] == r["x_bytes"] // 2 + r["weights_bytes"] // 4


def test_gradients_through_sharded_block(results):
    r = case(results, "block_grads")
    assert abs(r["loss"] - r["loss_unsharded"]) < 1e-5 * abs(r["loss_unsharded"])
    assert max(r["grad_rel_err"]) < 1e-5
    # each gradient is split like its weight
    assert r["grad_layouts"] == [["unsharded", "model"]] * 3 + [["model", "unsharded"],
                                                                 ["unsharded", "model"],
                                                                 ["model", "unsharded"]]
    assert r["collectives"].get("all-reduce", 0) >= 2


def test_gradients_through_relayout(results):
    r = case(results, "grad_relayout")
    assert r["fn_err"] < 1e-5 and r["eager_err"] < 1e-5
    # the partitioner picks the gradients' layouts; they stay on the mesh
    assert all(lay is not None for lay in r["layouts"] + r["eager_layouts"])


def test_eager_ops_and_relayout(results):
    r = case(results, "eager")
    assert r["add"] == 0 and r["exp"] < 1e-6 and r["sum0"] == 0 and r["mixed"] == 0
    assert r["sum"] == r["sum_ref"]
    assert r["add_layout"] == ["x", "unsharded"] == r["mixed_layout"]
    assert r["relayout_err"] == 0 and r["relayout_layout"] == ["unsharded", "y"]
    assert r["relayout_replicated"] == ["unsharded", "unsharded"]


def test_relayout_inside_function(results):
    r = case(results, "relayout_fn")
    assert r["err"] == 0 and r["err_single"] == 0
    assert r["layout"] == ["unsharded", "x"] == r["layout_single"]


def test_64_bit_dtypes_kept(results):
    r = case(results, "int64")
    assert r["dtype"] == "int64" == r["fn_dtype"]
    assert r["exact"] and r["eager_exact"] and r["fn_exact"]
    base = 2**33  # x splits rows in 4, y the 2 columns: device (i, j) holds [2i:2i+2, j]
    assert r["pieces"][1] == [[base + 1], [base + 3]]
    assert r["pieces"][6] == [[base + 12], [base + 14]]
    assert r["f64_dtype"] == "float64" and r["f64_exact"]


def test_pack_unpack_roundtrip(results):
    r = case(results, "pack")
    assert r["shapes"] == [[2, 4]] * 8
    assert r["first"] == [[0, 1, 2, 3], [8, 9, 10, 11]]
    assert r["roundtrip"] and r["layout"] == ["x", "y"]
    assert r["packed_dtype"] == "int64"
    # piece k is device k's block: rows 2(k//2).., columns 4(k%2)..
    assert r["packed"][2][4] == 2**40 + 3 and r["packed"][7][0] == 2**40 + 6


def test_dvariable_keeps_layout(results):
    r = case(results, "dvariable")
    for k in ("initial", "after_single", "after_other", "after_fn"):
        assert r[k] == ["x", "y"], k
    assert r["value_single"] == r["value_other"] == r["value_fn"] == r["read_err"] == 0
    assert r["int64_layout"] == ["unsharded", "y"] and r["int64_exact"]


@pytest.mark.parametrize("name, words", [
    ("not_divisible", ["dimension 0", "6", "not divisible", "'x'", "4"]),
    ("not_divisible_fn", ["relayout", "dimension 0", "not divisible", "'x'"]),
    ("unknown_axis", ["'z'", "not a dimension", "['x', 'y']"]),
    ("axis_twice", ["splits two tensor dimensions"]),
    ("rank", ["rank 1", "[8, 8]"]),
    ("rank_fn", ["rank 1", "[8, 8]"]),
    ("two_meshes_eager", ["add", "2 different meshes"]),
    ("two_meshes_fn", ["2 different meshes", "[4, 5, 6, 7]"]),
    ("two_meshes_relayout", ["2 different meshes", "{'x': 8}"]),
])
def test_bad_layouts_clear_errors(results, name, words):
    e = case(results, "errors")[name]
    assert e["value_error"], e
    for w in words:
        assert w in e["message"], (w, e["message"])
