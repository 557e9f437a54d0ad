"""The IR text form: print -> parse -> print is the identity; goldens; malformed text fails."""
from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

import compiler.ops  # noqa: F401  (registers every OpDef)
from compiler.ir.graph import ConstArray, Graph, GraphBuilder
from compiler.ir.parser import ParseError, parse_graph
from compiler.ir.printer import print_graph
from compiler.ir.types import BF16, BOOL, F16, F32, F64, I8, I32, U8, DType, TensorType
from compiler.ir.verify import verify_graph
from compiler.ops import cast
from compiler.ops import constant as C
from compiler.ops import elementwise as E
from compiler.registry import NOT_DIFFERENTIABLE, REGISTRY, OpDef


def T(dtype, *shape) -> TensorType:
    return TensorType(dtype, tuple(shape))


# ---------------------------------------------------------------- test-only ops
def _pair_infer(x: TensorType, *, k: int) -> tuple[TensorType, ...]:
    return (x, x.with_dtype(I32))


PAIR_OP = OpDef(
    "test_pair",
    infer=_pair_infer,
    lower=lambda ctx, x, *, k: (x, x),
    reference=lambda x, *, k: (x, x.astype(np.int32)),
    vjp=NOT_DIFFERENTIABLE,
    multiple_results=True,
)

# accepts any attributes; the output type is the input type
ATTRS_OP = OpDef("test_attrs", infer=lambda x, **attrs: x, lower=None, reference=None,
                 vjp=NOT_DIFFERENTIABLE)

# holds a nested graph in an attribute; the output types are the body's
CALL_OP = OpDef(
    "test_call",
    infer=lambda *xs, body: body.output_types,
    lower=None,
    reference=None,
    vjp=NOT_DIFFERENTIABLE,
    multiple_results=True,
)


@pytest.fixture(autouse=True)
def _test_ops(monkeypatch):
    """Register the test-only ops for the parser, and only for the duration of a test."""
    for op in (PAIR_OP, ATTRS_OP, CALL_OP):
        monkeypatch.setitem(REGISTRY, op.name, op)


# ---------------------------------------------------------------- graphs to round-trip
def const(b: GraphBuilder, array) -> object:
    (v,) = b.add_op(C.constant_op, [], {"value": ConstArray(np.asarray(array))})
    return v


def g_single_unary() -> Graph:
    b = GraphBuilder("f")
    x = b.add_input(T(F32, 2, 3))
    (y,) = b.add_op(E.sin_op, [x])
    return b.build([y])


def g_unary_chain() -> Graph:
    b = GraphBuilder("chain")
    x = b.add_input(T(F32, 2, 3))
    (y,) = b.add_op(E.sin_op, [x])
    (z,) = b.add_op(E.cos_op, [y])
    (w,) = b.add_op(E.mul_op, [z, x])
    return b.build([w, y])


def g_broadcast_compare_select() -> Graph:
    b = GraphBuilder("bcast")
    x = b.add_input(T(F32, 2, 3))
    y = b.add_input(T(F32, 3))
    (c,) = b.add_op(E.compare_op, [x, y], {"direction": "GT"})
    (s,) = b.add_op(E.select_op, [c, x, y])
    return b.build([s, c])


def g_constants() -> Graph:
    """Constants of many dtypes, with the awkward values (NaN, inf, -0.0, extremes)."""
    b = GraphBuilder("consts")
    vals = [
        np.array([1.5, -0.0, np.nan, np.inf, -np.inf, 0.1], np.float32),
        np.array([1e-300, -1e300, 5e-324, 0.1], np.float64),
        np.array([0.1, -0.0, np.nan, 65504.0], np.float16),
        np.array([1.5, -0.0, np.nan, -np.inf, 3.0e38], ml_dtypes.bfloat16),
        np.array([True, False, True]),
        np.array([-128, 127], np.int8),
        np.array([2**40 + 1, -(2**63), 2**63 - 1], np.int64),
        np.array([0, 255], np.uint8),
        np.array([2**32 - 1], np.uint32),
        np.array(-2.5, np.float32),  # 0-d
        np.array(7, np.int32),  # 0-d int
        np.array(True),  # 0-d bool
        np.zeros((0, 3), np.float32),  # empty
        np.arange(6, dtype=np.int32).reshape(2, 3),
    ]
    outs = [const(b, v) for v in vals]
    return b.build(outs)


