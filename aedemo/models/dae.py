"""Denoising autoencoder: reconstructs the clean digit from a corrupted one (Vincent et al., 2008)."""

from __future__ import annotations

import torch

from ..noise import random_corruption
from .ae import AE
from .base import mean_bce_per_image


class DAE(AE):
    variant = "dae"
    display_name = "Denoising AE"
    short_name = "DAE"
    description = (
        "shaped like the AE, trained to redraw clean digits from corrupted ones (Gaussian "
        "noise, salt & pepper, masked squares)"
    )
    reference = "Vincent et al. 2008"
    loss_words = "BCE noisy → clean (nats per image)"  # the clean digit redrawn from a corrupted one

    def loss_terms(
        self, x: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        noisy = random_corruption(x, generator)
        recon = mean_bce_per_image(self.decode_logits(self._encode(noisy)), x)
        return {"loss": recon, "bce": recon}
