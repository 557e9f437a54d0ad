"""Dead-code elimination and the PassManager: text in -> text out, errors and dumps."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import pytest

import compiler.ops  # noqa: F401  (registers every OpDef)
from compiler.ir.graph import ConstArray, GraphBuilder
from compiler.ir.parser import parse_graph
from compiler.ir.printer import print_graph
from compiler.ir.types import DType, TensorType
from compiler.ops import constant as C
from compiler.ops import elementwise as E
from compiler.passes import PassError, PassManager, graph_pass
from tests.golden import Case, read_golden

F32_23 = TensorType(DType.from_numpy(np.dtype(np.float32)), (2, 3))
F32_SCALAR = TensorType(F32_23.dtype, ())

# goldens/dce/with-dead-ops.in.tfx -> .out.tfx (`pytest --update-goldens` rewrites the .out file)
DEAD = Case(Path(__file__).parent / "goldens" / "dce" / "with-dead-ops.in.tfx")
WITH_DEAD = read_golden(DEAD.source)


def build_with_dead():
    """The WITH_DEAD graph, built directly (independent of the parser)."""
    b = GraphBuilder("g")
    x, y = b.add_input(F32_23), b.add_input(F32_23)
    (e,) = b.add_op(E.exp_op, [x])
    (s,) = b.add_op(E.sin_op, [y])
    (m,) = b.add_op(E.mul_op, [e, y])
    (two,) = b.add_op(C.constant_op, [], {"value": ConstArray(np.array(2.0, np.float32))})
    b.add_op(E.add_op, [s, two])
    (one,) = b.add_op(C.constant_op, [], {"value": ConstArray(np.array(1.0, np.float32))})
    (out,) = b.add_op(E.add_op, [m, one])
    return b.build([out])


def test_builder_graph_prints_as_expected():
    assert print_graph(build_with_dead()) == WITH_DEAD


def test_dce_golden_built_graph(golden):
    out, records = PassManager(["dce"], verify=True).run(build_with_dead())
    golden.check(DEAD.expected, print_graph(out))
    assert [r.name for r in records] == ["dce"]
    assert (records[0].ops_before, records[0].ops_after) == (7, 4)
    assert "dropped 3 ops" in records[0].summary


def test_parser_roundtrip_multi_op():
    assert print_graph(parse_graph(WITH_DEAD)) == WITH_DEAD


def test_dce_golden_parsed_text(golden):
    out, _ = PassManager(["dce"], verify=True).run(parse_graph(WITH_DEAD))
    golden.check(DEAD.expected, print_graph(out))


def test_dce_single_line_parsed_text():
    """A graph the current parser can read: one op with operands, then `return`."""
    text = """\
func @h(%0: f32[2,3]) -> (f32[2,3]) {
  %1: f32[] = constant {value=dense<f32[] [3.0]>}
  %2: f32[2,3] = sin %0
  return %0
}"""
    # NOTE: `sin %0` is the last op before `return`, which the parser handles.
    out, records = PassManager(["dce"], verify=True).run(parse_graph(text))
    assert print_graph(out) == "func @h(%0: f32[2,3]) -> (f32[2,3]) {\n  return %0\n}"
    assert records[0].ops_before == 2 and records[0].ops_after == 0


def test_dce_no_dead_ops_returns_same_graph():
    out, _ = PassManager(["dce"], verify=True).run(build_with_dead())
    again, records = PassManager(["dce"], verify=True).run(out)
    assert again is out
    assert records[0].ops_before == records[0].ops_after == 4
    assert "no change" in records[0].summary


def test_dce_keeps_every_output_and_shared_values():
    b = GraphBuilder("multi")
    x = b.add_input(F32_23)
    (e,) = b.add_op(E.exp_op, [x])
    (a,) = b.add_op(E.add_op, [e, e])
    (dead,) = b.add_op(E.sin_op, [a])
    (m,) = b.add_op(E.mul_op, [e, x])
    del dead
    out, _ = PassManager(["dce"], verify=True).run(b.build([a, m, x]))
    assert [op.name for op in out.ops] == ["exp", "add", "multiply"]
    assert len(out.outputs) == 3


def _unique(name: str) -> str:
    return f"test_{name}_{uuid.uuid4().hex[:8]}"


def test_pass_error_names_the_pass_that_raises(tmp_path):
    name = _unique("raises")

    @graph_pass(name)
    def boom(g):
        raise RuntimeError("kaboom")

    with pytest.raises(PassError) as e:
        PassManager(["dce", name], verify=True, dump_dir=str(tmp_path)).run(build_with_dead())
    msg = str(e.value)
    assert repr(name) in msg and "kaboom" in msg and "['dce']" in msg
    assert isinstance(e.value.__cause__, RuntimeError)
    files = sorted(os.listdir(tmp_path))
    assert any(f.endswith(f"_{name}_failed_input.tfx") for f in files), files


def test_pass_error_on_graph_failing_verification(monkeypatch):
    monkeypatch.delenv("TFX_VERIFY_PASSES", raising=False)  # tests/conftest.py turns it on
    name = _unique("breaks")

    @graph_pass(name)
    def drop_producers(g):
        from compiler.ir.graph import Graph

        return Graph(g.inputs, g.ops[1:], g.outputs, g.name)  # uses of exp's result dangle

    with pytest.raises(PassError, match=name):
        PassManager([name], verify=True).run(build_with_dead())
    # without verification the broken graph is passed through
    out, _ = PassManager([name], verify=False).run(build_with_dead())
    assert len(out.ops) == 6


def test_unknown_pass_name():
    with pytest.raises(ValueError, match="unknown passes"):
        PassManager(["no_such_pass_xyz"])


def test_duplicate_pass_registration():
    name = _unique("dup")
    graph_pass(name)(lambda g: g)
    with pytest.raises(ValueError, match="registered twice"):
        graph_pass(name)(lambda g: g)


def test_dump_dir(tmp_path):
    PassManager(["dce"], verify=True, dump_dir=str(tmp_path)).run(build_with_dead())
    files = sorted(os.listdir(tmp_path))
    assert files == ["g.00_input.tfx", "g.01_dce.tfx"]
    before = (tmp_path / "g.00_input.tfx").read_text()
    after = (tmp_path / "g.01_dce.tfx").read_text()
    assert before.startswith("func @g(") and "sin" in before
    assert "sin" not in after
    # dumps carry source locations as comments; without them the text is the printer's
    assert after.rstrip("\n") == read_golden(DEAD.expected)


def test_pipeline_records_in_order():
    name = _unique("identity")
    graph_pass(name)(lambda g: g)
    _, records = PassManager([name, "dce", name], verify=True).run(build_with_dead())
    assert [r.name for r in records] == [name, "dce", name]
    assert all(r.seconds >= 0 for r in records)
