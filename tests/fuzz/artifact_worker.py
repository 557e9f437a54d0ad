"""Fuzz worker: inspects, loads and calls the artifacts named on stdin, one JSON line each out."""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import sys
import time
import traceback
import warnings
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRODUCT = tuple(os.path.join(REPO, d) + os.sep for d in ("tfx_core", "compiler", "runtime"))
MAX_VALUE_BYTES = 64 << 20  # calls whose tensors would be bigger than this are not made
ACCEPTED_CALL_ERRORS = ("OpError", "TypeError", "ValueError")


def where(e: BaseException) -> dict:
    """The innermost frame, and the innermost frame in product code, of an exception."""
    frames = traceback.extract_tb(e.__traceback__)
    product = [f for f in frames if f.filename.startswith(PRODUCT)]

    def fmt(f: Any) -> str:
        return f"{os.path.relpath(f.filename, REPO)}:{f.name}:{f.lineno}"

    return {"innermost": fmt(frames[-1]) if frames else None,
            "product": fmt(product[-1]) if product else None,
            "stack": [fmt(f) for f in product[-6:]]}


def error(e: BaseException) -> dict:
    return {"type": type(e).__name__, "message": str(e)[:400], **where(e)}


def _regions(graph: Any) -> Any:
    """Every graph nested in `graph`'s ops (regions, branch tuples), and graph itself."""
    from compiler.ir.graph import Graph

    yield graph
    for op in graph.ops:
        for _, a in op.attrs:
            for g in (a if isinstance(a, tuple) else (a,)):
                if isinstance(g, Graph):
                    yield from _regions(g)


def _biggest_value(graph: Any) -> tuple[int, bool]:
    """The largest tensor in bytes (None dims as 2) and whether any `while` op is there."""
    biggest, has_while = 0, False
    for g in _regions(graph):
        types = [v.type for v in g.inputs] + [v.type for op in g.ops for v in op.outputs]
        has_while |= any(op.name == "while" for op in g.ops)
        for t in types:
            n = t.dtype.np_dtype.itemsize
            for d in t.shape:
                n *= 2 if d is None else d
            biggest = max(biggest, n)
    return biggest, has_while


def make_call(cf: Any, seed: int) -> tuple[tuple, dict] | str:
    """Inputs matching a loaded signature's specs, or why there are none."""
    import numpy as np
    from jax import tree_util

    from tfx_core.framework.tensor_spec import TensorSpec

    rng = np.random.default_rng(seed)
    leaves = list(cf._in_leaves)
    for i in cf._tensor_idx:
        spec = leaves[i]
        if not isinstance(spec, TensorSpec):
            return "a tensor leaf is not a TensorSpec"
        shape = [2 if d is None else d for d in spec.shape]
        dt = spec.dtype.np_dtype
        if dt.itemsize * int(np.prod(shape, dtype=object)) > MAX_VALUE_BYTES:
            return "inputs too big"
        if spec.dtype.is_bool:
            leaves[i] = rng.random(shape) > 0.5
        elif spec.dtype.is_integer:
            leaves[i] = rng.integers(0, 3, shape).astype(dt)
        else:
            leaves[i] = rng.standard_normal(shape).astype(dt)
    structure = tree_util.tree_unflatten(cf._in_tree, leaves)
    if not (isinstance(structure, tuple) and len(structure) == 2 and
            isinstance(structure[0], (tuple, list)) and isinstance(structure[1], dict)):
        return f"call structure is {type(structure).__name__}, not (args, kwargs)"
    return tuple(structure[0]), structure[1]


def _stored_bytes(path: str) -> int:
    """What the zip directory says its members hold (stored: at most the file, unless they
    overlap and the file's bytes are read several times over)."""
    import zipfile

    try:  # (it loaded, so it reads; but the worker must never die of its own check)
        with zipfile.ZipFile(path) as z:
            return sum(i.file_size for i in z.infolist())
    except Exception:  # noqa: BLE001
        return 0


