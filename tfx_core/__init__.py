"""tfx: trace Python into a typed IR, optimize it, lower it to StableHLO and run it on XLA.

    import tfx_core as tx

This module is the public surface and only re-exports; the code lives in the subpackages
(framework/, ops/, polymorphic_function/, autograph/, training/, export/).
"""
from __future__ import annotations

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # before jaxlib loads: no PJRT chatter

from compiler import ops as _ops  # noqa: F401  (registers every OpDef)
from compiler.tracing import add_internal_dir as _add_internal_dir

_add_internal_dir(_os.path.dirname(_os.path.abspath(__file__)))

from tfx_core.framework import eager as _eager  # noqa: F401  (installs the eager interpreter)
from tfx_core.framework import operators as _operators  # noqa: F401  (Tensor's Python operators)
from tfx_core import autograph, config, errors, initializers, linalg, math, nn, optimizers, random
from tfx_core import debugging, nest, saved_model
from tfx_core import data
from tfx_core import train
from tfx_core import keras
from tfx_core import summary
from tfx_core import bitwise, dtypes
from tfx_core import signal
from tfx_core import image
from tfx_core import distribute, experimental
from tfx_core.signal import fftnd, ifftnd, irfftnd, rfftnd
from tfx_core.debugging import Assert, assert_equal, assert_greater, assert_less, assert_rank
from tfx_core.debugging import print_ as print  # noqa: A001  (tf.print)
from tfx_core.framework.ordering import control_dependencies
from tfx_core.framework.convert import constant, convert_to_tensor
from tfx_core.framework.dtypes import *  # noqa: F403
from tfx_core.framework.framework_ops import *  # noqa: F403
from tfx_core.framework.gradient_tape import GradientTape, custom_gradient, stop_gradient
from tfx_core.framework.tensor import Tensor, TensorShape, is_tensor
from tfx_core.framework.tensor_spec import TensorSpec
from tfx_core.framework.variables import Variable, init_scope
from tfx_core.ops.array_ops import *  # noqa: F403
from tfx_core.ops.array.manip import *  # noqa: F403
from tfx_core.ops.array.manip import tuple_ as tuple  # noqa: A004
from tfx_core.ops.array.search import *  # noqa: F403
from tfx_core.ops.array.space import *  # noqa: F403
from tfx_core.ops.array.clip import *  # noqa: F403
from tfx_core.ops.array.control import *  # noqa: F403
from tfx_core.ops.array.conv import *  # noqa: F403
from tfx_core.ops.array.enums import *  # noqa: F403
from tfx_core.ops.array.index_shuffle import *  # noqa: F403
from tfx_core.ops.control_flow_ops import cond, foldl, map_fn, scan, switch_case, while_loop
from tfx_core.ops.data_dependent_ops import *  # noqa: F403
from tfx_core.ops.indexing_ops import *  # noqa: F403
from tfx_core.ops.linalg_ops import *  # noqa: F403
from tfx_core.ops.linalg.functions import eig, eigvals
from tfx_core.ops.linalg.functions import sqrtm as matrix_square_root
from tfx_core.ops.math_ops import *  # noqa: F403
from tfx_core.ops.reduction_ops import *  # noqa: F403
from tfx_core.ops.sort_ops import argsort, sort
from tfx_core.ops.tensor_array import TensorArray
from tfx_core.polymorphic_function.concrete_function import ConcreteFunction
from tfx_core.polymorphic_function.function import Function, RetracingWarning, function
from tfx_core.polymorphic_function.tracer import get_static_value
from tfx_core.training.initializers import (
    constant_initializer,
    glorot_uniform_initializer,
    ones_initializer,
    random_normal_initializer,
    random_uniform_initializer,
    zeros_initializer,
)
from tfx_core.training.module import Module

newaxis = None
from tfx_core.ops.math.arithmetic import add_n, realdiv, truncatediv, truncatemod
from tfx_core.ops.math.special import acos, acosh, asin, asinh, atan, atanh, cosh, sinh
from tfx_core.ops.sort_ops import cumsum
from tfx_core.ops.math.ranking import approx_top_k
