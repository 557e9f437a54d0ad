"""complex64/complex128 beyond the op table: gradients in TF's convention (recorded from TF 2.21
in tests/oracles/dtypes.npz), conversion and dtype rules, printing and the IR text form."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from compiler.ir.parser import parse_graph
from compiler.ir.printer import print_graph
from tests.oracles.dtypes_cases import grad_cases

ORACLE = np.load(Path(__file__).parents[1] / "oracles" / "dtypes.npz")
CASES = grad_cases(tx)
# TF 2.21's cumprod gradient forgets the conjugate its other complex rules take (math_grad's
# _CumprodGrad: cumsum(prod * grad) / x), so it is not dL/dx + i dL/dy; tfx keeps the convention
# and is checked against central differences there instead.
TF_INCONSISTENT = {"cumprod"}


def _finite_differences(fn, sources, i, h=1e-6):
    """dL/dx + i dL/dy for source i (TF's convention for a real loss L)."""
    src = [np.asarray(s) for s in sources]

    def loss(delta):
        args = [s + delta if k == i else s for k, s in enumerate(src)]
        return float(fn(*[tx.constant(a) for a in args]).numpy())

    out = np.zeros(src[i].shape, np.complex128)
    for idx in np.ndindex(src[i].shape):
        e = np.zeros(src[i].shape, np.complex128)
        e[idx] = h
        out[idx] = (loss(e) - loss(-e)) / (2 * h) + 1j * (loss(1j * e) - loss(-1j * e)) / (2 * h)
    return out


def _grads(fn, sources):
    vs = [tx.constant(s) for s in sources]
    with tx.GradientTape() as tape:
        tape.watch(vs)
        loss = fn(*vs)
    return loss, tape.gradient(loss, vs)


def _check(name, loss, grads):
    np.testing.assert_allclose(loss.numpy(), ORACLE[f"grad/{name}/loss"], rtol=1e-12,
                               atol=1e-12, err_msg=name)
    for i, g in enumerate(grads):
        want = ORACLE[f"grad/{name}/{i}"]
        assert g is not None, f"{name}: no gradient for source {i}"
        assert g.dtype.np_dtype == want.dtype, f"{name}/{i}: {g.dtype} != {want.dtype}"
        if name in TF_INCONSISTENT and i == 0:
            fn, sources = CASES[name]
            want = _finite_differences(fn, sources, i)
            np.testing.assert_allclose(g.numpy(), want, rtol=1e-7, atol=1e-8)
            continue
        np.testing.assert_allclose(g.numpy(), want, rtol=1e-10, atol=1e-12,
                                   err_msg=f"{name}/{i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_tf_eager(name):
    fn, sources = CASES[name]
    _check(name, *_grads(fn, sources))


def test_gradients_match_tf_compiled():
    """Every case's gradient inside one tx.function (one compile for the whole table)."""
    names = sorted(CASES)

    @tx.function
    def all_grads(*flat):
        out, k = {}, 0
        for name in names:
            fn, sources = CASES[name]
            vs = flat[k:k + len(sources)]
            k += len(sources)
            with tx.GradientTape() as tape:
                tape.watch(list(vs))
                loss = fn(*vs)
            out[name] = (loss, tape.gradient(loss, list(vs)))
        return out

    flat = [tx.constant(s) for n in names for s in CASES[n][1]]
    for name, (loss, grads) in all_grads(*flat).items():
        _check(name, loss, grads)


def test_gradients_through_calls_cond_and_while_follow_the_convention():
    """Ops whose vjp backprops through a body (compiled call under a tape, cond, while_loop)
    must not conjugate a second time."""
    v = tx.Variable(np.array([1 + 1j, 2 - 3j], np.complex128))
    z = tx.constant(np.array([0.5 - 1j, 1j], np.complex128))

    def loss(z):
        return tx.reduce_sum(tx.abs(z * v))

    def grads(fn):
        with tx.GradientTape() as tape:
            tape.watch(z)
            out = fn(z)
        return [g.numpy() for g in tape.gradient(out, [z, v])]

    want = grads(loss)
    np.testing.assert_allclose(want[0], z.numpy() * np.abs(v.numpy()) / np.abs(z.numpy()))
    paths = {
        "compiled call": tx.function(loss),
        "cond": lambda z: tx.cond(tx.constant(True), lambda: loss(z), lambda: 2 * loss(z)),
        "while": lambda z: tx.while_loop(
            lambda i, a: i < 2, lambda i, a: (i + 1, a + loss(z) / 2),
            (0, tx.constant(0.0, tx.float64)))[1],
    }
    for name, fn in paths.items():
        for g, w in zip(grads(fn), want):
            np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=name)


def test_complex64_gradient_keeps_its_dtype():
    z = tx.Variable(np.array([1 + 1j, 2 - 3j], np.complex64))
    with tx.GradientTape() as tape:
        loss = tx.reduce_sum(tx.abs(z * z))
    g = tape.gradient(loss, z)
    assert g.dtype is tx.complex64
    np.testing.assert_allclose(g.numpy(), 2 * z.numpy(), rtol=1e-6)  # d|z|^2 (TF's convention)


def test_conversion_and_dtype_rules():
    assert tx.constant(1 + 2j).dtype is tx.complex128  # Python complex, as TF
    assert tx.constant([1j, 2]).dtype is tx.complex128
    assert tx.constant(np.complex64(1j)).dtype is tx.complex64
    z = tx.constant(np.array([1 + 1j], np.complex64))
    assert (z + 1j).dtype is tx.complex64 and (z * 2.0).dtype is tx.complex64
    assert tx.constant(3.0, dtype=tx.complex64).numpy() == 3 + 0j
    with pytest.raises(TypeError):
        tx.constant(1 + 2j, dtype=tx.float32)  # TF: cannot convert (1+2j) to float
    with pytest.raises(TypeError):
        z + tx.constant([1.0])  # complex64 + float32: no silent promotion
    with pytest.raises(TypeError):
        z + tx.constant([1j])  # complex64 + complex128
    with pytest.raises(TypeError):
        tx.less(z, z)  # complex numbers are not ordered (TF: no kernel)
    with pytest.raises(TypeError):
        tx.reduce_max(z)
    with pytest.raises(TypeError):
        tx.complex(tx.constant([1]), tx.constant([2]))  # int parts: TF raises too
    with pytest.raises(TypeError):
        tx.complex(tx.constant([1.0]), tx.constant([2.0], tx.float64))


def test_cast_and_parts():
    z = np.array([1.5 - 2.5j, -3.25 + 0.5j], np.complex128)
    t = tx.constant(z)
    np.testing.assert_array_equal(tx.cast(t, tx.float32).numpy(), z.real.astype(np.float32))
    np.testing.assert_array_equal(tx.cast(t, tx.int32).numpy(), [1, -3])  # real part, truncated
    np.testing.assert_array_equal(tx.cast(t, tx.bool).numpy(), [True, True])
    np.testing.assert_array_equal(tx.math.real(t).numpy(), z.real)
    np.testing.assert_array_equal(tx.math.imag(t).numpy(), z.imag)
    assert tx.abs(t).dtype is tx.float64 and tx.math.angle(t).dtype is tx.float64
    np.testing.assert_array_equal(tx.math.imag(tx.constant([np.inf, 1.0])).numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(tx.math.conj(tx.constant([2, 3])).numpy(), [2, 3])
    assert tx.complex64.is_complex and not tx.complex64.is_floating
    assert tx.complex128.real_dtype is tx.float64 and tx.complex64.size == 8


def test_host_complex128_arguments_keep_their_precision():
    """numpy complex128 arguments straight into a compiled function (the host-argument path must
    not canonicalize them to complex64, as jaxlib's C++ dispatch does without x64)."""
    f = tx.function(lambda x: x * 1.0)
    a = np.array([1 / 3 + 1j / 7, 1 + 1e-12j])
    for _ in range(3):  # the first calls trace; later ones take the fast paths
        got = f(a)
    assert got.dtype is tx.complex128
    np.testing.assert_array_equal(got.numpy(), a)


def test_printing():
    t = tx.constant(np.array([1 + 2j, -0.5j], np.complex64))
    assert "dtype=complex64" in repr(t) and "1.+2.j" in repr(t)
    assert tx.complex64.name == "complex64" and repr(tx.complex128) == "tx.complex128"


def test_ir_text_round_trip_keeps_complex_and_uint64_constants():
    big = np.array([2**64 - 1, 3], np.uint64)

    @tx.function
    def f(x, u):
        c = tx.constant(np.array([1.5 - 2j, -0.0 + 3j, 7j], np.complex64))
        return x * c + tx.constant(2 - 1j, tx.complex64), u + tx.constant(big)

    z = tx.constant(np.array([1j, 2, 3 - 1j], np.complex64))
    u = tx.constant(np.array([1, 2], np.uint64))
    got_z, got_u = f(z, u)
    want = z.numpy() * np.array([1.5 - 2j, 3j, 7j], np.complex64) + np.complex64(2 - 1j)
    np.testing.assert_allclose(got_z.numpy(), want, rtol=1e-6)
    np.testing.assert_array_equal(got_u.numpy(), u.numpy() + big)
    g = f.get_concrete_function(z, u).graph
    text = print_graph(g)
    assert "c64[" in text and "u64[" in text
    assert print_graph(parse_graph(text)) == text
