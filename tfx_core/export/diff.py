"""`tfx diff`: what changed between two saved models, read as data (nothing compiled or run).

Both files go through the loader's checked paths (`read_checked`: limits, checksums, every
manifest field; `parse_signature_graph`: the IR parsed within limits and verified;
`read_array`: `.npy` without pickle), so a file `tfx diff` reads is one `load` would accept.
The report has four sections: signatures (added, removed, input/output specs), ops (per
signature: op counts and the IR lines added or removed, with their source locations), weights
(per Variable: shape/dtype, max abs and max relative change) and other (anything else that
differs, so two files are never called identical when their contents are not).
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compiler.ir.types import DType, TensorType
from runtime.artifact import DEFAULT_LIMITS, ArtifactError, LoadLimits
from tfx_core.export.load import parse_signature_graph, read_array, read_checked

_SSA = re.compile(r"%\d+")
_LOC = "  # "  # how the printer starts an op's location comment


@dataclass
class Artifact:
    """One saved model as the diff reads it: checked manifest, members, verified graphs and
    Variable values keyed by name (the n-th Variable of a repeated name gets `name#n`)."""

    path: str
    manifest: dict
    members: dict[str, bytes]
    graphs: dict[str, Any]
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    trainable: dict[str, bool] = field(default_factory=dict)
    var_keys: list[str] = field(default_factory=list)
    constants: dict[str, np.ndarray] = field(default_factory=dict)


def read(path: str, limits: LoadLimits = DEFAULT_LIMITS) -> Artifact:
    """Read and check a saved model the way `load` does, without compiling anything."""
    manifest, members = read_checked(path, limits)
    graphs = {}
    for name, entry in manifest["functions"].items():
        graph = parse_signature_graph(name, entry, members, path, limits)
        n_out = sum(spec is not None for _, spec, _ in _flatten(entry["outputs"], ""))
        if len(graph.outputs) != n_out + len(entry.get("updates", [])):
            raise ArtifactError(f"{path}: signature {name!r}: the manifest's inputs/outputs do "
                                "not match its IR")
        graphs[name] = graph
    art = Artifact(path, manifest, members, graphs)
    for entry in manifest["functions"].values():
        for c in entry.get("captures", []):
            if "constant" in c:
                art.constants[c["constant"]] = read_array(members, c["constant"], c["dtype"])
    seen: dict[str, int] = {}
    for i, v in enumerate(manifest.get("variables", [])):
        base = v.get("name") or f"<unnamed variable {i}>"
        seen[base] = seen.get(base, 0) + 1
        key = base if seen[base] == 1 else f"{base}#{seen[base]}"
        art.var_keys.append(key)
        art.variables[key] = read_array(members, v["member"], v["dtype"], v["shape"])
        art.trainable[key] = v["trainable"]
    return art


@dataclass
class Report:
    """The differences by section (empty lists: nothing changed there)."""

    a: str
    b: str
    sections: dict[str, list[str]]
    same_bytes: bool

    @property
    def identical(self) -> bool:
        return not any(self.sections.values())

    def text(self) -> str:
        if self.identical:
            how = "byte for byte" if self.same_bytes else (
                "in content (the zip containers differ: timestamps or order; files saved by "
                "this tfx are byte-identical)")
            return _printable(f"identical: {self.a} and {self.b} ({how})")
        lines = [f"--- {self.a}", f"+++ {self.b}"]
        for title, body in self.sections.items():
            if body:
                lines.append(f"{title}:")
                lines.extend(f"  {x}" for x in body)
        return "\n".join(_printable(x) for x in lines)


def diff(a: Artifact, b: Artifact, max_ir_lines: int = 80) -> Report:
    """Compare two read artifacts; `max_ir_lines` caps each signature's IR diff (0: all)."""
    sections = {"signatures": _signatures(a, b), "ops": _ops(a, b, max_ir_lines),
                "weights": _weights(a, b)}
    sections["other"] = _other(a, b, explained=any(sections.values()))
    return Report(a.path, b.path, sections, _same_bytes(a, b))


# ---------------------------------------------------------------- signatures
def _flatten(node: dict, where: str) -> list[tuple[str, dict | None, Any]]:
    """(path, tensor spec or None, static value) per leaf of a manifest structure node."""
    (kind, body), = node.items()
    if kind == "t":
        return [(where, body, None)]
    if kind == "v":
        return [(where, None, body)]
    if kind == "none":
        return [(where, None, None)]
    if kind == "dict":
        return [x for k, v in body for x in _flatten(v, f"{where}[{k!r}]")]
    return [x for i, v in enumerate(body) for x in _flatten(v, f"{where}[{i}]")]


def _inputs(entry: dict) -> dict[str, str]:
    args, kwargs = entry["inputs"]["tuple"]
    leaves = _flatten(args, "args") + _flatten(kwargs, "kwargs")
    return {p: _spec(spec) if spec is not None else f"= {value!r}" for p, spec, value in leaves}


