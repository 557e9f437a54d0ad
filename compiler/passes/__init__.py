"""Graph -> Graph passes and the PassManager that runs, times, verifies and dumps them."""
from .dce import dce
from .manager import PASSES, Pass, PassError, PassManager, PassRecord, graph_pass

DEFAULT_PIPELINE = ("dce",)

__all__ = ["DEFAULT_PIPELINE", "PASSES", "Pass", "PassError", "PassManager", "PassRecord",
           "dce", "graph_pass"]
