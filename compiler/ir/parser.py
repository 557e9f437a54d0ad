"""Parser for exactly the printer's text, so pass tests can be text in -> text out."""
from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from .graph import ConstArray, Graph, Op, Value, freeze_attrs
from .types import DType, TensorType

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<comment>\#[^\n]*)
    | (?P<value>%\d+)
    | (?P<sym>@[\w.]+)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?(?:\d+\.\d*(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|\d+)|-inf)
    | (?P<ident>[A-Za-z_][\w.]*)
    | (?P<arrow>->)
    | (?P<punct>[()\[\]{},:=<>?])
    )""",
    re.VERBOSE,
)


class ParseError(ValueError):
    pass


def _tokenize(text: str) -> list[tuple[str, str]]:
    toks, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ParseError(f"unexpected character at {pos}: {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind != "comment":
            toks.append((kind, m.group(kind)))
    return toks


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", "")

    def next(self) -> tuple[str, str]:
        t = self.peek()
        self.i += 1
        return t

    def expect(self, text: str) -> None:
        k, t = self.next()
        if t != text:
            raise ParseError(f"expected {text!r}, got {t!r}")

    def accept(self, text: str) -> bool:
        if self.peek()[1] == text:
            self.i += 1
            return True
        return False

    def type(self) -> TensorType:
        k, t = self.next()
        if k != "ident":
            raise ParseError(f"expected a type, got {t!r}")
        try:
            dt = DType.from_short(t)
        except KeyError:
            raise ParseError(f"unknown dtype {t!r}") from None
        self.expect("[")
        dims: list[int | None] = []
        while not self.accept("]"):
            k, d = self.next()
            if d == "?":
                dims.append(None)
            elif k == "number" and d.isdigit():
                dims.append(int(d))
            else:
                raise ParseError(f"bad dimension {d!r} in type {t}[...]")
            self.accept(",")
        return TensorType(dt, tuple(dims))

    def scalar(self, tok: tuple[str, str]) -> Any:
        k, t = tok
        if t in ("true", "false"):
            return t == "true"
        if k == "number" or t in ("nan", "inf"):
            return float(t) if any(c in t for c in ".eEn") else int(t)
        raise ParseError(f"expected a number, got {t!r}")

    def attr(self, env: dict[str, Value]) -> Any:
        k, t = self.peek()
        if t == "(":
            self.next()
            items = []
            while not self.accept(")"):
                items.append(self.attr(env))
                self.accept(",")
            return tuple(items)
        if k == "string":
            self.next()
            return json.loads(t)
        if t == "dense":
            self.next()
            self.expect("<")
            ty = self.type()
            self.expect("[")
            vals = []
            while not self.accept("]"):
                vals.append(self.scalar(self.next()))
                self.accept(",")
            self.expect(">")
            n = int(np.prod(ty.shape, dtype=np.int64))
            if len(vals) != n:
                raise ParseError(f"dense<{ty}> needs {n} values, got {len(vals)}")
            arr = np.array(vals, dtype=ty.dtype.np_dtype).reshape(ty.shape)
            return ConstArray(arr)
        if t == "func":
            return self.graph()
        self.next()
        if t == "none":
            return None
        if k == "ident" and t not in ("true", "false", "nan", "inf"):
            return DType.from_short(t)
        return self.scalar((k, t))

    def graph(self) -> Graph:
        from ..registry import get_op

        self.expect("func")
        k, sym = self.next()
        if k != "sym":
            raise ParseError(f"expected @name after func, got {sym!r}")
        env: dict[str, Value] = {}
        self.expect("(")
        inputs = []
        while not self.accept(")"):
            _, name = self.next()
            self.expect(":")
            v = Value(self.type())
            self._define(env, name, v)
            inputs.append(v)
            self.accept(",")
        self.expect("->")
        self.expect("(")
        declared = []
        while not self.accept(")"):
            declared.append(self.type())
            self.accept(",")
        self.expect("{")
        ops = []
        while True:
            if self.accept("return"):
                outputs = self._value_list(env)
                self.expect("}")
                got = [v.type for v in outputs]
                if got != declared:
                    raise ParseError(f"@{sym[1:]} declares results {list(map(str, declared))} "
                                     f"but returns {list(map(str, got))}")
                return Graph(tuple(inputs), tuple(ops), tuple(outputs), sym[1:])
            out_names, out_types = [], []
            while True:
                _, name = self.next()
                self.expect(":")
                out_names.append(name)
                out_types.append(self.type())
                if not self.accept(","):
                    break
            self.expect("=")
            _, opname = self.next()
            try:
                opdef = get_op(opname)
            except KeyError:
                raise ParseError(f"unknown op {opname!r}") from None
            ins = self._value_list(env)
            attrs = {}
            if self.accept("{"):
                while not self.accept("}"):
                    _, key = self.next()
                    self.expect("=")
                    attrs[key] = self.attr(env)
                    self.accept(",")
            outs = tuple(Value(t) for t in out_types)
            for n, v in zip(out_names, outs):
                self._define(env, n, v)
            ops.append(Op(opdef, tuple(ins), freeze_attrs(attrs), outs))

    @staticmethod
    def _define(env: dict[str, Value], name: str, v: Value) -> None:
        if name in env:
            raise ParseError(f"value {name} is defined twice")
        env[name] = v

    def _value_list(self, env: dict[str, Value]) -> list[Value]:
        """`%1, %2, ...`: operands continue only after a comma (the next line starts with %)."""
        vals: list[Value] = []
        if self.peek()[0] != "value":
            return vals
        vals.append(self._use(env, self.next()[1]))
        while self.accept(","):
            vals.append(self._use(env, self.next()[1]))
        return vals

    @staticmethod
    def _use(env: dict[str, Value], name: str) -> Value:
        if name not in env:
            raise ParseError(f"use of undefined value {name}")
        return env[name]


def parse_graph(text: str) -> Graph:
    """Parse the printer's text form back into a Graph (op types as written)."""
    p = _Parser(text)
    g = p.graph()
    if p.peek()[0] != "eof":
        raise ParseError(f"trailing text after graph: {p.peek()[1]!r}")
    return g
