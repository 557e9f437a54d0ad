"""AutoGraph: inside `@tx.function`, Python `if` / `while` / `for` on tensors become tx.cond /
tx.while_loop, by rewriting the function's AST (line numbers kept); on Python values they run
as Python, as in TensorFlow.

Each converted statement becomes functions of the names it assigns (passed in and returned),
plus a call to a runtime helper below that decides at trace time: a symbolic tensor condition
or iterable makes a region, anything else runs the Python statement. Statements containing
`break`, `continue`, `return`, `yield`, `global` or `nonlocal` are left as Python (a tensor
condition there raises the usual "tensor as a Python bool" error).
"""
from __future__ import annotations

import ast
import inspect
import textwrap
import weakref
from collections.abc import Callable
from typing import Any

from compiler.tracing import user_location

__all__ = ["to_code"]


class _Undefined:
    def __repr__(self) -> str:
        return "<undefined>"


UNDEFINED = _Undefined()
_SKIP = (ast.Return, ast.Break, ast.Continue, ast.Yield, ast.YieldFrom, ast.Global,
         ast.Nonlocal, ast.Await)


# ---------------------------------------------------------------- analysis
def _walk_local(nodes: list[ast.stmt]):
    """Nodes of these statements, not descending into nested functions/classes/lambdas."""
    stack = list(reversed(nodes))
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(n))))


def _assigned(nodes: list[ast.stmt]) -> list[str]:
    names: dict[str, None] = {}
    for n in _walk_local(nodes):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names[n.id] = None
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[n.name] = None
    return [k for k in names if not k.startswith("__ag")]


def _convertible(nodes: list[ast.stmt]) -> bool:
    return not any(isinstance(n, _SKIP) for n in _walk_local(nodes))


# ---------------------------------------------------------------- the rewrite
class _Rewrite(ast.NodeTransformer):
    def __init__(self) -> None:
        self.count = 0

    def _fn(self, name: str, params: list[str], body: list[ast.stmt], ret: list[str],
            like: ast.AST) -> ast.FunctionDef:
        args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params], vararg=None,
                             kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
        returns = ast.Return(ast.Tuple([ast.Name(r, ast.Load()) for r in ret], ast.Load()))
        fn = ast.FunctionDef(name=name, args=args, body=list(body) or [ast.Pass()],
                             decorator_list=[], returns=None)
        fn.body.append(returns)
        for n in (fn, returns):
            ast.copy_location(n, like)
        return fn

    def _call(self, helper: str, args: list[ast.expr], names: list[str],
              like: ast.AST) -> ast.stmt:
        vals = ast.Call(ast.Attribute(ast.Name("__ag__", ast.Load()), "vars_of", ast.Load()),
                        [ast.Call(ast.Name("locals", ast.Load()), [], []),
                         ast.Tuple([ast.Constant(n) for n in names], ast.Load())], [])
        call = ast.Call(ast.Attribute(ast.Name("__ag__", ast.Load()), helper, ast.Load()),
                        [*args, vals, ast.Tuple([ast.Constant(n) for n in names], ast.Load())],
                        [])
        target = ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())
        stmt = ast.Assign([target], call) if names else ast.Expr(call)
        return ast.copy_location(stmt, like)

    def visit_If(self, node: ast.If) -> Any:
        self.generic_visit(node)
        if not _convertible(node.body + node.orelse):
            return node
        k = self.count = self.count + 1
        names = _assigned(node.body + node.orelse)
        t = self._fn(f"__ag_if_true_{k}", names, node.body, names, node)
        f = self._fn(f"__ag_if_false_{k}", names, node.orelse, names, node)
        call = self._call("if_stmt", [node.test, ast.Name(t.name, ast.Load()),
                                      ast.Name(f.name, ast.Load())], names, node)
        return [t, f, call]

    def visit_While(self, node: ast.While) -> Any:
        self.generic_visit(node)
        if node.orelse or not _convertible(node.body):
            return node
        k = self.count = self.count + 1
        names = _assigned(node.body)
        cond = self._fn(f"__ag_while_cond_{k}", names, [], [], node)
        cond.body = [ast.copy_location(ast.Return(node.test), node)]
        body = self._fn(f"__ag_while_body_{k}", names, node.body, names, node)
        call = self._call("while_stmt", [ast.Name(cond.name, ast.Load()),
                                         ast.Name(body.name, ast.Load())], names, node)
        return [cond, body, call]

    def visit_For(self, node: ast.For) -> Any:
        self.generic_visit(node)
        if node.orelse or not _convertible(node.body):
            return node
        k = self.count = self.count + 1
        names = [n for n in _assigned([node.target, *node.body])]
        it = node.iter
        ranged = isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and \
            it.func.attr == "range" and not it.keywords and 1 <= len(it.args) <= 3
        bind_item = ast.copy_location(ast.Assign([node.target], ast.Name("__ag_item",
                                                                         ast.Load())), node)
        body = self._fn(f"__ag_for_body_{k}", ["__ag_item", *names], [bind_item, *node.body],
                        names, node)
        if ranged:  # tx.range(n): a counted loop, even for a tensor n (as TF)
            call = self._call("for_range", [ast.Tuple(list(it.args), ast.Load()),
                                            ast.Name(body.name, ast.Load())], names, node)
        else:
            call = self._call("for_stmt", [node.iter, ast.Name(body.name, ast.Load())], names,
                              node)
        return [body, call]


