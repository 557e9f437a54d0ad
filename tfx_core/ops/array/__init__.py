"""TF functions on arrays beyond the core families: segments, search, space/batch, padding
modes, clipping and control helpers."""
