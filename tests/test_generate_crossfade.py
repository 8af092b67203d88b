"""The Generate tab's interpolation strip: under the frames decoded from mixed codes, the same two test digits mixed
pixel by pixel (the cross-fade), frame for frame."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from aedemo.space import generate_tab, images
from aedemo.space.generate_tab import STRIP_GAP

CELL = 29  # a frame and the 1-px line before it, in a row of images.grid
ROW = 30  # a row's height: the frame and a line above and below
GREY = 128  # the gaps' mid grey


def split_strip(strip: np.ndarray, steps: int) -> dict[str, np.ndarray]:
    """An interpolation strip with two rows, back at 1 px a pixel: its end digits and the frames of each row."""
    scale = strip.shape[0] // (2 * ROW + STRIP_GAP)
    cells = strip[::scale, ::scale]
    assert cells.shape == (2 * ROW + STRIP_GAP, 2 * ROW + 2 * STRIP_GAP + steps * CELL + 1)
    left = ROW + STRIP_GAP  # where the rows of frames start
    top = (cells.shape[0] - ROW) // 2  # the end digits sit halfway down, beside both rows

    def frames(y: int) -> np.ndarray:
        return np.stack([cells[y + 1 : y + 29, left + 1 + i * CELL : left + 29 + i * CELL] for i in range(steps)])

    return {
        "cells": cells, "codes": frames(0), "pixels": frames(ROW + STRIP_GAP),
        "left": cells[top + 1 : top + 29, 1:29], "right": cells[top + 1 : top + 29, -29:-1],
        "between": cells[ROW : ROW + STRIP_GAP, left:-left],  # the gap between the two rows
    }


@pytest.mark.parametrize("name", ["vae", "ae", "pca"])
def test_under_the_mixed_codes_the_same_digits_are_mixed_pixel_by_pixel(store, mnist_test, name):
    if name not in store.models:
        pytest.skip(f"no {name} checkpoint")
    steps = 7
    strip, note = generate_tab.interpolate(store, name, 2, 8, steps, 1.0, 5)
    ia, ib = (int(i) for i in re.findall(r"#(\d+)", note))
    images_u8, labels = mnist_test
    assert (int(labels[ia]), int(labels[ib])) == (2, 8)
    parts = split_strip(strip, steps)

    # the real digits at either end, and the pixel row's ends are those digits themselves
    a_digit, b_digit = images_u8[ia].numpy(), images_u8[ib].numpy()
    assert np.array_equal(parts["left"], a_digit) and np.array_equal(parts["right"], b_digit)
    xa, xb = (images_u8[i].double() / 255 for i in (ia, ib))
    t = torch.linspace(0, 1, steps, dtype=torch.float64).view(-1, 1, 1)
    crossfade = ((1 - t) * xa + t * xb).mul(255).round().numpy()
    assert np.abs(parts["pixels"].astype(float) - crossfade).max() <= 1  # (1 - t) xa + t xb, to uint8 rounding
    assert np.array_equal(parts["pixels"][0], a_digit) and np.array_equal(parts["pixels"][-1], b_digit)

    # the row above: the decoder's frames at the same t, one above the other
    model = store.models[name]
    with torch.no_grad():
        za, zb = model.encode(torch.stack([xa, xb]).float().unsqueeze(1).to(model.device)).cpu()
        decoded = model.decode(((1 - t.view(-1, 1).float()) * za + t.view(-1, 1).float() * zb).to(model.device))
    assert np.abs(parts["codes"].astype(int) - images.to_uint8_batch(decoded).astype(int)).max() <= 1
    assert (parts["between"] == GREY).all()
    # the status line says which row is which
    assert "Top: their codes mixed" in note and "Bottom: their pixels mixed" in note


def test_halfway_the_pixels_are_two_faint_digits_the_codes_one_digit(store):
    """What the second row is for: halfway, the cross-fade is both digits at half strength, two ghosts overlaid; the
    decoder draws one shape, mostly in full strokes."""
    if "vae" not in store.models:
        pytest.skip("no VAE checkpoint")
    steps = 9  # frame 4 is t = 0.5
    parts = split_strip(generate_tab.interpolate(store, "vae", 1, 0, steps, 1.0, 0)[0], steps)
    ends, pixels, codes = parts["pixels"][[0, -1]].astype(int), parts["pixels"][4], parts["codes"][4]
    assert np.abs(pixels - (ends[0] + ends[1]) / 2).max() <= 1

    def half_and_full(frame: np.ndarray) -> tuple[int, int]:
        return int(((frame > 64) & (frame < 160)).sum()), int((frame >= 160).sum())

    (pixels_half, pixels_full), (codes_half, codes_full) = half_and_full(pixels), half_and_full(codes)
    assert pixels_half > 2 * pixels_full and codes_full > 2 * codes_half, (half_and_full(pixels), half_and_full(codes))


def test_the_cvae_class_morph_keeps_its_single_row(store):
    if "cvae" not in store.models:
        pytest.skip("no CVAE checkpoint")
    steps = 6
    strip, note = generate_tab.interpolate(store, "cvae", 3, 5, steps, 1.0, 0)
    scale = strip.shape[1] // (steps * CELL + 1)
    assert strip.shape == (ROW * scale, (steps * CELL + 1) * scale)  # the frames alone: no ends, no second row
    assert "Bottom" not in note


def test_the_strip_layout():
    frames, blend = torch.full((3, 1, 28, 28), 1.0), torch.zeros(3, 1, 28, 28)
    ends = (torch.full((1, 1, 28, 28), 0.75), torch.full((1, 1, 28, 28), 0.25))
    cells = generate_tab._strip(frames, ends, 1, blend)
    height, width = 2 * ROW + STRIP_GAP, 2 * ROW + 2 * STRIP_GAP + 3 * CELL + 1
    assert cells.shape == (height, width)
    top = (height - ROW) // 2
    assert (cells[top + 1 : top + 29, 1:29] == 191).all() and (cells[top + 1 : top + 29, -29:-1] == 64).all()
    # the end columns are grey above and below their digit, as are the gaps
    assert (cells[:top, :ROW] == GREY).all() and (cells[top + ROW :, :ROW] == GREY).all()
    assert (cells[:, ROW : ROW + STRIP_GAP] == GREY).all() and (cells[ROW : ROW + STRIP_GAP, ROW:-ROW] == GREY).all()
    assert (cells[1:29, ROW + STRIP_GAP + 1 : ROW + STRIP_GAP + 29] == 255).all()  # the first code frame
    assert (cells[ROW + STRIP_GAP + 1 : -1, ROW + STRIP_GAP + 1 : ROW + STRIP_GAP + 29] == 0).all()  # under it
    assert generate_tab._strip(frames, ends, 3, blend).shape == (3 * height, 3 * width)
