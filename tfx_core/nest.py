"""`tx.nest`: nested structures with tf.nest's rules (flatten, pack_sequence_as, map_structure)."""
from tfx_core.framework.nest import *  # noqa: F403
from tfx_core.framework.nest import __all__  # noqa: F401
