"""The convolution formulations of compiler/lowering/conv_formulations.py (im2col, eigen) and the
rule choosing them: compiled results against the float64 numpy reference, what each emits, the
rule's edges, the lowering options and the user's switch, and gradients through tx.nn.conv2d
against jax.grad."""
from __future__ import annotations

import os
import subprocess
import sys
import zlib
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tfx_core as tx
from compiler.interpreters import bind
from compiler.ir.types import BF16, F16, F32, F64, TensorType
from compiler.lowering import conv_formulations as CF
from compiler.lowering.options import CONV_FORMULATIONS, LoweringOptions
from compiler.ops.conv import _conv_reference, convolution_op
from tfx_core.framework.eager import EAGER

ROOT = Path(__file__).resolve().parents[3]
NHWC = ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))  # tx.nn.conv2d's NHWC input, HWIO filter
NCHW = ((0, 1, 2, 3), (0, 1, 2, 3), (0, 1, 2, 3))  # NCHW input, OIHW filter


@pytest.fixture(autouse=True)
def _restore_mode():
    prev = tx.config.get_conv_formulation()
    yield
    tx.config.set_conv_formulation(prev)


def _cpu(mode: str = "auto") -> LoweringOptions:
    return LoweringOptions("cpu", mode)


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def _attrs(dims=NHWC, padding=((1, 1), (1, 1)), strides=(1, 1), rhs_dilation=(1, 1),
           lhs_dilation=(1, 1), groups=1) -> dict:
    return dict(window_strides=strides, padding=padding, lhs_dilation=lhs_dilation,
                rhs_dilation=rhs_dilation, dimension_numbers=dims, feature_group_count=groups,
                batch_group_count=1)


def _laid_out(canon: tuple, spec: tuple) -> tuple:
    shape = [0] * len(spec)
    for j, d in enumerate(spec):
        shape[d] = canon[j]
    return tuple(shape)


