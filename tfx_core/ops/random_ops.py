"""`tx.random`: seeded (stateless) and stateful (Generator, global) random numbers on threefry.

Every number comes from the IR op `rng_bit_generator` (XLA's THREE_FRY) on an int64[2] state
(key, counter), so the same seed gives the same numbers eagerly and compiled. The numbers are
not TF's bit for bit (TF uses Philox by default); the distributions and rules are TF's:

* bits -> floats: m random bits as the fraction (the mantissa trick): uniform in [0, 1) on the
  grid k * 2**-m (m = 10 / 7 / 23 / 52 for float16 / bfloat16 / float32 / float64).
* normal: Box-Muller on two uniforms (computed in float32 for 16-bit dtypes, float64 for
  float64), then `* stddev + mean`.
* truncated normal: inverse CDF restricted to [-2, 2] (TF's rule: within two stddev), so no
  resampling loop: sqrt(2) * erfinv((2u - 1) * erf(sqrt(2))), erfinv by Giles' rational
  approximation (float64: refined by Newton steps on erf).
* stateless ops hash the seed into a state first, so seeds [1, 2] and [1, 3] give unrelated
  streams.

Stateful numbers (simplified TF op-seed semantics): `set_seed(s)` resets the global generator
to `Generator.from_seed(s)`; `uniform/normal/truncated_normal(..., seed=None)` draw from it, and
with an op `seed` they draw from a generator of their own for (global seed, op seed) (global
seed 87654321 when unset, as TF), whose first draw equals the stateless op with seed
[global seed, op seed]. Without `set_seed` the global generator starts from OS entropy. The
generators' states are `tx.Variable`s, so inside `@tx.function` each call advances them without
retracing.

The other samplers (gamma, Poisson, binomial, categorical, shuffle, parameterized truncated
normal, split/fold_in) live in tfx_core/ops/sampling/, built on these stateless ops.
"""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from compiler.ir.types import BF16, F16, F32, F64, I32, I64, U32, DType
from compiler.ops import cast as CA
from compiler.ops import elementwise as E
from compiler.ops.random import rng_bit_generator_op, rng_bits
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.framework.variables import Variable, init_scope
from tfx_core.ops.arguments import op_error, static_ints

TensorLike = Any
DEFAULT_GLOBAL_SEED = 87654321  # TF's DEFAULT_GRAPH_SEED: used with an op seed and no set_seed
_MANTISSA = {F16: 10, BF16: 7, F32: 23, F64: 52}


# ---------------------------------------------------------------- argument helpers
def _shape(name: str, shape: Any) -> tuple[int, ...]:
    dims = static_ints(shape, name, "shape")
    if any(d < 0 for d in dims):
        raise op_error(name, f"shape dimensions must be >= 0, got {list(dims)}")
    return dims


def _float_dtype(name: str, dtype: Any) -> DType:
    dt = DType.from_any(dtype)
    if not dt.is_floating:
        raise op_error(name, f"dtype must be a floating dtype, got {dt.name}", TypeError)
    return dt


def _seed_state(name: str, seed: Any) -> Tensor:
    """A stateless seed (shape [2], int32/int64) hashed into a threefry state."""
    s = to_tensor(seed, name)
    if s.dtype not in (I32, I64) or tuple(s.shape) != (2,):
        raise op_error(name, f"seed must be a shape [2] int32/int64 tensor, got {s.type}")
    if s.dtype is I32:
        s = bind(CA.convert_op, s, dtype=I64)
    return bind(rng_bit_generator_op, s, shape=(2,), dtype=I64)[1]


def _const(value: Any, dtype: DType, name: str) -> Tensor:
    return to_tensor(value, name, dtype)


def _bits(state: Tensor, shape: tuple, dtype: DType) -> tuple[Tensor, Tensor]:
    new, bits = bind(rng_bit_generator_op, state, shape=shape, dtype=dtype)
    return new, bits


# ---------------------------------------------------------------- distributions on a state
# Each takes a state and returns (new state, values), so stateless ops and Generators share them.
def _unit(state: Tensor, shape: tuple, dtype: DType, centered: bool = False) -> tuple:
    """Uniform on k * 2**-m, k in [0, 2**m) (centered: (k + 1/2) * 2**-m, inside (0, 1))."""
    m = _MANTISSA[dtype]
    word = I64 if m > 32 else U32
    state, bits = _bits(state, shape, word)
    k = bind(E.and_op, bits, _const(2**m - 1, word, "random"))
    u = bind(CA.convert_op, k, dtype=dtype)
    if centered:
        u = bind(E.add_op, u, _const(0.5, dtype, "random"))
    return state, bind(E.mul_op, u, _const(2.0**-m, dtype, "random"))