def g_none_dims() -> Graph:
    b = GraphBuilder("dyn")
    x = b.add_input(T(F32, None, 3))
    y = b.add_input(T(F32, 3))
    (s,) = b.add_op(E.add_op, [x, y])
    return b.build([s])


def g_scalars() -> Graph:
    b = GraphBuilder("scalars")
    x = b.add_input(T(F64))
    (c,) = b.add_op(cast.convert_op, [x], {"dtype": BF16})
    return b.build([c])


def g_identity() -> Graph:
    b = GraphBuilder("identity")
    x = b.add_input(T(BOOL, 4))
    y = b.add_input(T(I8))
    return b.build([y, x, x])


def g_no_inputs() -> Graph:
    b = GraphBuilder("noinputs")
    (i,) = b.add_op(C.iota_op, [], {"shape": (2, 3), "dimension": 1, "dtype": F32})
    return b.build([i])


def g_multi_output() -> Graph:
    b = GraphBuilder("multi")
    x = b.add_input(T(F16, 2))
    p, q = b.add_op(PAIR_OP, [x], {"k": 3})
    (n,) = b.add_op(E.neg_op, [q], {})
    return b.build([n, p])


def g_attr_zoo() -> Graph:
    b = GraphBuilder("attrs")
    x = b.add_input(T(F32, 2))
    attrs = {
        "a_int": -3,
        "b_float": -1.5,
        "c_nan": float("nan"),
        "d_inf": float("-inf"),
        "e_tiny": 1e-300,
        "f_big": 1e20,
        "g_true": True,
        "h_false": False,
        "i_none": None,
        "j_str": 'quote " back\\slash é',
        "k_dtype": U8,
        "l_tuple": (0, 1, 2),
        "m_one": (5,),
        "n_empty": (),
        "o_nested": ((1, 2), (3.5, "x"), (None,)),
        "p_dense": ConstArray(np.array([[1, 2]], np.int64)),
        "q_negzero": -0.0,
        "r_intfloat": 3.0,
    }
    (y,) = b.add_op(ATTRS_OP, [x], attrs)
    return b.build([y])


def g_nested_graph() -> Graph:
    inner = GraphBuilder("body")
    a = inner.add_input(T(F32, 2))
    (s,) = inner.add_op(E.exp_op, [a])
    body = inner.build([s])
    b = GraphBuilder("outer")
    x = b.add_input(T(F32, 2))
    (y,) = b.add_op(CALL_OP, [x], {"body": body})
    return b.build([y])


ROUND_TRIP = [
    g_single_unary,
    g_unary_chain,
    g_broadcast_compare_select,
    g_constants,
    g_none_dims,
    g_scalars,
    g_identity,
    g_no_inputs,
    g_multi_output,
    g_attr_zoo,
    g_nested_graph,
]


@pytest.mark.parametrize("build", ROUND_TRIP, ids=lambda f: getattr(f, "__name__", None))
def test_print_parse_print_is_identity(build):
    g = build()
    verify_graph(g)
    text = print_graph(g)
    g2 = parse_graph(text)
    text2 = print_graph(g2)
    assert text2 == text, f"round trip changed the text:\n{text}\n--- became ---\n{text2}"
    assert g2.name == g.name
    assert g2.input_types == g.input_types and g2.output_types == g.output_types
    assert [op.name for op in g2.ops] == [op.name for op in g.ops]
    verify_graph(g2)


