"""AutoGraph: Python control flow on tensors inside `@tx.function` becomes cond / while_loop.

`if` / `elif` / `else`, `while`, `for` over `tx.range` or a tensor, `break`, `continue`, early
`return` and `and` / `or` / `not` in conditions are rewritten in the function's AST (line
numbers kept); on Python values they run as Python, as in TensorFlow. `assert` on a tensor
becomes tx.debugging.Assert (as TF); comprehensions over a tensor or `tx.range` are unrolled at
trace time when their length is static (TF refuses them in a tf.function; see
autograph/listcomp_assert.py).

First `autograph_jumps` lowers `break` / `continue` / `return` to boolean flags and guarded
statements. Then each `if` / `while` / `for` becomes functions of the names it assigns
(passed in and returned), plus a call to a helper in `autograph_runtime` that decides at trace
time: a symbolic tensor condition or iterable makes a region, anything else runs the Python
statement. The flags are ordinary variables, so they stay Python bools until a tensor
condition sets them.

Left as Python: statements containing `yield`, `await`, `global` or `nonlocal`, and every jump
of a function using those or jumping out of a `try` (see autograph_jumps.blocker); a tensor
condition there is an error naming the line and the reason.
"""
from __future__ import annotations

import ast
import dis
import inspect
import textwrap
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from tfx_core.autograph.jumps import (
    FLAG_PREFIXES,
    LOOP_FLAG_PREFIXES,
    annotate_liveness,
    blocker,
    keyword,
    lower_jumps,
    not_any_call,
    place,
    walk_local,
)

__all__ = ["to_code"]


# statements / expressions the conversion rewrites (a function with none is run as written)
_CONVERTED = (ast.If, ast.While, ast.For, ast.IfExp, ast.Assert, ast.comprehension)
_SKIP = (ast.Return, ast.Break, ast.Continue, ast.Yield, ast.YieldFrom, ast.Global,
         ast.Nonlocal, ast.Await)


# ---------------------------------------------------------------- analysis
def _assigned(nodes: list) -> list[str]:
    """Names the statements assign, less AutoGraph's own functions and the break/continue
    flags of loops inside them (set to False there before use, so not carried out)."""
    names: dict[str, None] = {}
    local = set()
    # a comprehension's own variables live in its scope
    in_comp = {id(t) for n in walk_local(nodes) if isinstance(n, ast.comprehension)
               for t in ast.walk(n.target)}
    for n in walk_local(nodes):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and id(n) not in in_comp:
            names[n.id] = None
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[n.name] = None
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) and \
                n.value.value is False and isinstance(n.targets[0], ast.Name) and \
                n.targets[0].id.startswith(LOOP_FLAG_PREFIXES):
            local.add(n.targets[0].id)
    return [k for k in names if (not k.startswith("__ag") or k.startswith(FLAG_PREFIXES))
            and k not in local]


