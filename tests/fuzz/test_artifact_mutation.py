"""Artifact fuzzer: a fixed-seed slice, regression recipes, and crash/hang self-tests."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from . import artifact_mutation as am

REGRESSIONS = json.loads((Path(__file__).with_name("artifact_regressions.json")).read_text())
SEEDS = [(0, 90), (1, 90)]  # (seed, cases): ~180 mutated artifacts, every frequent mutator kind


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    return am.load_bases(tmp_path_factory.mktemp("bases"))


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    with am.Pool(2, workdir=tmp_path_factory.mktemp("pool")) as p:
        yield p


def run(pool: am.Pool, bases: dict, cases: list[dict], **kw) -> list[dict]:
    done = list(pool.run(am.jobs_for(cases, bases), **kw))
    return sorted(done, key=lambda j: str(j["id"]))


def test_recipes_are_data_and_replay_exactly(bases):
    for index in range(60):
        case = am.plan_case(bases, 7, index)
        again = json.loads(json.dumps(case))  # what a findings file holds
        assert again == case == am.plan_case(bases, 7, index)
        base = bases[case["base"]]
        assert am.apply_recipe(base, again["recipe"]) == am.apply_recipe(base, case["recipe"])


def test_every_base_loads_and_every_call_succeeds(pool, bases):
    cases = [{"base": b, "recipe": {"kind": "identity"}, "id": b} for b in sorted(bases)]
    for job in run(pool, bases, cases, inspect_every=len(cases)):
        assert job["outcome"] == "loaded" and not job["findings"], job
        assert job["result"]["inspect"] == {"ok": True, "rc": 0, "stderr": ""}
        calls = job["result"]["calls"]
        assert calls and all(c["outcome"] == "ok" for c in calls.values()), calls
    assert sum("cli_inspect" in j["result"] for j in run(pool, bases, cases[:1],
                                                         inspect_every=1)) == 1


def _known() -> set[str]:
    return {s for r in REGRESSIONS["cases"] if r.get("xfail") for s in r["signatures"]}


def test_fixed_seeds_find_nothing_new(pool, bases):
    """~300 mutated artifacts: every one is refused with ArtifactError or loads and runs (or
    hits a product bug already listed, as an expected failure, in artifact_regressions.json)."""
    cases = [c for seed, n in SEEDS for c in am.generate(bases, seed, n)]
    for c in cases:
        c["id"] = f"{c['seed']}-{c['index']}"
    done = run(pool, bases, cases, inspect_every=100)
    outcomes = {j["outcome"] for j in done}
    kinds = {am.family(j["recipe"]) for j in done}
    assert len(done) > 0.95 * len(cases)
    assert {"refused", "loaded"} <= outcomes
    assert kinds >= {k for k, w in am.WEIGHTS.items() if w >= 8}, kinds
    new = [(j["base"], j["recipe"], f) for j in done for f in j["findings"]
           if am.signature(f) not in _known()]
    assert not new, json.dumps(new, indent=1)[:4000]


@pytest.mark.parametrize("case", [
    pytest.param(c, id=c["name"], marks=[pytest.mark.xfail(reason=c["xfail"], strict=False)]
                 if c.get("xfail") else []) for c in REGRESSIONS["cases"]])
def test_regression_recipes(pool, bases, case):
    (job,) = run(pool, bases, [{**case, "id": case["name"]}], inspect_every=1)
    assert not job["findings"], json.dumps(job["findings"], indent=1)
    assert job["outcome"] == case["expect"], job["result"]


def test_the_harness_reports_crashes_and_hangs(tmp_path, bases):
    """A worker that aborts, exits or stops answering costs the case in flight, and is
    replaced: the cases after it still run."""
    ident = {"kind": "identity"}
    cases = [{"base": "module", "recipe": ident, "id": "a-abort", "marker": "abort"},
             {"base": "module", "recipe": ident, "id": "b-ok"},
             {"base": "nested", "recipe": ident, "id": "c-hang", "marker": "hang"},
             {"base": "nested", "recipe": ident, "id": "d-exit", "marker": "exit"},
             {"base": "control", "recipe": ident, "id": "e-ok"}]
    with am.Pool(1, self_test=True, timeout=3, workdir=tmp_path) as p:
        done = {j["id"]: j for j in p.run(am.jobs_for(cases, bases))}
        assert p.restarts == 3
    assert done["a-abort"]["outcome"] == "crash"
    assert done["a-abort"]["findings"][0]["signal"] == "SIGABRT"
    assert done["c-hang"]["outcome"] == "hang" and done["c-hang"]["findings"]
    assert done["d-exit"]["findings"][0]["signal"] == "exit 3"
    assert done["b-ok"]["outcome"] == done["e-ok"]["outcome"] == "loaded"


def test_minimize_keeps_only_what_the_finding_needs(tmp_path, bases):
    """Every candidate crashes here (a marker case), so the smallest recipe tried wins."""
    parts = [am.plan_case(bases, 9, k)["recipe"] for k in range(3)]
    case = {"base": "module", "recipe": {"kind": "combo", "parts": parts}, "marker": "exit"}
    with am.Pool(1, self_test=True, workdir=tmp_path) as p:
        small = am.minimize(case, bases, p, "crash:exit 3:load:")
    assert small["recipe"] in parts or len(small["recipe"].get("parts", parts)) < 3


def test_the_cli_writes_a_summary(tmp_path):
    out = tmp_path / "findings.json"
    p = subprocess.run([sys.executable, "-m", "tests.fuzz.artifact_mutation", "--n", "6",
                        "--seed", "3", "--workers", "1", "--out", str(out)],
                       cwd=am.REPO, capture_output=True, text=True, timeout=300)
    summary = json.loads(out.read_text())
    assert summary["cases"] >= 5 and "mutated artifacts" in p.stdout, p.stdout + p.stderr
    assert p.returncode == (1 if summary["findings"] else 0)


def test_none_dim_cond_is_callable_after_load(tmp_path):
    """Found building the fuzzer's bases: specialize skipped case branches (fixed in 6dde5a6)."""
    import tfx_core as tx

    @tx.function(input_signature=[tx.TensorSpec([None], tx.float32)])
    def f(x):
        return tx.cond(tx.reduce_sum(x) > 0, lambda: x * 2.0, lambda: x - 1.0)

    tx.saved_model.save(f, str(tmp_path / "f.tfx"))
    loaded = tx.saved_model.load(str(tmp_path / "f.tfx"))
    np.testing.assert_array_equal(loaded(np.ones(2, np.float32)).numpy(), [2.0, 2.0])


def test_33_nested_conds_load(tmp_path):
    """Attribute-tuple depth is counted per region (it once summed over nested branches)."""
    import tfx_core as tx

    def nest(x, depth):
        if depth == 0:
            return x + 1.0
        return tx.cond(tx.reduce_sum(x) > -1.0, lambda: nest(x, depth - 1), lambda: x)

    f = tx.function(lambda x: nest(x, 33), input_signature=[tx.TensorSpec([2], tx.float32)])
    tx.saved_model.save(f, str(tmp_path / "f.tfx"))
    loaded = tx.saved_model.load(str(tmp_path / "f.tfx"))
    np.testing.assert_array_equal(loaded(np.zeros(2, np.float32)).numpy(), [1.0, 1.0])
