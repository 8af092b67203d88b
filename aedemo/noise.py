"""Input corruptions: the denoising AE trains on them, evaluation scores them, the Denoise tab shows them."""

from __future__ import annotations

import math
import numbers

import torch

NOISE_KINDS = ("gaussian", "salt_pepper", "masking")


def corrupt(
    x: torch.Tensor,
    kind: str,
    strength: float | torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Return a corrupted copy of x (float [B,1,H,W] in [0,1]); the result stays in [0,1].

    `strength` is a float or a per-image tensor of shape [B]:
    - gaussian: add N(0, strength^2) noise, then clip;
    - salt_pepper: that fraction of pixels set to 0 or 1 with equal odds;
    - masking: an occluding square (side = strength x image side) at a random place in each image.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() != 4:
        what = f"{x.dtype} {list(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"corrupt takes float images [B,1,H,W] in [0,1], got {what}")
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; choose one of {', '.join(NOISE_KINDS)}")
    # a number's value is checked (NaN made gaussian noise all NaN and masking a black image); a per-image tensor's
    # only by its shape, as reading its values would wait on a GPU at every training batch
    if isinstance(strength, torch.Tensor):
        if strength.numel() not in (1, x.shape[0]):
            raise ValueError(f"strength must be one number or one per image, [{x.shape[0]}], got "
                             f"{list(strength.shape)}")
        strength = strength.reshape(-1)
    elif not (isinstance(strength, numbers.Real) and 0 <= strength < math.inf):
        raise ValueError(f"strength must be a number of at least 0, got {strength!r}")
    b, _, h, w = x.shape
    s = torch.as_tensor(strength, dtype=x.dtype, device=x.device).expand(b).view(b, 1, 1, 1)
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + s * noise).clamp_(0.0, 1.0)
    if kind == "salt_pepper":
        hit = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) < s
        salt = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) < 0.5
        return torch.where(hit, salt.to(x.dtype), x)
    if kind == "masking":
        side = (s.view(b) * h).round().clamp(0, h).long()  # 0: no square, as strength 0 of the others adds nothing
        top = (torch.rand(b, generator=generator, device=x.device) * (h - side + 1)).long()
        left = (torch.rand(b, generator=generator, device=x.device) * (w - side + 1)).long()
        rows = torch.arange(h, device=x.device).view(1, h, 1)
        cols = torch.arange(w, device=x.device).view(1, 1, w)
        t, lf, sd = top.view(b, 1, 1), left.view(b, 1, 1), side.view(b, 1, 1)
        inside = (rows >= t) & (rows < t + sd) & (cols >= lf) & (cols < lf + sd)
        return x.masked_fill(inside.unsqueeze(1), 0.0)
    raise AssertionError(kind)  # every kind in NOISE_KINDS is handled above


# Upper ends of the strengths the denoising AE sees in training. The Denoise tab's slider goes to 1 for every kind
# and says where these lie: past them the DAE meets noise it never saw.
TRAIN_STRENGTH = {"gaussian": 0.7, "salt_pepper": 0.4, "masking": 0.5}


def random_corruption(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The denoising AE's training corruption: each image gets one kind at a random strength.

    Mixing kinds and strengths makes one model robust to all three, which is what the Denoise tab asks of it.
    """
    b = x.shape[0]
    u = torch.rand(b, generator=generator, device=x.device, dtype=x.dtype)
    pick = torch.randint(0, len(NOISE_KINDS), (b,), generator=generator, device=x.device)
    out = x
    for i, kind in enumerate(NOISE_KINDS):
        noisy = corrupt(x, kind, u * TRAIN_STRENGTH[kind], generator)
        out = torch.where((pick == i).view(b, 1, 1, 1), noisy, out)
    return out
