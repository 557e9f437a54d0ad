"""tf.linalg beyond matmul: matrix structure helpers, decompositions, solvers and matrix
functions (the IR ops they bind live in compiler/ops/lapack/)."""
