"""`tx.nn`: activations, softmax, losses, convolutions, pooling, normalization (tf.nn)."""
from .conv_ops import *  # noqa: F403
from .indexing_ops import embedding_lookup  # noqa: F401
from .math_ops import sigmoid, tanh  # noqa: F401
from .nn_ops import *  # noqa: F403
from .norm_ops import *  # noqa: F403
