"""The golden-file mechanism (tests/golden.py): exact comparison with a diff on failure, and
`pytest --update-goldens` rewriting the files instead, checked on a tiny suite in a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.golden import IN, OUT, Case, Golden, GoldenUpdated, golden_cases, read_golden

ROOT = Path(__file__).resolve().parent.parent

TINY_SUITE = '''
from pathlib import Path

HERE = Path(__file__).parent


def test_existing(golden):
    golden.check(HERE / "existing.txt", "new\\ntext")


def test_missing(golden):
    golden.check(HERE / "goldens" / "missing.txt", "made")


def test_unchanged(golden):
    golden.check(HERE / "same.txt", "same")
'''


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest on `folder` alone, with the golden plugin loaded as tests/conftest.py loads it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.golden", "-p", "no:cacheprovider",
         "--rootdir", str(folder), "-q", str(folder), *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120)


def test_update_goldens_flag_rewrites_the_files(tmp_path):
    (tmp_path / "test_tiny.py").write_text(TINY_SUITE)
    (tmp_path / "existing.txt").write_text("old\ntext\n")
    (tmp_path / "same.txt").write_text("same\n")
    same_mtime = (tmp_path / "same.txt").stat().st_mtime_ns

    run = _pytest(tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "2 failed, 1 passed" in run.stdout, run.stdout
    assert "-old\n+new" in run.stdout and "--update-goldens" in run.stdout, run.stdout
    assert "missing golden file" in run.stdout, run.stdout
    assert (tmp_path / "existing.txt").read_text() == "old\ntext\n"  # comparing never writes

    run = _pytest(tmp_path, "--update-goldens")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "existing.txt").read_text() == "new\ntext\n"
    assert (tmp_path / "goldens" / "missing.txt").read_text() == "made\n"
    assert (tmp_path / "same.txt").stat().st_mtime_ns == same_mtime  # untouched when equal
    assert run.stdout.count("GoldenUpdated") == 2, run.stdout  # each rewrite is reported
    assert not list(tmp_path.rglob("*.tmp"))

    run = _pytest(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout, run.stdout


def test_check_compares_exactly(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("a\nb\n")
    Golden(update=False).check(path, "a\nb")  # the file's final newline is not the output's
    Golden(update=False).check(path, "a\nb\n")
    for wrong in ("a\nb\n\n", "a\nc", "a \nb"):
        with pytest.raises(pytest.fail.Exception, match="differs"):
            Golden(update=False).check(path, wrong)
    with pytest.warns(GoldenUpdated, match="rewrote"):
        Golden(update=True).check(path, "a\nc")
    assert path.read_text() == "a\nc\n" and read_golden(path) == "a\nc"


def test_cases_pair_inputs_with_outputs(tmp_path):
    for name in ("b-case", "a-case"):
        (tmp_path / (name + IN)).write_text(f"# {name}\n")
    (tmp_path / "notes.txt").write_text("")
    params = golden_cases(tmp_path)
    assert [p.id for p in params] == ["a-case", "b-case"]
    case = params[0].values[0]
    assert case == Case(tmp_path / ("a-case" + IN))
    assert case.expected == tmp_path / ("a-case" + OUT) and case.text() == "# a-case\n"
    with pytest.raises(AssertionError, match="no .in.tfx files"):
        golden_cases(tmp_path / "empty")


def test_every_golden_output_has_its_input():
    """An .out file whose .in file was renamed or deleted would never be checked again."""
    outputs = sorted((ROOT / "tests").rglob("goldens/**/*" + OUT))
    assert outputs, "no golden files found"
    orphans = [p for p in outputs if not p.with_name(p.name.removesuffix(OUT) + IN).exists()]
    assert not orphans, f"golden outputs without inputs: {orphans}"
