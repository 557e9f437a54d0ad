"""`tx.Variable`: mutable state that reads like a tensor; captured by reference in traces."""
from __future__ import annotations

import contextlib
import itertools
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from compiler.interpreters import current_trace, outside_traces, recorders
from compiler.ir.types import DType, TensorType, dims_compatible
from compiler.tracing import user_location
from runtime import client, sharding
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor, TensorShape


@contextlib.contextmanager
def init_scope() -> Iterator[None]:
    """Run the block eagerly, outside any trace and unseen by gradient tapes (tf.init_scope).

    Used to compute a Variable's initial value when it is created inside @tx.function.
    """
    with outside_traces():
        yield


def active_trace() -> Any:
    """The trace that reads and assigns Variables in this thread, or None when eager."""
    interp = current_trace()
    if interp is not None and hasattr(interp, "read_variable"):
        return interp
    return None


def _enum_arg(value: Any, enum_cls: Any, default: Any) -> Any:
    """A tf.Variable enum argument: None (the default), a member, or a member's value."""
    if value is None:
        return default
    try:
        if isinstance(value, enum_cls):
            return value
        if hasattr(value, "value"):  # another enum's member (e.g. the two swapped)
            raise ValueError
        return enum_cls(value)
    except ValueError:
        raise ValueError(f"tx.Variable: {enum_cls.__name__} expected, got {value!r}"
                         + _where()) from None


def _where() -> str:
    loc = user_location()
    return f" ({loc})" if loc else ""


_SERIAL = itertools.count()  # creation order: the global order in which variables are locked


# Callables placing each new Variable (a tx.distribute strategy's scope pushes one: mirrored
# on its replicas); the innermost applies.
VARIABLE_PLACEMENTS: list = []