def _operands(name: str, n: int, c: int, k: int, sp: tuple, ks: tuple, a: dict):
    rng = _rng(name)
    ls, rs, _ = a["dimension_numbers"]
    lhs = rng.standard_normal(_laid_out((n, c, *sp), ls)).astype(np.float32)
    rhs = rng.standard_normal(_laid_out((k, c // a["feature_group_count"], *ks), rs))
    return lhs, rhs.astype(np.float32)


def _compiled(mode: str, lhs: np.ndarray, rhs: np.ndarray, a: dict) -> tuple[np.ndarray, str]:
    """The convolution compiled under `mode`: (result, its StableHLO)."""
    tx.config.set_conv_formulation(mode)
    f = tx.function(lambda x, w: bind(convolution_op, x, w, **a))
    x, w = tx.constant(lhs), tx.constant(rhs)
    return f(x, w).numpy(), f.experimental_get_compiler_ir(x, w)("stablehlo")


def _check(y: np.ndarray, lhs: np.ndarray, rhs: np.ndarray, a: dict) -> None:
    ref = _conv_reference(lhs.astype(np.float64), rhs.astype(np.float64), **a)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=2e-5 * max(1.0, np.abs(ref).max()))


def _emitted(text: str) -> str:
    has_conv, has_dot = "stablehlo.convolution" in text, "stablehlo.dot_general" in text
    assert has_conv != has_dot, text
    if has_dot:
        return "im2col_t" if "contracting_dims = [0] x [0]" in text else "im2col"
    return "eigen" if "stablehlo.slice" in text else "direct"


# ---------------------------------------------------------------- each formulation, exactly
IM2COL_CASES = {  # name: (N, C, K, spatial, kernel, attrs)
    "same_even": (2, 3, 8, (8, 8), (3, 3), _attrs()),
    "valid_odd": (1, 5, 4, (7, 9), (3, 3), _attrs(padding=((0, 0), (0, 0)))),
    "batch1_asym_pad": (1, 2, 6, (6, 5), (3, 3), _attrs(padding=((0, 2), (2, 1)))),
    "kernel_2x3": (3, 4, 5, (6, 7), (2, 3), _attrs(padding=((1, 0), (1, 1)))),
    "strided_dilated": (2, 3, 4, (9, 8), (3, 2), _attrs(strides=(2, 3), rhs_dilation=(2, 1))),
    "nchw_oihw": (2, 3, 6, (5, 6), (3, 3), _attrs(dims=NCHW)),
    "odd_layouts": (2, 3, 4, (5, 6), (3, 3), _attrs(dims=((1, 3, 0, 2), (2, 0, 3, 1),
                                                          (3, 0, 2, 1)))),
    "1x1": (2, 7, 3, (4, 4), (1, 1), _attrs(padding=((0, 0), (0, 0)))),
    "1x1_stride2": (2, 7, 3, (5, 6), (1, 1), _attrs(padding=((0, 0), (0, 0)), strides=(2, 2))),
    "1x1_lhs_dilated": (2, 5, 3, (4, 3), (1, 1), _attrs(padding=((0, 1), (2, -1)),
                                                        lhs_dilation=(2, 3))),
    "1d": (2, 3, 4, (9,), (3,), _attrs(dims=((0, 2, 1), (2, 1, 0), (0, 2, 1)),
                                       padding=((1, 1),), strides=(1,), rhs_dilation=(1,),
                                       lhs_dilation=(1,))),
    "3d": (1, 2, 3, (4, 5, 3), (2, 3, 2),
           _attrs(dims=((0, 4, 1, 2, 3), (4, 3, 0, 1, 2), (0, 4, 1, 2, 3)),
                  padding=((1, 0), (1, 1), (0, 1)), strides=(1, 1, 1), rhs_dilation=(1, 1, 1),
                  lhs_dilation=(1, 1, 1))),
}


@pytest.mark.parametrize("case", IM2COL_CASES)
def test_im2col_matches_reference(case):
    n, c, k, sp, ks, a = IM2COL_CASES[case]
    lhs, rhs = _operands(f"im2col/{case}", n, c, k, sp, ks, a)
    y, text = _compiled("im2col", lhs, rhs, a)
    assert _emitted(text) == "im2col"
    _check(y, lhs, rhs, a)
    _check(bind(convolution_op, tx.constant(lhs), tx.constant(rhs), **a).numpy(), lhs, rhs, a)


EIGEN_CASES = {
    "same_even": (2, 16, 24, (8, 8), (3, 3), _attrs()),
    "same_odd": (3, 5, 7, (7, 9), (3, 3), _attrs()),
    "batch1": (1, 4, 3, (6, 6), (3, 3), _attrs()),
    "5x5_same": (2, 3, 4, (6, 7), (5, 5), _attrs(padding=((2, 2), (2, 2)))),
    "nchw_oihw": (2, 3, 6, (5, 6), (3, 3), _attrs(dims=NCHW)),
    "stride_w": (2, 3, 4, (6, 8), (3, 3), _attrs(strides=(1, 2))),
    "vjp_lhs_layout": (2, 6, 3, (6, 6), (3, 3), _attrs(dims=((0, 3, 1, 2), (2, 3, 0, 1),
                                                              (0, 3, 1, 2)))),
    "grouped": (2, 4, 6, (6, 6), (3, 3), _attrs(groups=2)),
}


@pytest.mark.parametrize("case", EIGEN_CASES)
def test_eigen_matches_reference(case):
    n, c, k, sp, ks, a = EIGEN_CASES[case]
    lhs, rhs = _operands(f"eigen/{case}", n, c, k, sp, ks, a)
    y, text = _compiled("eigen", lhs, rhs, a)
    assert _emitted(text) == "eigen"
    assert "pad = [[1, 2]," in text or "pad = [[2, 3]," in text, text  # one more row of padding
    _check(y, lhs, rhs, a)


DW = ((3, 0, 1, 2), (3, 0, 1, 2), (2, 3, 0, 1))  # `_conv_vjp`'s filter gradient of NHWC/HWIO
IM2COL_T_CASES = {  # (N, C, K, spatial, kernel, attrs); for DW: N = C_in, C = batch, K = C_out
    "dw_3x3": (3, 2, 4, (6, 6), (6, 6), _attrs(dims=DW)),
    "dw_3x3_stride2": (3, 2, 4, (9, 9), (5, 5), _attrs(dims=DW, rhs_dilation=(2, 2))),
    "dw_1x1": (3, 2, 4, (5, 5), (5, 5), _attrs(dims=DW, padding=((0, 0), (0, 0)))),
    "dw_1x1_stride2_crop": (3, 2, 4, (6, 6), (3, 3), _attrs(dims=DW, padding=((0, -1), (0, -1)),
                                                            rhs_dilation=(2, 2))),
    "forward_nchw_strided": (2, 3, 4, (7, 6), (3, 2), _attrs(dims=NCHW, strides=(2, 1))),
}


@pytest.mark.parametrize("case", IM2COL_T_CASES)
def test_im2col_t_matches_reference_compiled_and_eager(case):
    n, c, k, sp, ks, a = IM2COL_T_CASES[case]
    lhs, rhs = _operands(f"im2col_t/{case}", n, c, k, sp, ks, a)
    y, text = _compiled("im2col_t", lhs, rhs, a)
    assert _emitted(text) == "im2col_t"
    _check(y, lhs, rhs, a)
    _check(bind(convolution_op, tx.constant(lhs), tx.constant(rhs), **a).numpy(), lhs, rhs, a)


FALLBACK_CASES = {  # a forced formulation that does not apply emits the plain convolution
    ("im2col", "lhs_dilation"): (2, 3, 4, (5, 5), (3, 3), _attrs(lhs_dilation=(2, 1))),
    ("im2col", "groups"): (2, 4, 6, (5, 5), (3, 3), _attrs(groups=2)),
    ("im2col", "negative_padding"): (2, 3, 4, (6, 6), (3, 3), _attrs(padding=((-1, 1), (1, 1)))),
    ("eigen", "valid"): (2, 3, 4, (6, 6), (3, 3), _attrs(padding=((0, 0), (0, 0)))),
    ("eigen", "stride_h"): (2, 3, 4, (6, 6), (3, 3), _attrs(strides=(2, 1))),
    ("eigen", "1d"): (2, 3, 4, (9,), (3,), _attrs(dims=((0, 2, 1), (2, 1, 0), (0, 2, 1)),
                                                   padding=((1, 1),), strides=(1,),
                                                   rhs_dilation=(1,), lhs_dilation=(1,))),
    ("eigen", "lhs_dilation"): (2, 3, 4, (5, 5), (3, 3), _attrs(lhs_dilation=(2, 2))),
}


@pytest.mark.parametrize("mode, case", FALLBACK_CASES)
def test_forced_formulation_falls_back_where_invalid(mode, case):
    n, c, k, sp, ks, a = FALLBACK_CASES[(mode, case)]
    lhs, rhs = _operands(f"fallback/{mode}/{case}", n, c, k, sp, ks, a)
    y, text = _compiled(mode, lhs, rhs, a)
    assert _emitted(text) == "direct"
    _check(y, lhs, rhs, a)


def test_direct_mode_emits_one_convolution():
    n, c, k, sp, ks, a = IM2COL_CASES["same_even"]
    lhs, rhs = _operands("direct", n, c, k, sp, ks, a)
    y, text = _compiled("direct", lhs, rhs, a)
    assert _emitted(text) == "direct" and text.count("stablehlo.convolution") == 1
    _check(y, lhs, rhs, a)


def test_bf16_and_f16_formulations_accumulate_in_f32():
    n, c, k, sp, ks, a = EIGEN_CASES["same_even"]
    lhs, rhs = _operands("half", n, c, k, sp, ks, a)
    ref = _conv_reference(lhs.astype(np.float64), rhs.astype(np.float64), **a)
    for mode in ("im2col", "eigen"):
        for dt in (tx.float16, tx.bfloat16):
            tx.config.set_conv_formulation(mode)
            f = tx.function(lambda x, w: bind(convolution_op, x, w, **a))
            y = f(tx.cast(tx.constant(lhs), dt), tx.cast(tx.constant(rhs), dt))
            assert y.dtype == dt
            np.testing.assert_allclose(np.asarray(y.numpy(), np.float64), ref, rtol=0.05,
                                       atol=0.05 * np.abs(ref).max())


# ---------------------------------------------------------------- the rule (auto)
def _types(n, c, k, sp, ks=(3, 3), dtype=F32, a=None):
    a = a or _attrs()
    ls, rs, os_ = a["dimension_numbers"]
    out_sp = tuple((s + lo + hi - kk) // st + 1 for s, kk, (lo, hi), st in
                   zip(sp, ks, a["padding"], a["window_strides"]))
    return (TensorType(dtype, _laid_out((n, c, *sp), ls)),
            TensorType(dtype, _laid_out((k, c, *ks), rs)),
            TensorType(dtype, _laid_out((n, k, *out_sp), os_)), a)


RULE_CASES = {  # (N, C_in, C_out, spatial, extra) -> formulation under "auto"
    "cnn_conv1": ((32, 3, 32, (32, 32)), {}, "im2col"),
    "cnn_conv2": ((32, 32, 64, (32, 32)), {}, "eigen"),
    "cnn_conv2_input_grad": ((32, 64, 32, (32, 32)),
                             dict(a=_attrs(dims=((0, 3, 1, 2), (2, 3, 0, 1), (0, 3, 1, 2)))),
                             "eigen"),
    "im2col_c1_k16": ((8, 1, 16, (32, 32)), {}, "im2col"),
    "im2col_c3_k16_edge_positions": ((8, 3, 16, (32, 32)), {}, "im2col"),  # 8192 positions
    "im2col_edge_positions": ((2, 3, 32, (32, 32)), {}, "im2col"),  # 2048 positions
    "im2col_below_positions": ((1, 3, 32, (32, 63)), {}, "direct"),  # 2016
    "im2col_c3_stride2": ((32, 3, 32, (32, 32)), dict(a=_attrs(strides=(2, 2),
                                                               padding=((0, 1), (0, 1)))),
                          "im2col"),
    "1x1": ((8, 64, 256, (56, 56)), dict(ks=(1, 1), a=_attrs(padding=((0, 0), (0, 0)))),
            "im2col"),
    "1x1_stride2": ((8, 64, 128, (56, 56)), dict(ks=(1, 1), a=_attrs(
        strides=(2, 2), padding=((0, 0), (0, 0)))), "im2col"),
    "1x1_stride3": ((8, 64, 128, (56, 56)), dict(ks=(1, 1), a=_attrs(
        strides=(3, 3), padding=((0, 0), (0, 0)))), "direct"),
    "1x1_below_positions": ((1, 64, 64, (32, 63)), dict(ks=(1, 1), a=_attrs(
        padding=((0, 0), (0, 0)))), "direct"),
    "im2col_c3_k33": ((32, 3, 33, (32, 32)), {}, "direct"),  # YNNPACK's fast range
    "im2col_c2_k24": ((32, 2, 24, (32, 32)), {}, "direct"),  # YNNPACK fast for C_in < 3
    "im2col_c4": ((32, 4, 16, (32, 32)), {}, "direct"),
    "eigen_edge_features": ((32, 16, 24, (32, 32)), {}, "eigen"),
    "eigen_c15": ((32, 15, 64, (32, 32)), {}, "direct"),
    "eigen_k23": ((32, 64, 23, (32, 32)), {}, "direct"),
    "eigen_k3": ((32, 64, 3, (32, 32)), {}, "direct"),
    "eigen_both_96": ((32, 96, 96, (32, 32)), {}, "direct"),
    "eigen_95_128": ((32, 95, 128, (32, 32)), {}, "eigen"),
    "eigen_below_positions": ((1, 64, 64, (64, 127)), {}, "direct"),  # 8128 positions
    "valid": ((32, 32, 64, (32, 32)), dict(a=_attrs(padding=((0, 0), (0, 0)))), "direct"),
    "stride2": ((32, 32, 64, (32, 32)), dict(a=_attrs(strides=(2, 2))), "direct"),
    "dilated": ((32, 32, 64, (32, 32)), dict(a=_attrs(rhs_dilation=(2, 2),
                                                      padding=((2, 2), (2, 2)))), "direct"),
    "kernel_5x5": ((32, 32, 64, (32, 32)), dict(ks=(5, 5), a=_attrs(padding=((2, 2), (2, 2)))),
                   "direct"),
    "f64": ((32, 32, 64, (32, 32)), dict(dtype=F64), "direct"),
    "f16": ((32, 32, 64, (32, 32)), dict(dtype=F16), "direct"),
    "bf16_im2col": ((32, 3, 32, (32, 32)), dict(dtype=BF16), "im2col"),
    "bf16_1x1": ((32, 32, 64, (16, 16)), dict(dtype=BF16, ks=(1, 1),
                                              a=_attrs(padding=((0, 0), (0, 0)))), "im2col"),
    "bf16_no_eigen": ((32, 32, 64, (32, 32)), dict(dtype=BF16), "direct"),  # mixed: 0.85-1.9x
    "filter_grad": None,  # below
}


@pytest.mark.parametrize("case", [c for c in RULE_CASES if RULE_CASES[c]])
def test_rule(case):
    (n, c, k, sp), extra, want = RULE_CASES[case]
    tl, tr, out, a = _types(n, c, k, sp, **extra)
    assert CF.choose(_cpu(), tl, tr, out, a) == want


def test_rule_leaves_filter_gradients_alone():
    """conv2's filter gradient (the input as lhs with batch and features swapped, the output
    cotangent as a 32x32 kernel) stays a plain convolution: a taller kernel makes YNNPACK
    decline too, but XLA then runs it 20-65x slower."""
    a = _attrs(dims=((3, 0, 1, 2), (3, 0, 1, 2), (2, 3, 0, 1)))
    tl, tr = TensorType(F32, (32, 32, 32, 32)), TensorType(F32, (32, 32, 32, 64))
    out = TensorType(F32, (3, 3, 32, 64))
    for mode in ("auto", "eigen"):
        assert CF.choose(_cpu(mode), tl, tr, out, a) == "direct"


@pytest.mark.parametrize("n, s, stride, pad, want", [
    (8, 56, 1, 0, "im2col_t"), (16, 28, 2, -1, "im2col_t"),  # 25088 / 3136 positions
    (2, 32, 1, 0, "direct")])  # 2048 positions: bf16 lost there
def test_rule_turns_1x1_filter_gradients_into_one_dot(n, s, stride, pad, want):
    """The filter gradient of a 1x1 conv (x with batch and features swapped, dY as the kernel)
    runs 2-9x faster as im2col_t's patches-transposed dot; f32 and bf16."""
    o = -(-s // stride)
    a = _attrs(dims=DW, padding=((0, pad), (0, pad)), rhs_dilation=(stride, stride))
    for dt in (F32, BF16):
        tl, tr = TensorType(dt, (n, s, s, 64)), TensorType(dt, (n, o, o, 128))
        assert CF.choose(_cpu(), tl, tr, TensorType(dt, (1, 1, 64, 128)), a) == want


def test_rule_turns_a_strided_1x1_input_gradient_into_one_dot():
    """dx of a stride-2 1x1 conv: a 1x1 conv over dY dilated by 2 -> the dot of the undilated
    dY, then interior padding (0.43-0.79x); im2col_t does not take lhs dilation."""
    a = _attrs(dims=((0, 3, 1, 2), (2, 3, 0, 1), (0, 3, 1, 2)), padding=((0, 1), (0, 1)),
               lhs_dilation=(2, 2))
    tl, tr = TensorType(F32, (8, 28, 28, 128)), TensorType(F32, (1, 1, 64, 128))
    out = TensorType(F32, (8, 56, 56, 64))
    assert CF.choose(_cpu(), tl, tr, out, a) == "im2col"
    assert CF.choose(_cpu("im2col_t"), tl, tr, out, a) == "direct"


def test_rule_is_off_on_an_unmeasured_jaxlib(monkeypatch):
    tl, tr, out, a = _types(32, 32, 64, (32, 32))
    assert CF.choose(_cpu(), tl, tr, out, a) == "eigen"
    monkeypatch.setattr(CF, "MEASURED_JAXLIB", ("0.0.0",))
    assert CF.choose(_cpu(), tl, tr, out, a) == "direct"
    assert CF.choose(_cpu("eigen"), tl, tr, out, a) == "eigen"  # a forced mode still applies


def test_rule_is_off_on_another_platform():
    """The rule was measured on XLA:CPU: for a GPU the caller's options keep plain convs."""
    tl, tr, out, a = _types(32, 32, 64, (32, 32))
    assert CF.choose(LoweringOptions("cuda"), tl, tr, out, a) == "direct"
    assert CF.choose(LoweringOptions("cuda", "eigen"), tl, tr, out, a) == "eigen"


@pytest.mark.parametrize("case", ["cnn_conv1", "cnn_conv2", "cnn_conv2_input_grad"])
def test_rule_cases_compile_and_match_at_full_size(case):
    (n, c, k, sp), extra, want = RULE_CASES[case]
    a = extra.get("a", _attrs())
    lhs, rhs = _operands(f"full/{case}", n, c, k, sp, (3, 3), a)
    y, text = _compiled("auto", lhs, rhs, a)
    assert _emitted(text) == want
    _check(y, lhs, rhs, a)


def test_rule_edge_compiles_just_inside_and_outside():
    for (n, c, k), want in (((2, 3, 16), "im2col"), ((1, 3, 16), "direct"),
                            ((8, 16, 24), "eigen"), ((8, 16, 23), "direct"),
                            ((7, 16, 24), "direct")):
        a = _attrs()
        lhs, rhs = _operands(f"edge/{n}/{c}/{k}", n, c, k, (32, 32), (3, 3), a)
        y, text = _compiled("auto", lhs, rhs, a)
        assert _emitted(text) == want, (n, c, k)
        _check(y, lhs, rhs, a)


# ---------------------------------------------------------------- options and the user's switch
def test_set_conv_formulation_validates_and_returns_the_previous_setting():
    tx.config.set_conv_formulation("auto")
    assert tx.config.set_conv_formulation("direct") == "auto"
    assert tx.config.get_conv_formulation() == "direct"
    assert tx.config.lowering_options().conv_formulation == "direct"
    with pytest.raises(ValueError, match="one of"):
        tx.config.set_conv_formulation("winograd")
    assert tx.config.get_conv_formulation() == "direct"


def test_lowering_options_validate_and_key_every_setting():
    with pytest.raises(ValueError, match="one of"):
        LoweringOptions("cpu", "winograd")
    with pytest.raises(ValueError, match="platform"):
        LoweringOptions("")
    keys = {LoweringOptions(p, m).cache_key for p in ("cpu", "cuda") for m in CONV_FORMULATIONS}
    assert len(keys) == 2 * len(CONV_FORMULATIONS)
    assert tx.config.lowering_options().platform == "cpu"  # tests run on XLA:CPU


def test_compile_keys_include_the_lowering_options():
    f = tx.function(lambda x: x * 2.0)
    x = tx.constant(np.ones(3, np.float32))
    f(x)
    keys = [c.cache_key for c in f.get_concrete_function(x).executables.values()]
    assert keys and all(k.endswith(tx.config.lowering_options().cache_key) for k in keys)


def test_compiler_asks_nothing_about_devices():
    """compiler/ imports no jax (only jaxlib's MLIR bindings): the platform is an option."""
    offenders = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "compiler").rglob("*.py"))
                 if any(line.lstrip().startswith(("import jax", "from jax ", "from jax."))
                        for line in p.read_text().splitlines())]
    assert not offenders


