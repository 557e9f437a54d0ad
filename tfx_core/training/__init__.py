"""Training building blocks: Module, optimizers, initializers."""
