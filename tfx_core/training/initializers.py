"""Variable initializers with TF/Keras names (`RandomNormal`, `GlorotUniform`, `Zeros`, ...)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from compiler.ir.types import F32, DType
from tfx_core.framework.convert import cast_numpy_exact
from tfx_core.framework.tensor import Tensor

# NOTE: 0.879... is the stddev of a standard normal truncated to [-2, 2]; Keras divides by it so a
# truncated-normal VarianceScaling sample has the requested variance.
_TRUNCATED_STDDEV = 0.87962566103423978


def _shape(shape: Any, who: str) -> tuple[int, ...]:
    """A shape argument (list, tuple, TensorShape or one int) as a tuple of ints >= 0."""
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    elif isinstance(shape, np.ndarray):
        shape = shape.tolist()
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (list, tuple)):
        raise TypeError(f"{who}: shape must be a list or tuple of ints, got {shape!r}")
    dims = []
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"{who}: shape must contain ints (fully defined), got {tuple(shape)!r}")
        if d < 0:
            raise ValueError(f"{who}: shape dimensions must be >= 0, got {tuple(shape)!r}")
        dims.append(int(d))
    return tuple(dims)


def _dtype(dtype: Any, who: str, floating: bool) -> DType:
    dt = DType.from_any(F32 if dtype is None else dtype)
    if floating and not dt.is_floating:
        raise TypeError(f"{who}: expected a floating dtype (float16, bfloat16, float32, "
                        f"float64), got {dt.name}")
    return dt


def _rng(seed: int | None) -> np.random.Generator:
    # NOTE: a fresh generator per call: with a seed every call returns the same values (TF's
    # stateless behaviour for seeded Keras initializers). seed=None draws its seed from numpy's
    # global generator: new values per call, yet repeatable after np.random.seed /
    # tx.keras.utils.set_random_seed (as keras.utils.set_random_seed makes unseeded
    # initializers repeatable). numpy seeds that generator from OS entropy at start.
    if seed is None:
        seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))
    return np.random.default_rng(seed)


def _check_seed(seed: Any) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    return None if seed is None else int(seed)


def _tensor(a: np.ndarray, dt: DType) -> Tensor:
    # NOTE: always an eager tensor, also when called inside a trace (the caller captures it).
    return Tensor.from_numpy(np.array(np.asarray(a).astype(dt.np_dtype), order="C"))


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) as Keras computes them; rank > 2 multiplies by the receptive field.

    Rank 0 gives (1, 1), rank 1 (n, n), rank 2 (rows, cols); a conv kernel
    `(..., in, out)` gives `(in * prod(...), out * prod(...))`.
    """
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: `init(shape, dtype=tx.float32)` returns an eager tensor of that shape."""

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros (tf.zeros_initializer); any dtype."""

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        dims = _shape(shape, "Zeros")
        dt = _dtype(dtype, "Zeros", floating=False)
        return _tensor(np.zeros(dims), dt)


class Ones(Initializer):
    """All ones (tf.ones_initializer); any dtype."""

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        dims = _shape(shape, "Ones")
        dt = _dtype(dtype, "Ones", floating=False)
        return _tensor(np.ones(dims), dt)


class Constant(Initializer):
    """A constant (tf.constant_initializer): a scalar fills the shape; an array-like with as many
    elements as the shape is reshaped to it."""

    def __init__(self, value: Any = 0) -> None:
        if isinstance(value, Tensor):
            value = value.numpy()
        a = np.asarray(value)
        if a.dtype == object or a.dtype.kind in "USVc":
            raise TypeError(f"Constant: value must be numeric, got {value!r}")
        self.value = value

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        dims = _shape(shape, "Constant")
        dt = _dtype(dtype, "Constant", floating=False)
        a = cast_numpy_exact(self.value, dt, "Constant: ")
        if a.size == 1:
            a = np.broadcast_to(a.reshape(()), dims)
        elif a.size == math.prod(dims):
            a = a.reshape(dims)
        else:
            raise ValueError(f"Constant: value has {a.size} elements but shape {dims} needs "
                             f"{math.prod(dims)} (give a scalar or exactly that many)")
        return _tensor(a, dt)

    def get_config(self) -> dict[str, Any]:
        value = self.value.tolist() if isinstance(self.value, np.ndarray) else self.value
        return {"value": value}


