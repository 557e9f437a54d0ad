"""The Callback hooks (Keras's order), CallbackList, History, LambdaCallback, ProgbarLogger."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
__all__ = ["Callback", "CallbackList", "History", "LambdaCallback", "ProgbarLogger",
           "ProgressBar"]
