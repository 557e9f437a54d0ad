"""`Layer`: Keras 3's layer — weights built on first call, training flag, symbolic calls."""
from __future__ import annotations

import inspect
import math
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from compiler.ir.types import F32, DType
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.framework_ops import executing_eagerly
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.tensor_spec import TensorSpec
from tfx_core.framework.variables import Variable, init_scope
from tfx_core.keras import constraints, initializers, regularizers, serialization
from tfx_core.keras.engine.keras_tensor import (
    KerasTensor,
    Node,
    any_symbolic,
    flatten,
    map_structure,
)
from tfx_core.keras.engine.masks import get_keras_mask, set_keras_mask
from tfx_core.ops.array_ops import shape
from tfx_core.ops.math_ops import cast, maximum
from tfx_core.polymorphic_function.function import function
from tfx_core.training.checkpoint import apply_deferred_restorations
from tfx_core.training.module import Module

_NAMES: dict[str, int] = {}
# set by the first add_loss: until then no layer holds call losses, and calls skip clearing
_LOSSES_USED = [False]
_CONTEXT = threading.local()


_WORD = re.compile("(.)([A-Z][a-z]+)")
_LOWER_UPPER = re.compile("([a-z])([A-Z])")


def snake_case(class_name: str) -> str:
    """Keras's default layer name for a class: `Conv2D` -> `conv2d`, `SimpleRNN` -> `simple_rnn`,
    `GlobalAveragePooling2D` -> `global_average_pooling2d` (a digit keeps the capital after it,
    unlike tf.Module's `conv2_d`)."""
    name = re.sub(r"\W+", "", class_name)
    return _LOWER_UPPER.sub(r"\1_\2", _WORD.sub(r"\1_\2", name)).lower()