def test_constants_keep_their_values():
    g = parse_graph(print_graph(g_constants()))
    got = [op.attr_dict["value"].array for op in g.ops]
    want = [op.attr_dict["value"].array for op in g_constants().ops]
    assert len(got) == len(want)
    for a, w in zip(got, want):
        assert a.dtype == w.dtype and a.shape == w.shape
        # bytes compare NaN, -0.0 and every bit exactly
        assert a.tobytes() == w.tobytes(), f"{w!r} came back as {a!r}"


def test_float_attrs_keep_their_values():
    (op,) = parse_graph(print_graph(g_attr_zoo())).ops
    a = op.attr_dict
    assert math.isnan(a["c_nan"]) and a["d_inf"] == -math.inf
    assert a["e_tiny"] == 1e-300 and a["f_big"] == 1e20
    assert math.copysign(1.0, a["q_negzero"]) == -1.0
    assert type(a["r_intfloat"]) is float and type(a["a_int"]) is int
    assert a["k_dtype"] is U8 and a["i_none"] is None and a["g_true"] is True
    assert a["j_str"] == 'quote " back\\slash é'
    assert a["m_one"] == (5,) and a["n_empty"] == () and a["o_nested"][1] == (3.5, "x")
    assert a["p_dense"] == ConstArray(np.array([[1, 2]], np.int64))


def test_printing_is_deterministic():
    # two separately built graphs (different Value objects) print identically
    assert print_graph(g_constants()) == print_graph(g_constants())
    g = g_unary_chain()
    assert print_graph(g) == print_graph(g)
    assert "0x" not in print_graph(g)  # no ids or addresses


# ---------------------------------------------------------------- goldens
GOLDEN = """\
func @f(%0: f32[2,3], %1: f32[3]) -> (f32[2,3], bool[2,3]) {
  %2: f32[2,3] = sin %0
  %3: f32[2,3] = multiply %2, %1
  %4: f32[] = constant {value=dense<f32[] [0.5]>}
  %5: bool[2,3] = compare %3, %4 {direction="GT"}
  return %3, %5
}"""

GOLDEN_LOCS = """\
func @f(%0: f32[2,3], %1: f32[3]) -> (f32[2,3], bool[2,3]) {
  %2: f32[2,3] = sin %0  # model.py:3
  %3: f32[2,3] = multiply %2, %1  # model.py:4
  %4: f32[] = constant {value=dense<f32[] [0.5]>}
  %5: bool[2,3] = compare %3, %4 {direction="GT"}  # model.py:5
  return %3, %5
}"""


def build_golden() -> Graph:
    b = GraphBuilder("f")
    x, y = b.add_input(T(F32, 2, 3)), b.add_input(T(F32, 3))
    (s,) = b.add_op(E.sin_op, [x], loc="model.py:3")
    (m,) = b.add_op(E.mul_op, [s, y], loc="model.py:4")
    half = const(b, np.array(0.5, np.float32))
    (c,) = b.add_op(E.compare_op, [m, half], {"direction": "GT"}, loc="model.py:5")
    return b.build([m, c])


def _assert_text(got: str, want: str) -> None:
    assert got == want, f"text differs; the actual text is:\n{got}"


def test_golden_text():
    _assert_text(print_graph(build_golden()), GOLDEN)


def test_golden_text_with_locations():
    _assert_text(print_graph(build_golden(), locs=True), GOLDEN_LOCS)


def test_golden_multi_output_and_nested():
    _assert_text(
        print_graph(g_multi_output()),
        "func @multi(%0: f16[2]) -> (i32[2], f16[2]) {\n"
        "  %1: f16[2], %2: i32[2] = test_pair %0 {k=3}\n"
        "  %3: i32[2] = negate %2\n"
        "  return %3, %1\n"
        "}",
    )
    text = print_graph(g_nested_graph())
    assert "%1: f32[2] = test_call %0 {body=func @body(%0: f32[2]) -> (f32[2]) {" in text
    assert "%1: f32[2] = exp %0" in text


