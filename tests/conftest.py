"""Suite-wide settings: the IR verifier runs after every pass of every compiled function, and
the persistent compile cache lives in a temporary directory (never the user's own cache).
`pytest --update-goldens` rewrites golden files instead of comparing (tests/golden.py).

The first conftest import (plain pytest, or xdist's controller before it starts workers) makes
the directory; workers and subprocesses inherit it through the environment, so they share it.
"""
import atexit
import os
import shutil
import sys
import tempfile
import types

from tests.golden import golden, pytest_addoption  # noqa: F401  (the option and fixture)

os.environ["TFX_VERIFY_PASSES"] = "1"

# TensorBoard's event reader imports TensorFlow when it can (5 s a process, and tests never
# import TF); this module's presence makes it use its own TF-free stub instead
sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))

if not os.environ.get("TFX_TEST_CACHE_DIR"):
    os.environ["TFX_TEST_CACHE_DIR"] = tempfile.mkdtemp(prefix="tfx-test-cache-")
    atexit.register(shutil.rmtree, os.environ["TFX_TEST_CACHE_DIR"], True)
os.environ["TFX_CACHE_DIR"] = os.environ["TFX_TEST_CACHE_DIR"]
