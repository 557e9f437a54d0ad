"""`tx.train.CheckpointManager`: numbered checkpoints in one directory, the newest
`max_to_keep` kept, listed in a small JSON state file (tf.train.CheckpointManager)."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tfx_core.training.checkpoint import Checkpoint
from tfx_core.training.checkpoint_format import read_state, write_state


class CheckpointManager:
    """Saves `checkpoint` as `{directory}/{checkpoint_name}-{number}` and deletes the oldest
    beyond `max_to_keep` (None keeps all). With `step_counter` and `checkpoint_interval`, `save`
    skips a step closer than `checkpoint_interval` to the last saved one (returns None);
    `init_fn` runs when `restore_or_initialize` finds nothing to restore.

    `keep_checkpoint_every_n_hours` (TF): a checkpoint pushed out by `max_to_keep` stays on
    disk if it was saved at least that many hours after the last one so kept (the first
    compares with the manager's creation); kept files leave `checkpoints` and the state file,
    as TF. The save times live in the manager: one reopened on a directory counts its
    checkpoints as saved when it opened it.

    The order of a save keeps the last good checkpoint usable whatever fails: the new file
    is written atomically, then the state file (atomically) names it, and only then are old
    files deleted. A manager on an existing directory continues its list.
    """

    def __init__(self, checkpoint: Checkpoint, directory: str, max_to_keep: int | None = 5,
                 checkpoint_name: str = "ckpt", step_counter: Any = None,
                 checkpoint_interval: int | None = None,
                 init_fn: Callable[[], Any] | None = None,
                 keep_checkpoint_every_n_hours: float | None = None) -> None:
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"CheckpointManager: expected a tx.train.Checkpoint, got "
                            f"{type(checkpoint).__name__}")
        if max_to_keep is not None and (type(max_to_keep) is not int or max_to_keep < 1):
            raise ValueError(f"CheckpointManager: max_to_keep must be a positive int or None, "
                             f"got {max_to_keep!r}")
        if not checkpoint_name or "/" in checkpoint_name or os.sep in checkpoint_name:
            raise ValueError(f"CheckpointManager: checkpoint_name must be a file name, got "
                             f"{checkpoint_name!r}")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not "
                             "None.")
        if keep_checkpoint_every_n_hours is not None and (
                isinstance(keep_checkpoint_every_n_hours, bool)
                or not isinstance(keep_checkpoint_every_n_hours, (int, float))
                or not keep_checkpoint_every_n_hours > 0):
            raise ValueError(f"CheckpointManager: keep_checkpoint_every_n_hours must be a "
                             f"positive number or None, got {keep_checkpoint_every_n_hours!r}")
        self._keep_hours = keep_checkpoint_every_n_hours
        now = time.time()
        # as TF: a second back, so a checkpoint saved at once after creation can be kept
        self._last_preserved = now - 1.0
        self._checkpoint = checkpoint
        self._step_counter, self._checkpoint_interval = step_counter, checkpoint_interval
        self._last_checkpoint_step: int | None = None
        self._init_fn = init_fn
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._name = checkpoint_name
        names = read_state(self._directory) or []
        self._names = [n for n in names if os.path.isfile(os.path.join(self._directory, n))]
        self._times = {n: now for n in self._names}  # save time of each managed checkpoint

    @property
    def checkpoint(self) -> Checkpoint:
        return self._checkpoint

    @property
    def checkpoint_interval(self) -> int | None:
        return self._checkpoint_interval

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoints(self) -> list[str]:
        """The managed checkpoints' paths, oldest first."""
        return [os.path.join(self._directory, n) for n in self._names]

    @property
    def latest_checkpoint(self) -> str | None:
        """The newest managed checkpoint's path (None before the first save)."""
        return os.path.join(self._directory, self._names[-1]) if self._names else None

    def restore_or_initialize(self) -> str | None:
        """Restore the latest checkpoint and return its path; None when there is none (the
        objects keep their initial values)."""
        latest = self.latest_checkpoint
        if latest is None:
            if self._init_fn is not None:
                self._init_fn()
            return None
        self._checkpoint.restore(latest)
        if self._checkpoint_interval is not None:
            self._last_checkpoint_step = _as_int(self._step_counter, "step_counter")
        return latest

    def save(self, checkpoint_number: Any = None, check_interval: bool = True) -> str | None:
        """Write a new checkpoint; numbered by `checkpoint_number` (an int, or an integer
        Variable / Tensor as TF), else by the checkpoint's `save_counter` (incremented either
        way, as TF). Returns its path, or None when `checkpoint_interval` skips this step."""
        if checkpoint_number is not None:
            checkpoint_number = _as_int(checkpoint_number, "checkpoint_number")
        if self._checkpoint_interval is not None:
            step = _as_int(self._step_counter, "step_counter")
            last = self._last_checkpoint_step
            if last is not None and (step == last or (
                    check_interval and step < last + self._checkpoint_interval)):
                return None
            self._last_checkpoint_step = step
        counter = self._checkpoint.save_counter
        previous = int(counter.numpy())
        counter.assign(np.int64(previous + 1))
        number = previous + 1 if checkpoint_number is None else int(checkpoint_number)
        name = f"{self._name}-{number}"
        try:
            path = self._checkpoint.write(os.path.join(self._directory, name))
        except BaseException:
            counter.assign(np.int64(previous))
            raise
        self._times[name] = time.time()
        names = [n for n in self._names if n != name] + [name]
        dropped: list[str] = []
        if self._max_to_keep is not None and len(names) > self._max_to_keep:
            for old in names[:-self._max_to_keep]:  # oldest first
                saved_at = self._times.pop(old, self._last_preserved)
                if self._keep_hours and saved_at - self._keep_hours * 3600.0 >= \
                        self._last_preserved:
                    self._last_preserved = saved_at  # kept on disk, no longer managed
                else:
                    dropped.append(old)
            names = names[-self._max_to_keep:]
        write_state(self._directory, names)
        self._names = names
        for old in dropped:
            try:
                os.unlink(os.path.join(self._directory, old))
            except FileNotFoundError:
                pass
        return path

    def __repr__(self) -> str:
        return f"<tx.train.CheckpointManager {self._directory!r}, {len(self._names)} kept>"


def _as_int(value: Any, what: str) -> int:
    """An int from an int, a numpy integer or an integer scalar Variable / Tensor."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"CheckpointManager.save: {what} must be an integer (an int or an "
                        f"integer scalar Variable/Tensor), got {value!r}")
    return int(value)


__all__ = ["CheckpointManager"]
