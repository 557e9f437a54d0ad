"""jaxlib's LAPACK kernels for the custom calls tfx's linalg lowering emits (XLA:CPU)."""
from __future__ import annotations

import functools

# The targets tfx emits (compiler/ops/lapack/custom_call.py lists the same names; a test checks
# they agree). jax registers every jaxlib LAPACK target with XLA when it is imported; their
# function pointers into LAPACK are only filled in by `initialize` (it loads scipy's LAPACK).
FUNCTIONS = ("geqrf", "orgqr", "gesdd", "syevd", "getrf", "geev", "potrf", "trsm")  # s, d
COMPLEX_FUNCTIONS = ("getrf", "trsm", "gees", "geev", "potrf", "heevd", "geqrf",
                     "ungqr", "gesdd")  # c, z
TARGETS = frozenset((*(f"lapack_{p}{fn}_ffi" for fn in FUNCTIONS for p in "sd"),
                     *(f"lapack_{p}{fn}_ffi" for fn in COMPLEX_FUNCTIONS for p in "cz")))


@functools.cache
def initialize() -> None:
    from jaxlib.cpu import _lapack

    _lapack.initialize()


def prepare(module: bytes | str) -> None:
    """Make the LAPACK kernels callable before a module that calls them is compiled or a
    compiled one is loaded (an uninitialized kernel would crash the process)."""
    raw = module if isinstance(module, bytes) else module.encode()
    if b"lapack_" in raw:
        initialize()
