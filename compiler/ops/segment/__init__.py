"""Segment reductions that the scatter op's combiners do not cover (segment_prod)."""
from . import prod  # noqa: F401  (registers the OpDef)
