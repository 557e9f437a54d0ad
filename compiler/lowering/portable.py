"""StableHLO portable artifacts: write them for a fixed compatibility window, and check what we
read back against the ops we emit (an allowlist: no custom_call, no foreign dialects)."""
from __future__ import annotations

from collections.abc import Sequence

from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from ..ir.types import TensorType
from .helpers import ir_type, make_context

# WEEK_12: readable by StableHLO consumers up to ~12 weeks older than jaxlib 0.10.2, and by
# every newer one (StableHLO's compatibility guarantee), so artifacts outlive jaxlib upgrades.
TARGET = hlo.get_version_from_compatibility_requirement(
    hlo.StablehloCompatibilityRequirement.WEEK_12)
_ALLOWED_OTHER = frozenset({"builtin.module", "func.func", "func.return", "func.call"})
_FORBIDDEN = frozenset({"stablehlo.custom_call"})  # we never emit it: foreign native code


class UntrustedModuleError(ValueError):
    """A StableHLO module holds ops tfx does not emit (custom_call, foreign dialects)."""


def to_portable(module_text: str) -> bytes:
    """Serialize StableHLO text as a versioned portable artifact (VHLO bytecode)."""
    return hlo.serialize_portable_artifact_str(module_text, TARGET)


def from_portable(data: bytes, in_types: Sequence[TensorType] | None = None,
                  out_types: Sequence[TensorType] | None = None) -> bytes:
    """The StableHLO module (MLIR bytecode) of a portable artifact, after checking every op
    against the allowlist.

    Raises UntrustedModuleError naming the first op (and custom_call target) that is refused.
    """
    if not data.startswith(b"ML\xefR"):
        raise UntrustedModuleError("not a StableHLO portable artifact (no MLIR bytecode magic)")
    try:
        module = hlo.deserialize_portable_artifact_str(data)
    except Exception as e:
        raise UntrustedModuleError(f"not a StableHLO portable artifact: {e}") from e
    if not module:
        raise UntrustedModuleError("not a StableHLO portable artifact (it did not deserialize)")
    check_module(module, in_types, out_types)
    return module


def check_module(text: str | bytes, in_types: Sequence[TensorType] | None = None,
                 out_types: Sequence[TensorType] | None = None) -> None:
    """Parse a StableHLO module (text or bytecode) and refuse any op outside stablehlo.*,
    func.* and builtin.module; with types given, its public @main must have exactly them."""
    with make_context(), ir.Location.unknown():
        try:
            module = ir.Module.parse(text)
        except ir.MLIRError as e:
            raise UntrustedModuleError(f"StableHLO does not parse: {e}") from e
        _check_op(module.operation)
        if in_types is None:
            return
        mains = [op for op in module.body.operations
                 if op.operation.name == "func.func"
                 and ir.StringAttr(op.attributes["sym_name"]).value == "main"]
        if len(mains) != 1:
            raise UntrustedModuleError("the StableHLO module has no @main function")
        ftype = ir.FunctionType(ir.TypeAttr(mains[0].attributes["function_type"]).value)
        want = ir.FunctionType.get([ir_type(t) for t in in_types],
                                   [ir_type(t) for t in out_types or ()])
        if str(ftype) != str(want):
            raise UntrustedModuleError(f"the StableHLO @main is {ftype}, but the signature's IR "
                                       f"says {want}")


def _check_op(op: ir.Operation) -> None:
    name = op.name
    if name in _FORBIDDEN:
        target = op.attributes["call_target_name"] if "call_target_name" in op.attributes \
            else "?"
        raise UntrustedModuleError(f"refusing {name} (target {target}): tfx never emits "
                                   "custom calls, so this module was not written by tfx")
    if not name.startswith("stablehlo.") and name not in _ALLOWED_OTHER:
        raise UntrustedModuleError(f"refusing op {name}: not StableHLO")
    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                _check_op(inner.operation)
