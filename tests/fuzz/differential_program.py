"""A fuzz program (inputs and op-table calls in order), its JSON form and its Python repro."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import tfx_core as tx

from .differential_values import (
    array_source,
    decode_array,
    decode_py,
    encode_array,
    encode_py,
    py_source,
)


@dataclass(frozen=True)
class Ref:
    """An argument that is the value of step `i` (an input or an earlier op's result)."""

    i: int


@dataclass
class Input:
    array: np.ndarray


@dataclass
class Node:
    """A call of op-table entry `op`: fn(*args, **kwargs), then `[take]` for multi-result ops."""

    op: str
    args: list
    kwargs: dict = field(default_factory=dict)
    take: int | None = None


@dataclass
class Program:
    """Steps (inputs and nodes, in order; a value is named by its step index) and the values
    the compiled function returns (the sinks: results no later node uses)."""

    steps: list
    outputs: list[int]
    seed: int | None = None

    @property
    def input_ids(self) -> list[int]:
        return [i for i, s in enumerate(self.steps) if isinstance(s, Input)]

    @property
    def node_ids(self) -> list[int]:
        return [i for i, s in enumerate(self.steps) if isinstance(s, Node)]

    # ------------------------------------------------------------ JSON
    def to_json(self) -> dict:
        steps = []
        for s in self.steps:
            if isinstance(s, Input):
                steps.append({"input": encode_array(s.array)})
            else:
                steps.append({"op": s.op, "args": [_enc_arg(a) for a in s.args],
                              "kwargs": {k: encode_py(v) for k, v in s.kwargs.items()},
                              "take": s.take})
        return {"seed": self.seed, "steps": steps, "outputs": list(self.outputs)}

    @classmethod
    def from_json(cls, d: dict) -> Program:
        steps: list = []
        for s in d["steps"]:
            if "input" in s:
                steps.append(Input(decode_array(s["input"])))
            else:
                steps.append(Node(s["op"], [_dec_arg(a) for a in s["args"]],
                                  {k: decode_py(v) for k, v in s.get("kwargs", {}).items()},
                                  s.get("take")))
        return cls(steps, list(d["outputs"]), d.get("seed"))

    def dumps(self) -> str:
        return json.dumps(self.to_json())

    # ------------------------------------------------------------ human-readable forms
    def describe(self) -> str:
        """One line per step: `v3 = add(v0, v2)` with input dtypes and shapes."""
        lines = [f"# seed={self.seed}  outputs={', '.join(f'v{i}' for i in self.outputs)}"]
        for i, s in enumerate(self.steps):
            if isinstance(s, Input):
                a = s.array
                lines.append(f"v{i} = input {a.dtype}{list(a.shape)}")
            else:
                lines.append(f"v{i} = {_call_source(s)}")
        return "\n".join(lines)

    def snippet(self) -> str:
        """A self-contained script running the program eagerly and compiled (public tfx calls;
        the op table only for a call without a public spelling)."""
        body = [f"    v{i} = {_call_source(s, table=True)}" for i, s in enumerate(self.steps)
                if isinstance(s, Node)]
        out = ["import ml_dtypes", "import numpy as np", "import tfx_core as tx"]
        if any("ENTRY[" in line for line in body):  # an op without a public spelling
            out.append("from tests.fuzz.differential_catalog import ENTRY")
        out += ["", "", "def program(" + ", ".join(f"v{i}" for i in self.input_ids) + "):"]
        out += body
        out.append("    return (" + "".join(f"v{i}, " for i in self.outputs) + ")")
        out.append("")
        for i in self.input_ids:
            out.append(f"a{i} = {array_source(self.steps[i].array)}")
        out.append("inputs = [" + ", ".join(f"tx.constant(a{i})" for i in self.input_ids) + "]")
        out += ["", 'if __name__ == "__main__":', "    eager = program(*inputs)",
                "    compiled = tx.function(program)(*inputs)",
                "    for e, c in zip(eager, compiled):",
                "        print(e.numpy(), c.numpy(), sep='\\n', end='\\n\\n')"]
        return "\n".join(out)


def _enc_arg(a: Any) -> Any:
    return {"__ref__": a.i} if isinstance(a, Ref) else encode_py(a)


def _dec_arg(a: Any) -> Any:
    if isinstance(a, dict) and "__ref__" in a:
        return Ref(a["__ref__"])
    return decode_py(a)


def _call_source(node: Node, table: bool = False) -> str:
    """`op(v0, v1, axis=1)`, or with `table` the public tfx call (`tx.add(v0, v1)`)."""
    args = [f"v{a.i}" if isinstance(a, Ref) else py_source(a) for a in node.args]
    kwargs = [f"{k}={py_source(v)}" for k, v in node.kwargs.items()]
    take = "" if node.take is None else f"[{node.take}]"
    if table:
        call = call_source(node.op, args, kwargs)
        return f"({call}){take}" if take and not call.endswith(")") else f"{call}{take}"
    return f"{node.op}({', '.join([*args, *kwargs])}){take}"


# ---------------------------------------------------------------- public-API source (repros)
# Entries whose function is a lambda in the op table: the same call in public tfx terms.
TEMPLATES = {
    "op_add": "{0} + {1}", "op_sub": "{0} - {1}", "op_mul": "{0} * {1}", "op_truediv": "{0} / {1}",
    "op_floordiv": "{0} // {1}", "op_mod": "{0} % {1}", "op_pow": "{0} ** {1}",
    "op_pow_int": "{0} ** {1}", "op_lt": "{0} < {1}", "op_le": "{0} <= {1}", "op_gt": "{0} > {1}",
    "op_ge": "{0} >= {1}", "op_eq": "{0} == {1}", "op_ne": "{0} != {1}", "op_and": "{0} & {1}",
    "op_or": "{0} | {1}", "op_xor": "{0} ^ {1}", "op_neg": "-{0}", "op_abs": "abs({0})",
    "op_invert": "~{0}", "op_pos": "+{0}", "scalar_add": "{0} + 1", "scalar_radd": "1 + {0}",
    "scalar_rmul": "2 * {0}", "scalar_rsub_float": "1.5 - {0}", "scalar_sub": "{0} - 1",
    "scalar_truediv": "{0} / 2", "scalar_rtruediv": "1 / {0}", "scalar_floordiv": "{0} // 2",
    "scalar_mod": "{0} % -3", "scalar_pow": "{0} ** 2", "scalar_lt": "{0} < 1",
    "scalar_req": "0 == {0}", "scalar_and": "{0} & 6", "scalar_bool_or": "{0} | False",
    "getitem": "{0}[{1}]", "concat": "tx.concat([{args}], {kwargs})",
    "stack": "tx.stack([{args}], {kwargs})", "cast": "tx.cast({0}, {kwargs})",
}
_NAMESPACES = (("tx", tx), ("tx.math", tx.math), ("tx.nn", tx.nn), ("tx.linalg", tx.linalg))


def _public_name(fn) -> str | None:
    for prefix, mod in _NAMESPACES:
        for name in dir(mod):
            if not name.startswith("_") and getattr(mod, name, None) is fn:
                return f"{prefix}.{name}"
    return None


def call_source(op_name: str, args: list[str], kwargs: list[str]) -> str:
    """Python source of one call in public terms (args and kwargs already rendered)."""
    if op_name in TEMPLATES:
        return TEMPLATES[op_name].format(*args, args=", ".join(args), kwargs=", ".join(kwargs))
    from .differential_catalog import ENTRY  # (the op table imports all of tfx_core)

    name = _public_name(ENTRY[op_name].fn) or f"ENTRY[{op_name!r}].fn"
    return f"{name}({', '.join([*args, *kwargs])})"
