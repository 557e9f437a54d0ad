"""Mutation fuzzer of `tx.saved_model.load` / `tfx inspect`: recipes, worker pool, CLI."""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from . import artifact_coordinated as co
from . import artifact_ir_mutators as ir
from . import artifact_member_mutators as mm
from . import artifact_mutators as zm
from .artifact_bases import build_bases

REPO = Path(__file__).resolve().parents[2]
PLAN = {"raw": zm.plan_raw, "zip": zm.plan_zip, "manifest": mm.plan_manifest,
        "ir": ir.plan_ir, "npy": mm.plan_npy, "stablehlo": mm.plan_stablehlo,
        "members": mm.plan_members, "forge": co.plan,
        "overlap": zm.plan_overlap}
APPLY = {"raw": zm.apply_raw, "zip": zm.apply_zip, "manifest": mm.apply_manifest,
         "ir": ir.apply_ir, "npy": mm.apply_npy, "stablehlo": mm.apply_stablehlo,
         "members": mm.apply_members, "retype": co.apply, "resize": co.apply,
         "addattr": co.apply, "overlap": zm.apply_overlap}
WEIGHTS = {"raw": 12, "zip": 10, "manifest": 20, "ir": 24, "npy": 8, "stablehlo": 4,
           "members": 4, "forge": 10, "overlap": 1, "combo": 8}
MEMBER_KINDS = ("manifest", "ir", "npy", "stablehlo", "members", "forge")
CASE_TIMEOUT = 20.0  # seconds per phase (inspect, load, each call) before the worker is killed


# ---------------------------------------------------------------- recipes
def apply_recipe(base: bytes, recipe: dict) -> bytes:
    """The mutated file: deterministic in (base bytes, recipe)."""
    if recipe["kind"] == "combo":
        for part in recipe["parts"]:
            base = apply_recipe(base, part)
        return base
    if recipe["kind"] == "identity":  # the base itself (sanity checks, harness self-test)
        return base
    return APPLY[recipe["kind"]](base, recipe)


def plan_case(bases: dict[str, bytes], seed: int, index: int) -> dict:
    """Case `index` of run `seed`: which base, and the recipe (data only)."""
    rng = random.Random(f"{seed}:{index}")
    name = rng.choice(sorted(bases))
    kind = rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
    if kind != "combo":
        try:
            recipe = PLAN[kind](bases[name], rng)
        except Exception as e:  # a planner bug must not end a long run: say so, mutate bytes
            print(f"warning: planning case {seed}:{index} ({kind}) failed: {e!r}",
                  file=sys.stderr)
            recipe = zm.plan_raw(bases[name], rng)
    else:  # member-level edits first (they need a readable zip), then maybe bytes
        parts, data = [], bases[name]
        for k in rng.sample(MEMBER_KINDS, rng.choice([2, 2, 3])):
            try:
                part = PLAN[k](data, rng)
                data = apply_recipe(data, part)
            except Exception:  # noqa: BLE001  (an earlier part left nothing this one can read)
                continue
            parts.append(part)
        if rng.random() < 0.3:
            parts.append(PLAN[rng.choice(["raw", "zip"])](data, rng))
        recipe = {"kind": "combo", "parts": parts}
    assert zm.is_json_data(recipe), recipe
    return {"base": name, "seed": seed, "index": index, "recipe": recipe}


def family(recipe: dict) -> str:
    """The planner a recipe came from (its WEIGHTS key)."""
    return "forge" if recipe["kind"] in ("retype", "resize", "addattr") else recipe["kind"]


def generate(bases: dict[str, bytes], seed: int, n: int, start: int = 0) -> Iterator[dict]:
    for index in range(start, start + n):
        yield plan_case(bases, seed, index)


