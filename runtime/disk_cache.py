"""The persistent compile cache: one file per compiled executable, shared by processes.

Where: `TFX_CACHE_DIR` (empty or "none" disables it), else `$XDG_CACHE_HOME/tfx/xla` (default
`~/.cache/tfx/xla`); `tx.config.set_compile_cache_dir(path or None)` overrides both. A directory
that can't be created or written gives one warning, then tfx runs without the cache.

SECURITY: an entry is a serialized XLA executable, native code that tfx loads and runs, so the
directory must be the user's alone. tfx creates it with mode 0o700 (entries 0o600) and trusts
it only when the directory is owned by the current user, is not a symlink, and neither it nor
any directory above it can be written by another user (a sticky, root-owned /tmp is fine);
every entry is opened without following symlinks and must be a regular file owned by the user
and writable by nobody else. Anything else is refused with one warning, and the disk cache is
off for the rest of the process. Never fill it with files from elsewhere.

Entry file `<sha256(key)>.xex`: a header (magic, format version, payload length, sha256 of the
key and of the payload), then the payload. An entry failing any check (truncated, flipped bits,
foreign file) is counted, deleted and read as a miss; the caller compiles and writes it again.
Writes go to a uniquely named temporary file in the directory, then `os.replace`: readers see a
whole entry or none, and concurrent writers of one key both succeed (the last rename wins). No
fsync: a write torn by a power loss fails the checksum and is recompiled. A read sets the file's
mtime to now (mtime = last use); when a write takes the total over `max_bytes`, the least
recently used entries are deleted (each process rescans every few writes, so with several
writers the bound is soft). Files may vanish at any time (another process evicting or
clearing): every file operation tolerates that.
"""
from __future__ import annotations

import collections
import contextlib
import hashlib
import os
import secrets
import stat
import struct
import time
import warnings

