"""Manifest, `.npy`, StableHLO and member-swap mutators, checksums forged or left stale."""
from __future__ import annotations

import hashlib
import io
import json
import random
import re
from typing import Any

from tests.export._helpers import read_zip_raw, write_zip

MANIFEST = "manifest.json"
# Every dtype spelling tfx knows, numpy spellings it may accept, and nonsense.
DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
          "uint8", "uint32", "bool", "f32", "bf16", "i64", "<f4", ">f4", "f", "float", "O",
          "V2", "V0", "S3", "U", "m8", "datetime64[Y]", "(2,)f4", "i4,i4", "complex64", "g",
          "float33", "int4", "", "\u00e9", "f4\x00", "M8[xx]", "V" + "9" * 30]
LITERALS = ['"x"', '""', "0", "1", "-1", "true", "false", "null", "[]", "{}", "[0]", "[null]",
            '{"a": 1}', "1.5", "-0.0", "1e400", "-1e400", "NaN", "Infinity", "-Infinity",
            "9223372036854775807", "9223372036854775808", "18446744073709551617",
            "-9223372036854775809", "4611686018427387904", "4611686018427387905", "1" * 5000,
            '"' + "a" * 5000 + '"', '"\\ud800"', '"\\u0000"', '"../../x"', '"functions/0.tfx"',
            '"manifest.json"']
KINDS = ["none", "t", "v", "tuple", "list", "dict"]


def open_zip(data: bytes) -> dict[str, bytes]:
    return read_zip_raw(io.BytesIO(data))


def close_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    write_zip(buf, entries)
    return buf.getvalue()


def read_manifest(entries: dict[str, bytes]) -> Any:
    """The parsed manifest, or None when an earlier mutation left it unreadable."""
    try:
        return json.loads(entries[MANIFEST])
    except (KeyError, ValueError, RecursionError):
        return None


def rehash(entries: dict[str, bytes], names: list[str] | None = None) -> None:
    """Recompute the manifest's size + sha256 of `names` (all members: None), as a forger
    would; a manifest that no longer has a members table is left alone."""
    man = read_manifest(entries)
    try:
        table = man["members"]
        for n in names if names is not None else [n for n in entries if n != MANIFEST]:
            if n in entries:
                table[n] = {"size": len(entries[n]),
                            "sha256": hashlib.sha256(entries[n]).hexdigest()}
    except (KeyError, TypeError, ValueError):
        return
    entries[MANIFEST] = json.dumps(man, indent=1).encode()


# ---------------------------------------------------------------- manifest JSON
def _walk(x: Any, path: list) -> list[tuple[list, Any]]:
    out = [(path, x)]
    if isinstance(x, dict):
        for k, v in x.items():
            out += _walk(v, [*path, k])
    elif isinstance(x, list):
        for i, v in enumerate(x):
            out += _walk(v, [*path, i])
    return out


def _deep(rng: random.Random) -> str:
    depth = rng.choice([10, 63, 64, 65, 200, 100_000])
    kind = rng.choice(["list", "tuple", "dict"])
    if kind == "list":
        return "[" * depth + "]" * depth
    if kind == "tuple":
        return '{"tuple": [' * depth + '{"none": 0}' + "]}" * depth
    return '{"a": ' * depth + "1" + "}" * depth


