"""`tx.math`: TF's math namespace (aliases of the top-level elementwise and reduction ops)."""
from tfx_core.ops.array.manip import scalar_mul
from tfx_core.ops.array.segment import *  # noqa: F403
from tfx_core.ops.array.segment import __all__ as _seg
from tfx_core.ops.math_ops import *  # noqa: F403
from tfx_core.ops.math_ops import __all__ as _m
from tfx_core.ops.reduction_ops import *  # noqa: F403
from tfx_core.ops.reduction_ops import __all__ as _r
from tfx_core.ops.reduction_ops import reduce_std, reduce_variance
from tfx_core.ops.sort_ops import *  # noqa: F403
from tfx_core.ops.sort_ops import __all__ as _s

__all__ = [*_m, *_r, *_s, *_seg, "scalar_mul", "reduce_std", "reduce_variance"]
# issue 16, math helper: special functions, nan-safe arithmetic, composite reductions, ranking
from tfx_core.ops.math.arithmetic import *  # noqa: E402,F403
from tfx_core.ops.math.arithmetic import __all__ as _ma  # noqa: E402
from tfx_core.ops.math.ranking import *  # noqa: E402,F403
from tfx_core.ops.math.ranking import __all__ as _mk  # noqa: E402
from tfx_core.ops.math.reductions import *  # noqa: E402,F403
from tfx_core.ops.math.reductions import __all__ as _mr  # noqa: E402
from tfx_core.ops.math.sobol import sobol_sample  # noqa: E402
from tfx_core.ops.math.special import *  # noqa: E402,F403
from tfx_core.ops.math.special import __all__ as _ms  # noqa: E402
from tfx_core.ops.nn_ops import log_softmax, softmax, softplus  # noqa: E402

__all__ += [*_ma, *_mk, *_mr, *_ms, "log_softmax", "softmax", "softplus", "sobol_sample"]
# issue 16, nn helper: tf.math names that live with tf.nn's ops
from tfx_core.ops.nn.losses import softsign, zero_fraction  # noqa: E402
from tfx_core.ops.norm_ops import l2_normalize  # noqa: E402

__all__ += ["l2_normalize", "softsign", "zero_fraction"]
