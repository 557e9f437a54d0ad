"""The TF-named op functions, one module per family: normalize the arguments, bind an op."""
