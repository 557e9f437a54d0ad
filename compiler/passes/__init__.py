"""Graph -> Graph passes and the PassManager that runs, times, verifies and dumps them."""
from .constant_folding import constant_folding
from .cse import cse
from .dce import dce
from .fusion import fusion
from .layout import layout
from .manager import PASSES, Pass, PassError, PassManager, PassRecord, graph_pass
from .simplify import simplify

# Fold first (it exposes constant operands), simplify algebra, merge duplicates, then drop what
# is now unused.
DEFAULT_PIPELINE = ("constant_folding", "simplify", "cse", "dce")
# Where the opt-in passes go when switched on: layout before cse (its transposes may then
# merge), fusion last (regions hide their ops from the passes above).
PIPELINE_ORDER = ("constant_folding", "simplify", "layout", "cse", "dce", "fusion")

__all__ = ["DEFAULT_PIPELINE", "PASSES", "PIPELINE_ORDER", "Pass", "PassError", "PassManager",
           "PassRecord",
           "constant_folding", "cse", "dce", "fusion", "graph_pass", "layout", "simplify"]
