"""tx.distribute: running one program over many devices and processes (TF's strategies) on
XLA's SPMD partitioner; tx.experimental.dtensor's meshes and layouts live here too."""
