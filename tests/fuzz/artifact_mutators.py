"""Byte-level and zip-structure mutators of saved-model files, as replayable recipes (data)."""
from __future__ import annotations

import random
import struct
from typing import Any

# Field name -> (offset, width) in a zip local header, central-directory entry and end record.
LOCAL = {"sig": (0, 4), "version": (4, 2), "flags": (6, 2), "method": (8, 2), "time": (10, 2),
         "date": (12, 2), "crc": (14, 4), "csize": (18, 4), "usize": (22, 4),
         "name_len": (26, 2), "extra_len": (28, 2)}
CENTRAL = {"sig": (0, 4), "made_by": (4, 2), "version": (6, 2), "flags": (8, 2),
           "method": (10, 2), "time": (12, 2), "date": (14, 2), "crc": (16, 4),
           "csize": (20, 4), "usize": (24, 4), "name_len": (28, 2), "extra_len": (30, 2),
           "comment_len": (32, 2), "disk": (34, 2), "int_attr": (36, 2), "ext_attr": (38, 4),
           "offset": (42, 4)}
END = {"sig": (0, 4), "disk": (4, 2), "cd_disk": (6, 2), "n_disk": (8, 2), "n_total": (10, 2),
       "cd_size": (12, 4), "cd_offset": (16, 4), "comment_len": (20, 2)}
REGIONS = {"local": LOCAL, "cd": CENTRAL, "end": END}


class Layout:
    """Offsets of an artifact's zip records (found through the end record, as readers do)."""

    def __init__(self, data: bytes):
        self.end = data.rfind(b"PK\x05\x06")
        if self.end < 0 or self.end + 22 > len(data):
            raise ValueError("no end record")
        n, size, start = struct.unpack_from("<HII", data, self.end + 10)
        self.cd_start, self.cd_size = start, size
        self.cd: list[int] = []
        self.local: list[int] = []
        pos = start
        for _ in range(n):
            if data[pos:pos + 4] != b"PK\x01\x02":
                raise ValueError("broken central directory")
            nl, xl, cl = struct.unpack_from("<HHH", data, pos + 28)
            self.cd.append(pos)
            self.local.append(struct.unpack_from("<I", data, pos + 42)[0])
            pos += 46 + nl + xl + cl

    def entry_end(self, data: bytes, k: int) -> int:
        nl, xl, cl = struct.unpack_from("<HHH", data, self.cd[k] + 28)
        return self.cd[k] + 46 + nl + xl + cl

    def record(self, region: str, k: int) -> int:
        return {"local": self.local, "cd": self.cd}[region][k] if region != "end" else self.end


# ---------------------------------------------------------------- raw bytes
def plan_raw(data: bytes, rng: random.Random) -> dict:
    """1-8 edits anywhere, a third of them aimed at the zip records (headers, directory)."""
    try:
        lay = Layout(data)
        hot = lay.local + lay.cd + [lay.end]
    except ValueError:
        hot = [0]
    edits = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 5, 8])):
        if rng.random() < 0.35:
            off = rng.choice(hot) + rng.randrange(46)
        else:
            off = rng.randrange(len(data))
        op = rng.choices(["flip", "set", "truncate", "insert", "delete"], [5, 4, 1, 2, 2])[0]
        if op == "flip":
            edits.append(["flip", off, rng.choice([0xFF, 0x01, 0x80, 1 << rng.randrange(8)])])
        elif op == "set":
            edits.append(["set", off, rng.randbytes(rng.choice([1, 1, 2, 4, 8])).hex()])
        elif op == "truncate":
            edits.append(["truncate", rng.choice([off, len(data) - rng.randrange(1, 64)])])
        elif op == "insert":
            edits.append(["insert", off, rng.randbytes(rng.choice([1, 2, 4, 30, 64])).hex()])
        else:
            edits.append(["delete", off, rng.choice([1, 2, 4, 30, 64])])
    return {"kind": "raw", "edits": edits}


def apply_raw(data: bytes, recipe: dict) -> bytes:
    d = bytearray(data)
    for op, *args in recipe["edits"]:
        off = args[0] % max(len(d), 1)  # earlier edits may have shortened the file
        if op == "flip" and d:
            d[off] ^= args[1]
        elif op == "set":
            new = bytes.fromhex(args[1])
            d[off:off + len(new)] = new
        elif op == "truncate":
            del d[args[0]:]
        elif op == "insert":
            d[off:off] = bytes.fromhex(args[1])
        elif op == "delete":
            del d[off:off + args[1]]
    return bytes(d)


