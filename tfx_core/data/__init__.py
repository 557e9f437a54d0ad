"""`tx.data`: input pipelines (tf.data): `Dataset`, `AUTOTUNE`, the cardinality constants."""
from tfx_core.data.dataset import Dataset
from tfx_core.data.prefetch import AUTOTUNE
from tfx_core.data.structure import INFINITE as INFINITE_CARDINALITY
from tfx_core.data.structure import UNKNOWN as UNKNOWN_CARDINALITY

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset"]