def _logical(test: ast.expr) -> ast.expr:
    """`a and b` / `a or b` / `not a` of an if / while test as __ag__.and_ / or_ / not_ calls
    (Python's, short-circuit included, unless an operand is a symbolic tensor)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return place(ast.Call(_ag_attr("not_"), [_logical(test.operand)], []), test)
    if not isinstance(test, ast.BoolOp):
        return test
    helper = "and_" if isinstance(test.op, ast.And) else "or_"
    out = _logical(test.values[-1])
    for v in reversed(test.values[:-1]):
        lazy = ast.Lambda(ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                        kw_defaults=[], kwarg=None, defaults=[]), out)
        out = place(ast.Call(_ag_attr(helper), [_logical(v), lazy], []), test)
    return out


def _ag_attr(name: str) -> ast.Attribute:
    return ast.Attribute(ast.Name("__ag__", ast.Load()), name, ast.Load())


def _live(node: ast.AST, names: list[str], keep: Any = ()) -> list[str]:
    """The names a converted statement carries: less those the liveness marked dead."""
    dead = getattr(node, "ag_dead", set()) - set(keep)
    return [n for n in names if n not in dead]


def _convertible(nodes: list[ast.stmt]) -> bool:
    return not any(isinstance(n, _SKIP) for n in walk_local(nodes))


# ---------------------------------------------------------------- the rewrite
class _Rewrite(ast.NodeTransformer):
    def __init__(self, line0: int, blocked: str | None) -> None:
        self.count = 0
        self.wrapped = 0  # tests left as Python but checked by py_cond
        self.line0, self.blocked = line0, blocked
        self.nested = 0  # inside a function defined in the converted one

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        self.nested += 1
        try:
            return self.generic_visit(node)
        finally:
            self.nested -= 1

    def _fn(self, name: str, params: list[str], body: list[ast.stmt], ret: list[str],
            like: ast.AST) -> ast.FunctionDef:
        args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params], vararg=None,
                             kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
        returns = ast.Return(ast.Tuple([ast.Name(r, ast.Load()) for r in ret], ast.Load()))
        fn = ast.FunctionDef(name=name, args=args, body=list(body) or [ast.Pass()],
                             decorator_list=[], returns=None)
        fn.body.append(returns)
        place(returns, like)
        return place(fn, like)  # type: ignore[return-value]

    def _call(self, helper: str, args: list[ast.expr], names: list[str], like: ast.AST,
              keywords: list[ast.keyword] | None = None) -> ast.stmt:
        vals = ast.Call(_ag_attr("vars_of"),
                        [ast.Call(ast.Name("locals", ast.Load()), [], []),
                         ast.Tuple([ast.Constant(n) for n in names], ast.Load())], [])
        call = ast.Call(_ag_attr(helper),
                        [*args, vals, ast.Tuple([ast.Constant(n) for n in names], ast.Load())],
                        keywords or [])
        target = ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())
        stmt = ast.Assign([target], call) if names else ast.Expr(call)
        return place(stmt, like)  # type: ignore[return-value]

    def _left_as_python(self, node: ast.If | ast.While, nodes: list[ast.stmt],
                        what: str = "") -> ast.stmt:
        """Keep `node` as Python, with a test that explains why if it turns out a tensor."""
        bad = next((n for n in walk_local(nodes) if isinstance(n, _SKIP)), None)
        why = f"AutoGraph keeps {what} as Python" if what or bad is None else \
            f"its body contains `{keyword(bad)}` (line {bad.lineno + self.line0}), which " \
            "AutoGraph keeps as Python"
        jump = what or isinstance(bad, (ast.Return, ast.Break, ast.Continue))
        if self.nested and jump:
            why += " in functions defined inside the converted one"
        elif self.blocked and jump:
            why += f" in this function because it {self.blocked}"
        why = f"this `{keyword(node)}` has a tensor condition, but AutoGraph cannot make it a " \
              f"tx.cond / tx.while_loop: {why}"
        node.test = place(ast.Call(
            _ag_attr("py_cond"),
            [node.test, ast.Constant(why)], []), node.test)
        self.wrapped += 1
        return node

    def visit_If(self, node: ast.If) -> Any:
        self.generic_visit(node)
        if not _convertible(node.body + node.orelse):
            return self._left_as_python(node, node.body + node.orelse)
        k = self.count = self.count + 1
        names = _live(node, _assigned(node.body + node.orelse))
        t = self._fn(f"__ag_if_true_{k}", names, node.body, names, node)
        f = self._fn(f"__ag_if_false_{k}", names, node.orelse, names, node)
        guard = [ast.keyword("guard", ast.Constant(True))] if getattr(node, "ag_guard", False) \
            else []
        call = self._call("if_stmt", [node.test, ast.Name(t.name, ast.Load()),
                                      ast.Name(f.name, ast.Load())], names, node, guard)
        return [t, f, call]

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        """`a if test else b` -> __ag__.if_exp(test, lambda: a, lambda: b): tx.cond when the
        test is a symbolic tensor, Python's conditional expression otherwise."""
        self.generic_visit(node)
        self.count += 1
        no_args = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                kw_defaults=[], kwarg=None, defaults=[])
        call = ast.Call(_ag_attr("if_exp"), [node.test, ast.Lambda(no_args, node.body),
                                              ast.Lambda(no_args, node.orelse)], [])
        return place(call, node)

    def visit_Assert(self, node: ast.Assert) -> Any:
        """`assert test, msg` -> __ag__.assert_stmt(test, lambda: msg): tx.debugging.Assert
        when test is a tensor (as TF's AutoGraph), Python's assert otherwise."""
        self.generic_visit(node)
        self.count += 1
        no_args = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                kw_defaults=[], kwarg=None, defaults=[])
        msg = node.msg if node.msg is not None else ast.Constant(None)
        call = ast.Call(_ag_attr("assert_stmt"), [node.test, ast.Lambda(no_args, msg)], [])
        return place(ast.Expr(place(call, node)), node)

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        """`for x in it if t` of a comprehension -> `for x in __ag__.comp_iter(it) if
        __ag__.comp_if(t)` (comp_range(f, args) for `f(args)` spelled `<module>.range(...)`):
        unrolled at trace time when the length is static, a clear error when it is not."""
        self.generic_visit(node)
        self.count += 1
        it = node.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and \
                it.func.attr == "range" and not it.keywords and 1 <= len(it.args) <= 3 and \
                not any(isinstance(a, ast.Starred) for a in it.args):
            call = ast.Call(_ag_attr("comp_range"), [it.func, ast.Tuple(list(it.args),
                                                                         ast.Load())], [])
        else:
            call = ast.Call(_ag_attr("comp_iter"), [it], [])
        node.iter = place(call, it)  # type: ignore[assignment]
        node.ifs = [place(ast.Call(_ag_attr("comp_if"), [t], []), t) for t in node.ifs]
        return node

    def visit_While(self, node: ast.While) -> Any:
        self.generic_visit(node)
        if not _convertible(node.body + node.orelse):
            return self._left_as_python(node, node.body + node.orelse)
        if node.orelse:  # (only when jumps were not lowered)
            return self._left_as_python(node, node.orelse, "`while ... else`")
        k = self.count = self.count + 1
        names = _live(node, _assigned(node.body))
        cond = self._fn(f"__ag_while_cond_{k}", names, [], [], node)
        cond.body = [place(ast.Return(node.test), node)]
        body = self._fn(f"__ag_while_body_{k}", names, node.body, names, node)
        call = self._call("while_stmt", [ast.Name(cond.name, ast.Load()),
                                         ast.Name(body.name, ast.Load())], names, node)
        return [cond, body, call]

    def visit_For(self, node: ast.For) -> Any:
        self.generic_visit(node)
        stop = getattr(node, "ag_stop", None)
        if node.orelse or not _convertible(node.body):
            assert stop is None, "autograph: a for loop with lowered jumps must be converted"
            return node
        k = self.count = self.count + 1
        names = _live(node, _assigned([node.target, *node.body]), stop or ())
        it = node.iter
        ranged = isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and \
            it.func.attr == "range" and not it.keywords and 1 <= len(it.args) <= 3
        bind_item = place(ast.Assign([node.target], ast.Name("__ag_item", ast.Load())), node)
        body = self._fn(f"__ag_for_body_{k}", ["__ag_item", *names], [bind_item, *node.body],
                        names, node)
        defs: list[ast.stmt] = [body]
        stop_fn: ast.expr = ast.Constant(None)
        if stop:  # break / return inside: the loop also stops once a flag is set
            test = self._fn(f"__ag_for_stop_{k}", names, [], [], node)
            test.body = [place(ast.Return(not_any_call(stop)), node)]
            defs.insert(0, test)
            stop_fn = ast.Name(test.name, ast.Load())
        # the loop variable, if carried, is names[0]: a tensor loop gives it a start value
        first = [ast.keyword("target", ast.Constant(True))] if isinstance(
            node.target, ast.Name) and names[:1] == [node.target.id] else []
        if ranged:  # tx.range(n): a counted loop, even for a tensor n (as TF)
            call = self._call("for_range", [ast.Tuple(list(it.args), ast.Load()),
                                            ast.Name(body.name, ast.Load()), stop_fn], names,
                              node, first)
        else:
            call = self._call("for_stmt", [node.iter, ast.Name(body.name, ast.Load()),
                                           stop_fn], names, node, first)
        return [*defs, call]


