"""`tx.function`: the trace cache key, nested structures, closures, methods, input_signature,
reduce_retracing, retrace warnings, concrete functions, compiler IR stages and eager debugging."""
from __future__ import annotations

import collections
import dataclasses
import gc
import importlib
import re
import warnings
import weakref

import numpy as np
import pytest

import tfx_core as tx
from compiler.ir.types import TensorType

# `tx.function` is the decorator; this is the module that defines it.
function_module = importlib.import_module("tfx_core.polymorphic_function.function")


def t(value, dtype=np.float32) -> tx.Tensor:
    return tx.constant(np.asarray(value, dtype))


def ones(*shape, dtype=np.float32) -> tx.Tensor:
    return t(np.ones(shape), dtype)


def count(f) -> int:
    return f.experimental_get_tracing_count()


Point = collections.namedtuple("Point", ["x", "y"])


@dataclasses.dataclass
class Affine:
    w: object
    b: object


@dataclasses.dataclass
class Scaled:
    value: object
    scale: float


# ======================================================================== retracing / cache key
class TestRetracing:
    def test_same_key_traces_once(self):
        @tx.function
        def f(x):
            return x * 2.0

        x = ones(2, 3)
        for _ in range(4):
            np.testing.assert_allclose(f(x).numpy(), np.full((2, 3), 2.0))
        assert count(f) == 1
        f(ones(2, 3))  # a different tensor of the same type: same key
        assert count(f) == 1

    def test_new_shape_retraces(self):
        @tx.function
        def f(x):
            return x + 1.0

        f(ones(2, 3))
        f(ones(3, 3))
        assert count(f) == 2
        f(ones(3))
        assert count(f) == 3
        f(ones(2, 3))  # known again
        f(ones(3, 3))
        assert count(f) == 3

    def test_new_dtype_retraces(self):
        @tx.function
        def f(x):
            return x + x

        f(ones(4))
        f(ones(4, dtype=np.float64))
        f(ones(4, dtype=np.int32))
        assert count(f) == 3
        out = f(ones(4, dtype=np.float64))
        assert out.dtype == tx.float64
        assert count(f) == 3

    def test_python_scalar_values_are_part_of_the_key(self):
        @tx.function
        def f(x, n):
            return x * n

        x = ones(3)
        np.testing.assert_allclose(f(x, 2).numpy(), [2, 2, 2])
        f(x, 2)
        assert count(f) == 1
        np.testing.assert_allclose(f(x, 3).numpy(), [3, 3, 3])
        assert count(f) == 2
        np.testing.assert_allclose(f(x, 2.5).numpy(), [2.5] * 3)
        assert count(f) == 3
        f(x, 3)
        assert count(f) == 3

    def test_python_bool_and_int_are_distinct_keys(self):
        @tx.function
        def f(x, flag):
            return x + 1.0 if flag is True else x - 1.0

        x = ones(2)
        np.testing.assert_allclose(f(x, True).numpy(), [2, 2])
        np.testing.assert_allclose(f(x, 1).numpy(), [0, 0])
        assert count(f) == 2

    def test_nan_python_argument_traces_once_and_signed_zero_retraces(self):
        g = tx.function(lambda x, s: x * s)
        x = tx.constant([1.0, 2.0])
        for _ in range(3):
            assert np.isnan(g(x, float("nan")).numpy()).all()
        assert g.experimental_get_tracing_count() == 1
        g(x, 0.0)
        assert np.signbit(g(x, -0.0).numpy()).all()
        assert g.experimental_get_tracing_count() == 3

    def test_python_string_argument(self):
        @tx.function
        def f(x, mode):
            return tx.exp(x) if mode == "exp" else tx.sin(x)

        x = t([0.0, 1.0])
        np.testing.assert_allclose(f(x, "exp").numpy(), np.exp([0.0, 1.0]), rtol=1e-6)
        np.testing.assert_allclose(f(x, "sin").numpy(), np.sin([0.0, 1.0]), rtol=1e-6)
        f(x, "exp")
        assert count(f) == 2

    def test_tuple_vs_list_retraces(self):
        @tx.function
        def f(xs):
            return xs[0] + xs[1]

        a = ones(2)
        f((a, a))
        f((a, a))
        assert count(f) == 1
        f([a, a])
        assert count(f) == 2
        f([a, a])
        assert count(f) == 2

    def test_dict_keys_are_part_of_the_key(self):
        @tx.function
        def f(d):
            return {k: v * 2.0 for k, v in d.items()}

        a = ones(2)
        out = f({"a": a})
        assert set(out) == {"a"}
        f({"b": a})
        assert count(f) == 2
        f({"a": a, "b": a})
        assert count(f) == 3
        f({"b": a, "a": a})  # insertion order does not matter (keys are sorted)
        assert count(f) == 3

    def test_numpy_array_keys_like_tensor_after_tensor(self):
        @tx.function
        def f(x):
            return x * 3.0

        f(ones(2, 3))
        out = f(np.ones((2, 3), np.float32))
        assert count(f) == 1
        assert isinstance(out, tx.Tensor)
        np.testing.assert_allclose(out.numpy(), np.full((2, 3), 3.0))
        f(ones(2, 3, dtype=np.float64))
        f(np.ones((2, 3), np.float64))  # keyed by its own dtype
        assert count(f) == 2

    def test_numpy_array_first_call_then_tensor_shares_trace(self):
        @tx.function
        def f(x):
            return x * 3.0

        out = f(np.ones((2, 3), np.float32))
        np.testing.assert_allclose(out.numpy(), np.full((2, 3), 3.0))
        f(ones(2, 3))
        assert count(f) == 1
        f(np.ones((2, 3), np.float64))  # another dtype: another key
        assert count(f) == 2

    def test_numpy_and_tensor_mixed_arguments(self):
        @tx.function
        def f(x, y):
            return x + y

        out = f(np.ones(2, np.float32), t([1.0, 2.0]))
        np.testing.assert_allclose(out.numpy(), [2.0, 3.0])

    def test_numpy_scalar_is_a_static_value_on_every_path(self):
        f = tx.function(lambda x, s: x * s)
        x = tx.constant([1.0], tx.float32)
        f(x, np.array(2.0, np.float32))  # a 0-d array: a tensor argument
        out = f(x, np.float32(5.0))  # a numpy scalar: a Python value (retraces)
        np.testing.assert_array_equal(out.numpy(), [5.0])
        assert f.experimental_get_tracing_count() == 2

    def test_keyword_and_positional_spelling_share_a_trace(self):
        @tx.function
        def f(x, n):
            return x * n

        x = ones(2)
        f(x, 3)
        f(x, n=3)
        f(x=x, n=3)
        assert count(f) == 1

    def test_keyword_arguments(self):
        @tx.function
        def f(x, *, scale, shift=0.0):
            return x * scale + shift

        x = t([1.0, 2.0])
        np.testing.assert_allclose(f(x, scale=2.0).numpy(), [2.0, 4.0])
        np.testing.assert_allclose(f(x, scale=2.0, shift=1.0).numpy(), [3.0, 5.0])
        f(x, scale=2.0)
        assert count(f) == 2

    def test_unhashable_python_argument_is_a_clear_type_error(self):
        @tx.function
        def f(x, s):
            return x

        with pytest.raises(TypeError, match="unhashable set"):
            f(ones(2), {1, 2})

    def test_tracing_count_starts_at_zero_and_metadata(self):
        def my_fn(x):
            """Doc of my_fn."""
            return x

        f = tx.function(my_fn)
        assert count(f) == 0
        assert f.__name__ == "my_fn"
        assert f.__doc__ == "Doc of my_fn."
        assert f.python_function is my_fn
        assert isinstance(f, tx.Function)
        assert "my_fn" in repr(f)

    def test_decorator_with_arguments(self):
        @tx.function(jit_compile=True)
        def f(x):
            return x - 1.0

        np.testing.assert_allclose(f(t([3.0])).numpy(), [2.0])


