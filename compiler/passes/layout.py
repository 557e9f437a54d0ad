"""Transposes fold into dots/reductions and sink through elementwise ops to cancel."""
from __future__ import annotations

import numpy as np

from ..ir.graph import ConstArray, Graph, Op, Value
from ..registry import (
    ELEMENTWISE,
    LAYOUT_PRESERVING,
    ORDER_INDEPENDENT,
    REDUCTION,
    REGISTRY,
    SHAPE_OP,
)
from .manager import graph_pass
from .rewrite import MAX_ROUNDS, RewriteCtx, Rule, new_op, rewrite_to_fixpoint
from .simplify import compose_transposes

# The attrs a reduction rule understands; a reduction with others is left alone.
REDUCE_ATTRS = (frozenset({"axes", "keepdims"}), frozenset({"axis", "output_type"}))


def _commutes_with_transpose(traits: frozenset) -> bool:
    """A transpose of the operands can move to the result (attrs name no dimension)."""
    return ELEMENTWISE in traits or LAYOUT_PRESERVING in traits


def _identity(perm) -> bool:
    return list(perm) == sorted(perm)


def _free_dims(rank: int, batch, contract) -> list[int]:
    return [d for d in range(rank) if d not in batch and d not in contract]


def _num(shape) -> int | None:
    """Elements of a shape, None when a dim is unknown."""
    return None if None in shape else int(np.prod(shape, dtype=np.int64))


def _bits(t) -> int | None:
    n = t.num_elements
    return None if n is None else n * t.dtype.bits


def _moves_only_unit_dims(t: Op) -> bool:
    """The transpose keeps the order of its non-unit dims: the same bytes, a relabeling."""
    x = t.inputs[0].type.shape
    dims = [p for p in t.attr_dict["perm"] if x[p] != 1]
    return dims == sorted(dims)


def _ends_as(ops: list[Op], op: Op) -> list[Op] | None:
    """`ops`, the last one taking over op's outputs, if its type is op's (else no rewrite)."""
    last = ops[-1]
    if tuple(v.type for v in last.outputs) != tuple(v.type for v in op.outputs):
        return None
    ops[-1] = last.replace(outputs=op.outputs)
    return ops


