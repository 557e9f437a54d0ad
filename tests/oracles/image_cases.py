"""tf.image cases shared by record_image.py (run once with TF 2.21) and
tests/ops/test_image_oracle.py (tx.image): each case is run the same way on either namespace."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Arr:
    """A random input array: floats uniform in [low, high), integers in [low, high]."""

    shape: tuple
    dtype: str = "float32"
    low: float = 0.0
    high: float = 1.0


@dataclass(frozen=True)
class Boxes:
    """n random [y1, x1, y2, x2] boxes in the unit square (some flipped corners), and scores."""

    n: int
    what: str = "boxes"  # or "scores"
    batch: tuple = ()


@dataclass(frozen=True)
class DT:
    """A dtype argument, resolved in the namespace (tf.uint8 / tx.uint8)."""

    name: str


@dataclass
class Case:
    name: str
    fn: str  # a tf.image name
    args: tuple
    kwargs: dict = field(default_factory=dict)
    grad: bool = False  # also record d(weighted sum of outputs)/d(first array argument)


def _resize(name, shape, size, method, grad=False, **kw):
    return Case(name, "resize", (Arr(shape), size), {"method": method, **kw}, grad)


_METHODS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
            "mitchellcubic")

CASES = [
    # geometry
    Case("rot90_3", "rot90", (Arr((3, 4, 2)),), {"k": 3}),
    Case("central_crop", "central_crop", (Arr((2, 7, 9, 1)), 0.4)),
    Case("crop_box", "crop_to_bounding_box", (Arr((5, 6, 2)), 1, 2, 3, 3)),
    Case("pad_box", "pad_to_bounding_box", (Arr((2, 3, 4, 1)), 1, 2, 6, 7)),
    Case("crop_or_pad", "resize_with_crop_or_pad", (Arr((5, 4, 2)), 3, 7)),
    Case("crop_or_pad_odd", "resize_with_crop_or_pad", (Arr((1, 6, 3, 1)), 9, 2)),
    Case("patches_valid", "extract_patches", (Arr((2, 6, 7, 2)), [1, 3, 2, 1], [1, 2, 3, 1],
                                              [1, 1, 1, 1], "VALID")),
    Case("patches_same_rate", "extract_patches", (Arr((1, 7, 6, 3)), [1, 2, 3, 1],
                                                  [1, 3, 2, 1], [1, 2, 1, 1], "SAME")),
    # color
    Case("gray", "rgb_to_grayscale", (Arr((2, 3, 3)),)),
    Case("gray_u8", "rgb_to_grayscale", (Arr((3, 4, 3), "uint8", 0, 255),)),
    Case("gray_rgb", "grayscale_to_rgb", (Arr((2, 3, 1)),)),
    Case("hsv", "rgb_to_hsv", (Arr((4, 5, 3)),), {}, True),
    Case("hsv64", "rgb_to_hsv", (Arr((6, 3), "float64"),)),
    Case("rgb", "hsv_to_rgb", (Arr((4, 5, 3)),)),
    Case("yiq", "rgb_to_yiq", (Arr((4, 3)),)),
    Case("yiq_inv", "yiq_to_rgb", (Arr((4, 3)),)),
    Case("yuv", "rgb_to_yuv", (Arr((4, 3)),)),
    Case("yuv_inv", "yuv_to_rgb", (Arr((4, 3)),)),
    Case("brightness", "adjust_brightness", (Arr((3, 4, 3)), -0.2), {}, True),
    Case("brightness_u8", "adjust_brightness", (Arr((3, 4, 3), "uint8", 0, 255), 0.3)),
    Case("contrast", "adjust_contrast", (Arr((2, 3, 4, 3)), 1.7), {}, True),
    Case("contrast_u8", "adjust_contrast", (Arr((3, 4, 3), "uint8", 0, 255), 0.6)),
    Case("gamma", "adjust_gamma", (Arr((3, 4, 3)), 2.2, 0.9), {}, True),
    Case("gamma_u8", "adjust_gamma", (Arr((3, 4, 3), "uint8", 0, 255), 0.5, 1.3)),
    Case("hue", "adjust_hue", (Arr((4, 5, 3)), 0.3), {}, True),
    Case("hue_neg", "adjust_hue", (Arr((2, 4, 5, 3)), -0.7)),
    Case("hue_u8", "adjust_hue", (Arr((4, 5, 3), "uint8", 0, 255), 0.45)),
    Case("saturation", "adjust_saturation", (Arr((4, 5, 3)), 1.8), {}, True),
    Case("saturation_u8", "adjust_saturation", (Arr((4, 5, 3), "uint8", 0, 255), 0.4)),
    Case("standardize", "per_image_standardization", (Arr((2, 3, 4, 3)),)),
    Case("standardize_u8", "per_image_standardization", (Arr((3, 4, 3), "uint8", 0, 255),)),
    Case("standardize_flat", "per_image_standardization", (np.ones((2, 2, 1), np.float32),)),
    # convert_image_dtype
    Case("cvt_u8_f32", "convert_image_dtype", (Arr((7,), "uint8", 0, 255), DT("float32"))),
    Case("cvt_f32_u8", "convert_image_dtype", (Arr((9,), "float32", -0.2, 1.2), DT("uint8"))),
    Case("cvt_f32_u8_sat", "convert_image_dtype", (Arr((9,), "float32", -0.2, 1.2),
                                                   DT("uint8"), True)),
    Case("cvt_f64_i16", "convert_image_dtype", (Arr((9,), "float64"), DT("int16"))),
    Case("cvt_i32_u8", "convert_image_dtype", (Arr((9,), "int32", 0, 2**31 - 1), DT("uint8"))),
    Case("cvt_u8_i32", "convert_image_dtype", (Arr((9,), "uint8", 0, 255), DT("int32"))),
    Case("cvt_i8_i16_sat", "convert_image_dtype", (Arr((9,), "int8", -128, 127), DT("int16"),
                                                   True)),
    Case("cvt_u16_f16", "convert_image_dtype", (Arr((9,), "uint16", 0, 65535), DT("float16"))),
    # measures
    Case("tv3", "total_variation", (Arr((4, 5, 2)),)),
    Case("tv4", "total_variation", (Arr((2, 4, 5, 2)),), {}, True),
    Case("grads", "image_gradients", (Arr((2, 3, 4, 2)),)),
    Case("sobel", "sobel_edges", (Arr((2, 5, 4, 2)),)),
    Case("psnr", "psnr", (Arr((2, 4, 5, 3)), Arr((2, 4, 5, 3)), 1.0), {}, True),
    Case("psnr_u8", "psnr", (Arr((4, 5, 3), "uint8", 0, 255), Arr((4, 5, 3), "uint8", 0, 255),
                             255)),
    Case("ssim", "ssim", (Arr((2, 13, 12, 3)), Arr((2, 13, 12, 3)), 1.0)),
    Case("ssim_small", "ssim", (Arr((9, 8, 1)), Arr((9, 8, 1)), 2.0),
         {"filter_size": 5, "filter_sigma": 0.8, "k1": 0.02}, True),
    Case("ssim_map", "ssim", (Arr((1, 8, 9, 2)), Arr((1, 8, 9, 2)), 1.0),
         {"filter_size": 3, "return_index_map": True}),
    Case("ssim_u8", "ssim", (Arr((12, 11, 3), "uint8", 0, 255), Arr((12, 11, 3), "uint8", 0, 255),
                             255), {"filter_size": 7}),
    Case("msssim", "ssim_multiscale", (Arr((2, 23, 21, 2)), Arr((2, 23, 21, 2)), 1.0),
         {"power_factors": (0.2, 0.3, 0.5), "filter_size": 3}),
    # resize: every method up and down, odd sizes, with and without antialias
    *[_resize(f"resize_{m}_up", (1, 5, 7, 2), [9, 11], m, grad=m in ("bilinear", "bicubic"))
      for m in _METHODS],
    *[_resize(f"resize_{m}_down", (2, 11, 13, 1), [4, 6], m) for m in _METHODS],
    *[_resize(f"resize_{m}_down_aa", (1, 11, 13, 2), [4, 5], m, antialias=True,
              grad=m in ("bilinear", "bicubic")) for m in _METHODS],
    *[_resize(f"resize_{m}_mixed_aa", (7, 6, 1), [3, 10], m, antialias=True) for m in _METHODS],
    _resize("resize_aspect", (1, 6, 10, 1), [8, 8], "bilinear", preserve_aspect_ratio=True),
    _resize("resize_u8", (5, 6, 3), [3, 9], "bilinear"),
    Case("resize_u8_nearest", "resize", (Arr((5, 6, 1), "uint8", 0, 255), [7, 4]),
         {"method": "nearest"}),
    Case("resize_u8_bicubic", "resize", (Arr((5, 6, 1), "uint8", 0, 255), [7, 4]),
         {"method": "bicubic"}),
    Case("resize_pad", "resize_with_pad", (Arr((1, 4, 7, 2)), 6, 6)),
    Case("resize_pad_nearest", "resize_with_pad", (Arr((5, 3, 1)), 4, 9), {"method": "nearest"}),
    Case("resize_pad_aa", "resize_with_pad", (Arr((9, 5, 1)), 4, 5),
         {"method": "bicubic", "antialias": True}),
    # crops
    Case("crop_resize", "crop_and_resize",
         (Arr((2, 6, 7, 2)), np.array([[0.1, 0.2, 0.8, 0.9], [0.5, 0.7, 0.1, 0.2],
                                       [-0.2, 0.1, 1.3, 0.6]], np.float32),
          np.array([1, 0, 1], np.int32), [4, 3]), {}, True),
    Case("crop_resize_nearest", "crop_and_resize",
         (Arr((1, 5, 6, 1)), np.array([[0.0, 0.1, 0.9, 0.8], [0.3, -0.2, 1.1, 0.5]], np.float32),
          np.array([0, 0], np.int32), [3, 5]), {"method": "nearest", "extrapolation_value": -1.0}),
    Case("crop_resize_one", "crop_and_resize",
         (Arr((1, 5, 6, 1)), np.array([[0.2, 0.3, 0.6, 0.7]], np.float32),
          np.array([0], np.int32), [1, 1])),
    Case("glimpse", "extract_glimpse",
         (Arr((2, 7, 8, 1)), [3, 4], np.array([[0.1, -0.3], [0.5, 0.9]], np.float32)),
         {"noise": "zero"}),
    Case("glimpse_pixels", "extract_glimpse",
         (Arr((1, 6, 6, 2)), [3, 3], np.array([[1.0, 2.0]], np.float32)),
         {"centered": False, "normalized": False, "noise": "zero"}),
    Case("glimpse_unnorm_centered", "extract_glimpse",
         (Arr((1, 6, 7, 1)), [4, 2], np.array([[-1.5, 2.0]], np.float32)),
         {"normalized": False, "noise": "zero"}),
    # non-max suppression
    Case("nms", "non_max_suppression", (Boxes(12), Boxes(12, "scores"), 6, 0.3)),
    Case("nms_thresh", "non_max_suppression", (Boxes(12), Boxes(12, "scores"), 10, 0.2, 0.4)),
    Case("nms_scores", "non_max_suppression_with_scores",
         (Boxes(10), Boxes(10, "scores"), 5, 0.4, 0.1, 0.0)),
    Case("nms_soft", "non_max_suppression_with_scores",
         (Boxes(10), Boxes(10, "scores"), 7, 1.0, 0.05, 0.5)),
    Case("nms_padded", "non_max_suppression_padded",
         (Boxes(9), Boxes(9, "scores"), 6, 0.3, 0.25), {"pad_to_max_output_size": True}),
    Case("nms_overlaps", "non_max_suppression_overlaps",
         (Arr((8, 8)), Boxes(8, "scores"), 5, 0.6, 0.2)),
    Case("nms_combined", "combined_non_max_suppression",
         (Boxes(7, batch=(2, 7, 1)), Arr((2, 7, 3)), 4, 6, 0.4, 0.2)),
    Case("nms_combined_perclass", "combined_non_max_suppression",
         (Boxes(6, batch=(2, 6, 2)), Arr((2, 6, 2)), 3, 5, 0.5, 0.1),
         {"pad_per_class": True, "clip_boxes": False}),
    Case("draw_boxes", "draw_bounding_boxes",
         (Arr((2, 7, 8, 3)), np.array([[[0.1, 0.1, 0.6, 0.8], [0.3, 0.0, 0.9, 0.5]],
                                       [[0.0, 0.2, 1.0, 0.7], [0.5, 0.5, 0.5, 0.9]]], np.float32),
          np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 0.5, 1.0, 1.0]], np.float32))),
]


def inputs(case: Case) -> list:
    """The case's arguments, random arrays generated from the case name."""
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    out = []
    for a in case.args:
        if isinstance(a, Arr):
            dt = np.dtype(a.dtype)
            if dt.kind in "iu":
                out.append(rng.integers(int(a.low), int(a.high), size=a.shape, endpoint=True)
                           .astype(dt))
            else:
                out.append(rng.uniform(a.low, a.high, size=a.shape).astype(dt))
        elif isinstance(a, Boxes):
            shape = a.batch or (a.n,)
            if a.what == "scores":  # distinct scores: TF's order among ties is its own
                out.append((rng.permutation(int(np.prod(shape))).reshape(shape) / np.prod(shape)
                            + 0.01).astype(np.float32))
            else:
                c = rng.uniform(0.0, 0.6, size=(*shape, 2))
                s = rng.uniform(0.1, 0.5, size=(*shape, 2))
                box = np.concatenate([c, c + s], -1)
                flip = rng.random(shape) < 0.3  # corners in either order
                box[flip] = box[flip][:, [2, 3, 0, 1]]
                out.append(box.astype(np.float32))
        else:
            out.append(a)
    return out


def call(ns: Any, case: Case, args: list) -> Any:
    """Run the case with namespace `ns` (tf or tx) on `args` (tensors where inputs are arrays)."""
    args = [getattr(ns, a.name) if isinstance(a, DT) else a for a in args]
    return getattr(ns.image, case.fn)(*args, **case.kwargs)


def weights(case: Case, out: np.ndarray) -> np.ndarray:
    """Fixed weights for the gradient's weighted sum."""
    rng = np.random.default_rng(zlib.crc32(case.name.encode()) + 1)
    return rng.uniform(-1, 1, size=out.shape).astype(out.dtype)
