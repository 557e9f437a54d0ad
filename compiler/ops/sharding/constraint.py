"""`sharding_constraint`: the identity, telling XLA's partitioner how its result is split.

Attrs: `mesh` ((axis name, size), ...), `spec` (per dimension, the mesh axes splitting it) and
`devices` (the mesh's device ids, opaque to the compiler: its caller's program runs on them).
Lowered on one device (no sharding plan, e.g. a saved model run unsharded) it is a no-op.
"""
from __future__ import annotations

from ...interpreters import bind
from ...lowering.sharding import check_spec, constrain
from ...registry import FINITE_PRESERVING, PURE, OpDef, OpTypeError, register


def _infer(x, *, mesh, spec, devices):
    try:
        check_spec(spec, x.shape, mesh, "relayout")
    except ValueError as e:
        raise OpTypeError(str(e)) from None
    return x


def _lower(ctx, x, *, mesh, spec, devices):
    plan = ctx.sharding
    if plan is None:
        return x
    if tuple(plan.mesh) != tuple(mesh):
        raise ValueError(f"a layout on mesh {list(mesh)} inside a program over mesh "
                         f"{list(plan.mesh)}: one program runs on one mesh")
    return constrain(x, spec)


def _vjp(ctx, g, *, mesh, spec, devices):
    # the cotangent is split the same way (as the value it flows back to)
    return (bind(sharding_constraint_op, g, mesh=mesh, spec=spec, devices=devices),)


sharding_constraint_op = register(
    OpDef(
        "sharding_constraint",
        infer=_infer,
        lower=_lower,
        reference=lambda x, **_: x,
        vjp=_vjp,
        traits=frozenset({PURE, FINITE_PRESERVING}),
    )
)
