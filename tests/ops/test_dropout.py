"""tx.nn.dropout / stateless_dropout: TF's keep rule and scaling, seeds, Generators, errors."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx


def test_keeps_about_one_minus_rate_and_preserves_the_mean():
    x = np.ones((200, 250), np.float32)
    y = tx.nn.stateless_dropout(x, 0.3, seed=(5, 6)).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02


def test_noise_shape_drops_whole_rows():
    x = np.arange(1, 8 * 16 + 1, dtype=np.float32).reshape(8, 16)
    y = tx.nn.stateless_dropout(x, 0.5, seed=(1, 1), noise_shape=[8, 1]).numpy()
    rows_kept = (y != 0).all(axis=1)
    rows_dropped = (y == 0).all(axis=1)
    assert (rows_kept | rows_dropped).all() and rows_kept.any() and rows_dropped.any()


def test_stateless_is_a_function_of_the_seed_eager_and_compiled():
    x = np.random.default_rng(0).normal(size=(6, 7)).astype(np.float32)
    f = tx.function(lambda x, s: tx.nn.stateless_dropout(x, 0.4, seed=s))
    a = tx.nn.stateless_dropout(x, 0.4, seed=(2, 3)).numpy()
    np.testing.assert_array_equal(a, f(x, np.array([2, 3], np.int32)).numpy())
    assert not np.array_equal(a, f(x, np.array([2, 4], np.int32)).numpy())


def test_generator_advances_inside_a_function_without_retracing():
    gen = tx.random.Generator.from_seed(7)
    f = tx.function(lambda x: tx.nn.dropout(x, 0.5, rng=gen))
    x = np.ones((32, 32), np.float32)
    masks = [f(x).numpy() != 0 for _ in range(3)]
    assert f.experimental_get_tracing_count() == 1
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])
    again = tx.random.Generator.from_seed(7)
    np.testing.assert_array_equal(tx.nn.dropout(x, 0.5, rng=again).numpy() != 0, masks[0])


def test_op_seed_repeats_after_set_seed_like_tf():
    x = np.ones((10, 10), np.float32)
    tx.random.set_seed(11)
    a = tx.nn.dropout(x, 0.5, seed=3).numpy()
    tx.random.set_seed(11)
    np.testing.assert_array_equal(a, tx.nn.dropout(x, 0.5, seed=3).numpy())


def test_gradient_is_the_mask_over_keep_probability():
    x = tx.constant(np.ones((20, 20), np.float32))
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = tx.nn.stateless_dropout(x, 0.25, seed=(4, 4))
        loss = tx.reduce_sum(y)
    g = tape.gradient(loss, x).numpy()
    np.testing.assert_allclose(g, (y.numpy() != 0) / 0.75, rtol=1e-6)


def test_rate_zero_is_identity_and_tensor_rates_work():
    x = np.arange(6, dtype=np.float32)
    assert tx.nn.dropout(x, 0.0) is not None
    np.testing.assert_array_equal(tx.nn.dropout(x, 0.0).numpy(), x)
    y = tx.nn.stateless_dropout(x, tx.constant(0.5), seed=(1, 2)).numpy()
    np.testing.assert_array_equal(y, tx.nn.stateless_dropout(x, 0.5, seed=(1, 2)).numpy())


@pytest.mark.parametrize("call, err, words", [
    (lambda x: tx.nn.dropout(x, 1.0), ValueError, "rate must be a number in [0, 1)"),
    (lambda x: tx.nn.dropout(x, -0.1), ValueError, "rate must be a number in [0, 1)"),
    (lambda x: tx.nn.dropout(x, tx.constant(1.5)), ValueError, "rate must be in [0, 1)"),
    (lambda x: tx.nn.dropout(np.ones(3, np.int32), 0.5), TypeError, "floating"),
    (lambda x: tx.nn.dropout(x, 0.5, noise_shape=[3, 2]), ValueError, "does not broadcast"),
    (lambda x: tx.nn.dropout(x, 0.5, noise_shape=[4]), ValueError, "rank"),
    (lambda x: tx.nn.dropout(x, 0.5, seed=1, rng=tx.random.Generator.from_seed(1)),
     ValueError, "not both"),
    (lambda x: tx.nn.dropout(x, 0.5, rng=3), TypeError, "Generator"),
    (lambda x: tx.nn.stateless_dropout(x, 0.5, seed=3), ValueError, "shape [2]"),
])
def test_bad_arguments_name_the_op_and_the_line(call, err, words):
    with pytest.raises(err, match=r"^(stateless_)?dropout: ") as info:
        call(np.ones((4, 5), np.float32))
    assert words in str(info.value)
    assert "test_dropout.py" in str(info.value) or err is TypeError and "Generator" in words
