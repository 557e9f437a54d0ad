"""`tx.saved_model`: save compiled functions (and their Variables) to one data-only file, and
load them in a process that has no source code.

What is stored (see docs/format.md): per signature our IR text (the traced graph, `None` dims
kept), the input/output structure as JSON, the StableHLO portable artifact of the compiled
program when the signature is static, and every Variable / captured tensor as a plain `.npy`.
Loading parses, verifies and checks everything; it never runs code from the file.
"""
from __future__ import annotations

import hashlib
import os
import time
import warnings
from typing import Any

import numpy as np
from jax import tree_util

from compiler.ir.parser import ParseError, parse_graph
from compiler.ir.printer import print_graph
from compiler.ir.types import DType
from compiler.ir.verify import VerificationError, verify_graph
from compiler.lowering.portable import UntrustedModuleError, from_portable, to_portable
from compiler.passes import DEFAULT_PIPELINE, PASSES
from runtime import Executable, client, compile_stablehlo
from runtime.artifact import (
    ArtifactError,
    array_to_npy,
    npy_to_array,
    read_artifact,
    write_artifact,
)

from .concrete_function import Compiled, ConcreteFunction
from .convert import constant
from .function import Function
from .tensor_spec import TensorSpec
from .variables import Variable

__all__ = ["ArtifactError", "export_stablehlo", "load", "save"]

PRODUCER = "tfx 0.1"


# ---------------------------------------------------------------- structures <-> JSON
class _Leaf:
    __slots__ = ("i",)

    def __init__(self, i: int):
        self.i = i


def _encode(obj: Any, leaf: Any, where: str) -> Any:
    if isinstance(obj, _Leaf):
        return leaf(obj.i)
    if obj is None:
        return {"none": 0}
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return {"tuple": [_encode(x, leaf, where) for x in obj]}
    if isinstance(obj, list):
        return {"list": [_encode(x, leaf, where) for x in obj]}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(f"tx.saved_model.save: {where}: dict keys must be strings to save")
        return {"dict": [[k, _encode(v, leaf, where)] for k, v in obj.items()]}
    raise TypeError(f"tx.saved_model.save: {where}: cannot save a {type(obj).__name__} in the "
                    "structure (tensors in tuples, lists, string-keyed dicts and None can)")


def _decode(node: Any, leaf: Any) -> Any:
    if not isinstance(node, dict) or len(node) != 1:
        raise ArtifactError(f"bad structure node {node!r}")
    (kind, body), = node.items()
    if kind == "none":
        return None
    if kind in ("t", "v"):
        return leaf(kind, body)
    if kind == "tuple":
        return tuple(_decode(x, leaf) for x in body)
    if kind == "list":
        return [_decode(x, leaf) for x in body]
    if kind == "dict":
        return {str(k): _decode(v, leaf) for k, v in body}
    raise ArtifactError(f"unknown structure node kind {kind!r}")


def _spec_json(spec: TensorSpec) -> dict:
    return {"shape": list(spec.shape), "dtype": spec.dtype.name, "name": spec.name}


def _spec_from_json(d: dict) -> TensorSpec:
    try:
        return TensorSpec([None if x is None else int(x) for x in d["shape"]],
                          DType.from_any(d["dtype"]), d.get("name"))
    except (KeyError, TypeError, ValueError) as e:
        raise ArtifactError(f"bad tensor spec {d!r}: {e}") from e


