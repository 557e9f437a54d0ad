"""tx.distribute strategies over 8 simulated CPU devices: a data-parallel MLP trained for 20
steps with strategy.run gives the single-device losses and identical weights on every replica;
replica context (ids, all_reduce), reduce, Keras fit under scope(), distributed datasets, and
clear errors. One subprocess (tests/distribute/strategy_worker.py) runs the checks."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.distribute.workers import case, run_worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results() -> dict:
    return run_worker("tests.distribute.strategy_worker")


def test_data_parallel_training_matches_one_device(results):
    r = case(results, "data_parallel_mlp")
    assert r["replicas"] == 8 and len(r["dp"]) == 20
    # same losses up to the order the 8 partial gradients are summed in
    np.testing.assert_allclose(r["dp"], r["single"], rtol=2e-6, atol=2e-6)
    assert r["weight_err"] < 1e-5
    assert r["replicas_equal"]  # every replica's copy of every weight is bit-identical
    assert all(set(lay) == {"unsharded"} for lay in r["layouts"])  # mirrored variables
    assert r["all_reduce_in_explain"]


def test_replica_context_and_reduce(results):
    r = case(results, "replica_context")
    assert r["ids"] == list(range(8)) and r["total"] == sum(range(8)) and r["num"] == 8
    np.testing.assert_allclose(r["mean"], r["expected_mean"])
    assert r["reduce_sum"] == sum(range(8))
    np.testing.assert_allclose(r["reduce_mean_axis0"], r["expected_mean_axis0"])
    assert r["in_cross_replica"] is False


def test_keras_fit_under_scope_matches_one_device(results):
    r = case(results, "keras_fit")
    np.testing.assert_allclose(r["mirrored"], r["single"], rtol=2e-6)
    assert r["layout"] == ["unsharded", "unsharded"]


def test_datasets_from_function(results):
    r = case(results, "datasets_from_function")
    assert r["seen"] == [[8, 2]]
    # consecutive per-replica batches of 2 make one global batch of 16
    assert r["sums"] == [float(sum(range(16))), float(sum(range(16, 32)))]


def test_clear_errors(results):
    r = case(results, "errors")
    assert "[12, 2]" in r["indivisible"] and "drop_remainder" in r["indivisible"]
    assert r["indivisible"].startswith("InvalidArgumentError")
    assert "SUM" in r["sum_of_plain"]


def test_eager_tape_over_a_call_on_a_mesh(results):
    # the recorded call's backward program runs over the mesh its residuals live on
    assert case(results, "eager_tape_over_sharded_call")["err"] < 1e-5


def test_mesh_hygiene(results):
    r = case(results, "mesh_hygiene")
    assert r["w_layout"] == ["unsharded", "x"]  # kept through an assign of a 1-device value
    assert r["slots"] == [["unsharded", "x"]] * 2  # Adam's m and v split as their variable
    assert r["loss"] == 0.0  # 400 queued calls finished (w was assigned zeros)
    assert r["missing"].startswith("InvalidArgumentError") and "[99]" in r["missing"]
