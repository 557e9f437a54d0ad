"""`tx.autograph`: the source transform turning Python control flow on tensors into graph ops."""
from tfx_core.autograph.transform import convert, to_code

__all__ = ["to_code"]
