"""Shared lowering helpers: MLIR context, type mapping, constants, broadcasting, compares."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir._mlir_libs import _jax_mlir_ext
from jaxlib.mlir.dialects import chlo
from jaxlib.mlir.dialects import stablehlo as hlo

from ..ir.types import TensorType

_REGISTRY = ir.DialectRegistry()
_jax_mlir_ext.register_dialects(_REGISTRY)  # func, arith, ... (jaxlib's site registry is empty)
_POOL = ir.ThreadPool()  # one LLVM pool for every context (a plain Context makes its own)


def make_context() -> ir.Context:
    """A fresh MLIR context with func, stablehlo and chlo loaded.

    NOTE: one context per module: a shared context keeps every uniqued constant forever.
    """
    ctx = ir.Context(thread_pool=_POOL, load_on_create_dialects=[])
    ctx.append_dialect_registry(_REGISTRY)
    ctx.dialects["func"]
    hlo.register_dialect(ctx)
    chlo.register_dialect(ctx)
    return ctx


_ELT: dict[str, Callable[[], ir.Type]] = {
    "bool": lambda: ir.IntegerType.get_signless(1),
    "i8": lambda: ir.IntegerType.get_signless(8),
    "i16": lambda: ir.IntegerType.get_signless(16),
    "i32": lambda: ir.IntegerType.get_signless(32),
    "i64": lambda: ir.IntegerType.get_signless(64),
    "u8": lambda: ir.IntegerType.get_unsigned(8),
    "u16": lambda: ir.IntegerType.get_unsigned(16),
    "u32": lambda: ir.IntegerType.get_unsigned(32),
    "u64": lambda: ir.IntegerType.get_unsigned(64),
    "c64": lambda: ir.ComplexType.get(ir.F32Type.get()),
    "c128": lambda: ir.ComplexType.get(ir.F64Type.get()),
    "f16": ir.F16Type.get,
    "bf16": ir.BF16Type.get,
    "f32": ir.F32Type.get,
    "f64": ir.F64Type.get,
}


def elt_type(t: TensorType) -> ir.Type:
    return _ELT[t.dtype.short]()


def ir_type(t: TensorType) -> ir.RankedTensorType:
    if not t.is_static:
        raise ValueError(f"cannot lower {t}: shape must be static (specialize the graph first)")
    return ir.RankedTensorType.get(list(t.shape), elt_type(t))


def constant(array: np.ndarray, t: TensorType) -> ir.Value:
    """A dense constant; a uniform array is stored once as a splat."""
    a = np.asarray(array, dtype=t.dtype.np_dtype)
    shape = a.shape  # NOTE: before ascontiguousarray, which makes 0-d arrays 1-d
    if a.size > 1 and _uniform_bits(a):
        return splat(a.flat[0], t)
    attr = ir.DenseElementsAttr.get(np.ascontiguousarray(a), type=elt_type(t), shape=shape)
    return hlo.constant(attr)


def _uniform_bits(a: np.ndarray) -> bool:
    """Every element has the same bits (so 0.0 and -0.0 differ), and it is not a NaN (a splat
    would not keep a NaN's payload)."""
    flat = np.ascontiguousarray(a).reshape(-1)
    if a.dtype.kind == "c":  # (no 16-byte unsigned view: compare the parts' bits in pairs)
        flat = flat.view(flat.real.dtype)
    bits = flat.view(f"u{flat.dtype.itemsize}").reshape(a.size, -1)
    if not np.all(bits == bits[0]):
        return False
    if a.dtype.kind in "iub":
        return True
    v = a.flat[0]
    return not np.isnan(complex(v) if a.dtype.kind == "c" else v.astype(np.float32))


def splat(value, t: TensorType) -> ir.Value:
    """A constant of type `t` with every element equal to `value`."""
    e = elt_type(t)
    if t.dtype.is_complex:
        # NOTE: MLIR's Python API has no complex attribute for a splat: a scalar, broadcast
        scalar = t.with_shape(())
        one = ir.DenseElementsAttr.get(np.array([value], t.dtype.np_dtype), type=e, shape=())
        return broadcast(hlo.constant(one), scalar, t)
    if t.dtype.is_floating:
        a = ir.FloatAttr.get(e, float(value))
    elif t.dtype.is_bool:
        a = ir.IntegerAttr.get(e, int(bool(value)))
    else:
        v = int(value)
        if v >= 1 << 63:  # uint64 above int64's range: the same bits as a (signed) int64
            v -= 1 << 64
        a = ir.IntegerAttr.get(e, v)
    return hlo.constant(ir.DenseElementsAttr.get_splat(ir_type(t), a))


def broadcast(x: ir.Value, src: TensorType, dst: TensorType) -> ir.Value:
    """NumPy-style broadcast of `x` (type `src`) to the shape of `dst`."""
    if src.shape == dst.shape:
        return x
    offset = dst.rank - src.rank
    dims = list(range(offset, dst.rank))
    return hlo.broadcast_in_dim(ir_type(dst.with_dtype(src.dtype)), x, dims)


def convert(x: ir.Value, src: TensorType, dst: TensorType) -> ir.Value:
    """Element type conversion with TF semantics: to-bool is `x != 0`, complex to real keeps
    the real part."""
    if src.dtype is dst.dtype:
        return x
    if dst.dtype.is_bool:
        return compare(x, splat(0, src), "NE", src)
    if src.dtype.is_complex and not dst.dtype.is_complex:
        part = src.with_dtype(src.dtype.real_dtype)
        return convert(hlo.real(x), part, dst)
    return hlo.convert(ir_type(dst.with_shape(src.shape)), x)


def compare_type(t: TensorType) -> str:
    if t.dtype.is_inexact:
        return "FLOAT"
    if t.dtype.is_unsigned or t.dtype.is_bool:
        return "UNSIGNED"
    return "SIGNED"


_DIRECTIONS = frozenset({"EQ", "NE", "LT", "LE", "GT", "GE"})


def compare(x: ir.Value, y: ir.Value, direction: str, t: TensorType) -> ir.Value:
    # NOTE: MLIR aborts the process (LLVM ERROR) on an unknown enum spelling: check first
    if direction not in _DIRECTIONS:
        raise ValueError(f"unknown comparison direction {direction!r}")
    return hlo.compare(
        x,
        y,
        hlo.ComparisonDirectionAttr.get(direction),
        compare_type=hlo.ComparisonTypeAttr.get(compare_type(t)),
    )


def reduce(
    operands: Sequence[ir.Value],
    inits: Sequence[ir.Value],
    axes: Sequence[int],
    out_types: Sequence[TensorType],
    scalar_types: Sequence[TensorType],
    body: Callable[..., list[ir.Value]],
) -> list[ir.Value]:
    """A (variadic) stablehlo.reduce over `axes`; `body(*accs, *elems)` returns the new accs."""
    op = hlo.ReduceOp([ir_type(t) for t in out_types], list(operands), list(inits), list(axes))
    block = op.regions[0].blocks.append(
        *([ir_type(t) for t in scalar_types] + [ir_type(t) for t in scalar_types])
    )
    with ir.InsertionPoint(block):
        hlo.return_(list(body(*block.arguments)))
    return list(op.results)
