"""`compile`/`fit`/`evaluate`/`predict`: the train step is ONE `@tx.function` per model."""
from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from tfx_core.data.dataset import Dataset
from tfx_core.framework.gradient_tape import GradientTape
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import init_scope
from tfx_core.keras import losses as losses_mod
from tfx_core.keras import metrics as metrics_mod
from tfx_core.keras import optimizers
from tfx_core.keras.callbacks import Callback, CallbackList
from tfx_core.keras.engine import data as D
from tfx_core.keras.engine.compile_utils import CompiledLoss, CompiledMetrics, output_names_of
from tfx_core.keras.engine.keras_tensor import flatten
from tfx_core.polymorphic_function.function import function

_unpack = D.unpack


def _floats(logs: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in logs.items()}


class Trainer:
    """The training half of `Model` (Keras 3's Trainer): `self` is also a Layer."""

    def __init__(self) -> None:
        self.compiled = False
        self.optimizer: Any = None
        self.loss: Any = None
        self.stop_training = False
        self.history: Any = None
        self._tfx_functions: dict[str, Any] = {}
        self._tfx_compiled_metrics: CompiledMetrics | None = None
        self._tfx_compiled_loss: CompiledLoss | None = None

    # ------------------------------------------------------------ compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto",
                auto_scale_loss: bool = True) -> None:
        """Configure training (keras.Model.compile).

        Args:
            optimizer: a name ("adam", "sgd", "rmsprop", "adamw") or an optimizer instance.
            loss: a name ("sparse_categorical_crossentropy", "mse", ...), a Loss or a function
                `fn(y_true, y_pred)` of per-sample losses; for a multi-output model a list
                (one per output, None for none) or a dict keyed by output names (the output
                layers' names); a single loss applies to every output.
            loss_weights: a float, a list or a dict like `loss`: the total loss is the sum of
                each output's loss times its weight (the logs' `{output}_loss` are unweighted).
            metrics: a list of names or Metric instances, NOT weighted by sample weights
                (Keras 3); multi-output: a list with one entry per output or a dict keyed by
                output names. "accuracy"/"acc" picks binary, sparse or categorical accuracy
                from the loss and the shapes, as Keras does.
            weighted_metrics: like `metrics`, updated with the sample weights (and the
                `class_weight` of fit); a name already taken is logged as `weighted_{name}`.
            run_eagerly: run the steps op by op (debugging); otherwise each step is one
                compiled `@tx.function` (one XLA executable; `jit_compile` is always on).
            steps_per_execution: accepted (a positive int); each call of the compiled step
                still runs one batch and the batch callbacks see every batch, so results are
                identical to Keras's (whose last logs and weights do not depend on it).
            auto_scale_loss: accepted; it only matters for mixed-precision loss scaling,
                which tx.keras does not do.
        """
        if isinstance(steps_per_execution, bool) or not isinstance(
                steps_per_execution, (int, np.integer)) or steps_per_execution < 1:
            raise ValueError(f"compile: steps_per_execution must be a positive int, got "
                             f"{steps_per_execution!r}")
        from tfx_core.distribute.strategy import get_strategy, has_strategy

        # compiled in a tx.distribute strategy's scope: fit/evaluate/predict split each batch
        # over its replicas (one SPMD step; the variables were mirrored at creation)
        self._distribute_strategy = get_strategy() if has_strategy() else None
        with self._distribute_strategy.scope() if self._distribute_strategy is not None \
                else contextlib.nullcontext():
            self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self.loss_weights = loss_weights
        self.steps_per_execution = int(steps_per_execution)
        nested = isinstance(loss, (list, tuple, dict))
        self._tfx_loss_fn = None if loss is None or nested else losses_mod.get(loss)
        self._tfx_loss_tracker = metrics_mod.Mean(name="loss")
        self._tfx_compiled_loss = None if loss is None else CompiledLoss(loss, loss_weights)
        self._tfx_compiled_metrics = CompiledMetrics(metrics, weighted_metrics)
        self._tfx_metrics_built = False
        # what model.save writes (keras/saving.py): the arguments as given
        self._tfx_compile_args = {"loss": loss, "loss_weights": loss_weights,
                                  "metrics": metrics, "weighted_metrics": weighted_metrics}
        self.run_eagerly = bool(run_eagerly)
        self.jit_compile = jit_compile
        self._tfx_functions = {}
        self.compiled = True

    def _assert_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before using the model ({what}).")

    @property
    def metrics(self) -> list[Any]:
        """The loss tracker, then the compiled metrics (once the first step resolved them)."""
        if not self.compiled:
            return []
        compiled = self._tfx_compiled_metrics.metrics if self._tfx_compiled_metrics else []
        per_output = self._tfx_compiled_loss.trackers if self._tfx_compiled_loss else []
        # Keras 3's order: the loss, the compiled metrics, then each output's loss
        return [self._tfx_loss_tracker, *compiled, *per_output]

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    # ------------------------------------------------------------ steps (overridable)
    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None) -> Any:
        """The compiled loss (each output's, times its loss weight) plus the layers'
        regularization losses."""
        terms = []
        compiled = self._tfx_compiled_loss
        if compiled is not None:
            if not compiled.built:
                with init_scope():  # the per-output loss trackers are created eagerly, once
                    compiled.build(output_names_of(self, y_pred))
            terms.append(compiled(y, y_pred, sample_weight))
        terms += self.losses
        if not terms:
            raise ValueError("No loss to compute: pass a `loss` to compile()")
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None,
                        loss: Any = None) -> dict[str, Any]:
        """Update the loss tracker (weighted by the batch size) and the compiled metrics."""
        if loss is not None:
            batch = flatten(y_pred)[0].shape.as_list()[0]
            self._tfx_loss_tracker.update_state(loss, sample_weight=batch)
        compiled = self._tfx_compiled_metrics
        if compiled is not None:
            if not self._tfx_metrics_built:
                with init_scope():  # metric variables are created eagerly, once
                    compiled.build(y, y_pred, output_names_of(self, y_pred), self._tfx_loss_fn)
                self._tfx_metrics_built = True
            compiled.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict[str, Any]:
        """The loss, the compiled metrics (by their log names), then each output's loss."""
        logs = {"loss": self._tfx_loss_tracker.result()}
        if self._tfx_compiled_metrics is not None:
            logs.update(self._tfx_compiled_metrics.results())
        for m in self._tfx_compiled_loss.trackers if self._tfx_compiled_loss else []:
            logs[m.name] = m.result()
        return logs

    def train_step(self, data: Any) -> dict[str, Any]:
        """Forward, loss, gradients, optimizer update and metric updates for one batch."""
        x, y, sample_weight = _unpack(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        variables = self.trainable_weights
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return self.compute_metrics(x, y, y_pred, sample_weight, loss=loss)

    def test_step(self, data: Any) -> dict[str, Any]:
        x, y, sample_weight = _unpack(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        return self.compute_metrics(x, y, y_pred, sample_weight, loss=loss)

    def predict_step(self, data: Any) -> Any:
        x, _, _ = _unpack(data)
        return self(x, training=False)

    def _placed(self, batch: Any) -> Any:
        """The batch split over the replicas of the strategy compile() ran under (as is
        without one)."""
        strategy = getattr(self, "_distribute_strategy", None)
        if strategy is None or strategy.num_replicas_in_sync == 1:
            return batch
        return strategy.place_global_batch(batch)

    def _step_function(self, kind: str) -> Any:
        # NOTE: one tx.function per kind, kept across fit/evaluate calls: full batches reuse
        # one executable; a partial last batch traces and compiles once more for its shape.
        # Padding it and masking with sample weights (bench/keras_fit.py) saves that one
        # compile (~0.6-0.8 s for an MLP) but gains nothing per step, scales the loss by the
        # padded size and would put padding rows into batch statistics: not worth it.
        fn = self._tfx_functions.get(kind)
        if fn is None:
            step = getattr(self, f"{kind}_step")
            fn = step if getattr(self, "run_eagerly", False) else function(step)
            self._tfx_functions[kind] = fn
        return fn

    @property
    def train_function(self) -> Any:
        """The compiled train step (its `experimental_get_tracing_count()` counts traces)."""
        return self._step_function("train")

    # ------------------------------------------------------------ loops
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: Any = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1) -> Any:
        """Train for `epochs` passes over the data (keras.Model.fit); returns History.

        `x` is arrays (with `y`, cut into `batch_size` batches) or a `tx.data.Dataset` whose
        elements are the batches, (x, y) or (x, y, sample_weight); `validation_data` likewise
        (a tuple of arrays or a Dataset). `steps_per_epoch` caps the batches of an epoch; a
        Dataset is then read by one iterator across epochs, and training stops if it runs out.
        `validation_split` holds out the LAST fraction of the samples (before shuffling);
        `class_weight` ({class: weight}) multiplies each sample's weight by its class's.
        """
        self._assert_compiled("fit")
        _should_validate(0, validation_freq)  # a wrong type fails before training
        verbose = 1 if verbose == "auto" else int(verbose)
        data = D.Batches(x, y, sample_weight, batch_size, steps_per_epoch, "fit", shuffle,
                         class_weight)
        val = None
        if isinstance(validation_data, Dataset):
            val = D.Batches(validation_data, None, None, validation_batch_size, validation_steps,
                            "fit(validation_data)")
        elif validation_data is not None:
            vx, vy, vsw = _unpack(tuple(validation_data))
            val = D.Batches(vx, vy, vsw, validation_batch_size or data_batch_size(data),
                            validation_steps, "fit(validation_data)")
        elif validation_split:
            if data.dataset is not None:
                raise ValueError("fit: validation_split is only supported for arrays, not a "
                                 "tx.data.Dataset; pass validation_data instead")
            train, held = D.train_validation_split(data.arrays, validation_split)
            data = D.Batches(None, None, None, data.batch_size, steps_per_epoch, "fit",
                             shuffle, arrays=train)
            val = D.Batches(None, None, None, validation_batch_size or data.batch_size,
                            validation_steps, "fit(validation_data)", arrays=held)
        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=epochs, steps=data.steps)
        self.stop_training = False
        train_fn = self._step_function("train")
        # NOTE: reading the logs (float()) waits for the step to finish; without a callback
        # that looks at each batch's logs, only the epoch's last logs are read, so the host
        # cuts and sends the next batch while the device still computes this one (as Keras 3).
        per_batch = _reads_batch_logs(cbs)
        cbs.on_train_begin()
        training_logs: dict[str, float] | None = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            logs: Any = {}
            for step, batch in enumerate(data.epoch()):
                cbs.on_train_batch_begin(step)
                logs = train_fn(self._placed(batch))
                if per_batch:
                    logs = _floats(logs)
                cbs.on_train_batch_end(step, logs)  # tensors when no callback reads them
                if self.stop_training:
                    break
            logs = _floats(logs)
            if data.exhausted:
                self.stop_training = True
                if not logs:  # no batch at all this epoch: no epoch to report
                    break
            epoch_logs = dict(logs)
            if val is not None and _should_validate(epoch, validation_freq):
                val_logs = self._evaluate_batches(val, cbs)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        cbs.on_train_end(training_logs)
        return self.history

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: list | None = None, return_dict: bool = False) -> Any:
        """The loss and metrics over (x, y) arrays or a Dataset of (x, y[, sample_weight])
        batches: a scalar, a list in `metrics_names` order, or a dict with `return_dict=True`.
        `steps` caps the number of batches."""
        self._assert_compiled("evaluate")
        verbose = 1 if verbose == "auto" else int(verbose)
        data = D.Batches(x, y, sample_weight, batch_size, steps, "evaluate")
        cbs = CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=1, steps=data.steps)
        logs = self._evaluate_batches(data, cbs)
        return logs if return_dict else self._flatten_logs(logs)

    def _evaluate_batches(self, data: D.Batches, cbs: CallbackList) -> dict:
        test_fn = self._step_function("test")
        self.reset_metrics()
        cbs.on_test_begin()
        logs: dict[str, float] = {}
        for step, batch in enumerate(data.epoch()):
            cbs.on_test_batch_begin(step)
            logs = _floats(test_fn(self._placed(batch)))
            cbs.on_test_batch_end(step, logs)
        cbs.on_test_end(logs)
        return logs

    def _flatten_logs(self, logs: dict[str, float]) -> Any:
        # Keras 3's order: the metrics' own names first, then the other log keys sorted (so a
        # multi-output model's `{output}_{metric}` values come last, alphabetically)
        names = [name for name in self.metrics_names if name in logs]
        values = [logs[name] for name in names]
        values += [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: list | None = None) -> Any:
        """The model's outputs on `x` (arrays, or a Dataset of x or (x, ...) batches), batch
        by batch, as numpy (keras.Model.predict)."""
        verbose = 1 if verbose == "auto" else int(verbose)
        data = D.Batches(x, None, None, batch_size, steps, "predict")
        cbs = CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=1, steps=data.steps)
        predict_fn = self._step_function("predict")
        cbs.on_predict_begin()
        outputs = []
        for step, batch in enumerate(data.epoch()):
            cbs.on_predict_batch_begin(step)
            out = predict_fn(self._placed((batch[0],)))
            outputs.append(out)
            cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("predict: the input yielded no batches")
        return _concat(outputs)

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: Any = None, return_dict: bool = False) -> Any:
        """One train step on exactly this batch; metrics accumulate (as Keras 3).
        `class_weight` ({class: weight}) becomes the samples' weights (not with
        `sample_weight`, as Keras)."""
        self._assert_compiled("train_on_batch")
        data = (D.to_arrays(x), D.to_arrays(y), D.to_arrays(sample_weight))
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("train_on_batch: arguments `sample_weight` and `class_weight` "
                                 "cannot be specified at the same time")
            data = (data[0], data[1], D.with_class_weight(data[1], None, class_weight))
        logs = _floats(self._step_function("train")(_batch(data, slice(None))))
        return logs if return_dict else self._flatten_logs(logs)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """The loss and metrics of this batch (metrics are reset first)."""
        self._assert_compiled("test_on_batch")
        self.reset_metrics()
        data = (D.to_arrays(x), D.to_arrays(y), D.to_arrays(sample_weight))
        logs = _floats(self._step_function("test")(_batch(data, slice(None))))
        return logs if return_dict else self._flatten_logs(logs)

    def predict_on_batch(self, x: Any) -> Any:
        out = self._step_function("predict")((D.to_tensors(D.to_arrays(x)),))
        return _concat([out])