# ---------------------------------------------------------------- conversion
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Converted:
    def __init__(self, factory: Callable, source: str, fn: Callable):
        self.factory, self.source, self.fn = factory, source, fn

    def __call__(self) -> Callable:
        """The converted function with the original's current closure values."""
        from . import autograph

        cells = [c.cell_contents for c in (self.fn.__closure__ or ())]
        out = self.factory(autograph, *cells)
        out.__defaults__ = self.fn.__defaults__
        out.__kwdefaults__ = self.fn.__kwdefaults__
        return out


def convert(fn: Callable) -> _Converted | None:
    """The converted function's factory, or None if fn has no control flow to convert (or no
    source: REPL lambdas, builtins)."""
    if fn in _CACHE:
        return _CACHE[fn]
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
        return None
    fdef = tree.body[0] if tree.body else None
    if not isinstance(fdef, ast.FunctionDef) or not any(
            isinstance(n, (ast.If, ast.While, ast.For)) for n in _walk_local(fdef.body)):
        return None
    fdef.decorator_list = []
    rewrite = _Rewrite()
    fdef.body = [s for stmt in fdef.body for s in _as_list(rewrite.visit(stmt))]
    if not rewrite.count:
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
    ast.increment_lineno(module, code.co_firstlineno - 1)
    namespace: dict[str, Any] = {}
    exec(compile(module, code.co_filename, "exec"), fn.__globals__, namespace)  # noqa: S102
    return _Converted(namespace["__ag_factory"], ast.unparse(fdef), fn)


def _as_list(x: Any) -> list:
    return x if isinstance(x, list) else [x]


def to_code(f: Any) -> str:
    """The source AutoGraph runs for `f` (a tx.function or a Python function)."""
    fn = getattr(f, "python_function", f)
    fn = getattr(fn, "_ag_fn", fn)
    conv = convert(fn)
    return conv.source if conv is not None else textwrap.dedent(inspect.getsource(fn))


# ---------------------------------------------------------------- runtime helpers
def vars_of(local: dict, names: tuple) -> tuple:
    return tuple(local.get(n, UNDEFINED) for n in names)


def _symbolic(x: Any) -> bool:
    from .tensor import Tensor

    return isinstance(x, Tensor) and x._buf is None


def _tensors(values: tuple, names: tuple, what: str) -> tuple:
    from .convert import convert_to_tensor

    out = []
    for n, v in zip(names, values):
        if v is UNDEFINED:
            raise ValueError(f"{what}: '{n}' must be defined before the statement, because "
                             f"its condition is a tensor ({user_location()})")
        try:
            out.append(convert_to_tensor(v))
        except (TypeError, ValueError) as e:
            raise TypeError(f"{what}: '{n}' is a {type(v).__name__}; variables a tensor-"
                            f"dependent statement changes must be tensors ({user_location()})"
                            ) from e
    return tuple(out)


