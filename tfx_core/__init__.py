"""tfx: trace Python into a typed IR, optimize it, lower it to StableHLO and run it on XLA.

    import tfx_core as tx
"""
from __future__ import annotations

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # before jaxlib loads: no PJRT chatter

from compiler import ops as _ops  # noqa: F401  (registers every OpDef)
from compiler.tracing import add_internal_dir as _add_internal_dir

_add_internal_dir(_os.path.dirname(_os.path.abspath(__file__)))

from . import autograph, config, errors, initializers, linalg, math, nn, optimizers, random  # noqa: E402
from . import saved_model  # noqa: E402
from . import eager as _eager  # noqa: E402,F401  (installs the eager interpreter)
from . import operators as _operators  # noqa: E402,F401
from .array_ops import *  # noqa: E402,F403
from .concrete_function import ConcreteFunction  # noqa: E402
from .control_flow_ops import cond, foldl, map_fn, scan, switch_case, while_loop  # noqa: E402
from .convert import constant, convert_to_tensor  # noqa: E402
from .dtypes import *  # noqa: E402,F403
from .einsum_ops import *  # noqa: E402,F403
from .function import Function, RetracingWarning, function  # noqa: E402
from .gradient_tape import GradientTape, custom_gradient, stop_gradient  # noqa: E402
from .graph_trace import get_static_value  # noqa: E402
from .indexing_ops import *  # noqa: E402,F403
from .initializers import (  # noqa: E402
    constant_initializer,
    glorot_uniform_initializer,
    ones_initializer,
    random_normal_initializer,
    random_uniform_initializer,
    zeros_initializer,
)
from .linalg_ops import *  # noqa: E402,F403
from .math_ops import *  # noqa: E402,F403
from .module import Module  # noqa: E402
from .reduction_ops import *  # noqa: E402,F403
from .sort_ops import argsort, sort  # noqa: E402
from .tensor import Tensor, TensorShape, is_tensor  # noqa: E402
from .tensor_spec import TensorSpec  # noqa: E402
from .variables import Variable, init_scope  # noqa: E402

newaxis = None
