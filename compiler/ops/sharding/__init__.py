"""Ops about how values are split over a mesh of devices (the SPMD partitioner's hints)."""
from . import constraint, replicas  # noqa: F401  (registers the OpDefs)
