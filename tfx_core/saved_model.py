"""`tx.saved_model`: save compiled functions to one data-only file; load them without the source."""
from tfx_core.export.saved_model import *  # noqa: F403
from tfx_core.export.saved_model import __all__  # noqa: F401
