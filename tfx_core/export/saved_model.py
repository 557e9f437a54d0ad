"""`tx.saved_model`: save compiled functions (and their Variables) to one data-only file, and
load them in a process that has no source code.

What is stored (see docs/format.md): per signature our IR text (the traced graph, `None` dims
kept), the input/output structure as JSON, the StableHLO portable artifact of the compiled
program when the signature is static, and every Variable / captured tensor as a plain `.npy`.
Loading parses, verifies and checks everything; it never runs code from the file.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
from jax import tree_util

from compiler.ir.printer import print_graph
from compiler.lowering.portable import to_portable
from runtime.artifact import ArtifactError, LoadLimits, array_to_npy, write_artifact
from tfx_core import config
from tfx_core.export.load import Leaf, Loaded, compiled_for, load, stablehlo_lowering_tag
from tfx_core.framework.tensor_spec import TensorSpec
from tfx_core.framework.variables import Variable
from tfx_core.polymorphic_function.concrete_function import ConcreteFunction
from tfx_core.polymorphic_function.function import Function

__all__ = ["ArtifactError", "LoadLimits", "Loaded", "export_stablehlo", "load", "save"]

PRODUCER = "tfx 0.1"


# ---------------------------------------------------------------- structures -> JSON
def _encode(obj: Any, leaf: Any, where: str) -> Any:
    if isinstance(obj, Leaf):
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


def _spec_json(spec: TensorSpec) -> dict:
    return {"shape": list(spec.shape), "dtype": spec.dtype.name, "name": spec.name}


def _ir_text(graph: Any) -> str:
    """The IR with each op's source location as a comment (`# file.py:12`: base names only,
    so the bytes don't depend on where the code lives; the parser skips comments). A location
    holding a line break would end its comment early: such a graph is written without them."""
    locs = not any("\n" in (op.loc or "") or "\r" in (op.loc or "") for op in graph.ops)
    return print_graph(graph, locs=locs)


# ---------------------------------------------------------------- save
def _concrete_functions(obj: Any, signatures: Any) -> dict[str, ConcreteFunction]:
    def concrete(f: Any, name: str) -> ConcreteFunction:
        if isinstance(f, ConcreteFunction):
            return f
        if isinstance(f, Function):
            if f.input_signature is not None:
                return f.get_concrete_function()
            traced = f.list_concrete_functions()
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
            if f.input_signature is not None or f.list_concrete_functions():
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
        in_leaves = cf.in_leaves
        n_in = len(in_leaves)
        tset = {i: j for j, i in enumerate(cf.tensor_indices)}

        def in_leaf(i: int, in_leaves=in_leaves, tset=tset, name=name) -> dict:
            if i in tset:
                return {"t": _spec_json(in_leaves[i]) | {"index": tset[i]}}
            v = in_leaves[i]
            if not isinstance(v, (bool, int, float, str)) and v is not None:
                raise TypeError(f"tx.saved_model.save: {name!r}: static argument {v!r} of "
                                f"type {type(v).__name__} cannot be saved")
            return {"v": v}

        inputs = _encode(tree_util.tree_unflatten(cf.in_tree, [Leaf(i) for i in range(n_in)]),
                         in_leaf, name)
        outputs = _encode(tree_util.tree_unflatten(
            cf.out_tree, [Leaf(i) for i in range(cf.out_tree.num_leaves)]),
            lambda i: {"t": {"index": i}}, name)
        ir_member = f"functions/{k}.tfx"
        members[ir_member] = _ir_text(cf.graph).encode()
        entry = {"graph": ir_member, "inputs": inputs, "outputs": outputs,
                 "passes": list(cf.passes),
                 "captures": [store(x) for x in cf.captured_inputs],
                 "updates": [store(v)["variable"] for v in cf.assigned_variables]}
        if cf.is_static:  # a fixed program: ship XLA's input as a versioned portable artifact
            c = cf.compiled_for(cf.input_types)
            if "chlo." not in c.lowered.text:
                # NOTE: chlo ops (erf) have no portable (VHLO) form and jaxlib's Python
                # bindings expose no pass to expand them; such programs load from the IR.
                member = f"functions/{k}.stablehlo"
                members[member] = to_portable(c.lowered.text)
                entry["stablehlo"] = member
                entry["stablehlo_lowering"] = stablehlo_lowering_tag()
            if include_compiled:
                config.wait_for_background_compiles()  # bundle the tuned program (tiering)
                member = f"compiled/{k}.xla"
                members[member] = c.exe.serialize()
                entry["compiled"] = {"member": member, **compiled_for(c.exe.device)}
        functions[name] = entry
    manifest = {"producer": PRODUCER, "functions": functions, "variables": variables}
    write_artifact(os.fspath(path), manifest, members)


def export_stablehlo(f: Any, path: str, *specs: Any, portable: bool = False) -> None:
    """Write the StableHLO of `f` for `specs` (static shapes) for other tools: text, or a
    versioned portable artifact (bytecode) with `portable=True`."""
    cf = f if isinstance(f, ConcreteFunction) else f.get_concrete_function(*specs)
    if not cf.is_static:
        raise ValueError("export_stablehlo needs static shapes; give concrete TensorSpecs")
    text = cf.compiled_for(cf.input_types).lowered.text
    data = to_portable(text) if portable else text.encode()
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)

