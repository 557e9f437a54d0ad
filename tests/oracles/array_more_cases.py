"""Cases for tests/oracles/record_array_more.py and tests/ops/test_array_more_oracle.py: each is
(function path under tf / tx, positional args, keyword args); arrays are fixed, not random."""
from __future__ import annotations

import numpy as np

_F = np.array([1.5, -2.0, 3.0, 4.0, -5.0, 6.0, 0.5], np.float32)
_F2 = np.arange(14, dtype=np.float32).reshape(7, 2) - 6.0
_SORTED = np.array([0, 0, 2, 2, 2, 5, 5], np.int32)        # segments 1, 3, 4 are empty
_UNSORTED = np.array([3, -1, 0, 3, 1, 0, -2], np.int32)     # negative ids are dropped
_SEQ = np.arange(30, dtype=np.float32).reshape(3, 5, 2)
_VOL = np.arange(240, dtype=np.float32).reshape(1, 4, 5, 6, 2)
_HIST = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 4.99, 5.0, 3.0, 7.5, np.nan], np.float32)

CASES: dict[str, tuple[str, tuple, dict]] = {}
for _op in ("segment_sum", "segment_prod", "segment_min", "segment_max", "segment_mean"):
    CASES[f"{_op}_f32"] = (f"math.{_op}", (_F, _SORTED), {})
    CASES[f"{_op}_2d"] = (f"math.{_op}", (_F2, _SORTED), {})
    CASES[f"{_op}_i32"] = (f"math.{_op}", (np.array([3, -4, 5, 7, 2, -9, 8], np.int32), _SORTED),
                           {})
for _op in ("unsorted_segment_sum", "unsorted_segment_prod", "unsorted_segment_min",
            "unsorted_segment_max", "unsorted_segment_mean", "unsorted_segment_sqrt_n"):
    CASES[f"{_op}_f32"] = (f"math.{_op}", (_F, _UNSORTED), {"num_segments": 5})
    CASES[f"{_op}_2d"] = (f"math.{_op}", (_F2, _UNSORTED), {"num_segments": 5})
for _op in ("unsorted_segment_sum", "unsorted_segment_prod", "unsorted_segment_min",
            "unsorted_segment_max"):
    CASES[f"{_op}_i32"] = (f"math.{_op}", (np.array([3, -4, 5, 7, 2, -9, 8], np.int32),
                                           _UNSORTED), {"num_segments": 5})

_SS = np.array([[1, 3, 3, 5, 9], [0, 2, 4, 6, 8]], np.float32)
_SV = np.array([[3, 0, 10, 5], [4, 4, 9, -1]], np.float32)
CASES["searchsorted_left"] = ("searchsorted", (_SS, _SV), {"side": "left"})
CASES["searchsorted_right"] = ("searchsorted", (_SS, _SV), {"side": "right"})
CASES["searchsorted_1d_i64"] = ("searchsorted", (np.array([1, 2, 2, 7], np.int32),
                                                 np.array([2, 0, 8, 7, 3], np.int32)),
                                {"side": "right", "out_type": "int64"})

CASES["reverse_sequence_b0"] = ("reverse_sequence", (_SEQ, np.array([2, 0, 5], np.int32)),
                                {"seq_axis": 1, "batch_axis": 0})
CASES["reverse_sequence_b2"] = ("reverse_sequence",
                                (np.arange(24, dtype=np.int32).reshape(4, 3, 2),
                                 np.array([3, 4], np.int64)), {"seq_axis": 0, "batch_axis": 2})

_SB = np.arange(2 * 4 * 3 * 3, dtype=np.float32).reshape(2, 4, 3, 3)
CASES["space_to_batch_nd"] = ("space_to_batch_nd", (_SB, [2, 3], [[0, 2], [1, 2]]), {})
CASES["space_to_batch"] = ("space_to_batch", (_SB, [2, 3], [[0, 2], [1, 2]]), {})
_BS = np.arange(12 * 2 * 3 * 1, dtype=np.float32).reshape(12, 2, 3, 1)
CASES["batch_to_space"] = ("batch_to_space", (_BS, [2, 3], [[1, 0], [2, 1]]), {})
CASES["required_space_to_batch_paddings"] = (
    "required_space_to_batch_paddings", ([5, 7], [2, 3], [[1, 0], [0, 2]]), {})

for _pad in ("VALID", "SAME"):
    CASES[f"extract_volume_patches_{_pad}"] = (
        "extract_volume_patches", (_VOL,),
        {"ksizes": [1, 2, 2, 3, 1], "strides": [1, 1, 2, 2, 1], "padding": _pad})

CASES["histogram_fixed_width"] = ("histogram_fixed_width", (_HIST[:-1], [0.0, 5.0]),
                                  {"nbins": 5})
CASES["histogram_fixed_width_i32"] = ("histogram_fixed_width",
                                      (np.array([-3, 0, 1, 2, 9, 10, 11, 4], np.int32), [0, 10]),
                                      {"nbins": 4})
CASES["histogram_fixed_width_bins"] = ("histogram_fixed_width_bins", (_HIST[:-1], [0.0, 5.0]),
                                       {"nbins": 5})

_P = np.arange(12, dtype=np.float32).reshape(3, 4)
for _mode in ("REFLECT", "SYMMETRIC"):
    CASES[f"pad_{_mode}"] = ("pad", (_P, [[1, 2], [3, 2]]), {"mode": _mode})
    CASES[f"pad_{_mode}_3d"] = ("pad", (np.arange(24, dtype=np.int32).reshape(2, 3, 4),
                                        [[1, 1], [0, 2], [3, 3]]), {"mode": _mode})

for _m, _seed, _dt, _rounds in [(9, [1, 2, 3], np.int32, 4), (100000, [7, -3, 12345678901],
                                                                np.int64, 4),
                                (70000, [0, 0, 0], np.int64, 6), (1, [5, 6, 7], np.int32, 4)]:
    CASES[f"random_index_shuffle_{_m}_r{_rounds}"] = (
        "random_index_shuffle", (np.arange(min(_m + 1, 40)).astype(_dt),
                                 np.array(_seed, np.int64)),
        {"max_index": _m, "rounds": _rounds})