# ======================================================================== nested inputs/outputs
class TestStructures:
    def test_tuple_and_list_inputs_and_outputs(self):
        @tx.function
        def f(pair, triple):
            a, b = pair
            return [a + b, (triple[0] * triple[1], triple[2])]

        a, b = t([1.0, 2.0]), t([3.0, 4.0])
        out = f((a, b), [a, b, t([5.0, 6.0])])
        assert isinstance(out, list) and isinstance(out[1], tuple)
        np.testing.assert_allclose(out[0].numpy(), [4.0, 6.0])
        np.testing.assert_allclose(out[1][0].numpy(), [3.0, 8.0])
        np.testing.assert_allclose(out[1][1].numpy(), [5.0, 6.0])

    def test_dict_inputs_and_outputs(self):
        @tx.function
        def f(d):
            return {"sum": d["a"] + d["b"], "nested": {"diff": d["a"] - d["b"]}}

        out = f({"a": t([5.0]), "b": t([2.0])})
        assert isinstance(out, dict) and set(out) == {"sum", "nested"}
        np.testing.assert_allclose(out["sum"].numpy(), [7.0])
        np.testing.assert_allclose(out["nested"]["diff"].numpy(), [3.0])

    def test_namedtuple_inputs_and_outputs(self):
        @tx.function
        def f(p):
            return Point(p[0] + 1.0, p[1] * 2.0)

        out = f(Point(t([1.0]), t([3.0])))
        assert type(out) is Point
        np.testing.assert_allclose(out.x.numpy(), [2.0])
        np.testing.assert_allclose(out.y.numpy(), [6.0])
        f(Point(t([0.0]), t([0.0])))
        assert count(f) == 1
        f((t([0.0]), t([0.0])))  # a plain tuple is another structure
        assert count(f) == 2

    def test_dataclass_argument(self):
        @tx.function
        def f(layer, x):
            return layer.w * x + layer.b

        x = t([1.0, 2.0])
        out = f(Affine(t([2.0, 2.0]), t([0.5, 0.5])), x)
        np.testing.assert_allclose(out.numpy(), [2.5, 4.5])
        out = f(Affine(t([3.0, 3.0]), t([0.0, 0.0])), x)  # new instance, same types
        np.testing.assert_allclose(out.numpy(), [3.0, 6.0])
        assert count(f) == 1

    def test_dataclass_with_python_field_keys_by_value(self):
        @tx.function
        def f(s):
            return s.value * s.scale

        v = t([1.0, 2.0])
        np.testing.assert_allclose(f(Scaled(v, 2.0)).numpy(), [2.0, 4.0])
        np.testing.assert_allclose(f(Scaled(v, 3.0)).numpy(), [3.0, 6.0])
        f(Scaled(v, 2.0))
        assert count(f) == 2

    def test_dataclass_returned_when_passed_in(self):
        @tx.function
        def f(layer):
            return Affine(layer.w + 1.0, layer.b)

        out = f(Affine(t([1.0]), t([2.0])))
        assert type(out) is Affine
        np.testing.assert_allclose(out.w.numpy(), [2.0])
        np.testing.assert_allclose(out.b.numpy(), [2.0])

    def test_python_numbers_returned_become_tensors(self):
        @tx.function
        def f(x):
            return 1.5, 3, True, x

        a, b, c, d = f(ones(2))
        for v in (a, b, c, d):
            assert isinstance(v, tx.Tensor)
        assert a.dtype == tx.float32 and float(a) == 1.5
        assert b.dtype == tx.int32 and int(b) == 3
        assert c.dtype == tx.bool and bool(c) is True
        np.testing.assert_allclose(d.numpy(), [1.0, 1.0])

    def test_numpy_array_returned_becomes_tensor(self):
        @tx.function
        def f(x):
            return x, np.arange(3, dtype=np.int32)

        _, b = f(ones(1))
        assert isinstance(b, tx.Tensor) and b.dtype == tx.int32
        np.testing.assert_array_equal(b.numpy(), [0, 1, 2])

    def test_none_inside_structures(self):
        @tx.function
        def f(x):
            return (x * 2.0, None), {"value": x, "nothing": None}, [None]

        (a, n1), d, lst = f(t([1.0]))
        np.testing.assert_allclose(a.numpy(), [2.0])
        assert n1 is None
        assert d["nothing"] is None
        np.testing.assert_allclose(d["value"].numpy(), [1.0])
        assert lst == [None]

    def test_none_inputs_and_none_output(self):
        @tx.function
        def f(x, maybe):
            return None if maybe is None else x

        assert f(ones(2), None) is None
        np.testing.assert_allclose(f(ones(2), 1).numpy(), [1.0, 1.0])

    def test_returning_an_input_unchanged_and_twice(self):
        @tx.function
        def f(x):
            return x, x

        a, b = f(t([4.0, 5.0]))
        np.testing.assert_allclose(a.numpy(), [4.0, 5.0])
        np.testing.assert_allclose(b.numpy(), [4.0, 5.0])

    def test_function_without_arguments(self):
        @tx.function
        def f():
            return tx.constant(2.0) + 1.0

        assert float(f()) == 3.0
        f()
        assert count(f) == 1

    def test_unsupported_return_type_is_a_clear_error(self):
        @tx.function
        def bad_return(x):
            return object()

        with pytest.raises(TypeError, match="bad_return returned a object"):
            bad_return(ones(1))

    def test_nested_function_call_inlines(self):
        @tx.function
        def inner(x):
            return x * 3.0

        @tx.function
        def outer(x):
            return inner(x) + 1.0

        np.testing.assert_allclose(outer(t([1.0])).numpy(), [4.0])
        ir = outer.experimental_get_compiler_ir(t([1.0]))("ir")
        assert "multiply" in ir and "add" in ir


