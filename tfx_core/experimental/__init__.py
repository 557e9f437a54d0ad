"""tx.experimental: TF's experimental namespaces tfx offers (dtensor)."""
from tfx_core.distribute import dtensor

__all__ = ["dtensor"]
