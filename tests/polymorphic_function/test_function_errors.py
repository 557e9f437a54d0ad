"""Misusing symbolic tensors inside (and after) a `tx.function` trace gives clear errors."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx


def t(value, dtype=np.float32) -> tx.Tensor:
    return tx.constant(np.asarray(value, dtype))


class TestSymbolicMisuse:
    def test_if_on_tensor_raises_with_where_hint(self):
        def f(x):
            if x:
                return x
            return -x

        with pytest.raises(TypeError, match=r"tx\.where") as e:
            tx.function(f, autograph=False)(t([1.0, 2.0]))
        assert "symbolic" in str(e.value) and "f32[2]" in str(e.value)
        # AutoGraph makes it a tx.cond, whose predicate must be one bool
        with pytest.raises(TypeError, match=r"pred must be a bool scalar, got f32\[2\] "
                                            r"\(test_function_errors.py:\d+\)"):
            tx.function(f)(t([1.0, 2.0]))

    def test_if_on_comparison_raises(self):
        def f(x):
            if x > 0:
                return x
            return -x

        with pytest.raises(TypeError, match=r"tx\.where"):
            tx.function(f, autograph=False)(t(1.0))
        g = tx.function(f)  # with AutoGraph (the default) the early return compiles
        assert float(g(t(2.0))) == 2.0 and float(g(t(-3.0))) == 3.0

    def test_while_and_boolean_operators_raise(self):
        @tx.function(autograph=False)  # with AutoGraph (the default) this loop compiles
        def loop(x):
            while x < 10.0:
                x = x + 1.0
            return x

        @tx.function
        def logic(x, y):
            return x and y

        with pytest.raises(TypeError, match="Python bool"):
            loop(t(1.0))
        with pytest.raises(TypeError, match="Python bool"):
            logic(t(1.0), t(2.0))

    def test_where_is_the_fix(self):
        @tx.function
        def f(x):
            return tx.where(x > 0, x, -x)

        np.testing.assert_allclose(f(t([-2.0, 3.0])).numpy(), [2.0, 3.0])

    def test_numpy_inside_raises(self):
        @tx.function
        def f(x):
            return x.numpy()

        with pytest.raises(TypeError, match=r"numpy\(\).*symbolic") as e:
            f(t([1.0]))
        assert "run_functions_eagerly" in str(e.value)

    def test_np_asarray_inside_raises(self):
        @tx.function
        def f(x):
            return np.asarray(x) + 1

        with pytest.raises(TypeError, match="symbolic"):
            f(t([1.0]))

    @pytest.mark.parametrize("conv", [float, int])
    def test_python_scalar_conversion_inside_raises(self, conv):
        @tx.function
        def f(x):
            return conv(x)

        with pytest.raises(TypeError, match="symbolic"):
            f(t(1.0))

    def test_symbolic_repr_does_not_raise(self):
        seen = []

        @tx.function
        def f(x):
            seen.append(repr(x))
            return x

        f(t([1.0, 2.0]))
        assert seen and "symbolic" in seen[0]

    def test_symbolic_shape_and_dtype_are_available(self):
        @tx.function
        def f(x):
            assert tuple(x.shape) == (2, 3) and x.dtype == tx.float32 and x.ndim == 2
            assert len(x) == 2 and x.is_symbolic
            return x

        f(t(np.zeros((2, 3))))


class TestLeakedTensors:
    def _leak(self):
        leaked = []

        @tx.function
        def f(x):
            y = x * 2.0
            leaked.append(y)
            return y

        f(t([1.0, 2.0]))
        assert leaked and leaked[0].is_symbolic
        return leaked[0]

    def test_leaked_tensor_in_eager_op(self):
        y = self._leak()
        with pytest.raises(TypeError, match="finished @tx.function trace") as e:
            tx.exp(y)
        assert "exp" in str(e.value)

    def test_leaked_tensor_in_eager_operator(self):
        y = self._leak()
        with pytest.raises(TypeError, match="finished @tx.function trace"):
            y + 1.0

    def test_leaked_tensor_numpy(self):
        y = self._leak()
        with pytest.raises(TypeError, match="symbolic"):
            y.numpy()

    def test_leaked_tensor_in_another_trace(self):
        y = self._leak()

        @tx.function
        def g(x):
            return x + y

        with pytest.raises(TypeError, match="another trace"):
            g(t([1.0, 2.0]))

    def test_leaked_tensor_as_function_argument(self):
        y = self._leak()

        @tx.function
        def g(x):
            return x + 1.0

        with pytest.raises(TypeError, match="symbolic"):
            g(y)


class TestOpErrorsInTrace:
    def test_shape_mismatch_names_op_and_user_line(self):
        @tx.function
        def f(x, y):
            return x + y

        with pytest.raises((TypeError, ValueError)) as e:
            f(t(np.ones((2, 3))), t(np.ones((4, 5))))
        msg = str(e.value)
        assert "add" in msg
        assert "test_function_errors.py" in msg, msg

    def test_failed_trace_is_not_cached(self):
        calls = []

        @tx.function
        def f(x, y):
            calls.append(1)
            return x + y

        a, b = t(np.ones((2, 3))), t(np.ones((4, 5)))
        for _ in range(2):
            with pytest.raises((TypeError, ValueError)):
                f(a, b)
        assert len(calls) == 2
        assert f.experimental_get_tracing_count() == 0

    def test_trace_state_recovers_after_error(self):
        @tx.function
        def bad(x):
            if x:
                return x
            return x

        with pytest.raises(TypeError):
            bad(t([1.0]))
        # after a failed trace, eager ops run eagerly again
        np.testing.assert_allclose(tx.exp(t([0.0])).numpy(), [1.0])
        assert t([3.0]).numpy()[0] == 3.0

    def test_input_signature_rejects_unknown_rank(self):
        with pytest.raises(ValueError, match="unknown rank"):
            tx.TensorSpec(None, tx.float32)