# ---------------------------------------------------------------- zip records
def _field_values(cur: int, width: int, name: str, file_len: int, rng: random.Random) -> int:
    top = (1 << (8 * width)) - 1
    special = {"method": [8, 12, 14, 93, 99, 1, 0xFFFF],
               "flags": [0x1, 0x8, 0x40, 0x800, 0x2000, 0x41, 0xFFFF],
               "version": [0, 45, 63, 99, 0xFFFF]}.get(name, [])
    pool = [0, 1, top, top - 1, cur + 1, cur - 1, cur * 2, cur // 2, file_len, file_len + 1,
            rng.randrange(top + 1), *special]
    return rng.choice(pool) & top


def plan_zip(data: bytes, rng: random.Random) -> dict:
    """Edits of zip record fields (sizes, offsets, name lengths, method, flags, counts) and of
    the directory's shape (duplicated, dropped, swapped, renamed entries, junk)."""
    lay = Layout(data)
    n = len(lay.cd)
    edits: list[list] = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        op = rng.choices(["field", "dup", "drop", "swap", "rename", "comment", "prepend"],
                         [10, 2, 1, 1, 2, 1, 1])[0]
        if op == "field":
            region = rng.choice(["local", "cd", "cd", "end"])
            k = rng.randrange(n)
            name = rng.choice(sorted(REGIONS[region]))
            off, width = REGIONS[region][name]
            at = lay.record(region, k) + off
            cur = int.from_bytes(data[at:at + width], "little")
            edits.append(["field", region, k, name,
                          _field_values(cur, width, name, len(data), rng)])
        elif op in ("dup", "drop"):
            edits.append([op, rng.randrange(n)])
        elif op == "swap":
            edits.append(["swap", rng.randrange(n), rng.randrange(n)])
        elif op == "rename":
            names = _names(data, lay)
            new = rng.choice([*names, "../evil", "manifest.json", "a" * 300, "x/", "",
                              names[0].upper(), names[-1] + "\x00", "é.npy"])
            edits.append(["rename", rng.randrange(n), new.encode().hex(),
                          rng.choice(["cd", "both"])])
        elif op == "comment":
            edits.append(["comment", rng.randbytes(rng.choice([1, 22, 200])).hex()])
        else:
            edits.append(["prepend", rng.choice([b"PK\x05\x06" + bytes(18), rng.randbytes(37),
                                                 b"PK\x03\x04"]).hex()])
    return {"kind": "zip", "edits": edits}


def _names(data: bytes, lay: Layout) -> list[str]:
    out = []
    for c in lay.cd:
        nl = struct.unpack_from("<H", data, c + 28)[0]
        out.append(data[c + 46:c + 46 + nl].decode("utf-8", "replace"))
    return out


def _fix_end(d: bytearray, lay: Layout, n: int, cd_size: int, cd_offset: int) -> None:
    struct.pack_into("<HHII", d, lay.end + 8, n, n, cd_size, cd_offset)


def apply_zip(data: bytes, recipe: dict) -> bytes:
    d = bytearray(data)
    for op, *args in recipe["edits"]:
        try:  # an earlier edit may have broken the records this one needs: then it is skipped
            lay = Layout(bytes(d))
            k = args[0] % len(lay.cd) if op in ("dup", "drop", "swap", "rename") else 0
        except (ValueError, struct.error, ZeroDivisionError):
            continue
        if op == "field":
            region, k, name, value = args
            recs = {"local": lay.local, "cd": lay.cd, "end": [lay.end]}[region]
            if not recs:
                continue
            off, width = REGIONS[region][name]
            at = recs[k % len(recs)] + off
            if at + width <= len(d):
                d[at:at + width] = value.to_bytes(width, "little")
        elif op in ("dup", "drop", "swap"):
            entries = [bytes(d[c:lay.entry_end(bytes(d), i)]) for i, c in enumerate(lay.cd)]
            if op == "dup":
                entries.append(entries[k])
            elif op == "drop":
                del entries[k]
            else:
                j = args[1] % len(entries)
                entries[k], entries[j] = entries[j], entries[k]
            cd = b"".join(entries)
            tail = bytearray(d[lay.end:])
            d = d[:lay.cd_start] + cd
            lay.end = len(d)
            d += tail
            _fix_end(d, lay, len(entries), len(cd), lay.cd_start)
        elif op == "rename":
            try:  # (a field edited before may point anywhere)
                d = _rename(bytearray(d), lay, k, bytes.fromhex(args[1]), args[2] == "both")
            except (struct.error, IndexError):
                continue
        elif op == "comment":
            extra = bytes.fromhex(args[0])
            struct.pack_into("<H", d, lay.end + 20, len(extra))
            del d[lay.end + 22:]
            d += extra
        elif op == "prepend":
            d[0:0] = bytes.fromhex(args[0])
    return bytes(d)