# ---------------------------------------------------------------- conversion
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Converted:
    def __init__(self, factory: Callable, source: str, fn: Callable):
        self.factory, self.source, self.fn = factory, source, fn

    def __call__(self) -> Callable:
        """The converted function with the original's current closure values."""
        from tfx_core.autograph import runtime as autograph_runtime

        cells = [c.cell_contents for c in (self.fn.__closure__ or ())]
        out = self.factory(autograph_runtime, *cells)
        out.__defaults__ = self.fn.__defaults__
        out.__kwdefaults__ = self.fn.__kwdefaults__
        return out


_CONVERTING = threading.RLock()


def convert(fn: Callable) -> _Converted | None:
    """The converted function's factory, or None if fn has no control flow to convert (or no
    source: REPL lambdas, builtins)."""
    if fn in _CACHE:
        return _CACHE[fn]
    # NOTE: CPython 3.11's ast module is not thread-safe (gh-106905: two threads converting
    # at once get "SystemError: AST constructor recursion depth mismatch"): one at a time.
    with _CONVERTING:
        result = _convert(fn)
    try:
        _CACHE[fn] = result
    except TypeError:
        pass
    return result


def _convert(fn: Callable) -> _Converted | None:
    code = getattr(fn, "__code__", None)
    if code is None or fn.__name__ == "<lambda>":
        return None
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        if _branches(code):
            warnings.warn(f"tx.function: AutoGraph cannot read the source of {fn.__name__!r} "
                          f"({code.co_filename}:{code.co_firstlineno}), so its Python if/while/"
                          "for stay Python: a tensor condition in them will fail. Define it in "
                          "a file, or use tx.cond / tx.while_loop", stacklevel=4)
        return None
    fdef = tree.body[0] if tree.body else None
    if not isinstance(fdef, ast.FunctionDef) or not any(
            isinstance(n, _CONVERTED) for n in walk_local(fdef.body)):
        return None
    fdef.decorator_list = []
    # Defaults are evaluated where the def runs (our factory, which lacks the enclosing locals
    # they may name); the originals' values are put back on the converted function instead.
    fdef.args.defaults = [ast.Constant(None) for _ in fdef.args.defaults]
    fdef.args.kw_defaults = [None if d is None else ast.Constant(None)
                             for d in fdef.args.kw_defaults]
    line0 = code.co_firstlineno - 1
    _prepare(fdef, fn, code)
    blocked = blocker(fdef, line0)
    lower_jumps(fdef, line0)
    annotate_liveness(fdef)
    rewrite = _Rewrite(line0, blocked)
    fdef.body = [s for stmt in fdef.body for s in _as_list(rewrite.visit(stmt))]
    if not rewrite.count and not rewrite.wrapped:
        return None
    factory = ast.FunctionDef(
        name="__ag_factory",
        args=ast.arguments(posonlyargs=[], args=[ast.arg("__ag__")] +
                           [ast.arg(v) for v in code.co_freevars], vararg=None, kwonlyargs=[],
                           kw_defaults=[], kwarg=None, defaults=[]),
        body=[fdef, ast.Return(ast.Name(fdef.name, ast.Load()))], decorator_list=[],
        returns=None)
    module = ast.Module([factory], [])
    ast.fix_missing_locations(module)
    ast.increment_lineno(module, line0)
    namespace: dict[str, Any] = {}
    exec(compile(module, code.co_filename, "exec"), fn.__globals__, namespace)  # noqa: S102
    return _Converted(namespace["__ag_factory"], ast.unparse(fdef), fn)