# ---------------------------------------------------------------- save
def _concrete_functions(obj: Any, signatures: Any) -> dict[str, ConcreteFunction]:
    def concrete(f: Any, name: str) -> ConcreteFunction:
        if isinstance(f, ConcreteFunction):
            return f
        if isinstance(f, Function):
            if f.input_signature is not None:
                return f.get_concrete_function()
            traced = list(dict.fromkeys(f._cache.values()))
            if len(traced) == 1:
                return traced[0]
            raise ValueError(f"tx.saved_model.save: {name!r} has no input_signature and was "
                             f"traced {len(traced)} times; give input_signature or pass "
                             "f.get_concrete_function(...) in signatures")
        raise TypeError(f"tx.saved_model.save: {name!r} is a {type(f).__name__}, not a "
                        "tx.function or ConcreteFunction")

    if signatures is not None:
        if not isinstance(signatures, dict):
            signatures = {"serving_default": signatures}
        return {str(k): concrete(v, str(k)) for k, v in signatures.items()}
    if isinstance(obj, (Function, ConcreteFunction)):
        return {"serving_default": concrete(obj, "serving_default")}
    found = {}
    for name in sorted(dir(type(obj))):
        if isinstance(getattr(type(obj), name, None), Function):
            f = getattr(obj, name)
            if f.input_signature is not None or f._cache:
                found[name] = concrete(f, name)
    if not found:
        raise ValueError(f"tx.saved_model.save: {type(obj).__name__} has no tx.function "
                         "methods with an input_signature (or traced once) to save")
    return found


def save(obj: Any, path: str, signatures: Any = None, include_compiled: bool = False) -> None:
    """Save `obj` (a tx.function, ConcreteFunction or tx.Module) to the file `path`.

    Args:
        obj: what to save. A Module's tx.function methods become signatures by name.
        path: the artifact file (written atomically: temp file, then rename).
        signatures: a function or {name: function} to save instead of obj's methods.
        include_compiled: also store the XLA executables of static signatures for this
            platform (native code: `load` uses them only with `allow_compiled=True`).
    """
    fns = _concrete_functions(obj, signatures)
    members: dict[str, bytes] = {}
    var_index: dict[int, int] = {}
    variables: list[dict] = []
    functions: dict[str, dict] = {}

    def store(x: Any) -> dict:
        if isinstance(x, Variable):
            if id(x) not in var_index:
                var_index[id(x)] = len(variables)
                member = f"variables/{len(variables)}.npy"
                members[member] = array_to_npy(x.numpy())
                variables.append({"name": x.name, "trainable": bool(x.trainable),
                                  "dtype": x.dtype.name, "shape": list(x.shape),
                                  "member": member})
            return {"variable": var_index[id(x)]}
        member = f"constants/{len(members)}.npy"
        members[member] = array_to_npy(np.asarray(x))
        return {"constant": member, "dtype": x.dtype.name}

    for k, (name, cf) in enumerate(fns.items()):
        n_in = len(cf._in_leaves)
        tset = {i: j for j, i in enumerate(cf._tensor_idx)}

        def in_leaf(i: int, cf=cf, tset=tset, name=name) -> dict:
            if i in tset:
                return {"t": _spec_json(cf._in_leaves[i]) | {"index": tset[i]}}
            v = cf._in_leaves[i]
            if not isinstance(v, (bool, int, float, str)) and v is not None:
                raise TypeError(f"tx.saved_model.save: {name!r}: static argument {v!r} of "
                                f"type {type(v).__name__} cannot be saved")
            return {"v": v}

        inputs = _encode(tree_util.tree_unflatten(cf._in_tree, [_Leaf(i) for i in range(n_in)]),
                         in_leaf, name)
        outputs = _encode(tree_util.tree_unflatten(
            cf._out_tree, [_Leaf(i) for i in range(cf._out_tree.num_leaves)]),
            lambda i: {"t": {"index": i}}, name)
        ir_member = f"functions/{k}.tfx"
        members[ir_member] = print_graph(cf.graph).encode()
        entry = {"graph": ir_member, "inputs": inputs, "outputs": outputs,
                 "passes": list(cf.passes),
                 "captures": [store(x) for x in cf._captures],
                 "updates": [store(v)["variable"] for v in cf._updates]}
        if cf._static:  # a fixed program: ship XLA's input as a versioned portable artifact
            c = cf.compiled_for(cf.input_types)
            if "chlo." not in c.lowered.text:
                # NOTE: chlo ops (erf) have no portable (VHLO) form and jaxlib's Python
                # bindings expose no pass to expand them; such programs load from the IR.
                member = f"functions/{k}.stablehlo"
                members[member] = to_portable(c.lowered.text)
                entry["stablehlo"] = member
            if include_compiled:
                member = f"compiled/{k}.xla"
                members[member] = client.serialize_executable(c.exe.loaded)
                entry["compiled"] = {"member": member, **_compiled_for(c.exe.device)}
        functions[name] = entry
    manifest = {"producer": PRODUCER, "functions": functions, "variables": variables}
    write_artifact(os.fspath(path), manifest, members)