def _overlap_bytes(path: str) -> int:
    """How many bytes of member data (local header + stored data) lie inside an earlier
    member's: 0 for any well-formed zip; more means the file's bytes are read over and over."""
    import struct
    import zipfile

    spans = []
    try:  # (the file loaded, so this reads; but the worker must never die of its own check)
        with open(path, "rb") as f, zipfile.ZipFile(path) as z:
            for i in z.infolist():
                f.seek(i.header_offset + 26)
                n, x = struct.unpack("<HH", f.read(4))
                spans.append((i.header_offset, i.header_offset + 30 + n + x + i.compress_size))
    except Exception:  # noqa: BLE001
        return 0
    overlap, end = 0, 0
    for a, b in sorted(spans):
        overlap += max(0, min(b, end) - a)
        end = max(end, b)
    return overlap


def run_inspect(path: str) -> dict:
    from tfx_core.export import cli as cli

    # streams that encode like a UTF-8 terminal's (strict stdout, backslashreplace stderr)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = cli.main(["inspect", path])
    except BaseException as e:  # noqa: BLE001  (anything escaping main is a traceback)
        return {"ok": False, "escaped": error(e)}
    err.flush()
    text = err.buffer.getvalue().decode("utf-8", "replace")
    lines = text.splitlines()
    ok = rc == 0 or rc == 2 and len(lines) == 1 and lines[0].startswith("tfx: ")
    return {"ok": ok, "rc": rc, "stderr": text[-600:]}


def handle(job: dict, send: Any, self_test: bool) -> dict:
    from jax import tree_util

    import tfx_core as tx

    path, cid = job["path"], job["id"]
    if self_test and job.get("marker"):  # proves the harness notices crashes and hangs
        send({"id": cid, "phase": "load"})
        if job["marker"] == "abort":
            os.abort()
        if job["marker"] == "exit":
            os._exit(3)
        time.sleep(3600)
    result: dict[str, Any] = {}
    if job.get("inspect", True):
        send({"id": cid, "phase": "inspect"})
        result["inspect"] = run_inspect(path)
    send({"id": cid, "phase": "load"})
    t0 = time.perf_counter()
    try:
        loaded = tx.saved_model.load(path)
    except tx.saved_model.ArtifactError as e:
        result.update(load="refused", error=error(e))
        return result
    except BaseException as e:  # noqa: BLE001  (every other type escaping load is a finding)
        result.update(load="exception", error=error(e))
        return result
    result.update(load="loaded", load_seconds=round(time.perf_counter() - t0, 3), calls={},
                  overlap_bytes=_overlap_bytes(path), stored_bytes=_stored_bytes(path),
                  file_bytes=os.path.getsize(path))
    for k, (name, cf) in enumerate(sorted(loaded.signatures.items())):
        biggest, has_while = _biggest_value(cf.graph)
        if biggest > MAX_VALUE_BYTES:
            result["calls"][name] = {"outcome": "skipped", "why": f"{biggest:,}-byte tensors"}
            continue
        call = make_call(cf, k)
        if isinstance(call, str):
            result["calls"][name] = {"outcome": "skipped", "why": call}
            continue
        send({"id": cid, "phase": "call", "signature": name, "has_while": has_while})
        try:
            out = cf(*call[0], **call[1])
            for leaf in tree_util.tree_leaves(out):
                leaf.numpy()
            result["calls"][name] = {"outcome": "ok"}
        except Exception as e:
            accepted = any(c.__name__ in ACCEPTED_CALL_ERRORS for c in type(e).__mro__)
            result["calls"][name] = {"outcome": "error" if accepted else "exception",
                                     "error": error(e)}
    return result


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--self-test", action="store_true", help="honor marker cases (abort/hang)")
    p.add_argument("--mem-limit-gb", type=float, default=6.0)
    args = p.parse_args()
    # The protocol gets the real stdout; anything the product prints goes to stderr instead.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    limit = int(args.mem_limit_gb * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # a runaway allocation fails here
    warnings.simplefilter("ignore")

    def send(msg: dict) -> None:
        proto.write(json.dumps(msg) + "\n")
        proto.flush()

    import tfx_core  # noqa: F401  (imported before "ready": the harness times cases only)

    send({"ready": os.getpid()})
    for line in sys.stdin:
        job = json.loads(line)
        result = handle(job, send, args.self_test)
        send({"id": job["id"], "done": result})


if __name__ == "__main__":
    main()
