"""Parser for exactly the printer's text, so pass tests can be text in -> text out.

It also reads graphs from files nobody vouches for (saved models), so it enforces
`ParseLimits` as it reads: op count, region nesting, constant bytes and tensor sizes are
checked before anything of that size is built, and every failure is a ParseError.
"""
from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .graph import ConstArray, Graph, Op, Value, freeze_attrs
from .types import DType, TensorType

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<comment>\#[^\n]*)
    | (?P<dense>dense<[^<>]*>)
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


@dataclass(frozen=True)
class ParseLimits:
    """What one graph text may hold (None: unbounded)."""

    max_ops: int | None = None  # ops, nested regions included
    max_nesting: int | None = None  # regions inside regions
    max_constant_bytes: int | None = None  # all dense<...> constants together
    max_tensor_bytes: int | None = None  # any one tensor type (elements x item size)


NO_LIMITS = ParseLimits()
MAX_TUPLE_NESTING = 32  # the printer nests attribute tuples a few levels at most


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
    def __init__(self, text: str, limits: ParseLimits = NO_LIMITS):
        self.toks = _tokenize(text)
        self.i = 0
        self.limits = limits
        self.ops = 0
        self.nesting = 0
        self.tuple_depth = 0
        self.constant_bytes = 0

    def _over(self, what: str, value: int, limit: int | None) -> None:
        if limit is not None and value > limit:
            raise ParseError(f"{what} ({value:,}) exceeds the limit of {limit:,}")

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
            elif k == "number" and d.isdigit() and len(d) <= 19:
                dims.append(int(d))
            else:
                raise ParseError(f"bad dimension {d!r} in type {t}[...]")
            self.accept(",")
        size = dt.np_dtype.itemsize
        for d in dims:
            size *= d or 1
        if size >= 1 << 62:  # int64 products overflow past this (XLA's shapes are int64)
            raise ParseError(f"type {t}{list(dims)} is too large ({size:,} bytes)")
        self._over(f"type {t}{list(dims)} in bytes", size, self.limits.max_tensor_bytes)
        return TensorType(dt, tuple(dims))

    def scalar(self, tok: tuple[str, str]) -> Any:
        k, t = tok
        if t in ("true", "false"):
            return t == "true"
        if k == "number" or t in ("nan", "inf"):
            try:
                return float(t) if any(c in t for c in ".eEn") else int(t)
            except ValueError:  # e.g. more digits than Python converts
                raise ParseError(f"bad number {t[:40]!r}") from None
        raise ParseError(f"expected a number, got {t!r}")

    def attr(self, env: dict[str, Value]) -> Any:
        k, t = self.peek()
        if t == "(":
            self.next()
            self.tuple_depth += 1
            if self.tuple_depth > MAX_TUPLE_NESTING:
                raise ParseError("attribute tuples nested too deeply")
            items = []
            while not self.accept(")"):
                items.append(self.attr(env))
                self.accept(",")
            self.tuple_depth -= 1
            return tuple(items)
        if k == "string":
            self.next()
            try:
                return json.loads(t)
            except ValueError as e:
                raise ParseError(f"bad string {t[:40]!r}: {e}") from None
        if k == "dense":  # one token: a constant's values are parsed by numpy, not per token
            self.next()
            return self.dense(t)
        if t == "func":
            self.nesting += 1
            self._over("region nesting", self.nesting, self.limits.max_nesting)
            outer_tuples, self.tuple_depth = self.tuple_depth, 0  # counted per region
            try:
                return self.graph()
            finally:
                self.nesting -= 1
                self.tuple_depth = outer_tuples
        self.next()
        if t == "none":
            return None
        if k == "ident" and t not in ("true", "false", "nan", "inf"):
            try:
                return DType.from_short(t)
            except KeyError:
                raise ParseError(f"unknown attribute value {t!r}") from None
        return self.scalar((k, t))

    def dense(self, tok: str) -> ConstArray:
        """`dense<f32[2,3] [1.0, 2.0, ...]>` as a ConstArray, within the limits."""
        inner = tok[len("dense<"):-1]
        head, bracket, rest = inner.partition("] [")
        if not bracket or not rest.rstrip().endswith("]"):
            raise ParseError(f"bad constant {tok[:60]!r}")
        sub = _Parser(head + "]", self.limits)
        ty = sub.type()
        if sub.peek()[0] != "eof":
            raise ParseError(f"bad constant type in {tok[:60]!r}")
        if None in ty.shape:
            raise ParseError(f"dense<{ty}> must have a static shape")
        n = 1
        for d in ty.shape:  # NOTE: Python ints: a numpy product can overflow to 0
            n *= d
        self.constant_bytes += n * ty.dtype.np_dtype.itemsize
        self._over("constant bytes", self.constant_bytes, self.limits.max_constant_bytes)
        return ConstArray(_dense_values(rest.rstrip()[:-1], n, ty))

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
            while not self.accept("="):  # an op without results (effect_sink) starts with "="
                _, name = self.next()
                self.expect(":")
                out_names.append(name)
                out_types.append(self.type())
                if not self.accept(","):
                    self.expect("=")
                    break
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
            self.ops += 1
            self._over("op count", self.ops, self.limits.max_ops)
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
        after = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else ("eof", "")
        if self.peek()[0] != "value" or after == ("punct", ":"):  # "%n:" defines the next op
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


