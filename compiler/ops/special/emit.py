"""A small arithmetic vocabulary over MLIR values of one float tensor type, for the special
functions written out in StableHLO (half floats are computed in float32)."""
from __future__ import annotations

from collections.abc import Callable

from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from ...ir.types import BOOL, F32, I32, TensorType
from ...lowering import helpers as H


class Emit:
    """Builders for values of TensorType `t` (constants are splats of `t`)."""

    def __init__(self, t: TensorType):
        self.t = t

    def c(self, v: float) -> ir.Value:
        return H.splat(v, self.t)

    def cmp(self, a: ir.Value, b: ir.Value, direction: str) -> ir.Value:
        return H.compare(a, b, direction, self.t)

    def where(self, p: ir.Value, a: ir.Value, b: ir.Value) -> ir.Value:
        return hlo.select(p, a, b)

    def poly(self, x: ir.Value, coeffs: list[float]) -> ir.Value:
        """sum(coeffs[i] * x**i) by Horner's rule."""
        acc = self.c(coeffs[-1])
        for k in reversed(coeffs[:-1]):
            acc = hlo.add(hlo.multiply(acc, x), self.c(k))
        return acc


def widened(body: Callable[..., ir.Value]) -> Callable:
    """A lowering rule running `body(emit, *xs)` in float32 when the op's type is narrower."""

    def lower(ctx, *xs):
        t = ctx.type_out
        if t.dtype.bits >= 32:
            return body(Emit(t), *xs)
        wide = t.with_dtype(F32)
        xs = [H.convert(x, ti, ti.with_dtype(F32)) for x, ti in zip(xs, ctx.types_in)]
        return H.convert(body(Emit(wide), *xs), wide, t)

    lower.takes_ctx = True  # type: ignore[attr-defined]
    return lower


def iterate(e: Emit, init: list[ir.Value], step: Callable, max_iter: int) -> list[ir.Value]:
    """A stablehlo.while over values of type `e.t`: `step(*values)` returns (new values, a bool
    tensor "not converged yet"); it stops once no element needs more, or after max_iter steps."""
    scalar_i, scalar_b = TensorType(I32, ()), TensorType(BOOL, ())
    types = [H.ir_type(scalar_i), H.ir_type(scalar_b)] + [H.ir_type(e.t)] * len(init)
    w = hlo.WhileOp(types, [H.splat(0, scalar_i), H.splat(True, scalar_b), *init])
    cond = w.regions[0].blocks.append(*types)
    with ir.InsertionPoint(cond):
        i, going = cond.arguments[0], cond.arguments[1]
        more = H.compare(i, H.splat(max_iter, scalar_i), "LT", scalar_i)
        hlo.return_([hlo.and_(more, going)])
    body = w.regions[1].blocks.append(*types)
    with ir.InsertionPoint(body):
        i, values = body.arguments[0], list(body.arguments)[2:]
        new, busy = step(*values)
        bt = e.t.with_dtype(BOOL)
        axes = list(range(bt.rank))
        any_busy = H.reduce([busy], [H.splat(False, scalar_b)], axes, [scalar_b], [scalar_b],
                            lambda acc, v: [hlo.or_(acc, v)])[0] if axes else busy
        hlo.return_([hlo.add(i, H.splat(1, scalar_i)), any_busy, *new])
    return list(w.results)[2:]