def _rename(d: bytearray, lay: Layout, k: int, new: bytes, both: bool) -> bytearray:
    """Rename entry k in the directory (and its local header): offsets after it are shifted."""
    c = lay.cd[k]
    old_len = struct.unpack_from("<H", d, c + 28)[0]
    delta = len(new) - old_len
    d[c + 46:c + 46 + old_len] = new
    struct.pack_into("<H", d, c + 28, len(new))
    cd_size, cd_offset = lay.cd_size + delta, lay.cd_start
    if both:
        lo = lay.local[k]
        lo_len = struct.unpack_from("<H", d, lo + 26)[0]
        d[lo + 30:lo + 30 + lo_len] = new
        struct.pack_into("<H", d, lo + 26, len(new))
        shift = len(new) - lo_len
        cd_offset += shift
        # every header after this one moved by `shift`: fix the directory's offsets
        pos = lay.cd_start + shift
        for _ in lay.cd:
            nl, xl, cl = struct.unpack_from("<HHH", d, pos + 28)
            off = struct.unpack_from("<I", d, pos + 42)[0]
            if off > lo:
                struct.pack_into("<I", d, pos + 42, (off + shift) & 0xFFFFFFFF)
            pos += 46 + nl + xl + cl
    end = d.rfind(b"PK\x05\x06")
    struct.pack_into("<II", d, end + 12, cd_size & 0xFFFFFFFF, cd_offset & 0xFFFFFFFF)
    return d


def describe(recipe: dict) -> str:
    """A short one-line form of a recipe for progress output."""
    kind = recipe["kind"]
    if kind == "combo":
        return " + ".join(describe(p) for p in recipe["parts"])
    body = recipe.get("edits") or recipe.get("ops") or recipe.get("mode")
    text = f"{kind}{'/' + recipe['member'] if 'member' in recipe else ''}: {body}"
    return text if len(text) < 160 else text[:157] + "..."


def is_json_data(x: Any) -> bool:
    """Recipes are plain JSON data (so they replay from a file; never pickled)."""
    if isinstance(x, dict):
        return all(isinstance(k, str) and is_json_data(v) for k, v in x.items())
    if isinstance(x, list):
        return all(is_json_data(v) for v in x)
    return x is None or isinstance(x, (bool, int, float, str))


# ---------------------------------------------------------------- overlapping members
def plan_overlap(data: bytes, rng: random.Random) -> dict:
    """Extra listed members whose stored data regions overlap (a "quoted-overlap" zip bomb):
    every CRC and checksum is right, so only an overlap check can refuse it."""
    return {"kind": "overlap", "members": rng.choice([2, 3, 8, 64]),
            "blob": rng.choice([1, 100, 4096])}


def _local_header(name: bytes, crc: int, size: int) -> bytes:
    return struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0x21, crc, size, size,
                       len(name), 0) + name


def overlapped_zip(entries: dict[str, bytes], extra: int, blob: int) -> bytes:
    """`entries` stored normally after `extra` members x/0.. whose data each runs from the end
    of its own local header over all the later ones and a zero blob; manifest.json (first in
    `entries`) lists them all, hashed as a forger would."""
    import hashlib
    import json
    import zlib

    names = [f"x/{k}".encode() for k in range(extra)]
    suffix = bytes(blob)
    sizes, crcs = [0] * extra, [0] * extra
    for k in reversed(range(extra)):  # each header holds the CRC of everything after it
        sizes[k], crcs[k] = len(suffix), zlib.crc32(suffix)
        suffix = _local_header(names[k], crcs[k], sizes[k]) + suffix
    man = json.loads(entries["manifest.json"])
    pos = 0
    directory = []
    for k, name in enumerate(names):
        data = suffix[pos + 30 + len(name):]
        man["members"][name.decode()] = {"size": len(data),
                                         "sha256": hashlib.sha256(data).hexdigest()}
        directory.append((name, crcs[k], sizes[k], pos))
        pos += 30 + len(name)
    out = bytearray(suffix)
    body = {**entries, "manifest.json": json.dumps(man).encode()}
    for name, data in body.items():
        directory.append((name.encode(), zlib.crc32(data), len(data), len(out)))
        out += _local_header(name.encode(), zlib.crc32(data), len(data)) + data
    start = len(out)
    for name, crc, size, offset in directory:
        out += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, crc,
                           size, size, len(name), 0, 0, 0, 0, 0, offset) + name
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(directory), len(directory),
                       len(out) - start, start, 0)
    return bytes(out)


def apply_overlap(data: bytes, recipe: dict) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    return overlapped_zip(entries, recipe["members"], recipe["blob"])
