"""`tx.train.CheckpointManager`: numbered checkpoints in one directory, the newest
`max_to_keep` kept, listed in a small JSON state file (tf.train.CheckpointManager)."""
from __future__ import annotations

import os

import numpy as np

from tfx_core.training.checkpoint import Checkpoint
from tfx_core.training.checkpoint_format import read_state, write_state


class CheckpointManager:
    """Saves `checkpoint` as `{directory}/{checkpoint_name}-{number}` and deletes the oldest
    beyond `max_to_keep` (None keeps all).

    The order of a save keeps the last good checkpoint usable whatever fails: the new file
    is written atomically, then the state file (atomically) names it, and only then are old
    files deleted. A manager on an existing directory continues its list.
    """

    def __init__(self, checkpoint: Checkpoint, directory: str, max_to_keep: int | None = 5,
                 checkpoint_name: str = "ckpt") -> None:
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"CheckpointManager: expected a tx.train.Checkpoint, got "
                            f"{type(checkpoint).__name__}")
        if max_to_keep is not None and (type(max_to_keep) is not int or max_to_keep < 1):
            raise ValueError(f"CheckpointManager: max_to_keep must be a positive int or None, "
                             f"got {max_to_keep!r}")
        if not checkpoint_name or "/" in checkpoint_name or os.sep in checkpoint_name:
            raise ValueError(f"CheckpointManager: checkpoint_name must be a file name, got "
                             f"{checkpoint_name!r}")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._name = checkpoint_name
        names = read_state(self._directory) or []
        self._names = [n for n in names if os.path.isfile(os.path.join(self._directory, n))]

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
            return None
        self._checkpoint.restore(latest)
        return latest

    def save(self, checkpoint_number: int | None = None) -> str:
        """Write a new checkpoint; numbered by `checkpoint_number`, else by the checkpoint's
        `save_counter` (incremented either way, as TF). Returns its path."""
        if checkpoint_number is not None and (isinstance(checkpoint_number, bool) or
                                              not isinstance(checkpoint_number, (int,
                                                                                 np.integer))):
            raise TypeError(f"CheckpointManager.save: checkpoint_number must be an int, got "
                            f"{checkpoint_number!r}")
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
        names = [n for n in self._names if n != name] + [name]
        dropped: list[str] = []
        if self._max_to_keep is not None and len(names) > self._max_to_keep:
            dropped = names[:-self._max_to_keep]
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


__all__ = ["CheckpointManager"]