def _value_for(path: list, value: Any, man: dict, rng: random.Random) -> str:
    """Raw JSON text for a new value at `path`, aimed at what that field means."""
    key = next((p for p in reversed(path) if isinstance(p, str)), "")
    n_vars = len(man.get("variables", []))
    members = sorted(man.get("members", {}))
    r = rng.random()
    if r < 0.25:
        return rng.choice(LITERALS)
    if r < 0.3:
        return _deep(rng)
    if key == "dtype" and isinstance(value, str):
        return json.dumps(rng.choice(DTYPES))
    if key == "shape" or (path and path[-2:-1] == ["shape"]):
        return rng.choice(["[]", "[0]", "[-1]", "[null]", "[1.5]", "[true]", "[[2]]",
                           "[4611686018427387904]", "[4611686018427387905]", "[2, 3, 4]",
                           "[" + ", ".join(["1"] * 100) + "]", "[3, 2]", "[2, 3]",
                           "[65536, 65536, 65536]", "[0, 3]", "[null, null]"])
    if key in ("index", "variable") or (path and path[-2:-1] == ["updates"]):
        return str(rng.choice([-1, n_vars, n_vars + 1, 1, 2, 3, 10**6, 2**62, 2**63]))
    if key in ("graph", "stablehlo", "member", "constant", "options_sha256") or \
            isinstance(value, str) and value in members:
        return json.dumps(rng.choice([*members, "functions/9.tfx", "x.npy", "../evil.npy",
                                      "variables/0.npy", "functions/0.stablehlo"]))
    if key == "passes" or (path and path[-2:-1] == ["passes"]):
        names = ["constant_folding", "cse", "dce", "fusion", "simplify", "layout"]
        pick = rng.sample(names, rng.randrange(len(names) + 1)) * rng.choice([1, 1, 2])
        return json.dumps(pick if key == "passes" and isinstance(value, list) else
                          rng.choice([*names, "inline", ""]))
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in KINDS:
        (kind, body), = value.items()
        choice = rng.randrange(5)
        if choice == 0:  # another kind around the same body
            return json.dumps({rng.choice(KINDS): body})
        if choice == 1:  # a second key
            return json.dumps({**value, rng.choice(KINDS): body})
        if choice == 2 and isinstance(body, list):  # a duplicated / dropped / reversed child
            body = rng.choice([body + body[-1:], body[1:], body[::-1], [body, body]])
            return json.dumps({kind: body})
        if choice == 3:
            return json.dumps(rng.choice([{"t": {"index": 0}}, {"v": [1]}, {"dict": [[1, 2]]},
                                          {"dict": [["k", {"none": 0}, 3]]}, {"none": 0},
                                          {"t": {"index": 0, "shape": [], "dtype": "float32"}},
                                          {"tuple": {}}, {"v": {"a": 1}}]))
        return json.dumps({kind: {"tuple": [body]}})
    if isinstance(value, bool):
        return rng.choice(["true", "false", "1", "0", '"true"', "null"])
    if isinstance(value, int):
        return str(rng.choice([value + 1, value - 1, -value, 2 * value, 0, 2**31, 2**63]))
    if isinstance(value, str):
        return json.dumps(rng.choice([value + "x", value[:-1], value.upper(), value * 3, "",
                                      value.replace("/", "//"), "\u00e9" + value]))
    if isinstance(value, list):
        return json.dumps(rng.choice([value + value[-1:], value[:-1], value[::-1], [value],
                                      [None] * 3]) if value else "[[]]")
    return rng.choice(LITERALS)


def plan_manifest(data: bytes, rng: random.Random) -> dict:
    man = read_manifest(open_zip(data))
    if not isinstance(man, dict):
        return plan_npy(data, rng) if rng.random() < 0.5 else plan_members(data, rng)
    forged = rng.random() < 0.8
    paths = [(p, v) for p, v in _walk(man, []) if p and not (forged and p[0] == "members")]
    ops = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        path, value = rng.choice(paths)
        r = rng.random()
        if r < 0.15:
            ops.append(["del", path])
        elif r < 0.22 and isinstance(path[-1], str):
            ops.append(["rename", path, rng.choice([path[-1] + "_", path[-1].upper(), "t",
                                                    "tuple", "dict", "v", "index", "graph"])])
        elif r < 0.28:
            other, _ = rng.choice(paths)
            ops.append(["swap", path, other])
        else:
            ops.append(["set", path, _value_for(path, value, man, rng)])
    return {"kind": "manifest", "rehash": forged, "ops": ops}


def _locate(root: Any, path: list) -> tuple[Any, Any]:
    parent = root
    for p in path[:-1]:
        parent = parent[p]
    if isinstance(parent, list) and not (isinstance(path[-1], int) and
                                         -len(parent) <= path[-1] < len(parent)):
        raise KeyError(path[-1])
    if isinstance(parent, dict) and path[-1] not in parent:
        raise KeyError(path[-1])
    return parent, path[-1]


def apply_manifest(data: bytes, recipe: dict) -> bytes:
    entries = open_zip(data)
    man = read_manifest(entries)
    if man is None:
        return data
    raws: dict[str, str] = {}
    for op, path, *args in recipe["ops"]:
        try:  # an earlier op may have removed the node: this one is then skipped
            parent, key = _locate(man, path)
            if op == "set":
                ph = f"\x00PH{len(raws)}\x00"  # raw JSON text goes in after dumping
                raws[ph] = args[0]
                parent[key] = ph
            elif op == "del":
                del parent[key]
            elif op == "rename" and isinstance(parent, dict):
                items = [(args[0] if k == key else k, v) for k, v in parent.items()]
                parent.clear()
                parent.update(items)
            elif op == "swap":
                p2, k2 = _locate(man, args[0])
                parent[key], p2[k2] = p2[k2], parent[key]
        except (KeyError, IndexError, TypeError):
            continue
    if recipe.get("rehash"):
        entries[MANIFEST] = json.dumps(man).encode()
        rehash(entries)
        man = json.loads(entries[MANIFEST])
    text = json.dumps(man, indent=1)
    for ph, raw in raws.items():
        text = text.replace(json.dumps(ph), raw)
    entries[MANIFEST] = text.encode("utf-8", "surrogatepass")
    return close_zip(entries)


