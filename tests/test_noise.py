"""The corruptions the denoising AE trains on, the evaluation scores and the Denoise tab shows: each does what its
name and strength say."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aedemo.noise import NOISE_KINDS, TRAIN_STRENGTH, corrupt, random_corruption

GREY = torch.full((64, 1, 28, 28), 0.5)


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_gaussian_noise_has_the_strength_as_its_standard_deviation():
    noisy = corrupt(GREY, "gaussian", 0.1, seeded())
    noise = noisy - GREY  # 0.5 +- 5 sigma: clipping never reached
    assert noise.std().item() == pytest.approx(0.1, rel=0.02) and abs(noise.mean().item()) < 0.002
    assert corrupt(GREY, "gaussian", 2.0, seeded()).aminmax() == (torch.tensor(0.0), torch.tensor(1.0))  # clipped


def test_salt_and_pepper_sets_that_fraction_of_pixels_to_black_or_white_alike():
    noisy = corrupt(GREY, "salt_pepper", 0.5, seeded())
    n = noisy.numel()
    assert (noisy == 0).sum().item() / n == pytest.approx(0.25, abs=0.01)
    assert (noisy == 1).sum().item() / n == pytest.approx(0.25, abs=0.01)
    assert ((noisy == 0) | (noisy == 1) | (noisy == 0.5)).all()


def test_masking_blacks_out_one_square_of_the_strengths_side_per_image():
    noisy = corrupt(torch.ones(8, 1, 28, 28), "masking", 0.25, seeded())
    for image in noisy[:, 0]:
        rows, cols = (image == 0).nonzero(as_tuple=True)
        assert len(rows) == 7 * 7  # round(0.25 * 28)
        assert rows.max() - rows.min() == 6 and cols.max() - cols.min() == 6  # one square, not scattered pixels


@pytest.mark.parametrize("strength, side", [(0.01, 0), (0.3, 8), (0.32, 9), (1.0, 28)])
def test_the_masking_squares_side_is_the_strength_times_the_image_side_to_the_nearest_pixel(strength, side):
    # rounding up would black out a pixel at the smallest strengths and 9x9 at 0.3; rounding down 8x8 at 0.32
    noisy = corrupt(torch.ones(4, 1, 28, 28), "masking", strength, seeded())
    assert ((noisy == 0).flatten(1).sum(1) == side * side).all()


def test_the_masking_square_can_sit_anywhere_in_the_image_edges_included():
    # one place short, the square would never reach the last row or column: a digit's bottom and right stay seen
    hidden = corrupt(torch.ones(2000, 1, 28, 28), "masking", 0.25, seeded())[:, 0] == 0
    tops, lefts = hidden.any(2).float().argmax(1), hidden.any(1).float().argmax(1)  # first hidden row, column
    places = set(range(28 - 7 + 1))  # a 7x7 square fits at 22 places along each side
    assert set(tops.tolist()) == places and set(lefts.tolist()) == places


@pytest.mark.parametrize("kind", ["gaussian", "salt_pepper", "masking"])
def test_strength_0_leaves_the_digit_as_it_was(kind):
    # masking at 0 (and up to 1/56) blacked out one pixel: the Denoise slider at 0 showed a corrupted digit
    white = torch.ones(8, 1, 28, 28)
    assert torch.equal(corrupt(white, kind, 0.0, seeded()), white)
    assert torch.equal(corrupt(white, kind, torch.tensor([0.0] * 4 + [0.5] * 4), seeded())[:4], white[:4])


def test_a_strength_per_image_and_the_generator_decide_the_result():
    noisy = corrupt(GREY[:2], "salt_pepper", torch.tensor([0.0, 0.5]), seeded())
    assert torch.equal(noisy[0], GREY[0]) and not torch.equal(noisy[1], GREY[1])
    assert torch.equal(corrupt(GREY, "gaussian", 0.3, seeded(1)), corrupt(GREY, "gaussian", 0.3, seeded(1)))
    assert not torch.equal(corrupt(GREY, "gaussian", 0.3, seeded(1)), corrupt(GREY, "gaussian", 0.3, seeded(2)))
    assert torch.equal(GREY, torch.full((64, 1, 28, 28), 0.5))  # a copy: the input is left as it was


def test_an_unknown_kind_names_the_known_ones():
    with pytest.raises(ValueError, match="gaussian, salt_pepper, masking"):
        corrupt(GREY, "blur", 0.5)


def test_a_strength_or_images_corrupt_cannot_honour_are_refused_in_words():
    # NaN made gaussian noise all NaN, a black square of masking and no change of salt & pepper; the others failed
    # in torch's words ("not enough values to unpack", '"normal_kernel_cpu" not implemented for 'Byte'')
    for kind in NOISE_KINDS:
        for strength in (float("nan"), float("inf"), -0.1, "0.5", None):
            with pytest.raises(ValueError, match="strength must be a number of at least 0"):
                corrupt(GREY, kind, strength)
        with pytest.raises(ValueError, match=r"one per image, \[64\], got \[3\]"):  # was torch's "expand"
            corrupt(GREY, kind, torch.full((3,), 0.5))
        for images in (GREY[:, 0], GREY.flatten(1), (GREY * 255).to(torch.uint8)):
            with pytest.raises(ValueError, match=r"float images \[B,1,H,W\] in \[0,1\], got torch\."):
                corrupt(images, kind, 0.5)
    assert torch.equal(corrupt(GREY, "gaussian", np.float32(0.3), seeded(1)), corrupt(GREY, "gaussian", 0.3, seeded(1)))


def test_the_training_corruption_mixes_the_three_kinds_at_strengths_from_0_to_the_training_maximum():
    # every image at the maximum strength, or only the masked images corrupted (the others left clean), passed the
    # tests above: the DAE would train on noise unlike what the Denoise tab says it saw
    grey = torch.full((600, 1, 28, 28), 0.5)
    noisy = random_corruption(grey, seeded())
    change = (noisy - grey).flatten(1)
    levels_only = ((noisy == 0) | (noisy == 0.5) | (noisy == 1)).flatten(1).all(1)
    gaussian = ~levels_only  # any other value is Gaussian noise
    salt_pepper = levels_only & (noisy == 1).flatten(1).any(1)  # only salt-and-pepper turns pixels white
    masking = levels_only & ~salt_pepper & (change != 0).any(1)
    assert min(gaussian.sum(), salt_pepper.sum(), masking.sum()) > 150  # about a third each
    sigma = change[gaussian].std(1)  # below the true sigma where clipped, so only bounded from above
    assert sigma.min() < 0.05 and sigma.max() > 0.3 and sigma.max() <= TRAIN_STRENGTH["gaussian"]
    fraction = (change[salt_pepper] != 0).float().mean(1)
    assert fraction.min() < 0.05 and fraction.max() > 0.3 and fraction.max() <= TRAIN_STRENGTH["salt_pepper"] + 0.05
    side = (change[masking] != 0).sum(1).float().sqrt()
    assert side.min() <= 2 and side.max() >= 12 and side.max() <= round(TRAIN_STRENGTH["masking"] * 28)
