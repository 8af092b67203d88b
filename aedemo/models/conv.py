"""Convolutional autoencoder: strided convolutions down to a code, transposed convolutions back up."""

from __future__ import annotations

import torch
from torch import nn

from .base import Autoencoder, bce_per_image


class ConvAE(Autoencoder):
    variant = "conv"
    description = "Convolutional AE: 28 -> 14 -> 7 with strided convs, mirrored by transposed convs"

    def __init__(self, latent_dim: int = 32, channels: list[int] | tuple[int, ...] = (32, 64), **config):
        c1, c2 = channels
        super().__init__(latent_dim, channels=[c1, c2], **config)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.ReLU(),  # 28 -> 14
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),  # 14 -> 7
            nn.Flatten(), nn.Linear(c2 * 7 * 7, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, c2 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),  # 7 -> 14
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),  # 14 -> 28
        )

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z)

    def loss_terms(self, x, labels, generator=None):
        recon = bce_per_image(self.decode_logits(self.encode(x)), x).mean()
        return {"loss": recon, "bce": recon}