def test_golden_special_constants():
    text = print_graph(g_constants())
    for piece in [
        # floats print as repr() of the exact (widened) value, so every dtype round-trips exactly
        "dense<f32[6] [1.5, -0.0, nan, inf, -inf, 0.10000000149011612]>",
        "dense<f16[4] [0.0999755859375, -0.0, nan, 65504.0]>",
        "dense<f64[4] [1e-300, -1e+300, 5e-324, 0.1]>",
        f"dense<bf16[5] [1.5, -0.0, nan, -inf, {float(ml_dtypes.bfloat16(3.0e38))!r}]>",
        "dense<bool[3] [true, false, true]>",
        "dense<i64[3] [1099511627777, -9223372036854775808, 9223372036854775807]>",
        "dense<u32[1] [4294967295]>",
        "%9: f32[] = constant {value=dense<f32[] [-2.5]>}",
        "dense<f32[0,3] []>",
        "dense<i32[2,3] [0, 1, 2, 3, 4, 5]>",
    ]:
        assert piece in text, f"{piece!r} not in:\n{text}"


def test_golden_parses_back():
    _assert_text(print_graph(parse_graph(GOLDEN)), GOLDEN)


def test_location_comments_are_ignored_by_the_parser():
    _assert_text(print_graph(parse_graph(GOLDEN_LOCS)), GOLDEN)


def test_none_dims_print_as_question_marks():
    assert print_graph(g_none_dims()).splitlines()[0] == (
        "func @dyn(%0: f32[?,3], %1: f32[3]) -> (f32[?,3]) {"
    )


# ---------------------------------------------------------------- malformed text
GOOD = """\
func @f(%0: f32[2,3]) -> (f32[2,3]) {
  %1: f32[2,3] = sin %0
  return %1
}"""


