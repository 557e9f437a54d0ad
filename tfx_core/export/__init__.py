"""Saved models: the save and load of data-only artifacts, their manifest checks, the `tfx` CLI."""
