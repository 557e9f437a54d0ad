"""TF's array, segment, clipping and control functions beyond the core op families."""
