"""`tx.nn`: activations, softmax, losses, convolutions, pooling, normalization (tf.nn)."""
from types import SimpleNamespace

from .conv_ops import *  # noqa: F403
from .dropout_ops import dropout, stateless_dropout
from .indexing_ops import embedding_lookup  # noqa: F401
from .math_ops import sigmoid, tanh  # noqa: F401
from .nn_ops import *  # noqa: F403
from .norm_ops import *  # noqa: F403

# tf.nn.experimental's spelling of the explicit-seed dropout
experimental = SimpleNamespace(stateless_dropout=stateless_dropout)
__all__ = [n for n in dir() if not n.startswith("_") and n != "SimpleNamespace"]
