"""Lowering elementwise ops to StableHLO: a few stable substrings per op; modules verify."""
from __future__ import annotations

import numpy as np
import pytest

import compiler.ops  # noqa: F401  (registers every OpDef)
from compiler.ir.graph import ConstArray, Graph, GraphBuilder
from compiler.ir.types import BF16, BOOL, F16, F32, F64, I8, I32, I64, U8, U32, TensorType
from compiler.lowering.options import LoweringOptions
from compiler.lowering.stablehlo import LoweringError, lower_graph
from compiler.ops import cast
from compiler.ops import constant as C
from compiler.ops import elementwise as E
from compiler.registry import NOT_DIFFERENTIABLE, OpDef


def T(dtype, *shape) -> TensorType:
    return TensorType(dtype, tuple(shape))


F23 = T(F32, 2, 3)
CPU = LoweringOptions("cpu")  # what these tests lower for


def one_op(opdef, in_types, attrs=None) -> Graph:
    b = GraphBuilder("m")
    ins = [b.add_input(t) for t in in_types]
    outs = b.add_op(opdef, ins, attrs or {})
    return b.build(outs)


def lower_text(g: Graph) -> str:
    lowered = lower_graph(g, CPU)
    assert lowered.module.operation.verify()
    return lowered.text


def check(text: str, *pieces: str) -> None:
    for p in pieces:
        assert p in text, f"{p!r} not found in the lowered module:\n{text}"


UNARY = [
    (E.exp_op, "stablehlo.exponential"),
    (E.expm1_op, "stablehlo.exponential_minus_one"),
    (E.log_op, "stablehlo.log "),
    (E.log1p_op, "stablehlo.log_plus_one"),
    (E.sqrt_op, "stablehlo.sqrt"),
    (E.rsqrt_op, "stablehlo.rsqrt"),
    (E.sin_op, "stablehlo.sine"),
    (E.cos_op, "stablehlo.cosine"),
    (E.tan_op, "stablehlo.tan"),
    (E.tanh_op, "stablehlo.tanh"),
    (E.logistic_op, "stablehlo.logistic"),
    (E.erf_op, "chlo.erf"),
    (E.floor_op, "stablehlo.floor"),
    (E.ceil_op, "stablehlo.ceil"),
    (E.round_op, "stablehlo.round_nearest_even"),
    (E.neg_op, "stablehlo.negate"),
    (E.abs_op, "stablehlo.abs"),
    (E.sign_op, "stablehlo.sign"),
]


@pytest.mark.parametrize("opdef,mnemonic", UNARY, ids=[u[0].name for u in UNARY])
def test_unary_float(opdef, mnemonic):
    text = lower_text(one_op(opdef, [F23]))
    check(text, mnemonic, "tensor<2x3xf32>", "func.func @main(%arg0: tensor<2x3xf32>)")


def test_is_finite_returns_i1():
    text = lower_text(one_op(E.is_finite_op, [T(F16, 4)]))
    check(text, "stablehlo.is_finite", "tensor<4xf16>", "-> tensor<4xi1>")


@pytest.mark.parametrize(
    "dtype,ir", [(BOOL, "i1"), (I32, "i32"), (U8, "ui8")], ids=["bool", "i32", "u8"]
)
def test_not(dtype, ir):
    check(lower_text(one_op(E.not_op, [T(dtype, 3)])), "stablehlo.not", f"tensor<3x{ir}>")


BINARY = [
    (E.add_op, "stablehlo.add"),
    (E.sub_op, "stablehlo.subtract"),
    (E.mul_op, "stablehlo.multiply"),
    (E.div_op, "stablehlo.divide"),
    (E.rem_op, "stablehlo.remainder"),
    (E.pow_op, "stablehlo.power"),
    (E.max_op, "stablehlo.maximum"),
    (E.min_op, "stablehlo.minimum"),
    (E.atan2_op, "stablehlo.atan2"),
]


@pytest.mark.parametrize("opdef,mnemonic", BINARY, ids=[b[0].name for b in BINARY])
def test_binary_same_shape(opdef, mnemonic):
    text = lower_text(one_op(opdef, [F23, F23]))
    check(text, mnemonic, "tensor<2x3xf32>")
    assert "broadcast_in_dim" not in text


