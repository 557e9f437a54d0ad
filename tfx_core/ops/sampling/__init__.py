"""tf.random's other samplers (gamma, Poisson, binomial, categorical, shuffle, bounded normal,
seed splitting): TF's distributions and rules on threefry bits (TF's numbers are Philox's)."""
from tfx_core.ops.sampling import experimental
from tfx_core.ops.sampling.categorical_sampler import categorical, shuffle, stateless_categorical
from tfx_core.ops.sampling.discrete import poisson, stateless_binomial, stateless_poisson
from tfx_core.ops.sampling.gamma_sampler import gamma, stateless_gamma
from tfx_core.ops.sampling.seeds import Algorithm, create_rng_state, fold_in, split
from tfx_core.ops.sampling.truncated import stateless_parameterized_truncated_normal

__all__ = [
    "Algorithm", "categorical", "create_rng_state", "experimental", "fold_in", "gamma",
    "poisson", "shuffle", "split", "stateless_binomial", "stateless_categorical",
    "stateless_gamma", "stateless_parameterized_truncated_normal", "stateless_poisson",
]
