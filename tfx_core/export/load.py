"""`tx.saved_model.load`: read a saved model nobody vouches for, check all of it, compile its IR.

The order matters: sizes and counts are checked on the raw bytes (`LoadLimits`), then the zip,
checksums and the manifest's every field, then each signature's IR is parsed (within limits)
and verified. What runs is always that verified IR, lowered by this tfx: a stored StableHLO
artifact is never deserialized; when this same lowering wrote it, it must equal the IR's
lowering byte for byte, so a file cannot show one program and carry another.
"""
from __future__ import annotations

import os
import time
import warnings
from typing import Any

import numpy as np
from jax import tree_util

from compiler.ir.parser import ParseError, ParseLimits, parse_graph
from compiler.ir.types import DType
from compiler.ir.verify import VerificationError, verify_graph
from compiler.lowering.portable import lowering_fingerprint, to_portable
from compiler.lowering.stablehlo import LoweringError
from runtime import Executable, client, errors, lapack
from runtime.artifact import (
    DEFAULT_LIMITS,
    ArtifactError,
    LoadLimits,
    npy_to_array,
    over_limit,
    read_artifact,
)
from tfx_core import config
from tfx_core.export.manifest import check_manifest
from tfx_core.framework.convert import constant
from tfx_core.framework.tensor_spec import TensorSpec
from tfx_core.framework.variables import Variable
from tfx_core.polymorphic_function.concrete_function import Compiled, ConcreteFunction


