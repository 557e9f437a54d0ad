"""Import direction between packages, and no JAX tracing/numpy APIs in product code (via `ast`).

runtime/ imports nothing from compiler/ or tfx_core/; compiler/ nothing from runtime/ or
tfx_core/. No product file uses jax.jit, jax.numpy, jax.lax, jax.grad, jax.vmap or jax.export
(tfx is its own compiler; jax/jaxlib are only the XLA client and MLIR bindings).

Structure: no import cycles among product modules (imports inside functions are lazy and may
break one), no product module uses another module's `_private` names, no folder of more than 16
modules. Each check has synthetic cases below showing it can fail.
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


# ================================================================ structure
# Rules of the house (the design notes): no import cycles among product modules; no module uses
# another module's `_private` names; no folder holds more than 16 modules.
MAX_MODULES_PER_FOLDER = 16
Sources = dict[str, tuple[str, bool]]  # dotted module name -> (source text, is a package __init__)


def product_sources() -> Sources:
    return {module_name(p): (p.read_text(), p.name == "__init__.py") for p in product_files()}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _eager_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is imported. An import inside a function body is
    lazy: it runs at the first call, after every module involved has finished loading, so it is
    the sanctioned way to break a cycle and is not counted. `if TYPE_CHECKING:` blocks never run.
    Class bodies, `try` and `if` blocks at module level do run, so they count."""
    out: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(node)
            return
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def import_graph(sources: Sources) -> dict[str, set[str]]:
    """module -> the product modules it imports when loaded. `from a.b import c` is an edge to the
    module a.b.c when there is one, else to a.b; `import a.b` is an edge to a.b. (Parent packages
    that Python also initializes on the way are not edges: every submodule would otherwise form a
    "cycle" with a package __init__ that re-exports it.)"""
    graph: dict[str, set[str]] = {m: set() for m in sources}
    for module, (source, is_package) in sources.items():
        for node in _eager_imports(ast.parse(source)):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(module, is_package, node)
                if base is None:
                    continue
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in sources else base
                           for a in node.names]
            graph[module].update(t for t in targets if t in sources and t != module)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import one another (directly or around a loop), sorted;
    Tarjan's strongly connected components of more than one module, written iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    group.append(w)
                    if w == v:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))
    return sorted(cycles)


def _dotted(node: ast.expr) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None for anything but names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def _may_use_privates(module: str, is_package: bool, target: str) -> bool:
    package = module if is_package else module.rpartition(".")[0]
    return (target == module
            or (is_package and target.startswith(module + "."))
            or target.startswith(package + "._"))


def private_uses(sources: Sources) -> list[str]:
    """Uses of another product module's underscore names: `from m import _x` and `m._x` (m a
    module bound by an import), lazy imports included. Allowed: dunders (`__all__`,
    `__version__`); a package __init__ reaching into its own submodules (re-exporting);
    importing a private *module* (`from pkg import _impl`); the `_names` of a private module in
    the importer's own package (`from ._impl import _x`: the package shares them) — the same
    rules as the structure_check tool."""
    problems: list[str] = []
    for module, (source, is_package) in sources.items():
        tree = ast.parse(source)
        bound: dict[str, str] = {}  # local name -> the product module it names
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and alias.name in sources:
                        bound[alias.asname] = alias.name
                    elif not alias.asname:
                        head = alias.name.split(".")[0]
                        if head in sources:
                            bound[head] = head
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node)
                if base is None:
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in sources:
                        bound[alias.asname or alias.name] = full
                    elif (_is_private(alias.name) and base in sources
                          and not _may_use_privates(module, is_package, base)):
                        problems.append(f"{module}:{node.lineno}: from {base} import {alias.name}")
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _is_private(node.attr)):
                continue
            parts = _dotted(node.value)
            if not parts or parts[0] not in bound:
                continue
            target = ".".join([bound[parts[0]], *parts[1:]])
            if target in sources and not _may_use_privates(module, is_package, target):
                problems.append(f"{module}:{node.lineno}: {'.'.join(parts)}.{node.attr} "
                                f"({target})")
    return sorted(set(problems))


def crowded_folders(root: Path, limit: int = MAX_MODULES_PER_FOLDER) -> list[str]:
    """Folders under root's product packages holding more than `limit` modules (.py files other
    than __init__.py), with their counts."""
    out = []
    for pkg in PACKAGES:
        for folder in sorted(p for p in (root / pkg).rglob("*") if p.is_dir()) + [root / pkg]:
            n = sum(1 for f in folder.glob("*.py") if f.name != "__init__.py")
            if n > limit:
                out.append(f"{folder.relative_to(root)}: {n} modules (at most {limit})")
    return sorted(out)


def test_no_import_cycles():
    cycles = find_cycles(import_graph(product_sources()))
    assert not cycles, "import cycles (break one edge, e.g. with an import inside the function " \
        "that needs it):\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_cross_module_private_names():
    problems = private_uses(product_sources())
    assert not problems, ("uses of another module's _private names (make the helper public, "
                          "e.g. in a helpers module):\n" + "\n".join(problems))


def test_no_crowded_folders():
    crowded = crowded_folders(ROOT)
    assert not crowded, "folders to split by concept:\n" + "\n".join(crowded)


