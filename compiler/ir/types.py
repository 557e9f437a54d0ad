"""Element dtypes and tensor types of the IR (`DType`, `TensorType`)."""
from __future__ import annotations

from dataclasses import dataclass, field

import ml_dtypes
import numpy as np


class DType:
    """One element type. Instances are interned: compare with `is` or `==`.

    `name` is the TensorFlow spelling (`float32`), `short` the printed IR spelling (`f32`).
    """

    __slots__ = ("name", "short", "np_dtype", "kind", "bits")

    _by_name: dict[str, DType] = {}
    _by_short: dict[str, DType] = {}
    _by_np: dict[np.dtype, DType] = {}

    def __init__(self, name: str, short: str, np_dtype: np.dtype, kind: str, bits: int):
        self.name = name
        self.short = short
        self.np_dtype = np.dtype(np_dtype)
        self.kind = kind  # "f" float, "i" signed int, "u" unsigned int, "b" bool, "c" complex
        self.bits = bits
        DType._by_name[name] = self
        DType._by_short[short] = self
        DType._by_np[self.np_dtype] = self

    # NOTE: identity equality/hash (interned), so DType works as a dict key and attr value.
    def __repr__(self) -> str:
        return f"tx.{self.name}"

    def __str__(self) -> str:
        return self.name

    def __reduce__(self):
        return (DType.from_any, (self.name,))

    @property
    def is_floating(self) -> bool:
        return self.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self.kind in "iu"

    @property
    def is_unsigned(self) -> bool:
        return self.kind == "u"

    @property
    def is_bool(self) -> bool:
        return self.kind == "b"

    @property
    def is_complex(self) -> bool:
        return self.kind == "c"

    @property
    def is_inexact(self) -> bool:
        """Floating or complex: the dtypes gradients flow through."""
        return self.kind in "fc"

    @property
    def real_dtype(self) -> DType:
        """The component dtype of a complex dtype (complex64 -> float32); itself otherwise."""
        return _REAL_OF.get(self, self)

    @property
    def size(self) -> int:
        """Bytes per element (tf.DType.size)."""
        return self.np_dtype.itemsize

    @property
    def as_numpy_dtype(self) -> type:
        return self.np_dtype.type

    @property
    def base_dtype(self) -> DType:
        return self

    @property
    def min(self):
        if self.is_complex:  # as TF: complex numbers are not ordered
            raise TypeError(f"Cannot find minimum value of {self.name}.")
        return _finfo_or_iinfo(self.np_dtype).min

    @property
    def max(self):
        if self.is_complex:
            raise TypeError(f"Cannot find maximum value of {self.name}.")
        return _finfo_or_iinfo(self.np_dtype).max

    def limits(self, clip_negative: bool = True) -> tuple:
        """(min, max) as TF's DType.limits; with clip_negative, unsigned dtypes start at 0."""
        lo, hi = self.min, self.max
        return (0 if clip_negative and self.is_unsigned else lo), hi

    @property
    def is_numeric(self) -> bool:
        return self.kind in "fiuc"

    @property
    def is_quantized(self) -> bool:
        return False  # tfx has no quantized dtypes (qint8, ...)

    @property
    def is_numpy_compatible(self) -> bool:
        return True

    @property
    def as_datatype_enum(self) -> int:
        """TF's DataType enum value (types.proto), for code that switches on it."""
        return _TF_ENUM[self.name]

    def is_compatible_with(self, other) -> bool:
        """Whether `other` (a DType, name or numpy dtype) is this dtype (tf.DType's method)."""
        try:
            return DType.from_any(other) is self
        except TypeError:
            return False

    @staticmethod
    def from_short(short: str) -> DType:
        return DType._by_short[short]

    @staticmethod
    def from_numpy(dt) -> DType:
        """The DType of a numpy dtype; raises TypeError for unsupported ones."""
        try:
            return DType._by_np[np.dtype(dt)]
        except (KeyError, TypeError, ValueError):  # ValueError: unencodable names, ...
            known = ", ".join(d.name for d in DType._by_name.values())
            raise TypeError(f"unsupported dtype {dt!r}; tensors can be {known}") from None

    @staticmethod
    def from_any(dt) -> DType:
        """Accept a DType, a TF-style name ('float32'), a short name ('f32') or a numpy dtype."""
        if isinstance(dt, DType):
            return dt
        if isinstance(dt, str):
            if dt in DType._by_name:
                return DType._by_name[dt]
            if dt in DType._by_short:
                return DType._by_short[dt]
        if dt is bool:
            return BOOL
        if dt is float:
            return F32
        if dt is int:
            return I32
        if dt is complex:
            return C128
        return DType.from_numpy(dt)