# ---------------------------------------------------------------- load
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


def _array(members: dict[str, bytes], name: str, dtype: str,
           shape: list | None = None) -> np.ndarray:
    if name not in members:
        raise ArtifactError(f"member {name!r} is missing")
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


def _load_function(name: str, entry: dict, members: dict[str, bytes], variables: list,
                   path: str, allow_compiled: bool = False) -> ConcreteFunction:
    try:
        graph = parse_graph(members[entry["graph"]].decode("utf-8"))
        verify_graph(graph)
    except (ParseError, VerificationError, UnicodeDecodeError, KeyError, RecursionError) as e:
        raise ArtifactError(f"{path}: signature {name!r}: its IR is invalid: {e}") from e
    specs: list[Any] = []

    def in_leaf(kind: str, body: Any) -> Any:
        if kind == "v":
            return body
        spec = _spec_from_json(body)
        specs.append((body.get("index"), spec))
        return spec

    structure = _decode(entry["inputs"], in_leaf)
    if not (isinstance(structure, tuple) and len(structure) == 2):
        raise ArtifactError(f"{path}: signature {name!r}: inputs are not (args, kwargs)")
    in_leaves, in_tree = tree_util.tree_flatten(structure)
    tensor_idx = tuple(i for i, x in enumerate(in_leaves) if isinstance(x, TensorSpec))
    n_out = [0]

    def out_leaf(kind: str, body: Any) -> Any:
        n_out[0] += 1
        return _Leaf(n_out[0] - 1)

    _, out_tree = tree_util.tree_flatten(_decode(entry["outputs"], out_leaf),
                                         is_leaf=lambda x: isinstance(x, _Leaf))
    captures = []
    for c in entry["captures"]:
        if "variable" in c:
            captures.append(variables[c["variable"]])
        else:
            captures.append(constant(_array(members, c["constant"], c["dtype"])))
    updates = [variables[i] for i in entry["updates"]]
    types_in = [s.type for s in in_leaves if isinstance(s, TensorSpec)]
    types_in += [getattr(x, "_type", None) or x.value()._type for x in captures]
    if tuple(types_in) != graph.input_types or \
            len(graph.outputs) != out_tree.num_leaves + len(updates):
        raise ArtifactError(f"{path}: signature {name!r}: the manifest's inputs/outputs do not "
                            "match its IR")
    passes = entry.get("passes", list(DEFAULT_PIPELINE))
    if not isinstance(passes, list) or not all(isinstance(p, str) and p in PASSES
                                               for p in passes):
        raise ArtifactError(f"{path}: signature {name!r}: unknown passes {passes!r}")
    cf = ConcreteFunction(name, graph, in_tree, in_leaves, tensor_idx, captures, out_tree, 0.0,
                          passes=tuple(passes), updates=updates)
    if allow_compiled and "compiled" in entry and cf._static and \
            _use_compiled(cf, name, entry, members, path):
        return cf
    if "stablehlo" in entry and cf._static:
        try:  # allowlist- and signature-checked
            module = from_portable(members[entry["stablehlo"]], graph.input_types,
                                   graph.output_types)
        except UntrustedModuleError as e:
            raise ArtifactError(f"{path}: signature {name!r}, member {entry['stablehlo']!r}: "
                                f"{e}") from e
        out_sig = [(t.shape, t.dtype.np_dtype) for t in graph.output_types]
        exe, stats = compile_stablehlo(module, out_sig, name=name,
                                       cache_key="portable:" + hashlib.sha256(module).hexdigest())
        cf._single = Compiled(exe, graph.output_types, graph, graph, None, [],
                              {"xla": stats.xla_seconds}, stats.cache_hit, stats.disk_hit)
    return cf


