"""Misuse raises TF's classes: `except tx.errors.InvalidArgumentError` catches what TF's eager
ops raise it for (bad shapes, dtypes, axes, indices), and the same errors stay the Python
built-ins (TypeError / ValueError / IndexError) TF raises while building graphs."""
from __future__ import annotations

import pytest

import tfx_core as tx

Z = tx.zeros
# (name, call, the built-in it also is)
CASES = [
    ("reshape", lambda: tx.reshape(Z([2, 3]), [4]), TypeError),
    ("matmul", lambda: tx.matmul(Z([2, 3]), Z([2, 3])), ValueError),
    ("broadcast", lambda: Z([2, 3]) + Z([4]), TypeError),
    ("dtypes", lambda: Z([2]) + Z([2], tx.int32), TypeError),
    ("concat", lambda: tx.concat([Z([2, 3]), Z([2, 4])], 0), TypeError),
    ("gather", lambda: tx.gather(Z([3]), [5]), IndexError),
    ("getitem", lambda: Z([3])[5], IndexError),
    ("transpose", lambda: tx.transpose(Z([2, 3]), [0, 0]), TypeError),
    ("reduce_axis", lambda: tx.reduce_sum(Z([2]), axis=3), ValueError),
    ("split", lambda: tx.split(Z([5]), 2), ValueError),
    ("squeeze", lambda: tx.squeeze(Z([2, 3]), 0), TypeError),
    ("stack", lambda: tx.stack([Z([2]), Z([3])]), ValueError),
]


@pytest.mark.parametrize("name,call,builtin", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_invalid_argument_and_builtin(name, call, builtin, compiled):
    if compiled and name == "gather":
        pytest.skip("compiled gathers follow XLA: out-of-range indices clamp (documented)")
    run = tx.function(call) if compiled else call
    with pytest.raises(tx.errors.InvalidArgumentError) as e:
        run()
    assert isinstance(e.value, builtin)
    assert e.value.error_code == tx.errors.INVALID_ARGUMENT
    assert "test_error_classes.py:" in str(e.value)


def test_python_type_mistakes_stay_type_errors():
    with pytest.raises(TypeError) as e:
        tx.cast(Z([2]), "not a dtype")
    assert not isinstance(e.value, tx.errors.OpError)
