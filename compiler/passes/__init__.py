"""Graph -> Graph passes and the PassManager that runs, times, verifies and dumps them."""
from .constant_folding import constant_folding
from .cse import cse
from .dce import dce
from .fusion import fusion
from .manager import PASSES, Pass, PassError, PassManager, PassRecord, graph_pass
from .simplify import simplify

# Fold first (it exposes constant operands), simplify algebra, merge duplicates, then drop what
# is now unused.
DEFAULT_PIPELINE = ("constant_folding", "simplify", "cse", "dce")

__all__ = ["DEFAULT_PIPELINE", "PASSES", "Pass", "PassError", "PassManager", "PassRecord",
           "constant_folding", "cse", "dce", "fusion", "graph_pass", "simplify"]
