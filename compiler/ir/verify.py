"""The verifier: def-before-use, recorded types equal `infer`, outputs defined."""
from __future__ import annotations

from .graph import Graph
from .types import DType, TensorType


class VerificationError(ValueError):
    pass


def verify_graph(g: Graph) -> None:
    """Raise VerificationError naming the first broken invariant (nested graphs included)."""
    defined = set(g.inputs)
    if len(defined) != len(g.inputs):
        raise VerificationError("a graph input is listed twice")
    for i, op in enumerate(g.ops):
        for j, v in enumerate(op.inputs):
            if v not in defined:
                raise VerificationError(
                    f"op #{i} {op.name}: input {j} ({v.type}) is used before it is defined"
                )
        try:
            expected = op.opdef.infer_types(tuple(v.type for v in op.inputs), dict(op.attrs))
        except Exception as e:
            raise VerificationError(f"op #{i} {op.name}: type inference failed: {e}") from e
        actual = tuple(v.type for v in op.outputs)
        bad = next((t for t in expected if not _well_formed(t)), False)
        if bad is not False:  # an attribute of the wrong kind (dtype=0) slipped through infer
            what = (f"dtype {bad.dtype!r}, shape {bad.shape!r}" if isinstance(bad, TensorType)
                    else repr(bad))  # NOTE: str() of such a type would itself fail
            raise VerificationError(f"op #{i} {op.name}: type inference gave an invalid type "
                                    f"({what}): check its attributes")
        if expected != actual:
            raise VerificationError(
                f"op #{i} {op.name}: recorded types {list(map(str, actual))} but infer gives "
                f"{list(map(str, expected))}"
            )
        for key, attr in op.attrs:
            for region in _regions(attr):  # closed: they see only their own inputs
                try:
                    verify_graph(region)
                except VerificationError as e:
                    raise VerificationError(f"op #{i} {op.name}: in {key} @{region.name}: "
                                            f"{e}") from e
        for v in op.outputs:
            if v in defined:
                raise VerificationError(f"op #{i} {op.name}: output defined twice")
            defined.add(v)
    for k, v in enumerate(g.outputs):
        if v not in defined:
            raise VerificationError(f"graph output {k} ({v.type}) is never defined")


def _well_formed(t: object) -> bool:
    return isinstance(t, TensorType) and isinstance(t.dtype, DType) and isinstance(
        t.shape, tuple) and all(d is None or type(d) is int and d >= 0 for d in t.shape)


def _regions(attr: object) -> list[Graph]:
    """The graphs an attribute holds: itself, or those in (nested) tuples (case branches)."""
    if isinstance(attr, Graph):
        return [attr]
    if isinstance(attr, tuple):
        return [g for a in attr for g in _regions(a)]
    return []
