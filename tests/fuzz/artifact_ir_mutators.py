"""Token- and line-level mutators of a saved model's IR text, as replayable recipes."""
from __future__ import annotations

import json
import random
import re

from .artifact_member_mutators import MANIFEST, close_zip, open_zip, read_manifest, rehash

_TOKEN = re.compile(r'%\d+|@[\w.]+|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|-inf'
                    r"|[A-Za-z_][\w.]*|->|\s+|.", re.S)
SHORT_DTYPES = ["f16", "bf16", "f32", "f64", "i8", "i16", "i32", "i64", "u8", "u32", "bool"]
BAD_DTYPES = ["f8", "i1", "float32", "f32x", "c64", "u16", "u64", "none"]
NUMBERS = ["0", "-1", "1", "2", "3", "7", "64", "4294967296", "9223372036854775807",
           "9223372036854775808", "99999999999999999999", "1" * 5000, "4611686018427387904",
           "1e309", "-1e309", "nan", "inf", "-inf", "0.5", "-0", "2.0", "1e-45", "65536"]
ATTR_VALUES = ["none", "()", "(0,)", "((((1))))", '"x"', "true", "false", "f32", "0", "-1",
               "dense<f32[] [1.0]>", "dense<i32[2] [1, 2]>", "dense<f32[0] []>", "(none, 3)",
               "func @g() -> () {\n return\n}", "9223372036854775808", '"\\ud800"']
STRINGS = ['"EQ"', '"NE"', '"LT"', '"LE"', '"GT"', '"GE"', '"XX"', '""', '"gt"', '"\\u0000"']
# Ops that take the same operands, so a swap often still verifies and reaches the lowering.
OP_GROUPS = [
    ["abs", "ceil", "cos", "exp", "expm1", "floor", "is_finite", "log", "log1p", "logistic",
     "negate", "not", "round_nearest_even", "rsqrt", "sign", "sin", "sqrt", "tan", "tanh",
     "erf", "stop_gradient", "convert"],
    ["add", "atan2", "divide", "maximum", "minimum", "multiply", "power", "remainder",
     "subtract", "and", "or", "xor", "compare", "broadcast_like"],
    ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and", "reduce_or",
     "argmax", "argmin", "cumsum", "cumprod", "sort", "reverse", "squeeze", "expand_dims"],
    ["transpose", "reshape", "slice", "pad", "tile", "broadcast_to", "iota", "constant"],
]
_op_names: list[str] = []


def op_names() -> list[str]:
    """Registered op names (needs the product imported; cached)."""
    if not _op_names:
        import tfx_core  # noqa: F401  (registers every op)
        from compiler.registry import REGISTRY

        _op_names.extend(sorted(REGISTRY))
    return _op_names


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _classify(toks: list[str]) -> dict[str, list[int]]:
    """Token indices by role: dims, numbers, dtypes, op names, values, attr keys/values..."""
    out: dict[str, list[int]] = {k: [] for k in ("dim", "num", "dtype", "op", "value", "key",
                                                 "attr", "string", "dense")}
    sig = [i for i, t in enumerate(toks) if not t.isspace()]
    in_dims = in_dense = False
    for n, i in enumerate(sig):
        t = toks[i]
        prev = toks[sig[n - 1]] if n else ""
        prev2 = toks[sig[n - 2]] if n > 1 else ""
        nxt = toks[sig[n + 1]] if n + 1 < len(sig) else ""
        if t in SHORT_DTYPES and nxt == "[":
            out["dtype"].append(i)
            in_dims = True
        elif in_dims and t == "]":
            in_dims = False
        elif t[0].isdigit() or t[0] == "-" and t != "->" or t == "?":
            out["dim" if in_dims else ("dense" if in_dense else "num")].append(i)
        elif t.startswith("%"):
            out["value"].append(i)
        elif t.startswith('"'):
            out["string"].append(i)
        elif t == "dense":
            in_dense = True
        elif t == ">":
            in_dense = False
        if prev == "=" and prev2 == "]" and t[0].isalpha():
            out["op"].append(i)
        if nxt == "=" and prev in ("{", ",") and t[0].isalpha():
            out["key"].append(i)
        if prev == "=" and prev2 != "]":
            out["attr"].append(i)
    return out