MAGIC = b"TFXXLA\0\0"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sIQ32s32s")  # magic, version, payload length, key sha, payload sha
SUFFIX = ".xex"
TMP_PREFIX = ".tmp-"
DEFAULT_MAX_BYTES = 1 << 30
RESCAN_EVERY = 64  # writes between directory scans (the size bound is soft across processes)
STALE_TMP_SECONDS = 3600.0  # temp files older than this are a crashed writer's leftovers
_O_NOFOLLOW, _O_NONBLOCK = getattr(os, "O_NOFOLLOW", 0), getattr(os, "O_NONBLOCK", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_HEX = frozenset("0123456789abcdef")

COUNTERS = ("hits", "misses", "writes", "corrupt_dropped", "evictions", "write_errors")
TOTALS: collections.Counter = collections.Counter()  # process-wide, over every DiskCache


class UntrustedCacheError(PermissionError):
    """The cache directory or an entry could have been written by someone else."""


class DiskCache:
    """A directory of checksummed entries with a total size bound and LRU eviction."""

    def __init__(self, directory: str, max_bytes: int = DEFAULT_MAX_BYTES):
        self.directory = os.path.abspath(os.fspath(directory))
        self.max_bytes = int(max_bytes)
        self.counts: collections.Counter = collections.Counter()
        self._total: int | None = None  # bytes in the directory at the last scan, plus writes
        self._since_scan = 0
        self.refused: str | None = None  # why this cache stopped trusting its directory
        _prepare_directory(self.directory)

    def _count(self, what: str) -> None:
        self.counts[what] += 1
        TOTALS[what] += 1

    def path(self, key: str | bytes) -> str:
        """The entry's file: always directly inside the directory, named by a hex digest."""
        return os.path.join(self.directory, _key_digest(key).hex() + SUFFIX)

    # ------------------------------------------------------------ reading
    def get(self, key: str | bytes) -> bytes | None:
        """The payload stored under `key`, or None (missing, or corrupt and now deleted).

        An entry that is a symlink, or owned or writable by someone else, is never read: the
        cache warns once and refuses everything from then on (`refused` says why).
        """
        if self.refused:
            return None
        path = self.path(key)
        try:  # NOTE: no symlinks (ELOOP), and a FIFO must not block us
            fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_BINARY)
        except OSError:
            if os.path.islink(path):
                self._refuse(f"entry {os.path.basename(path)} is a symlink")
            self._count("misses")
            return None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())  # NOTE: of what was opened, not of the name
            problem = _untrusted(st, "entry")
            if problem or not stat.S_ISREG(st.st_mode) or st.st_size > self.max_bytes:
                if problem:
                    self._refuse(f"{os.path.basename(path)}: {problem}")
                self._count("misses")
                return None
            ino = st.st_ino
            try:
                data = f.read()
            except OSError:
                self._count("misses")
                return None
        payload = _decode(data, _key_digest(key))
        if payload is None:
            self._count("corrupt_dropped")
            self._count("misses")
            self._remove_if_same(path, ino)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # last use, for LRU eviction
        self._count("hits")
        return payload

    def _refuse(self, why: str) -> None:
        if not self.refused:
            self.refused = why
            warn_once(f"tfx: persistent compile cache disabled for this process: {self.directory}"
                      f" is not safe to load native code from ({why}); it must be owned by you, "
                      "with no symlinks and writable by nobody else")

    def discard(self, key: str | bytes) -> None:
        """Delete an entry whose payload proved unusable (e.g. it failed to deserialize)."""
        if _unlink(self.path(key)):
            self._count("corrupt_dropped")

    def _remove_if_same(self, path: str, ino: int) -> None:
        # NOTE: another process may have replaced the corrupt file with a good one meanwhile
        with contextlib.suppress(OSError):
            if os.stat(path, follow_symlinks=False).st_ino == ino:
                os.unlink(path)

    # ------------------------------------------------------------ writing
    def put(self, key: str | bytes, payload: bytes) -> bool:
        """Store `payload` atomically; False when it was not stored (too big, I/O error, or the
        cache was refused)."""
        if self.refused:
            return False
        payload = bytes(payload)
        data = _HEADER.pack(MAGIC, FORMAT_VERSION, len(payload), _key_digest(key),
                            hashlib.sha256(payload).digest()) + payload
        if len(data) > self.max_bytes:
            return False
        tmp = os.path.join(self.directory,
                           f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY,
                         0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.path(key))
        except OSError as e:
            _unlink(tmp)
            self._count("write_errors")
            warn_once(f"tfx: could not write to the compile cache {self.directory}: "
                      f"{e.strerror or e}")
            return False
        self._count("writes")
        # NOTE: a full directory scan per write would cost more than compiling a small
        # program once there are thousands of entries: keep a running total, rescan when it
        # would pass the bound (or every RESCAN_EVERY writes, to see other processes' entries).
        self._since_scan += 1
        if self._total is None or self._total + len(data) > self.max_bytes \
                or self._since_scan >= RESCAN_EVERY:
            self.evict()
        else:
            self._total += len(data)
        return True

    # ------------------------------------------------------------ size bound
    def _scan(self) -> tuple[list[tuple[float, int, str]], list[tuple[float, str]]]:
        """(mtime, size, path) of every entry, and (mtime, path) of temp files."""
        entries, temps = [], []
        try:
            it = list(os.scandir(self.directory))
        except OSError:
            return entries, temps
        for e in it:
            try:
                if not e.is_file(follow_symlinks=False):
                    continue
                st = e.stat(follow_symlinks=False)
            except OSError:  # vanished under us
                continue
            if e.name.endswith(SUFFIX) and _is_hex(e.name[:-len(SUFFIX)]):
                entries.append((st.st_mtime, st.st_size, e.path))
            elif e.name.startswith(TMP_PREFIX):
                temps.append((st.st_mtime, e.path))
        return entries, temps

    def evict(self) -> int:
        """Delete least recently used entries until the total fits `max_bytes`; returns how many.

        Also removes stale temporary files left by writers that crashed.
        """
        entries, temps = self._scan()
        now = time.time()
        for mtime, p in temps:
            if now - mtime > STALE_TMP_SECONDS:
                _unlink(p)
        total = sum(size for _, size, _ in entries)
        n = 0
        for _, size, p in sorted(entries):
            if total <= self.max_bytes:
                break
            if _unlink(p):
                n += 1
                self._count("evictions")
            total -= size  # gone either way (maybe another process evicted it first)
        self._total, self._since_scan = total, 0
        return n

    # ------------------------------------------------------------ management
    def info(self) -> dict:
        entries, _ = self._scan()
        return {"directory": self.directory, "entries": len(entries),
                "bytes": sum(size for _, size, _ in entries), "max_bytes": self.max_bytes,
                **{k: self.counts[k] for k in COUNTERS}}

    def clear(self) -> None:
        """Delete every entry and temporary file (only files this cache names)."""
        entries, temps = self._scan()
        for p in [p for _, _, p in entries] + [p for _, p in temps]:
            _unlink(p)
        self._total, self._since_scan = 0, 0