class _Layout:
    """The rules of one run. `live_out` holds the graph's outputs: a transpose that is also
    returned stays alive, so it counts as having another user."""

    def __init__(self, g: Graph):
        self.live_out = set(g.outputs)
        self.frozen: set[Value] = set()  # values whose layout decides a float sum's order
        for op in g.ops:
            if self.order_matters(op):
                self.freeze(op.inputs[0], g.producers())
        self._ctx: RewriteCtx | None = None
        self._varies: dict[Value, bool] = {}  # per sweep: does the value depend on inputs

    def rules(self) -> dict[str, Rule]:
        table: dict[str, Rule] = {"transpose": self.transpose, "dot_general": self.dot}
        for name, opdef in REGISTRY.items():
            if _commutes_with_transpose(opdef.traits) and not opdef.multiple_results:
                table[name] = self.elementwise
            elif REDUCTION in opdef.traits and not opdef.multiple_results:
                table[name] = self.reduce
        return table

    @staticmethod
    def order_matters(op: Op) -> bool:
        """A float sum or product: its bits depend on the order it visits elements in."""
        traits = op.opdef.traits
        return REDUCTION in traits and ORDER_INDEPENDENT not in traits \
            and op.inputs[0].type.dtype.is_floating

    def freeze(self, v: Value, producers: dict[Value, Op]) -> None:
        """Keep the transposes between v and its elementwise / shape op ancestors in place.

        XLA moves transposes through such ops and folds them into a reduction itself, reducing
        in whatever layout it ends up with: for a float sum or product that decides the
        order of the additions. Moving our transposes in that region moves XLA's result.
        """
        stack = [v]
        while stack:
            u = stack.pop()
            if u in self.frozen:
                continue
            self.frozen.add(u)
            op = producers.get(u)
            if op is not None and (_commutes_with_transpose(op.opdef.traits)
                                   or SHAPE_OP in op.opdef.traits):
                stack.extend(op.inputs)

    def sole_use(self, v: Value, op: Op, c: RewriteCtx) -> bool:
        """Nothing but `op` uses v: rewriting `op` lets v die."""
        return v not in self.live_out and c.num_users(v) == op.inputs.count(v)

    def varies(self, v: Value, c: RewriteCtx) -> bool:
        """v depends on a graph input's values (else XLA may fold it to a constant first)."""
        if c is not self._ctx:
            self._ctx, self._varies = c, {}
        memo, stack = self._varies, [v]
        while stack:
            u = stack[-1]
            op = c.producer.get(u)
            if u in memo or op is None:  # not made by an op: a graph input
                memo.setdefault(u, True)
                stack.pop()
                continue
            ins = () if op.name == "shape_of" else \
                op.inputs[:1] if op.name == "broadcast_like" else op.inputs  # values used
            todo = [w for w in ins if w not in memo]
            if todo:
                stack.extend(todo)
                continue
            for o in op.outputs:
                memo[o] = any(memo[w] for w in ins)
            stack.pop()
        return memo[v]

    # ------------------------------------------------------------ transpose
    def transpose(self, op: Op, c: RewriteCtx):
        res = compose_transposes(op, c)  # compose, or cancel a pair
        if res is None:
            res = self._transpose_of_splat(op, c)
        if isinstance(res, Value) and op.outputs[0] in self.live_out:
            # the driver substitutes res for a returned value: res is returned now
            self.live_out.add(res)
        return res

    def _transpose_of_splat(self, op: Op, c: RewriteCtx):
        """A splat has no layout: broadcast (or make) it in the transposed shape directly."""
        x = op.inputs[0]
        out = op.outputs[0].type
        b = c.op(x, "broadcast_to")
        if b is not None and all(d == 1 for d in b.inputs[0].type.shape):
            return [new_op("broadcast_to", b.inputs, {"shape": out.shape}, op, op.outputs)]
        a = c.const(x)
        # only a single-use constant: otherwise both would stay, a second copy of the data
        if a is not None and a.size and a.reshape(-1)[:1].tobytes() * a.size == a.tobytes() \
                and self.sole_use(x, op, c):  # bit-identical elements: -0.0 is no 0.0
            arr = np.full(out.shape, a.flat[0], a.dtype)
            return [new_op("constant", (), {"value": ConstArray(arr)}, op, op.outputs)]
        return None

    # ------------------------------------------------------------ dot_general
    def dot(self, op: Op, c: RewriteCtx):
        """Fold an operand's transpose into the dimension numbers.

        Only when the result keeps its layout: the folded operand's free dims must stay in
        increasing order (the output lists them that way). For floats, also only where XLA
        computes the same sums. Measured on CPU (XLA folds transposes into its dots itself,
        where its kernels allow): products of computed values whose operands have no unit dims
        and > 1 free elements each are bit-identical in any operand layout. A matrix-vector
        product picks another kernel (summation order) for a transposed matrix, a unit batch
        dim another path, and a transpose of a constant becomes a new constant before XLA
        looks at the dot: those differ in the last bit. A transpose that moves only unit dims
        changes nothing.
        """
        attrs = op.attr_dict
        inputs = list(op.inputs)
        free_sizes = []
        for side, v in zip(("lhs", "rhs"), op.inputs):
            free = _free_dims(v.type.rank, attrs[f"{side}_batch"], attrs[f"{side}_contract"])
            free_sizes.append(_num([v.type.shape[d] for d in free]))
        gemm = all(n is not None and n > 1 for n in free_sizes) and \
            all(d is not None and d > 1 for v in op.inputs for d in v.type.shape)
        exact = not op.outputs[0].type.dtype.is_floating
        changed = False
        for i, side in enumerate(("lhs", "rhs")):
            t = c.op(op.inputs[i], "transpose")
            if t is None or not (exact or _moves_only_unit_dims(t)
                                 or (gemm and self.varies(t.inputs[0], c))):
                continue
            p = t.attr_dict["perm"]
            batch, contract = attrs[f"{side}_batch"], attrs[f"{side}_contract"]
            free = [p[d] for d in _free_dims(len(p), batch, contract)]
            if free != sorted(free):
                continue  # the output's dims would come out in another order
            attrs[f"{side}_batch"] = tuple(p[d] for d in batch)
            attrs[f"{side}_contract"] = tuple(p[d] for d in contract)
            inputs[i] = t.inputs[0]
            changed = True
        if not changed:
            return None
        return _ends_as([new_op("dot_general", tuple(inputs), attrs, op)], op)

    # ------------------------------------------------------------ reductions
    def reduce(self, op: Op, c: RewriteCtx):
        """reduce(transpose(x, p), axes) -> reduce(x, p[axes]), then the kept dims' order.

        Not for float sums and products: XLA's CPU reductions add in an order that depends on
        the operand's layout (measured: row and column reductions of the same values differ in
        the last bit once rows are long, over several dims, even through a transpose of unit
        dims). Integer sums and products wrap, so any order is exact; so are ORDER_INDEPENDENT
        reductions (max/min, and/or, argmax/argmin).
        """
        x = op.inputs[0]
        t = c.op(x, "transpose")
        attrs = op.attr_dict
        if t is None or frozenset(attrs) not in REDUCE_ATTRS:
            return None
        p, src = t.attr_dict["perm"], t.inputs[0]
        arg = "axis" in attrs
        axes = (attrs["axis"],) if arg else attrs["axes"]
        if self.order_matters(op):
            return None
        mapped = [p[a] for a in axes]
        keepdims = bool(attrs.get("keepdims", False))
        new_attrs = {**attrs, "axis": mapped[0]} if arg else \
            {**attrs, "axes": tuple(sorted(mapped)), "keepdims": False}
        kept = [p[j] for j in range(len(p)) if j not in axes]  # x's dims, in output order
        order = tuple(sorted(kept).index(d) for d in kept)
        out = op.outputs[0].type
        red = new_op(op.opdef.name, (src,), new_attrs, op)
        if _identity(order) and not keepdims:
            return _ends_as([red], op)
        if not self.sole_use(x, op, c):
            return None  # the transpose stays: an op after the reduction would be extra work
        if _identity(order) and out.is_static:  # only unit dims move: a reshape (a bitcast)
            after = new_op("reshape", red.outputs, {"shape": out.shape}, op)
        elif keepdims:  # reducing with keepdims commutes with the transpose itself
            red = new_op(op.opdef.name, (src,), {**new_attrs, "keepdims": True}, op)
            after = new_op("transpose", red.outputs, {"perm": p}, op)
        else:
            after = new_op("transpose", red.outputs, {"perm": order}, op)
        return _ends_as([red, after], op)

    # ------------------------------------------------------------ elementwise
    def elementwise(self, op: Op, c: RewriteCtx):
        """op(transpose(x, p), transpose(y, p), scalar, constant) -> transpose(op(x, y, ...), p).

        Every operand must be a full-rank transpose by the same p, a rank-0 value (broadcasts
        in any layout) or a constant (transposed here, at compile time). Non-scalar operands of
        lower rank would need an expand_dims + transpose each: refused. Done only when it adds
        no work: the transposes die (no other users) and the one transpose left moves no more
        data than they did. Nor upstream of a float sum or product (see `freeze`).
        """
        out = op.outputs[0].type
        if op.outputs[0] in self.frozen:
            return None
        perm, moved = None, {}
        for v in op.inputs:
            t = c.op(v, "transpose")
            if t is not None and v.type.rank == out.rank:
                if perm is not None and t.attr_dict["perm"] != perm:
                    return None
                perm = t.attr_dict["perm"]
                moved[v] = t.inputs[0]
            elif v.type.rank and c.const(v) is None:
                return None
        if perm is None or not all(self.sole_use(v, op, c) for v in moved):
            return None
        consts = list(dict.fromkeys(v for v in op.inputs if v not in moved and v.type.rank))
        # a constant used elsewhere stays, so its transposed copy is one more op
        extra = sum(not self.sole_use(v, op, c) for v in consts)
        if 1 + extra > len(moved):
            return None
        sizes = [_bits(v.type) for v in moved]
        if not (any(v.type.shape == out.shape for v in moved)
                or (None not in sizes and _bits(out) is not None and _bits(out) <= sum(sizes))):
            return None  # broadcasting made the result bigger than the transposes it replaces
        inv = tuple(int(i) for i in np.argsort(perm))
        new_consts: dict[Value, Op] = {}
        for v in consts:
            a = c.const(v)
            a = a.reshape((1,) * (out.rank - a.ndim) + a.shape)  # numpy aligns trailing dims
            arr = np.ascontiguousarray(np.transpose(a, inv))
            new_consts[v] = new_op("constant", (), {"value": ConstArray(arr)}, op)
        inputs = tuple(moved[v] if v in moved else
                       new_consts[v].outputs[0] if v in new_consts else v for v in op.inputs)
        inner = new_op(op.opdef.name, inputs, op.attr_dict, op)
        tr = new_op("transpose", inner.outputs, {"perm": perm}, op)
        return _ends_as([*new_consts.values(), inner, tr], op)


@graph_pass("layout")
def layout(g: Graph) -> Graph:
    """Apply the layout rules until nothing changes (at most MAX_ROUNDS sweeps)."""
    return rewrite_to_fixpoint(g, _Layout(g).rules(), "layout", MAX_ROUNDS)
