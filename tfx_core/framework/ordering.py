"""`tx.control_dependencies`: ordering in a trace, which tfx gets from its effect chain."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tfx_core.framework.tensor import Tensor


@contextlib.contextmanager
def control_dependencies(control_inputs: Any) -> Iterator[None]:
    """Run the block after `control_inputs` (tf.control_dependencies).

    Inside `@tx.function` tfx already keeps program order for everything whose order shows:
    prints and assertions are chained by an effect token, Variable reads see the assignments
    made before them, and data dependencies order the rest. So the block needs nothing extra;
    the inputs are checked so a mistake (a non-tensor) still raises as in TF."""
    for x in control_inputs or ():
        if x is not None and not isinstance(x, Tensor) and not callable(x) \
                and not hasattr(x, "_as_tensor"):
            raise TypeError(f"control_dependencies: expected tensors or ops, got "
                            f"{type(x).__name__}")
    yield
