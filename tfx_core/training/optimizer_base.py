"""The optimizer base class: checked gradient pairs, slots, clipping, weight decay, learning
rates (floats, callables, schedules) and eager updates run as one compiled program."""
from __future__ import annotations

import importlib
import inspect
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from compiler.interpreters import nothing_active
from compiler.ir.types import F32, F64, I64, DType
from compiler.tracing import user_location
from tfx_core.framework.convert import constant, convert_to_tensor
from tfx_core.framework.gradient_tape import GradientTape
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import Variable, place_like
from tfx_core.ops.array_ops import zeros
from tfx_core.ops.math_ops import cast, clip_by_value, maximum, sqrt, square
from tfx_core.ops.reduction_ops import reduce_sum
from tfx_core.polymorphic_function.function import function

LearningRate = float | Callable[..., Any]


def hyper(value: Any, what: str, lo: float | None = 0.0, hi: float | None = None) -> float:
    """A hyper-parameter as a Python float, range-checked (it is baked into traced graphs)."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a float, got {value!r}")
    if not isinstance(value, (int, float)):
        try:
            value = float(value)  # numpy scalars, eager 0-d tensors
        except (TypeError, ValueError):
            raise TypeError(f"{what} must be a float, got {value!r}") from None
    value = float(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{what} must be {bounds}, got {value}")
    return value


def _takes_step(fn: Callable[..., Any]) -> bool:
    """Whether a learning-rate callable wants the step (one argument) or nothing (Keras' form)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    required = [p for p in params if p.default is p.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    return bool(required) or varargs


class Optimizer:
    """Base class: `apply_gradients` checks the pairs, creates slots lazily, runs `update_step`
    per variable, then adds 1 to `iterations`.

    Args:
        learning_rate: a float, or a callable `lr(step)` where `step` is a float32 scalar
            tensor holding the number of steps already applied (0 on the first call), like a
            Keras `LearningRateSchedule`; a zero-argument callable is called with nothing. The
            callable runs on every `apply_gradients` (so inside a traced step it is traced).
        weight_decay: decoupled weight decay: before the update, `v -= v * weight_decay * lr`.
        name: the optimizer's name.
        clipnorm: clip each gradient to this L2 norm: `g * c / max(norm(g), c)`.
        clipvalue: clip each gradient element to [-clipvalue, clipvalue].
        global_clipnorm: scale all gradients by `c / max(global_norm, c)` (one norm over
            every gradient). At most one of the three; clipping precedes weight decay.

    Hyper-parameters are Python floats baked into traced graphs, except a float learning
    rate, which a traced step reads from a Variable (so setting `learning_rate`, e.g. from
    a ReduceLROnPlateau callback, changes a compiled `fit` step without retracing);
    `iterations` and the slots are non-trainable Variables, created with callable initial
    values so that the first `apply_gradients` may run inside `@tx.function`.
    """

    def __init__(self, learning_rate: LearningRate, name: str,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None) -> None:
        given = {k: v for k, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                   ("global_clipnorm", global_clipnorm)) if v is not None}
        if len(given) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                             f"set. Received: {given}")
        self.clipnorm, self.clipvalue, self.global_clipnorm = (
            None if v is None else hyper(v, k) for k, v in (
                ("clipnorm", clipnorm), ("clipvalue", clipvalue),
                ("global_clipnorm", global_clipnorm)))
        self._lr_variable: Variable | None = None
        if callable(learning_rate) and not isinstance(learning_rate, Tensor):
            self._learning_rate: LearningRate = learning_rate
        else:
            self._learning_rate = hyper(learning_rate, "learning_rate")
        self.name = name
        self.weight_decay = None if weight_decay is None else hyper(weight_decay, "weight_decay")
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern[str] | None = None
        self._iterations = Variable(lambda: zeros([], I64), trainable=False, name="iteration")
        self._slots: dict[int, tuple[Variable, dict[str, Variable]]] = {}
        self._compiled: dict[tuple, Any] = {}  # eager apply_gradients: compiled updates
        self._slot_variables: list[Variable] = []

    # ------------------------------------------------------------ state
    @property
    def iterations(self) -> Variable:
        """The number of `apply_gradients` calls so far (an int64 non-trainable Variable)."""
        return self._iterations

    @property
    def learning_rate(self) -> Any:
        """The current learning rate: the float, or the schedule's value at `iterations`."""
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value: LearningRate) -> None:
        """Set a new float (applies from the next step, in traced steps too; nothing retraces)
        or schedule. As Keras, a schedule is not replaced by a float: a step traced with the
        schedule would go on calling it."""
        if callable(value) and not isinstance(value, Tensor):
            if self._lr_variable is not None:
                warnings.warn("learning_rate: steps traced before this read the float learning "
                              "rate; only new traces call the schedule", UserWarning,
                              stacklevel=2)
            self._learning_rate = value
        else:
            if callable(self._learning_rate):
                raise TypeError("This optimizer was created with a learning rate schedule as "
                                "its `learning_rate` argument, hence its learning rate is not "
                                "settable. If you need the learning rate to be settable, "
                                "create the optimizer with a float `learning_rate`.")
            self._learning_rate = hyper(value, "learning_rate")
            if self._lr_variable is not None:  # what traced steps read
                self._lr_variable.assign(np.float64(self._learning_rate))

    @property
    def variables(self) -> list[Variable]:
        """`iterations`, then every slot variable in creation order."""
        return [self._iterations, *self._slot_variables]

    def slot_names(self) -> tuple[str, ...]:
        """Names of the slots this optimizer keeps per variable (e.g. Adam's momentum, velocity)."""
        return ()

    def get_slot(self, var: Variable, slot_name: str) -> Variable:
        """The slot `slot_name` of `var`; KeyError if it was not created yet."""
        entry = self._slots.get(id(var))
        if entry is None or entry[0] is not var:
            raise KeyError(f"{type(self).__name__} has no slots for variable {var.name!r} yet "
                           "(they are created by its first apply_gradients or build)")
        return entry[1][slot_name]

    def build(self, var_list: Iterable[Variable]) -> None:
        """Create the slots of `var_list` now (apply_gradients otherwise does it lazily)."""
        for v in var_list:
            self._check_variable(v, "build")
            self._ensure_slots(v)

    def exclude_from_weight_decay(self, var_list: Iterable[Variable] | None = None,
                                  var_names: Sequence[str] | None = None) -> None:
        """Exempt these variables, or those whose name matches a regex in `var_names`."""
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(var_names)) if var_names else None

    def _ensure_slots(self, var: Variable) -> None:
        entry = self._slots.get(id(var))
        if entry is not None and entry[0] is var:
            return
        base = var.name.split(":")[0].replace("/", "_")
        slots = {}
        for slot in self.slot_names():
            # NOTE: a callable initial value, so this also works during the first trace.
            slots[slot] = Variable(lambda v=var, s=slot: self._slot_initial_value(s, v),
                                   trainable=False, name=f"{base}_{slot}")
            place_like(slots[slot], var)  # on var's mesh, split as var is
        # NOTE: the entry keeps `var` alive, so its id cannot be reused by another variable.
        self._slots[id(var)] = (var, slots)
        self._slot_variables.extend(slots.values())

    def _slot_initial_value(self, slot: str, var: Variable) -> Any:
        """A slot's initial value (zeros; Adagrad's accumulator overrides it)."""
        return zeros(list(var.shape), var.dtype)

    # ------------------------------------------------------------ applying gradients
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Variable]],
                        name: str | None = None) -> Variable:
        """Apply one step; pairs whose gradient is None are skipped (with a warning).

        Args:
            grads_and_vars: (gradient, variable) pairs, e.g. `zip(grads, model.variables)`.
                A gradient must have its variable's shape and dtype.

        Returns:
            `iterations`, after its increment.

        Raises:
            TypeError: a pair is malformed, a non-Variable is in variable position, or a
                gradient's dtype differs from its variable's.
            ValueError: a gradient's shape differs from its variable's, or every gradient is None.
        """
        try:
            pairs, missing = self._checked_pairs(grads_and_vars)
        except (TypeError, ValueError) as e:  # name the caller's line, like op errors do
            loc = user_location()
            raise type(e)(f"{e} ({loc})" if loc else str(e)) from None
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                          "loss; they are left unchanged.", UserWarning, stacklevel=2)
        from tfx_core.distribute.replica_context import all_reduce_gradients

        pairs = all_reduce_gradients(pairs)  # inside strategy.run: summed over the replicas
        for _, var in pairs:
            self._ensure_slots(var)
        if nothing_active() and all(type(g) is Tensor and g._buf is not None for g, _ in pairs):
            return self._apply_compiled(pairs)
        self._apply(pairs, self._traced_learning_rate())
        return self._iterations

    def _traced_learning_rate(self) -> Any:
        """Inside a trace a float learning rate is read from a (float64) Variable, so a later
        `learning_rate = x` reaches the traced step; a schedule is traced as it is."""
        lr = self._current_learning_rate()
        if not isinstance(lr, float):
            return lr
        if self._lr_variable is None:
            self._lr_variable = Variable(lambda: constant(np.float64(self._learning_rate)),
                                         trainable=False, name="learning_rate")
        return self._lr_variable.value()

    def _apply_compiled(self, pairs: list) -> Variable:
        """Eagerly, the whole update (every variable, weight decay, `iterations`) runs as one
        compiled program, cached per variable list and hyper-parameters, with the variables'
        buffers updated in place: op by op it would cost a dispatch per op and variable."""
        # the learning rate is an argument, evaluated here (a schedule runs eagerly each step,
        # as in TF): changing it never retraces
        lr = self._current_learning_rate()
        lr = constant(np.float64(lr)) if isinstance(lr, (int, float)) else convert_to_tensor(lr)
        hyper = tuple((k, v) for k, v in vars(self).items()
                      if type(v) in (int, float, bool) and k != "_learning_rate")
        key = (tuple(id(v) for _, v in pairs), hyper)
        step = self._compiled.get(key)
        if step is None:
            variables = [v for _, v in pairs]

            def update(grads: list, lr: Any) -> None:
                self._apply(list(zip(grads, variables)), lr)

            if len(self._compiled) >= 64:  # variable lists come and go (e.g. new models)
                self._compiled.clear()
            step = self._compiled[key] = function(update)
        step([g for g, _ in pairs], lr)
        return self._iterations

    def _apply(self, pairs: list, lr: Any) -> None:
        """The update itself: clipping, weight decay, `update_step` per variable, the
        variables' constraints, `iterations += 1`."""
        pairs = list(zip(self._clip_gradients([g for g, _ in pairs]), [v for _, v in pairs]))
        if self.weight_decay is not None:
            for _, var in pairs:
                if self._use_weight_decay(var):
                    var.assign(var - var * self.weight_decay * self._lr_as(lr, var.dtype))
        for grad, var in pairs:
            self.update_step(grad, var, self._lr_as(lr, var.dtype))
        for _, var in pairs:
            # Keras 3: a weight's constraint (a layer's kernel_constraint=...) projects it
            # right after its update
            constraint = getattr(var, "constraint", None)
            if constraint is not None:
                var.assign(constraint(var))
        self._iterations.assign_add(1)

    def _clip_gradients(self, grads: list) -> list:
        if self.clipnorm:  # as Keras, 0 means no clipping
            return [g * self.clipnorm / maximum(sqrt(reduce_sum(square(g))), self.clipnorm)
                    for g in grads]
        if self.global_clipnorm:
            # NOTE: the sum of squares in float64 when any gradient is float64
            dt = F64 if any(g.dtype is F64 for g in grads) else F32
            total = reduce_sum(cast(square(grads[0]), dt))
            for g in grads[1:]:
                total = total + reduce_sum(cast(square(g), dt))
            scale = self.global_clipnorm / maximum(sqrt(total), self.global_clipnorm)
            return [g * cast(scale, g.dtype) for g in grads]
        if self.clipvalue:
            return [clip_by_value(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def minimize(self, loss: Any, var_list: Any, tape: GradientTape | None = None) -> Variable:
        """Compute gradients of `loss` for `var_list` and apply them (tf.keras minimize).

        `loss` is a zero-argument callable, or a tensor computed under `tape`. `var_list` may be
        a callable returning the list.
        """
        var_list = list(var_list() if callable(var_list) else var_list)
        if callable(loss):
            with GradientTape() as tape:
                for v in var_list:
                    tape.watch(v)
                loss = loss()
        elif tape is None:
            raise ValueError("minimize: `tape` is required when `loss` is a tensor, not a "
                             "callable")
        grads = tape.gradient(loss, var_list)
        return self.apply_gradients(zip(grads, var_list))

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        """Update one variable in place; `learning_rate` is a float or a tensor of its dtype."""
        raise NotImplementedError

    # ------------------------------------------------------------ helpers
    def _use_weight_decay(self, var: Variable) -> bool:
        if id(var) in self._exclude_ids:
            return False
        return self._exclude_pattern is None or self._exclude_pattern.search(var.name) is None

    def _current_learning_rate(self) -> Any:
        lr = self._learning_rate
        if not callable(lr):
            return lr
        if _takes_step(lr):
            return lr(cast(self._iterations, F32))
        return lr()

    @staticmethod
    def _lr_as(lr: Any, dtype: DType) -> Any:
        if isinstance(lr, (int, float)) and not isinstance(lr, bool):
            return float(lr)  # a Python scalar adopts the variable's dtype
        t = convert_to_tensor(lr)
        if t.shape != ():
            raise ValueError(f"the learning rate must be a scalar, got shape {tuple(t.shape)}")
        return t if t.dtype is dtype else cast(t, dtype)

    def _checked_pairs(self, grads_and_vars: Any) -> tuple[list, list[str]]:
        pairs: list[tuple[Tensor, Variable]] = []
        missing: list[str] = []
        for i, pair in enumerate(grads_and_vars):
            try:
                grad, var = pair
            except (TypeError, ValueError):
                raise TypeError(f"apply_gradients: element {i} must be a (gradient, variable) "
                                f"pair, got {pair!r}") from None
            self._check_variable(var, "apply_gradients")
            if grad is None:
                missing.append(var.name)
                continue
            pairs.append((self._check_gradient(grad, var), var))
        if not pairs:
            raise ValueError("apply_gradients: no gradients provided for any variable"
                             + (f" (all None for {missing})" if missing else ""))
        return pairs, missing

    @staticmethod
    def _check_variable(var: Any, who: str) -> None:
        if not isinstance(var, Variable):
            raise TypeError(f"{who}: expected a tx.Variable in variable position, got "
                            f"{type(var).__name__} {var!r}")
        if not var.dtype.is_floating:
            raise TypeError(f"{who}: variable {var.name!r} has dtype {var.dtype.name}; "
                            "optimizers update floating variables only")

    @staticmethod
    def _check_gradient(grad: Any, var: Variable) -> Tensor:
        if isinstance(grad, Variable):
            grad = grad.value()
        if not isinstance(grad, Tensor):
            grad = convert_to_tensor(grad, dtype_hint=var.dtype)
        if grad.dtype is not var.dtype:
            raise TypeError(f"gradient for variable {var.name!r} has dtype {grad.dtype.name} but "
                            f"the variable is {var.dtype.name}; cast the gradient first")
        if tuple(grad.shape) != tuple(var.shape):
            raise ValueError(f"gradient for variable {var.name!r} has shape {list(grad.shape)} "
                             f"but the variable has shape {list(var.shape)}")
        return grad

    def get_config(self) -> dict[str, Any]:
        """Plain data; a schedule with `get_config` is written as {"class_name", "config"}
        (as Keras), which `from_config` rebuilds."""
        lr = self._learning_rate
        if callable(lr) and hasattr(lr, "get_config"):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        return {"name": self.name, "learning_rate": lr,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        """The optimizer of `get_config`; a serialized learning rate must be one of
        tx.keras.optimizers.schedules (looked up there, nothing else is imported)."""
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            # NOTE: imported here: tx.keras imports this module, not the other way round
            schedules = importlib.import_module("tfx_core.keras.schedules")
            try:
                config["learning_rate"] = schedules.deserialize(lr)
            except (KeyError, TypeError) as e:
                raise ValueError(f"{cls.__name__}.from_config: cannot rebuild the learning "
                                 f"rate schedule {lr!r}: {e!r}") from None
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


__all__ = ["LearningRate", "Optimizer", "hyper"]
