"""StableHLO portable artifacts: written for a fixed compatibility window, for other tools.

tfx itself never deserializes one from a file (it compiles the verified IR); a loader checks a
stored artifact by lowering the IR again and comparing bytes, which is meaningful only when the
same lowering wrote it: `lowering_fingerprint` names that lowering.
"""
from __future__ import annotations

import functools
import hashlib
import os

from jaxlib.mlir.dialects import stablehlo as hlo

# WEEK_12: readable by StableHLO consumers up to ~12 weeks older than jaxlib 0.10.2, and by
# every newer one (StableHLO's compatibility guarantee), so artifacts outlive jaxlib upgrades.
TARGET = hlo.get_version_from_compatibility_requirement(
    hlo.StablehloCompatibilityRequirement.WEEK_12)


def to_portable(module_text: str) -> bytes:
    """Serialize StableHLO text as a versioned portable artifact (VHLO bytecode)."""
    return hlo.serialize_portable_artifact_str(module_text, TARGET)


@functools.cache
def lowering_fingerprint() -> str:
    """What determines the bytes `to_portable(lower_graph(g, options).text)` gives for a graph
    `g`, besides the options: the compiler's own source (op lowerings, passes) and jaxlib's
    version."""
    from jaxlib import version

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    h = hashlib.sha256(f"jaxlib {version.__version__}\0{TARGET}\0".encode())
    for directory, subdirs, files in sorted(os.walk(root)):
        subdirs.sort()
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                h.update(os.path.relpath(path, root).encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest()
