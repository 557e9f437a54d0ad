"""`tx.initializers`: variable initializers (Keras classes and the TF1 `*_initializer` names)."""
from tfx_core.training.initializers import *  # noqa: F403
from tfx_core.training.initializers import (  # noqa: F401  (lowercase aliases, as TF)
    __all__,  # noqa: F401
    constant,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    ones,
    random_normal,
    random_uniform,
    truncated_normal,
    variance_scaling,
    zeros,
)