def _key_digest(key: str | bytes) -> bytes:
    return hashlib.sha256(key.encode() if isinstance(key, str) else bytes(key)).digest()


def _decode(data: bytes, key_digest: bytes) -> bytes | None:
    if len(data) < _HEADER.size:
        return None
    magic, version, length, kd, sha = _HEADER.unpack_from(data)
    payload = data[_HEADER.size:]
    if (magic != MAGIC or version != FORMAT_VERSION or length != len(payload)
            or kd != key_digest or hashlib.sha256(payload).digest() != sha):
        return None
    return payload


def _is_hex(s: str) -> bool:
    return len(s) == 64 and set(s) <= _HEX


def _unlink(path: str) -> bool:
    try:
        return os.unlink(path) is None
    except OSError:
        return False


def _untrusted(st: os.stat_result, what: str, sticky_ok: bool = False) -> str | None:
    """Why a file or directory with this stat could hold someone else's bytes (None: it can't)."""
    if os.name != "posix":
        return None
    uid = os.getuid()
    if st.st_uid != uid and not (what == "parent" and st.st_uid == 0):
        return f"the {what} is owned by uid {st.st_uid}, not by you (uid {uid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not (sticky_ok and
                                                          st.st_mode & stat.S_ISVTX):
        who = "everyone" if st.st_mode & stat.S_IWOTH else "its group"
        return f"the {what} is writable by {who} (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def _prepare_directory(directory: str) -> None:
    """Create the directory (0o700) and check that only this user can have written it."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    st = os.lstat(directory)
    if stat.S_ISLNK(st.st_mode):
        raise UntrustedCacheError(f"{directory} is a symlink: the cache must be a real "
                                  "directory of yours")
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(directory)
    problem = _untrusted(st, "directory")
    if problem:
        raise UntrustedCacheError(f"{directory}: {problem}; other users could plant "
                                  "executables there")
    child, parent = directory, os.path.dirname(directory)
    while parent != child:  # up to the root: nobody else may swap the directory out
        problem = _untrusted(os.stat(parent), "parent", sticky_ok=True)
        if problem:
            raise UntrustedCacheError(f"{directory}: {parent} (above it): {problem}; another "
                                      "user could replace the cache directory")
        child, parent = parent, os.path.dirname(parent)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"{directory} is not writable")


# ---------------------------------------------------------------- the process's cache
_UNSET = object()
_override: object = _UNSET  # set_cache_dir's value: a path, None (disabled), or unset
_caches: dict[str, DiskCache | None] = {}  # directory -> cache (None: unusable, warned)


def default_directory() -> str | None:
    """The directory the environment selects: TFX_CACHE_DIR, else the user's cache dir."""
    env = os.environ.get("TFX_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "none") else os.path.expanduser(env)
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return os.path.join(os.environ["LOCALAPPDATA"], "tfx", "xla")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tfx", "xla")


def set_cache_dir(directory: str | os.PathLike | None) -> None:
    """Use `directory` from now on (None disables the disk cache) instead of the environment's."""
    global _override
    _override = None if directory is None else os.path.abspath(os.fspath(directory))


def reset_cache_dir() -> None:
    """Follow the environment again (undo `set_cache_dir`)."""
    global _override
    _override = _UNSET


def get_cache_dir() -> str | None:
    """The directory in use, or None when the disk cache is disabled."""
    d = default_directory() if _override is _UNSET else _override
    return None if d is None else os.path.abspath(d)


def default_cache() -> DiskCache | None:
    """The process's DiskCache, or None when disabled, unusable or untrusted (warned once)."""
    d = get_cache_dir()
    if d is None:
        return None
    cache = _caches.get(d)
    if cache is not None and cache.refused:
        return None
    if d not in _caches:
        try:
            _caches[d] = DiskCache(d)
        except OSError as e:
            _caches[d] = None
            warn_once(f"tfx: persistent compile cache disabled: cannot use {d} ({e}); set "
                      "TFX_CACHE_DIR or tx.config.set_compile_cache_dir() to change it")
    return _caches[d]


_warned: set[str] = set()


def warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def stats() -> dict[str, int]:
    """Process-wide counters over every DiskCache: hits, misses, writes, corrupt_dropped, ..."""
    return {k: TOTALS[k] for k in COUNTERS}
