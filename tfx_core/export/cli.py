"""The `tfx` command: inspect, compare, run and benchmark saved models; the compile cache."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np


def _limits(args: argparse.Namespace) -> Any:
    from runtime.artifact import DEFAULT_LIMITS, LoadLimits

    return LoadLimits.unlimited() if args.no_limits else DEFAULT_LIMITS


def _inspect(args: argparse.Namespace) -> int:
    """Everything is read as data: nothing is compiled or run. All of the file is checked
    before anything is printed, so a bad file prints one error line and nothing else."""
    from tfx_core.export.load import parse_signature_graph, read_checked

    limits = _limits(args)
    manifest, members = read_checked(args.path, limits)
    graphs = {name: parse_signature_graph(name, fn, members, args.path, limits)
              for name, fn in manifest["functions"].items()}
    total = sum(len(b) for b in members.values())
    lines = [f"{args.path}: {manifest['format']} v{manifest['format_version']}, written by "
             f"{str(manifest.get('producer', '?'))[:80]}; {len(members)} members, {total:,} bytes"]
    variables = manifest.get("variables", [])
    var_bytes = sum(len(members[v["member"]]) for v in variables)
    lines.append(f"variables: {len(variables)} ({var_bytes:,} bytes)")
    for v in variables:
        lines.append(f"  {v.get('name')}: {v['dtype']}{v['shape']} trainable={v['trainable']}")
    for name, fn in manifest["functions"].items():
        graph = graphs[name]
        ins = ", ".join(str(t) for t in graph.input_types)
        outs = ", ".join(str(t) for t in graph.output_types)
        lines.append(f"signature {name!r}: ({ins}) -> ({outs})")
        hist = sorted(graph.op_histogram().items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append(f"  {len(graph.ops)} ops: " + ", ".join(f"{k} {n}" for k, n in hist))
        if "stablehlo" in fn:
            lines.append(f"  StableHLO portable artifact: {len(members[fn['stablehlo']]):,} "
                         "bytes, for other tools (tfx runs the IR above; load checks the two "
                         "agree)")
        else:
            lines.append("  no StableHLO (None dims): compiled per shape from the IR at call "
                         "time")
    _say("\n".join(lines))
    return 0


def _diff(args: argparse.Namespace) -> int:
    """Both files are read and checked whole before anything is printed (a bad one: one error
    line, exit 2); exit 0 when their contents are the same, 1 when they differ."""
    from tfx_core.export import diff

    limits = _limits(args)
    a, b = diff.read(args.a, limits), diff.read(args.b, limits)
    report = diff.diff(a, b, max_ir_lines=args.max_lines)
    _say(report.text())
    return 0 if report.identical else 1


def _signature(loaded: Any, name: str | None) -> Any:
    if name is None:
        if len(loaded.signatures) == 1 or "serving_default" not in loaded.signatures:
            name = next(iter(loaded.signatures))
        else:
            name = "serving_default"
    if name not in loaded.signatures:
        raise SystemExit(f"tfx: no signature {name!r}; have {sorted(loaded.signatures)}")
    return loaded.signatures[name]


def _call_with(cf: Any, tensors: list[np.ndarray]) -> Any:
    from jax import tree_util

    n = len(cf.tensor_indices)
    if len(tensors) != n:
        raise SystemExit(f"tfx: signature {cf.name!r} takes {n} tensor inputs, got "
                         f"{len(tensors)}")
    leaves = cf.in_leaves
    for i, a in zip(cf.tensor_indices, tensors):
        leaves[i] = a
    call_args, call_kwargs = tree_util.tree_unflatten(cf.in_tree, leaves)
    return cf(*call_args, **call_kwargs)


def _read_input(path: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise SystemExit(f"tfx: --input {path}: not a readable .npy array ({e})") from None


def _run(args: argparse.Namespace) -> int:
    from jax import tree_util

    import tfx_core as tx

    cf = _signature(tx.saved_model.load(args.path, limits=_limits(args)), args.signature)
    tensors = [_read_input(p) for p in args.input]
    flat, _ = tree_util.tree_flatten_with_path(_call_with(cf, tensors))
    outs = {tree_util.keystr(path) or "output": np.asarray(t) for path, t in flat}
    if args.output:
        np.savez(args.output, **{k.strip("[]'\"") or f"out{i}": v
                                 for i, (k, v) in enumerate(outs.items())})
        _say(f"wrote {len(outs)} outputs to {args.output}")
    else:
        for k, v in outs.items():
            _say(f"{k}: {v.dtype}{list(v.shape)}\n{v}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    import tfx_core as tx

    t1 = time.perf_counter()
    cf = _signature(tx.saved_model.load(args.path, limits=_limits(args)), args.signature)
    t2 = time.perf_counter()
    specs = [cf.in_leaves[i] for i in cf.tensor_indices]
    tensors = [np.zeros([args.batch if d is None else d for d in s.shape], s.dtype.np_dtype)
               for s in specs]
    out = _call_with(cf, tensors)
    _block(out)
    t3 = time.perf_counter()
    times = []
    for _ in range(args.calls):
        s = time.perf_counter()
        _block(_call_with(cf, tensors))
        times.append(time.perf_counter() - s)
    print(f"load {1e3 * (t2 - t1):.1f} ms (static signatures compile here), first call "
          f"{1e3 * (t3 - t2):.1f} ms; per call {1e6 * statistics.median(times):.1f} µs "
          f"(median of {args.calls})")
    return 0


def _block(out: Any) -> None:
    from jax import tree_util

    for t in tree_util.tree_leaves(out):
        t.numpy()


def _cache(args: argparse.Namespace) -> int:
    from runtime import disk_cache

    cache = disk_cache.default_cache()
    if cache is None:
        print("the persistent compile cache is disabled (TFX_CACHE_DIR)")
        return 0
    if args.action == "clear":
        cache.clear()
        print(f"cleared {cache.directory}")
    else:
        for k, v in cache.info().items():
            print(f"{k}: {v}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tfx` console script."""
    p = argparse.ArgumentParser(prog="tfx", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("inspect", help="signatures, op histogram, sizes, versions (runs nothing)")
    s.add_argument("path")
    _no_limits_flag(s)
    s.set_defaults(fn=_inspect)
    s = sub.add_parser("diff", help="what changed between two saved models: signatures, ops, "
                       "weights (runs nothing; exit 0 identical, 1 different, 2 bad file)")
    s.add_argument("a")
    s.add_argument("b")
    _no_limits_flag(s)
    s.add_argument("--max-lines", type=int, default=80,
                   help="IR diff lines shown per signature (0: all)")
    s.set_defaults(fn=_diff)
    s = sub.add_parser("run", help="run a signature on .npy inputs")
    s.add_argument("path")
    _no_limits_flag(s)
    s.add_argument("--input", action="append", default=[], help=".npy file (repeat, in order)")
    s.add_argument("--signature", default=None)
    s.add_argument("--output", default=None, help="write outputs to this .npz")
    s.set_defaults(fn=_run)
    s = sub.add_parser("bench", help="cold start (load + first call) and per-call time")
    s.add_argument("path")
    _no_limits_flag(s)
    s.add_argument("--signature", default=None)
    s.add_argument("--batch", type=int, default=1, help="size for None dims")
    s.add_argument("--calls", type=int, default=100)
    s.set_defaults(fn=_bench)
    s = sub.add_parser("cache", help="the persistent compile cache")
    s.add_argument("action", choices=["info", "clear"])
    s.set_defaults(fn=_cache)
    args = p.parse_args(argv)
    from runtime.artifact import ArtifactError

    try:
        return args.fn(args)
    except (ArtifactError, FileNotFoundError, IsADirectoryError, PermissionError) as e:
        _say(f"tfx: {_one_line(e)}", sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tfx: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a user-facing tool: one line, no traceback (TFX_DEBUG=1 shows it)
        if os.environ.get("TFX_DEBUG"):
            raise
        _say(f"tfx: error: {type(e).__name__}: {_one_line(e)}", sys.stderr)
        return 2 if args.command == "diff" else 1  # diff's 1 means "they differ"


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _say(text: str, file: Any = None) -> None:
    """print, escaping what the stream can't encode (a file's names may hold anything)."""
    file = file or sys.stdout
    enc = getattr(file, "encoding", None) or "utf-8"
    print(text.encode(enc, "backslashreplace").decode(enc), file=file)


def _no_limits_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-limits", action="store_true",
                   help="lift the size limits on the file (for big models you trust)")


if __name__ == "__main__":
    sys.exit(main())
