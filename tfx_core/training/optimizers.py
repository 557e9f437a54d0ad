"""Optimizers with Keras 3 update rules (SGD, Adam, AdamW, RMSprop, Adagrad, Nadam, Lion)."""
from __future__ import annotations

from typing import Any

import numpy as np

from tfx_core.framework.convert import constant
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import Variable
from tfx_core.ops.array_ops import zeros
from tfx_core.ops.indexing_ops import gather
from tfx_core.ops.math_ops import cast, maximum, minimum, sign, sqrt, square
from tfx_core.ops.math_ops import pow as _pow
from tfx_core.training.optimizer_base import LearningRate, Optimizer, hyper


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, as keras.optimizers.SGD.

    momentum == 0:  `w -= lr * g`;  otherwise `m = momentum * m - lr * g`, then
    `w += m` (plain) or `w += momentum * m - lr * g` (Nesterov).
    """

    def __init__(self, learning_rate: LearningRate = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float | None = None,
                 name: str = "SGD", **clipping: float | None) -> None:
        super().__init__(learning_rate, name, weight_decay, **clipping)
        self.momentum = hyper(momentum, "momentum", 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum != 0 else ()

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        if self.momentum == 0:
            variable.assign_sub(gradient * learning_rate)
            return
        m = self.get_slot(variable, "momentum")
        m_new = m * self.momentum - gradient * learning_rate
        m.assign(m_new)
        if self.nesterov:
            variable.assign_add(m_new * self.momentum - gradient * learning_rate)
        else:
            variable.assign_add(m_new)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam, as keras.optimizers.Adam (epsilon outside the square root, "epsilon hat").

    With t = iterations + 1:  m += (g - m) * (1 - beta_1);  v += (g**2 - v) * (1 - beta_2);
    alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t);  w -= alpha * m / (sqrt(v) + epsilon).
    With amsgrad, v_hat = max(v_hat, v) replaces v in the last step.
    """

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 weight_decay: float | None = None, name: str = "adam",
                 **clipping: float | None) -> None:
        super().__init__(learning_rate, name, weight_decay, **clipping)
        self.beta_1 = hyper(beta_1, "beta_1", 0.0, 1.0)
        self.beta_2 = hyper(beta_2, "beta_2", 0.0, 1.0)
        self.epsilon = hyper(epsilon, "epsilon")
        self.amsgrad = bool(amsgrad)

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum",
                                                                               "velocity")

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        dt = variable.dtype
        # NOTE: the step count as the variable's float type, so float64 variables get float64
        # bias correction; iterations is incremented after all updates, hence the + 1.
        t = cast(self._iterations + 1, dt)
        beta_1_power = _pow(constant(self.beta_1, dt), t)
        beta_2_power = _pow(constant(self.beta_2, dt), t)
        alpha = learning_rate * sqrt(1.0 - beta_2_power) / (1.0 - beta_1_power)
        m = self.get_slot(variable, "momentum")
        v = self.get_slot(variable, "velocity")
        m_new = m + (gradient - m) * (1.0 - self.beta_1)
        v_new = v + (square(gradient) - v) * (1.0 - self.beta_2)
        m.assign(m_new)
        v.assign(v_new)
        if self.amsgrad:
            v_hat = self.get_slot(variable, "velocity_hat")
            v_new = maximum(v_hat.value(), v_new)
            v_hat.assign(v_new)
        variable.assign_sub(m_new * alpha / (sqrt(v_new) + self.epsilon))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (keras.optimizers.AdamW): before the Adam step,
    `w -= w * weight_decay * lr`."""

    def __init__(self, learning_rate: LearningRate = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, name: str = "adamw",
                 **clipping: float | None) -> None:
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float, got None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, name,
                         **clipping)


class RMSprop(Optimizer):
    """RMSprop, as keras.optimizers.RMSprop.

    v = rho * v + (1 - rho) * g**2; centered: a = rho * a + (1 - rho) * g, denominator
    v - a**2 + epsilon, else v + epsilon; step = lr * g / sqrt(denominator); with momentum,
    mom = momentum * mom + step and w -= mom, else w -= step.
    """

    def __init__(self, learning_rate: LearningRate = 0.001, rho: float = 0.9,
                 momentum: float = 0.0, epsilon: float = 1e-7, centered: bool = False,
                 weight_decay: float | None = None, name: str = "rmsprop",
                 **clipping: float | None) -> None:
        super().__init__(learning_rate, name, weight_decay, **clipping)
        self.rho = hyper(rho, "rho", 0.0, 1.0)
        self.momentum = hyper(momentum, "momentum", 0.0)
        self.epsilon = hyper(epsilon, "epsilon")
        self.centered = bool(centered)

    def slot_names(self) -> tuple[str, ...]:
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        return tuple(names)

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        vel = self.get_slot(variable, "velocity")
        vel_new = vel * self.rho + square(gradient) * (1.0 - self.rho)
        vel.assign(vel_new)
        if self.centered:
            avg = self.get_slot(variable, "average_gradient")
            avg_new = avg * self.rho + gradient * (1.0 - self.rho)
            avg.assign(avg_new)
            denominator = vel_new - square(avg_new) + self.epsilon
        else:
            denominator = vel_new + self.epsilon
        increment = gradient * learning_rate / sqrt(denominator)
        if self.momentum > 0:
            mom = self.get_slot(variable, "momentum")
            mom_new = mom * self.momentum + increment
            mom.assign(mom_new)
            variable.assign_sub(mom_new)
        else:
            variable.assign_sub(increment)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad, as keras.optimizers.Adagrad: `acc += g**2` (acc starts at
    `initial_accumulator_value`), then `w -= lr * g / sqrt(acc + epsilon)`."""

    def __init__(self, learning_rate: LearningRate = 0.001,
                 initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 weight_decay: float | None = None, name: str = "adagrad",
                 **clipping: float | None) -> None:
        super().__init__(learning_rate, name, weight_decay, **clipping)
        self.initial_accumulator_value = hyper(initial_accumulator_value,
                                                "initial_accumulator_value")
        self.epsilon = hyper(epsilon, "epsilon")

    def slot_names(self) -> tuple[str, ...]:
        return ("accumulator",)

    def _slot_initial_value(self, slot: str, var: Variable) -> Any:
        return zeros(list(var.shape), var.dtype) + self.initial_accumulator_value

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        acc = self.get_slot(variable, "accumulator")
        acc_new = acc + square(gradient)
        acc.assign(acc_new)
        variable.assign_sub(gradient * learning_rate / sqrt(acc_new + self.epsilon))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon,
                "initial_accumulator_value": self.initial_accumulator_value}


