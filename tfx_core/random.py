"""`tx.random`: seeded and stateless random numbers, Generators (tf.random)."""
from tfx_core.ops.random_ops import *  # noqa: F403
from tfx_core.ops.random_ops import __all__  # noqa: F401
