"""`LoweringOptions`: what a lowering depends on besides the graph, given by its caller."""
from __future__ import annotations

from dataclasses import dataclass

# How `convolution` lowers (compiler/lowering/conv_formulations.py): "auto" applies the rule
# measured on XLA:CPU, "direct" always emits stablehlo.convolution, "im2col", "eigen" and
# "im2col_t" force that rewrite wherever it is exact (else direct).
CONV_FORMULATIONS = ("auto", "direct", "im2col", "eigen", "im2col_t")


@dataclass(frozen=True)
class LoweringOptions:
    """The options of one lowering. The compiler asks nothing about devices: whoever compiles
    the module says which platform it is for, and puts `cache_key` in its compile keys.

    Attributes:
        platform: the XLA platform the module is compiled for ("cpu", "cuda", "rocm", "tpu").
        conv_formulation: one of CONV_FORMULATIONS.
        eigen_by_option: under "auto", where the rule picks the `eigen` rewrite, emit the plain
            convolution and have the program compiled with YNNPACK's convolution type off
            (conv_formulations.xla_options). An alternative lowering that tiered compilation
            times against the rule's own on the first call's inputs (runtime/tiered.py).
    """

    platform: str
    conv_formulation: str = "auto"
    eigen_by_option: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.platform, str) or not self.platform:
            raise ValueError(f"platform must be a platform name such as 'cpu', got "
                             f"{self.platform!r}")
        if self.conv_formulation not in CONV_FORMULATIONS:
            raise ValueError(f"conv formulation must be one of {CONV_FORMULATIONS}, got "
                             f"{self.conv_formulation!r}")

    @property
    def cache_key(self) -> str:
        """These options as text, for compile-cache keys."""
        return (f"platform={self.platform} conv_formulation={self.conv_formulation}"
                + (" eigen_by_option" if self.eigen_by_option else ""))