class Variable:
    """A mutable tensor (tf.Variable): assign/assign_add/assign_sub, reads like a tensor.

    Inside `@tx.function` a Variable is an implicit input of the compiled program (read by
    reference: new values are seen without retracing) and its assignments are implicit outputs
    written back after each call, with the old buffer donated so the update happens in place.

    Many threads may use one Variable: each update (eager `assign*`, or a compiled call that
    assigns it) holds the variable's lock from reading its value to writing the new one, so
    updates are atomic (TF's resource variables are too); reads take no lock and see a whole
    old or a whole new value, never a buffer an update donated.
    """

    _is_variable = True
    __array_priority__ = 100
    _mesh_layout = None  # (runtime MeshSpec, spec) once placed on a mesh (tx.distribute)

    def __init__(self, initial_value: Any = None, trainable: bool = True, name: str | None = None,
                 dtype: Any = None, shape: Any = None, synchronization: Any = None,
                 aggregation: Any = None) -> None:
        if initial_value is None:
            raise ValueError("tx.Variable: initial_value is required" + _where())
        from tfx_core.ops.array.enums import VariableAggregation, VariableSynchronization

        # one replica: both are only recorded (TF's values; checked so typos fail early)
        self._synchronization = _enum_arg(synchronization, VariableSynchronization,
                                          VariableSynchronization.AUTO)
        self._aggregation = _enum_arg(aggregation, VariableAggregation,
                                      VariableAggregation.NONE)
        trace = active_trace()
        if trace is not None and not trace.allow_variable_creation:
            raise ValueError(
                f"tx.Variable{' ' + repr(name) if name else ''} created on a later trace of "
                f"@tx.function "
                f"{trace.trace.builder.name!r}{_where()}: variables may only be created on the "
                "first trace (as tf.function). Create it outside the function, or once "
                "(e.g. `if self.v is None: self.v = tx.Variable(...)`).")
        value = self._initial_tensor(initial_value, dtype, trace)
        if shape is not None and tuple(shape) != tuple(value.shape):
            raise ValueError(f"tx.Variable: initial value has shape {list(value.shape)}, "
                             f"but shape={list(shape)} was given{_where()}")
        self._tensor = Tensor(value._buf, value._type)  # its own identity (tapes), shared buffer
        self._lock = threading.RLock()  # held by each update (RLock: assign_add calls assign)
        self._donating = False  # a compiled call holding the lock is donating the buffer
        self._serial = next(_SERIAL)
        self._vtype: TensorType = value._type
        self._trainable = bool(trainable)
        base = name if name is not None else "Variable"
        self._name = base if ":" in base else f"{base}:0"
        placed = sharding.layout_of(value._buf)
        if placed is not None:  # made from a tensor on a mesh: it stays there (as TF's DTensor)
            self._mesh_layout = placed
        if VARIABLE_PLACEMENTS:  # a strategy's scope is open: it places the variable
            VARIABLE_PLACEMENTS[-1](self)

    @staticmethod
    def _initial_tensor(initial_value: Any, dtype: Any, trace: Any) -> Tensor:
        if isinstance(initial_value, Variable):
            initial_value = initial_value._as_tensor()
        if isinstance(initial_value, Tensor) and initial_value._buf is None:
            from tfx_core.polymorphic_function.tracer import get_static_value

            known = get_static_value(initial_value)
            if known is None:
                raise ValueError(
                    "tx.Variable: the initial value is computed from the function's inputs "
                    f"inside @tx.function{_where()}; pass a callable (e.g. lambda: tx.zeros(...)) "
                    "or a value known when tracing")
            initial_value = known
        with init_scope():
            if callable(initial_value) and not isinstance(initial_value, Tensor):
                initial_value = initial_value()
            try:
                t = convert_to_tensor(initial_value, dtype=dtype)
            except TypeError as e:
                raise TypeError(f"tx.Variable: {e}{_where()}") from None
            if t._buf is None:  # a callable that returned a symbolic tensor
                raise ValueError("tx.Variable: the initial value must be computable eagerly"
                                 + _where())
        if not t._type.is_static:
            raise ValueError(f"tx.Variable: the initial value needs a static shape, got {t.type}")
        return t

    # ------------------------------------------------------------ metadata
    @property
    def dtype(self) -> DType:
        return self._vtype.dtype

    @property
    def shape(self) -> TensorShape:
        return TensorShape(self._vtype.shape)

    @property
    def ndim(self) -> int:
        return self._vtype.rank

    @property
    def name(self) -> str:
        return self._name

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def synchronization(self) -> Any:
        return self._synchronization

    @property
    def aggregation(self) -> Any:
        return self._aggregation

    def get_shape(self) -> TensorShape:
        return self.shape

    # ------------------------------------------------------------ reading
    def _as_tensor(self) -> Tensor:
        """The current value: the eager tensor, or this trace's symbolic value."""
        trace = active_trace()
        if trace is None:
            t = self._tensor
            if self._donating or self._tensor is not t:  # an update is under way: wait for it
                t = self._settled()
        else:
            t = trace.read_variable(self)
        for tape in recorders():
            tape._variable_read(self, t)
        return t

    def _settled(self) -> Tensor:
        """The eager value once no update is under way (the lock-free read met one)."""
        with self._lock:
            return self._tensor

    def value(self) -> Tensor:
        """The current value as a tensor."""
        return self._as_tensor()

    read_value = value

    @property
    def _buf(self) -> Any:
        """The current device buffer (how a compiled call passes this Variable in)."""
        t = self._tensor
        if self._donating or self._tensor is not t:
            t = self._settled()
        return t._buf

    def numpy(self) -> np.ndarray:
        return self._as_tensor().numpy()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        a = self.numpy()
        return a.astype(dtype) if dtype is not None else a

    # ------------------------------------------------------------ writing
    def _checked(self, value: Any, what: str) -> Tensor:
        try:
            t = convert_to_tensor(value, dtype=self.dtype)
        except TypeError as e:
            raise TypeError(f"{what} variable {self._name!r}: {e}{_where()}") from None
        shape = t._type.shape
        if len(shape) != self._vtype.rank or not all(
                dims_compatible(a, b) for a, b in zip(shape, self._vtype.shape)):
            raise ValueError(
                f"{what} variable {self._name!r}: a value of shape {list(shape)} does not "
                f"fit the variable's shape {list(self._vtype.shape)}{_where()}")
        return t

    def assign(self, value: Any, use_locking: bool = False, name: str | None = None,
               read_value: bool = True) -> Variable:
        """Set a new value of the same dtype and shape."""
        t = self._checked(value, "assign to")
        trace = active_trace()
        if trace is not None:
            trace.assign_variable(self, t)
        else:
            t._require_eager(f"assigning it to variable {self._name!r}")
            with self._lock:
                # A new identity: later reads are new tape sources, not the assigned computation.
                self._set_buffer(t._buf)
        return self

    def assign_add(self, delta: Any, use_locking: bool = False, name: str | None = None,
                   read_value: bool = True) -> Variable:
        """Add `delta` (same dtype and shape) to the value."""
        from tfx_core.ops.math_ops import add

        delta = self._checked(delta, "assign_add to")
        if active_trace() is not None:
            return self.assign(add(self._as_tensor(), delta))
        with self._lock:  # read, add and write as one update
            return self.assign(add(self._as_tensor(), delta))

    def assign_sub(self, delta: Any, use_locking: bool = False, name: str | None = None,
                   read_value: bool = True) -> Variable:
        """Subtract `delta` (same dtype and shape) from the value."""
        from tfx_core.ops.math_ops import subtract

        delta = self._checked(delta, "assign_sub to")
        if active_trace() is not None:
            return self.assign(subtract(self._as_tensor(), delta))
        with self._lock:  # read, subtract and write as one update
            return self.assign(subtract(self._as_tensor(), delta))

    # ------------------------------------------------------------ compiled calls
    def _prepare_donation(self) -> None:
        """Before a call that donates this variable's buffer (with its lock held): if anything
        else holds the buffer (a tensor the user kept from `value()`, another variable, a
        reader in another thread), give the variable a private copy first, so donation never
        invalidates a value someone can still see."""
        # NOTE: flagged first: a reader that fetches the tensor from now on sees the flag (or,
        # once the update is done, a new tensor) and waits on the lock instead of using it;
        # one that fetched it before holds a reference, which the counts below see.
        self._donating = True
        t = self._tensor
        # refs to t: self._tensor and the local `t` and getrefcount's argument (3); to the
        # buffer: t._buf and getrefcount's argument (2). More means it is shared.
        if sys.getrefcount(t) > 3 or sys.getrefcount(t._buf) > 2:
            self._tensor = Tensor(client.copy_buffer(t._buf), t._type)

    def _set_buffer(self, buf: Any) -> None:
        placed = self._mesh_layout
        if placed is not None and sharding.layout_of(buf) != placed:
            # a Variable placed on a mesh keeps its layout whatever value it is given
            buf = sharding.put(client.to_numpy(buf), *placed)
        self._tensor = Tensor(buf, self._vtype)

    # ------------------------------------------------------------ display
    def __repr__(self) -> str:
        shape = tuple(self._vtype.shape)
        head = f"<tx.Variable {self._name!r} shape={shape} dtype={self.dtype.name}"
        if active_trace() is not None:
            return head + ">"
        t = self._settled() if self._donating else self._tensor
        if t._buf is None:
            return head + ">"
        return head + f", numpy={np.array2string(t.numpy(), separator=', ')}>"

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return bool(self._as_tensor())

    def __float__(self) -> float:
        return float(self._as_tensor())

    def __int__(self) -> int:
        return int(self._as_tensor())

    def __index__(self) -> int:
        return self._as_tensor().__index__()

    def __len__(self) -> int:
        return len(self._as_tensor())

    def __iter__(self):
        return iter(self._as_tensor())


