"""The training-checkpoint file: the saved-model container (runtime/artifact.py) holding a JSON
index of object paths, dtypes, shapes and sha256 plus one `.npy` member per value.

The container's checks are reused as they are: sizes within `LoadLimits` before anything is
parsed, member names without `..` or absolute paths, every member's size and sha256, `.npy`
read without pickle, a temporary file + fsync + `os.replace` on writing (a crash mid-save
leaves the previous file untouched). On top of them this module checks the checkpoint index
field by field, so `restore` gets values it can trust or an ArtifactError naming the file and
the defect. The small JSON state file of a checkpoint directory is written atomically too.
"""
from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np

from compiler.ir.types import DType
from runtime.artifact import (
    DEFAULT_LIMITS,
    ArtifactError,
    LoadLimits,
    array_to_npy,
    json_depth,
    npy_to_array,
    over_limit,
    read_artifact,
    sha256,
    write_artifact,
)
from runtime.errors import DataLossError, NotFoundError

KIND = "tfx.checkpoint"
VERSION = 1
STATE_FILE = "checkpoint.json"
STATE_KIND = "tfx.checkpoint_state"
MAX_STATE_BYTES = 1 << 20
MAX_DIM = 1 << 62
_PLAIN_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+=-]*")


@dataclass(frozen=True)
class SavedValue:
    """One value of a checkpoint: the object path it belongs to, and for a slot variable the
    optimizer's path, the path of the variable it belongs to and the slot's name."""

    key: str
    array: np.ndarray
    slot: tuple[str, str, str] | None = None


def _storage(dtype: DType) -> np.dtype:
    """The numpy dtype stored in the `.npy`: the dtype itself, or same-size unsigned ints for
    ml_dtypes' types (bfloat16), which `.npy` headers cannot name without pickle."""
    npd = np.dtype(dtype.np_dtype)
    return npd if npd.isbuiltin == 1 else np.dtype(f"<u{npd.itemsize}")


def write_checkpoint(path: str, values: list[SavedValue]) -> None:
    """Write `values` to `path` atomically (the previous file stays intact until the new one
    is complete)."""
    members: dict[str, bytes] = {}
    index = []
    for i, v in enumerate(values):
        dtype = DType.from_numpy(v.array.dtype)
        member = f"values/{i:06d}.npy"
        members[member] = array_to_npy(np.asarray(v.array, order="C").view(_storage(dtype)))
        entry: dict[str, Any] = {"key": v.key, "member": member, "dtype": dtype.name,
                                 "shape": list(v.array.shape),
                                 "sha256": sha256(members[member])}
        if v.slot is not None:
            entry["slot"] = dict(zip(("optimizer", "variable", "name"), v.slot))
        index.append(entry)
    manifest = {"kind": KIND, "checkpoint_version": VERSION, "values": index}
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    write_artifact(path, manifest, members)


class CheckpointDataLossError(DataLossError, ArtifactError):
    """A checkpoint file that is damaged, modified or not a checkpoint: TF's DataLossError
    (what tf.train.Checkpoint.restore raises for a corrupted file), also an ArtifactError."""


class CheckpointNotFoundError(NotFoundError, FileNotFoundError):
    """No checkpoint at the path: TF's NotFoundError, also Python's FileNotFoundError."""


def read_checkpoint(path: str, limits: LoadLimits = DEFAULT_LIMITS) -> list[SavedValue]:
    """Every value of the checkpoint at `path`, after all checks; otherwise
    CheckpointDataLossError naming the file and the defect (CheckpointNotFoundError when
    there is no file)."""
    try:
        return _read_checkpoint(path, limits)
    except ArtifactError as e:
        if isinstance(e, DataLossError):
            raise
        raise CheckpointDataLossError(None, None, str(e)) from e


def _read_checkpoint(path: str, limits: LoadLimits) -> list[SavedValue]:
    if os.path.isdir(path):
        raise ArtifactError(f"{path}: is a directory, not a checkpoint file (give the path "
                            "save() returned, e.g. tx.train.latest_checkpoint(directory))")
    if not os.path.exists(path):
        raise CheckpointNotFoundError(None, None, f"no checkpoint at {path}")
    manifest, members = read_artifact(path, limits)
    if manifest.get("kind") != KIND:
        if "functions" in manifest:
            raise ArtifactError(f"{path}: a tx.saved_model, not a checkpoint (load it with "
                                "tx.saved_model.load)")
        raise ArtifactError(f"{path}: not a checkpoint (its kind is "
                            f"{_short(manifest.get('kind'))}, a checkpoint's is {KIND!r})")
    version = manifest.get("checkpoint_version")
    if type(version) is not int or version < 1:
        raise ArtifactError(f"{path}: bad checkpoint_version {repr(version)[:40]}")
    if version > VERSION:
        raise ArtifactError(f"{path}: written by a newer tfx (checkpoint version {version}; "
                            f"this tfx reads up to {VERSION}); upgrade tfx to read it")
    index = manifest.get("values")
    if not isinstance(index, list):
        raise ArtifactError(f"{path}: index: 'values' is not a list")
    table = manifest["members"]
    values: list[SavedValue] = []
    keys: set[str] = set()
    for i, entry in enumerate(index):
        v = _checked_entry(path, f"values[{i}]", entry, members, table)
        if v.key in keys:
            raise ArtifactError(f"{path}: index: values[{i}].key: {v.key!r} is listed twice")
        keys.add(v.key)
        values.append(v)
    return values