@pytest.mark.parametrize("opdef,mnemonic", [(E.and_op, "stablehlo.and"),
                                            (E.or_op, "stablehlo.or"),
                                            (E.xor_op, "stablehlo.xor")],
                         ids=["and", "or", "xor"])
def test_logical(opdef, mnemonic):
    check(lower_text(one_op(opdef, [T(BOOL, 2), T(BOOL, 2)])), mnemonic, "tensor<2xi1>")
    check(lower_text(one_op(opdef, [T(U8, 2), T(U8, 2)])), mnemonic, "tensor<2xui8>")


def test_broadcasting_add():
    text = lower_text(one_op(E.add_op, [F23, T(F32, 3)]))
    check(
        text,
        "stablehlo.broadcast_in_dim %arg1, dims = [1] : (tensor<3xf32>) -> tensor<2x3xf32>",
        "stablehlo.add",
        "-> tensor<2x3xf32>",
    )


def test_broadcasting_both_sides():
    text = lower_text(one_op(E.mul_op, [T(F32, 2, 1), T(F32, 1, 4)]))
    check(
        text,
        "stablehlo.broadcast_in_dim %arg0, dims = [0, 1] : (tensor<2x1xf32>) -> tensor<2x4xf32>",
        "stablehlo.broadcast_in_dim %arg1, dims = [0, 1] : (tensor<1x4xf32>) -> tensor<2x4xf32>",
        "stablehlo.multiply",
    )


def test_broadcasting_scalar():
    text = lower_text(one_op(E.sub_op, [T(I64), T(I64, 5)]))
    check(text, "stablehlo.broadcast_in_dim %arg0, dims = [] : (tensor<i64>) -> tensor<5xi64>",
          "stablehlo.subtract")


@pytest.mark.parametrize(
    "dtype,ir,ctype",
    [(F32, "f32", "FLOAT"), (BF16, "bf16", "FLOAT"), (I32, "i32", "SIGNED"),
     (U8, "ui8", "UNSIGNED"), (BOOL, "i1", "UNSIGNED")],
    ids=["f32", "bf16", "i32", "u8", "bool"],
)
@pytest.mark.parametrize("direction", ["EQ", "NE", "LT", "LE", "GT", "GE"])
def test_compare(direction, dtype, ir, ctype):
    text = lower_text(one_op(E.compare_op, [T(dtype, 2, 3), T(dtype, 2, 3)],
                             {"direction": direction}))
    check(text, f"stablehlo.compare {direction}, %arg0, %arg1, {ctype}",
          f"(tensor<2x3x{ir}>, tensor<2x3x{ir}>) -> tensor<2x3xi1>")


def test_select_broadcasts_all_operands():
    text = lower_text(one_op(E.select_op, [T(BOOL, 2, 1), T(F64, 3), T(F64)]))
    check(text, "stablehlo.select", "tensor<2x3xi1>", "tensor<2x3xf64>", "broadcast_in_dim")


def test_convert():
    text = lower_text(one_op(cast.convert_op, [T(F32, 4)], {"dtype": I8}))
    check(text, "stablehlo.convert", "(tensor<4xf32>) -> tensor<4xi8>")


def test_convert_to_bool_is_compare_ne():
    text = lower_text(one_op(cast.convert_op, [T(F32, 4)], {"dtype": BOOL}))
    check(text, "stablehlo.compare NE", "tensor<4xi1>")


@pytest.mark.parametrize(
    "array,pieces",
    [
        (np.array([1.5, -2.0], np.float32), ["dense<[1.500000e+00, -2.000000e+00]>",
                                             "tensor<2xf32>"]),
        (np.full((2, 3), 7, np.int32), ["dense<7> : tensor<2x3xi32>"]),  # splat
        (np.array(True), ["dense<true> : tensor<i1>"]),
        (np.array([2**40 + 1], np.int64), ["1099511627777", "tensor<1xi64>"]),
        (np.array([1, 2], np.uint32), ["tensor<2xui32>"]),
        (np.array([0.5], np.float16), ["tensor<1xf16>"]),
        (np.zeros((0, 3), np.float32), ["tensor<0x3xf32>"]),
    ],
    ids=["f32", "splat", "bool0d", "i64", "u32", "f16", "empty"],
)
def test_constant(array, pieces):
    g = one_op(C.constant_op, [], {"value": ConstArray(array)})
    check(lower_text(g), "stablehlo.constant", *pieces)


