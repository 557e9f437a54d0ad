"""`tx.function` (TF's polymorphic_function): decorator, ConcreteFunction, keys, tracer."""
