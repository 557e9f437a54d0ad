"""`tx.train.Checkpoint`: save and restore an object graph's variables, optimizer slots and
Generator states to a data-only file, with TF's deferred restoration and status assertions."""
from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Iterable
from typing import Any

import numpy as np

from compiler.ir.types import I64
from runtime.artifact import DEFAULT_LIMITS, LoadLimits
from tfx_core.distribute.dtensor_ops import copy_to_mesh, fetch_layout
from tfx_core.framework.variables import Variable, active_trace
from tfx_core.training.checkpoint_format import (
    SavedValue,
    read_checkpoint,
    write_checkpoint,
    write_state,
)
from tfx_core.training.checkpoint_graph import ObjectGraph, is_trackable, walk

_SHOW = 8  # paths listed in an assertion message
_WAITING: weakref.WeakSet[Checkpoint] = weakref.WeakSet()  # checkpoints with pending values


class CheckpointLoadStatus:
    """What `Checkpoint.restore` returns: which saved values found their object.

    Values whose object does not exist yet (a layer built later, slots of a variable that is
    not tracked yet) are kept by the checkpoint and applied when the object is added to it
    (`ckpt.model = model`) or created (a build calling `apply_deferred_restorations`):
    deferred restoration, as TF. Slots of a variable that exists are created right away with
    the saved values, as TF does eagerly.
    """

    def __init__(self, checkpoint: Checkpoint, path: str | None, saved: list[str]) -> None:
        self._checkpoint = checkpoint
        self.path = path
        self._saved = saved  # every key in the file
        self._pending: dict[str, SavedValue] = {}
        self._expect_partial = False

    @property
    def pending(self) -> tuple[str, ...]:
        """Saved values not applied yet: no object of theirs exists (yet)."""
        return tuple(self._pending)

    def _problems(self, graph: ObjectGraph, existing_only: bool) -> list[str]:
        problems = []
        saved = set(self._saved)
        missing = [k for k in graph.keys() if k not in saved]
        if missing:
            problems.append(f"{len(missing)} object(s) of the checkpoint have no value in the "
                            f"file: {_listing(missing)}")
        if not existing_only and self._pending:
            problems.append(f"{len(self._pending)} value(s) in the file matched no object: "
                            f"{_listing(list(self._pending))} (renamed or removed, or not "
                            "created yet; expect_partial() for a partial restore)")
        return problems

    def assert_consumed(self) -> CheckpointLoadStatus:
        """Raise AssertionError unless every value in the file was restored into an object
        and every object of the checkpoint got a value."""
        self._assert(existing_only=False, what="assert_consumed")
        return self

    def assert_existing_objects_matched(self) -> CheckpointLoadStatus:
        """Raise AssertionError unless every object that exists now got a value (values for
        objects not created yet are allowed)."""
        self._assert(existing_only=True, what="assert_existing_objects_matched")
        return self

    def assert_nontrivial_match(self) -> CheckpointLoadStatus:
        """Raise AssertionError unless at least one value was restored."""
        if len(self._pending) >= len(self._saved) - 1:  # save_counter always matches
            raise AssertionError(f"{self._where()}: no object of the checkpoint matched a "
                                 "saved value (a different model?)")
        return self

    def expect_partial(self) -> CheckpointLoadStatus:
        """Say that unmatched values are expected (no warning about them)."""
        self._expect_partial = True
        return self

    def _assert(self, existing_only: bool, what: str) -> None:
        problems = self._problems(walk(self._checkpoint.checkpoint_dependencies), existing_only)
        if problems:
            raise AssertionError(f"{what}: {self._where()}: " + "; ".join(problems))

    def _where(self) -> str:
        return f"restoring {self.path}" if self.path else "restore(None)"

    def __del__(self) -> None:
        try:
            if self._pending and not self._expect_partial and \
                    self._checkpoint._tfx_status is not self:
                warnings.warn(f"{self._where()}: {len(self._pending)} saved value(s) were never "
                              f"used: {_listing(list(self._pending))} (call expect_partial() on "
                              "the status when a partial restore is intended)", stacklevel=1)
        except Exception:  # interpreter shutdown
            pass

    def __repr__(self) -> str:
        return f"<CheckpointLoadStatus {self.path!r}, {len(self._pending)} pending>"


