"""`tx.nn`: activations, softmax, losses, convolutions, pooling, normalization (tf.nn)."""
from types import SimpleNamespace

from tfx_core.ops.conv_ops import *  # noqa: F403
from tfx_core.ops.dropout_ops import dropout, stateless_dropout
from tfx_core.ops.indexing_ops import embedding_lookup  # noqa: F401
from tfx_core.ops.math.ranking import approx_max_k, approx_min_k, in_top_k  # noqa: F401
from tfx_core.ops.math_ops import sigmoid, tanh  # noqa: F401
from tfx_core.ops.nn.conv_more import *  # noqa: F403
from tfx_core.ops.nn.ctc import *  # noqa: F403
from tfx_core.ops.nn.fractional import *  # noqa: F403
from tfx_core.ops.nn.isotonic import *  # noqa: F403
from tfx_core.ops.nn.losses import *  # noqa: F403
from tfx_core.ops.nn.moments import *  # noqa: F403
from tfx_core.ops.nn.morphology import *  # noqa: F403
from tfx_core.ops.nn.rnn_wrappers import *  # noqa: F403
from tfx_core.ops.nn.sequences import *  # noqa: F403
from tfx_core.ops.nn.space_batch import *  # noqa: F403
from tfx_core.ops.nn_ops import *  # noqa: F403
from tfx_core.ops.norm_ops import *  # noqa: F403
from tfx_core.ops.sort_ops import top_k  # noqa: F401

# tf.nn.experimental's spelling of the explicit-seed dropout
experimental = SimpleNamespace(stateless_dropout=stateless_dropout)
__all__ = [n for n in dir() if not n.startswith("_") and n != "SimpleNamespace"]
