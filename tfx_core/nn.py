"""`tx.nn`: activations, softmax and cross-entropy losses (tf.nn)."""
from .math_ops import sigmoid, tanh  # noqa: F401
from .nn_ops import *  # noqa: F403