def unique_name(base: str) -> str:
    """`dense`, then `dense_1`, `dense_2`, ... (Keras's automatic layer names)."""
    n = _NAMES.get(base, 0)
    _NAMES[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _outer_training() -> Any:
    stack = getattr(_CONTEXT, "training", None)
    return stack[-1] if stack else None


@contextmanager
def _training_scope(training: Any) -> Iterator[None]:
    # NOTE: as Keras's CallContext: a `training` given to the outermost call reaches every
    # nested layer call that does not pass its own.
    if not hasattr(_CONTEXT, "training"):
        _CONTEXT.training = []
    _CONTEXT.training.append(training)
    try:
        yield
    finally:
        _CONTEXT.training.pop()


def _shape_of(x: Any) -> Any:
    if isinstance(x, (KerasTensor, Tensor, TensorSpec)):
        s = x.shape
        return tuple(s) if isinstance(s, tuple) else tuple(s.as_list())
    if isinstance(x, np.ndarray):
        return tuple(x.shape)
    if isinstance(x, (list, tuple)):
        return [_shape_of(t) for t in x]
    if isinstance(x, dict):
        return {k: _shape_of(v) for k, v in x.items()}
    return None


def _to_tensor(x: Any, dtype: DType) -> Any:
    """Arrays and numbers become tensors; float inputs take the layer's float dtype (Keras)."""
    if isinstance(x, (Tensor, KerasTensor)) or x is None or isinstance(x, (str, bool)):
        return x
    if isinstance(x, (np.ndarray, np.generic, float)):
        a = np.asarray(x)
        if a.dtype.kind == "f" and dtype.is_floating:
            a = a.astype(dtype.np_dtype)
        return convert_to_tensor(a)
    return x


class Layer(Module):
    """The base layer (keras.layers.Layer).

    Subclasses create weights in `build(input_shape)` with `add_weight` and compute in
    `call(inputs, training=None)`. The first `__call__` builds the layer from the input's shape
    (outside any trace, so this also works inside `@tx.function`). Calling a layer on
    KerasTensors (from `tx.keras.Input`) computes output shapes by tracing `call` without
    running it, and records the call for `Model(inputs, outputs)`.
    """

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 input_shape: Any = None, activity_regularizer: Any = None,
                 **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unrecognized keyword arguments "
                            f"{sorted(kwargs)}")
        if name is None:
            name = unique_name(snake_case(type(self).__name__))
        super().__init__(name)
        self._tfx_trainable = bool(trainable)
        self._tfx_own: list[Variable] = []  # weights created by add_weight, in creation order
        self._tfx_layers: list[Layer] = []  # sublayers, in assignment order
        self._tfx_regularized: list[tuple[Variable, Any]] = []
        # penalties of this layer's outputs in the current outermost call (activity_regularizer)
        self._tfx_activity_losses: list[tuple[Any, bool]] = []
        self.activity_regularizer = None if activity_regularizer is None else regularizers.get(
            activity_regularizer)
        self._tfx_dtype = DType.from_any(F32 if dtype is None else dtype)
        self._tfx_nodes: list[Node] = []  # symbolic calls of this layer
        self._tfx_output_shape: Any = None  # from the last symbolic call (for summary())
        self._tfx_input_shape = None if input_shape is None else (None, *tuple(input_shape))
        self._tfx_build_shape: Any = None  # the input shape of the first call (for saving)
        self.built = False

    # ------------------------------------------------------------ tracking
    def __setattr__(self, key: str, value: Any) -> None:
        if not key.startswith("_tfx") and hasattr(self, "_tfx_layers"):
            for leaf in flatten(value) if isinstance(value, (list, tuple, dict)) else [value]:
                if isinstance(leaf, Layer) and leaf is not self and not any(
                        leaf is s for s in self._tfx_layers):
                    self._tfx_layers.append(leaf)
                elif isinstance(leaf, Variable) and not any(leaf is w for w in self._tfx_own):
                    self._tfx_own.append(leaf)
        object.__setattr__(self, key, value)

    def _tfx_tracked(self) -> tuple[list[Variable], list[Layer]]:
        """(own variables, direct sublayers): those seen on assignment, then any added since to
        a list/tuple/dict attribute (`self.blocks.append(Dense(4))`), in attribute order."""
        own, subs = list(self._tfx_own), list(self._tfx_layers)
        for key, value in vars(self).items():
            if key.startswith("_tfx") or not isinstance(value, (list, tuple, dict)):
                continue
            for leaf in flatten(value):
                if isinstance(leaf, Layer) and leaf is not self and not any(
                        leaf is s for s in subs):
                    subs.append(leaf)
                elif isinstance(leaf, Variable) and not any(leaf is w for w in own):
                    own.append(leaf)
        return own, subs

    @property
    def layers(self) -> list[Layer]:
        """The directly tracked sublayers, in the order they were assigned."""
        return self._tfx_tracked()[1]

    @property
    def dtype(self) -> DType:
        return self._tfx_dtype

    @property
    def trainable(self) -> bool:
        return self._tfx_trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        # as Keras: freezing a layer freezes its sublayers
        self._tfx_trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value

    # ------------------------------------------------------------ weights
    def add_weight(self, shape: Any = None, initializer: Any = None, dtype: Any = None,
                   trainable: bool = True, regularizer: Any = None, name: str | None = None,
                   constraint: Any = None) -> Variable:
        """Create a weight `layer_name/name` (keras.layers.Layer.add_weight).

        `initializer` defaults to "glorot_uniform" for floating dtypes and "zeros" otherwise;
        `regularizer`'s penalty on the weight is part of `layer.losses`; `constraint` is
        recorded as the variable's `constraint`, which the optimizer applies after each update.
        """
        dt = DType.from_any(self._tfx_dtype if dtype is None else dtype)
        shape = () if shape is None else tuple(int(d) for d in shape)
        if initializer is None:
            initializer = "glorot_uniform" if dt.is_floating else "zeros"
        init = initializers.get(initializer)
        name = name or f"variable_{len(self._tfx_own)}"
        with init_scope():
            value = init(list(shape), dtype=dt)
            var = Variable(value, trainable=trainable, name=f"{self.name}/{name}", dtype=dt)
        # as tf.Variable(constraint=): the optimizer projects the variable after each update
        var.constraint = constraints.get(constraint)
        self._tfx_own.append(var)
        if regularizer is not None:
            self._tfx_regularized.append((var, regularizers.get(regularizer)))
        return var

    @property
    def weights(self) -> list[Variable]:
        """Own trainable, then own non-trainable weights, then each sublayer's (as Keras)."""
        own, subs = self._tfx_tracked()
        own = [w for w in own if w.trainable] + [w for w in own if not w.trainable]
        return _unique(own + [w for layer in subs for w in layer.weights])

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        own, subs = self._tfx_tracked()
        return _unique([w for w in own if w.trainable]
                       + [w for layer in subs for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return self.weights
        own, subs = self._tfx_tracked()
        return _unique([w for w in own if not w.trainable]
                       + [w for layer in subs for w in layer.non_trainable_weights])

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def losses(self) -> list[Tensor]:
        """The activity-regularization penalties of the last call, then the regularization
        penalties of this layer's weights, then its sublayers' losses."""
        eager = executing_eagerly()
        # a penalty traced inside a finished `tx.function` is no value outside it
        own = [loss for loss, made_eagerly in self._tfx_activity_losses
               if made_eagerly or not eager]
        own += [reg(v) for v, reg in self._tfx_regularized]
        return own + [loss for layer in self.layers for loss in layer.losses]

    def _tfx_clear_activity_losses(self) -> None:
        self._tfx_activity_losses = []
        for layer in self.layers:
            layer._tfx_clear_activity_losses()

    def add_loss(self, loss: Any) -> None:
        """Add a scalar loss tensor computed in `call` to `layer.losses` (and so to fit's
        loss) until the next outermost call (keras.layers.Layer.add_loss)."""
        _LOSSES_USED[0] = True
        self._tfx_activity_losses.append((convert_to_tensor(loss), executing_eagerly()))

    def _tfx_add_activity_losses(self, outputs: Any) -> None:
        for out in flatten(outputs):
            if isinstance(out, Tensor):
                self.add_loss(activity_penalty(self.activity_regularizer, out))

    def get_weights(self) -> list[np.ndarray]:
        """The weights' values as numpy arrays, in `weights` order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Assign numpy arrays to the weights, in `weights` order (shapes must match)."""
        mine = self.weights
        if len(weights) != len(mine):
            raise ValueError(f"{self.name}.set_weights: expected {len(mine)} arrays, got "
                             f"{len(weights)}")
        for var, value in zip(mine, weights):
            a = np.asarray(value)
            if tuple(a.shape) != tuple(var.shape.as_list()):
                raise ValueError(f"{self.name}.set_weights: weight {var.name} has shape "
                                 f"{tuple(var.shape.as_list())}, got an array of shape {a.shape}")
            var.assign(a.astype(var.dtype.np_dtype))

    def count_params(self) -> int:
        """The number of scalars in all weights; the layer must be built."""
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the "
                             "layer isn't built. You can build it manually via "
                             f"`{self.name}.build(input_shape)`.")
        return sum(math.prod(w.shape.as_list()) for w in self.weights)

    # ------------------------------------------------------------ building and calling
    def build(self, input_shape: Any) -> None:
        """Create the weights for inputs of `input_shape` (None = unknown dimension)."""
        self.built = True

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement call()")

    def _maybe_build(self, first_input: Any) -> None:
        if self.built:
            return
        shape = _shape_of(first_input)
        with init_scope():  # weights are created eagerly, even during a trace
            self.build(shape)
            # values of a `tx.train.Checkpoint.restore` made before this build replace the
            # initial ones now, before any use (TF's deferred restoration)
            apply_deferred_restorations()
        self.built = True
        self._tfx_build_shape = shape

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError(f"{self.name}: a layer is called with its inputs as first argument")
        if any_symbolic((args, kwargs)):
            return self._symbolic_call(args, kwargs)
        args = (map_structure(lambda x: _to_tensor(x, self._tfx_dtype), args[0]), *args[1:])
        self._maybe_build(args[0])
        outermost = not getattr(_CONTEXT, "depth", 0)
        if outermost and _LOSSES_USED[0]:  # as Keras 3: the outermost call starts afresh
            self._tfx_clear_activity_losses()
        _CONTEXT.depth = getattr(_CONTEXT, "depth", 0) + 1
        try:
            outputs = self._call_in_context(args, kwargs)
        finally:
            _CONTEXT.depth -= 1
        if self.activity_regularizer is not None:
            self._tfx_add_activity_losses(outputs)
        return outputs

    # ------------------------------------------------------------ masks
    @property
    def supports_masking(self) -> bool:
        """Whether `compute_mask` gives the outputs' mask (Keras 3: True when a subclass
        overrides `compute_mask`, or set by the layer); else an input mask stops here."""
        value = getattr(self, "_tfx_supports_masking", None)
        if value is None:
            return type(self).compute_mask is not Layer.compute_mask
        return value

    @supports_masking.setter
    def supports_masking(self, value: bool) -> None:
        self._tfx_supports_masking = bool(value)

    def compute_mask(self, inputs: Any, previous_mask: Any) -> Any:
        """The mask of the outputs; by default the input's mask passes through."""
        return previous_mask

    def _populate_masks(self, args: tuple, kwargs: dict) -> Any:
        """Fill the call's `mask` (one tensor argument) or `<arg>_mask` arguments (several)
        from the masks attached to the inputs, as Keras 3; returns the `previous_mask`."""
        try:
            sig, takes_masks, _ = _call_signature(self.call)
            # fast path (most layers): no mask argument to fill
            bound = sig.bind_partial(*args, **kwargs).arguments if takes_masks else {}
        except (TypeError, ValueError):
            sig, bound = None, {}
        if bound:
            tensors = {k: v for k, v in bound.items() if any(
                isinstance(t, (Tensor, KerasTensor)) for t in flatten(v))}
            params = sig.parameters
            if len(tensors) == 1 and "mask" in params and bound.get("mask") is None:
                kwargs["mask"] = _mask_of(next(iter(tensors.values())))
            elif len(tensors) > 1:
                for k, v in tensors.items():
                    if f"{k}_mask" in params and bound.get(f"{k}_mask") is None:
                        kwargs[f"{k}_mask"] = _mask_of(v)
        if kwargs.get("mask") is not None:
            return kwargs["mask"]
        return _mask_of(args[0])

    def _set_output_masks(self, inputs: Any, outputs: Any, previous_mask: Any) -> None:
        flat = flatten(outputs)
        if all(get_keras_mask(t) is not None for t in flat):
            return
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        for t, m in zip(flat, flatten(masks)):
            if m is not None and get_keras_mask(t) is None:
                set_keras_mask(t, m)

    def _call_in_context(self, args: tuple, kwargs: dict) -> Any:
        training = kwargs.pop("training", None)
        if training is None:
            training = _outer_training()
        if training is not None and _call_signature(self.call)[2]:
            kwargs["training"] = training
        previous_mask = self._populate_masks(args, kwargs)
        with _training_scope(training):
            outputs = self.call(*args, **kwargs)
        if self.supports_masking:
            self._set_output_masks(args[0], outputs, previous_mask)
        elif previous_mask is not None:
            warnings.warn(f"Layer '{self.name}' (of type {type(self).__name__}) was passed an "
                          "input with a mask attached to it. However, this layer does not "
                          "support masking and will therefore destroy the mask information. "
                          "Downstream layers will not see the mask.", stacklevel=3)
        return outputs

    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        self._maybe_build(args[0])
        symbols = [t for t in flatten((args, kwargs)) if isinstance(t, KerasTensor)]
        masked = [s for s in symbols if get_keras_mask(s) is not None]
        out_masks: list[Any] = []

        def run(*tensors: Any) -> Any:
            value = {id(s): t for s, t in zip(symbols, tensors)}
            for s, m in zip(masked, tensors[len(symbols):]):  # the inputs' masks, traced too
                set_keras_mask(value[id(s)], m)
            a, k = map_structure(lambda x: value.get(id(x), x), (list(args), dict(kwargs)))
            result = self._call_in_context(tuple(a), k)
            out_masks[:] = [get_keras_mask(t) for t in flatten(result)]
            return result, [m for m in out_masks if m is not None]

        # NOTE: tracing (not running) `call` on specs gives the output shapes for any layer,
        # user-written ones included; the batch dimension stays None.
        specs = [TensorSpec(list(s.shape), s.dtype)
                 for s in symbols + [get_keras_mask(s) for s in masked]]
        try:
            outs, mask_specs = function(run).get_concrete_function(*specs).structured_outputs
        except (TypeError, ValueError, IndexError) as e:
            raise type(e)(f"Exception encountered when calling {type(self).__name__} "
                          f"'{self.name}' on inputs {symbols}: {e}") from e
        node = Node(self, args, kwargs, None)
        counter = iter(range(1 << 30))
        outputs = map_structure(
            lambda s: KerasTensor(tuple(s.shape), s.dtype, name=self.name,
                                  history=(node, next(counter))), outs)
        node.outputs = outputs
        node.output_tensors = flatten(outputs)
        specs_left = iter(mask_specs)
        for t, m in zip(node.output_tensors, out_masks):
            if m is not None:  # a symbolic mask: shape and dtype only (Keras's _keras_mask)
                spec = next(specs_left)
                set_keras_mask(t, KerasTensor(tuple(spec.shape), spec.dtype))
        self._tfx_nodes.append(node)
        if _LOSSES_USED[0]:  # the shape-only trace's penalties are no values: none is kept
            self._tfx_clear_activity_losses()
        self._tfx_output_shape = map_structure(lambda t: t.shape, outputs)
        return outputs

    # ------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (keras.layers.Layer.get_config)."""
        # NOTE: Keras 3's base config has activity_regularizer only when set, but most
        # layers with weights always list it; always listing it keeps both kinds complete
        return {"name": self.name, "trainable": self.trainable, "dtype": self._tfx_dtype.name,
                "activity_regularizer": serialize_object(self.activity_regularizer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """A new layer from `get_config()`'s dict (unbuilt: weights are not part of it)."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def activity_penalty(regularizer: Any, output: Tensor) -> Tensor:
    """Keras 3's activity regularization: the regularizer's penalty of an output, divided by
    its batch size (so the strength does not depend on the batch)."""
    loss = convert_to_tensor(regularizer(output))
    if output.shape.rank:
        # divide_no_nan: an empty batch's penalty is 0 anyway, so max(batch, 1)
        loss = loss / maximum(cast(shape(output)[0], loss.dtype), cast(1, loss.dtype))
    return loss


def serialize_object(obj: Any) -> Any:
    """A regularizer's or constraint's get_config entry: {"class_name", "config"} (and the
    "registered_name" of a registered class); None, a name or a plain function as is."""
    if getattr(obj, "get_config", None) is None or inspect.isclass(obj):
        return obj
    return serialization.serialize(obj)


def _accepts(fn: Any, arg: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return arg in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


_SIGNATURES: dict[Any, tuple[inspect.Signature, bool, bool]] = {}


def _call_signature(call: Any) -> tuple[inspect.Signature, bool, bool]:
    """(the signature of a layer's bound `call`, whether it has a `mask` or `<arg>_mask`
    parameter, whether it takes `training`), cached per function: a layer call is hot."""
    fn = getattr(call, "__func__", None)
    entry = None if fn is None else _SIGNATURES.get(fn)
    if entry is None:
        try:
            sig = inspect.signature(call)
        except (TypeError, ValueError):  # no signature to read: pass neither mask nor flag
            return None, False, False  # type: ignore[return-value]
        entry = (sig, any(p == "mask" or p.endswith("_mask") for p in sig.parameters),
                 _accepts(call, "training"))
        if fn is not None:
            _SIGNATURES[fn] = entry
    return entry


def _mask_of(structure: Any) -> Any:
    """The masks attached to a structure's tensors (None when none has one)."""
    if not isinstance(structure, (list, tuple, dict)):
        return get_keras_mask(structure)
    masks = map_structure(get_keras_mask, structure)
    return None if all(m is None for m in flatten(masks)) else masks


def _unique(variables: list[Variable]) -> list[Variable]:
    seen: set[int] = set()
    out = []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


__all__ = ["Layer", "activity_penalty", "serialize_object", "unique_name"]
