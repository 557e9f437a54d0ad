"""Golden files: expected output kept as text files next to the tests and compared exactly.

`pytest --update-goldens` rewrites each golden file with what the code produces now instead of
comparing (a missing one is created), and the tests pass; review the change with `git diff`.
The option and the `golden` fixture are registered by tests/conftest.py (a pytest run outside
tests/ can load them with `-p tests.golden`).

Pass tests are text in -> text out: a case is a pair `<name>.in.tfx` (the graph to run the
passes on; `#` comment lines say what it shows) and `<name>.out.tfx` (the printed result).
Adding a case: write the .in file, run `pytest --update-goldens`, read the .out file it wrote.
"""
from __future__ import annotations

import difflib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

OPTION = "--update-goldens"
IN, OUT = ".in.tfx", ".out.tfx"


class GoldenUpdated(UserWarning):
    """Shown in pytest's warnings summary for each golden file --update-goldens rewrote."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(OPTION, action="store_true", default=False,
                     help="rewrite golden files with the actual output instead of comparing "
                          "(then review the change with git diff)")


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def read_golden(path: Path) -> str:
    """A golden file's text without its final newline (the printer's form)."""
    text = path.read_text()
    return text[:-1] if text.endswith("\n") else text


@dataclass(frozen=True)
class Golden:
    update: bool

    def check(self, path: Path, actual: str) -> None:
        """Fail unless `path` holds `actual` (plus a final newline); with --update-goldens,
        write it there instead."""
        actual = _with_newline(actual)
        if self.update:
            if not path.exists() or path.read_text() != actual:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
                tmp.write_text(actual)
                os.replace(tmp, path)  # atomic: two tests may check one file (xdist workers)
                warnings.warn(GoldenUpdated(f"rewrote {path}"), stacklevel=2)
            return
        if not path.exists():
            pytest.fail(f"missing golden file {path}: write it with `pytest {OPTION}`",
                        pytrace=False)
        expected = path.read_text()
        if expected != actual:
            diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                                f"{path} (expected)", "actual"))
            pytest.fail(f"output differs from the golden file:\n{diff}\n"
                        f"If the change is intended: `pytest {OPTION}`, then review `git diff`.",
                        pytrace=False)


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """`golden.check(path, actual)`: compare with a golden file (or rewrite it, with the flag)."""
    return Golden(update=request.config.getoption(OPTION))


@dataclass(frozen=True)
class Case:
    """One text in -> text out case: `source` is the .in file, `expected` the .out file."""
    source: Path

    @property
    def name(self) -> str:
        return self.source.name.removesuffix(IN)

    @property
    def expected(self) -> Path:
        return self.source.with_name(self.name + OUT)

    def text(self) -> str:
        return self.source.read_text()


def golden_cases(folder: Path) -> list:
    """Every `<name>.in.tfx` in `folder` as a pytest.param (id: the name), sorted by name."""
    sources = sorted(folder.glob("*" + IN))
    assert sources, f"no {IN} files in {folder}"
    return [pytest.param(Case(p), id=Case(p).name) for p in sources]