def _matching(toks: list[str], i: int) -> int:
    """Index of the token closing the bracket opened at i (i itself if it opens nothing)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    if toks[i] not in pairs:
        return i
    depth = 0
    for j in range(i, len(toks)):
        depth += (toks[j] == toks[i]) - (toks[j] == pairs[toks[i]])
        if depth == 0:
            return j
    return i


def _plan_one(text: str, rng: random.Random) -> list:
    toks = tokens(text)
    roles = _classify(toks)
    lines = text.split("\n")
    kind = rng.choices(["dim", "num", "dense", "dtype", "op", "value", "key", "attr", "string",
                        "count", "parens", "line", "wrap", "insert"],
                       [6, 4, 3, 4, 5, 3, 2, 4, 2, 3, 2, 4, 1, 2])[0]
    if kind == "parens":
        pool = roles["attr"]
    elif kind == "insert":
        pool = list(range(len(toks)))
    else:
        pool = roles.get(kind) or roles["dense" if kind == "count" else "num"]
    i = rng.choice(pool or [0])
    if kind in ("dim", "num", "dense"):
        new = rng.choice(NUMBERS + (["?"] if kind == "dim" else []))
        return ["tok", i, 1, new]
    if kind == "dtype":
        return ["tok", i, 1, rng.choice(SHORT_DTYPES * 3 + BAD_DTYPES)]
    if kind == "op":
        group = next((g for g in OP_GROUPS if toks[i] in g), None)
        if group and rng.random() < 0.7:
            return ["tok", i, 1, rng.choice(group)]
        return ["tok", i, 1, rng.choice(op_names())]
    if kind == "value":
        top = min(1000, max(int(toks[j][1:]) for j in roles["value"]))
        return ["tok", i, 1, "%" + str(rng.choice([*range(top + 3), 10**20]))]
    if kind == "key":
        keys = sorted({toks[j] for j in roles["key"]})
        return ["tok", i, 1, rng.choice([*keys, "x", toks[i] + "_"])]
    if kind == "attr":
        end = _matching(toks, i)
        return ["tok", i, end - i + 1, rng.choice(ATTR_VALUES)]
    if kind == "string":
        return ["tok", i, 1, rng.choice(STRINGS)]
    if kind == "count":  # one value more or fewer in a constant
        if rng.random() < 0.5 and toks[i + 1:i + 2] == [","]:
            return ["tok", i, 3 if toks[i + 2:i + 3] == [" "] else 2, ""]
        return ["tok", i, 1, ", ".join([toks[i]] * rng.choice([2, 2, 4]))]
    if kind == "parens":
        end = _matching(toks, i)
        d = rng.choice([1, 2, 31, 33, 100, 5000])
        return ["tok", i, end - i + 1, "(" * d + "".join(toks[i:end + 1]) + ",)" * d]
    if kind == "insert":
        return ["tok", i, 0, rng.choice([*toks, " ", "\n", "{", "}", "(", ")", "func", ","])]
    if kind == "wrap":
        # case branches sit in a tuple attribute (tuple nesting is capped at 32); fusion
        # bodies don't, so they reach LoadLimits.max_nesting (64)
        how = rng.choice(["case", "fusion"])
        depth = rng.choice([1, 1, 2, 5, 31, 33] if how == "case" else [1, 1, 2, 5, 63, 64, 65])
        return ["wrap", depth, how, rng.choice(["wrapped", "wrapped", "main", "erf", "f", "x.y"])]
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    return [rng.choice(["dup", "del", "swap", "move"]), a, b]


def plan_ir(data: bytes, rng: random.Random) -> dict:
    entries = open_zip(data)
    member = rng.choice(sorted(n for n in entries if n.endswith(".tfx")))
    text = entries[member].decode("utf-8", "surrogateescape")
    ops = []
    if rng.random() < 0.15:  # case branches are checked less than the graph: mutate in one
        ops.append(["wrap", 1, "case", "wrapped"])
        text = mutate_ir(text, ops)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        op = _plan_one(text, rng)
        ops.append(op)
        text = mutate_ir(text, [op])
    # retag: the StableHLO member then counts as another lowering's and is not compared, so a
    # static signature's mutated IR is also called, not only compiled
    return {"kind": "ir", "member": member, "rehash": rng.random() < 0.9, "ops": ops,
            "retag": rng.random() < 0.5}


def _wrap(text: str, how: str = "case", name: str = "wrapped") -> str:
    """The whole graph as the single branch of a `case` (or the body of a `fusion`) inside a
    new graph of the same type; the region is named `name`."""
    head, _, rest = text.partition("\n")
    m = re.fullmatch(r"func @([\w.]+)\((.*)\) -> \((.*)\) \{", head.strip())
    if not m:
        return text
    args, results = m.group(2), m.group(3)
    names = re.findall(r"(%\d+):", args)
    types = re.findall(r"\w+\[[^\]]*\]", results)
    if not types:
        return text
    outs = [f"%{9_000_001 + k}" for k in range(len(types))]
    inner = f"func @{name}({args}) -> ({results}) {{\n" + \
        "\n".join("  " + ln for ln in rest.split("\n"))
    defs = ", ".join(f"{o}: {t}" for o, t in zip(outs, types))
    if how == "fusion":
        op = f"{defs} = fusion {', '.join(names)} {{body={inner.rstrip()}}}"
    else:
        op = (f"%9000000: i32[] = constant {{value=dense<i32[] [0]>}}\n  {defs} = case "
              f"{', '.join(['%9000000', *names])} {{branches=({inner.rstrip()})}}")
    return f"{head}\n  {op}\n  return {', '.join(outs)}\n}}"


def mutate_ir(text: str, ops: list) -> str:
    for op, *args in ops:
        if op == "tok":
            toks = tokens(text)
            i, n, new = args
            text = "".join(toks[:i]) + new + "".join(toks[i + n:])
        elif op == "wrap":
            for _ in range(args[0]):
                text = _wrap(text, *args[1:])
        else:
            lines = text.split("\n")
            a, b = args[0] % len(lines), args[1] % len(lines)
            if op == "dup":
                lines.insert(a, lines[a])
            elif op == "del":
                del lines[a]
            elif op == "swap":
                lines[a], lines[b] = lines[b], lines[a]
            else:
                lines.insert(b, lines.pop(a))
            text = "\n".join(lines)
    return text


def apply_ir(data: bytes, recipe: dict) -> bytes:
    entries = open_zip(data)
    member = recipe["member"]
    if member not in entries:
        return data
    text = entries[member].decode("utf-8", "surrogateescape")
    entries[member] = mutate_ir(text, recipe["ops"]).encode("utf-8", "surrogateescape")
    if recipe["rehash"]:
        rehash(entries, [member])
    man = read_manifest(entries)
    if recipe.get("retag") and isinstance(man, dict) and isinstance(man.get("functions"), dict):
        for entry in man["functions"].values():
            if isinstance(entry, dict) and entry.get("graph") == member and "stablehlo" in entry:
                entry["stablehlo_lowering"] = "another tfx|cpu|auto"
        entries[MANIFEST] = json.dumps(man, indent=1).encode()
    return close_zip(entries)
