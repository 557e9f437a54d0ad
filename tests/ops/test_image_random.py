"""tx.image's random augmentations: our bits come from threefry, not TF's philox, so these check
what TF promises — ranges, distributions, per-image coins, determinism in the seed, eager ==
compiled — and TF's argument errors."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx

RNG = np.random.default_rng(7)
IMG = RNG.random((4, 5, 3)).astype(np.float32)
SEEDS = [np.array([i, 3 * i + 1], np.int32) for i in range(40)]


def _compiled(fn):
    """fn(image, seed) compiled once, run per seed (the seed is a run-time input)."""
    f = tx.function(fn)
    return [f(IMG, s).numpy() for s in SEEDS]


def test_stateless_brightness_delta_uniform_and_deterministic():
    outs = _compiled(lambda x, s: tx.image.stateless_random_brightness(x, 0.2, s))
    deltas = np.array([(o - IMG).mean() for o in outs])
    for o, d in zip(outs, deltas):  # one delta per call, added to every pixel
        np.testing.assert_allclose(o - IMG, d, atol=1e-6)
    assert np.all(np.abs(deltas) <= 0.2) and deltas.min() < -0.1 and deltas.max() > 0.1
    eager = tx.image.stateless_random_brightness(IMG, 0.2, SEEDS[3]).numpy()
    np.testing.assert_array_equal(eager, outs[3])
    assert len({round(float(d), 6) for d in deltas}) == len(deltas)


def test_stateless_contrast_and_saturation_factors_in_range():
    outs = _compiled(lambda x, s: tx.image.stateless_random_contrast(x, 0.3, 0.6, s))
    m = IMG.mean(axis=(0, 1))
    factors = [np.median((o - m) / (IMG - m)) for o in outs]
    assert all(0.3 - 1e-4 <= f <= 0.6 + 1e-4 for f in factors)
    assert max(factors) - min(factors) > 0.15
    for s in SEEDS[:3]:
        got = tx.image.stateless_random_saturation(IMG, 0.5, 1.5, s).numpy()
        cands = [tx.image.adjust_saturation(IMG, f).numpy() for f in np.linspace(0.5, 1.5, 201)]
        assert min(np.abs(c - got).max() for c in cands) < 0.01


def test_stateless_hue_delta_in_range():
    outs = _compiled(lambda x, s: tx.image.stateless_random_hue(x, 0.1, s))
    hsv_in = tx.image.rgb_to_hsv(IMG).numpy()[..., 0]
    shifts = [((tx.image.rgb_to_hsv(o).numpy()[..., 0] - hsv_in + 0.5) % 1.0 - 0.5).mean()
              for o in outs]
    assert all(abs(d) <= 0.1 + 1e-4 for d in shifts) and max(shifts) - min(shifts) > 0.1


def test_flips_per_image_coin():
    batch = np.repeat(IMG[None], 64, 0)
    for name, axis in (("left_right", 2), ("up_down", 1)):
        out = getattr(tx.image, f"stateless_random_flip_{name}")(batch, (1, 2)).numpy()
        flipped = np.array([np.array_equal(o, np.flip(IMG, axis - 1)) for o in out])
        same = np.array([np.array_equal(o, IMG) for o in out])
        assert np.all(flipped | same) and 16 < flipped.sum() < 48
        one = getattr(tx.image, f"random_flip_{name}")(IMG).numpy()
        assert np.array_equal(one, IMG) or np.array_equal(one, np.flip(IMG, axis - 1))


def test_crops_cover_every_offset():
    outs = _compiled(lambda x, s: tx.image.stateless_random_crop(x, [2, 3, 3], s))
    seen = set()
    for o in outs:
        hits = [(i, j) for i in range(3) for j in range(3)
                if np.array_equal(o, IMG[i:i + 2, j:j + 3])]
        assert len(hits) == 1
        seen.add(hits[0])
    assert len(seen) == 9
    assert tx.image.random_crop(IMG, [4, 5, 3]).numpy().tolist() == IMG.tolist()


def test_stateful_draws_differ_between_calls():
    a = tx.image.random_brightness(IMG, 0.5).numpy()
    b = tx.image.random_brightness(IMG, 0.5).numpy()
    assert not np.array_equal(a, b)
    for fn in (lambda: tx.image.random_contrast(IMG, 0.2, 0.9),
               lambda: tx.image.random_saturation(IMG, 0.2, 0.9),
               lambda: tx.image.random_hue(IMG, 0.2)):
        assert fn().shape == IMG.shape


@pytest.mark.parametrize("call,match", [
    (lambda: tx.image.random_brightness(IMG, -0.1), "max_delta"),
    (lambda: tx.image.stateless_random_hue(IMG, 0.6, (1, 2)), "max_delta"),
    (lambda: tx.image.random_contrast(IMG, 0.5, 0.5), "upper must be > lower"),
    (lambda: tx.image.stateless_random_saturation(IMG, -0.5, 0.5, (1, 2)), "non-negative"),
    (lambda: tx.image.random_crop(IMG, [5, 5, 3]), "value.shape >= size"),
])
def test_argument_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


BOXES = np.array([[[0.1, 0.2, 0.6, 0.7], [0.3, 0.3, 0.9, 0.8]]], np.float32)


def test_sample_distorted_bounding_box_constraints():
    """Every sampled crop lies in the image, has an aspect ratio and area in range (up to the
    kernel's rounding to whole pixels) and covers min_object_covered of a box."""
    f = tx.function(lambda s: tx.image.stateless_sample_distorted_bounding_box(
        [40, 50, 3], BOXES, s, min_object_covered=0.4, aspect_ratio_range=(0.5, 2.0),
        area_range=(0.1, 0.6)))
    pix = np.floor(BOXES[0] * np.float32([40, 50, 40, 50]))  # in float32, as the kernel
    sizes = set()
    for s in SEEDS[:30]:
        begin, size, bbox = (t.numpy() for t in f(s))
        (y, x, z), (h, w, c) = begin, size
        assert z == 0 and c == -1 and y >= 0 and x >= 0 and y + h <= 40 and x + w <= 50
        assert 0.5 - 0.5 / h <= w / h <= 2.0 + 0.5 / h
        assert 0.1 <= h * w / 2000 <= 0.6
        inter = [max(0, min(y + h, b[2]) - max(y, b[0])) * max(0, min(x + w, b[3]) - max(x, b[1]))
                 for b in pix]
        assert any(i >= 0.4 * (b[2] - b[0]) * (b[3] - b[1]) for i, b in zip(inter, pix))
        np.testing.assert_allclose(bbox.ravel(), [y / 40, x / 50, (y + h) / 40, (x + w) / 50],
                                   rtol=1e-6)
        sizes.add((h, w))
    assert len(sizes) > 10
    eager = tx.image.stateless_sample_distorted_bounding_box(
        [40, 50, 3], BOXES, SEEDS[5], min_object_covered=0.4, aspect_ratio_range=(0.5, 2.0),
        area_range=(0.1, 0.6))
    np.testing.assert_array_equal(eager[1].numpy(), f(SEEDS[5])[1].numpy())


def test_sample_distorted_bounding_box_falls_back_to_whole_image():
    begin, size, bbox = tx.image.sample_distorted_bounding_box(
        [40, 50, 3], BOXES, min_object_covered=1.0, area_range=(0.05, 0.06))
    assert begin.numpy().tolist() == [0, 0, 0] and size.numpy().tolist() == [40, 50, -1]
    assert bbox.numpy().ravel().tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="use_image_if_no_bounding_boxes"):
        tx.image.sample_distorted_bounding_box([4, 5, 3], np.zeros((1, 0, 4), np.float32))
    _, size, _ = tx.image.sample_distorted_bounding_box(
        [40, 50, 3], np.zeros((1, 0, 4), np.float32), use_image_if_no_bounding_boxes=True)
    assert size.numpy()[0] <= 40
