"""Small framework names: tf.executing_eagerly, tf.name_scope, tf.ensure_shape, tf.identity_n,
tf.no_op and tf.group."""
from __future__ import annotations

import re
from typing import Any

from compiler.interpreters import current_name_scope, is_tracing, name_scope_path
from compiler.ops import shape as S
from runtime.errors import InvalidArgumentError
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.framework.tensor import TensorShape
from tfx_core.ops.arguments import op_error, static_int

TensorLike = Any

# TF's rule for a scope name (checked by TF's graphs, so inside tf.function): it also keeps
# " @ ", which separates the scope from the file:line in an op's location, out of names.
_VALID_SCOPE = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")


def executing_eagerly() -> bool:
    """False while tracing (@tx.function bodies, control-flow regions), else True
    (tf.executing_eagerly; tx.init_scope inside a function is eager again, as TF)."""
    return not is_tracing()


class name_scope:  # noqa: N801  (TF's spelling)
    """`with tx.name_scope("layer1"):` (TF2's tf.name_scope): ops traced inside carry the scope
    path as a name prefix, nested scopes joined with "/" ("encoder/layer1"). It shows in the
    IR printout (`%3: f32[4] = add %1, %2  # encoder/layer1/add`) and in error messages
    ("(encoder/layer1 @ model.py:12)"). As TF, entering gives the full path with a trailing
    "/", a name ending in "/" is taken as a full path, and "" goes back to the top level.
    Unlike TF graphs, re-entering a scope does not make it unique ("a_1"): names label ops,
    they do not identify them."""

    def __init__(self, name: str):
        if not isinstance(name, str):
            raise ValueError(f"name_scope: name for name_scope must be a string, got {name!r}")
        if name and not _VALID_SCOPE.match(name):
            raise ValueError(f"name_scope: '{name}' is not a valid scope name. A scope name "
                             "has to match the pattern: " + _VALID_SCOPE.pattern)
        self._name = name
        self._cm: Any = None

    @property
    def name(self) -> str:
        return self._name

    def __enter__(self) -> str:
        outer = current_name_scope()
        if not self._name:
            path = ""
        elif self._name.endswith("/"):
            path = self._name
        else:
            path = f"{outer}{self._name}/"
        self._cm = name_scope_path(path)
        return self._cm.__enter__()

    def __exit__(self, *exc: Any) -> None:
        cm, self._cm = self._cm, None
        cm.__exit__(*exc)


def _expected_shape(shape: Any) -> tuple | None:
    """`shape` as a tuple of ints and Nones, or None for an unknown rank."""
    if shape is None:
        return None
    if isinstance(shape, Tensor):
        from tfx_core.ops.arguments import concrete_value

        shape = concrete_value(shape, "ensure_shape", "shape").tolist()
    if isinstance(shape, (int,)) and not isinstance(shape, bool):
        shape = [shape]
    if not isinstance(shape, (list, tuple)):
        raise op_error("ensure_shape", f"shape must be a list of ints and Nones, got {shape!r}",
                       TypeError)
    dims = tuple(None if d is None else static_int(d, "ensure_shape", "shape") for d in shape)
    if any(d is not None and d < 0 for d in dims):
        raise op_error("ensure_shape", f"shape dims must be >= 0 or None, got {list(shape)}")
    return dims


def _fmt(shape: tuple) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def ensure_shape(x: TensorLike, shape: Any, name: str | None = None) -> Tensor:
    """`x`, after checking its shape is compatible with `shape` (tf.ensure_shape): a None
    dim in `shape` matches any size; `shape=None` checks nothing. Checked eagerly and at trace
    time (InvalidArgumentError, with TF's message); in a trace the result has the dims known
    from either side (as TF's static shape), and a dim unknown at trace time (an
    input_signature's None) is checked when the function is specialized to a call's shapes,
    before anything runs (a ValueError naming ensure_shape and the line)."""
    t = to_tensor(x, "ensure_shape")
    want = _expected_shape(shape)
    if want is None:
        return t
    have = tuple(t.shape)
    if len(have) != len(want) or any(a is not None and b is not None and a != b
                                      for a, b in zip(have, want)):
        raise op_error("ensure_shape", f"Shape of tensor input {_fmt(have)} is not compatible with "
                       f"expected shape {_fmt(want)}.", InvalidArgumentError)
    if not is_tracing():
        return t
    return bind(S.ensure_shape_op, t, shape=tuple(-1 if d is None else d for d in want))


def identity_n(input: Any, name: str | None = None) -> list[Tensor]:  # noqa: A002
    """Each input as a tensor (tf.identity_n)."""
    if isinstance(input, (Tensor, TensorShape)) or not isinstance(input, (list, tuple)):
        raise op_error("identity_n", f"input must be a list of tensors, got "
                       f"{type(input).__name__}", TypeError)
    return [to_tensor(v, "identity_n") for v in input]


def no_op(name: str | None = None) -> None:
    """Does nothing (tf.no_op). TF returns an Operation in a graph; ordering in a traced
    function is by data dependence and program order, so there is nothing to return."""
    return None


def group(*inputs: Any, name: str | None = None) -> None:
    """tf.group: returns None, eagerly and in a trace (TF returns an Operation in a graph, to
    hang control dependencies on; here a traced function's results are what it returns)."""
    return None


__all__ = ["ensure_shape", "executing_eagerly", "group", "identity_n", "name_scope", "no_op"]