# ======================================================================== closures / captures
class TestClosures:
    def test_small_tensor_closure_is_a_constant(self):
        small = t(np.arange(6).reshape(2, 3))

        @tx.function
        def f(x):
            return x + small

        x = ones(2, 3)
        np.testing.assert_allclose(f(x).numpy(), 1 + np.arange(6).reshape(2, 3))
        ir = f.experimental_get_compiler_ir(x)("ir")
        assert "constant" in ir
        assert "dense<f32[2,3] [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]>" in ir
        assert ir.splitlines()[0] == "func @f(%0: f32[2,3]) -> (f32[2,3]) {"  # no extra input

    def test_small_tensor_used_twice_is_one_constant(self):
        small = t([1.0, 2.0])

        @tx.function
        def f(x):
            return x * small + small

        x = t([3.0, 4.0])
        np.testing.assert_allclose(f(x).numpy(), [4.0, 10.0])
        ir = f.experimental_get_compiler_ir(x)("ir")
        assert ir.count("= constant") == 1

    def test_small_numpy_closure_is_a_constant(self):
        arr = np.array([[1.0, -1.0]], np.float32)

        @tx.function
        def f(x):
            return x * arr

        x = t([[2.0, 3.0]])
        np.testing.assert_allclose(f(x).numpy(), [[2.0, -3.0]])
        ir = f.experimental_get_compiler_ir(x)("ir")
        assert "constant" in ir and "dense<f32[1,2] [1.0, -1.0]>" in ir

    def test_large_tensor_closure_is_an_implicit_argument(self):
        rng = np.random.default_rng(0)
        big_np = rng.standard_normal((512, 512)).astype(np.float32)
        big = tx.constant(big_np)

        @tx.function
        def f(x, y):
            return x * y + big

        x = t(rng.standard_normal((512, 512)))
        y = t(rng.standard_normal((512, 512)))
        out = f(x, y)
        np.testing.assert_allclose(out.numpy(), x.numpy() * y.numpy() + big_np, rtol=1e-5,
                                   atol=1e-5)
        shlo = f.experimental_get_compiler_ir(x, y)("stablehlo")
        assert len(shlo) < 20000, "the 512x512 capture was baked in as a constant"
        main = re.search(r"func\.func (?:public )?@main\(([^)]*)\)", shlo)
        assert main, shlo
        assert main.group(1).count("%arg") == 3, main.group(0)
        assert re.search(r"dense<[^>]{200,}>", shlo) is None, "a large dense constant"
        ir = f.experimental_get_compiler_ir(x, y)("ir")
        assert "constant" not in ir
        cf = f.get_concrete_function(x, y)
        assert len(cf.captured_inputs) == 1 and cf.captured_inputs[0] is big
        assert len(cf.input_types) == 2  # captures are not explicit inputs

    def test_large_numpy_closure_is_an_implicit_argument(self):
        big_np = np.linspace(0, 1, 2048, dtype=np.float32)

        @tx.function
        def f(x):
            return x + big_np

        x = ones(2048)
        np.testing.assert_allclose(f(x).numpy(), 1 + big_np, rtol=1e-6)
        shlo = f.experimental_get_compiler_ir(x)("stablehlo")
        assert len(shlo) < 20000
        main = re.search(r"func\.func (?:public )?@main\(([^)]*)\)", shlo)
        assert main.group(1).count("%arg") == 2

    def test_large_capture_with_input_signature_none_dims(self):
        row = t(np.random.default_rng(1).random(2000))

        @tx.function(input_signature=[tx.TensorSpec([None, 2000], tx.float32)])
        def f(x):
            return x + row

        for b in (1, 3):
            out = f(ones(b, 2000))
            np.testing.assert_allclose(out.numpy(), 1 + np.broadcast_to(row.numpy(), (b, 2000)),
                                       rtol=1e-6)
        assert count(f) == 1