def test_iota():
    g = one_op(C.iota_op, [], {"shape": (2, 3), "dimension": 1, "dtype": F32})
    check(lower_text(g), "stablehlo.iota dim = 1 : tensor<2x3xf32>")


@pytest.mark.parametrize(
    "dtype,ir",
    [(F16, "f16"), (BF16, "bf16"), (F32, "f32"), (F64, "f64"), (I8, "i8"), (I32, "i32"),
     (I64, "i64"), (U8, "ui8"), (U32, "ui32"), (BOOL, "i1")],
    ids=lambda x: getattr(x, "short", None),
)
def test_element_types(dtype, ir):
    text = lower_text(one_op(E.max_op if not dtype.is_bool else E.and_op,
                             [T(dtype, 2), T(dtype, 2)]))
    check(text, f"tensor<2x{ir}>")


def test_zero_d_and_empty_shapes():
    check(lower_text(one_op(E.sin_op, [T(F32)])), "stablehlo.sine", "tensor<f32>")
    check(lower_text(one_op(E.add_op, [T(F32, 0, 3), T(F32, 3)])), "tensor<0x3xf32>")


def test_multi_op_graph_and_module_structure():
    b = GraphBuilder("model")
    x, y = b.add_input(F23), b.add_input(T(F32, 3))
    (s,) = b.add_op(E.sin_op, [x], loc="model.py:7")
    (a,) = b.add_op(E.add_op, [s, y])
    (c,) = b.add_op(E.compare_op, [a, x], {"direction": "GT"})
    (e,) = b.add_op(E.erf_op, [a])
    lowered = lower_graph(b.build([e, c]), CPU)
    text = lowered.text
    check(
        text,
        "module @model",
        "func.func @main(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>) -> "
        "(tensor<2x3xf32>, tensor<2x3xi1>)",
        "stablehlo.sine %arg0",
        "chlo.erf",
        "return",
    )
    assert text.index("stablehlo.sine") < text.index("stablehlo.add") < text.index("chlo.erf")
    assert lowered.module.operation.verify()
    assert "model.py" in lowered.text_with_locations()
    assert len(lowered.bytecode) > 0


def test_donation_marks_arguments():
    lowered = lower_graph(one_op(E.add_op, [F23, F23]), CPU, donate=(1,))
    check(lowered.text, "jax.buffer_donor = true")


def test_unknown_dims_are_rejected():
    with pytest.raises((LoweringError, ValueError), match="static"):
        lower_graph(one_op(E.sin_op, [T(F32, None, 3)]), CPU)


def test_failing_rule_names_the_op_and_line():
    def bad_lower(ctx, x):
        raise RuntimeError("boom")

    bad = OpDef("test_bad", infer=lambda x: x, lower=bad_lower, reference=None,
                vjp=NOT_DIFFERENTIABLE)
    b = GraphBuilder()
    x = b.add_input(F23)
    (y,) = b.add_op(bad, [x], loc="user.py:42")
    with pytest.raises(LoweringError, match=r"test_bad.*user\.py:42.*boom"):
        lower_graph(b.build([y]), CPU)


def test_invalid_module_does_not_verify():
    # a rule that returns a value of the wrong type makes the module fail verification
    wrong = OpDef("test_wrong", infer=lambda x: x.with_dtype(F64), lower=lambda ctx, x: x,
                  reference=None, vjp=NOT_DIFFERENTIABLE)
    b = GraphBuilder()
    x = b.add_input(F23)
    (y,) = b.add_op(wrong, [x])
    with pytest.raises(LoweringError, match="verify"):
        lower_graph(b.build([y]), CPU)


def test_compare_attributes_in_generic_form():
    lowered = lower_graph(one_op(E.compare_op, [T(U8, 2), T(U8, 2)], {"direction": "GE"}), CPU)
    generic = lowered.module.operation.get_asm(print_generic_op_form=True)
    check(generic, "#stablehlo<comparison_direction GE>", "#stablehlo<comparison_type UNSIGNED>")