# ---------------------------------------------------------------- .npy members
_NPY_HEADER = re.compile(rb"\{.*\}", re.S)


def plan_npy(data: bytes, rng: random.Random) -> dict:
    names = [n for n in open_zip(data) if n.endswith(".npy")]
    if not names:
        return plan_manifest(data, rng)
    ops: list[list] = []
    for _ in range(rng.choice([1, 1, 2])):
        what = rng.choice(["descr", "descr", "fortran", "shape", "shape", "version", "hlen",
                           "data", "header", "magic"])
        if what == "descr":
            ops.append(["descr", rng.choice(["'<f8'", "'|O'", "'|V2'", "'>f4'", "'<i4'",
                                             "'|b1'", "'<U3'", "[('a', '<f4')]", "'<c8'",
                                             "'<f2'", "'|V4'", "'|V0'", "'<M8[s]'", "'x'",
                                             "1", "None", "('<f4', (2,))", "'<f4'"])])
        elif what == "fortran":
            ops.append(["fortran", rng.choice(["True", "1", "'x'", "None", "[]"])])
        elif what == "shape":
            ops.append(["shape", rng.choice(["()", "(6,)", "(3, 2)", "(-1, 3)", "(2, -3)",
                                             "(1099511627776,)", "(2, 3, 0)", "(10**30,)",
                                             "(1" + "0" * 30 + ",)", "('a',)", "(2.0, 3)",
                                             "[2, 3]", "None", "(2, 3, 1)", "(3,)", "(4,)",
                                             "(2, 1024)", "(1, 2, 1024)", "(0,)"])])
        elif what == "version":
            ops.append(["version", rng.choice([[2, 0], [3, 0], [9, 9], [0, 0], [1, 1]])])
        elif what == "hlen":
            ops.append(["hlen", rng.choice([0, 1, 10, 118, 0xFFFF, 200])])
        elif what == "data":
            ops.append(["data", rng.choice(["truncate", "halve", "append", "drop", "empty"])])
        elif what == "header":
            ops.append(["header", rng.choice(["{}", "", "{'descr': '<f4'}", "[1, 2]",
                                              "{'descr': '<f4', 'fortran_order': False, "
                                              "'shape': (2, 3), 'extra': 1}", "(" * 300,
                                              "__import__('os')", "{" * 500])])
        else:
            ops.append(["magic", rng.choice(["934e554d50", "00", "934e554d5059"])])
    return {"kind": "npy", "member": rng.choice(names), "rehash": rng.random() < 0.85,
            "ops": ops}