# ---------------------------------------------------------------- the structure checks can fail
def _sources(**modules: str) -> Sources:
    """Synthetic sources: keyword a__b names module a.b; a name ending in __init names a package
    (a__init is the package a)."""
    out = {}
    for key, source in modules.items():
        is_package = key.endswith("__init")
        name = key.removesuffix("__init").removesuffix("__").replace("__", ".")
        out[name] = (source, is_package)
    return out


CYCLES = [
    pytest.param(_sources(a="import b", b="import a"), [["a", "b"]], id="two-modules"),
    pytest.param(_sources(p__a="from p.b import f", p__b="from . import c", p__c="from .a import g",
                          p__init=""), [["p.a", "p.b", "p.c"]], id="three-around-relative"),
    pytest.param(_sources(p__a="from p import b", p__b="from p import a", p__init=""),
                 [["p.a", "p.b"]], id="from-package-import-submodule"),
    pytest.param(_sources(a="try:\n    import b\nexcept ImportError:\n    pass",
                          b="class C:\n    from a import x"), [["a", "b"]],
                 id="try-and-class-bodies-run-at-import"),
    pytest.param(_sources(p__init="from p.a import f", p__a="from p import g"),
                 [["p", "p.a"]], id="package-init-and-submodule"),
    pytest.param(_sources(a="import b", b="import c", c="import a", d="import a"),
                 [["a", "b", "c"]], id="only-the-loop"),
]


@pytest.mark.parametrize("sources,cycles", CYCLES)
def test_cycle_check_catches(sources, cycles):
    assert find_cycles(import_graph(sources)) == cycles


NO_CYCLES = [
    pytest.param(_sources(a="import b", b="def f():\n    import a\n    return a"),
                 id="lazy-import-breaks-it"),
    pytest.param(_sources(a="import b", b="from typing import TYPE_CHECKING\n"
                          "if TYPE_CHECKING:\n    import a"), id="type-checking-only"),
    pytest.param(_sources(a="import b", b="import c", c="import os\nimport jax"), id="chain"),
    pytest.param(_sources(p__init="from p.a import f", p__a="from p.b import g", p__b="x = 1"),
                 id="package-reexports"),
    pytest.param(_sources(a="import a"), id="self-import"),
]


@pytest.mark.parametrize("sources", NO_CYCLES)
def test_cycle_check_allows(sources):
    assert find_cycles(import_graph(sources)) == []


PRIVATE = [
    pytest.param(_sources(p__a="from p.b import _helper", p__b=""), id="from-import"),
    pytest.param(_sources(p__a="from .b import _helper as h", p__b=""), id="relative-aliased"),
    pytest.param(_sources(p__a="def f():\n    from p.b import _helper", p__b=""), id="lazy"),
    pytest.param(_sources(p__a="from p import b\nb._helper()", p__b=""), id="module-attribute"),
    pytest.param(_sources(p__a="import p.b as B\nx = B._CACHE", p__b=""), id="aliased-module"),
    pytest.param(_sources(p__a="import p.b\np.b._helper()", p__b="", p__init=""),
                 id="dotted-module"),
    pytest.param(_sources(q__a="from p import _x", p__init="_x = 1"), id="package-private"),
    pytest.param(_sources(p__init="from q.a import _x", q__a="_x = 1"),
                 id="init-reaching-outside-its-package"),
    pytest.param(_sources(p__a="from p.b import f, _g", p__b=""), id="among-public-names"),
]


@pytest.mark.parametrize("sources", PRIVATE)
def test_private_check_catches(sources):
    assert private_uses(sources), "not caught"


NOT_PRIVATE = [
    pytest.param(_sources(p__a="from p.b import helper, __version__, __all__", p__b=""),
                 id="public-and-dunders"),
    pytest.param(_sources(p__a="from p import b\nb.__name__\nb.helper", p__b=""),
                 id="module-dunder-attribute"),
    pytest.param(_sources(p__init="from p.a import _x\nfrom p import a\na._y", p__a=""),
                 id="package-init-re-exports"),
    pytest.param(_sources(p__a="from p import _impl", p___impl=""), id="private-module"),
    pytest.param(_sources(p__a="from p._impl import _x", p___impl=""),
                 id="private-module-of-own-package"),
    pytest.param(_sources(p__a="from jaxlib import _jax\nimport numpy as np\nnp._x"),
                 id="not-a-product-module"),
    pytest.param(_sources(p__a="_y = 1\nself._x = _y\nobj._cache"), id="own-and-object-privates"),
]


@pytest.mark.parametrize("sources", NOT_PRIVATE)
def test_private_check_allows(sources):
    assert private_uses(sources) == []


def test_folder_check(tmp_path):
    def make(folder: Path, n: int) -> None:
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("")
        for i in range(n):
            (folder / f"m{i}.py").write_text("")

    make(tmp_path / "runtime", 16)  # at the limit; __init__.py is not counted
    make(tmp_path / "compiler", 2)
    make(tmp_path / "compiler" / "ops", 17)
    make(tmp_path / "tfx_core" / "a" / "b", 20)
    (tmp_path / "tfx_core" / "a" / "b" / "notes.txt").write_text("")
    assert crowded_folders(tmp_path) == [
        "compiler/ops: 17 modules (at most 16)", "tfx_core/a/b: 20 modules (at most 16)"]
    assert crowded_folders(tmp_path, limit=20) == []
