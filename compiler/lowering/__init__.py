"""Lowering of IR graphs to StableHLO with jaxlib's MLIR bindings."""
