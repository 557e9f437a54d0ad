"""Checking a saved model's manifest field by field before any of it is used.

`check_manifest` walks the whole manifest once and raises one ArtifactError naming the first
field that is missing, of the wrong type or out of range ("functions['f'].captures[0].variable:
-1 is not a variable index (0..1)"), so loading and `tfx inspect` can then read it without
KeyError, IndexError or negative-index surprises.
"""
from __future__ import annotations

from typing import Any

from compiler.ir.types import DType
from compiler.passes import PASSES
from runtime.artifact import ArtifactError

MAX_DIM = 1 << 62  # XLA's dimensions are int64


class _Check:
    """Raises ArtifactError for `path: where: what`."""

    def __init__(self, path: str, members: dict[str, bytes]):
        self.path = path
        self.members = members

    def fail(self, where: str, what: str) -> None:
        raise ArtifactError(f"{self.path}: manifest: {where}: {what}")

    def dict_(self, x: Any, where: str) -> dict:
        if not isinstance(x, dict):
            self.fail(where, f"expected an object, got {_short(x)}")
        return x

    def list_(self, x: Any, where: str) -> list:
        if not isinstance(x, list):
            self.fail(where, f"expected a list, got {_short(x)}")
        return x

    def str_(self, x: Any, where: str, optional: bool = False) -> str | None:
        if not (isinstance(x, str) or optional and x is None):
            self.fail(where, f"expected a string, got {_short(x)}")
        return x

    def int_(self, x: Any, where: str, lo: int, hi: int, what: str = "an integer") -> int:
        if type(x) is not int or not lo <= x <= hi:  # NOTE: bools are ints to isinstance
            self.fail(where, f"{_short(x)} is not {what} ({lo}..{hi})")
        return x

    def member(self, x: Any, where: str, suffix: str) -> str:
        name = self.str_(x, where)
        if name not in self.members:
            self.fail(where, f"member {name!r} is missing from the file")
        if not name.endswith(suffix):
            self.fail(where, f"member {name!r} is not a {suffix} member")
        return name

    def dtype(self, x: Any, where: str) -> DType:
        try:
            return DType.from_any(self.str_(x, where))
        except (TypeError, KeyError):
            self.fail(where, f"unknown dtype {_short(x)}")
        raise AssertionError  # unreachable: fail raises

    def shape(self, x: Any, where: str, allow_none: bool) -> list:
        dims = self.list_(x, where)
        for k, d in enumerate(dims):
            if not (allow_none and d is None):
                self.int_(d, f"{where}[{k}]", 0, MAX_DIM, "a dimension")
        return dims


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def check_manifest(manifest: dict, members: dict[str, bytes], path: str) -> None:
    """Raise ArtifactError unless every field `load` and `tfx inspect` read is well-formed."""
    c = _Check(path, members)
    kind = manifest.get("kind")
    if kind is not None:  # the same container holds training checkpoints (kind tfx.checkpoint)
        what = ("a training checkpoint: read it with tx.train.Checkpoint(...).restore(path)"
                if kind == "tfx.checkpoint" else f"kind {_short(kind)}")
        raise ArtifactError(f"{path}: not a saved model but {what}")
    variables = c.list_(manifest.get("variables", []), "variables")
    for i, v in enumerate(variables):
        where = f"variables[{i}]"
        c.dict_(v, where)
        c.member(v.get("member"), f"{where}.member", ".npy")
        c.dtype(v.get("dtype"), f"{where}.dtype")
        c.shape(v.get("shape"), f"{where}.shape", allow_none=False)
        c.str_(v.get("name"), f"{where}.name", optional=True)
        if not isinstance(v.get("trainable"), bool):
            c.fail(f"{where}.trainable", f"expected a bool, got {_short(v.get('trainable'))}")
    functions = c.dict_(manifest.get("functions"), "functions")
    if not functions:
        c.fail("functions", "no signatures")
    for name, entry in functions.items():
        _check_function(c, f"functions[{name!r}]", entry, len(variables))