def _spec(spec: dict) -> str:
    text = str(TensorType(DType.from_any(spec["dtype"]), tuple(spec["shape"])))
    return text + (f" name={spec['name']!r}" if spec.get("name") else "")


def _outputs(art: Artifact, name: str) -> dict[str, str]:
    entry, types = art.manifest["functions"][name], art.graphs[name].output_types
    out, i = {}, 0
    for p, spec, _ in _flatten(entry["outputs"], "output"):
        out[p] = "None" if spec is None else str(types[i])  # tensors number the graph outputs
        i += spec is not None
    return out


def _signature_line(art: Artifact, name: str) -> str:
    ins = ", ".join(f"{p}: {s}" for p, s in _inputs(art.manifest["functions"][name]).items())
    outs = ", ".join(f"{p}: {s}" for p, s in _outputs(art, name).items())
    return f"({ins}) -> ({outs}), {len(art.graphs[name].ops)} ops"


def _signatures(a: Artifact, b: Artifact) -> list[str]:
    fa, fb = a.manifest["functions"], b.manifest["functions"]
    out = [f"- {n!r}: {_signature_line(a, n)}" for n in fa if n not in fb]
    out += [f"+ {n!r}: {_signature_line(b, n)}" for n in fb if n not in fa]
    for n in (n for n in fa if n in fb):
        changes = _keyed("input", _inputs(fa[n]), _inputs(fb[n]))
        changes += _keyed("output", _outputs(a, n), _outputs(b, n))
        ua = [a.var_keys[i] for i in fa[n].get("updates", [])]
        ub = [b.var_keys[i] for i in fb[n].get("updates", [])]
        if ua != ub:
            changes.append(f"assigns Variables {ua} -> {ub}")
        out += [f"{n!r}: {c}" for c in changes]
    return out


def _keyed(what: str, x: dict[str, str], y: dict[str, str]) -> list[str]:
    out = [f"- {what} {k}: {v}" for k, v in x.items() if k not in y]
    out += [f"+ {what} {k}: {v}" for k, v in y.items() if k not in x]
    out += [f"{what} {k}: {v} -> {y[k]}" for k, v in x.items() if k in y and y[k] != v]
    return out


# ---------------------------------------------------------------- ops
def _ops(a: Artifact, b: Artifact, max_lines: int) -> list[str]:
    out = []
    fa, fb = a.manifest["functions"], b.manifest["functions"]
    for n in (n for n in fa if n in fb):
        ta = a.members[fa[n]["graph"]].decode()
        tb = b.members[fb[n]["graph"]].decode()
        if ta == tb:
            continue
        ha, hb = a.graphs[n].op_histogram(), b.graphs[n].op_histogram()
        counts = [f"{op} {ha.get(op, 0)} -> {hb.get(op, 0)}" for op in sorted(set(ha) | set(hb))
                  if ha.get(op, 0) != hb.get(op, 0)]
        total = f"{len(a.graphs[n].ops)} -> {len(b.graphs[n].ops)} ops"
        out.append(f"{n!r}: {total}" + (f" ({', '.join(counts)})" if counts else ""))
        out += [f"  {x}" for x in _ir_diff(ta.splitlines(), tb.splitlines(), max_lines)]
    return out


def _ir_diff(a: list[str], b: list[str], max_lines: int) -> list[str]:
    """The IR lines removed (-) and added (+), shown as written (with their locations).

    Lines are matched with SSA names and locations blanked, so one inserted op shows as one
    added line rather than renumbering everything after it; when only locations (or only SSA
    wiring) differ, the next finer form is matched instead.
    """
    note = {_no_names: ["(only source locations differ)"],
            str: ["(only which values feed which ops differs)"]}
    for norm in (_no_names_no_locs, _no_names, str):
        ka, kb = [norm(x) for x in a], [norm(x) for x in b]
        groups = list(difflib.SequenceMatcher(None, ka, kb, autojunk=False)
                      .get_grouped_opcodes(1))
        if groups and any(tag != "equal" for g in groups for tag, *_ in g):
            break
    out: list[str] = list(note.get(norm, []))
    for group in groups:
        i1, j1 = group[0][1], group[0][3]
        i2, j2 = group[-1][2], group[-1][4]
        out.append(f"@@ -{i1 + 1},{i2 - i1} +{j1 + 1},{j2 - j1} @@")
        for tag, p1, p2, q1, q2 in group:
            if tag == "equal":
                out += [f" {x}" for x in b[q1:q2]]
                continue
            out += [f"-{x}" for x in a[p1:p2]]
            out += [f"+{x}" for x in b[q1:q2]]
    if max_lines and len(out) > max_lines:
        out = out[:max_lines] + [f"... {len(out) - max_lines} more lines (--max-lines 0 shows "
                                 "all)"]
    return out


def _no_names(line: str) -> str:
    return _SSA.sub("%", line)


def _no_names_no_locs(line: str) -> str:
    head, sep, _ = line.rpartition(_LOC)
    return _SSA.sub("%", head if sep else line)


