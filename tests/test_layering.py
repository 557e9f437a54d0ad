"""Import direction between packages, and no JAX tracing/numpy APIs in product code (via `ast`).

runtime/ imports nothing from compiler/ or tfx_core/; compiler/ nothing from runtime/ or
tfx_core/. No product file uses jax.jit, jax.numpy, jax.lax, jax.grad, jax.vmap or jax.export
(tfx is its own compiler; jax/jaxlib are only the XLA client and MLIR bindings).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("runtime", "compiler", "tfx_core")
FORBIDDEN_PACKAGES = {
    "runtime": {"compiler", "tfx_core"},
    "compiler": {"runtime", "tfx_core"},
    "tfx_core": set(),
}
BANNED_JAX = {"jit", "numpy", "lax", "grad", "vmap", "export"}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str | None:
    """The absolute module a `from ... import` names (None when it climbs above the root)."""
    if node.level == 0:
        return node.module or ""
    pkg = module.split(".") if is_package else module.split(".")[:-1]
    up = node.level - 1
    if up > len(pkg):
        return None
    base = pkg[: len(pkg) - up]
    if node.module:
        base = [*base, *node.module.split(".")]
    return ".".join(base)


def _banned_jax_module(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] == "jax" and len(parts) > 1 and parts[1] in BANNED_JAX:
        return f"jax.{parts[1]}"
    return None


def check_source(source: str, module: str, is_package: bool = False) -> list[str]:
    """Layering violations in one file's source (`module` is its dotted name)."""
    tree = ast.parse(source)
    top = module.split(".")[0]
    forbidden = FORBIDDEN_PACKAGES.get(top, set())
    problems: list[str] = []
    jax_names: set[str] = set()  # local names bound to the jax module

    def imported(name: str, line: int) -> None:
        head = name.split(".")[0]
        if head in forbidden:
            problems.append(f"{module}:{line}: {top} must not import {name}")
        banned = _banned_jax_module(name)
        if banned:
            problems.append(f"{module}:{line}: uses {banned}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imported(alias.name, node.lineno)
                if alias.name == "jax" or (alias.asname is None and alias.name.startswith("jax.")):
                    jax_names.add(alias.asname or "jax")
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node)
            if target is None:
                problems.append(f"{module}:{node.lineno}: relative import above the root")
                continue
            imported(target, node.lineno)
            for alias in node.names:
                imported(f"{target}.{alias.name}" if target else alias.name, node.lineno)
        elif isinstance(node, ast.Call):
            # importlib.import_module("x") / __import__("x") with a literal name
            fn = node.func
            is_dynamic = (isinstance(fn, ast.Name) and fn.id == "__import__") or (
                isinstance(fn, ast.Attribute) and fn.attr == "import_module"
            )
            if is_dynamic and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                imported(node.args[0].value, node.lineno)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in jax_names
            and node.attr in BANNED_JAX
        ):
            problems.append(f"{module}:{node.lineno}: uses jax.{node.attr}")
    return sorted(set(problems))


def product_files() -> list[Path]:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    assert files, "found no product files: is ROOT right?"
    return files


def check_file(path: Path) -> list[str]:
    return check_source(path.read_text(), module_name(path), path.name == "__init__.py")


def test_every_package_is_scanned():
    scanned = {module_name(p).split(".")[0] for p in product_files()}
    assert scanned == set(PACKAGES)
    assert len(product_files()) >= 10


@pytest.mark.parametrize("pkg", PACKAGES)
def test_layering(pkg):
    problems = [p for f in product_files() if module_name(f).startswith(pkg) for p in check_file(f)]
    assert not problems, "layering violations:\n" + "\n".join(problems)


# ---------------------------------------------------------------- the checker itself can fail
BAD = [
    ("runtime.client", "import compiler.ir.graph"),
    ("runtime.client", "from compiler import registry"),
    ("runtime.cache", "from tfx_core.framework.tensor import Tensor"),
    ("runtime.cache", "def f():\n    import tfx_core\n"),  # lazy imports count too
    ("compiler.ir.graph", "from ...runtime import client"),  # relative, resolved
    ("compiler.ops.common", "from ...tfx_core import math_ops"),
    ("compiler", "from ..runtime import client"),  # from a package __init__
    ("compiler.tracing", "import importlib\nimportlib.import_module('tfx_core.framework.eager')"),
    ("compiler.tracing", "__import__('runtime')"),
    ("tfx_core.framework.eager", "import jax\njax.jit(f)"),
    ("tfx_core.framework.eager", "import jax as j\ny = j.numpy.zeros(3)"),
    ("tfx_core.framework.eager", "import jax.numpy as jnp"),
    ("tfx_core.framework.eager", "import jax.lax"),
    ("tfx_core.framework.eager", "from jax import numpy as np"),
    ("tfx_core.framework.eager", "from jax import jit, tree_util"),
    ("tfx_core.framework.eager", "from jax import grad"),
    ("tfx_core.framework.eager", "from jax.lax import add"),
    ("runtime.client", "from jax import vmap"),
    ("runtime.client", "from jax import export"),
    ("runtime.client", "import jax.export"),
    ("compiler.ir.graph", "import jax\ndef f(x):\n    return jax.grad(x)"),
    ("compiler.ir.graph", "from .... import x"),  # climbs above the root
]


@pytest.mark.parametrize("module,source", BAD, ids=[f"{m}|{s}" for m, s in BAD])
def test_checker_catches(module, source):
    is_package = module.count(".") == 0
    assert check_source(source, module, is_package), f"not caught: {source!r} in {module}"


GOOD = [
    ("runtime.client", "import jax\nimport jax.extend as jex\nfrom jaxlib import xla_client"),
    ("runtime.compile", "from . import client\nfrom .cache import MEMORY_CACHE"),
    ("compiler.ops.common", "from ..lowering import helpers as H\nfrom ..registry import OpDef"),
    ("compiler.lowering.helpers", "from jaxlib.mlir.dialects import stablehlo as hlo"),
    ("tfx_core.framework.eager",
     "from compiler.ir.graph import GraphBuilder\nfrom runtime import client"),
    ("tfx_core.polymorphic_function.function",
     "from jax import tree_util\nimport numpy\nnumpy.jit = 1\nx.jit()"),
    ("tfx_core.framework.eager", "import jax\njax.tree_util.tree_map(f, x)"),
]


@pytest.mark.parametrize("module,source", GOOD, ids=[f"{m}|{s}" for m, s in GOOD])
def test_checker_allows(module, source):
    assert check_source(source, module) == []