def _install_operators() -> None:
    """Every Python operator of Tensor, applied to the variable's current value."""
    from . import operators  # noqa: F401  (installs the Tensor operators first)

    names = [n for n in vars(Tensor) if n.startswith("__") and n.endswith("__")]
    skip = {"__init__", "__repr__", "__str__", "__hash__", "__bool__", "__float__", "__int__",
            "__index__", "__len__", "__iter__", "__array__", "__copy__", "__deepcopy__",
            "__slots__", "__module__", "__doc__", "__weakref__", "__array_priority__",
            "__qualname__", "__annotations__", "__dict__"}
    for n in names:
        if n in skip or not callable(vars(Tensor)[n]):
            continue
        op = vars(Tensor)[n]
        setattr(Variable, n, (lambda f: lambda self, *a: f(self._as_tensor(), *a))(op))


_install_operators()


def place_like(var: Variable, like: Variable) -> None:
    """Put `var` where `like` is (its mesh and layout, for good), e.g. an optimizer slot next
    to its variable; nothing for a variable on one device."""
    placed = like._mesh_layout or sharding.layout_of(like._tensor._buf)
    if placed is not None and tuple(var._vtype.shape) == tuple(like._vtype.shape):
        var._mesh_layout = placed
        var._set_buffer(var._tensor._buf)


class AssignedVariables:
    """The Variables one compiled program assigns, and how a call updates them atomically.

    `begin` takes their locks in one global order (creation order: two programs assigning
    overlapping sets can't deadlock) and readies the donated buffers; `commit` writes the new
    buffers; `end` releases. Between `begin` and `end`, other updates of these variables wait,
    and readers of them wait only while a donated buffer is in flight.
    """

    __slots__ = ("_assigned", "_donated", "_locks")

    def __init__(self, assigned: Sequence[Variable], donated: Sequence[Variable]):
        self._assigned = list(assigned)
        self._donated = list(donated)
        unique = {id(v): v for v in assigned}.values()
        self._locks = [v._lock for v in sorted(unique, key=lambda v: v._serial)]

    def begin(self) -> None:
        taken = 0
        try:
            for lock in self._locks:
                lock.acquire()
                taken += 1
            for var in self._donated:
                var._prepare_donation()
        except BaseException:  # (an interrupt, or copying a buffer failed)
            if taken == len(self._locks):  # the flags are ours to clear only under every lock
                for var in self._donated:
                    var._donating = False
            for lock in reversed(self._locks[:taken]):
                lock.release()
            raise

    def commit(self, buffers: Sequence[Any]) -> None:
        for var, buf in zip(self._assigned, buffers):
            var._set_buffer(buf)

    def end(self) -> None:
        for var in self._donated:
            var._donating = False
        for lock in reversed(self._locks):
            lock.release()
