"""Graph -> Graph passes and the PassManager that runs, times, verifies and dumps them."""
from .constant_folding import constant_folding
from .cse import cse
from .dce import dce
from .manager import PASSES, Pass, PassError, PassManager, PassRecord, graph_pass

# Fold first (it exposes identical constants), merge duplicates, then drop what is now unused.
DEFAULT_PIPELINE = ("constant_folding", "cse", "dce")

__all__ = ["DEFAULT_PIPELINE", "PASSES", "Pass", "PassError", "PassManager", "PassRecord",
           "constant_folding", "cse", "dce", "graph_pass"]
