"""`tx.random`: seeded and stateless random numbers, Generators (tf.random)."""
from tfx_core.ops.random_ops import *  # noqa: F403
from tfx_core.ops.random_ops import __all__  # noqa: F401
from tfx_core.ops.sampling import *  # noqa: E402, F403
from tfx_core.ops.sampling import __all__ as _sampling_all  # noqa: E402

__all__ = [*__all__, *_sampling_all]