def _bad(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


MALFORMED = [
    pytest.param("", "expected 'func'", id="empty"),
    pytest.param(_bad("func @f", "fun @f"), "expected 'func'", id="not_func"),
    pytest.param(GOOD[:-1], "expected '}'", id="missing_close_brace"),
    pytest.param(_bad("sin %0", "sin %7"), "undefined value %7", id="undefined_operand"),
    pytest.param(_bad("return %1", "return %9"), "undefined value %9", id="undefined_return"),
    pytest.param(_bad("sin %0", "sin $0"), "unexpected character", id="bad_character"),
    pytest.param(GOOD + "\nfunc", "trailing text", id="trailing_text"),
    pytest.param(_bad(" = sin", " sin"), "expected '='", id="missing_equals"),
    pytest.param(_bad("%1: f32[2,3] =", "%1: ="), "expected a type", id="missing_type"),
    pytest.param(_bad("sin %0", "sin %0 {k=dense<f32[1] [foo]>}"),
                 "dense<f32[1]>: string or file could not be read to its end",
                 id="bad_dense_scalar"),
    pytest.param(_bad("sin %0", 'sin %0 {k="abc}'), "unexpected character",
                 id="unclosed_string"),
    pytest.param(_bad("sin", "frobnicate"), "frobnicate", id="unknown_op"),
    pytest.param(_bad("(%0: f32", "(%0: f33"), "f33", id="unknown_dtype"),
    pytest.param(_bad("(%0: f32[2,3]", "(%0: f32[a,3]"), "a", id="non_integer_dim"),
    pytest.param(_bad("sin %0", "sin %0 {k=dense<f32[2] [1.0]>}"), "", id="dense_size_mismatch"),
    pytest.param(
        _bad("(%0: f32[2,3])", "(%0: f32[2,3], %0: f32[2,3])"), "%0", id="duplicate_input_name",
    ),
    pytest.param(
        _bad("  return %1", "  %1: f32[2,3] = cos %0\n  return %1"), "%1",
        id="duplicate_result_name",
    ),
    pytest.param(
        _bad("(%0: f32[2,3]", "(%0: f32[-2,3]"), "-2", id="negative_dim",
    ),
]


@pytest.mark.parametrize("text,match", MALFORMED)
def test_parser_rejects_malformed_text(text, match):
    with pytest.raises(ParseError) as ei:
        parse_graph(text)
    assert match in str(ei.value)


def test_parse_error_is_a_value_error():
    assert issubclass(ParseError, ValueError)


def test_wrong_recorded_type_parses_but_does_not_verify():
    # the parser keeps types as written; the verifier is what checks them
    g = parse_graph(_bad("%1: f32[2,3] = sin", "%1: f32[3,2] = sin").replace(
        "-> (f32[2,3])", "-> (f32[3,2])"))
    assert g.ops[0].outputs[0].type == T(F32, 3, 2)


# ---------------------------------------------------------------- constant attributes
def test_const_array_equality_and_hash_agree_on_negative_zero():
    # bit-exact: CSE must not merge 0.0 and -0.0 (1/x differs), and eq must agree with hash
    a, b = ConstArray(np.array(0.0)), ConstArray(np.array(-0.0))
    assert a != b
    assert hash(a) != hash(b)
    assert ConstArray(np.array(0.0)) == a and hash(ConstArray(np.array(0.0))) == hash(a)


def test_const_array_bf16_nan_equals_itself():
    a = np.array([np.nan, 1.0], ml_dtypes.bfloat16)
    assert ConstArray(a) == ConstArray(a.copy())


def test_const_array_is_frozen():
    src = np.array([1.0, 2.0], np.float32)
    c = ConstArray(src)
    src[0] = 5.0
    assert c.array[0] == 1.0
    with pytest.raises(ValueError):
        c.array[0] = 3.0



@pytest.mark.parametrize("body,match", [
    ("dense<i8[2] [1, 300]>", "out of range for int8"),
    ("dense<u8[1] [-1]>", "dense<u8\\[1\\]>"),
    ("dense<i32[1] [1.5]>", "could not be read to its end"),
    ("dense<i64[1] [99999999999999999999]>", "dense<i64"),
    ("dense<u32[1] [4294967295]>", None),
    ("dense<bool[2] [true, 1]>", "true or false"),
    ("dense<f32[3] [1.0, 2.0]>", "needs 3 values, got 2"),
    ("dense<f32[?] [1.0]>", "static shape"),
    ("dense<f32[2] 1.0, 2.0>", "bad constant"),
])
def test_bad_constants_are_parse_errors(body, match):
    text = f"func @f() -> (f32[]) {{\n  %0: f32[] = constant {{value={body}}}\n  return %0\n}}\n"
    if match is None:  # the edge that is fine
        assert parse_graph(text).ops[0].attr_dict["value"].array[0] == 2**32 - 1
        return
    with pytest.raises(ParseError, match=match):
        parse_graph(text)


def test_constants_round_trip_every_dtype_and_special_value():
    values = {"f32": [0.0, -0.0, float("inf"), float("-inf"), 1e-45, 3.4028234663852886e38],
              "f64": [5e-324, 1.7976931348623157e308, -2.5], "bf16": [1.0, -3.0e38, 0.0078125],
              "f16": [65504.0, -6e-08], "i64": [-(2**63), 2**63 - 1], "u8": [0, 255],
              "bool": [True, False]}
    for short, vals in values.items():
        dt = DType.from_short(short)
        g = parse_graph(
            f"func @f() -> ({short}[{len(vals)}]) {{\n  %0: {short}[{len(vals)}] = constant "
            f"{{value=dense<{short}[{len(vals)}] [{', '.join(_fmt(v) for v in vals)}]>}}\n"
            "  return %0\n}\n")
        got = g.ops[0].attr_dict["value"].array
        want = np.array(vals, dtype=dt.np_dtype)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), short
        assert parse_graph(str(g)).ops[0].attr_dict["value"] == g.ops[0].attr_dict["value"]


def _fmt(v) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else repr(v)
