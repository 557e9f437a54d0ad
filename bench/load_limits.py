"""Loading the largest saved models the default `LoadLimits` accept: time and peak memory.

Each artifact is built here, then loaded in a FRESH process (`tx.saved_model.load` plus one
call), which reports its wall time and its peak RSS (VmHWM: the whole process, Python, jaxlib
and the model). Cases, each at a default limit:

* `ops`: one signature of 200,000 ops (`max_ops`), a wide graph with a `None` batch dim: load
  parses and verifies it (not called: XLA would then compile 200,000 ops for that shape).
* `ir-bytes`: an IR member near `max_graph_bytes` (256 MiB of text), mostly one big constant.
* `weights`: Variables totalling about `--weight-gib` GiB (default 2; `max_file_bytes` is 8).
* `baseline`: a tiny model, for the process's own footprint.

Run: `python bench/load_limits.py [--weight-gib 2] [--keep DIR]`.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys, time
import numpy as np
import tfx_core as tx
t0 = time.perf_counter()
m = tx.saved_model.load(sys.argv[1], limits=None)
t1 = time.perf_counter()
if sys.argv[2] != "-":
    m(np.ones([int(d) for d in sys.argv[2].split(",")], np.float32)).numpy()
t2 = time.perf_counter()
# NOTE: VmHWM, not ru_maxrss: that one survives exec and counts the parent's pages at fork
hwm = next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM"))
print(json.dumps({"load_s": t1 - t0, "first_call_s": t2 - t1, "peak_rss_mb": hwm / 1024}))
"""


def wide_ir(n_ops: int) -> str:
    """n_ops ops over x: f32[?,8], in 8-deep chains summed pairwise (chain depth stays small)."""
    lines, k = [], 1
    heads = []
    for _ in range(n_ops // 9):
        v = "%0"
        for _ in range(8):
            lines.append(f"  %{k}: f32[?,8] = {'exp' if k % 2 else 'negate'} {v}")
            v, k = f"%{k}", k + 1
        heads.append(v)
    acc = heads[0]
    for h in heads[1:]:
        lines.append(f"  %{k}: f32[?,8] = add {acc}, {h}")
        acc, k = f"%{k}", k + 1
    return "func @f(%0: f32[?,8]) -> (f32[?,8]) {\n" + "\n".join(lines) + f"\n  return {acc}\n}}\n"


def save_base(path: Path, shape: list, weights: int = 0) -> None:
    import tfx_core as tx

    class M(tx.Module):
        def __init__(self):
            super().__init__()
            self.w = [tx.Variable(np.full([weights // 4], 0.5, np.float32))] if weights else []

        @tx.function(input_signature=[tx.TensorSpec(shape, tx.float32)])
        def __call__(self, x):
            return x * 2.0 + (self.w[0][0] if self.w else 0.0)

    tx.saved_model.save(M(), str(path))


def replace_ir(src: Path, dst: Path, ir: str) -> None:
    from tests.export._helpers import DROP, rewrite

    def drop(m):
        for f in m["functions"].values():
            f.pop("stablehlo", None)
            f.pop("stablehlo_lowering", None)

    rewrite(src, dst, members={"functions/0.tfx": ir.encode(), "functions/0.stablehlo": DROP},
            manifest=drop)


def big_constant_ir(target_bytes: int) -> str:
    n = (target_bytes - 200) // 6  # "0.5, " is 5 bytes; dims and slack
    values = ", ".join(["0.5"] * n)
    return (f"func @f(%0: f32[?,8]) -> (f32[?,8]) {{\n  %1: f32[{n}] = constant "
            f"{{value=dense<f32[{n}] [{values}]>}}\n  %2: f32[?,8] = exp %0\n  return %2\n}}\n")


def measure(path: Path, call_shape: str) -> dict:
    env = dict(os.environ, TFX_CACHE_DIR="none")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD), str(path), call_shape],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["process_s"] = time.perf_counter() - t0
    row["file_mb"] = path.stat().st_size / 1e6
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--weight-gib", type=float, default=2.0)
    p.add_argument("--keep", default=None, help="write the artifacts here (default: temp)")
    args = p.parse_args()
    d = Path(args.keep or tempfile.mkdtemp(prefix="tfx-load-limits-"))
    d.mkdir(parents=True, exist_ok=True)
    base = d / "base.tfx"
    save_base(base, [None, 8])
    cases = {"baseline": (base, "2,8")}
    replace_ir(base, d / "ops.tfx", wide_ir(200_000))
    cases["ops"] = (d / "ops.tfx", "-")
    replace_ir(base, d / "ir-bytes.tfx", big_constant_ir(250 << 20))
    cases["ir-bytes"] = (d / "ir-bytes.tfx", "2,8")
    save_base(d / "weights.tfx", [2, 8], weights=int(args.weight_gib * (1 << 30)))
    cases["weights"] = (d / "weights.tfx", "2,8")
    print("| case | file MB | load s | first call s | process s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (path, shape) in cases.items():
        r = measure(path, shape)
        call = f"{r['first_call_s']:.2f}" if shape != "-" else "—"
        print(f"| {name} | {r['file_mb']:.1f} | {r['load_s']:.2f} | {call} | "
              f"{r['process_s']:.2f} | {r['peak_rss_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
