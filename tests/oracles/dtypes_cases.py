"""The dtype cases whose TF 2.21 answers tests/oracles/record_dtypes.py records: shifts at and
past the bit width, complex gradients, saturate_cast and bitcast edges. Each case is written
against a namespace `m` (tensorflow or tfx_core), so the recorder and the tests share it."""
from __future__ import annotations

import numpy as np

INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def shift_inputs(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Every (x, y) pair of a few values and shift amounts: 0, 1, bits-1, bits, past it, < 0."""
    dt = np.dtype(dtype)
    info = np.iinfo(dt)
    bits = dt.itemsize * 8
    xs = [0, 1, 5, info.max, info.max - 3] + ([-1, -6, info.min, info.min + 1] if info.min else [])
    ys = [0, 1, 3, bits - 1, bits, bits + 1, 2 * bits + 3] + ([-1, -bits] if info.min else [])
    x, y = np.meshgrid(np.array(xs, dt), np.array(ys, dt), indexing="ij")
    return x.reshape(-1), y.reshape(-1)


# ---------------------------------------------------------------- complex gradients
Z = np.array([1.0 + 2.0j, -0.5 + 0.25j, 2.0 - 1.5j, -1.25 - 0.75j], np.complex128)
W = np.array([0.5 - 1.0j, 1.5 + 0.5j, -1.0 + 2.0j, 0.75 + 0.25j], np.complex128)
ZM = (np.arange(6).reshape(2, 3) * (0.3 + 0.2j) + (0.1 - 0.4j)).astype(np.complex128)
WM = (np.arange(12).reshape(3, 4)[::-1] * (0.1 - 0.25j) + 0.5j).astype(np.complex128)
XR = np.array([0.5, -1.5, 2.0, 0.25], np.float64)
YR = np.array([1.0, 0.75, -0.5, -2.0], np.float64)


def grad_cases(m) -> dict:
    """name -> (function of the sources returning a real scalar loss, the sources)."""
    s = m.reduce_sum
    M = m.math
    return {
        "abs_mul": (lambda z, w: s(m.abs(z * w)), (Z, W)),
        "real_exp": (lambda z: s(M.real(m.exp(z))), (Z,)),
        "imag_log": (lambda z: s(M.imag(M.log(z))), (Z,)),
        "abs_squared": (lambda z: s(m.abs(z) ** 2), (Z,)),
        "z_conj_z": (lambda z: s(M.real(z * M.conj(z))), (Z,)),
        "abs_sqrt": (lambda z: s(m.abs(m.sqrt(z))), (Z,)),
        "real_sin_cos": (lambda z: s(M.real(m.sin(z) * m.cos(z))), (Z,)),
        "angle": (lambda z: s(M.angle(z)), (Z,)),
        "imag_tanh": (lambda z: s(M.imag(m.tanh(z))), (Z,)),
        "abs_div": (lambda z, w: s(m.abs(z / w)), (Z, W)),
        "real_pow": (lambda z, w: s(M.real(m.pow(z, w))), (Z, W)),
        "imag_square_sub": (lambda z, w: s(M.imag(m.square(z - w) + z)), (Z, W)),
        "cast_real": (lambda z: s(m.cast(z, m.float64) * 3.0), (Z,)),
        "complex_parts": (lambda x, y: s(m.abs(m.complex(x, y) ** 2 + m.complex(y, x))),
                          (XR, YR)),
        "cast_to_complex": (lambda x: s(M.imag(m.cast(x, m.complex128) * (1 + 2j))), (XR,)),
        "reduce_prod": (lambda z: M.real(m.reduce_prod(z)), (Z,)),
        "reduce_mean_abs": (lambda z: m.abs(m.reduce_mean(z * z)), (Z,)),
        "matmul": (lambda a, b: s(m.abs(m.matmul(a, b))), (ZM, WM)),
        "matmul_adjoint": (lambda a, b: s(M.real(m.matmul(a, b, adjoint_b=True) * (1 - 1j))),
                           (ZM, np.conj(ZM))),
        "einsum": (lambda a, b: s(M.imag(m.einsum("ij,jk->ik", a, b))), (ZM, WM)),
        "exp_neg_sigmoid": (lambda z: s(m.abs(m.sigmoid(-z) + m.exp(z / 4))), (Z,)),
        "reshape_transpose": (lambda a: s(M.real(m.transpose(m.reshape(a, (3, 2))) * ZM)),
                              (ZM,)),
        "cumsum": (lambda z: s(m.abs(M.cumsum(z, reverse=True))), (Z,)),
        "cumprod": (lambda z, w: s(M.real(M.cumprod(z) * w)), (Z, W)),
        "norm": (lambda a: m.norm(a), (ZM,)),
        "sign": (lambda z: s(M.real(M.sign(z) * z)), (Z,)),
        "where_select": (lambda z, w: s(m.abs(m.where(M.real(z) > 0, z * w, w))), (Z, W)),
    }


# ---------------------------------------------------------------- saturate_cast / bitcast
SAT_FLOATS = np.array([np.nan, np.inf, -np.inf, 1e10, -1e10, 2147483647.0, 2147483520.0,
                       -2147483648.0, 4294967296.0, 300.7, -0.5, -1.5, 255.5, 65535.9, 0.0],
                      np.float32)
SAT_TARGETS = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")


def saturate_cases() -> dict:
    """name -> (input array, target dtype name)."""
    cases = {f"f32_{t}": (SAT_FLOATS, t) for t in SAT_TARGETS}
    cases["f64_f32"] = (np.array([1e300, -1e300, 3.5, np.inf, np.nan], np.float64), "float32")
    cases["f64_i64"] = (np.array([9.3e18, -9.3e18, 9.2e18, 1.5, np.nan], np.float64), "int64")
    cases["f64_u64"] = (np.array([1.9e19, -3.0, 1.8e19, 1.5], np.float64), "uint64")
    big = np.iinfo(np.int64)
    cases["i64_i32"] = (np.array([big.max, big.min, 5, -3, 2**31], np.int64), "int32")
    cases["i32_u8"] = (np.array([-1, 256, 255, 0, 2**31 - 1], np.int32), "uint8")
    cases["u32_i32"] = (np.array([2**32 - 1, 2**31, 7], np.uint32), "int32")
    cases["u64_i64"] = (np.array([2**64 - 1, 2**63, 7], np.uint64), "int64")
    cases["i64_u64"] = (np.array([-1, big.max, big.min], np.int64), "uint64")
    cases["i8_u16"] = (np.array([-128, -1, 127], np.int8), "uint16")
    cases["i64_f16"] = (np.array([100000, -100000, 3], np.int64), "float16")
    cases["f32_f16"] = (np.array([1e6, -1e6, 2.5, np.inf], np.float32), "float16")
    cases["c128_f32"] = (np.array([1e300 + 2j, 3.5 - 1e300j, -2 + 1j], np.complex128), "float32")
    cases["c128_c64"] = (np.array([1e300 + 2j, 3.5 - 1e300j], np.complex128), "complex64")
    cases["f64_c64"] = (np.array([1e300, -2.5], np.float64), "complex64")
    cases["c64_i32"] = (np.array([3e9 + 1j, -7.9 + 5j], np.complex64), "int32")
    return cases


def bitcast_cases() -> dict:
    """name -> (input array, target dtype name)."""
    f = np.array([1.0, -2.5, np.inf], np.float32)
    return {
        "f32_i32": (f, "int32"),
        "f32_u32": (f, "uint32"),
        "f32_u8": (f, "uint8"),
        "f32_i16": (f.reshape(3, 1), "int16"),
        "u8_f32": (np.arange(8, dtype=np.uint8).reshape(2, 4) * 17, "float32"),
        "i16_f16": (np.array([[15360, -17408]], np.int16), "float16"),
        "i64_i32": (np.array([1, -1, 2**40 + 3], np.int64), "int32"),
        "i32_i64": (np.array([[1, 2], [-1, -1]], np.int32), "int64"),
        "f64_u64": (np.array(-0.0, np.float64), "uint64"),
        "u16_i8": (np.array([[65535, 258]], np.uint16), "int8"),
        "i8_u8": (np.array([-1, -128, 5], np.int8), "uint8"),
        "i32_f32_scalar": (np.array(1065353216, np.int32), "float32"),
    }
