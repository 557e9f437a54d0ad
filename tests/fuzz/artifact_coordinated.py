"""Consistent forgeries (a dtype or dim changed everywhere, an attribute added) that verify."""
from __future__ import annotations

import io
import json
import random
from typing import Any

import numpy as np

from .artifact_ir_mutators import _classify, tokens
from .artifact_member_mutators import MANIFEST, close_zip, open_zip, read_manifest, rehash

NAMES = {"f16": "float16", "bf16": "bfloat16", "f32": "float32", "f64": "float64",
         "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64", "u8": "uint8",
         "u32": "uint32", "bool": "bool"}
DIMS = [0, 1, 5, 2**16 + 1, 2**31 - 1, 2**31, 2**32 + 1, 10**10, 2**40]
ATTR_KEYS = ["axis", "axes", "keepdims", "dtype", "shape", "perm", "begin", "end", "strides",
             "direction", "dimension", "max_trip", "output_type", "descending", "stable",
             "index_vector_dim", "slice_sizes", "sizes", "num_segments", "multiples", "low",
             "high", "interior", "exclusive", "reverse", "mode", "window_strides", "padding",
             "lhs_dilation", "rhs_dilation", "feature_group_count", "batch_group_count",
             "computation", "window_dimensions", "window_dilations", "value", "x"]
ATTR_VALUES = ["0", "-1", "1", "2", "9223372036854775807", "none", "()", "(0,)", "(-1,)",
               "(0, 0)", "(1, 0)", "true", "false", '"add"', '"max"', '"x"', "f32", "i64",
               "dense<i32[] [3]>", "func @r() -> () {\n return\n}"]


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def plan(data: bytes, rng: random.Random) -> dict:
    entries = open_zip(data)
    graphs = sorted(n for n in entries if n.endswith(".tfx"))
    texts = [entries[g].decode("utf-8", "surrogateescape") for g in graphs]
    kind = rng.choice(["retype", "resize", "resize", "addattr"])
    retag = rng.random() < 0.7
    if kind == "retype":
        present = sorted({t for text in texts for t in tokens(text) if t in NAMES})
        src = rng.choice(present or ["f32"])
        return {"kind": "retype", "from": src, "to": rng.choice(sorted(set(NAMES) - {src})),
                "retag": retag}
    if kind == "resize":
        dims = sorted({int(toks[i]) for text in texts for toks in [tokens(text)]
                       for i in _classify(toks)["dim"] if toks[i].isdigit()})
        return {"kind": "resize", "from": rng.choice(dims or [2]), "to": rng.choice(DIMS),
                "retag": retag}
    member = rng.choice(graphs)
    toks = tokens(entries[member].decode("utf-8", "surrogateescape"))
    blocks = [i for i in _classify(toks)["key"] if toks[i - 1] == "{"]
    return {"kind": "addattr", "member": member, "at": rng.choice(blocks or [0]),
            "attr": f"{rng.choice(ATTR_KEYS)}={rng.choice(ATTR_VALUES)}, ", "retag": retag}


def _shape_numbers(toks: list[str]) -> list[int]:
    """Token indices of dimensions: in types, and in shape-like attributes (`shape=(2, 3)`)."""
    roles = _classify(toks)
    out = list(roles["dim"])
    for i in roles["key"]:
        if toks[i] in ("shape", "sizes", "slice_sizes", "multiples") and toks[i + 2] == "(":
            j = i + 2
            while j < len(toks) and toks[j] != ")":
                out.append(j)
                j += 1
    return out


def _fix_manifest(man: Any, edit: Any) -> None:
    """Apply `edit(key, value) -> value` to every (key, value) pair of the manifest."""
    if isinstance(man, dict):
        for k, v in list(man.items()):
            man[k] = edit(k, v)
            _fix_manifest(man[k], edit)
    elif isinstance(man, list):
        for v in man:
            _fix_manifest(v, edit)


def _retag(man: Any) -> None:
    if isinstance(man, dict) and isinstance(man.get("functions"), dict):
        for entry in man["functions"].values():
            if isinstance(entry, dict) and "stablehlo" in entry:
                entry["stablehlo_lowering"] = "another tfx|cpu|auto"


def apply(data: bytes, recipe: dict) -> bytes:
    entries = open_zip(data)
    man = read_manifest(entries)
    if not isinstance(man, dict):
        return data
    kind = recipe["kind"]
    changed = []
    if kind == "addattr":
        if recipe["member"] in entries:
            toks = tokens(entries[recipe["member"]].decode("utf-8", "surrogateescape"))
            at = recipe["at"] % max(len(toks), 1)
            text = "".join(toks[:at]) + recipe["attr"] + "".join(toks[at:])
            entries[recipe["member"]] = text.encode("utf-8", "surrogateescape")
            changed.append(recipe["member"])
    else:
        src, dst = recipe["from"], recipe["to"]
        for name in [n for n in entries if n.endswith(".tfx")]:
            toks = tokens(entries[name].decode("utf-8", "surrogateescape"))
            if kind == "retype":
                toks = [dst if t == src else t for t in toks]
            else:
                for i in _shape_numbers(toks):
                    toks[i] = str(dst) if toks[i] == str(src) else toks[i]
            entries[name] = "".join(toks).encode("utf-8", "surrogateescape")
            changed.append(name)
        if kind == "retype":
            _fix_manifest(man, lambda k, v: NAMES[dst] if k == "dtype" and v == NAMES[src]
                          else v)
        else:
            _fix_manifest(man, lambda k, v: [dst if d == src else d for d in v]
                          if k == "shape" and isinstance(v, list) else v)
        changed += _convert_arrays(entries, man, recipe)
    if recipe.get("retag"):
        _retag(man)
    entries[MANIFEST] = json.dumps(man, indent=1).encode()
    rehash(entries, changed)
    return close_zip(entries)


def _convert_arrays(entries: dict[str, bytes], man: dict, recipe: dict) -> list[str]:
    """Variables and captured constants re-encoded to the new dtype / shape (when small)."""
    from compiler.ir.types import DType

    changed = []
    try:  # (an earlier part of a combo may have mangled the manifest)
        specs = [(v.get("member"), v.get("dtype"), v.get("shape"))
                 for v in man.get("variables", []) if isinstance(v, dict)]
        for entry in (man.get("functions") or {}).values():
            for c in entry.get("captures", []) if isinstance(entry, dict) else []:
                if isinstance(c, dict) and "constant" in c:
                    specs.append((c["constant"], c.get("dtype"), None))
    except (AttributeError, TypeError):
        return changed
    for member, dtype, shape in specs:
        if not isinstance(member, str) or member not in entries:
            continue
        try:  # (an earlier part of a combo may have broken the array or its dtype)
            a = np.load(io.BytesIO(entries[member]), allow_pickle=False)
            want = DType.from_any(dtype).np_dtype
        except Exception:  # noqa: BLE001  (numpy raises even tokenize.TokenError here)
            continue
        if recipe["kind"] == "resize" and shape is not None:
            if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)
                    and int(np.prod(shape, dtype=object)) <= 1 << 20):
                continue  # too big to write: the file is then refused, which is fine too
            try:
                a = np.resize(a, shape)
            except (ValueError, TypeError):
                continue
        if a.dtype.kind == "V":  # bfloat16 is stored as raw 2-byte values
            a = a.view(np.uint16)
        with np.errstate(all="ignore"):
            a = a.astype(want)
        entries[member] = _npy(a)
        changed.append(member)
    return changed
