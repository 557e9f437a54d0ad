"""The typed dataflow IR: types, values, ops, graphs, printer, parser and verifier."""