def _listing(keys: list[str]) -> str:
    shown = ", ".join(repr(k) for k in keys[:_SHOW])
    return f"[{shown}{', ...' if len(keys) > _SHOW else ''}]"


class Checkpoint:
    """Groups trackable objects (Modules, Variables, optimizers, Generators, and lists/dicts of
    them) for saving and restoring (tf.train.Checkpoint).

        ckpt = tx.train.Checkpoint(model=model, optimizer=opt, step=tx.Variable(0), rng=gen)
        path = ckpt.save("/tmp/run/ckpt")     # /tmp/run/ckpt-1
        ckpt.restore(path).assert_consumed()

    Values are found by the attribute path that reaches them (`model/dense/kernel`), so a fresh
    model of the same structure restores a checkpoint of another instance. Dependencies may be
    added later as attributes (`ckpt.model = model`); values of a restore that were waiting for
    them are applied then.
    """

    def __init__(self, root: Any = None, **kwargs: Any) -> None:
        object.__setattr__(self, "_tfx_deps", {})
        object.__setattr__(self, "_tfx_status", None)
        if "save_counter" in kwargs:
            raise ValueError("Checkpoint: 'save_counter' is reserved (the checkpoint's own "
                             "counter of save() calls)")
        if root is not None:
            kwargs = {"root": root, **kwargs}
        self._tfx_deps["save_counter"] = Variable(np.int64(0), trainable=False,
                                                  name="save_counter", dtype=I64)
        for name, obj in kwargs.items():
            setattr(self, name, obj)

    # ------------------------------------------------------------ dependencies
    @property
    def checkpoint_dependencies(self) -> dict[str, Any]:
        """The named objects this checkpoint holds (save_counter included)."""
        return dict(self._tfx_deps)

    @property
    def save_counter(self) -> Variable:
        """How many times save() ran (restored with the rest; numbers the saved files)."""
        return self._tfx_deps["save_counter"]

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        if name == "save_counter":
            raise AttributeError("Checkpoint: save_counter cannot be replaced")
        if not is_trackable(value):
            raise TypeError(f"Checkpoint: {name}={type(value).__name__} is not trackable; a "
                            "checkpoint holds tx.Module, tx.Variable, optimizers, "
                            "tx.random.Generator, Checkpoints, or lists/dicts of them")
        self._tfx_deps[name] = value
        status = self._tfx_status
        if status is not None and status._pending:
            self._apply(status, walk(self._tfx_deps), list(status._pending.values()))
            if not status._pending:
                _WAITING.discard(self)

    def __getattr__(self, name: str) -> Any:
        deps = self.__dict__.get("_tfx_deps", {})
        if name in deps:
            return deps[name]
        raise AttributeError(f"Checkpoint has no dependency {name!r}")

    # ------------------------------------------------------------ saving
    def write(self, file_prefix: str) -> str:
        """Write every value to exactly `file_prefix` (atomically); returns the path."""
        _require_eager("write")
        path = os.fspath(file_prefix)
        graph = walk(self._tfx_deps)
        values = [SavedValue(k, np.asarray(v.numpy())) for k, v in graph.variables.items()]
        values += [SavedValue(k, np.asarray(s[3].numpy()), s[:3])
                   for k, s in graph.slots.items()]
        write_checkpoint(path, values)
        return path

    def save(self, file_prefix: str) -> str:
        """Add 1 to `save_counter` and write `{file_prefix}-{save_counter}`; the directory's
        state file then names it as the latest (tx.train.latest_checkpoint)."""
        _require_eager("save")
        counter = self.save_counter
        number = int(counter.numpy()) + 1
        counter.assign(np.int64(number))
        try:
            path = self.write(f"{os.fspath(file_prefix)}-{number}")
        except BaseException:
            counter.assign(np.int64(number - 1))  # no file, no number used
            raise
        write_state(os.path.dirname(os.path.abspath(path)), [os.path.basename(path)])
        return path

    # ------------------------------------------------------------ restoring
    def restore(self, save_path: str | None, limits: LoadLimits = DEFAULT_LIMITS
                ) -> CheckpointLoadStatus:
        """Restore the values of the checkpoint at `save_path` into this object graph.

        The whole file is read and checked (checksums, index, shapes and dtypes against the
        objects) before any variable changes, so a bad file leaves the model as it was.
        `save_path=None` restores nothing (a fresh start, as TF).

        Raises:
            ArtifactError: the file is truncated, modified or malformed.
            ValueError: a saved value's shape or dtype does not fit its object.
        """
        _require_eager("restore")
        if save_path is None:
            return CheckpointLoadStatus(self, None, [])
        path = os.fspath(save_path)
        saved = read_checkpoint(path, limits)
        status = CheckpointLoadStatus(self, path, [v.key for v in saved])
        status._pending = {v.key: v for v in saved}
        try:
            self._apply(status, walk(self._tfx_deps), saved)
        except BaseException:
            status._pending = {}  # nothing was restored: no warning about unused values
            raise
        object.__setattr__(self, "_tfx_status", status)
        if status._pending:
            _WAITING.add(self)
        else:
            _WAITING.discard(self)
        return status

    read = restore

    def _apply(self, status: CheckpointLoadStatus, graph: ObjectGraph,
               values: Iterable[SavedValue]) -> None:
        """Assign the values whose objects exist; the others stay pending in `status`."""
        plan: list[tuple[SavedValue, Variable | None]] = []
        for v in values:
            if v.slot is None:
                var = graph.variables.get(v.key)
                if var is not None:
                    plan.append((v, var))
                continue
            opt_path, var_path, name = v.slot
            if v.key in graph.slots:
                plan.append((v, graph.slots[v.key][3]))
                continue
            opt, var = graph.optimizers.get(opt_path), graph.variables.get(var_path)
            if opt is not None and var is not None and name in opt.slot_names():
                plan.append((v, None))  # created below, with the saved value
        for v, target in plan:  # check everything before changing anything
            like = target if target is not None else graph.variables[v.slot[1]]
            _check_fits(status.path, v, like)
        builds: dict[str, dict[int, Variable]] = {}  # optimizer path -> variables, in order
        for v, target in plan:
            if target is None:
                var = graph.variables[v.slot[1]]
                builds.setdefault(v.slot[0], {})[id(var)] = var
        for opt_path, variables in builds.items():
            graph.optimizers[opt_path].build(list(variables.values()))
        for v, target in plan:
            if target is None:
                target = graph.optimizers[v.slot[0]].get_slot(graph.variables[v.slot[1]],
                                                              v.slot[2])
            target.assign(_placed_like(target, v.array))
            status._pending.pop(v.key, None)

    def __repr__(self) -> str:
        return f"<tx.train.Checkpoint {sorted(self._tfx_deps)}>"