def _work(dtype: DType) -> DType:
    return F64 if dtype is F64 else F32


def _is(v: Any, number: float) -> bool:
    """`v` is the Python number `number` (so multiplying/adding it can be skipped)."""
    return type(v) in (int, float) and v == number


def _scale(z: Tensor, dtype: DType, mean: Any, stddev: Any, name: str) -> Tensor:
    if z.dtype is not dtype:
        z = bind(CA.convert_op, z, dtype=dtype)
    if not _is(stddev, 1):
        z = bind(E.mul_op, z, to_tensor(stddev, name, dtype))
    return z if _is(mean, 0) else bind(E.add_op, z, to_tensor(mean, name, dtype))


def _uniform(state, shape, dtype, minval, maxval, name):
    if dtype.is_floating:
        state, u = _unit(state, shape, dtype)
        if (minval is None or _is(minval, 0)) and (maxval is None or _is(maxval, 1)):
            return state, u
        lo = to_tensor(0.0 if minval is None else minval, name, dtype)
        hi = to_tensor(1.0 if maxval is None else maxval, name, dtype)
        return state, bind(E.add_op, bind(E.mul_op, u, bind(E.sub_op, hi, lo)), lo)
    if dtype not in (I32, I64, U32):
        raise op_error(name, f"dtype must be floating, int32, int64 or uint32, got "
                     f"{dtype.name}", TypeError)
    if minval is None and maxval is None:  # full range: the bits themselves
        state, bits = _bits(state, shape, U32 if dtype is U32 else I64)
        return state, bits if bits.dtype is dtype else bind(CA.convert_op, bits, dtype=dtype)
    if minval is None or maxval is None:
        raise op_error(name, f"{dtype.name} needs both minval and maxval (or both "
                     "None for the full range)")
    if dtype is U32:
        raise op_error(name, "uint32 draws only the full range (minval=maxval=None)", TypeError)
    lo, hi = to_tensor(minval, name, dtype), to_tensor(maxval, name, dtype)
    from tfx_core.polymorphic_function.tracer import get_static_value

    klo, khi = get_static_value(lo), get_static_value(hi)
    if klo is not None and khi is not None and not np.all(klo < khi):
        raise op_error(name, f"need minval < maxval, got {klo} and {khi}")
    lo64, hi64 = (v if v.dtype is I64 else bind(CA.convert_op, v, dtype=I64) for v in (lo, hi))
    span = bind(E.sub_op, hi64, lo64)
    state, bits = _bits(state, shape, I64)
    r = bind(E.rem_op, bits, span)  # in (-span, span): fold negatives up
    neg = bind(E.compare_op, r, _const(0, I64, name), direction="LT")
    r = bind(E.select_op, neg, bind(E.add_op, r, span), r)
    out = bind(E.add_op, r, lo64)
    return state, out if dtype is I64 else bind(CA.convert_op, out, dtype=I32)


def _normal(state, shape, dtype, mean, stddev, name):
    """Box-Muller: sqrt(-2 log u1) * cos(2 pi u2), u1 in (0, 1]."""
    w = _work(dtype)
    state, u1 = _unit(state, shape, w)
    state, u2 = _unit(state, shape, w)
    u1 = bind(E.sub_op, _const(1.0, w, name), u1)
    r = bind(E.sqrt_op, bind(E.mul_op, bind(E.log_op, u1), _const(-2.0, w, name)))
    c = bind(E.cos_op, bind(E.mul_op, u2, _const(2 * math.pi, w, name)))
    return state, _scale(bind(E.mul_op, r, c), dtype, mean, stddev, name)


# Giles (2010), "Approximating the erfinv function": the central branch, w = -log(1 - y^2) < 5;
# enough here, since |y| <= erf(sqrt(2)) keeps w below 2.42.
_ERFINV = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
           -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)


