"""The framework: Tensor, TensorSpec, dtypes, operand rules, eager executor, Variable, tapes."""
