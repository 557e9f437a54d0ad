"""Every OpDef in the registry is complete, and the op table exercises every one of them."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx
from compiler.interpreters import bind
from compiler.registry import (
    ELEMENTWISE,
    ELEMENTWISE_LIKE,
    LAYOUT_PRESERVING,
    NOT_DIFFERENTIABLE,
    ORDER_INDEPENDENT,
    REDUCTION,
    REGISTRY,
    OpDef,
)
from tests.optable import all_entries

ENTRIES = all_entries()
OPS = sorted(REGISTRY)


def test_registry_is_populated():
    assert len(REGISTRY) >= 30
    for name in ("add", "sin", "compare", "select", "constant", "convert"):
        assert name in REGISTRY


@pytest.mark.parametrize("name", OPS)
def test_opdef_is_complete(name):
    op = REGISTRY[name]
    assert isinstance(op, OpDef)
    assert op.name == name, f"registered as {name!r} but named {op.name!r}"
    for rule in ("infer", "lower", "reference"):
        assert callable(getattr(op, rule, None)), f"{name}: {rule} is not callable"
    # Every op has a gradient rule or says explicitly that it has none.
    assert op.vjp is NOT_DIFFERENTIABLE or callable(op.vjp), (
        f"{name}: vjp is {op.vjp!r} (write a gradient rule or mark it NOT_DIFFERENTIABLE)"
    )
    assert isinstance(op.traits, frozenset)
    assert isinstance(op.multiple_results, bool)


def test_opdef_requires_a_vjp():
    with pytest.raises(TypeError, match="vjp"):
        OpDef("test_no_vjp", infer=lambda x: x, lower=None, reference=None)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="NOT_DIFFERENTIABLE"):
        OpDef("test_none_vjp", infer=lambda x: x, lower=None, reference=None, vjp=None)


def test_traits_passes_query():
    """The traits that replaced the passes' own name lists, on the ops they used to list."""
    def with_trait(trait):
        return {n for n, op in REGISTRY.items() if trait in op.traits}

    assert with_trait(LAYOUT_PRESERVING) == {"convert", "stop_gradient"}
    assert with_trait(ELEMENTWISE_LIKE) == {"convert", "broadcast_to"}
    assert with_trait(ORDER_INDEPENDENT) == {"reduce_max", "reduce_min", "reduce_and",
                                             "reduce_or", "argmax", "argmin"}
    assert with_trait(ORDER_INDEPENDENT) <= with_trait(REDUCTION)
    assert not (with_trait(ELEMENTWISE) & (with_trait(LAYOUT_PRESERVING)
                                           | with_trait(ELEMENTWISE_LIKE)))


def _covered() -> dict[str, list[str]]:
    by_op: dict[str, list[str]] = {}
    for e in ENTRIES:
        for o in e.ops:
            by_op.setdefault(o, []).append(e.name)
    return by_op


def test_every_op_has_an_optable_entry():
    covered = _covered()
    missing = [name for name in OPS if name not in covered]
    assert not missing, f"ops no op-table entry names in ops=: {missing}"


def test_entries_name_only_registered_ops():
    unknown = {(e.name, o) for e in ENTRIES for o in e.ops if o not in REGISTRY}
    assert not unknown, f"op-table entries name unknown ops: {sorted(unknown)}"


def test_entry_names_are_unique():
    names = [e.name for e in ENTRIES]
    dupes = sorted({n for n in names if names.count(n) > 1})
    assert not dupes, f"duplicate op-table entry names: {dupes}"


def _traced_ops(info) -> set[str]:
    """The op names in the graphs tx.function traces for the entry's samples (no compiling)."""
    seen: set[str] = set()
    for dt in info.dtypes:
        rng = np.random.default_rng(0)
        for sample in info.samples(rng, dt):
            is_t = [isinstance(a, np.ndarray) for a in sample.args]

            def f(*tensors, sample=sample, is_t=is_t):
                it = iter(tensors)
                args = [next(it) if t else a for a, t in zip(sample.args, is_t)]
                return info.fn(*args, **sample.kwargs)

            tensors = [tx.constant(a) for a, t in zip(sample.args, is_t) if t]
            cf = tx.function(f).get_concrete_function(*tensors)
            seen.update(_op_names(cf.graph))
    return seen