# ---------------------------------------------------------------- outcomes
def classify(result: dict) -> tuple[str, list[dict]]:
    """(outcome kind, findings) of one worker result."""
    findings = []
    if "crash" in result or "hang" in result:
        what = "crash" if "crash" in result else "hang"
        info = result[what]
        kind = f"call_{what}" if info.get("phase") == "call" else what
        if kind == "call_hang" and info.get("has_while"):  # a forged loop may never end
            return "call_timeout_in_while", []
        return kind, [{"kind": kind, **info}]
    insp = result.get("inspect")
    if insp is not None and not insp["ok"]:
        findings.append({"kind": "inspect", **{k: v for k, v in insp.items() if k != "ok"}})
    if result.get("cli_inspect") and not result["cli_inspect"]["ok"]:
        findings.append({"kind": "cli_inspect", **result["cli_inspect"]})
    if result["load"] == "refused":
        return "refused", findings
    if result["load"] == "exception":
        return "load_exception", [*findings, {"kind": "load_exception", **result["error"]}]
    if result.get("stored_bytes", 0) > result.get("file_bytes", 1 << 62):
        # overlapping members that add up to more than the file: a zip bomb (members sharing a
        # few bytes without amplifying are only counted, in the result's overlap_bytes)
        findings.append({"kind": "overlap_amplifies", "stored_bytes": result["stored_bytes"],
                         "file_bytes": result["file_bytes"]})
    calls = result.get("calls", {}).values()
    for c in calls:
        if c["outcome"] == "exception":
            findings.append({"kind": "call_exception", **c["error"]})
    outcomes = {c["outcome"] for c in calls}
    kind = "loaded" if outcomes <= {"ok"} else \
        "loaded_call_" + ("exception" if "exception" in outcomes else
                          "error" if "error" in outcomes else "skipped")
    return kind, findings


def signature(finding: dict) -> str:
    """What makes two findings the same bug: kind, exception type, product location."""
    kind = finding["kind"]
    if kind in ("crash", "call_crash"):  # with the native code's last words, if any
        said = (finding.get("stderr") or "").strip().splitlines()[-1:] or [""]
        return f"{kind}:{finding.get('signal')}:{finding.get('phase')}:{said[0][:60]}"
    if kind == "overlap_amplifies":
        return kind
    if kind in ("hang", "call_hang"):
        return f"{kind}:{finding.get('phase')}"
    if kind in ("inspect", "cli_inspect"):
        esc = finding.get("escaped") or {}
        parts = (finding.get("stderr") or "").split(":")  # "tfx: error: KeyError: ..."
        return f"{kind}:rc={finding.get('rc')}:{esc.get('type', '')}:" + \
            (parts[2] if len(parts) > 2 else "")[:40].strip()
    where = (finding.get("product") or "").rsplit(":", 1)[0]  # no line number: code moves
    return f"{kind}:{finding.get('type')}:{where}"