# ======================================================================== methods
class Scaler:
    def __init__(self, scale: float):
        self.scale = scale
        self.traces = 0

    @tx.function
    def __call__(self, x):
        self.traces += 1
        return x * self.scale

    @tx.function
    def shifted(self, x, shift):
        return self(x) + shift


class SlotsScaler:
    __slots__ = ("scale", "traces")

    def __init__(self, scale):
        self.scale = scale
        self.traces = 0

    @tx.function
    def __call__(self, x):
        self.traces += 1
        return x * self.scale


class TestMethods:
    def test_method_with_per_instance_state(self):
        a, b = Scaler(2.0), Scaler(3.0)
        x = t([1.0, 2.0])
        np.testing.assert_allclose(a(x).numpy(), [2.0, 4.0])
        np.testing.assert_allclose(b(x).numpy(), [3.0, 6.0])
        a(x)
        b(x)
        assert a.traces == 1 and b.traces == 1
        assert a.__call__.experimental_get_tracing_count() == 1
        assert b.__call__.experimental_get_tracing_count() == 1
        assert a.__call__ is a.__call__  # the bound Function is cached per instance

    def test_python_attributes_are_read_at_trace_time(self):
        s = Scaler(2.0)
        x = t([1.0])
        np.testing.assert_allclose(s(x).numpy(), [2.0])
        s.scale = 5.0  # a Python attribute is baked into the trace (as in TF)
        np.testing.assert_allclose(s(x).numpy(), [2.0])
        np.testing.assert_allclose(s(t([1.0, 1.0])).numpy(), [5.0, 5.0])  # new trace sees it

    def test_method_calling_method(self):
        s = Scaler(2.0)
        np.testing.assert_allclose(s.shifted(t([1.0]), 0.5).numpy(), [2.5])

    def test_unbound_access_returns_the_function(self):
        assert isinstance(Scaler.__call__, tx.Function)

    def test_non_weakrefable_instance_does_not_retrace(self):
        s = SlotsScaler(2.0)
        x = t([1.0])
        for _ in range(3):
            np.testing.assert_allclose(s(x).numpy(), [2.0])
        assert s.traces == 1

    def test_method_instances_are_freed(self):
        class M:
            def __init__(self, s):
                self.s = s

            @tx.function
            def f(self, x):
                return x * self.s

        m = M(2.0)
        m.f(tx.constant([1.0]))
        ref = weakref.ref(m)
        del m
        gc.collect()
        assert ref() is None

    def test_equal_instances_get_their_own_traces(self):
        class E:
            def __init__(self, name, s):
                self.name, self.s = name, s

            def __eq__(self, other):
                return isinstance(other, E) and other.name == self.name

            def __hash__(self):
                return hash(self.name)

            @tx.function
            def f(self, x):
                return x * self.s

        a, b = E("n", 2.0), E("n", 3.0)
        x = tx.constant([1.0, 2.0])
        np.testing.assert_array_equal(a.f(x).numpy(), [2.0, 4.0])
        np.testing.assert_array_equal(b.f(x).numpy(), [3.0, 6.0])

    def test_method_keyword_arguments_still_canonicalize(self):
        class K:
            @tx.function
            def f(self, x, n=1):
                return x * float(n)

        k, x = K(), tx.constant([1.0])
        k.f(x, 2)
        k.f(x, n=2)
        assert k.f.experimental_get_tracing_count() == 1


