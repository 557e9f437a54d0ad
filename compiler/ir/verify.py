"""The verifier: def-before-use, recorded types equal `infer`, outputs defined."""
from __future__ import annotations

from .graph import Graph


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
        if expected != actual:
            raise VerificationError(
                f"op #{i} {op.name}: recorded types {list(map(str, actual))} but infer gives "
                f"{list(map(str, expected))}"
            )
        for key, attr in op.attrs:
            if isinstance(attr, Graph):  # regions are closed: they see only their own inputs
                try:
                    verify_graph(attr)
                except VerificationError as e:
                    raise VerificationError(f"op #{i} {op.name}: in {key} @{attr.name}: {e}") \
                        from e
        for v in op.outputs:
            if v in defined:
                raise VerificationError(f"op #{i} {op.name}: output defined twice")
            defined.add(v)
    for k, v in enumerate(g.outputs):
        if v not in defined:
            raise VerificationError(f"graph output {k} ({v.type}) is never defined")