def _erfinv_central(y: Tensor, w: DType, name: str) -> Tensor:
    one = _const(1.0, w, name)
    t = bind(E.mul_op, bind(E.sub_op, one, y), bind(E.add_op, one, y))
    t = bind(E.sub_op, bind(E.neg_op, bind(E.log_op, t)), _const(2.5, w, name))
    p = _const(_ERFINV[0], w, name)
    for c in _ERFINV[1:]:
        p = bind(E.add_op, bind(E.mul_op, p, t), _const(c, w, name))
    x = bind(E.mul_op, p, y)
    if w is F64:  # Newton on erf(x) = y: the float32-accurate start becomes float64-accurate
        k = _const(2 / math.sqrt(math.pi), w, name)
        for _ in range(2):
            slope = bind(E.mul_op, k, bind(E.exp_op, bind(E.neg_op, bind(E.mul_op, x, x))))
            x = bind(E.sub_op, x, bind(E.div_op, bind(E.sub_op, bind(E.erf_op, x), y), slope))
    return x


def _truncated(state, shape, dtype, mean, stddev, name):
    """Inverse CDF of the standard normal on [-2, 2], at a centered uniform."""
    w = _work(dtype)
    state, u = _unit(state, shape, w, centered=True)
    y = bind(E.mul_op, bind(E.sub_op, bind(E.mul_op, u, _const(2.0, w, name)),
                            _const(1.0, w, name)), _const(math.erf(math.sqrt(2)), w, name))
    z = bind(E.mul_op, _erfinv_central(y, w, name), _const(math.sqrt(2), w, name))
    two = _const(2.0, w, name)
    z = bind(E.max_op, bind(E.min_op, z, two), bind(E.neg_op, two))  # rounding stays inside
    return state, _scale(z, dtype, mean, stddev, name)


# ---------------------------------------------------------------- stateless ops
def stateless_uniform(shape: Any, seed: TensorLike, minval: Any = 0, maxval: Any = None,
                      dtype: Any = F32, name: str | None = None, alg: Any = None) -> Tensor:
    """Uniform numbers in [minval, maxval), a function of `seed` (tf.random.stateless_uniform).

    Floats default to [0, 1); integer dtypes need maxval (minval=maxval=None: full range).
    """
    dt = DType.from_any(dtype)
    dims = _shape("stateless_uniform", shape)
    return _uniform(_seed_state("stateless_uniform", seed), dims, dt, minval, maxval,
                    "stateless_uniform")[1]


def stateless_normal(shape: Any, seed: TensorLike, mean: Any = 0.0, stddev: Any = 1.0,
                     dtype: Any = F32, name: str | None = None, alg: Any = None) -> Tensor:
    """Normal numbers, a function of `seed` (tf.random.stateless_normal)."""
    dt = _float_dtype("stateless_normal", dtype)
    dims = _shape("stateless_normal", shape)
    return _normal(_seed_state("stateless_normal", seed), dims, dt, mean, stddev,
                   "stateless_normal")[1]


def stateless_truncated_normal(shape: Any, seed: TensorLike, mean: Any = 0.0, stddev: Any = 1.0,
                               dtype: Any = F32, name: str | None = None,
                               alg: Any = None) -> Tensor:
    """Normal numbers within two stddev of the mean, a function of `seed`
    (tf.random.stateless_truncated_normal)."""
    dt = _float_dtype("stateless_truncated_normal", dtype)
    dims = _shape("stateless_truncated_normal", shape)
    return _truncated(_seed_state("stateless_truncated_normal", seed), dims, dt, mean, stddev,
                      "stateless_truncated_normal")[1]


# ---------------------------------------------------------------- Generator
def _state_from_seed(seed: Any) -> np.ndarray:
    """TF's create_rng_state for threefry: an int s -> [s, 0]; two ints -> as given (mod 2**64)."""
    parts = np.asarray(seed).reshape(-1)
    if parts.dtype.kind not in "iu" or parts.size not in (1, 2):
        raise TypeError(f"Generator: seed must be an int or two ints, got {seed!r}")
    vals = [int(v) % 2**64 for v in parts.tolist()] + [0] * (2 - parts.size)
    return np.array(vals, np.uint64).view(np.int64)


def _key_counter(name: str, key: Any, counter: Any) -> np.ndarray:
    """[key, counter] as the int64[2] state (each an int, taken modulo 2**64)."""
    c = np.asarray(counter).reshape(-1)
    if c.size != 1 or np.asarray(key).size != 1:
        raise ValueError(f"{name}: threefry's key and counter are one int each, got {key!r} "
                         f"and {counter!r}")
    return np.array([int(np.asarray(key).reshape(())) % 2**64, int(c[0]) % 2**64],
                    np.uint64).view(np.int64)


