"""`tx.Tensor`: an eager device buffer or a symbolic value inside a trace, one class for both."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import DType, TensorType
from runtime import client


class TensorShape(tuple):
    """A tuple of dims (int or None for unknown), with TF's helpers."""

    def as_list(self) -> list:
        return list(self)

    @property
    def rank(self) -> int:
        return len(self)

    @property
    def ndims(self) -> int:
        return len(self)

    def num_elements(self) -> int | None:
        if None in self:
            return None
        n = 1
        for d in self:
            n *= d
        return n

    def is_fully_defined(self) -> bool:
        return None not in self

    def __repr__(self) -> str:
        return f"TensorShape({list(self)})"


class Tensor:
    """A multi-dimensional array, as tf.Tensor.

    Eagerly it owns a device buffer (`numpy()` copies it to the host); inside `@tx.function` it
    is a symbolic value of the graph being traced, with the same operators and ops.
    """

    __slots__ = ("_buf", "_value", "_trace", "_type", "__weakref__")
    __array_priority__ = 100  # numpy defers `ndarray + Tensor` to Tensor.__radd__

    def __init__(self, buf: Any, type: TensorType, value: Any = None, trace: Any = None):
        self._buf = buf
        self._type = type
        self._value = value
        self._trace = trace

    # ------------------------------------------------------------ construction helpers
    @staticmethod
    def from_numpy(a: np.ndarray) -> Tensor:
        a = np.asarray(a)
        return Tensor(client.device_put(a), TensorType(DType.from_numpy(a.dtype), a.shape))

    @property
    def is_symbolic(self) -> bool:
        return self._buf is None

    # ------------------------------------------------------------ metadata
    @property
    def dtype(self) -> DType:
        return self._type.dtype

    @property
    def shape(self) -> TensorShape:
        return TensorShape(self._type.shape)

    @property
    def ndim(self) -> int:
        return self._type.rank

    @property
    def type(self) -> TensorType:
        return self._type

    def get_shape(self) -> TensorShape:
        return self.shape

    # ------------------------------------------------------------ host access
    def _require_eager(self, what: str) -> None:
        if self._buf is None:
            raise TypeError(
                f"{what} is not available on a symbolic tensor ({self._type}) of a "
                "@tx.function trace: it has no value until the compiled function runs. Return "
                "it from the function, or use tx.config.run_functions_eagerly(True) to debug."
            )

    def numpy(self) -> np.ndarray:
        """A host copy of the value, as a numpy array."""
        self._require_eager("numpy()")
        return client.to_numpy(self._buf)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        a = self.numpy()
        return a.astype(dtype) if dtype is not None else a

    def __len__(self) -> int:
        if not self._type.shape:
            raise TypeError("len() of a 0-d tensor")
        d = self._type.shape[0]
        if d is None:
            raise TypeError(f"len() of a tensor with unknown first dimension ({self._type})")
        return d

    def __iter__(self):
        n = len(self)
        for i in range(n):
            yield self[i]

    def _scalar(self, kind: str):
        if self._buf is None:
            raise TypeError(
                f"cannot convert a symbolic tensor ({self._type}) to a Python {kind} inside "
                "@tx.function: its value is unknown while tracing"
            )
        if self._type.shape != ():
            n = self._type.num_elements
            if n != 1:
                raise TypeError(f"only a tensor with one element can become a Python {kind}")
        return self.numpy().reshape(())

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __index__(self) -> int:
        if not self.dtype.is_integer:
            raise TypeError(f"only integer tensors can be used as an index, got {self._type}")
        return int(self._scalar("int"))

    def __bool__(self) -> bool:
        if self._buf is None:
            raise TypeError(
                f"using a symbolic tensor ({self._type}) as a Python bool is not allowed inside "
                "@tx.function: its value is unknown while tracing, so `if t:` / `while t:` / "
                "`and`/`or` cannot decide. Use tx.where(cond, x, y) to select values, or compute "
                "the condition outside the function and pass it as a Python bool argument."
            )
        return bool(self._scalar("bool"))

    def __repr__(self) -> str:
        shape = tuple(self._type.shape)
        if self._buf is None:
            return f"<tx.Tensor symbolic shape={shape} dtype={self.dtype.name}>"
        body = np.array2string(self.numpy(), separator=", ")
        return f"<tx.Tensor: shape={shape}, dtype={self.dtype.name}, numpy={body}>"

    def __str__(self) -> str:
        if self._buf is None:
            return repr(self)
        body = np.array2string(self.numpy(), separator=", ")
        return f"tx.Tensor({body}, shape={tuple(self.shape)}, dtype={self.dtype.name})"

    __hash__ = object.__hash__  # identity, like tf.Tensor in TF1 graph mode

    def __copy__(self) -> Tensor:
        return self

    def __deepcopy__(self, memo) -> Tensor:
        return self


def is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)
