"""The longest chain of dependent ops in a lowered StableHLO module, as XLA will see it.

XLA fuses chains of elementwise ops and its CPU emitters recurse once per fused op, on a
compile thread with a fixed 8 MB stack: a chain of ~25,000 ops crashes the process, and compile
time grows quadratically well before that. The runtime refuses programs whose chain passes its
limit; this module measures the chain. `func.call`s count as inlined (XLA inlines them); the
bodies of `while`/`case`/`reduce`/... are separate computations, measured on their own.
"""
from __future__ import annotations

from jaxlib.mlir import ir

# Below this many bytes of bytecode a module has fewer ops than any sensible chain limit (an
# op takes at least 4 bytes), so it is not walked at all.
SMALL_MODULE_BYTES = 16 << 10


def longest_chain(module: ir.Module) -> int:
    """The most ops on one path of dependent values, in any computation of `module`."""
    functions = {ir.StringAttr(op.attributes["sym_name"]).value: op
                 for op in module.body.operations if op.operation.name == "func.func"}
    through: dict[str, int] = {}  # function -> longest path from its arguments to its results
    longest = [0]

    def function_depth(name: str) -> int:
        if name not in through:
            through[name] = 0  # a recursive call (none are emitted) counts as one op
            fn = functions.get(name)
            if fn is not None and fn.regions[0].blocks:
                through[name] = block_depth(fn.regions[0].blocks[0])
        return through[name]

    def block_depth(block: ir.Block) -> int:
        depth: dict[ir.Value, int] = {}
        out = 0
        for op in block.operations:
            d = max((depth.get(v, 0) for v in op.operands), default=0) + 1
            op = op.operation
            if op.name == "func.call":
                d += function_depth(ir.FlatSymbolRefAttr(op.attributes["callee"]).value) - 1
            for region in op.regions:  # a separate computation: its own chains
                for inner in region.blocks:
                    longest[0] = max(longest[0], block_depth(inner))
            for r in op.results:
                depth[r] = d
            out = max(out, d)
        longest[0] = max(longest[0], out)
        return out

    if "main" in functions:
        function_depth("main")
    return longest[0]


def count_ops(module: ir.Module) -> int:
    """Every operation in the module, nested ones included."""
    n = [0]

    def count(_: ir.Operation) -> ir.WalkResult:
        n[0] += 1
        return ir.WalkResult.ADVANCE

    module.operation.walk(count)
    return n[0]