# prod_{i<=t} (1 - 0.5 * 0.96**i) for t = 1..N; beyond N the factors are 1 to float64 precision
# (0.5 * 0.96**2048 < 1e-36), so the table's last entry stands for every later step
_NADAM_PRODUCTS = np.cumprod(1.0 - 0.5 * 0.96 ** np.arange(1, 2049, dtype=np.float64))


class Nadam(Optimizer):
    """Nadam (Adam with Nesterov momentum), as keras.optimizers.Nadam.

    With t = iterations + 1, u_t = beta_1 * (1 - 0.5 * 0.96**t) and P_t = u_1 * ... * u_t:
    m, v as Adam;  m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t);
    v_hat = v / (1 - beta_2**t);  w -= lr * m_hat / (sqrt(v_hat) + epsilon).

    Keras keeps P_t in a running Variable; here P_t = beta_1**t * a tabulated product looked
    up by t, so it needs no state of its own and a restored checkpoint (iterations and slots)
    resumes exactly.
    """

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7,
                 weight_decay: float | None = None, name: str = "nadam",
                 **clipping: float | None) -> None:
        super().__init__(learning_rate, name, weight_decay, **clipping)
        self.beta_1 = hyper(beta_1, "beta_1", 0.0, 1.0)
        self.beta_2 = hyper(beta_2, "beta_2", 0.0, 1.0)
        self.epsilon = hyper(epsilon, "epsilon")

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity")

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        dt = variable.dtype
        t = cast(self._iterations + 1, dt)
        decay = constant(0.96, dt)
        u_t = self.beta_1 * (1.0 - 0.5 * _pow(decay, t))
        u_next = self.beta_1 * (1.0 - 0.5 * _pow(decay, t + 1.0))
        row = minimum(self._iterations, len(_NADAM_PRODUCTS) - 1)
        u_product = (_pow(constant(self.beta_1, dt), t)
                     * gather(constant(_NADAM_PRODUCTS.astype(dt.as_numpy_dtype)), row))
        m = self.get_slot(variable, "momentum")
        v = self.get_slot(variable, "velocity")
        m_new = m + (gradient - m) * (1.0 - self.beta_1)
        v_new = v + (square(gradient) - v) * (1.0 - self.beta_2)
        m.assign(m_new)
        v.assign(v_new)
        m_hat = (u_next * m_new / (1.0 - u_product * u_next)
                 + (1.0 - u_t) * gradient / (1.0 - u_product))
        v_hat = v_new / (1.0 - _pow(constant(self.beta_2, dt), t))
        variable.assign_sub(m_hat * learning_rate / (sqrt(v_hat) + self.epsilon))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Lion(Optimizer):
    """Lion, as keras.optimizers.Lion: `w -= lr * sign(beta_1 * m + (1 - beta_1) * g)`,
    then `m = beta_2 * m + (1 - beta_2) * g`."""

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.99, weight_decay: float | None = None, name: str = "lion",
                 **clipping: float | None) -> None:
        super().__init__(learning_rate, name, weight_decay, **clipping)
        self.beta_1 = hyper(beta_1, "beta_1", 0.0, 1.0)
        if self.beta_1 == 0.0:
            raise ValueError("Lion: beta_1 must be in (0, 1], got 0.0")
        self.beta_2 = hyper(beta_2, "beta_2", 0.0, 1.0)

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum",)

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        m = self.get_slot(variable, "momentum")
        variable.assign_sub(sign(m * self.beta_1 + gradient * (1.0 - self.beta_1))
                            * learning_rate)
        m.assign(m * self.beta_2 + gradient * (1.0 - self.beta_2))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "LearningRate", "Lion", "Nadam", "Optimizer",
           "RMSprop"]