def apply_deferred_restorations() -> None:
    """Apply the pending values of every restore whose objects exist now.

    Code that creates variables after construction calls this right after creating them
    (before they are used), e.g. a layer's first build: the restored values then replace the
    initial ones, as TF's deferred restoration does when a layer builds. Costs nothing while
    no restore is waiting."""
    for ckpt in list(_WAITING):
        status = ckpt._tfx_status
        if status is not None and status._pending:
            ckpt._apply(status, walk(ckpt.checkpoint_dependencies),
                        list(status._pending.values()))
        if status is None or not status._pending:
            _WAITING.discard(ckpt)


def _placed_like(var: Variable, array: np.ndarray) -> Any:
    """`array` split over devices the way `var` is now: a restored Variable keeps its own
    layout, whatever mesh (or single device) the saved one lived on."""
    layout = fetch_layout(var)
    return array if layout is None else copy_to_mesh(array, layout)


def _check_fits(path: str | None, value: SavedValue, var: Variable) -> None:
    shape, dtype = tuple(value.array.shape), value.array.dtype
    if shape != tuple(var.shape) or np.dtype(var.dtype.np_dtype) != dtype:
        raise ValueError(f"restoring {path}: the saved value {value.key!r} is "
                         f"{dtype}{list(shape)} but its object is "
                         f"{var.dtype.name}{list(var.shape)} (a different model?)")


def _require_eager(what: str) -> None:
    if active_trace() is not None:
        raise RuntimeError(f"Checkpoint.{what}() runs eagerly; call it outside @tx.function")


__all__ = ["Checkpoint", "CheckpointLoadStatus", "apply_deferred_restorations"]
