"""Dropout: tf.nn.dropout (op-seed or Generator stream) and stateless_dropout (explicit seed)."""
from __future__ import annotations

import numbers
from typing import Any

from compiler.ir.types import DType
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_ints
from tfx_core.ops.array_ops import zeros_like
from tfx_core.polymorphic_function.tracer import get_static_value

__all__ = ["dropout", "stateless_dropout"]

TensorLike = Any


def _check_rate(name: str, rate: Any, dtype: DType) -> Tensor | float:
    if isinstance(rate, numbers.Real) and not isinstance(rate, bool):
        if not 0 <= rate < 1:
            raise op_error(name, f"rate must be a number in [0, 1), got {rate}")
        return float(rate)
    r = to_tensor(rate, name, dtype)
    if r.shape.rank != 0:
        raise op_error(name, f"rate must be a scalar, got {r.type}")
    known = get_static_value(r)
    if known is not None and not 0 <= float(known) < 1:
        raise op_error(name, f"rate must be in [0, 1), got {float(known)}")
    return r


def _noise_shape(name: str, x: Tensor, noise_shape: Any) -> tuple[int, ...]:
    if noise_shape is None:
        return tuple(x.shape.as_list())  # traced shapes are static (None dims retrace)
    dims = list(static_ints(noise_shape, name, "noise_shape"))
    xs = x.shape.as_list()
    if len(dims) != len(xs):
        raise op_error(name, f"noise_shape {dims} must have the rank of x {x.type}")
    for i, (n, d) in enumerate(zip(dims, xs)):
        if n not in (1, d) and d is not None:
            raise op_error(name, f"noise_shape {dims} does not broadcast to x {x.type} (dim {i})")
    return tuple(dims)


def _apply(name: str, x: TensorLike, rate: Any, noise_shape: Any, draw) -> Tensor:
    """x / (1 - rate) where uniform noise >= rate, else 0 (TF's rule: P(keep) = 1 - rate)."""
    x = to_tensor(x, name)
    if not x.dtype.is_floating:
        raise op_error(name, f"expected a floating tensor, got {x.type}", TypeError)
    rate = _check_rate(name, rate, x.dtype)
    if isinstance(rate, float) and rate == 0:
        return x  # as TF: nothing dropped, no random numbers drawn
    noise = draw(_noise_shape(name, x, noise_shape), x.dtype)
    keep = M.greater_equal(noise, rate)
    scaled = x * (1.0 / (1.0 - rate)) if isinstance(rate, float) else x / (1.0 - rate)
    return M.where(keep, scaled, zeros_like(scaled))  # dropped NaN/inf become 0, as in TF


def dropout(x: TensorLike, rate: Any, noise_shape: Any = None, seed: int | None = None,
            name: str | None = None, rng: Any = None) -> Tensor:
    """Zero each element with probability `rate`, scale the rest by 1 / (1 - rate)
    (tf.nn.dropout). Random numbers come from `rng` (a tx.random.Generator, advancing inside
    tx.function without retracing) or else the global / op-`seed` stream as tx.random.uniform."""
    from tfx_core.ops import random_ops as R

    if rng is not None and seed is not None:
        raise op_error("dropout", "give seed or rng, not both")
    if rng is not None and not isinstance(rng, R.Generator):
        raise op_error(
            "dropout", f"rng must be a tx.random.Generator, got {type(rng).__name__}", TypeError)
    gen = rng if rng is not None else R.generator_for(seed, "dropout")
    return _apply("dropout", x, rate, noise_shape,
                  lambda shape, dtype: gen.uniform(shape, dtype=dtype))


def stateless_dropout(x: TensorLike, rate: Any, seed: TensorLike, noise_shape: Any = None,
                      name: str | None = None) -> Tensor:
    """Dropout whose mask is a pure function of the shape-[2] `seed`
    (tf.nn.experimental.stateless_dropout): the same seed drops the same elements."""
    from tfx_core.ops import random_ops as R

    s = to_tensor(seed, "stateless_dropout")
    if not s.dtype.is_integer or s.shape.as_list() != [2]:
        raise op_error("stateless_dropout", f"seed must be a shape [2] int32/int64 tensor, got "
                    f"{s.type}")
    return _apply("stateless_dropout", x, rate, noise_shape,
                  lambda shape, dtype: R.stateless_uniform(shape, s, dtype=dtype))
