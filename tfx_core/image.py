"""`tx.image`: TF's image namespace (tf.image.resize, tf.image.ssim, tf.image.rgb_to_hsv, ...)."""
from tfx_core.ops.image.augment import (
    random_brightness,
    random_contrast,
    random_crop,
    random_flip_left_right,
    random_flip_up_down,
    random_hue,
    random_saturation,
    stateless_random_brightness,
    stateless_random_contrast,
    stateless_random_crop,
    stateless_random_flip_left_right,
    stateless_random_flip_up_down,
    stateless_random_hue,
    stateless_random_saturation,
)
from tfx_core.ops.image.boxes import (
    draw_bounding_boxes,
    sample_distorted_bounding_box,
    stateless_sample_distorted_bounding_box,
)
from tfx_core.ops.image.color import (
    adjust_brightness,
    adjust_contrast,
    adjust_gamma,
    adjust_hue,
    adjust_saturation,
    grayscale_to_rgb,
    hsv_to_rgb,
    per_image_standardization,
    rgb_to_grayscale,
    rgb_to_hsv,
    rgb_to_yiq,
    rgb_to_yuv,
    yiq_to_rgb,
    yuv_to_rgb,
)
from tfx_core.ops.image.common import convert_image_dtype
from tfx_core.ops.image.crops import crop_and_resize, extract_glimpse
from tfx_core.ops.image.geometry import (
    central_crop,
    crop_to_bounding_box,
    extract_patches,
    flip_left_right,
    flip_up_down,
    pad_to_bounding_box,
    resize_with_crop_or_pad,
    rot90,
    transpose,
)
from tfx_core.ops.image.metrics import (
    image_gradients,
    psnr,
    sobel_edges,
    ssim,
    ssim_multiscale,
    total_variation,
)
from tfx_core.ops.image.nms import (
    combined_non_max_suppression,
    non_max_suppression,
    non_max_suppression_overlaps,
    non_max_suppression_padded,
    non_max_suppression_with_scores,
)
from tfx_core.ops.image.resize import ResizeMethod, resize, resize_with_pad

__all__ = [
    "draw_bounding_boxes", "sample_distorted_bounding_box",
    "stateless_sample_distorted_bounding_box",
    "random_brightness", "random_contrast", "random_crop", "random_flip_left_right",
    "random_flip_up_down", "random_hue", "random_saturation", "stateless_random_brightness",
    "stateless_random_contrast", "stateless_random_crop", "stateless_random_flip_left_right",
    "stateless_random_flip_up_down", "stateless_random_hue", "stateless_random_saturation",
    "combined_non_max_suppression", "non_max_suppression", "non_max_suppression_overlaps",
    "non_max_suppression_padded", "non_max_suppression_with_scores",
    "ResizeMethod", "resize", "resize_with_pad", "crop_and_resize", "extract_glimpse",
    "adjust_brightness", "adjust_contrast", "adjust_gamma", "adjust_hue", "adjust_saturation",
    "central_crop", "convert_image_dtype", "crop_to_bounding_box", "extract_patches",
    "flip_left_right", "flip_up_down", "grayscale_to_rgb", "hsv_to_rgb", "image_gradients",
    "pad_to_bounding_box", "per_image_standardization", "psnr", "resize_with_crop_or_pad",
    "rgb_to_grayscale", "rgb_to_hsv", "rgb_to_yiq", "rgb_to_yuv", "rot90", "sobel_edges", "ssim",
    "ssim_multiscale", "total_variation", "transpose", "yiq_to_rgb", "yuv_to_rgb",
]