# ======================================================================== input_signature
class TestInputSignature:
    def _make(self):
        @tx.function(input_signature=[tx.TensorSpec([None, 3], tx.float32)])
        def sig_fn(x):
            return x * 2.0 + 1.0

        return sig_fn

    def test_none_dims_trace_once(self):
        f = self._make()
        for b in (1, 3, 7):
            out = f(ones(b, 3))
            assert tuple(out.shape) == (b, 3)
            np.testing.assert_allclose(out.numpy(), np.full((b, 3), 3.0))
        assert count(f) == 1

    def test_each_new_shape_compiles(self):
        f = self._make()
        for b in (1, 3, 7):
            shlo = f.experimental_get_compiler_ir(ones(b, 3))("stablehlo")
            assert f"tensor<{b}x3xf32>" in shlo
            ir = f.experimental_get_compiler_ir(ones(b, 3))("ir")
            assert f"f32[{b},3]" in ir and "?" not in ir
        assert count(f) == 1
        cf = f.get_concrete_function()
        assert "f32[?,3]" in str(cf.graph)

    def test_get_concrete_function_without_args_is_the_signature_one(self):
        f = self._make()
        cf = f.get_concrete_function()
        assert isinstance(cf, tx.ConcreteFunction)
        assert cf.input_types == (TensorType(tx.float32, (None, 3)),)
        f(ones(2, 3))
        assert f.get_concrete_function() is cf
        assert count(f) == 1
        args, kwargs = cf.structured_input_signature
        assert args == (tx.TensorSpec([None, 3], tx.float32),) and kwargs == {}
        np.testing.assert_allclose(cf(ones(4, 3)).numpy(), np.full((4, 3), 3.0))

    @pytest.mark.parametrize(
        "bad",
        [
            pytest.param(lambda: ones(2, 3, dtype=np.float64), id="dtype"),
            pytest.param(lambda: ones(3), id="rank"),
            pytest.param(lambda: ones(2, 4), id="fixed-dim"),
        ],
    )
    def test_mismatch_is_type_error_naming_function_and_spec(self, bad):
        f = self._make()
        with pytest.raises(TypeError) as e:
            f(bad())
        msg = str(e.value)
        assert "sig_fn" in msg
        assert "TensorSpec(shape=[None, 3], dtype=tx.float32)" in msg
        assert count(f) <= 1

    def test_wrong_number_of_arguments(self):
        f = self._make()
        with pytest.raises(TypeError, match="sig_fn"):
            f(ones(2, 3), ones(2, 3))

    def test_keyword_argument_is_bound(self):
        f = self._make()
        np.testing.assert_allclose(f(x=ones(1, 3)).numpy(), [[3.0, 3.0, 3.0]])

    def test_compiler_ir_with_wrong_dtype_raises(self):
        f = self._make()
        with pytest.raises(TypeError, match="sig_fn"):
            f.experimental_get_compiler_ir(ones(2, 3, dtype=np.int32))

    def test_numpy_array_accepted(self):
        f = self._make()
        out = f(np.ones((2, 3), np.float32))
        np.testing.assert_allclose(out.numpy(), np.full((2, 3), 3.0))

    def test_python_list_converted_to_spec_dtype(self):
        f = self._make()
        out = f([[1, 2, 3]])
        assert out.dtype == tx.float32
        np.testing.assert_allclose(out.numpy(), [[3.0, 5.0, 7.0]])

    def test_get_concrete_function_with_incompatible_spec_raises(self):
        f = self._make()
        with pytest.raises(TypeError):
            f.get_concrete_function(tx.TensorSpec([2, 4], tx.float32))

    def test_get_concrete_function_with_compatible_spec(self):
        f = self._make()
        cf = f.get_concrete_function(tx.TensorSpec([None, 3], tx.float32))
        assert cf is f.get_concrete_function()

    def test_nested_signature(self):
        spec = tx.TensorSpec([None], tx.float32)

        @tx.function(input_signature=[(spec, spec)])
        def f(pair):
            a, b = pair
            return a - b

        np.testing.assert_allclose(f((t([3.0, 4.0]), t([1.0, 1.0]))).numpy(), [2.0, 3.0])
        np.testing.assert_allclose(f((t([3.0]), t([1.0]))).numpy(), [2.0])
        assert count(f) == 1