def if_stmt(test: Any, true_fn: Callable, false_fn: Callable, values: tuple,
            names: tuple) -> tuple:
    if not _symbolic(test):
        return true_fn(*values) if test else false_fn(*values)
    from .control_flow_ops import cond

    def branch(fn: Callable, which: str) -> Callable:
        def run():
            out = fn(*values)
            missing = [n for n, v in zip(names, out) if v is UNDEFINED]
            if missing:
                raise ValueError(f"if on a tensor: {missing} must be set in both branches "
                                 f"(the {which} branch leaves them undefined) "
                                 f"({user_location()})")
            return _tensors(out, names, "if on a tensor")
        return run

    return tuple(cond(test, branch(true_fn, "true"), branch(false_fn, "false")))


def while_stmt(cond_fn: Callable, body_fn: Callable, values: tuple, names: tuple) -> tuple:
    test = cond_fn(*values)
    if not _symbolic(test):
        while test:
            values = body_fn(*values)
            test = cond_fn(*values)
            if _symbolic(test):
                raise TypeError(f"while: the condition became a tensor inside a Python loop "
                                f"({user_location()}); make it a tensor from the start")
        return values
    from .control_flow_ops import while_loop

    return tuple(while_loop(lambda *v: cond_fn(*v), lambda *v: tuple(body_fn(*v)),
                            _tensors(values, names, "while on a tensor")))


def for_stmt(iterable: Any, body_fn: Callable, values: tuple, names: tuple) -> tuple:
    if not _symbolic(iterable):
        for item in iterable:
            values = body_fn(item, *values)
        return values
    from .control_flow_ops import _row, while_loop
    from .convert import convert_to_tensor

    n = iterable.shape[0] if iterable.shape.rank else None
    if n is None:
        raise TypeError(f"for over a tensor needs a static leading dimension, got "
                        f"{iterable._type} ({user_location()})")
    # the loop variable (and other names bound only in the body) start as row 0's type
    init = tuple(v if v is not UNDEFINED else _row(iterable, convert_to_tensor(0))
                 if k == 0 else v for k, v in enumerate(values))
    state = (convert_to_tensor(0), *_tensors(init, names, "for over a tensor"))

    def body(i, *v):
        return (i + 1, *body_fn(_row(iterable, i), *v))

    out = while_loop(lambda i, *v: i < n, body, state, maximum_iterations=n)
    return tuple(out[1:])


def for_range(args: tuple, body_fn: Callable, values: tuple, names: tuple) -> tuple:
    """`for i in tx.range(...)`: in a trace, a while_loop over an int32 counter (the bounds
    may be tensors); otherwise a Python range loop."""
    from .variables import _active_trace

    if _active_trace() is None:
        for item in range(*[int(a) for a in args]):
            values = body_fn(item, *values)
        return values
    from .control_flow_ops import while_loop
    from .convert import convert_to_tensor
    from .graph_trace import get_static_value

    start, limit, delta = (0, args[0], 1) if len(args) == 1 else \
        (args[0], args[1], 1) if len(args) == 2 else args
    d = get_static_value(convert_to_tensor(delta)) if not isinstance(delta, int) else delta
    if d is None or int(d) == 0:
        raise ValueError(f"for over tx.range: the step must be a non-zero constant "
                         f"({user_location()})")
    d = int(d)
    start, limit = convert_to_tensor(start), convert_to_tensor(limit)
    s0, l0 = get_static_value(start), get_static_value(limit)
    trips = max(-(-(int(l0) - int(s0)) // d), 0) if s0 is not None and l0 is not None \
        else None
    init = tuple(v if v is not UNDEFINED or k else start for k, v in enumerate(values))
    state = (start, *_tensors(init, names, "for over tx.range"))

    def more(i, *v):
        from .math_ops import greater, less

        return less(i, limit) if d > 0 else greater(i, limit)

    def body(i, *v):
        return (i + d, *body_fn(i, *v))

    return tuple(while_loop(more, body, state, maximum_iterations=trips)[1:])