class RandomNormal(Initializer):
    """Normal samples (tf.random_normal_initializer); floating dtypes only."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        if stddev < 0:
            raise ValueError(f"RandomNormal: stddev must be >= 0, got {stddev}")
        self.mean, self.stddev, self.seed = float(mean), float(stddev), _check_seed(seed)

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        dims = _shape(shape, "RandomNormal")
        dt = _dtype(dtype, "RandomNormal", floating=True)
        return _tensor(_rng(self.seed).normal(self.mean, self.stddev, dims), dt)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Uniform samples in [minval, maxval) (tf.random_uniform_initializer); floating dtypes only."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05,
                 seed: int | None = None) -> None:
        if maxval < minval:
            raise ValueError(f"RandomUniform: maxval ({maxval}) must be >= minval ({minval})")
        self.minval, self.maxval, self.seed = float(minval), float(maxval), _check_seed(seed)

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        dims = _shape(shape, "RandomUniform")
        dt = _dtype(dtype, "RandomUniform", floating=True)
        return _tensor(_rng(self.seed).uniform(self.minval, self.maxval, dims), dt)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal samples redrawn until within 2 stddevs of the mean (tf.keras TruncatedNormal)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        if stddev < 0:
            raise ValueError(f"TruncatedNormal: stddev must be >= 0, got {stddev}")
        self.mean, self.stddev, self.seed = float(mean), float(stddev), _check_seed(seed)

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        dims = _shape(shape, "TruncatedNormal")
        dt = _dtype(dtype, "TruncatedNormal", floating=True)
        z = _truncated_standard_normal(_rng(self.seed), dims)
        return _tensor(self.mean + self.stddev * z, dt)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def _truncated_standard_normal(rng: np.random.Generator, dims: tuple[int, ...]) -> np.ndarray:
    z = rng.standard_normal(dims)
    bad = np.abs(z) > 2.0
    while bad.any():  # about 4.6 % per round, so this ends after a few rounds
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return z


class VarianceScaling(Initializer):
    """Samples scaled to the fans (tf.keras VarianceScaling).

    Args:
        scale: variance multiplier (> 0).
        mode: "fan_in", "fan_out" or "fan_avg".
        distribution: "truncated_normal", "untruncated_normal" or "uniform".
        seed: an int for repeatable values, None for fresh ones on every call.
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None) -> None:
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be > 0, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be fan_in, fan_out or fan_avg, "
                             f"got {mode!r}")
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError("VarianceScaling: distribution must be truncated_normal, "
                             f"untruncated_normal or uniform, got {distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        self.seed = _check_seed(seed)

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        who = type(self).__name__
        dims = _shape(shape, who)
        dt = _dtype(dtype, who, floating=True)
        fan_in, fan_out = compute_fans(dims)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, fan[self.mode])
        rng = _rng(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            a = rng.uniform(-limit, limit, dims)
        elif self.distribution == "untruncated_normal":
            a = rng.normal(0.0, math.sqrt(scale), dims)
        else:
            a = math.sqrt(scale) / _TRUNCATED_STDDEV * _truncated_standard_normal(rng, dims)
        return _tensor(a, dt)

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class _Preset(VarianceScaling):
    """A VarianceScaling with fixed (scale, mode, distribution); only the seed is chosen."""

    _preset: tuple[float, str, str] = (1.0, "fan_avg", "uniform")

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(*self._preset, seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class GlorotUniform(_Preset):
    """Uniform in [-limit, limit], limit = sqrt(6 / (fan_in + fan_out)) (Xavier uniform)."""

    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Truncated normal, stddev = sqrt(2 / (fan_in + fan_out)) (Xavier normal)."""

    _preset = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_Preset):
    """Truncated normal, stddev = sqrt(2 / fan_in)."""

    _preset = (2.0, "fan_in", "truncated_normal")


class HeUniform(_Preset):
    """Uniform in [-limit, limit], limit = sqrt(6 / fan_in)."""

    _preset = (2.0, "fan_in", "uniform")


# TF2 spellings (tf.random_normal_initializer, ...) and Keras' lowercase aliases.
random_normal_initializer = random_normal = RandomNormal
random_uniform_initializer = random_uniform = RandomUniform
truncated_normal_initializer = truncated_normal = TruncatedNormal
zeros_initializer = zeros = Zeros
ones_initializer = ones = Ones
constant_initializer = constant = Constant
glorot_uniform_initializer = glorot_uniform = GlorotUniform
glorot_normal_initializer = glorot_normal = GlorotNormal
variance_scaling_initializer = variance_scaling = VarianceScaling
he_normal = HeNormal
he_uniform = HeUniform

_BY_NAME: dict[str, type[Initializer]] = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_normal": HeNormal, "he_uniform": HeUniform,
}


def get(identifier: Any) -> Initializer | Any:
    """An initializer from a name ("glorot_uniform", "GlorotUniform"), a class, an instance or
    any callable (returned as is), like keras.initializers.get."""
    if isinstance(identifier, str):
        key = identifier if identifier in _BY_NAME else _snake(identifier)
        cls = _BY_NAME.get(key)
        if cls is None:
            raise ValueError(f"unknown initializer {identifier!r}; known: {sorted(_BY_NAME)}")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"cannot interpret {identifier!r} as an initializer")


def _snake(name: str) -> str:
    out = [("_" + c.lower()) if c.isupper() and i else c.lower() for i, c in enumerate(name)]
    return "".join(out)


# NOTE: the lowercase aliases (zeros, ones, constant, ...) stay out of __all__ so that a star
# import can never shadow tx.zeros / tx.ones / tx.constant.
__all__ = [
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Initializer", "Ones",
    "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros",
    "compute_fans", "constant_initializer", "get", "glorot_normal_initializer",
    "glorot_uniform_initializer", "ones_initializer", "random_normal_initializer",
    "random_uniform_initializer", "truncated_normal_initializer", "variance_scaling_initializer",
    "zeros_initializer",
]
