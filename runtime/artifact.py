"""The saved-model container: one zip of data-only members, checked before anything is used.

Reading never executes anything from the file: members are plain bytes (JSON, our IR text,
StableHLO portable artifacts, `.npy` arrays read with `allow_pickle=False`). Every member is
listed in the manifest with its size and sha256; names are validated (no absolute paths, no
`..`); members are stored uncompressed (no zip bombs); nothing is extracted to disk. Writing
goes to a temporary file next to the target, then `os.replace`: a failed save never leaves a
half-written artifact, and an existing one stays intact until the new one is complete.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import secrets
import zipfile
from dataclasses import dataclass
from struct import error as struct_error
from typing import Any

import numpy as np

FORMAT = "tfx.saved_model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the zip format's earliest date: every entry's timestamp
_NAME = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
_JSON_BRACKETS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class ArtifactError(ValueError):
    """The file is not a valid tfx artifact (or not one this version can read)."""


@dataclass(frozen=True)
class LoadLimits:
    """How much a saved model may hold, checked on the raw bytes before anything is parsed,
    deserialized or compiled. Raise them (or use `LoadLimits.unlimited()`) for big files you
    trust; every limit is per file unless it says otherwise.

    Attributes:
        max_file_bytes: the file's size (members are read into memory whole).
        max_members: zip members.
        max_manifest_bytes: manifest.json.
        max_json_depth: brackets nested inside manifest.json (argument structures).
        max_graph_bytes: one signature's IR text.
        max_ops: ops in one signature's IR, nested regions included.
        max_nesting: regions (control flow, fusions) inside regions.
        max_constant_bytes: constants written inside one signature's IR.
        max_tensor_bytes: any one tensor type in the IR (elements x item size).
    """

    max_file_bytes: int | None = 8 << 30
    max_members: int | None = 65_536
    max_manifest_bytes: int | None = 16 << 20
    max_json_depth: int | None = 64
    max_graph_bytes: int | None = 256 << 20
    max_ops: int | None = 200_000
    max_nesting: int | None = 64
    max_constant_bytes: int | None = 256 << 20
    max_tensor_bytes: int | None = 1 << 40

    @staticmethod
    def unlimited() -> LoadLimits:
        """No size limits (checksums, names and structure are still checked)."""
        return LoadLimits(**{f.name: None for f in dataclasses.fields(LoadLimits)})


DEFAULT_LIMITS = LoadLimits()
MAX_MANIFEST_BYTES = DEFAULT_LIMITS.max_manifest_bytes


def over_limit(what: str, value: int, limit: int | None) -> str | None:
    """The refusal message when `value` passes `limit` (None when it doesn't)."""
    if limit is None or value <= limit:
        return None
    return (f"{what} is {value:,}, over the limit of {limit:,} (tx.saved_model.LoadLimits; "
            "raise it for files you trust)")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_name(name: str, path: str) -> None:
    if not _NAME.fullmatch(name) or any(part in (".", "..") for part in name.split("/")):
        raise ArtifactError(f"{path}: refusing member name {name!r} (absolute, '..' or odd "
                            "characters); tfx never writes such names")


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry whose header holds nothing of the moment or machine it was written on
    (`writestr(name, ...)` would stamp the local time and the host OS): the same model saved
    twice, anywhere, gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3  # "Unix" (the default on everything but Windows)
    info.external_attr = 0o644 << 16  # rw-r--r--, as the default on Unix
    return info


def write_artifact(path: str, manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    """Write `members` plus `manifest.json` (with a `members` table of sizes and sha256).

    The bytes depend only on the content: fixed entry timestamps and attributes, the manifest
    first and then members by name, JSON with sorted keys (see docs/format.md, Reproducible).
    """
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory; give a file path such as model.tfx")
    for name in members:
        _check_name(name, path)
    manifest = dict(manifest, format=FORMAT, format_version=FORMAT_VERSION,
                    members={n: {"size": len(b), "sha256": sha256(b)}
                             for n, b in sorted(members.items())})
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}-"
                                  f"{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
                z.writestr(_entry(MANIFEST), json.dumps(manifest, indent=1, sort_keys=True))
                for name, data in sorted(members.items()):
                    z.writestr(_entry(name), data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_artifact(path: str, limits: LoadLimits = DEFAULT_LIMITS
                  ) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and every member, after all checks; ArtifactError names what is wrong."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as e:
        raise ArtifactError(f"{path}: cannot read it: {e}") from e
    problem = over_limit("the file size in bytes", size, limits.max_file_bytes)
    if problem:
        raise ArtifactError(f"{path}: {problem}")
    try:
        z = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError,
            EOFError, OverflowError, struct_error) as e:
        raise ArtifactError(f"{path}: not a tfx artifact (not a readable zip file: "
                            f"{_reason(e)})") from e
    with z:
        infos = z.infolist()
        problem = over_limit("the number of members", len(infos), limits.max_members)
        if problem:
            raise ArtifactError(f"{path}: {problem}")
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise ArtifactError(f"{path}: duplicate member names")
        for info in infos:
            _check_name(info.filename, path)
            if info.compress_type != zipfile.ZIP_STORED:
                raise ArtifactError(f"{path}: member {info.filename!r} is compressed; tfx "
                                    "stores members uncompressed")
            if info.file_size > size:  # a stored member can't be bigger than the file
                raise ArtifactError(f"{path}: member {info.filename!r} claims "
                                    f"{info.file_size:,} bytes in a {size:,}-byte file")
        claimed = sum(i.file_size for i in infos)
        if claimed > size:  # overlapping members: a small file read many times over
            raise ArtifactError(f"{path}: its members claim {claimed:,} bytes in a "
                                f"{size:,}-byte file (they overlap)")
        manifest = _read_manifest(z, path, limits)
        listed = manifest.get("members")
        if not isinstance(listed, dict):
            raise ArtifactError(f"{path}: manifest has no members table")
        unlisted = sorted(set(names) - set(listed) - {MANIFEST})
        if unlisted:
            raise ArtifactError(f"{path}: members not in the manifest: {unlisted}")
        members = {}
        for name, meta in listed.items():
            _check_name(name, path)
            if name not in names:
                raise ArtifactError(f"{path}: manifest names member {name!r}, which is missing")
            if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str):
                raise ArtifactError(f"{path}: manifest entry of member {name!r} is malformed")
            if z.getinfo(name).file_size != meta.get("size") or \
                    type(meta.get("size")) is not int:
                raise ArtifactError(f"{path}: member {name!r} has the wrong size")
            data = _read(z, name, path)
            if sha256(data) != meta.get("sha256"):
                raise ArtifactError(f"{path}: member {name!r} fails its checksum (corrupted "
                                    "or modified)")
            members[name] = data
    return manifest, members


