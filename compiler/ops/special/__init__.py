"""Special functions (gamma family, Bessel, error-function inverses, inverse/hyperbolic trig)
and TF's nan-safe arithmetic: importing this package registers their OpDefs."""
from . import binary, decomposed, incomplete, unary  # noqa: F401
