"""Python operators on `tx.Tensor` (+ - * / // % ** @, comparisons, & | ^ ~, indexing)."""
from __future__ import annotations

from tfx_core.framework.tensor import Tensor
from tfx_core.ops import math_ops as M


def _logical_or_bitwise(logical, bitwise):
    def op(x, y):
        x, y = M.binary_operands(bitwise.__name__, x, y)
        return logical(x, y) if x.dtype.is_bool else bitwise(x, y)

    return op


def _matmul(x, y):
    from tfx_core.ops.linalg_ops import matmul

    return matmul(x, y)


def _getitem(x, key):
    from tfx_core.ops.array_ops import getitem

    return getitem(x, key)


def _invert(x):
    return M.logical_not(x) if x.dtype.is_bool else M.invert(x)


_and = _logical_or_bitwise(M.logical_and, M.bitwise_and)
_or = _logical_or_bitwise(M.logical_or, M.bitwise_or)
_xor = _logical_or_bitwise(M.logical_xor, M.bitwise_xor)

_BINARY = {
    "add": M.add,
    "sub": M.subtract,
    "mul": M.multiply,
    "truediv": M.truediv,
    "floordiv": M.floordiv,
    "mod": M.floormod,
    "pow": M.pow,
    "matmul": _matmul,
    "and": _and,
    "or": _or,
    "xor": _xor,
}


def _install() -> None:
    for name, fn in _BINARY.items():
        setattr(Tensor, f"__{name}__", (lambda f: lambda self, other: f(self, other))(fn))
        setattr(Tensor, f"__r{name}__", (lambda f: lambda self, other: f(other, self))(fn))
    Tensor.__neg__ = lambda self: M.negative(self)
    Tensor.__pos__ = lambda self: self
    Tensor.__abs__ = lambda self: M.abs(self)
    Tensor.__invert__ = _invert
    Tensor.__lt__ = lambda self, o: M.less(self, o)
    Tensor.__le__ = lambda self, o: M.less_equal(self, o)
    Tensor.__gt__ = lambda self, o: M.greater(self, o)
    Tensor.__ge__ = lambda self, o: M.greater_equal(self, o)
    Tensor.__eq__ = lambda self, o: M.equal(self, o)  # elementwise, as in TF2
    Tensor.__ne__ = lambda self, o: M.not_equal(self, o)
    Tensor.__hash__ = object.__hash__
    Tensor.__getitem__ = _getitem


_install()
