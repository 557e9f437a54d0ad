"""Matrix products (tf.linalg.matmul), lowered to one `dot_general`."""
from __future__ import annotations

from typing import Any

from compiler.ir.types import broadcast_shapes, dims_compatible
from compiler.ops import linalg as L
from tfx_core.framework.operands import Tensor, binary_operands, bind
from tfx_core.ops.arguments import op_error

TensorLike = Any


def _flags(transpose_a: bool, transpose_b: bool) -> str:
    shown = [f"transpose_{n}=True" for n, t in (("a", transpose_a), ("b", transpose_b)) if t]
    return f" ({', '.join(shown)})" if shown else ""


def matmul(a: TensorLike, b: TensorLike, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, output_type: Any = None,
           name: str | None = None) -> Tensor:
    """Matrix product of the last two dims, batch dims broadcast like NumPy (tf.linalg.matmul)."""
    a, b = binary_operands("matmul", a, b)
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)  # real dtypes only
    if a.dtype is not b.dtype:
        raise op_error("matmul", f"dtypes differ: {a.type} @ {b.type} (use tx.cast)", TypeError)
    if not (a.dtype.is_floating or a.dtype.is_integer):
        raise op_error("matmul", f"expected numeric tensors, got {a.type} @ {b.type}", TypeError)
    if output_type is not None and output_type != a.dtype:
        raise op_error("matmul", f"output_type {output_type} differs from the input dtype in "
                    f"{a.type} @ {b.type}", TypeError)
    if a.ndim < 2 or b.ndim < 2:
        raise op_error("matmul", f"both operands need rank >= 2, got {a.type} @ {b.type}")
    ra, rb = a.ndim, b.ndim
    ka, ma = (ra - 2, ra - 1) if ta else (ra - 1, ra - 2)
    kb = rb - 1 if tb else rb - 2
    if not dims_compatible(a.shape[ka], b.shape[kb]):
        raise op_error("matmul", f"inner dimensions differ: {a.type} @ {b.type}{_flags(ta, tb)}")
    ba, bb = tuple(a.shape[:-2]), tuple(b.shape[:-2])
    if not bb:  # [..., M, K] @ [K, N]: contract directly, no broadcast needed
        return _dot(a, b, (), (), ka, kb)
    if not ba:  # [M, K] @ [..., K, N] gives [M, ..., N]: move M next to N
        from tfx_core.ops.array_ops import transpose

        out = _dot(a, b, (), (), ka, kb)
        n = len(bb)
        return transpose(out, (*range(1, n + 1), 0, n + 1))
    batch = broadcast_shapes(ba, bb)
    if batch is None:
        raise op_error("matmul", f"batch dimensions do not broadcast: {a.type} @ {b.type}")
    a = _broadcast_batch(a, ba, batch, b)
    b = _broadcast_batch(b, bb, batch, a)
    nb = len(batch)
    return _dot(a, b, tuple(range(nb)), tuple(range(nb)), ka - ra + nb + 2, kb - rb + nb + 2)


def _dot(a: Tensor, b: Tensor, lb: tuple, rb: tuple, ka: int, kb: int) -> Tensor:
    return bind(L.dot_general_op, a, b, lhs_batch=lb, rhs_batch=rb,
                lhs_contract=(ka,), rhs_contract=(kb,))


def _broadcast_batch(x: Tensor, bx: tuple, batch: tuple, other: Tensor) -> Tensor:
    """Broadcast x's batch dims `bx` to `batch` (unknown dims are taken as already equal)."""
    if len(bx) == len(batch) and all(d == e or e is None or d is None and e != 1
                                     for d, e in zip(bx, batch)):
        return x
    target = (*batch, *x.shape[-2:])
    if None in target:
        raise op_error(
            "matmul", f"cannot broadcast batch dims with unknown sizes: {x.type} to {batch} "
                    f"(with the other operand {other.type})")
    from tfx_core.ops.array_ops import broadcast_to

    return broadcast_to(x, target)


__all__ = ["matmul"]