# ======================================================================== reduce_retracing
class TestReduceRetracing:
    def test_shape_only_retrace_generalizes(self):
        @tx.function(reduce_retracing=True)
        def f(x):
            return x + 1.0

        f(ones(2))
        assert count(f) == 1
        f(ones(3))
        assert count(f) == 2
        for n in (4, 5, 9, 17):
            out = f(ones(n))
            assert tuple(out.shape) == (n,)
            np.testing.assert_allclose(out.numpy(), np.full(n, 2.0))
        assert count(f) == 2

    def test_relaxed_trace_has_unknown_dim(self):
        @tx.function(reduce_retracing=True)
        def f(x):
            return x * 2.0

        f(ones(2, 3))
        f(ones(5, 3))
        cf = f.get_concrete_function(ones(8, 3))
        assert cf.input_types == (TensorType(tx.float32, (None, 3)),)
        assert count(f) == 2

    def test_rank_or_dtype_change_still_retraces(self):
        @tx.function(reduce_retracing=True)
        def f(x):
            return x + x

        f(ones(2))
        f(ones(3))
        f(ones(2, 2))
        assert count(f) == 3
        f(ones(4, dtype=np.float64))
        assert count(f) == 4

    def test_without_reduce_retracing_every_shape_retraces(self):
        @tx.function
        def f(x):
            return x + 1.0

        for n in (2, 3, 4):
            f(ones(n))
        assert count(f) == 3


