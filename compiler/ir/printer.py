"""The one stable text form of the IR: `%2: f32[2,3] = mul %0, %1 {axis=1}`."""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from .graph import SCOPE_MARK, ConstArray, Graph, Value, loc_scope
from .types import DType


def format_scalar(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    return str(int(x))


def format_attr(v: Any, indent: str = "") -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return format_scalar(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, DType):
        return v.short
    if isinstance(v, tuple):
        if len(v) == 1:
            return f"({format_attr(v[0], indent)},)"
        return "(" + ", ".join(format_attr(x, indent) for x in v) + ")"
    if isinstance(v, ConstArray):
        a = v.array
        dt = DType.from_numpy(a.dtype)
        dims = ",".join(str(d) for d in a.shape)
        flat = a.reshape(-1)
        if dt.is_complex:  # interleaved real, imaginary parts
            flat = flat.view(dt.real_dtype.np_dtype)
        body = ", ".join(format_scalar(x) for x in flat.tolist())
        return f"dense<{dt.short}[{dims}] [{body}]>"
    if isinstance(v, Graph):
        inner = print_graph(v, indent=indent + "  ")
        return inner.strip()
    raise TypeError(f"cannot print attribute {v!r}")


def print_graph(g: Graph, locs: bool = False, indent: str = "") -> str:
    """Print a graph deterministically: names %0, %1, ... in definition order."""
    names: dict[Value, str] = {}

    def name(v: Value) -> str:
        if v not in names:
            names[v] = f"%{len(names)}"
        return names[v]

    for v in g.inputs:
        name(v)
    args = ", ".join(f"{names[v]}: {v.type}" for v in g.inputs)
    results = ", ".join(str(v.type) for v in g.outputs)
    lines = [f"{indent}func @{g.name}({args}) -> ({results}) {{"]
    for op in g.ops:
        for v in op.outputs:
            name(v)
        outs = ", ".join(f"{names[v]}: {v.type}" for v in op.outputs)
        text = f"{indent}  {outs} = {op.name}"
        if op.inputs:
            text += " " + ", ".join(names.get(v, "%<undefined>") for v in op.inputs)
        if op.attrs:
            attrs = ", ".join(f"{k}={format_attr(a, indent + '  ')}" for k, a in op.attrs)
            text += f" {{{attrs}}}"
        if locs and op.loc:
            text += f"  # {op.loc}"
        elif op.loc and SCOPE_MARK in op.loc:  # ops in a tx.name_scope: TF's node name
            text += f"  # {loc_scope(op.loc)}/{op.name}"
        lines.append(text)
    lines.append(f"{indent}  return " + ", ".join(names.get(v, "%<undefined>") for v in g.outputs))
    lines.append(f"{indent}}}")
    return "\n".join(lines)
