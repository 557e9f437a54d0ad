"""`tx.debugging`: run-time checks and prints that work eagerly and inside compiled code."""
from __future__ import annotations

from tfx_core.debugging.asserts import (  # noqa: F401
    Assert,
    assert_all_finite,
    assert_equal,
    assert_greater,
    assert_greater_equal,
    assert_less,
    assert_less_equal,
    assert_near,
    assert_negative,
    assert_non_negative,
    assert_non_positive,
    assert_none_equal,
    assert_positive,
    assert_rank,
    assert_rank_at_least,
    assert_scalar,
    assert_shapes,
    assert_type,
)
from tfx_core.debugging.compare import compare  # noqa: F401
from tfx_core.debugging.numerics import (  # noqa: F401
    check_numerics,
    disable_check_numerics,
    enable_check_numerics,
)
from tfx_core.debugging.printing import print_  # noqa: F401