def _dense_values(body: str, n: int, ty: TensorType) -> np.ndarray:
    """The n values of a constant, converted as a whole (no Python object per value: a
    constant may hold millions); exactly representable in its dtype, or refused."""
    dt = ty.dtype
    try:
        if not body.strip():
            flat = np.zeros(0, dt.np_dtype)
        elif dt.is_bool:
            words = [w.strip() for w in body.split(",")]
            if not set(words) <= {"true", "false"}:
                raise ValueError("bool constants are true or false")
            flat = np.array([w == "true" for w in words], dtype=np.bool_)
        elif dt.is_floating:
            flat = _numbers(body, np.float64).astype(dt.np_dtype)
        elif dt.is_complex:  # interleaved real, imaginary parts (as printed)
            parts = _numbers(body, np.float64).astype(dt.real_dtype.np_dtype)
            if parts.size % 2:
                raise ValueError("complex constants need a real and an imaginary part each")
            flat = parts.view(dt.np_dtype)
        else:
            wide_dt = np.dtype(np.uint64 if dt.is_unsigned else np.int64)
            wide = _numbers(body, wide_dt)
            info = np.iinfo(wide_dt)
            if np.any((wide == info.max) | (wide == info.min)):  # saturated: parse exactly
                wide = np.array([int(w) for w in body.split(",")], dtype=wide_dt)
            flat = wide.astype(dt.np_dtype)
            if not np.array_equal(flat.astype(wide_dt), wide):
                raise ValueError(f"a value is out of range for {dt.name}")
    except (ValueError, OverflowError, TypeError) as e:
        raise ParseError(f"dense<{ty}>: {e}") from None
    if flat.size != n:
        raise ParseError(f"dense<{ty}> needs {n:,} values, got {flat.size:,}")
    return flat.reshape(ty.shape)


def _numbers(body: str, dtype: np.dtype) -> np.ndarray:
    """Comma-separated numbers; anything else (a stray word, a fraction in an integer) is a
    ValueError (numpy's warning that it stopped early, as an error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        try:
            return np.fromstring(body, dtype=dtype, sep=",")
        except DeprecationWarning as w:
            raise ValueError(str(w)) from None


def parse_graph(text: str, limits: ParseLimits = NO_LIMITS) -> Graph:
    """Parse the printer's text form back into a Graph (op types as written).

    Raises:
        ParseError: malformed text, or text holding more than `limits` allow.
    """
    p = _Parser(text, limits)
    try:
        g = p.graph()
    except RecursionError:
        raise ParseError("regions nested too deeply to read") from None
    if p.peek()[0] != "eof":
        raise ParseError(f"trailing text after graph: {p.peek()[1]!r}")
    return g