class Generator:
    """A random number generator whose int64[2] threefry state is a `tx.Variable`
    (tf.random.Generator): draws advance the state, also inside `@tx.function`."""

    def __init__(self, copy_from: Generator | None = None, state: Any = None, alg: Any = None,
                 _internal: bool = False) -> None:
        if copy_from is not None:
            state = copy_from.state.numpy()
        if state is None:
            raise ValueError("Generator: give copy_from or state (or use Generator.from_seed)")
        if alg not in (None, "threefry", "auto_select"):
            raise ValueError(f"Generator: only the 'threefry' algorithm exists here, got {alg!r}")
        value = np.asarray(state.numpy() if isinstance(state, Tensor) else state)
        if value.shape != (2,) or value.dtype.kind not in "iu":
            raise ValueError(f"Generator: state must be two ints (key, counter), got {state!r}")
        value = value.astype(np.int64)
        if _internal:  # the global/op-seed generators may be created lazily inside any trace
            with init_scope():
                self._state = Variable(value, trainable=False, name="rng_state")
        else:
            self._state = Variable(value, trainable=False, name="rng_state")

    @classmethod
    def from_seed(cls, seed: Any, alg: Any = None) -> Generator:
        """A generator whose state is [seed, 0] (or the two given ints)."""
        return cls(state=_state_from_seed(seed), alg=alg)

    @classmethod
    def from_state(cls, state: Any, alg: Any = None) -> Generator:
        """A generator starting at an explicit int64[2] state."""
        return cls(state=state, alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg: Any = None) -> Generator:
        """A generator seeded from OS entropy."""
        return cls(state=np.frombuffer(os.urandom(16), np.int64).copy(), alg=alg)

    @property
    def state(self) -> Variable:
        return self._state

    @property
    def algorithm(self) -> str:
        return "threefry"

    def reset(self, state: Any) -> None:
        """Set the state (two ints)."""
        self._state.assign(np.asarray(state, np.int64))

    def reset_from_seed(self, seed: Any) -> None:
        """Set the state as `from_seed(seed)` would."""
        self._state.assign(_state_from_seed(seed))

    def _draw(self, fn, *args) -> Tensor:
        state, out = fn(self._state.value(), *args)
        self._state.assign(state)
        return out

    def uniform(self, shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = F32,
                name: str | None = None) -> Tensor:
        """Uniform numbers in [minval, maxval) (floats: [0, 1) by default)."""
        return self._draw(_uniform, _shape("uniform", shape), DType.from_any(dtype), minval,
                          maxval, "uniform")

    def uniform_full_int(self, shape: Any, dtype: Any = I64, name: str | None = None) -> Tensor:
        """Integers over the whole range of `dtype` (int32, int64 or uint32)."""
        return self._draw(_uniform, _shape("uniform_full_int", shape), DType.from_any(dtype),
                          None, None, "uniform_full_int")

    def normal(self, shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = F32,
               name: str | None = None) -> Tensor:
        """Normal numbers with the given mean and stddev."""
        return self._draw(_normal, _shape("normal", shape), _float_dtype("normal", dtype), mean,
                          stddev, "normal")

    def truncated_normal(self, shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = F32,
                         name: str | None = None) -> Tensor:
        """Normal numbers within two stddev of the mean."""
        return self._draw(_truncated, _shape("truncated_normal", shape),
                          _float_dtype("truncated_normal", dtype), mean, stddev,
                          "truncated_normal")

    def binomial(self, shape: Any, counts: Any, probs: Any, dtype: Any = I32,
                 name: str | None = None) -> Tensor:
        """Binomial(counts, probs) samples of `shape` (counts, probs broadcast to it), from a
        seed this generator draws (tx.random.stateless_binomial's sampler)."""
        from tfx_core.ops.sampling.discrete import stateless_binomial  # it imports this module

        return stateless_binomial(shape, self.make_seeds(1)[:, 0], counts, probs, dtype)

    @classmethod
    def from_key_counter(cls, key: Any, counter: Any, alg: Any = None) -> Generator:
        """A generator at state [key, counter] (threefry's counter is one int)."""
        return cls(state=_key_counter("from_key_counter", key, counter), alg=alg)

    def reset_from_key_counter(self, key: Any, counter: Any) -> None:
        """Set the state to [key, counter]."""
        self._state.assign(_key_counter("reset_from_key_counter", key, counter))

    @property
    def key(self) -> Tensor:
        """The threefry key (state[0])."""
        return self._state.value()[0]

    def skip(self, delta: int) -> None:
        """Advance the counter by `delta` (wrapping modulo 2**64)."""
        step = np.array([0, int(delta) % 2**64], np.uint64).view(np.int64)
        self._state.assign(bind(E.add_op, self._state.value(), _const(step, I64, "skip")))

    def make_seeds(self, count: int = 1) -> Tensor:
        """int64 [2, count]: `count` seeds for the stateless ops."""
        return self._draw(lambda s: _bits(s, (2, int(count)), I64))

    def split(self, count: int = 1) -> list[Generator]:
        """`count` new generators with unrelated streams (advances this one); run eagerly."""
        seeds = self.make_seeds(count)
        if seeds._buf is None:
            raise op_error("split", "Generator.split creates Variables; call it outside "
                         "@tx.function")
        s = seeds.numpy()
        return [Generator(state=s[:, i]) for i in range(int(count))]

    def __repr__(self) -> str:
        return f"<tx.random.Generator threefry state={self._state.numpy().tolist()}>"