# ======================================================================== retrace warning
def _retrace_warnings(fn, n_shapes: int) -> list:
    """Call `fn` on `n_shapes` different shapes; return the RetracingWarnings it emitted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, n_shapes + 1):
            fn(ones(n))
    return [w for w in caught if issubclass(w.category, tx.RetracingWarning)]


class TestRetracingWarning:
    def test_warning_names_argument_and_shapes(self):
        @tx.function
        def jittery(x):
            return x * 2.0

        ws = _retrace_warnings(jittery, 6)
        assert ws
        msg = str(ws[-1].message)
        assert "jittery" in msg
        assert "argument x" in msg
        assert "f32[5]" in msg and "f32[6]" in msg

    def test_warning_via_pytest_warns(self):
        @tx.function
        def g(x):
            return x - 1.0

        with pytest.warns(tx.RetracingWarning, match=r"argument x: tensor f32\[\d\]"):
            for n in range(1, 7):
                g(ones(n))

    def test_python_value_change_is_described(self):
        @tx.function
        def h(x, k):
            return x * k

        x = ones(1)
        with pytest.warns(tx.RetracingWarning, match=r"argument k: python int 4 -> python int 5"):
            for k in range(6):
                h(x, k)

    def test_no_warning_for_few_traces(self):
        @tx.function
        def calm(x):
            return x * 2.0

        with warnings.catch_warnings():
            warnings.simplefilter("error", tx.RetracingWarning)
            for n in range(1, 4):
                calm(ones(n))
            for _ in range(10):
                calm(ones(1))

    def test_no_warning_with_input_signature(self):
        @tx.function(input_signature=[tx.TensorSpec([None], tx.float32)])
        def steady(x):
            return x * 2.0

        with warnings.catch_warnings():
            warnings.simplefilter("error", tx.RetracingWarning)
            for n in range(1, 10):
                steady(ones(n))

    def test_warns_on_fifth_trace(self):
        assert function_module.RETRACE_WARN_COUNT == 5

        @tx.function
        def five(x):
            return x * 2.0

        with pytest.warns(tx.RetracingWarning):
            for n in range(1, 6):
                five(ones(n))

    def test_warning_points_at_user_code(self):
        @tx.function
        def loc(x):
            return x * 2.0

        ws = _retrace_warnings(loc, 6)
        assert ws and ws[0].filename == __file__, ws[0].filename


# ======================================================================== concrete functions
class TestConcreteFunction:
    def _fn(self):
        @tx.function
        def cf_fn(x, y):
            z = x * 5.0  # dead: removed by dce
            del z
            return tx.exp(x) * y + 1.0

        return cf_fn

    def test_get_concrete_function_from_specs(self):
        f = self._fn()
        spec = tx.TensorSpec([2, 3], tx.float32)
        cf = f.get_concrete_function(spec, spec)
        assert isinstance(cf, tx.ConcreteFunction)
        assert cf.input_types == (TensorType(tx.float32, (2, 3)),) * 2
        assert "exp" in str(cf.graph)
        assert cf.graph.input_types == cf.input_types
        assert count(f) == 1
        x = t(np.arange(6).reshape(2, 3) / 6)
        y = ones(2, 3)
        np.testing.assert_allclose(cf(x, y).numpy(), np.exp(x.numpy()) + 1.0, rtol=1e-6)
        f(x, y)  # the call reuses the concrete function traced from specs
        assert count(f) == 1
        assert f.get_concrete_function(x, y) is cf
        assert cf.structured_outputs == tx.TensorSpec([2, 3], tx.float32)

    def test_concrete_function_accepts_numpy(self):
        f = self._fn()
        cf = f.get_concrete_function(tx.TensorSpec([2, 3]), tx.TensorSpec([2, 3]))
        out = cf(np.zeros((2, 3), np.float32), ones(2, 3))
        np.testing.assert_allclose(out.numpy(), np.full((2, 3), 2.0))

    @pytest.mark.parametrize(
        "args,match",
        [
            pytest.param(lambda: (ones(3, 3), ones(2, 3)), r"f32\[3,3\]", id="shape"),
            pytest.param(lambda: (ones(2, 3, dtype=np.float64), ones(2, 3)), r"f64\[2,3\]",
                         id="dtype"),
            pytest.param(lambda: (ones(2, 3),), "structure", id="arity"),
            pytest.param(lambda: (ones(2, 3), "nope"), "argument leaf 1", id="python"),
        ],
    )
    def test_mismatched_call_is_clear_type_error(self, args, match):
        f = self._fn()
        cf = f.get_concrete_function(tx.TensorSpec([2, 3]), tx.TensorSpec([2, 3]))
        with pytest.raises(TypeError, match=match) as e:
            cf(*args())
        assert "cf_fn" in str(e.value)

    def test_python_argument_must_match(self):
        @tx.function
        def f(x, k):
            return x * k

        cf = f.get_concrete_function(tx.TensorSpec([2]), 3.0)
        np.testing.assert_allclose(cf(ones(2), 3.0).numpy(), [3.0, 3.0])
        with pytest.raises(TypeError, match="traced with 3.0"):
            cf(ones(2), 4.0)

    def test_concrete_function_accepts_keywords(self):
        f = self._fn()
        cf = f.get_concrete_function(tx.TensorSpec([2, 3]), tx.TensorSpec([2, 3]))
        out = cf(ones(2, 3), y=ones(2, 3))
        np.testing.assert_allclose(out.numpy(), np.full((2, 3), np.e + 1.0), rtol=1e-6)

    def test_timings_explain_and_pass_records(self):
        f = self._fn()
        spec = tx.TensorSpec([2, 3], tx.float32)
        cf = f.get_concrete_function(spec, spec)
        cf(ones(2, 3), ones(2, 3))
        timings = cf.timings
        for k in ("trace", "passes", "lower", "xla"):
            assert k in timings, timings
            assert timings[k] >= 0.0
        text = cf.explain()
        for k in ("trace", "passes", "lower", "xla", "dce"):
            assert k in text, text
        assert "cf_fn" in text
        names = [r.name for r in cf.pass_records]
        from compiler.passes import DEFAULT_PIPELINE

        assert names == list(DEFAULT_PIPELINE)
        rec = cf.pass_records[-1]
        assert rec.ops_before - rec.ops_after == 2  # the dead multiply and its constant
        assert "dropped 2 ops (constant 1, multiply 1)" in rec.summary
        assert "cf_fn" in repr(cf) and "f32[2,3]" in repr(cf)

    def test_dce_removes_dead_ops_from_optimized_ir(self):
        f = self._fn()
        x = ones(2, 3)
        get = f.experimental_get_compiler_ir(x, x)
        assert "5.0" in get("ir")
        assert "5.0" not in get("ir_optimized")

    def test_experimental_passes_empty_pipeline(self):
        @tx.function(experimental_passes=[])
        def f(x):
            unused = x * 5.0
            del unused
            return x + 1.0

        x = ones(2)
        np.testing.assert_allclose(f(x).numpy(), [2.0, 2.0])
        assert f.get_concrete_function(x).pass_records == []
        assert "5.0" in f.experimental_get_compiler_ir(x)("ir_optimized")


# ======================================================================== compiler IR stages
GOLDEN_IR = """\
func @golden(%0: f32[2,3], %1: f32[2,3]) -> (f32[2,3]) {
  %2: f32[2,3] = exp %0
  %3: f32[2,3] = multiply %2, %1
  %4: f32[] = constant {value=dense<f32[] [1.0]>}
  %5: f32[2,3] = add %3, %4
  return %5
}"""


class TestCompilerIR:
    def _fn(self):
        @tx.function
        def golden(x, y):
            return tx.exp(x) * y + 1.0

        return golden

    def test_golden_ir(self):
        f = self._fn()
        x = ones(2, 3)
        got = f.experimental_get_compiler_ir(x, x)("ir")
        assert got == GOLDEN_IR, f"IR changed; actual text:\n{got}"

    @pytest.mark.parametrize(
        "stage,needle",
        [
            ("ir", "func @golden("),
            ("ir_optimized", "func @golden("),
            ("stablehlo", "stablehlo."),
            ("hlo", "HloModule"),
            ("optimized_hlo", "HloModule"),
        ],
    )
    def test_stages(self, stage, needle):
        f = self._fn()
        x = ones(2, 3)
        text = f.experimental_get_compiler_ir(x, x)(stage=stage)
        assert isinstance(text, str) and needle in text, text

    def test_stablehlo_content(self):
        f = self._fn()
        x = ones(2, 3)
        shlo = f.experimental_get_compiler_ir(x, x)("stablehlo")
        assert "stablehlo.exponential" in shlo
        assert "tensor<2x3xf32>" in shlo

    def test_default_stage_is_hlo(self):
        f = self._fn()
        x = ones(2, 3)
        assert "HloModule" in f.experimental_get_compiler_ir(x, x)()

    def test_unknown_stage(self):
        f = self._fn()
        x = ones(2, 3)
        with pytest.raises(ValueError, match="unknown stage"):
            f.experimental_get_compiler_ir(x, x)("llvm")

    def test_compiler_ir_does_not_retrace_known_key(self):
        f = self._fn()
        x = ones(2, 3)
        f(x, x)
        f.experimental_get_compiler_ir(x, x)("ir")
        assert count(f) == 1


# ======================================================================== run_functions_eagerly
class TestRunEagerly:
    def test_body_runs_as_python(self):
        calls = []

        @tx.function
        def f(x):
            calls.append(x.numpy())  # numpy() works eagerly
            return x + 1.0

        x = t([1.0, 2.0])
        assert not tx.config.functions_run_eagerly()
        tx.config.run_functions_eagerly(True)
        try:
            assert tx.config.functions_run_eagerly()
            for _ in range(3):
                np.testing.assert_allclose(f(x).numpy(), [2.0, 3.0])
        finally:
            tx.config.run_functions_eagerly(False)
        assert len(calls) == 3
        np.testing.assert_allclose(calls[0], [1.0, 2.0])
        assert count(f) == 0
        assert not tx.config.functions_run_eagerly()

    def test_python_control_flow_on_values_works_eagerly(self):
        @tx.function
        def f(x):
            if x > 0:
                return x
            return -x

        tx.config.run_functions_eagerly(True)
        try:
            assert float(f(t(-2.0))) == 2.0
            assert float(f(t(3.0))) == 3.0
        finally:
            tx.config.run_functions_eagerly(False)

    def test_side_effects_happen_once_when_traced(self):
        calls = []

        @tx.function
        def f(x):
            calls.append(1)
            return x + 1.0

        x = t([1.0])
        for _ in range(3):
            f(x)
        assert len(calls) == 1


# ======================================================================== devices / eager
class TestDevicesAndEager:
    def test_list_physical_devices(self):
        devs = tx.config.list_physical_devices()
        assert any(d.device_type == "CPU" for d in devs)
        cpus = tx.config.list_physical_devices("CPU")
        assert cpus and all(d.device_type == "CPU" for d in cpus)
        assert cpus[0].name == "/physical_device:CPU:0"
        assert tx.config.list_physical_devices("cpu") == cpus
        assert isinstance(tx.config.list_physical_devices("GPU"), list)
        assert "CPU" in repr(cpus[0])

    def test_eager_executable_cache(self):
        from tfx_core.framework.eager import EAGER

        a = t(np.linspace(0, 1, 13))
        b = t(np.linspace(1, 2, 13))
        tx.sin(a)
        a * b
        before = EAGER.compiles
        for _ in range(5):
            tx.sin(a)
            a * b
        tx.sin(b)  # another tensor of the same type
        assert EAGER.compiles == before
        tx.sin(t(np.zeros(14)))  # a new shape compiles once
        assert EAGER.compiles == before + 1
        tx.sin(t(np.zeros(14)))
        assert EAGER.compiles == before + 1
