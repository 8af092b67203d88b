"""Turning model tensors into crisp pictures for the browser, and the SSIM the Denoise tab reports."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

SCALE = 5  # 28 px -> 140 px: big enough to see the pixels, small enough for a row of nine
GRID_BORDER = 60  # grey of the lines between grid cells, dark enough not to read as ink


def to_uint8(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Any [28,28]-shaped image ([1,1,28,28], [1,28,28], [28,28]) in [0,1] -> uint8 [28,28]."""
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float32).numpy()
    x = np.asarray(x, dtype=np.float32).reshape(x.shape[-2], x.shape[-1])
    return (np.clip(np.nan_to_num(x), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def upscale(image: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """Nearest-neighbour upscaling: every pixel becomes a scale x scale block, so edges stay crisp."""
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def show(x: torch.Tensor | np.ndarray, scale: int = SCALE) -> np.ndarray:
    """One digit as a uint8 picture, `scale` times its size."""
    return upscale(to_uint8(x), scale)


def grid(x: torch.Tensor, ncol: int | None = None, scale: int = 2, pad: int = 1) -> np.ndarray:
    """[N,1,28,28] in [0,1] -> one uint8 picture of the digits in rows of `ncol` (a square-ish grid by default)."""
    n = x.shape[0]
    ncol = ncol or math.ceil(math.sqrt(n))
    nrow = math.ceil(n / ncol)
    images = (x.detach().to("cpu", torch.float32).clamp(0, 1).reshape(n, 28, 28).numpy() * 255 + 0.5).astype(np.uint8)
    cell = 28 + pad
    canvas = np.full((nrow * cell + pad, ncol * cell + pad), GRID_BORDER, dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, ncol)
        canvas[pad + r * cell : pad + r * cell + 28, pad + c * cell : pad + c * cell + 28] = images[i]
    return upscale(canvas, scale)


def fit_scale(n_cols: int, target_px: int = 420, max_scale: int = 5) -> int:
    """The integer upscaling that makes n_cols digits about target_px wide (integers keep the pixels square)."""
    return max(1, min(max_scale, round(target_px / (n_cols * 29))))


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).view(1, 1, size, size)


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Structural similarity (Wang et al., 2004) per image, shape [B], for x, y float [B,1,H,W].

    The paper's settings: an 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, statistics over
    'valid' windows only (no padding, so the border does not invent structure), averaged over the map.
    """
    x, y = x.to(torch.float32), y.to(torch.float32)
    window = _gaussian_window().to(x.device)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, window)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1)