# ---------------------------------------------------------------- global seed and generator
_GLOBAL: dict[str, Any] = {"seed": None, "gen": None, "ops": {}}


def _op_state(op_seed: int) -> np.ndarray:
    g = _GLOBAL["seed"]
    seed = np.array([DEFAULT_GLOBAL_SEED if g is None else g, op_seed], np.int64)
    return rng_bits(seed, (2,), I64)[1]  # what stateless ops do with this seed


def get_global_generator() -> Generator:
    """The generator behind tx.random.uniform/normal/truncated_normal without an op seed."""
    gen = _GLOBAL["gen"]
    if gen is None:
        g = _GLOBAL["seed"]
        state = (np.frombuffer(os.urandom(16), np.int64).copy() if g is None
                 else _state_from_seed(g))
        gen = _GLOBAL["gen"] = Generator(state=state, _internal=True)
    return gen


def set_global_generator(generator: Generator) -> None:
    """Replace the global generator (functions already traced keep the one they captured)."""
    if not isinstance(generator, Generator):
        raise TypeError(f"set_global_generator: expected a tx.random.Generator, got "
                        f"{type(generator).__name__}")
    _GLOBAL["gen"] = generator


def set_seed(seed: int | None) -> None:
    """Set the global seed (tf.random.set_seed): resets the global generator to
    `Generator.from_seed(seed)` and every op-seed stream to its start, in place (so traced
    functions see it). Call it outside @tx.function."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"set_seed: seed must be an int or None, got {seed!r}")
    _GLOBAL["seed"] = None if seed is None else int(seed)
    gen = _GLOBAL["gen"]
    if gen is not None:
        gen.reset(_state_from_seed(seed) if seed is not None
                  else np.frombuffer(os.urandom(16), np.int64))
    for op_seed, g in _GLOBAL["ops"].items():
        g.reset(_op_state(op_seed))


def generator_for(seed: Any, name: str) -> Generator:
    if seed is None:
        return get_global_generator()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise op_error(name, f"seed must be an int or None, got {seed!r}", TypeError)
    gen = _GLOBAL["ops"].get(int(seed))
    if gen is None:
        gen = _GLOBAL["ops"][int(seed)] = Generator(state=_op_state(int(seed)), _internal=True)
    return gen


def uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = F32, seed: Any = None,
            name: str | None = None) -> Tensor:
    """Uniform numbers in [minval, maxval) from the global (or op-seed) stream
    (tf.random.uniform)."""
    return generator_for(seed, "uniform").uniform(shape, minval, maxval, dtype)


def normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = F32, seed: Any = None,
           name: str | None = None) -> Tensor:
    """Normal numbers from the global (or op-seed) stream (tf.random.normal)."""
    return generator_for(seed, "normal").normal(shape, mean, stddev, dtype)


def truncated_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = F32,
                     seed: Any = None, name: str | None = None) -> Tensor:
    """Normal numbers within two stddev of the mean, from the global (or op-seed) stream
    (tf.random.truncated_normal)."""
    return generator_for(seed, "truncated_normal").truncated_normal(shape, mean, stddev, dtype)


__all__ = [
    "DEFAULT_GLOBAL_SEED", "Generator", "get_global_generator", "normal", "set_global_generator",
    "set_seed", "stateless_normal", "stateless_truncated_normal", "stateless_uniform",
    "truncated_normal", "uniform",
]
