"""tf.math's special functions, nan-safe arithmetic, integer division and the composite
reductions and checks (tx.math re-exports them)."""