def _finfo_or_iinfo(dt: np.dtype):
    if dt == np.bool_:
        return np.iinfo(np.uint8)
    if dt.kind in "fc" or dt == np.dtype(ml_dtypes.bfloat16):
        return ml_dtypes.finfo(dt)
    return np.iinfo(dt)


F16 = DType("float16", "f16", np.float16, "f", 16)
BF16 = DType("bfloat16", "bf16", ml_dtypes.bfloat16, "f", 16)
F32 = DType("float32", "f32", np.float32, "f", 32)
F64 = DType("float64", "f64", np.float64, "f", 64)
I8 = DType("int8", "i8", np.int8, "i", 8)
I16 = DType("int16", "i16", np.int16, "i", 16)
I32 = DType("int32", "i32", np.int32, "i", 32)
I64 = DType("int64", "i64", np.int64, "i", 64)
U8 = DType("uint8", "u8", np.uint8, "u", 8)
U16 = DType("uint16", "u16", np.uint16, "u", 16)
U32 = DType("uint32", "u32", np.uint32, "u", 32)
U64 = DType("uint64", "u64", np.uint64, "u", 64)
BOOL = DType("bool", "bool", np.bool_, "b", 1)
C64 = DType("complex64", "c64", np.complex64, "c", 64)
C128 = DType("complex128", "c128", np.complex128, "c", 128)

ALL_DTYPES = (F16, BF16, F32, F64, I8, I16, I32, I64, U8, U16, U32, U64, BOOL, C64, C128)
_REAL_OF = {C64: F32, C128: F64}
_TF_ENUM = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
            "complex64": 8, "int64": 9, "bool": 10, "bfloat16": 14, "uint16": 17,
            "complex128": 18, "float16": 19, "uint32": 22, "uint64": 23}
COMPLEX_OF = {F32: C64, F64: C128}

Shape = tuple  # tuple[int | None, ...]: None marks a dimension unknown at trace time


@dataclass(frozen=True, slots=True, eq=False)
class TensorType:
    """The static type of an IR value: element dtype and shape (None = unknown dim)."""

    dtype: DType
    shape: tuple
    # NOTE: types key every dispatch cache lookup, so the hash is computed once.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.dtype, self.shape)))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, TensorType)
            and self.dtype is other.dtype
            and self.shape == other.shape
        )

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def is_static(self) -> bool:
        return None not in self.shape

    @property
    def num_elements(self) -> int | None:
        if not self.is_static:
            return None
        n = 1
        for d in self.shape:
            n *= d
        return n

    def with_shape(self, shape) -> TensorType:
        return TensorType(self.dtype, tuple(shape))

    def with_dtype(self, dtype: DType) -> TensorType:
        return TensorType(dtype, self.shape)

    def __str__(self) -> str:
        dims = ",".join("?" if d is None else str(d) for d in self.shape)
        return f"{self.dtype.short}[{dims}]"

    __repr__ = __str__


def broadcast_shapes(a: tuple, b: tuple) -> tuple | None:
    """NumPy broadcasting of two shapes with None (unknown) dims; None if incompatible."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None:
            out.append(y)
        elif y is None or x == y:
            out.append(x)
        else:
            return None
    return tuple(reversed(out))


def dims_compatible(a, b) -> bool:
    """True when two dims may be equal (None matches anything)."""
    return a is None or b is None or a == b