def _check_function(c: _Check, where: str, entry: Any, n_vars: int) -> None:
    c.dict_(entry, where)
    c.member(entry.get("graph"), f"{where}.graph", ".tfx")
    if "stablehlo" in entry:
        c.member(entry["stablehlo"], f"{where}.stablehlo", ".stablehlo")
    indices: list[int] = []
    inputs = _node(c, entry.get("inputs"), f"{where}.inputs", indices, spec=True)
    if not (isinstance(inputs, dict) and "tuple" in inputs and len(inputs["tuple"]) == 2
            and "tuple" in inputs["tuple"][0] and "dict" in inputs["tuple"][1]):
        c.fail(f"{where}.inputs", "expected the call structure (args tuple, kwargs dict)")
    if sorted(indices) != list(range(len(indices))):
        c.fail(f"{where}.inputs", f"tensor indices {indices} are not 0..{len(indices) - 1}")
    out_indices: list[int] = []
    _node(c, entry.get("outputs"), f"{where}.outputs", out_indices, spec=False)
    for k, cap in enumerate(c.list_(entry.get("captures", []), f"{where}.captures")):
        cw = f"{where}.captures[{k}]"
        c.dict_(cap, cw)
        if "variable" in cap:
            c.int_(cap["variable"], f"{cw}.variable", 0, n_vars - 1, "a variable index")
        else:
            c.member(cap.get("constant"), f"{cw}.constant", ".npy")
            c.dtype(cap.get("dtype"), f"{cw}.dtype")
    updates = c.list_(entry.get("updates", []), f"{where}.updates")
    for k, u in enumerate(updates):
        c.int_(u, f"{where}.updates[{k}]", 0, n_vars - 1, "a variable index")
    if len(set(updates)) != len(updates):
        c.fail(f"{where}.updates", "a variable is listed twice")
    passes = c.list_(entry.get("passes", []), f"{where}.passes")
    for k, p in enumerate(passes):
        if c.str_(p, f"{where}.passes[{k}]") not in PASSES:
            c.fail(f"{where}.passes[{k}]", f"unknown pass {p!r}")
    if "compiled" in entry:
        info = c.dict_(entry["compiled"], f"{where}.compiled")
        c.member(info.get("member"), f"{where}.compiled.member", ".xla")
        for key in ("jaxlib", "platform", "options_sha256"):
            c.str_(info.get(key), f"{where}.compiled.{key}")


def _node(c: _Check, node: Any, where: str, indices: list[int], spec: bool) -> Any:
    """Check one node of an input/output structure (its depth was bounded on the raw JSON)."""
    if not isinstance(node, dict) or len(node) != 1:
        c.fail(where, f"expected one of none/t/v/tuple/list/dict, got {_short(node)}")
    (kind, body), = node.items()
    if kind == "none":
        return node
    if kind == "t":
        c.dict_(body, f"{where}.t")
        indices.append(c.int_(body.get("index"), f"{where}.t.index", 0, MAX_DIM, "an index"))
        if spec:
            c.shape(body.get("shape"), f"{where}.t.shape", allow_none=True)
            c.dtype(body.get("dtype"), f"{where}.t.dtype")
            c.str_(body.get("name"), f"{where}.t.name", optional=True)
        return node
    if kind == "v":
        if not spec:
            c.fail(where, "outputs hold tensors only")
        if not (body is None or isinstance(body, (bool, int, float, str))):
            c.fail(f"{where}.v", f"not a saved Python value: {_short(body)}")
        return node
    if kind in ("tuple", "list"):
        for k, x in enumerate(c.list_(body, f"{where}.{kind}")):
            _node(c, x, f"{where}.{kind}[{k}]", indices, spec)
        return node
    if kind == "dict":
        for k, item in enumerate(c.list_(body, f"{where}.dict")):
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
                c.fail(f"{where}.dict[{k}]", f"expected [key, node], got {_short(item)}")
            _node(c, item[1], f"{where}.dict[{item[0]!r}]", indices, spec)
        return node
    c.fail(where, f"unknown structure node kind {kind!r}")
