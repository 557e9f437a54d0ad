"""`tx.keras.initializers`: every Keras 3 initializer class and `get` (most from tx's training/)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from tfx_core.framework.dtypes import as_dtype
from tfx_core.training import initializers as base
from tfx_core.training.initializers import (  # noqa: F401
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Initializer,
    Ones,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
)


class LecunNormal(VarianceScaling):
    """Truncated normal, stddev = sqrt(1 / fan_in) (keras.initializers.LecunNormal)."""

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_in", "truncated_normal", seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class LecunUniform(VarianceScaling):
    """Uniform in [-limit, limit], limit = sqrt(3 / fan_in) (keras.initializers.LecunUniform)."""

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_in", "uniform", seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


def _dims(shape: Any, who: str) -> tuple[int, ...]:
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    dims = tuple(int(d) for d in (shape if isinstance(shape, (list, tuple)) else [shape]))
    if any(d < 0 for d in dims):
        raise ValueError(f"{who}: shape dimensions must be >= 0, got {dims}")
    return dims


class Orthogonal(Initializer):
    """A random orthogonal matrix times `gain` (keras.initializers.Orthogonal).

    The Q of a normal sample's QR, sign-fixed by R's diagonal so it is uniformly distributed;
    a shape of rank > 2 is the flat (prod(shape[:-1]), shape[-1]) matrix reshaped. With more
    columns than rows the rows are orthonormal, else the columns.
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain = float(gain)
        self.seed = None if seed is None else int(seed)

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Any:
        dims = _dims(shape, "Orthogonal")
        if len(dims) < 2:
            raise ValueError(f"Orthogonal: the shape must have rank >= 2 (a matrix or a "
                             f"kernel), got {dims}")
        rows, cols = math.prod(dims[:-1]), dims[-1]
        # seed=None: a seed from numpy's global generator (repeatable after set_random_seed)
        seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64)) if self.seed is None \
            else self.seed
        a = np.random.default_rng(seed).standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))  # NOTE: without this Q is not uniformly (Haar) distributed
        q = q.T if rows < cols else q
        return Constant(self.gain * q.reshape(dims))(dims, dtype=_float(dtype, "Orthogonal"))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """`gain` times the identity matrix; rank 2 only, rectangular allowed (keras Identity)."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = float(gain)

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Any:
        dims = _dims(shape, "Identity")
        if len(dims) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={dims} of rank {len(dims)}.")
        return Constant(self.gain * np.eye(*dims))(dims, dtype=_float(dtype, "Identity"))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


def _float(dtype: Any, who: str) -> Any:
    dt = as_dtype("float32" if dtype is None else dtype)
    if not dt.is_floating:
        raise TypeError(f"{who}: expected a floating dtype (float16, bfloat16, float32, "
                        f"float64), got {dt.name}")
    return dt


_EXTRA: dict[str, type[Initializer]] = {
    "lecun_normal": LecunNormal, "LecunNormal": LecunNormal,
    "lecun_uniform": LecunUniform, "LecunUniform": LecunUniform,
    "orthogonal": Orthogonal, "Orthogonal": Orthogonal, "OrthogonalInitializer": Orthogonal,
    "identity": Identity, "Identity": Identity, "IdentityInitializer": Identity,
}


def get(identifier: Any) -> Initializer | Any:
    """keras.initializers.get: a name ("glorot_uniform", "Orthogonal"), a class, an instance,
    a `serialize` entry {"class_name", "config"} or any callable (returned as is)."""
    if isinstance(identifier, dict):
        name, config = identifier.get("class_name"), identifier.get("config")
        if not isinstance(name, str) or not isinstance(config, dict):
            raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")
        return type(get(name)).from_config(dict(config))
    if isinstance(identifier, str) and identifier in _EXTRA:
        return _EXTRA[identifier]()
    return base.get(identifier)


def serialize(initializer: Any) -> Any:
    """{"class_name", "config"} of an initializer (plain data for a layer's get_config); a
    name, None or a plain callable is returned as is."""
    config = getattr(initializer, "get_config", None)
    if config is None:
        return initializer
    return {"class_name": type(initializer).__name__, "config": config()}


# Keras's lowercase spellings (kept out of __all__ so a star import never shadows tx.zeros)
lecun_normal, lecun_uniform, orthogonal, identity = LecunNormal, LecunUniform, Orthogonal, Identity

__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
           "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal",
           "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros", "get", "serialize"]
