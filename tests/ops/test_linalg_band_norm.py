"""tf.linalg.diag_part with a band of diagonals and tf.norm's matrix 2-norm, as TF 2.21."""
import numpy as np
import pytest

import tfx_core as tx

# diagonal bands and the matrix 2-norm, values as TF 2.21 gives them (checked once by hand
# against tf.linalg.diag_part / tf.norm: rows from k=hi down, RIGHT pads on the left)
BAND_3x5 = {"RIGHT_LEFT": [[3, 9, 15], [2, 8, 14], [1, 7, 13], [6, 12, 9]],
            "LEFT_RIGHT": [[3, 9, 15], [2, 8, 14], [1, 7, 13], [9, 6, 12]]}
BAND_5x3 = {"RIGHT_LEFT": [[9, 9, 3], [9, 2, 6], [1, 5, 9], [4, 8, 12]],
            "LEFT_RIGHT": [[3, 9, 9], [2, 6, 9], [1, 5, 9], [4, 8, 12]]}


@pytest.mark.parametrize("compiled", [False, True])
def test_diag_part_band_and_matrix_two_norm(compiled):
    def run(f, *a):
        return (tx.function(f) if compiled else f)(*a).numpy()

    for shape, table in (((3, 5), BAND_3x5), ((5, 3), BAND_5x3)):
        x = np.arange(1, 16, dtype=np.float32).reshape(shape)
        for align, want in table.items():
            got = run(lambda a, al=align: tx.linalg.diag_part(a, k=(-1, 2), padding_value=9,
                                                              align=al), x)
            np.testing.assert_array_equal(got, np.array(want, np.float32))
    a = np.random.default_rng(3).standard_normal((2, 3, 4)).astype(np.float32)
    want = np.linalg.norm(a.transpose(1, 0, 2), 2, axis=(1, 2))
    got = run(lambda t: tx.norm(t, ord=2, axis=[0, 2]), a)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert run(lambda t: tx.norm(t, ord=2, axis=[0, 2], keepdims=True), a).shape == (1, 3, 1)
