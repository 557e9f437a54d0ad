"""The differential fuzzer on fixed seeds, its regression cases, and checks that it can fail."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.fuzz.differential import _run_mode, generate, run
from tests.fuzz.differential_catalog import ENTRY
from tests.fuzz.differential_program import Input, Node, Program, Ref

SEEDS = range(120)  # ~0.4 s of CPU each (mostly eager-op compiles); `make fuzz` runs more
CHUNKS = 10  # separate tests, so pytest-xdist spreads them over its workers
REGRESSIONS = json.loads((Path(__file__).parent / "differential_regressions.json").read_text())


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_fixed_seeds(chunk):
    bad = []
    for seed in SEEDS[chunk::CHUNKS]:
        res = run(generate(seed))
        if res.status == "fail":
            bad.append(res.report())
    assert not bad, f"{len(bad)} programs failed; the first:\n{bad[0]}"


class ExpectedFailure(AssertionError):
    """A known tfx bug still fails the way its regression case records."""


def _regression_params():
    for case in REGRESSIONS["cases"]:
        marks = [pytest.mark.xfail(raises=ExpectedFailure, strict=True, reason=case["xfail"])] \
            if "xfail" in case else []
        yield pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", list(_regression_params()))
def test_regression(case):
    res = run(Program.from_json(case["program"]))
    sigs = {f.signature for f in res.failures}
    if "xfail" in case and case["expect"] in sigs:
        raise ExpectedFailure(f"{case['id']}: {case['xfail']}")
    assert res.status == "ok", res.report()
    if "excused" in case:  # the case must go through the documented difference it pins
        assert res.excused[case["excused"]] > 0, dict(res.excused)


# ---------------------------------------------------------------- the fuzzer can fail
def _first_numeric_node(program: Program) -> int:
    return next(i for i in program.node_ids if program.steps[i].op in ("add", "multiply",
                                                                       "subtract", "maximum"))


def test_wrong_reference_is_reported(monkeypatch):
    """A generated program whose reference for one op is deliberately off by one."""
    seed = next(s for s in range(500) if any(
        n.op in ("add", "multiply", "subtract", "maximum") for n in generate(s).steps
        if isinstance(n, Node)))
    program = generate(seed)
    step = _first_numeric_node(program)
    entry = ENTRY[program.steps[step].op]
    right = entry.ref
    monkeypatch.setattr(entry, "ref", lambda *a, **k: np.asarray(right(*a, **k)) + 1)
    res = run(program)
    assert any(f.kind == "ref_mismatch" and f.mode == "eager" and f.step == step
               for f in res.failures), res.report()


def _program() -> Program:
    """exp, then negative: in every compiled mode (folded too) negative gets a traced tensor."""
    x = np.array([[1.5, -2.0, 0.25]], np.float32)
    return Program([Input(x), Node("exp", [Ref(0)]), Node("negative", [Ref(1)])], [2], seed=None)


def test_compiled_divergence_is_reported(monkeypatch):
    """An op that computes something else when traced: every compiled mode must be flagged."""
    entry = ENTRY["negative"]
    monkeypatch.setattr(entry, "fn", lambda x: tx.negative(x) if x._buf is not None
                        else tx.negative(x) * 2)
    res = run(_program())
    assert {f.mode for f in res.failures if f.kind == "mode_mismatch"} == {
        "compiled", "compiled_all", "folded", "dynamic"}, res.report()


def test_compiled_only_exception_is_reported(monkeypatch):
    def fn(x):
        if x._buf is None:
            raise ValueError("only when traced")
        return tx.negative(x)

    monkeypatch.setattr(ENTRY["negative"], "fn", fn)
    res = run(_program())
    assert {(f.kind, f.what) for f in res.failures} == {
        ("exception_mismatch", "None-vs-ValueError")}, res.report()


def test_nan_position_is_a_mismatch(monkeypatch):
    """NaN where the reference has a number fails, even with the loosest tolerance."""
    entry = ENTRY["exp"]
    right = entry.ref
    monkeypatch.setattr(entry, "tol", {"float32": (1e9, 1e9)})
    monkeypatch.setattr(entry, "ref", lambda x: np.where(x > 0, np.nan, right(x)))  # 1.5, 0.25
    res = run(_program())
    assert any(f.what == "nan" for f in res.failures), res.report()


# ---------------------------------------------------------------- repros
def test_programs_round_trip_through_json():
    for seed in range(20):
        p = generate(seed)
        q = Program.from_json(json.loads(p.dumps()))
        assert q.to_json() == p.to_json()
        assert q.describe() == p.describe()


def test_generation_is_deterministic():
    assert generate(7).dumps() == generate(7).dumps()
    assert generate(7).dumps() != generate(8).dumps()


def test_snippet_is_a_working_repro():
    """The printed repro (public tfx calls) computes what the harness computed eagerly."""
    ops = set()
    for seed in range(20):
        p = generate(seed)
        ns: dict = {"__name__": "repro"}  # defines program and inputs, runs nothing
        exec(compile(p.snippet(), f"<repro {seed}>", "exec"), ns)  # our own generated code
        want = _run_mode(p, "eager")
        for i, got in zip(p.outputs, ns["program"](*ns["inputs"])):
            np.testing.assert_array_equal(got.numpy(), want[i], err_msg=f"seed {seed} v{i}")
        ops |= {s.op for s in p.steps if isinstance(s, Node)}
    assert len(ops) > 30  # the templates of many ops were exercised
