"""`Dataset.cache(filename)`: the first complete pass written to a data-only file, replayed after.

The file (`{filename}.tfxcache`) is a zip of `.npy` members (no pickle) plus a JSON manifest of
the element count and the components' dtypes and shapes. It is written while the pass runs
(elements stream to disk, nothing piles up in memory) into a temporary file that replaces the
final name only when the pass completes, so a pass stopped early, or a crash, leaves no cache
(the next pass runs the parent again, as TF). A cache file present when a pass starts is
replayed without running the parent, also by another process; one written for a different
element_spec is refused.
"""
from __future__ import annotations

import json
import os
import secrets
import zipfile
from collections.abc import Iterator

import numpy as np

from tfx_core.data import structure as st
from tfx_core.errors import InvalidArgumentError

SUFFIX = ".tfxcache"


def _spec_rows(spec: object) -> list[list]:
    return [[s.dtype.name, [None if d is None else int(d) for d in s.shape]]
            for s in st.flatten(spec)]


def _refuse(path: str, what: str) -> InvalidArgumentError:
    return InvalidArgumentError(None, None, f"Dataset.cache: {path}: {what} (delete the file to "
                                            "rebuild the cache)")


def _read(path: str, spec: object) -> Iterator[list]:
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise _refuse(path, f"not a readable cache file ({e})") from None
    with z:
        try:
            yield from _members(z, path, spec)
        except InvalidArgumentError:
            raise
        except (KeyError, ValueError, zipfile.BadZipFile) as e:  # a member missing or bad
            raise _refuse(path, f"damaged ({type(e).__name__}: {e})") from None


def _members(z: zipfile.ZipFile, path: str, spec: object) -> Iterator[list]:
    manifest = json.loads(z.read("manifest.json"))
    if not isinstance(manifest, dict) or manifest.get("spec") != _spec_rows(spec):
        got = manifest.get("spec") if isinstance(manifest, dict) else manifest
        raise _refuse(path, f"written for elements {got}, this dataset's are "
                            f"{_spec_rows(spec)}")
    count = manifest.get("count")
    if type(count) is not int or count < 0:
        raise _refuse(path, f"bad element count {count!r}")
    specs = st.flatten(spec)
    for i in range(count):
        leaves = []
        for j, s in enumerate(specs):
            with z.open(f"{i}/{j}.npy") as f:
                a = np.lib.format.read_array(f, allow_pickle=False)
            want = np.dtype(s.dtype.np_dtype)
            if a.dtype != want:  # bfloat16 and friends come back as raw void bytes
                if a.dtype.itemsize != want.itemsize:
                    raise _refuse(path, f"element {i} component {j} has dtype {a.dtype}")
                a = a.view(want)
            if not s.is_compatible_with(st.spec_of(a)):
                raise _refuse(path, f"element {i} component {j} has shape {list(a.shape)}")
            leaves.append(a)
        yield leaves


def cache_to_file(stage: st.Stage, filename: str) -> st.Stage:
    """The parent's first complete pass kept in `{filename}.tfxcache`; later passes (and other
    processes) replay the file."""
    make, spec, card = stage
    path = os.fspath(filename) + SUFFIX

    def make_iter() -> Iterator[list]:
        if os.path.exists(path):
            yield from _read(path, spec)
            return
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        tmp = f"{path}.tmp-{secrets.token_hex(6)}"
        done = False
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
                count = 0
                for leaves in make():
                    host = [st.to_host(leaf) for leaf in leaves]
                    for j, a in enumerate(host):
                        with z.open(f"{count}/{j}.npy", "w", force_zip64=True) as f:
                            np.lib.format.write_array(f, a, allow_pickle=False)
                    count += 1
                    yield leaves
                z.writestr("manifest.json", json.dumps({"count": count,
                                                        "spec": _spec_rows(spec)}))
            os.replace(tmp, path)  # NOTE: atomic, so a reader never sees half a cache
            done = True
        finally:
            if not done and os.path.exists(tmp):
                os.unlink(tmp)

    return make_iter, spec, card


__all__ = ["SUFFIX", "cache_to_file"]
