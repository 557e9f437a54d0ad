"""AutoGraph's jump lowering: `break`, `continue` and `return` become flags and guarded code.

Runs on a function's AST before if/while/for conversion (as TensorFlow's AutoGraph does), so
that a jump under a tensor condition can become part of a tx.cond / tx.while_loop:

- `break` sets `__ag_brk_N = True` (False before loop N); `continue` sets `__ag_cont_N = True`
  (False at the top of each iteration); `return v` sets `__ag_do_return = True` and
  `__ag_retval = __ag__.ret(v)`, and the function ends with `return __ag__.retval(...)`.
- The statements after one that may jump run under `if __ag__.not_any(flags):`. When one
  branch of an `if` always jumps, they move into the other branch instead (no extra cond,
  and a returned value is then set on both sides of a tensor `if`).
- A loop whose body may break or return stops on those flags: a `while` test becomes
  `__ag__.and_(__ag__.not_any(flags), lambda: test)` (the test is not evaluated once a flag
  is set, as in Python); a `for` gets them as its `ag_stop` attribute, which the for
  conversion turns into the helper's stop test. `else:` on a loop runs when no break flag
  (and no return) is set.

On Python values the flags stay Python bools and everything runs as the original Python. A
function using `yield`, `await`, `global` or `nonlocal`, or with a jump inside `try` that
leaves the `try`, keeps its jumps as Python (`blocker` says why).

Also here: the liveness that tells the conversion which assigned names a statement must carry
out (`annotate_liveness`), which the flags and the moved statements make matter.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator

DO_RETURN, RETVAL = "__ag_do_return", "__ag_retval"
# Names AutoGraph adds that are real variables (carried through cond / while_loop).
LOOP_FLAG_PREFIXES = ("__ag_brk_", "__ag_cont_")
FLAG_PREFIXES = (*LOOP_FLAG_PREFIXES, DO_RETURN, RETVAL)
_JUMPS = (ast.Break, ast.Continue, ast.Return)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_KEYWORDS = {ast.Yield: "yield", ast.YieldFrom: "yield from", ast.Await: "await",
             ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Return: "return",
             ast.Break: "break", ast.Continue: "continue"}


def walk_local(nodes: list) -> Iterator[ast.AST]:
    """Nodes of these statements, not descending into nested functions/classes/lambdas."""
    stack = list(reversed(nodes))
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, _SCOPES):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(n))))


def keyword(node: ast.AST) -> str:
    """The Python keyword a statement/expression node stands for (for error messages)."""
    return _KEYWORDS.get(type(node), type(node).__name__.lower())


def _escaping_jumps(stmts: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Jumps in `stmts` that leave them: every `return`, and `break`/`continue` outside a
    loop of their own (a loop's `else:` belongs to the enclosing loop)."""
    for s in stmts:
        if isinstance(s, _JUMPS):
            yield s
        elif isinstance(s, _LOOPS):
            yield from (n for n in walk_local(s.body) if isinstance(n, ast.Return))
            yield from _escaping_jumps(s.orelse)
        elif not isinstance(s, _SCOPES):
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                for child in getattr(s, field, ()):
                    if isinstance(child, (ast.ExceptHandler, ast.match_case)):
                        yield from _escaping_jumps(child.body)
                    elif isinstance(child, ast.stmt):
                        yield from _escaping_jumps([child])