# ---------------------------------------------------------------- weights
def _weights(a: Artifact, b: Artifact) -> list[str]:
    out = [f"- {k}: {_describe(v)}" for k, v in a.variables.items() if k not in b.variables]
    out += [f"+ {k}: {_describe(v)}" for k, v in b.variables.items() if k not in a.variables]
    for k, x in a.variables.items():
        if k not in b.variables:
            continue
        y = b.variables[k]
        what = weight_change(x, y)
        if a.trainable[k] != b.trainable[k]:
            what = ", ".join(filter(None, [what, f"trainable {a.trainable[k]} -> "
                                                 f"{b.trainable[k]}"]))
        if what:
            out.append(f"{k}: {what}")
    return out


def _describe(a: np.ndarray) -> str:
    return f"{DType.from_any(a.dtype).short}[{','.join(map(str, a.shape))}]"


def weight_change(x: np.ndarray, y: np.ndarray) -> str | None:
    """How `y` differs from `x`, or None when they hold the same bits.

    max abs change: max |y - x|; max relative change: max |y - x| / max(|x|, |y|) per element
    (bounded: 1.0 when a value goes from or to 0, 2.0 when it flips sign), so zero-initialized
    biases don't read as infinite. Positions where both are NaN count as unchanged.
    """
    if x.dtype != y.dtype or x.shape != y.shape:
        return f"{_describe(x)} -> {_describe(y)}"
    if x.tobytes() == y.tobytes():
        return None
    wide = np.complex128 if x.dtype.kind == "c" else np.float64
    xf, yf = x.astype(wide), y.astype(wide)
    with np.errstate(all="ignore"):
        nan_x, nan_y = np.isnan(xf), np.isnan(yf)
        changed = ~((xf == yf) | (nan_x & nan_y))
        n = int(np.count_nonzero(changed))
        head = f"{_describe(x)}: {n:,} of {x.size:,} values changed"
        if n == 0:
            return head + " (the bits differ: signed zeros or NaN payloads)"
        nan_moved = int(np.count_nonzero(nan_x ^ nan_y))
        d = np.where(changed & ~(nan_x | nan_y), np.abs(yf - xf), 0.0)
        den = np.maximum(np.abs(xf), np.abs(yf))
        rel = np.where(den > 0, d / np.where(den > 0, den, 1), 0.0)
        rel = np.where(np.isnan(rel), 1.0, rel)  # inf -> another inf or finite
    at = np.unravel_index(int(np.argmax(d)), d.shape) if d.size else ()
    text = (f"{head}, max abs change {float(d.max()):.4g} (at {list(map(int, at))}), "
            f"max relative change {float(rel.max()):.4g}")
    return text + (f", {nan_moved:,} values became or stopped being NaN" if nan_moved else "")


# ---------------------------------------------------------------- the rest
def _other(a: Artifact, b: Artifact, explained: bool) -> list[str]:
    """Per-signature settings always; any remaining difference only when nothing above
    explains it (so a changed content is never reported as identical)."""
    out = []
    fa, fb = a.manifest["functions"], b.manifest["functions"]
    for n in (n for n in fa if n in fb):
        for key in ("passes", "stablehlo_lowering"):
            if fa[n].get(key) != fb[n].get(key):
                out.append(f"{n!r}: {key} {fa[n].get(key)!r} -> {fb[n].get(key)!r}")
        for key in ("stablehlo", "compiled"):
            if (key in fa[n]) != (key in fb[n]):
                out.append(f"{n!r}: {'+' if key in fb[n] else '-'} {key} member")
        ca, cb = _captures(a, n), _captures(b, n)
        if ca != cb:
            out.append(f"{n!r}: captures {ca} -> {cb}")
    if a.manifest.get("producer") != b.manifest.get("producer"):
        out.append(f"producer {a.manifest.get('producer')!r} -> {b.manifest.get('producer')!r}")
    if out or explained:
        return out
    ma = {k: v for k, v in a.manifest.items() if k != "members"}
    mb = {k: v for k, v in b.manifest.items() if k != "members"}
    if json.dumps(ma, sort_keys=True) != json.dumps(mb, sort_keys=True):
        out.append("the manifests differ (beyond what is listed above)")
    names = sorted(set(a.members) | set(b.members))
    out += [f"member {m!r} differs" for m in names if a.members.get(m) != b.members.get(m)]
    return out


def _captures(art: Artifact, name: str) -> list[str]:
    """A signature's captured inputs: Variables by name, constants by type and a digest."""
    out = []
    for c in art.manifest["functions"][name].get("captures", []):
        if "variable" in c:
            out.append(art.var_keys[c["variable"]])
        else:
            data = art.constants[c["constant"]]
            out.append(f"constant {_describe(data)} sha256:"
                       f"{_digest(art.members[c['constant']])}")
    return out


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()[:12]


def _same_bytes(a: Artifact, b: Artifact) -> bool:
    with open(a.path, "rb") as fa, open(b.path, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """Control characters a file's names or comments may hold, escaped (no terminal tricks)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


__all__ = ["Artifact", "Report", "diff", "read", "weight_change"]