def _checked_entry(path: str, where: str, entry: Any, members: dict[str, bytes],
                   table: dict[str, Any]) -> SavedValue:
    def fail(what: str) -> None:
        raise ArtifactError(f"{path}: index: {where}: {what}")

    if not isinstance(entry, dict):
        fail(f"expected an object, got {_short(entry)}")
    key, member = entry.get("key"), entry.get("member")
    if not isinstance(key, str) or not key:
        fail(f"key: expected a non-empty string, got {_short(key)}")
    if not isinstance(member, str) or member not in members or not member.endswith(".npy"):
        fail(f"member: {_short(member)} is not a .npy member of the file")
    try:
        dtype = DType.from_any(entry.get("dtype"))
    except (TypeError, KeyError):
        fail(f"dtype: unknown dtype {_short(entry.get('dtype'))}")
    shape = entry.get("shape")
    if not isinstance(shape, list) or any(type(d) is not int or not 0 <= d <= MAX_DIM
                                          for d in shape):
        fail(f"shape: expected a list of dimensions, got {_short(shape)}")
    if entry.get("sha256") != table[member]["sha256"]:  # the member's own was checked
        fail(f"sha256 {_short(entry.get('sha256'))} is not member {member!r}'s checksum "
             "(modified)")
    slot = entry.get("slot")
    if slot is not None:
        parts = tuple(slot.get(k) for k in ("optimizer", "variable", "name")) \
            if isinstance(slot, dict) else ()
        if len(parts) != 3 or not all(isinstance(p, str) and p for p in parts):
            fail(f"slot: expected {{optimizer, variable, name}} strings, got {_short(slot)}")
        slot = parts
    try:
        stored = npy_to_array(members[member], member)
    except ArtifactError as e:
        raise ArtifactError(f"{path}: {e}") from None
    if stored.dtype != _storage(dtype) or list(stored.shape) != shape:
        fail(f"member {member!r} holds {stored.dtype}{list(stored.shape)}, the index says "
             f"{dtype.name}{shape}")
    return SavedValue(key, stored.view(dtype.np_dtype), slot)


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- the directory's state file
def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write `path` through a temporary file, fsync and `os.replace` (readers see the old or
    the new file, whole)."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}-"
                                  f"{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_state(directory: str, names: list[str]) -> None:
    """Record the checkpoints of `directory` (file names, oldest first; the last is latest)."""
    state = {"kind": STATE_KIND, "version": VERSION, "latest": names[-1] if names else None,
             "all": list(names)}
    atomic_write_bytes(os.path.join(directory, STATE_FILE),
                       json.dumps(state, indent=1).encode())


def read_state(directory: str) -> list[str] | None:
    """The checkpoint file names the state file lists (oldest first), None without one.

    Names are plain file names inside `directory` (no separators, no `..`): a state file
    can never point a restore or a deletion outside its directory."""
    path = os.path.join(directory, STATE_FILE)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_STATE_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ArtifactError(f"{path}: cannot read it: {e}") from e
    problem = over_limit("the state file's size in bytes", len(data), MAX_STATE_BYTES)
    if problem or json_depth(data) > 4:
        raise ArtifactError(f"{path}: not a checkpoint state file "
                            f"({problem or 'nested too deeply'})")
    try:
        state = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ArtifactError(f"{path}: not valid JSON: {e}") from e
    if not isinstance(state, dict) or state.get("kind") != STATE_KIND:
        raise ArtifactError(f"{path}: not a checkpoint state file (kind "
                            f"{state.get('kind') if isinstance(state, dict) else None!r})")
    names = state.get("all")
    if not isinstance(names, list):
        raise ArtifactError(f"{path}: 'all' is not a list of checkpoint names")
    for name in names:
        if not isinstance(name, str) or not _PLAIN_FILE.fullmatch(name) or ".." in name:
            raise ArtifactError(f"{path}: refusing checkpoint name {_short(name)} (a plain "
                                "file name in the directory is expected)")
    if names and state.get("latest") != names[-1]:
        raise ArtifactError(f"{path}: 'latest' is not the last of 'all'")
    return names


def latest_checkpoint(checkpoint_dir: str) -> str | None:
    """The path of the newest checkpoint recorded in `checkpoint_dir` (tf.train.
    latest_checkpoint), or None when there is none or its file is gone."""
    names = read_state(os.fspath(checkpoint_dir))
    if not names:
        return None
    path = os.path.join(os.fspath(checkpoint_dir), names[-1])
    return path if os.path.isfile(path) else None


__all__ = ["KIND", "STATE_FILE", "SavedValue", "atomic_write_bytes", "latest_checkpoint",
           "read_checkpoint", "read_state", "write_checkpoint", "write_state"]