def blocker(fdef: ast.FunctionDef, line0: int) -> str | None:
    """Why this function's jumps must stay Python (None if they can be lowered)."""
    for n in walk_local(fdef.body):
        if isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal)):
            return f"uses `{keyword(n)}` (line {n.lineno + line0})"
        if isinstance(n, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            parts = [*n.body, *n.orelse, *n.finalbody]
            parts += [s for h in n.handlers for s in h.body]
            for j in _escaping_jumps(parts):
                return f"has a `{keyword(j)}` inside `try` (line {j.lineno + line0})"
    return None


def _always(stmts: list[ast.stmt]) -> bool:
    """Whether every path through `stmts` ends in a break/continue/return of this block."""
    for s in stmts:
        if isinstance(s, _JUMPS):
            return True
        if isinstance(s, ast.If) and _always(s.body) and _always(s.orelse):
            return True
        if isinstance(s, (ast.With, ast.AsyncWith)) and _always(s.body):
            return True
    return False


# ---------------------------------------------------------------- AST builders
def place(node: ast.AST, like: ast.AST) -> ast.AST:
    """Give the new nodes under `node` the first line of `like` (not its whole span), so that
    errors raised from AutoGraph's helpers name the user statement's first line."""
    for n in ast.walk(node):
        if "lineno" in n._attributes and not hasattr(n, "lineno"):
            n.lineno = n.end_lineno = like.lineno  # type: ignore[attr-defined]
            n.col_offset = n.end_col_offset = like.col_offset  # type: ignore[attr-defined]
    return node


def _name(n: str, store: bool = False) -> ast.Name:
    return ast.Name(n, ast.Store() if store else ast.Load())


def _ag(attr: str) -> ast.Attribute:
    return ast.Attribute(_name("__ag__"), attr, ast.Load())


def _set(name: str, value: ast.expr, like: ast.AST) -> ast.stmt:
    return place(ast.Assign([_name(name, True)], value), like)  # type: ignore[return-value]


def not_any_call(flags: list[str]) -> ast.expr:
    """`__ag__.not_any(flag, ...)`: True while none of the flags is set."""
    return ast.Call(_ag("not_any"), [_name(f) for f in flags], [])


def _guard(flags: set[str], body: list[ast.stmt], like: ast.AST) -> ast.stmt:
    test = place(not_any_call(sorted(flags)), like)
    guard = place(ast.If(test, body, []), like)
    guard.ag_guard = True  # type: ignore[attr-defined]  # its else: the path that jumped
    return guard


# ---------------------------------------------------------------- the lowering
class _Lowering:
    def __init__(self, returns: bool):
        self.returns = returns  # lower `return` too (some return is nested in a statement)
        self.count = 0
        self.loop: tuple[str, str] | None = None  # (break flag, continue flag) of the loop

    def block(self, stmts: list[ast.stmt]) -> tuple[list[ast.stmt], set[str]]:
        """The lowered statements, and the flags they may set (a set flag skips the rest)."""
        out: list[ast.stmt] = []
        may: set[str] = set()
        for i, s in enumerate(stmts):
            rest = stmts[i + 1:]
            if isinstance(s, ast.If) and rest and _always(s.body) != _always(s.orelse):
                # NOTE: one branch always jumps: the rest runs only in the other one
                s = ast.copy_location(ast.If(s.test, s.body, s.orelse), s)
                if _always(s.body):
                    s.orelse = s.orelse + rest
                else:
                    s.body = s.body + rest
                rest = []
            dead = _always([s])  # (read before the lowering replaces the jumps)
            new, flags = self.stmt(s)
            out.extend(new)
            may |= flags
            if not rest:
                break  # (possibly moved into a branch above)
            if flags:
                if dead:
                    break  # the rest never runs
                guarded, more = self.block(rest)
                out.append(_guard(flags, guarded, rest[0]))
                may |= more
                break
        return out, may

    def stmt(self, s: ast.stmt) -> tuple[list[ast.stmt], set[str]]:
        if isinstance(s, ast.Return) and self.returns:
            value = s.value if s.value is not None else ast.copy_location(ast.Constant(None), s)
            ret = place(ast.Call(_ag("ret"), [value], []), s)
            return [_set(DO_RETURN, ast.Constant(True), s), _set(RETVAL, ret, s)], {DO_RETURN}
        if isinstance(s, (ast.Break, ast.Continue)) and self.loop is not None:
            flag = self.loop[0] if isinstance(s, ast.Break) else self.loop[1]
            return [_set(flag, ast.Constant(True), s)], {flag}
        if isinstance(s, (ast.While, ast.For)):
            return self.loop_stmt(s)
        flags: set[str] = set()
        if isinstance(s, _SCOPES):
            return [s], flags
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(s, field, None), list):
                new, f = self.block(getattr(s, field))
                if not new and field == "body":
                    new = [ast.copy_location(ast.Pass(), s)]
                setattr(s, field, new)
                flags |= f
        for child in [*getattr(s, "handlers", ()), *getattr(s, "cases", ())]:
            child.body, f = self.block(child.body)
            flags |= f
        return [s], flags

    def loop_stmt(self, s: ast.While | ast.For) -> tuple[list[ast.stmt], set[str]]:
        self.count += 1
        brk, cont = f"__ag_brk_{self.count}", f"__ag_cont_{self.count}"
        outer, self.loop = self.loop, (brk, cont)
        body, flags = self.block(s.body)
        self.loop = outer
        stop = ([brk] if brk in flags else []) + ([DO_RETURN] if DO_RETURN in flags else [])
        if cont in flags:
            body.insert(0, _set(cont, ast.Constant(False), s.body[0]))
        s.body = body or [ast.copy_location(ast.Pass(), s)]
        pre = [_set(brk, ast.Constant(False), s)] if brk in flags else []
        if stop and isinstance(s, ast.While):
            lazy = ast.Lambda(ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                            kw_defaults=[], kwarg=None, defaults=[]), s.test)
            s.test = place(ast.Call(_ag("and_"), [not_any_call(stop), lazy], []), s.test)
        elif stop:
            s.ag_stop = stop  # type: ignore[attr-defined]  # read by the for conversion
        post: list[ast.stmt] = []
        out_flags = {DO_RETURN} & flags
        if s.orelse:
            orelse, more = self.block(s.orelse)  # break/continue there: the enclosing loop's
            post = [_guard(set(stop), orelse, s.orelse[0])] if stop else orelse
            out_flags |= more
            s.orelse = []
        return [*pre, s, *post], out_flags


