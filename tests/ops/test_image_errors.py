"""tx.image's argument errors: TF's classes (InvalidArgumentError, also a ValueError; TypeError
for wrong dtypes), naming the function and the caller's file:line."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx

IMG = np.zeros((4, 5, 3), np.float32)
BATCH = np.zeros((2, 4, 5, 3), np.float32)


@pytest.mark.parametrize("call,cls,match", [
    (lambda: tx.image.flip_left_right(np.zeros((4, 5), np.float32)), ValueError, "rank 3 or 4"),
    (lambda: tx.image.crop_to_bounding_box(IMG, 1, 1, 4, 2), ValueError, "height must be >="),
    (lambda: tx.image.pad_to_bounding_box(IMG, 1, 0, 4, 5), ValueError, "height must be <="),
    (lambda: tx.image.central_crop(IMG, 1.5), ValueError, r"within \(0, 1\]"),
    (lambda: tx.image.extract_patches(BATCH, [1, 2, 2], [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
     ValueError, "sizes"),
    (lambda: tx.image.extract_patches(BATCH, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "FULL"),
     ValueError, "padding"),
    (lambda: tx.image.rgb_to_hsv(np.zeros((4, 2), np.float32)), ValueError, "size 3"),
    (lambda: tx.image.rgb_to_yiq(np.zeros((4, 3), np.int32)), TypeError, "floating"),
    (lambda: tx.image.adjust_hue(IMG, 1.5), ValueError, r"\[-1, 1\]"),
    (lambda: tx.image.adjust_gamma(IMG, -1.0), ValueError, "non-negative"),
    (lambda: tx.image.convert_image_dtype(IMG, tx.bool), TypeError, "floating point or integer"),
    (lambda: tx.image.resize(IMG, [3, 3], "cubic-ish"), ValueError, "not implemented"),
    (lambda: tx.image.resize(IMG, [3]), ValueError, "2 elements"),
    (lambda: tx.image.psnr(IMG, BATCH[..., :2], 1.0), ValueError, "same last three dims"),
    (lambda: tx.image.ssim(IMG, IMG, 1.0), ValueError, "smaller than the filter"),
    (lambda: tx.image.crop_and_resize(BATCH, np.zeros((1, 3), np.float32), [0], [2, 2]),
     ValueError, r"\[num_boxes, 4\]"),
    (lambda: tx.image.non_max_suppression_padded(np.zeros((2, 3, 4), np.float32),
                                                 np.zeros((2, 3), np.float32), 2),
     ValueError, "must be True for batched input"),
    (lambda: tx.image.draw_bounding_boxes(BATCH, np.zeros((2, 1, 4), np.float32),
                                          np.zeros((1, 2), np.float32)), ValueError, "colors"),
])
def test_errors(call, cls, match):
    with pytest.raises(cls, match=match) as info:
        call()
    assert "test_image_errors.py:" in str(info.value)
    if cls is ValueError:
        assert isinstance(info.value, tx.errors.InvalidArgumentError)