def test_switching_modes_in_one_process_recompiles():
    """Same graph, another mode: a new executable (the compile cache key has the mode)."""
    n, c, k, sp, ks, a = 2, 3, 8, (8, 8), (3, 3), _attrs()
    lhs, rhs = _operands("switch", n, c, k, sp, ks, a)
    x, w = tx.constant(lhs), tx.constant(rhs)
    hlos = {}
    for mode in ("im2col", "direct", "im2col"):
        tx.config.set_conv_formulation(mode)
        f = tx.function(lambda x, w: bind(convolution_op, x, w, **a))
        hlos.setdefault(mode, set()).add("dot(" in f.experimental_get_compiler_ir(x, w)(
            "optimized_hlo"))
    assert hlos == {"im2col": {True}, "direct": {False}}


def test_environment_variable_sets_the_mode():
    code = "import tfx_core as tx; print(tx.config.get_conv_formulation())"
    env = dict(os.environ, TFX_CONV_FORMULATION="direct")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "direct"
    env["TFX_CONV_FORMULATION"] = "bogus"
    out = subprocess.run([sys.executable, "-W", "always", "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "auto" and "TFX_CONV_FORMULATION" in out.stderr


# ---------------------------------------------------------------- gradients and eager
def _jax_conv_nhwc(x, w, padding):
    return jax.lax.conv_general_dilated(x, w, (1, 1), padding,
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                        precision="highest")


GRAD_CASES = {  # (mode, N, S, C, K, padding)
    "im2col_same": ("im2col", 2, 8, 3, 4, "SAME"),
    "im2col_valid_odd": ("im2col", 1, 7, 2, 5, "VALID"),
    "eigen_same": ("eigen", 2, 8, 5, 6, "SAME"),
    "eigen_odd": ("eigen", 1, 9, 3, 4, "SAME"),
    "auto_cnn_conv1": ("auto", 32, 32, 3, 32, "SAME"),
    "auto_cnn_conv2": ("auto", 8, 32, 32, 64, "SAME"),
}


@pytest.mark.parametrize("case", GRAD_CASES)
def test_gradients_through_conv2d_match_jax(case):
    mode, n, s, c, k, padding = GRAD_CASES[case]
    rng = _rng(f"grad/{case}")
    xn = rng.standard_normal((n, s, s, c)).astype(np.float32)
    wn = (rng.standard_normal((3, 3, c, k)) / np.sqrt(9 * c)).astype(np.float32)
    out_sp = s if padding == "SAME" else s - 2
    rn = rng.standard_normal((n, out_sp, out_sp, k)).astype(np.float32)
    tx.config.set_conv_formulation(mode)

    @tx.function
    def grads(x, w, r):
        with tx.GradientTape() as tape:
            tape.watch([x, w])
            loss = tx.reduce_sum(tx.nn.conv2d(x, w, 1, padding) * r)
        return tape.gradient(loss, [x, w])

    gx, gw = grads(tx.constant(xn), tx.constant(wn), tx.constant(rn))
    with jax.enable_x64(True):
        jx, jw = jax.grad(lambda x, w: (_jax_conv_nhwc(x, w, padding) * rn).sum(), (0, 1))(
            xn.astype(np.float64), wn.astype(np.float64))
    for got, want in ((gx, jx), (gw, jw)):
        want = np.asarray(want)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-4,
                                   atol=1e-4 * max(1.0, np.abs(want).max()))


def test_eager_conv2d_uses_the_rule_and_is_exact():
    """Eager single ops lower through the same rule (conv1 of the CNN: im2col)."""
    tx.config.set_conv_formulation("auto")
    rng = _rng("eager")
    xn = rng.standard_normal((32, 32, 32, 3)).astype(np.float32)
    wn = rng.standard_normal((3, 3, 3, 32)).astype(np.float32)
    y = tx.nn.conv2d(tx.constant(xn), tx.constant(wn), 1, "SAME").numpy()
    _check(y, xn, wn, _attrs())


def test_eager_compile_keys_include_the_lowering_options():
    """Switching the formulation gives eager ops another executable; switching back finds the
    first one again."""
    xn = _rng("eager-key").standard_normal((1, 6, 6, 3)).astype(np.float32)
    x, w = tx.constant(xn), tx.constant(np.ones((3, 3, 3, 4), np.float32))
    tx.config.set_conv_formulation("im2col")
    y1 = tx.nn.conv2d(x, w, 1, "SAME").numpy()
    before = EAGER.compiles
    tx.config.set_conv_formulation("direct")
    y2 = tx.nn.conv2d(x, w, 1, "SAME").numpy()
    assert EAGER.compiles > before
    after = EAGER.compiles
    tx.config.set_conv_formulation("im2col")
    tx.nn.conv2d(x, w, 1, "SAME")
    assert EAGER.compiles == after
    np.testing.assert_allclose(y1, y2, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n, s, stride", [(16, 16, 1), (16, 32, 2)])
def test_1x1_gradients_under_the_rule_match_jax(n, s, stride):
    """A 1x1 conv's forward (im2col: one dot) and filter gradient (im2col_t) under "auto",
    compiled, against jax.grad in float64."""
    rng = _rng(f"grad1x1/{n}/{s}/{stride}")
    xn = rng.standard_normal((n, s, s, 8)).astype(np.float32)
    wn = (rng.standard_normal((1, 1, 8, 16)) / np.sqrt(8)).astype(np.float32)
    rn = rng.standard_normal((n, s // stride, s // stride, 16)).astype(np.float32)
    tx.config.set_conv_formulation("auto")

    @tx.function
    def grads(x, w, r):
        with tx.GradientTape() as tape:
            tape.watch([x, w])
            y = tx.nn.conv2d(x, w, stride, "SAME")
            loss = tx.reduce_sum(y * r)
        return [y, *tape.gradient(loss, [x, w])]

    args = (tx.constant(xn), tx.constant(wn), tx.constant(rn))
    text = grads.experimental_get_compiler_ir(*args)("stablehlo")
    assert "contracting_dims = [0] x [0]" in text and "contracting_dims = [1] x [0]" in text
    y, gx, gw = grads(*args)

    def conv(x, w):
        return jax.lax.conv_general_dilated(x, w, (stride, stride), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                            precision="highest")

    with jax.enable_x64(True):
        x64, w64 = xn.astype(np.float64), wn.astype(np.float64)
        jy = conv(x64, w64)
        jx, jw = jax.grad(lambda x, w: (conv(x, w) * rn).sum(), (0, 1))(x64, w64)
    for got, want in ((y, jy), (gx, jx), (gw, jw)):
        want = np.asarray(want)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-4,
                                   atol=1e-4 * max(1.0, np.abs(want).max()))


def test_a_large_3x3_filter_gradient_compiles_its_program_without_ynnpack_convs():
    """The per-program XLA option (conv_formulations.xla_options): asked for by a 3x3 stride-1
    filter gradient of >= EIGEN_DW_MIN_POSITIONS positions, and the gradient stays exact."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 32, 32, 4)).astype(np.float32)
    w = rng.standard_normal((3, 3, 4, 4)).astype(np.float32)

    @tx.function
    def grad(x, w):
        with tx.GradientTape() as tape:
            tape.watch(w)
            y = tx.reduce_sum(tx.nn.conv2d(x, w, 1, "SAME") ** 2)
        return tape.gradient(y, w)

    xt, wt = tx.constant(x), tx.constant(w)
    got = grad(xt, wt).numpy()
    tx.config.wait_for_background_compiles()
    (c,) = grad.get_concrete_function(xt, wt).executables.values()
    assert c.lowered.xla_options == {
        "xla_cpu_experimental_ynn_fusion_type": CF._YNN_NO_CONVS}
    assert "convolution(" in c.exe.optimized_hlo()  # XLA's own (Eigen) conv, not YNNPACK's
    want = jax.grad(lambda w: jnp.sum(jax.lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision="highest") ** 2))(w)
    np.testing.assert_allclose(got, np.asarray(want), rtol=2e-4, atol=2e-3)
    small = tx.function(lambda x: tx.nn.conv2d(x, wt, 1, "SAME"))
    small(xt[:1])
    (c,) = small.get_concrete_function(xt[:1]).executables.values()
    assert c.lowered.xla_options == {}  # a forward conv alone never asks for it