def lower_jumps(fdef: ast.FunctionDef, line0: int) -> bool:
    """Lower the jumps of `fdef` in place (`line0`: added to AST lines to get file lines);
    False if there was nothing to lower."""
    body = fdef.body
    nested_return = any(isinstance(n, ast.Return) for s in body if not isinstance(s, ast.Return)
                        for n in walk_local([s]))
    loop_jumps = any(isinstance(n, (ast.Break, ast.Continue)) or
                     (isinstance(n, _LOOPS) and n.orelse) for n in walk_local(body))
    if not (nested_return or loop_jumps) or blocker(fdef, line0) is not None:
        return False
    doc = body[:1] if body and isinstance(body[0], ast.Expr) and \
        isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str) else []
    # (read before the lowering replaces the returns)
    always = _always(body)
    lines = [str(n.lineno + line0) for n in walk_local(body) if isinstance(n, ast.Return)]
    where = ast.Constant(f"'{fdef.name}' (`return` at line{'s' if len(lines) > 1 else ''} "
                         f"{', '.join(lines)})")
    new, _ = _Lowering(nested_return).block(body[len(doc):])
    if nested_return:
        first, last = body[len(doc)] if len(body) > len(doc) else body[0], body[-1]
        final = ast.Return(ast.Call(_ag("retval"), [
            _name(DO_RETURN), _name(RETVAL), ast.Constant(always), where], []))
        final.lineno = final.end_lineno = last.end_lineno or last.lineno
        final.col_offset = final.end_col_offset = 0
        new = [_set(DO_RETURN, ast.Constant(False), first),
               _set(RETVAL, _ag("UNDEFINED"), first), *new, final]
    fdef.body = doc + new
    return True