def _read(z: zipfile.ZipFile, name: str, path: str) -> bytes:
    try:
        data = z.read(name)
        if len(data) != z.getinfo(name).file_size:  # zipfile trusts stored members' sizes
            raise ValueError(f"{len(data)} bytes where the zip directory says "
                             f"{z.getinfo(name).file_size}")
        return data
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
            RuntimeError, OverflowError, struct_error) as e:  # unsupported flags, "encrypted"
        raise ArtifactError(f"{path}: member {name!r} is damaged: {_reason(e)}") from e


def _reason(e: BaseException) -> str:
    """An exception as a non-empty reason (some of zipfile's have no message)."""
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def json_depth(data: bytes) -> int:
    """How deeply brackets nest in JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for m in _JSON_BRACKETS.finditer(data):
        tok = m.group()
        if tok in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif tok in (b"]", b"}"):
            depth -= 1
    return deepest


def _read_manifest(z: zipfile.ZipFile, path: str, limits: LoadLimits) -> dict[str, Any]:
    try:
        info = z.getinfo(MANIFEST)
    except KeyError:
        raise ArtifactError(f"{path}: no {MANIFEST}; not a tfx artifact") from None
    problem = over_limit(f"{MANIFEST}'s size in bytes", info.file_size,
                         limits.max_manifest_bytes)
    if problem:
        raise ArtifactError(f"{path}: {problem}")
    data = _read(z, MANIFEST, path)
    problem = over_limit(f"{MANIFEST}'s nesting depth", json_depth(data), limits.max_json_depth)
    if problem:
        raise ArtifactError(f"{path}: {problem}")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # ValueError: JSON, digits
        raise ArtifactError(f"{path}: {MANIFEST} is not valid JSON: {_reason(e)}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{path}: not a tfx saved model (format is "
                            f"{manifest.get('format') if isinstance(manifest, dict) else None!r})")
    version = manifest.get("format_version")
    if type(version) is not int or version < 1:  # NOTE: `true` is an int to isinstance
        raise ArtifactError(f"{path}: bad format_version {repr(version)[:40]} (a positive "
                            "integer)")
    if version > FORMAT_VERSION:
        raise ArtifactError(f"{path}: written by a newer tfx (format version {version}; this "
                            f"tfx reads up to {FORMAT_VERSION}); upgrade tfx to load it")
    return manifest


def array_to_npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(a, order="C"), allow_pickle=False)  # (0-d stays 0-d)
    return buf.getvalue()


def npy_to_array(data: bytes, name: str) -> np.ndarray:
    """Decode an `.npy` member; never unpickles (object arrays are refused).

    The array is a read-only view of `data` (no copy: a model's weights are not held twice
    while it loads); its header is parsed by numpy's reader and the data size must match it.
    """
    f = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(f)
        header = _NPY_HEADERS.get(version)
        if header is None:
            raise ValueError(f"unsupported .npy version {version}")
        shape, fortran, dtype = header(f)
    except Exception as e:  # truncated header, bad magic, a zip (npz), ...
        raise ArtifactError(f"member {name!r} is not a valid .npy array: {_reason(e)}") from e
    if dtype.hasobject:
        raise ArtifactError(f"member {name!r} is not a plain array (.npy without pickle): it "
                            "holds Python objects")
    count = 1
    for d in shape:
        count *= d
    offset = f.tell()
    if len(data) - offset != count * dtype.itemsize:
        raise ArtifactError(f"member {name!r} is not a valid .npy array: its header says "
                            f"{count:,} x {dtype.itemsize} bytes, it holds {len(data) - offset:,}")
    a = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return a.reshape(shape, order="F" if fortran else "C")


_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0}
