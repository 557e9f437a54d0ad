"""`tx.keras.optimizers.schedules`: learning-rate schedules (Keras 3 formulas), usable as
an optimizer's `learning_rate`."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from compiler.ir.types import F32
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.ops import math_ops as M


def _step(step: Any) -> Any:
    step = convert_to_tensor(step)
    return step if step.dtype is F32 else M.cast(step, F32)


class LearningRateSchedule:
    """Base class: `schedule(step)` gives the learning rate (a float32 scalar tensor) for a
    step count; the optimizer calls it with `iterations` on every `apply_gradients` (inside
    a compiled step it is traced once and then runs in the program)."""

    def __call__(self, step: Any) -> Any:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`; with `staircase` the
    exponent is floored (the rate drops every `decay_steps` steps)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay") -> None:
        if decay_steps <= 0:
            raise ValueError(f"ExponentialDecay: `decay_steps` must be > 0, got {decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.decay_rate = decay_steps, float(decay_rate)
        self.staircase, self.name = bool(staircase), name

    def __call__(self, step: Any) -> Any:
        p = _step(step) / float(self.decay_steps)
        if self.staircase:
            p = M.floor(p)
        return self.initial_learning_rate * M.pow(M.cast(self.decay_rate, F32), p)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while step <= boundaries[0], `values[i]` while boundaries[i-1] < step <=
    boundaries[i], `values[-1]` after the last boundary (Keras's inclusive upper ends)."""

    def __init__(self, boundaries: Sequence[float], values: Sequence[float],
                 name: str = "PiecewiseConstant") -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError("PiecewiseConstantDecay: the length of `boundaries` should be 1 "
                             f"less than the length of `values`, got {len(boundaries)} and "
                             f"{len(values)}")
        self.boundaries, self.values = list(boundaries), [float(v) for v in values]
        self.name = name

    def __call__(self, step: Any) -> Any:
        step = _step(step)
        # NOTE: from the last interval back, so the first boundary that holds wins
        out = M.cast(self.values[-1], F32)
        for b, v in zip(reversed(self.boundaries), reversed(self.values[:-1])):
            out = M.where(step <= float(b), M.cast(v, F32), out)
        return out

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup from `initial_learning_rate` to `warmup_target` over
    `warmup_steps`, then cosine decay over `decay_steps` from the warmup target (or the
    initial rate) down to `alpha` times it, held there afterwards:
    `lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * min(s, decay_steps) / decay_steps)) + alpha)`."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps: int = 0) -> None:
        if decay_steps <= 0:
            raise ValueError(f"CosineDecay: `decay_steps` must be > 0, got {decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.alpha, self.name = decay_steps, float(alpha), name
        self.warmup_target = None if warmup_target is None else float(warmup_target)
        self.warmup_steps = warmup_steps

    def _decay(self, step: Any, start: float) -> Any:
        fraction = M.minimum(step, float(self.decay_steps)) / float(self.decay_steps)
        cosine = 0.5 * (1.0 + M.cos(math.pi * fraction))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: Any) -> Any:
        step = _step(step)
        if self.warmup_target is None:
            return self._decay(step, self.initial_learning_rate)
        decayed = self._decay(M.maximum(step - float(self.warmup_steps), 0.0),
                              self.warmup_target)
        if not self.warmup_steps:
            return decayed
        warm = (self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate)
                * step / float(self.warmup_steps))
        return M.where(step < float(self.warmup_steps), warm, decayed)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    classes = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay)}
    return classes[config["class_name"]].from_config(config["config"])


__all__ = ["CosineDecay", "ExponentialDecay", "LearningRateSchedule", "PiecewiseConstantDecay",
           "deserialize", "serialize"]
