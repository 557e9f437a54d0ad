"""Helpers for the saved-model tests: rewrite an artifact zip, run a loader in a fresh process."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

DROP = object()  # in `rewrite(members=...)`: remove that member


def read_zip(path: os.PathLike) -> tuple[dict, dict[str, bytes]]:
    """The manifest (parsed) and every other member of an artifact, as stored."""
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    return json.loads(members.pop("manifest.json")), members


def read_zip_raw(path: os.PathLike) -> dict[str, bytes]:
    """Every member (the manifest too) as stored."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_zip(path: os.PathLike, entries: dict[str, bytes],
              compress: dict[str, int] | None = None) -> None:
    """Write `entries` (raw names, nothing normalized, `manifest.json` included) to a zip."""
    compress = compress or {}
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compress.get(name, zipfile.ZIP_STORED)
            z.writestr(info, data)


def rewrite(src: os.PathLike, dst: os.PathLike, *,
            members: dict[str, Any] | None = None,
            manifest: Callable[[dict], Any] | None = None,
            rehash: bool = True, raw_manifest: bytes | None = None,
            compress: dict[str, int] | None = None) -> Path:
    """Copy the artifact `src` to `dst` with changes.

    members: name -> new bytes (added or replaced), or DROP to remove the member.
    manifest: called with the parsed manifest to edit it in place (after rehashing).
    rehash: recompute the manifest's `members` table (size + sha256) for the changed members,
        as a forger would; False leaves the old entries (stale checksums).
    raw_manifest: write these bytes as manifest.json instead of the (edited) JSON.
    """
    man, mem = read_zip(src)
    for name, data in (members or {}).items():
        if data is DROP:
            mem.pop(name, None)
            if rehash:
                man["members"].pop(name, None)
        else:
            mem[name] = data
            if rehash:
                man["members"][name] = {"size": len(data),
                                        "sha256": hashlib.sha256(data).hexdigest()}
    if manifest is not None:
        manifest(man)
    body = raw_manifest if raw_manifest is not None else json.dumps(man).encode()
    write_zip(dst, {"manifest.json": body, **mem}, compress)
    return Path(dst)


# The child never sees the test modules: it gets only the artifact path and .npy files.
_CHILD = r'''
import importlib.util, json, os, sys
import numpy as np
import tfx_core as tx

job = json.load(open(sys.argv[1]))
assert importlib.util.find_spec("tests") is None, "the defining test module is importable"
m = tx.saved_model.load(job["artifact"])
report = {"signatures": sorted(m.signatures), "calls": [], "variables": []}

def flat(x, prefix):
    if isinstance(x, dict):
        return {"kind": "dict", "items": [[k, flat(v, f"{prefix}.{k}")] for k, v in x.items()]}
    if isinstance(x, (list, tuple)):
        return {"kind": type(x).__name__,
                "items": [flat(v, f"{prefix}.{i}") for i, v in enumerate(x)]}
    if x is None:
        return {"kind": "none"}
    assert isinstance(x, tx.Tensor), type(x)
    np.save(prefix + ".npy", x.numpy(), allow_pickle=False)
    return {"kind": "tensor", "file": prefix + ".npy", "dtype": x.dtype.name,
            "shape": list(x.shape)}

def build(node):
    if node["kind"] == "npy":
        return np.load(node["file"], allow_pickle=False)
    if node["kind"] == "dict":
        return {k: build(v) for k, v in node["items"]}
    if node["kind"] == "tuple":
        return tuple(build(v) for v in node["items"])
    if node["kind"] == "list":
        return [build(v) for v in node["items"]]
    raise AssertionError(node)

for k, call in enumerate(job["calls"]):
    target = m if call["signature"] is None else (
        getattr(m, call["signature"]) if call.get("attr") else m.signatures[call["signature"]])
    out = target(*[build(a) for a in call["args"]])
    report["calls"].append(flat(out, os.path.join(job["out"], f"call{k}")))
for i, v in enumerate(m.variables):
    f = os.path.join(job["out"], f"var{i}.npy")
    np.save(f, v.numpy(), allow_pickle=False)
    report["variables"].append({"name": v.name, "trainable": v.trainable, "file": f,
                                "dtype": v.dtype.name, "is_variable": isinstance(v, tx.Variable),
                                "shape": list(v.shape)})
json.dump(report, open(os.path.join(job["out"], "report.json"), "w"))
'''


def _encode_input(x: Any, prefix: Path) -> dict:
    if isinstance(x, dict):
        return {"kind": "dict", "items": [[k, _encode_input(v, prefix.with_name(
            f"{prefix.name}.{k}"))] for k, v in x.items()]}
    if isinstance(x, (list, tuple)):
        return {"kind": type(x).__name__, "items": [
            _encode_input(v, prefix.with_name(f"{prefix.name}.{i}")) for i, v in enumerate(x)]}
    f = prefix.with_name(prefix.name + ".npy")
    np.save(f, np.asarray(x), allow_pickle=False)
    return {"kind": "npy", "file": str(f)}


def _decode_output(node: dict) -> Any:
    kind = node["kind"]
    if kind == "tensor":
        a = np.load(node["file"], allow_pickle=False)
        assert list(a.shape) == node["shape"]
        return a
    if kind == "dict":
        return {k: _decode_output(v) for k, v in node["items"]}
    if kind == "tuple":
        return tuple(_decode_output(v) for v in node["items"])
    if kind == "list":
        return [_decode_output(v) for v in node["items"]]
    if kind == "none":
        return None
    raise AssertionError(node)


def run_in_fresh_process(artifact: os.PathLike, calls: list[tuple[str | None, tuple]],
                         workdir: Path, attr: bool = False) -> dict:
    """Load `artifact` in a new Python process (cwd outside the repo, no test modules) and make
    `calls` there: (signature name or None for the loaded object itself, positional args as
    nested dicts/lists/tuples of numpy arrays). Returns the child's report with outputs (nested
    numpy arrays) and variables (name, trainable, dtype, value, is_variable)."""
    workdir.mkdir(parents=True, exist_ok=True)
    job = {"artifact": str(artifact), "out": str(workdir), "calls": []}
    for k, (sig, args) in enumerate(calls):
        job["calls"].append({"signature": sig, "attr": attr, "args": [
            _encode_input(a, workdir / f"in{k}_{j}") for j, a in enumerate(args)]})
    (workdir / "job.json").write_text(json.dumps(job))
    script = workdir / "child.py"
    script.write_text(textwrap.dedent(_CHILD))
    # tfx_core/compiler/runtime come from the editable install; the repo root (and so the
    # tests package defining the saved functions) is not on the child's path at all.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONSAFEPATH"] = "1"  # not even the script's own directory on sys.path
    proc = subprocess.run([sys.executable, str(script), str(workdir / "job.json")],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"child failed:\n{proc.stdout}\n{proc.stderr}"
    report = json.loads((workdir / "report.json").read_text())
    report["outputs"] = [_decode_output(c) for c in report.pop("calls")]
    for v in report["variables"]:
        v["value"] = np.load(v.pop("file"), allow_pickle=False)
    return report