def _compiled_for(device: Any) -> dict[str, str]:
    """What a serialized executable is valid for: it runs only where all of these match."""
    options = client.compile_options_bytes(client.compile_options(device=device))
    return {"jaxlib": client.jaxlib_version(), "platform": client.platform_version(device),
            "options_sha256": hashlib.sha256(options).hexdigest()}


def _use_compiled(cf: ConcreteFunction, name: str, entry: dict, members: dict[str, bytes],
                  path: str) -> bool:
    """Install the bundled executable if it was built for exactly this setup (opt-in)."""
    info = entry["compiled"]
    here = _compiled_for(client.default_device())
    differs = [k for k in here if info.get(k) != here[k]]
    if differs:
        warnings.warn(f"{path}: signature {name!r}: bundled executable is for another "
                      f"{'/'.join(differs)} ({', '.join(str(info.get(k)) for k in differs)}); "
                      "compiling instead", stacklevel=3)
        return False
    t0 = time.perf_counter()
    try:
        loaded = client.deserialize_executable(members[info["member"]])
    except Exception as e:  # a damaged blob: compile rather than fail
        warnings.warn(f"{path}: signature {name!r}: bundled executable did not load ({e}); "
                      "compiling instead", stacklevel=3)
        return False
    graph = cf.graph
    out_sig = [(t.shape, t.dtype.np_dtype) for t in graph.output_types]
    cf._single = Compiled(Executable(name, loaded, out_sig), graph.output_types, graph, graph,
                          None, [], {"xla": 0.0, "deserialize": time.perf_counter() - t0}, True)
    return True


def load(path: str, allow_compiled: bool = False) -> Loaded:
    """Load a file written by `save`; refuses anything malformed or not written by tfx.

    Args:
        path: the artifact file.
        allow_compiled: use bundled XLA executables (`save(..., include_compiled=True)`) when
            jaxlib, platform and compile options match. They are native code: only opt in for
            files you trust. Without it they are never deserialized.
    """
    path = os.fspath(path)
    manifest, members = read_artifact(path)
    try:
        variables = [Variable(_array(members, v["member"], v["dtype"], v["shape"]),
                              trainable=bool(v["trainable"]), name=v.get("name"))
                     for v in manifest.get("variables", [])]
        functions = manifest["functions"]
        signatures = {str(n): _load_function(str(n), e, members, variables, path,
                                             allow_compiled)
                      for n, e in functions.items()}
    except UntrustedModuleError as e:
        raise ArtifactError(f"{path}: {e}") from e
    except (KeyError, TypeError, IndexError, AttributeError) as e:
        raise ArtifactError(f"{path}: the manifest is malformed: {e!r}") from e
    return Loaded(signatures, variables)


def export_stablehlo(f: Any, path: str, *specs: Any, portable: bool = False) -> None:
    """Write the StableHLO of `f` for `specs` (static shapes) for other tools: text, or a
    versioned portable artifact (bytecode) with `portable=True`."""
    cf = f if isinstance(f, ConcreteFunction) else f.get_concrete_function(*specs)
    if not cf._static:
        raise ValueError("export_stablehlo needs static shapes; give concrete TensorSpecs")
    text = cf.compiled_for(cf.input_types).lowered.text
    data = to_portable(text) if portable else text.encode()
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)

