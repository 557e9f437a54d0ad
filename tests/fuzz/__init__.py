"""Fuzz tests: seeded generators of random inputs, run on fixed seeds here and as CLIs."""