def _branches(code: Any) -> bool:
    """The bytecode has a conditional jump (an if, loop, and/or): something to convert."""
    return any(("JUMP" in i.opname and "IF" in i.opname) or i.opname == "FOR_ITER"
               for i in dis.get_instructions(code))


def _prepare(fdef: ast.FunctionDef, fn: Callable, code: Any) -> None:
    """Source fixes before the conversion moves code into nested functions: private names
    mangled, zero-argument super() spelled out, and/or/not in if / while tests converted."""
    _mangle_private_names(fdef, fn)
    first = (fdef.args.posonlyargs + fdef.args.args)[:1]
    for n in walk_local(fdef.body):
        # zero-argument super() reads the enclosing function's first argument, which inside
        # a branch / loop-body function is not `self`
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "super" \
                and not n.args and not n.keywords and first and "__class__" in code.co_freevars:
            n.args = [place(ast.Name("__class__", ast.Load()), n),
                      place(ast.Name(first[0].arg, ast.Load()), n)]
        # (not around `:=`, `yield` or `await`: a lambda would change what they do)
        if isinstance(n, (ast.If, ast.While)) and not any(
                isinstance(e, (ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await))
                for e in ast.walk(n.test)):
            n.test = _logical(n.test)


def _mangle_private_names(fdef: ast.FunctionDef, fn: Callable) -> None:
    """`self.__x` in a method means `self._Class__x`: Python mangles it when compiling inside
    the class body, which the converted source is not."""
    parts = getattr(fn, "__qualname__", "").split(".")
    cls = parts[-2].lstrip("_") if len(parts) > 1 and parts[-2] != "<locals>" else ""
    if not cls:
        return

    def mangled(name: str | None) -> bool:
        return bool(name) and name.startswith("__") and not name.endswith("__")

    for n in ast.walk(fdef):
        for field in ("attr", "id", "arg"):  # Attribute, Name, arg / keyword
            if isinstance(getattr(n, field, None), str) and mangled(getattr(n, field)):
                setattr(n, field, f"_{cls}{getattr(n, field)}")


def _as_list(x: Any) -> list:
    return x if isinstance(x, list) else [x]


def to_code(f: Any) -> str:
    """The source AutoGraph runs for `f` (a tx.function or a Python function)."""
    fn = getattr(f, "python_function", f)
    fn = getattr(fn, "_ag_fn", fn)
    conv = convert(fn)
    return conv.source if conv is not None else textwrap.dedent(inspect.getsource(fn))


