"""Suite-wide settings: the IR verifier runs after every pass of every compiled function."""
import os

os.environ["TFX_VERIFY_PASSES"] = "1"