def _op_names(graph) -> set[str]:
    """Op names in a graph and in the regions (nested graphs) its ops hold."""
    from compiler.ir.graph import Graph

    names = set()
    for op in graph.ops:
        names.add(op.name)
        for _, a in op.attrs:
            for g in (a if isinstance(a, tuple) else (a,)):
                if isinstance(g, Graph):
                    names |= _op_names(g)
    return names


@pytest.mark.parametrize("info", ENTRIES, ids=[e.name for e in ENTRIES])
def test_declared_ops_are_really_exercised(info):
    """An entry's ops= is what the coverage test trusts: each named op must appear in a trace."""
    if not hasattr(tx, "function"):
        pytest.skip("tx.function does not exist yet")
    missing = set(info.ops) - _traced_ops(info)
    assert not missing, f"{info.name}: ops= names {sorted(missing)}, never seen in its traces"


# ---------------------------------------------------------------- reference == XLA at the edges
# `OpDef.reference` drives constant folding, so it must agree with the lowered op even where
# the public API never goes (division by zero, overflow, saturating casts).
def _i32(*v):
    return np.array(v, np.int32)


REFERENCE_EDGES = [
    pytest.param("divide", (_i32(5, -5, 0, -(2**31)), _i32(0, 0, 0, -1)), {}, id="div_int_by_0"),
    pytest.param("divide", (np.array([5, 0], np.uint8), np.array([0, 0], np.uint8)), {},
                 id="div_uint_by_0"),
    pytest.param("remainder", (_i32(5, -5, -(2**31)), _i32(0, 0, -1)), {}, id="rem_int_by_0"),
    pytest.param("remainder", (np.array([5.5, -5.5], np.float32), np.array([0, 2], np.float32)),
                 {}, id="rem_float"),
    pytest.param("power", (_i32(2, 3, 0), _i32(0, 3, 2)), {}, id="pow_int"),
    pytest.param(
        "power", (_i32(2, -2, 1, -1, 3), _i32(-1, -1, -2, -3, -2)), {}, id="pow_int_negative_exp"
    ),
    pytest.param("convert", (np.array([np.nan, 1e10, -1e10, 3.7, -3.7, np.inf], np.float32),),
                 {"dtype": "int32"}, id="convert_f32_i32_saturating"),
    pytest.param("convert", (np.array([np.nan, 300, -5, 3.7], np.float32),), {"dtype": "uint8"},
                 id="convert_f32_u8"),
    pytest.param("convert", (_i32(300, -5),), {"dtype": "uint8"}, id="convert_i32_u8_wraps"),
    pytest.param("convert", (np.array([0.0, -0.0, np.nan, 2.0], np.float32),), {"dtype": "bool"},
                 id="convert_to_bool"),
    pytest.param("abs", (np.array([-128, 5], np.int8),), {}, id="abs_int_min"),
    pytest.param("negate", (np.array([-128], np.int8),), {}, id="neg_int_min"),
    pytest.param("round_nearest_even", (np.array([0.5, 1.5, 2.5, -0.5], np.float16),), {},
                 id="round_f16"),
    pytest.param("maximum", (np.array([np.nan, 1.0], np.float32),
                             np.array([1.0, np.nan], np.float32)), {}, id="max_nan"),
]


@pytest.mark.parametrize("name,args,attrs", REFERENCE_EDGES)
def test_reference_matches_xla_at_the_edges(name, args, attrs):
    op = REGISTRY[name]
    attrs = {k: tx.as_dtype(v) if k == "dtype" else v for k, v in attrs.items()}
    got = bind(op, *[tx.constant(a) for a in args], **attrs).numpy()
    want = np.asarray(op.reference(*args, **attrs))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want, err_msg=f"{name}{args} {attrs}")
