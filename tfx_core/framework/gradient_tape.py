"""`tx.GradientTape`, `tx.stop_gradient` and `tx.custom_gradient`: reverse-mode autodiff (TF's API).

A tape records every op bound while it is active whose inputs depend on a watched tensor;
`gradient()` runs the ops' vjp rules backwards. The rules bind ops like any user code, so
gradients run eagerly, or — inside `@tx.function` — join the traced graph and compile with it.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from jax import tree_util

from compiler import autodiff
from compiler.autodiff import Record
from compiler.interpreters import (
    bind,
    current_trace,
    outside_traces,
    pop_recorder,
    push_recorder,
    recorders,
)
from compiler.ops import cast as CA
from compiler.registry import NOT_DIFFERENTIABLE
from compiler.tracing import user_location
from runtime import client
from tfx_core.framework import tape_program
from tfx_core.framework.operands import to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import Variable

_UNCONNECTED = ("none", "zero")


def _fail(cls: type, msg: str) -> Exception:
    loc = user_location()
    return cls(msg + (f" ({loc})" if loc else ""))


class GradientTape:
    """Records operations for automatic differentiation (tf.GradientTape).

    Args:
        persistent: allow several `gradient()` calls (otherwise one).
        watch_accessed_variables: watch every trainable Variable read while recording.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._persistent = persistent
        self._watch_accessed = watch_accessed_variables
        self._records: list[Record] = []
        self._tracked: dict[int, Any] = {}  # id -> value (the reference keeps the id unique)
        self._var_reads: dict[int, list[Tensor]] = {}  # id(variable) -> tensors it was read as
        self._watched_vars: dict[int, Variable] = {}
        self._recording = False
        self._used = False

    # ------------------------------------------------------------ recording
    def __enter__(self) -> GradientTape:
        self._push()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._recording:
            self._pop()

    def _push(self) -> None:
        push_recorder(self)
        self._recording = True

    def _pop(self) -> None:
        pop_recorder(self)
        self._recording = False

    def _track(self, t: Any) -> None:
        self._tracked[id(t)] = t

    def watch(self, tensor: Any) -> None:
        """Record operations on `tensor` (a tensor, Variable, or nested structure of them)."""
        for x in tree_util.tree_leaves(tensor):
            if isinstance(x, Variable):
                self._watched_vars[id(x)] = x
                self._note_read(x, x._as_tensor())
            elif isinstance(x, Tensor):
                if x.dtype.is_inexact:
                    self._track(x)
            else:
                raise _fail(TypeError, f"GradientTape.watch: expected tensors or Variables, "
                                       f"got {type(x).__name__}")

    def _note_read(self, var: Variable, t: Tensor) -> None:
        reads = self._var_reads.setdefault(id(var), [])
        if not any(r is t for r in reads):
            reads.append(t)
        if var.dtype.is_inexact:
            self._track(t)

    def _variable_read(self, var: Variable, t: Tensor) -> None:
        if self._recording and (id(var) in self._watched_vars
                                or (self._watch_accessed and var.trainable)):
            self._watched_vars.setdefault(id(var), var)
            self._note_read(var, t)

    def watches(self, x: Any) -> bool:
        """Whether this tape, recording now, would differentiate with respect to `x`: a
        floating tensor it tracks, or a floating Variable it watches (or would watch on a
        read, with watch_accessed_variables)."""
        if not self._recording:
            return False
        if isinstance(x, Variable):
            return x.dtype.is_inexact and (id(x) in self._watched_vars
                                            or (self._watch_accessed and x.trainable))
        return id(x) in self._tracked  # (only floating tensors are tracked)

    def record(self, opdef: Any, args: tuple, attrs: dict, out: Any) -> None:
        """Called by `bind` for every op while this tape is active."""
        if not self._recording or opdef.vjp is NOT_DIFFERENTIABLE:
            return
        tracked = self._tracked
        if not any(id(a) in tracked for a in args):
            return
        outs = tuple(out) if opdef.multiple_results else (out,)
        self._records.append(Record(opdef, tuple(args), dict(attrs), outs))
        for o in outs:
            if isinstance(o, Tensor) and o.dtype.is_inexact:
                tracked[id(o)] = o

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Temporarily stop recording operations on this tape."""
        if not self._recording:
            raise _fail(ValueError, "GradientTape.stop_recording: the tape is not recording")
        self._pop()
        try:
            yield
        finally:
            self._push()

    def reset(self) -> None:
        """Forget everything recorded so far (the tape keeps recording)."""
        self._records.clear()
        self._tracked.clear()
        self._var_reads.clear()
        self._watched_vars.clear()

    def watched_variables(self) -> tuple[Variable, ...]:
        return tuple(self._watched_vars.values())

    # ------------------------------------------------------------ gradients
    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: str = "none") -> Any:
        """d(sum of target) / d(sources), in the structure of `sources` (tf's semantics).

        Non-scalar targets are summed (or weighted by `output_gradients`); an unconnected
        source gets None, or zeros with `unconnected_gradients="zero"`.
        """
        if self._used and not self._persistent:
            raise _fail(RuntimeError, "GradientTape.gradient can only be called once on a "
                                      "non-persistent tape (use persistent=True)")
        self._used = True
        try:
            return self._gradient(target, sources, output_gradients, unconnected_gradients)
        finally:
            if not self._persistent:
                # as TF, a used non-persistent tape lets go of what it recorded: its tensors
                # (Variable reads among them) would otherwise stay referenced, and an update
                # right after would copy each Variable's buffer instead of donating it
                self._records, self._tracked, self._var_reads = [], {}, {}

    def _gradient(self, target: Any, sources: Any, output_gradients: Any,
                  unconnected: str) -> Any:
        unconnected = getattr(unconnected, "value", unconnected)
        if unconnected not in _UNCONNECTED:
            raise _fail(ValueError, f"GradientTape.gradient: unconnected_gradients must be "
                                    f"'none' or 'zero', got {unconnected!r}")
        targets = [_as_tensor(t, "target") for t in tree_util.tree_leaves(target)]
        for t in targets:
            if not t.dtype.is_inexact:
                raise _fail(TypeError, f"GradientTape.gradient: the target must be a floating "
                                       f"tensor, got dtype {t.dtype.name} ({t.type}); cast it "
                                       "with tx.cast")
        seeds_in = [None] * len(targets) if output_gradients is None else \
            tree_util.tree_leaves(output_gradients, is_leaf=lambda x: x is None)
        if len(seeds_in) != len(targets):
            raise _fail(ValueError, f"GradientTape.gradient: {len(seeds_in)} output_gradients "
                                    f"for {len(targets)} targets")
        src_leaves, src_tree = tree_util.tree_flatten(sources, is_leaf=lambda x: x is None)
        was_recording = self._recording
        if was_recording:  # our own gradient ops are not recorded here (outer tapes see them)
            self._pop()
        try:
            seeds = []
            for t, s in zip(targets, seeds_in):
                if s is None:
                    s = _ones(t)
                else:
                    s = _as_tensor(s, "output_gradients")
                    if s.dtype is not t.dtype or s.type.rank != t.type.rank:
                        raise _fail(ValueError, f"GradientTape.gradient: output_gradients "
                                                f"{s.type} does not match target {t.type}")
                seeds.append((t, s))
            per_source = [self._source_tensors(s) for s in src_leaves]
            # TF: a source the tape does not watch gets no gradient, even if a recorded op
            # read it (unless it is a target itself)
            target_ids = {id(t) for t in targets}
            wanted = [t for ts in per_source for t in ts
                      if id(t) in self._tracked or id(t) in target_ids]
            # eagerly: one compiled program per tape structure (op by op when unusual)
            acc = tape_program.backprop(self._records, seeds, wanted)
            out = [self._combine(s, ts, acc, unconnected) for s, ts in zip(src_leaves, per_source)]
        finally:
            if was_recording:
                self._push()
        return tree_util.tree_unflatten(src_tree, out)

    def _source_tensors(self, s: Any) -> list[Any]:
        if isinstance(s, Variable):
            return list(self._var_reads.get(id(s), []))
        if isinstance(s, Tensor):
            return [s]
        raise _fail(TypeError, f"GradientTape.gradient: sources must be tensors or Variables, "
                               f"got {type(s).__name__}")

    @staticmethod
    def _combine(s: Any, ts: list, acc: dict, unconnected: str) -> Any:
        if not s.dtype.is_inexact:
            return None  # TF: integer sources have no gradient
        cts = [acc[id(t)] for t in ts if id(t) in acc]
        if not cts:
            if unconnected == "zero":
                like = s._as_tensor() if isinstance(s, Variable) else s
                return autodiff.zeros_like(like.type, like)
            return None
        total = cts[0]
        for c in cts[1:]:
            total = autodiff.add(total, c)
        return total

    def jacobian(self, target: Any, sources: Any, unconnected_gradients: str = "none",
                 parallel_iterations: int | None = None,
                 experimental_use_pfor: bool = True) -> Any:
        """d target[i...] / d source[j...], shaped target.shape + source.shape (small cases:
        one backward pass per element of `target`)."""
        if self._used and not self._persistent:
            raise _fail(RuntimeError, "GradientTape.jacobian can only be called once on a "
                                      "non-persistent tape (use persistent=True)")
        self._used = True
        from tfx_core.ops.array_ops import reshape, stack, zeros

        t = _as_tensor(target, "target")
        n = t.type.num_elements
        if n is None:
            raise _fail(ValueError, f"GradientTape.jacobian: the target needs a static shape, "
                                    f"got {t.type}")
        rows = []
        for i in range(n):
            onehot = np.zeros(n, t.dtype.np_dtype)
            onehot[i] = 1
            rows.append(self._gradient(t, sources, onehot.reshape(t.type.shape), "none"))
        src_leaves, src_tree = tree_util.tree_flatten(sources)
        out = []
        for k, s in enumerate(src_leaves):
            shape = tuple(t.type.shape) + tuple(s.shape)
            col = [tree_util.tree_leaves(r, is_leaf=lambda x: x is None)[k] for r in rows]
            if all(c is None for c in col):
                out.append(zeros(shape, s.dtype) if unconnected_gradients == "zero"
                           and s.dtype.is_inexact else None)
                continue
            col = [c if c is not None else zeros(s.shape, s.dtype) for c in col]
            out.append(reshape(stack(col), shape))
        return tree_util.tree_unflatten(src_tree, out)


def _as_tensor(x: Any, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, Variable):
        return x._as_tensor()
    try:
        return to_tensor(x, f"GradientTape.gradient {what}")
    except TypeError as e:
        raise _fail(TypeError, str(e)) from None


_ONES: dict = {}  # TensorType -> a device buffer of ones (immutable: shared by seeds)


def _ones(t: Tensor) -> Tensor:
    """The default seed: ones like `t`. Eagerly a fresh tensor over a cached buffer, which
    needs no op run after `t` (an eager op would wait for it)."""
    if t._buf is None or not t._type.is_static:
        return autodiff.ones_like(t.type, t)
    buf = _ONES.get(t._type)
    if buf is None:
        if len(_ONES) > 256:
            _ONES.clear()
        buf = _ONES[t._type] = client.device_put(np.ones(t._type.shape, t.dtype.np_dtype))
    return Tensor(buf, t._type)


def stop_gradient(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """The input, with no gradient flowing through it (tf.stop_gradient)."""
    return bind(CA.stop_gradient_op, to_tensor(input, "stop_gradient"))


# ---------------------------------------------------------------- custom_gradient
class _CustomGradient:
    """Stands in for an OpDef in a tape record: its vjp calls the user's grad_fn."""

    name = "custom_gradient"

    def __init__(self, grad_fn: Callable, n_out: int, n_in: int):
        self._grad_fn = grad_fn
        self.multiple_results = n_out > 1
        self._n_in = n_in

    def vjp(self, ctx: Any, g: Any) -> tuple:
        res = self._grad_fn(*g) if self.multiple_results else self._grad_fn(g)
        res = list(res) if isinstance(res, (list, tuple)) else [res]
        if len(res) != self._n_in:
            raise TypeError(f"custom_gradient: grad_fn returned {len(res)} gradients for "
                            f"{self._n_in} tensor inputs")
        return tuple(None if r is None else to_tensor(r, "custom_gradient") for r in res)


def custom_gradient(f: Callable) -> Callable:
    """Decorate `f(*x) -> (y, grad_fn)`: tapes differentiate `f` with `grad_fn(dy) -> dx`
    instead of through its ops (tf.custom_gradient)."""

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        # A trace cannot carry grad_fn: a compiled call differentiated as a whole would use
        # f's own ops. Tell the traces, so such a call runs op by op under a tape.
        trace = current_trace()
        while trace is not None:
            notes = getattr(trace, "opaque_gradients", None)
            if notes is not None:
                notes.append(f"its body uses tx.custom_gradient "
                             f"{getattr(f, '__name__', 'function')!r}, whose grad_fn the graph "
                             "does not hold")
            trace = getattr(trace, "parent", None)
        tapes = recorders()
        with outside_traces(traces=False):  # the tapes see f as one op, not its insides
            y, grad_fn = f(*args, **kwargs)
        inputs = [a._as_tensor() if isinstance(a, Variable) else a
                  for a in tree_util.tree_leaves(args) if isinstance(a, (Tensor, Variable))]
        outs = tree_util.tree_leaves(y)
        # NOTE: outputs must be fresh tensors to carry their own gradient identity.
        outs = [o if all(o is not i for i in inputs) else bind(CA.stop_gradient_op, o)
                for o in outs]
        fake = _CustomGradient(grad_fn, len(outs), len(inputs))
        for tape in tapes:
            tape.record(fake, tuple(inputs), {}, outs if fake.multiple_results else outs[0])
        return tree_util.tree_unflatten(tree_util.tree_structure(y), outs)

    return wrapped
