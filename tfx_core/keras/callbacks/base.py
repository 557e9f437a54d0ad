"""`tx.keras.callbacks`: the Callback hooks (Keras's order), History, EarlyStopping,
LambdaCallback and the progress bar logger."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tfx_core.keras.progress import Progress

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: override any hook. `fit` calls on_train_begin; per epoch on_epoch_begin,
    on_train_batch_begin/end per batch, the validation's on_test_* hooks, on_epoch_end; then
    on_train_end. `self.model` and `self.params` (verbose, epochs, steps) are set first."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params


def _noop(self: Callback, *args: Any, **kwargs: Any) -> None:
    return None


for _hook in _HOOKS:
    setattr(Callback, _hook, _noop)


class CallbackList:
    """Calls each hook on every callback in order; adds History and the progress bar."""

    def __init__(self, callbacks: list[Callback] | None = None, add_history: bool = False,
                 add_progbar: bool = False, model: Any = None, **params: Any) -> None:
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be keras Callback instances, got {cb!r}")
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        for cb in self.callbacks:
            cb.set_params(dict(params))
            cb.set_model(model)

    def __getattr__(self, hook: str) -> Callable[..., None]:
        if hook not in _HOOKS:
            raise AttributeError(hook)

        # NOTE: as Keras, every callback gets `logs` positionally (LambdaCallback functions
        # take it): (logs) for train/test/predict begin/end, (index, logs) for epochs/batches.
        if "epoch" in hook or "batch" in hook:
            def dispatch(index: int, logs: dict | None = None) -> None:
                for cb in self.callbacks:
                    getattr(cb, hook)(index, logs)
        else:
            def dispatch(logs: dict | None = None) -> None:  # type: ignore[misc]
                for cb in self.callbacks:
                    getattr(cb, hook)(logs)

        return dispatch


class History(Callback):
    """Records each epoch's logs: `history.history["loss"]` is a list, one value per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        if model is not None:
            model.history = self

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class LambdaCallback(Callback):
    """A callback from functions: on_epoch_begin(epoch, logs), on_epoch_end(epoch, logs),
    on_train_batch_begin/end(batch, logs), on_train_begin(logs), on_train_end(logs)."""

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        super().__init__()
        aliases = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}
        for name, fn in hooks.items():
            name = aliases.get(name, name)
            if name not in _HOOKS:
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)


class EarlyStopping(Callback):
    """Stop training when `monitor` stops improving for `patience` epochs; with
    `restore_best_weights`, the best epoch's weights are put back when training ends."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping mode {mode!r} is unknown: use 'auto', 'min' or 'max'")
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        if mode == "auto":  # as Keras: accuracy-like and AUC metrics are maximized
            name = monitor.removeprefix("val_")
            mode = "max" if ("acc" in name or name.startswith("auc")) else "min"
        self.mode = mode
        self.min_delta = abs(min_delta) if mode == "max" else -abs(min_delta)
        self.best_weights: list[np.ndarray] | None = None

    def _better(self, value: float, reference: float) -> bool:
        if self.mode == "max":
            return value - self.min_delta > reference
        return value - self.min_delta < reference

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = float("inf") if self.mode == "min" else -float("inf")
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None:
            import warnings

            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs or {})}",
                          stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # if nothing ever improves
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ProgbarLogger(Callback):
    """Prints progress: verbose=1 a live bar per epoch (tqdm: a widget in Jupyter), verbose=2
    one line per epoch; `Epoch i/n` headers when there is more than one epoch."""

    def __init__(self) -> None:
        super().__init__()
        self._progress: Progress | None = None
        self._in_fit = False

    @property
    def verbose(self) -> int:
        return int(self.params.get("verbose", 1))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._in_fit = True

    def on_train_end(self, logs: dict | None = None) -> None:
        self._in_fit = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.verbose and self.params.get("epochs", 1) > 1:
            print(f"Epoch {epoch + 1}/{self.params['epochs']}", flush=True)
        self._progress = Progress(self.params.get("steps"), self.verbose)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._progress is not None:
            self._progress.update(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._progress is not None:
            self._progress.finish(logs)
            self._progress = None

    def _start_outside_fit(self) -> None:
        if not self._in_fit and self.verbose:
            self._progress = Progress(self.params.get("steps"), self.verbose)

    def _end_outside_fit(self, logs: dict | None) -> None:
        if not self._in_fit and self._progress is not None:
            self._progress.finish(logs)
            self._progress = None

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._start_outside_fit()

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if not self._in_fit and self._progress is not None:
            self._progress.update(batch, logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        self._end_outside_fit(logs)

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._start_outside_fit()

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._progress is not None:
            self._progress.update(batch, None)

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._end_outside_fit(None)


ProgressBar = ProgbarLogger
__all__ = ["Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
           "ProgbarLogger", "ProgressBar"]
