"""tf.foldr, case, vectorized_map, grad_pass_through and recompute_grad."""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from jax import tree_util

from compiler.interpreters import outside_traces, recorders
from compiler.ir.types import BOOL, I32
from tfx_core.debugging.asserts import Assert
from tfx_core.framework.gradient_tape import GradientTape, custom_gradient
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.framework.variables import Variable
from tfx_core.ops import array_ops as AO
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error
from tfx_core.ops.control_flow_ops import foldl, map_fn, switch_case
from tfx_core.ops.reduction_ops import argmax, reduce_sum


def _static_value(t: Tensor) -> np.ndarray | None:
    from tfx_core.polymorphic_function.tracer import get_static_value  # (tracer imports ops)

    return get_static_value(t)


def foldr(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None,
          parallel_iterations: Any = None, back_prop: bool = True, swap_memory: bool = False,
          name: str | None = None) -> Any:
    """acc = fn(acc, row) over the rows of elems from the last to the first; returns the final
    acc (tf.foldr). Without an initializer the last row starts."""
    leaves, tree = tree_util.tree_flatten(elems)
    flipped = tree_util.tree_unflatten(
        tree, [AO.reverse(to_tensor(x, "foldr"), [0]) for x in leaves])
    return foldl(fn, flipped, initializer)


def case(pred_fn_pairs: Any, default: Callable[[], Any] | None = None, exclusive: bool = False,
         strict: bool = False, name: str = "case") -> Any:
    """The result of the fn paired with the first true predicate, else of `default` (tf.case).

    Without a default, the last pair's fn stands in and its predicate must then be true; with
    exclusive=True at most one predicate may be true. Both are checked as TF does: an
    InvalidArgumentError eagerly, an assertion in a compiled function.
    """
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    if not pairs:
        raise op_error("case", "pred_fn_pairs must not be empty", ValueError)
    for p in pairs:
        if not isinstance(p, (tuple, list)) or len(p) != 2 or not callable(p[1]):
            raise op_error("case", f"each pred_fn_pair must be (predicate, callable), got {p!r}",
                           TypeError)
    if default is not None and not callable(default):
        raise op_error("case", f"default must be callable, got {default!r}", TypeError)
    preds = [to_tensor(p, "case") for p, _ in pairs]
    for p in preds:
        if p.dtype != BOOL or p.ndim != 0:
            raise op_error("case", f"predicates must be bool scalars, got {p.type}", TypeError)
    fns = [f for _, f in pairs]
    stacked = AO.stack(preds)
    if exclusive:
        Assert(M.less_equal(reduce_sum(M.cast(stacked, I32)), M.cast(1, I32)),
               ["Input error: exclusive=True: more than 1 conditions evaluated as True:",
                stacked])
    if default is None:  # the last pair is the fallback: its predicate must hold when reached
        *fns, last = fns
        Assert(M.logical_or(reduce_any_true(stacked), preds[-1]),
               ["Input error: None of conditions evaluated as True:", stacked])
        default = last
        stacked = stacked[:-1] if len(preds) > 1 else stacked[:0]
    # index of the first true predicate, len(fns) (the default) when none is
    flags = AO.concat([stacked, AO.ones([1], BOOL)], 0)
    index = argmax(M.cast(flags, I32), axis=0, output_type=I32)
    known = _static_value(index)
    branches = [*fns, default]
    if known is not None:
        return branches[int(known)]()
    return switch_case(index, branches)


def reduce_any_true(flags: Tensor) -> Tensor:
    """True when any entry of a bool vector is."""
    return M.greater(reduce_sum(M.cast(flags, I32)), M.cast(0, I32))


def vectorized_map(fn: Callable[[Any], Any], elems: Any, fallback_to_while_loop: bool = True,
                   warn: bool = True) -> Any:
    """fn applied to each row of elems, stacked (tf.vectorized_map). tfx has no batching
    transform, so this is tf.map_fn: one loop iteration per row, traced once — the same
    results, without pfor's vectorization."""
    return map_fn(fn, elems)


def grad_pass_through(f: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap f so its forward value is f(x) and its gradient is the identity: dy/dx = 1, whatever
    f does, e.g. an assignment or a quantizer (tf.grad_pass_through). y must have x's
    structure, shapes and dtypes."""

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        def forward(*xs: Any) -> Any:
            y = f(*xs)
            x = xs[0] if len(xs) == 1 else xs
            if tree_util.tree_structure(x) != tree_util.tree_structure(y):
                raise op_error("grad_pass_through", "f's result must have the structure of "
                               "its input", TypeError)
            return y, lambda *dys: list(dys)

        return custom_gradient(forward)(*args)

    return wrapped


def _grad_args(n: int, grads: Sequence[Any]) -> list:
    return [None if g is None else g for g in grads[:n]]


def recompute_grad(f: Callable[..., Any]) -> Callable[..., Any]:
    """Gradient checkpointing (tf.recompute_grad): the forward keeps only f's outputs; a tape's
    backward pass runs f again under its own tape for the gradients of the inputs and of the
    trainable Variables f reads. Without an active tape this is just f. Inside @tx.function the
    recomputation is traced too, and XLA may merge it with the forward again."""

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not recorders():
            return f(*args, **kwargs)
        with outside_traces(traces=False):  # the tapes around see one op, not f's insides
            with GradientTape() as probe:  # kept only to learn which Variables f reads
                y = f(*args, **kwargs)
            variables = [v for v in probe.watched_variables() if isinstance(v, Variable)]
        del probe
        n = len(args)

        def forward(*inputs: Any) -> Any:
            def grad_fn(*dys: Any) -> list:
                xs = list(inputs[:n])
                with GradientTape() as tape:
                    tape.watch([x for x in tree_util.tree_leaves(xs) if isinstance(x, Tensor)])
                    again = f(*xs, **kwargs)  # kwargs: Python values, not differentiated
                sources = [*xs, *variables]
                grads = tape.gradient(tree_util.tree_leaves(again), sources,
                                      output_gradients=list(dys))
                return [*_grad_args(n, grads), *grads[n:]]

            return y, grad_fn

        return custom_gradient(forward)(*args, *variables)

    return wrapped


__all__ = ["case", "foldr", "grad_pass_through", "recompute_grad", "vectorized_map"]