class Loaded:
    """What `load` returns: `signatures[name]` (callable), each also an attribute; a single
    saved function is callable directly. `variables` are real tx.Variables."""

    def __init__(self, signatures: dict[str, ConcreteFunction], variables: list[Variable]):
        self.signatures = signatures
        self.variables = variables
        self.trainable_variables = [v for v in variables if v.trainable]
        for name, cf in signatures.items():
            if name.isidentifier() and not hasattr(self, name):  # never shadow our attributes
                setattr(self, name, cf)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if "__call__" in self.signatures:  # a saved Module's own __call__
            return self.signatures["__call__"](*args, **kwargs)
        if len(self.signatures) != 1:
            raise TypeError(f"this saved model has {len(self.signatures)} signatures "
                            f"({sorted(self.signatures)}); call one of them")
        return next(iter(self.signatures.values()))(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<tx.saved_model {sorted(self.signatures)}, {len(self.variables)} variables>"


def stablehlo_lowering_tag() -> str:
    """Which lowering wrote a StableHLO member: compiler source + jaxlib, platform, conv mode
    (the lowering options). A loader with the same tag reproduces the member's bytes from the
    IR exactly."""
    conv = config.lowering_options().conv_formulation
    return f"{lowering_fingerprint()}|{client.platform_version()}|{conv}"


def decode_structure(node: Any, leaf: Any) -> Any:
    """A structure node of the manifest (already checked) as Python tuples/lists/dicts."""
    (kind, body), = node.items()
    if kind == "none":
        return None
    if kind in ("t", "v"):
        return leaf(kind, body)
    if kind == "tuple":
        return tuple(decode_structure(x, leaf) for x in body)
    if kind == "list":
        return [decode_structure(x, leaf) for x in body]
    return {str(k): decode_structure(v, leaf) for k, v in body}


class Leaf:
    """A placeholder for the i-th leaf while a structure is rebuilt (or encoded, by save)."""

    __slots__ = ("i",)

    def __init__(self, i: int):
        self.i = i


def read_array(members: dict[str, bytes], name: str, dtype: str,
               shape: list | None = None) -> np.ndarray:
    """A `.npy` member as an array of the manifest's dtype (and shape), never unpickled."""
    a = npy_to_array(members[name], name)
    want = DType.from_any(dtype).np_dtype
    if a.dtype != want:
        if a.dtype.kind == "V" and a.dtype.itemsize == want.itemsize:
            a = a.view(want)  # bfloat16 & co. round-trip .npy as raw bytes
        else:
            raise ArtifactError(f"member {name!r} holds {a.dtype}, the manifest says {dtype}")
    if shape is not None and list(a.shape) != list(shape):
        raise ArtifactError(f"member {name!r} has shape {list(a.shape)}, the manifest says "
                            f"{list(shape)}")
    return a


def parse_signature_graph(name: str, entry: dict, members: dict[str, bytes], path: str,
                          limits: LoadLimits) -> Any:
    """Parse and verify one signature's IR member within `limits`."""
    member = entry["graph"]
    data = members[member]
    problem = over_limit(f"the size of {member!r} in bytes", len(data), limits.max_graph_bytes)
    if problem:
        raise ArtifactError(f"{path}: signature {name!r}: {problem}")
    parse_limits = ParseLimits(limits.max_ops, limits.max_nesting, limits.max_constant_bytes,
                               limits.max_tensor_bytes)
    try:
        graph = parse_graph(data.decode("utf-8"), parse_limits)
        verify_graph(graph)
    except (ParseError, VerificationError, UnicodeDecodeError, RecursionError) as e:
        raise ArtifactError(f"{path}: signature {name!r}: its IR is invalid (member "
                            f"{member!r}): {e}") from e
    return graph


def _load_function(name: str, entry: dict, members: dict[str, bytes], variables: list,
                   path: str, allow_compiled: bool, limits: LoadLimits) -> ConcreteFunction:
    graph = parse_signature_graph(name, entry, members, path, limits)

    def in_leaf(kind: str, body: Any) -> Any:
        if kind == "v":
            return body
        return TensorSpec(body["shape"], DType.from_any(body["dtype"]), body.get("name"))

    structure = decode_structure(entry["inputs"], in_leaf)
    in_leaves, in_tree = tree_util.tree_flatten(structure)
    tensor_idx = tuple(i for i, x in enumerate(in_leaves) if isinstance(x, TensorSpec))
    n_out = [0]

    def out_leaf(kind: str, body: Any) -> Any:
        n_out[0] += 1
        return Leaf(n_out[0] - 1)

    _, out_tree = tree_util.tree_flatten(decode_structure(entry["outputs"], out_leaf),
                                         is_leaf=lambda x: isinstance(x, Leaf))
    captures = [variables[c["variable"]] if "variable" in c
                else constant(read_array(members, c["constant"], c["dtype"]))
                for c in entry.get("captures", [])]
    updates = [variables[i] for i in entry.get("updates", [])]
    types_in = [s.type for s in in_leaves if isinstance(s, TensorSpec)]
    types_in += [getattr(x, "_type", None) or x.value()._type for x in captures]
    if tuple(types_in) != graph.input_types or \
            len(graph.outputs) != out_tree.num_leaves + len(updates):
        raise ArtifactError(f"{path}: signature {name!r}: the manifest's inputs/outputs do not "
                            "match its IR")
    cf = ConcreteFunction(name, graph, in_tree, in_leaves, tensor_idx, captures, out_tree, 0.0,
                          passes=tuple(entry.get("passes", ())), updates=updates)
    if not cf.is_static:  # compiled per concrete shape at call time, from the same IR
        return cf
    if allow_compiled and "compiled" in entry and _use_compiled(cf, name, entry, members, path):
        return cf
    try:
        compiled = cf.compiled_for(cf.input_types)
    except (errors.OpError, LoweringError) as e:
        raise ArtifactError(f"{path}: signature {name!r}: its program cannot be compiled: "
                            f"{e}") from e
    except Exception as e:  # a pass or lowering rule tripping over a strange (valid) graph
        raise ArtifactError(f"{path}: signature {name!r}: its program cannot be compiled: "
                            f"{type(e).__name__}: {e}") from e
    if "stablehlo" in entry and entry.get("stablehlo_lowering") == stablehlo_lowering_tag() \
            and _portable_or_none(compiled.lowered.text) != members[entry["stablehlo"]]:
        raise ArtifactError(
            f"{path}: signature {name!r}, member {entry['stablehlo']!r}: the StableHLO is not "
            "what the signature's IR lowers to (the file was modified after it was written): "
            "refusing a file that shows one program and carries another")
    return cf


def _portable_or_none(text: str) -> bytes | None:
    """The portable artifact of a lowering, or None when it has none (chlo ops: this lowering
    never wrote a StableHLO member for such a program)."""
    if "chlo." in text:
        return None
    try:
        return to_portable(text)
    except ValueError:
        return None


def compiled_for(device: Any) -> dict[str, str]:
    """What a serialized executable is valid for: it runs only where all of these match."""
    import hashlib

    options = client.compile_options_bytes(client.compile_options(device=device))
    return {"jaxlib": client.jaxlib_version(), "platform": client.platform_version(device),
            "options_sha256": hashlib.sha256(options).hexdigest()}


def _use_compiled(cf: ConcreteFunction, name: str, entry: dict, members: dict[str, bytes],
                  path: str) -> bool:
    """Install the bundled executable if it was built for exactly this setup (opt-in)."""
    info = entry["compiled"]
    here = compiled_for(client.default_device())
    differs = [k for k in here if info.get(k) != here[k]]
    if differs:
        warnings.warn(f"{path}: signature {name!r}: bundled executable is for another "
                      f"{'/'.join(differs)} ({', '.join(str(info.get(k)) for k in differs)}); "
                      "compiling instead", stacklevel=4)
        return False
    t0 = time.perf_counter()
    blob = members[info["member"]]
    lapack.prepare(blob)  # an executable calling LAPACK needs its kernels set up first
    try:
        loaded = client.deserialize_executable(blob)
    except Exception as e:  # a damaged blob: compile rather than fail
        warnings.warn(f"{path}: signature {name!r}: bundled executable did not load ({e}); "
                      "compiling instead", stacklevel=4)
        return False
    graph = cf.graph
    out_sig = [(t.shape, t.dtype.np_dtype) for t in graph.output_types]
    exe = Executable(name, loaded, out_sig, serialized=blob)
    cf.adopt_executable(Compiled(exe, graph.output_types, graph, graph, None, [],
                                 {"xla": 0.0, "deserialize": time.perf_counter() - t0}, True))
    return True


def read_checked(path: str, limits: LoadLimits = DEFAULT_LIMITS
                 ) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and members of a saved model, after the size limits, checksums and a check
    of every manifest field (what both `load` and `tfx inspect` read)."""
    manifest, members = read_artifact(path, limits)
    try:
        check_manifest(manifest, members, path)
    except RecursionError as e:
        raise ArtifactError(f"{path}: manifest: structures nested too deeply") from e
    return manifest, members


def load(path: str | os.PathLike, allow_compiled: bool = False,
         limits: LoadLimits | None = None) -> Loaded:
    """Load a file written by `save`; refuses anything malformed or not written by tfx.

    Args:
        path: the artifact file.
        allow_compiled: use bundled XLA executables (`save(..., include_compiled=True)`) when
            jaxlib, platform and compile options match. They are native code: only opt in for
            files you trust. Without it they are never deserialized.
        limits: size limits checked before anything is parsed (`tx.saved_model.LoadLimits`;
            default: `LoadLimits()`); raise them for big files you trust.

    Raises:
        ArtifactError: any defect of the file, naming the member or field and what is wrong.
    """
    path = os.fspath(path)
    limits = DEFAULT_LIMITS if limits is None else limits
    manifest, members = read_checked(path, limits)
    variables = [Variable(read_array(members, v["member"], v["dtype"], v["shape"]),
                          trainable=v["trainable"], name=v.get("name"))
                 for v in manifest.get("variables", [])]
    signatures = {str(n): _load_function(str(n), e, members, variables, path, allow_compiled,
                                         limits)
                  for n, e in manifest["functions"].items()}
    return Loaded(signatures, variables)