# ---------------------------------------------------------------- workers
class Worker:
    """One long-lived worker subprocess, with at most one case in flight."""

    def __init__(self, workdir: Path, env: dict, self_test: bool, n: int):
        self.log_path = workdir / f"worker{n}-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "wb")
        cmd = [sys.executable, "-m", "tests.fuzz.artifact_worker"] + \
            (["--self-test"] if self_test else [])
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log)
        self.buf = b""
        self.case: dict | None = None
        self.phase: dict = {}
        self.deadline = time.monotonic() + 120  # the import before "ready"
        self.ready = False

    def send(self, msg: dict, job: dict, timeout: float) -> None:
        self.case, self.phase = job, {"phase": "queued"}
        self.deadline = time.monotonic() + timeout
        try:
            self.proc.stdin.write((json.dumps(msg) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:  # it died idle: the end of its stdout charges this case
            pass

    def read(self) -> list[dict] | None:
        """Whole messages now available; None at end of file (the worker died)."""
        chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
        if not chunk:
            return None
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        return [json.loads(ln) for ln in lines if ln.strip()]

    def stderr_tail(self) -> str:
        try:  # (the worker writes the log; this process only reads it)
            return self.log_path.read_bytes()[-1500:].decode("utf-8", "replace")
        except OSError:
            return ""

    def kill(self) -> int:
        if self.proc.poll() is None:
            self.proc.kill()
        rc = self.proc.wait()
        self.log.close()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        return rc


def _signal_name(rc: int) -> str:
    if rc < 0:
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return f"signal {-rc}"
    return f"exit {rc}"


def cli_inspect(path: str) -> dict:
    """`tfx inspect` as a user runs it: exit 0, or exit 2 with one `tfx: ...` line."""
    exe = Path(sys.executable).with_name("tfx")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tfx_core.export.cli"]
    try:
        p = subprocess.run([*cmd, "inspect", path], capture_output=True, text=True,
                           timeout=120, cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired:
        return {"ok": False, "rc": None, "stderr": "timed out"}
    lines = p.stderr.splitlines()
    ok = p.returncode == 0 and "Traceback" not in p.stderr or \
        p.returncode == 2 and len(lines) == 1 and lines[0].startswith("tfx: ")
    return {"ok": ok, "rc": p.returncode, "stderr": p.stderr[-600:]}


class Pool:
    """Runs cases on `n` workers; a worker that dies or stops answering is replaced and the
    case it had in flight gets the crash or hang."""

    def __init__(self, n: int = 2, self_test: bool = False, timeout: float = CASE_TIMEOUT,
                 workdir: Path | None = None):
        self.own_dir = workdir is None
        self.dir = Path(tempfile.mkdtemp(prefix="tfx-fuzz-")) if workdir is None else workdir
        (self.dir / "cases").mkdir(parents=True, exist_ok=True)
        # a compile cache of the run's own; `-m` needs the repo (cwd) on the workers' path
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
        self.env["TFX_CACHE_DIR"] = str(self.dir / "cache")
        self.n, self.self_test, self.timeout = n, self_test, timeout
        self.workers: list[Worker] = []
        self.restarts = 0

    def __enter__(self) -> Pool:
        self.workers = [Worker(self.dir, self.env, self.self_test, k) for k in range(self.n)]
        return self

    def __exit__(self, *exc: Any) -> None:
        for w in self.workers:
            w.kill()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, jobs: Iterable[dict], inspect_every: int = 0) -> Iterator[dict]:
        """Yields each job (a case with `data` bytes) with its `result` added, in completion
        order. inspect_every: also run the real `tfx inspect` on every k-th job."""
        jobs = iter(jobs)
        sel = selectors.DefaultSelector()
        for w in self.workers:
            sel.register(w.proc.stdout, selectors.EVENT_READ, w)
        pending, done_jobs = True, 0
        while True:
            for w in self.workers:
                if w.ready and w.case is None and pending:
                    job = next(jobs, None)
                    if job is None:
                        pending = False
                        break
                    path = self.dir / "cases" / f"{job['id']}.tfx"
                    path.write_bytes(job.pop("data"))
                    w.send({"id": job["id"], "path": str(path), "marker": job.get("marker"),
                            "inspect": job.get("inspect", True)}, job, self.timeout)
            busy = [w for w in self.workers if w.case is not None or not w.ready]
            if not busy:
                break
            wait = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            for key, _ in sel.select(timeout=wait):
                w = key.data
                msgs = w.read()
                if msgs is None:
                    sel.unregister(w.proc.stdout)
                    rc = w.kill()
                    if w.case is None:
                        raise RuntimeError(f"worker died before its first case ({rc}):\n"
                                           f"{w.stderr_tail()}")
                    yield self._finish(w, {"crash": {**w.phase, "signal": _signal_name(rc),
                                                     "stderr": w.stderr_tail()}}, 0)
                    self._replace(w, sel)
                    continue
                for msg in msgs:
                    if "ready" in msg:
                        w.ready = True
                    elif "phase" in msg:
                        w.phase = {k: v for k, v in msg.items() if k != "id"}
                        w.deadline = time.monotonic() + self.timeout
                    elif "done" in msg:
                        done_jobs += 1
                        every = inspect_every and done_jobs % inspect_every == 0
                        yield self._finish(w, msg["done"], every)
            now = time.monotonic()
            for w in list(self.workers):
                if w.deadline < now and (w.case is not None or not w.ready):
                    sel.unregister(w.proc.stdout)
                    w.kill()
                    if w.case is None:
                        raise RuntimeError(f"worker did not start:\n{w.stderr_tail()}")
                    yield self._finish(w, {"hang": {**w.phase, "seconds": self.timeout,
                                                    "stderr": w.stderr_tail()}}, 0)
                    self._replace(w, sel)
        sel.close()

    def _finish(self, w: Worker, result: dict, cli: int) -> dict:
        job, w.case = w.case, None
        path = self.dir / "cases" / f"{job['id']}.tfx"
        if cli and "crash" not in result and "hang" not in result:
            result["cli_inspect"] = cli_inspect(str(path))
        path.unlink(missing_ok=True)
        job["result"] = result
        job["outcome"], job["findings"] = classify(result)
        return job

    def _replace(self, w: Worker, sel: selectors.BaseSelector) -> None:
        k = self.workers.index(w)
        self.restarts += 1
        self.workers[k] = Worker(self.dir, self.env, self.self_test, k)
        sel.register(self.workers[k].proc.stdout, selectors.EVENT_READ, self.workers[k])


def jobs_for(cases: Iterable[dict], bases: dict[str, bytes]) -> Iterator[dict]:
    """Cases with their mutated bytes (`noop` cases, identical to the base, are dropped)."""
    for k, case in enumerate(cases):
        try:
            data = apply_recipe(bases[case["base"]], case["recipe"])
        except Exception as e:  # a mutator bug must not end a long run: say so, go on
            print(f"warning: case {case.get('seed')}:{case.get('index')}: applying "
                  f"{zm.describe(case['recipe'])} failed: {e!r}", file=sys.stderr)
            continue
        if data == bases[case["base"]] and case["recipe"]["kind"] != "identity":
            continue
        yield {**case, "id": case.get("id", k), "data": data}


def load_bases(directory: Path) -> dict[str, bytes]:
    return {k: p.read_bytes() for k, p in build_bases(directory).items()}


# ---------------------------------------------------------------- reduction
def _smaller(recipe: dict) -> Iterator[dict]:
    """Recipes with one edit/op/part fewer (and combos replaced by one of their parts)."""
    if recipe["kind"] == "combo":
        yield from recipe["parts"]
        for i in range(len(recipe["parts"])):
            parts = recipe["parts"][:i] + recipe["parts"][i + 1:]
            yield {"kind": "combo", "parts": parts}
        for i, part in enumerate(recipe["parts"]):
            for p in _smaller(part):
                yield {"kind": "combo", "parts": [*recipe["parts"][:i], p,
                                                  *recipe["parts"][i + 1:]]}
        return
    for key in ("edits", "ops"):
        items = recipe.get(key) or []
        if len(items) > 1:
            for i in range(len(items)):
                yield {**recipe, key: items[:i] + items[i + 1:]}


def minimize(case: dict, bases: dict[str, bytes], pool: Pool, want: str) -> dict:
    """Greedily drop parts of the recipe while some finding still has signature `want`."""
    best = case["recipe"]
    improved = True
    while improved:
        improved = False
        for cand in _smaller(best):
            job = next(jobs_for([{**case, "recipe": cand, "id": f"min{time.monotonic_ns()}"}],
                                bases), None)
            if job is None:
                continue
            got = next(pool.run([job]))
            if any(signature(f) == want for f in got["findings"]):
                best, improved = cand, True
                break
    return {**case, "recipe": best}


# ---------------------------------------------------------------- CLI
def fuzz(n: int, seed: int, workers: int, out: Path | None, inspect_every: int,
         start: int = 0, quiet: bool = False, log: Path | None = None,
         reduce: bool = True) -> dict:
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="tfx-fuzz-bases-"))
    bases = load_bases(tmp)
    counts: collections.Counter = collections.Counter()
    kinds: collections.Counter = collections.Counter()
    findings: dict[str, dict] = {}
    n_findings = 0
    log_file = open(log, "w") if log else None  # every case's recipe and outcome, one a line
    with Pool(workers) as pool:
        for k, job in enumerate(pool.run(jobs_for(generate(bases, seed, n, start), bases),
                                         inspect_every)):
            counts[job["outcome"]] += 1
            if log_file:
                log_file.write(json.dumps(job) + "\n")
            kinds[family(job["recipe"])] += 1
            for f in job["findings"]:
                n_findings += 1
                sig = signature(f)
                entry = findings.setdefault(sig, {"signature": sig, "count": 0, "first": {
                    k2: job[k2] for k2 in ("base", "seed", "index", "recipe")}, "finding": f})
                entry["count"] += 1
                if entry["count"] == 1 and not quiet:
                    print(f"  FINDING {sig}\n    {f.get('message', '')[:200]}\n    "
                          f"{zm.describe(job['recipe'])}", flush=True)
            if not quiet and (k + 1) % 250 == 0:
                rate = (k + 1) / (time.monotonic() - t0)
                print(f"[{k + 1}] {rate:.1f}/s restarts={pool.restarts} "
                      f"findings={n_findings} ({len(findings)} distinct) {dict(counts)}",
                      flush=True)
            if out and (k + 1) % 500 == 0:
                _write(out, seed, start, k + 1, time.monotonic() - t0, counts, kinds, findings)
        restarts = pool.restarts
    if log_file:
        log_file.close()
    if reduce and findings:  # each distinct finding's first case, reduced in a fresh worker
        with Pool(1) as pool:
            for sig, entry in findings.items():
                small = minimize(entry["first"], bases, pool, sig)["recipe"]
                entry["minimized"] = small
                if not quiet:
                    print(f"  reduced {sig}: {zm.describe(small)}", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    wall = time.monotonic() - t0
    total = sum(counts.values())
    summary = _write(out, seed, start, total, wall, counts, kinds, findings)
    if not quiet:
        print(f"\n{total} mutated artifacts (seed {seed}, cases {start}..{start + n - 1}; "
              f"{n - total} no-op mutations skipped) in {wall:.0f} s, {restarts} worker "
              f"restarts")
        print("outcomes:", json.dumps(dict(counts.most_common())))
        print("mutators:", json.dumps(dict(kinds.most_common())))
        print(f"findings: {n_findings} ({len(findings)} distinct)")
        for sig, f in findings.items():
            print(f"  {f['count']:5d} x {sig}")
    return summary


def _write(out: Path | None, seed: int, start: int, total: int, wall: float, counts: Any,
           kinds: Any, findings: dict) -> dict:
    summary = {"seed": seed, "start": start, "cases": total, "wall_seconds": round(wall, 1),
               "outcomes": dict(counts), "mutators": dict(kinds),
               "findings": list(findings.values())}
    if out:
        out.write_text(json.dumps(summary, indent=1))
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz.artifact_mutation",
                                description=__doc__)
    p.add_argument("--n", type=int, default=1000, help="mutated artifacts to try")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=0, help="first case index (to resume)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=None, help="write findings here (JSON)")
    p.add_argument("--inspect-every", type=int, default=100,
                   help="also run the real `tfx inspect` on every k-th case (0: never)")
    p.add_argument("--log", type=Path, default=None, help="every case's outcome (JSON lines)")
    p.add_argument("--no-reduce", action="store_true", help="don't minimize the findings")
    p.add_argument("--write-case", type=Path, default=None, metavar="PATH",
                   help="only write the mutated artifact of case --start of --seed to PATH")
    args = p.parse_args(argv)
    if args.write_case:
        with tempfile.TemporaryDirectory(prefix="tfx-fuzz-bases-") as tmp:
            bases = load_bases(Path(tmp))
        case = plan_case(bases, args.seed, args.start)
        args.write_case.write_bytes(apply_recipe(bases[case["base"]], case["recipe"]))
        print(json.dumps(case))
        return 0
    summary = fuzz(args.n, args.seed, args.workers, args.out, args.inspect_every, args.start,
                   log=args.log, reduce=not args.no_reduce)
    return 1 if summary["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