def _mutate_npy(b: bytes, ops: list) -> bytes:
    major = b[6] if len(b) > 7 else 1
    hl_size = 2 if major == 1 else 4
    start = 8 + hl_size
    m = _NPY_HEADER.search(b[start:start + 4096])
    header = m.group().decode("latin1") if m else "{}"
    body = b[start + int.from_bytes(b[8:start], "little"):]
    fields = dict(re.findall(r"'(descr|fortran_order|shape)': ((?:\[[^\]]*\]|\([^)]*\)|'[^']*'"
                             r"|[^,]+)),", header)) or {"descr": "'<f4'"}
    prefix, hlen, magic = b[:8], None, None
    for op, *args in ops:
        if op == "descr":
            fields["descr"] = args[0]
        elif op == "fortran":
            fields["fortran_order"] = args[0]
        elif op == "shape":
            fields["shape"] = args[0]
        elif op == "version":
            prefix = prefix[:6] + bytes(args[0])
        elif op == "hlen":
            hlen = args[0]
        elif op == "data":
            body = {"truncate": body[:-1], "halve": body[:len(body) // 2],
                    "append": body + body[:4], "drop": b"", "empty": b""}[args[0]]
        elif op == "header":
            fields = {"raw": args[0]}
        elif op == "magic":
            magic = bytes.fromhex(args[0])
    text = fields["raw"] if "raw" in fields else \
        "{" + "".join(f"'{k}': {v}, " for k, v in fields.items()) + "}"
    raw = text.encode("latin1")
    hl_size = 2 if prefix[6:7] in (b"\x01", b"\x00") else 4
    pad = (-(8 + hl_size + len(raw) + 1)) % 64
    raw += b" " * pad + b"\n"
    n = len(raw) if hlen is None else hlen
    head = prefix + n.to_bytes(hl_size, "little")[:hl_size] if n < 1 << (8 * hl_size) else \
        prefix + b"\xff" * hl_size
    out = head + raw + body
    return magic + out[len(magic):] if magic is not None else out


def apply_npy(data: bytes, recipe: dict) -> bytes:
    entries = open_zip(data)
    if recipe["member"] not in entries:
        return data
    entries[recipe["member"]] = _mutate_npy(entries[recipe["member"]], recipe["ops"])
    if recipe["rehash"]:
        rehash(entries, [recipe["member"]])
    return close_zip(entries)


# ---------------------------------------------------------------- StableHLO and member swaps
def plan_stablehlo(data: bytes, rng: random.Random) -> dict:
    entries = open_zip(data)
    names = [n for n in entries if n.endswith(".stablehlo")]
    if not names:
        return plan_members(data, rng)
    name = rng.choice(names)
    mode = rng.choice(["garbage", "truncate", "empty", "flip", "other", "garbage_retag"])
    return {"kind": "stablehlo", "member": name, "mode": mode, "rehash": rng.random() < 0.9,
            "garbage": rng.randbytes(rng.choice([4, 64, 600])).hex(),
            "at": rng.randrange(len(entries[name]))}


def apply_stablehlo(data: bytes, recipe: dict) -> bytes:
    entries = open_zip(data)
    name, mode = recipe["member"], recipe["mode"]
    if name not in entries:
        return data
    old = entries[name]
    entries[name] = {
        "garbage": b"ML\xefR" + bytes.fromhex(recipe["garbage"]),
        "garbage_retag": bytes.fromhex(recipe["garbage"]),
        "truncate": old[:recipe["at"]], "empty": b"",
        "flip": old[:recipe["at"]] + bytes([old[recipe["at"]] ^ 0xFF]) + old[recipe["at"] + 1:],
        "other": next((v for k, v in sorted(entries.items()) if k not in (name, MANIFEST)),
                      b""),
    }[mode]
    if recipe["rehash"]:
        rehash(entries, [name])
    if mode == "garbage_retag":  # another lowering's tag: the member is then never compared
        man = read_manifest(entries)
        try:
            for entry in man["functions"].values():
                if entry.get("stablehlo") == name:
                    entry["stablehlo_lowering"] = "another tfx|cpu|auto"
        except (KeyError, TypeError, AttributeError):
            return close_zip(entries)
        entries[MANIFEST] = json.dumps(man, indent=1).encode()
    return close_zip(entries)


def plan_members(data: bytes, rng: random.Random) -> dict:
    """Swap two members' contents, give one another's, drop or add one (forged or not)."""
    names = [n for n in open_zip(data) if n != MANIFEST]
    a, b = rng.choice(names), rng.choice(names)
    op = rng.choice(["swap", "copy", "drop", "add", "empty"])
    return {"kind": "members", "op": op, "a": a, "b": b, "rehash": rng.random() < 0.85,
            "new": rng.choice(["extra.bin", "functions/7.tfx", "variables/9.npy", "x/y/z",
                               "manifest.json.bak"])}


def apply_members(data: bytes, recipe: dict) -> bytes:
    entries = open_zip(data)
    a, b, op = recipe["a"], recipe["b"], recipe["op"]
    if a not in entries or b not in entries:
        return data
    changed = [a, b]
    if op == "swap":
        entries[a], entries[b] = entries[b], entries[a]
    elif op == "copy":
        entries[a] = entries[b]
    elif op == "drop":
        del entries[a]
        man = read_manifest(entries)
        if recipe["rehash"] and isinstance(man, dict) and isinstance(man.get("members"), dict):
            man["members"].pop(a, None)
            entries[MANIFEST] = json.dumps(man, indent=1).encode()
    elif op == "add":
        entries[recipe["new"]] = entries[b]
        changed = [recipe["new"]]
    else:
        entries[a] = b""
    if recipe["rehash"]:
        rehash(entries, changed)
    return close_zip(entries)
