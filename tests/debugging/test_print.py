"""tx.print: TF's text for tensors (recorded from TF 2.21), eagerly and compiled, in program
order through loops, branches and the backward pass."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from runtime.host_format import format_tensor
from tests.oracles.print_cases import CASES

TF_TEXT = json.loads((Path(__file__).parents[1] / "oracles" / "print.json").read_text())["text"]


@pytest.mark.parametrize("name,value,summarize", CASES, ids=[c[0] for c in CASES])
def test_text_matches_tf(name, value, summarize):
    assert format_tensor(value, summarize) + "\n" == TF_TEXT[name]


@pytest.mark.parametrize("name,value,summarize", CASES[:8], ids=[c[0] for c in CASES[:8]])
def test_eager_and_compiled_print_tf_text(capfd, name, value, summarize):
    x = tx.constant(value)
    tx.print(x, summarize=summarize, output_stream=sys.stdout)
    tx.function(lambda t: (tx.print(t, summarize=summarize, output_stream=sys.stdout), t)[1])(x)
    assert capfd.readouterr().out == TF_TEXT[name] * 2


def test_sep_end_structures_and_streams(capfd):
    x = tx.constant([1, 2])

    def f(x):
        tx.print("a", 1, "b", x, sep="|", end="$\n", output_stream=sys.stdout)
        tx.print({"k": x, "j": [x, "s"]}, output_stream=sys.stderr)
        return x

    f(x)
    tx.function(f)(x)
    out, err = capfd.readouterr()
    assert out == "a|1|b|[1 2]$\n" * 2
    assert err == "{'j': [[1 2], 's'], 'k': [1 2]}\n" * 2


def test_loop_prints_every_iteration_in_order(capfd):
    @tx.function
    def f(x, n):
        tx.print("start", x, output_stream=sys.stdout)
        for i in tx.range(n):
            x = x + 1
            tx.print("i =", i, "x =", x, output_stream=sys.stdout)
        tx.print("end", output_stream=sys.stdout)
        return x

    r = f(tx.constant(10), tx.constant(5))
    assert int(r) == 15
    lines = capfd.readouterr().out.splitlines()
    assert lines == ["start 10"] + [f"i = {i} x = {11 + i}" for i in range(5)] + ["end"]


def test_only_the_branch_taken_prints(capfd):
    @tx.function
    def f(x):
        return tx.cond(x > 0, lambda: (tx.print("pos", x, output_stream=sys.stdout), x)[1],
                       lambda: (tx.print("neg", x, output_stream=sys.stdout), -x)[1])

    f(tx.constant(2.0))
    f(tx.constant(-3.0))
    assert capfd.readouterr().out == "pos 2\nneg -3\n"


def test_print_in_the_backward_pass(capfd):
    @tx.custom_gradient
    def noisy(x):
        def grad(g):
            tx.print("grad", g, output_stream=sys.stdout)
            return g * 2
        return x * 1.0, grad

    @tx.function
    def step(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = tx.reduce_sum(noisy(x) * 3.0)
        return tape.gradient(y, x)

    g = step(tx.constant([1.0, 2.0]))
    np.testing.assert_allclose(g.numpy(), [6.0, 6.0])
    assert capfd.readouterr().out == "grad [3 3]\n"


def test_no_print_no_effect_ops():
    f = tx.function(lambda x: x * 2)
    text = f.experimental_get_compiler_ir(tx.constant(1.0))("ir")
    assert "effect" not in text and "debug_" not in text


def test_bad_stream_is_a_clear_error():
    with pytest.raises(ValueError, match="output_stream"):
        tx.print(tx.constant(1), output_stream="file:///tmp/x")


def test_saved_model_keeps_prints_as_data(tmp_path, capfd):
    class M(tx.Module):
        @tx.function(input_signature=[tx.TensorSpec([2], tx.float32)])
        def f(self, x):
            tx.print("saved", x, output_stream=sys.stdout)
            return x + 1

    tx.saved_model.save(M(), str(tmp_path / "m"))
    loaded = tx.saved_model.load(str(tmp_path / "m"))
    capfd.readouterr()
    loaded.f(tx.constant([1.0, 2.0]))
    assert capfd.readouterr().out == "saved [1 2]\n"


def test_control_dependencies_keeps_program_order(capfd):
    v = tx.Variable(1.0)

    @tx.function
    def f(x):
        a = v.assign_add(x)
        with tx.control_dependencies([a]):
            tx.print("v =", v, output_stream=sys.stdout)
            tx.debugging.assert_positive(v.read_value(), message="v")
        return v.read_value()

    assert float(f(tx.constant(2.0))) == 3.0
    assert capfd.readouterr().out == "v = 3\n"
    with pytest.raises(tx.errors.InvalidArgumentError, match="v"):
        f(tx.constant(-10.0))
    with pytest.raises(TypeError, match="control_dependencies"):
        with tx.control_dependencies([1.5]):
            pass