# ---------------------------------------------------------------- liveness
def _loads(node: ast.AST | list) -> set[str]:
    """Names `node` may read, nested functions and lambdas included (they may run later)."""
    out = set()
    for n in (w for x in (node if isinstance(node, list) else [node]) for w in ast.walk(x)):
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store):
            out.add(n.id)  # Load and Del
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            out.add(n.target.id)
    return out


def _stores(targets: list) -> set[str]:
    return {n.id for t in targets for n in ast.walk(t)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _first_use(stmts: list[ast.stmt], name: str) -> bool | None:
    """Running `stmts`, is `name` maybe read before it is written (True), surely written
    first (False), or neither (None)? Conservative: True when unsure."""
    for s in stmts:
        r = _first_use_stmt(s, name)
        if r is not None:
            return r
    return None


def _first_use_stmt(s: ast.stmt, name: str) -> bool | None:
    if isinstance(s, (ast.Assign, ast.AnnAssign)):
        targets = s.targets if isinstance(s, ast.Assign) else [s.target]
        if (s.value is not None and name in _loads(s.value)) or name in _loads(targets):
            return True
        return False if name in _stores(targets) and s.value is not None else None
    if isinstance(s, ast.If):
        if name in _loads(s.test):
            return True
        a, b = _first_use(s.body, name), _first_use(s.orelse, name)
        return True if a or b else False if a is False and b is False else None
    if isinstance(s, ast.For):
        if name in _loads(s.iter) or name in _loads(s.target) or \
                name in getattr(s, "ag_stop", ()):
            return True
        if name not in _stores([s.target]) and _first_use(s.body, name):
            return True
        return True if _first_use(s.orelse, name) else None
    if isinstance(s, ast.While):
        if name in _loads(s.test) or _first_use(s.body, name) or _first_use(s.orelse, name):
            return True
        return None
    if isinstance(s, ast.With):
        if any(name in _loads(i.context_expr) for i in s.items):
            return True
        if name in _stores([i.optional_vars for i in s.items if i.optional_vars]):
            return False if name not in _loads(s.body) else _first_use(s.body, name)
        return _first_use(s.body, name)
    if name in _loads(s):
        return True
    if isinstance(s, (ast.FunctionDef, ast.ClassDef)) and s.name == name:
        return False
    return None


def _count_loads(nodes: list) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n in (w for x in nodes for w in ast.walk(x)):
        names = [n.id] if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store) else \
            [n.target.id] if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) \
            else getattr(n, "ag_stop", [])  # a for loop's stop test reads its flags
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return counts


def annotate_liveness(fdef: ast.FunctionDef) -> None:
    """Set `ag_dead` on each if/while/for of `fdef` (not of nested functions): the variables
    it assigns that are surely not read afterwards (in a loop: nor by a later iteration).
    Converted statements do not carry those, so a temporary set in one branch only, or an
    inner loop's variable, needs no value on the other path / before the loop. Skipped (all
    carried) when the function reads variables indirectly (`locals()`, `eval`, ...) or
    declares global/nonlocal."""
    if any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in walk_local(fdef.body)) or \
            _loads(fdef.body) & {"locals", "vars", "eval", "exec", "dir"}:
        return
    total = _count_loads([fdef])

    def visit(stmts: list[ast.stmt]) -> None:
        for s in stmts:
            if isinstance(s, _SCOPES):
                continue
            if isinstance(s, (ast.If, ast.While, ast.For)):
                parts = [*s.body, *s.orelse]
                inside = _count_loads(parts)
                assigned = _stores([*parts, s.target] if isinstance(s, ast.For) else parts)
                # NOTE: a name read before it is written inside stays: the converted branch /
                # body function takes it in (and, in a loop, a later iteration reads it)
                s.ag_dead = {  # type: ignore[attr-defined]
                    n for n in assigned
                    if total.get(n, 0) == inside.get(n, 0) and not _first_use([s], n)}
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(s, field, None) or [])
            for child in [*getattr(s, "handlers", ()), *getattr(s, "cases", ())]:
                visit(child.body)

    visit(fdef.body)