def _should_validate(epoch: int, validation_freq: Any) -> bool:
    """Whether epoch `epoch` (0-based) validates: `validation_freq` is an int N (every Nth
    epoch, counted from 1) or a list of the 1-based epochs to validate after (Keras 3)."""
    if isinstance(validation_freq, (int, np.integer)) and not isinstance(validation_freq, bool):
        if validation_freq < 1:
            raise ValueError(f"fit: validation_freq must be >= 1, got {validation_freq}")
        return (epoch + 1) % int(validation_freq) == 0
    if isinstance(validation_freq, (list, tuple)):
        return epoch + 1 in validation_freq
    raise ValueError(f"fit: expected validation_freq to be a list or int, got "
                     f"validation_freq={validation_freq!r} of type "
                     f"{type(validation_freq).__name__}")


def _reads_batch_logs(cbs: CallbackList) -> bool:
    """Whether any callback has its own on_train_batch_end (it needs each batch's logs)."""
    base = Callback.on_train_batch_end
    return any("on_train_batch_end" in vars(cb) or type(cb).on_train_batch_end is not base
               for cb in cbs.callbacks)


def _batch(arrays: tuple, index: Any) -> tuple:
    return D.batch_tuple(arrays, index)


def data_batch_size(data: D.Batches) -> int | None:
    """The training batch size, reused for validation arrays (None for a Dataset)."""
    return None if data.dataset is not None else data.batch_size


def _concat(outputs: list[Any]) -> Any:
    first = outputs[0]
    if isinstance(first, (list, tuple)):
        return type(first)(_concat([o[i] for o in outputs]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _concat([o[k] for o in outputs]) for k in first}
    arrays = [o.numpy() if isinstance(o, Tensor) else np.asarray(o) for o in outputs]
    return np.concatenate(arrays, axis=0)


__all__ = ["Trainer"]

