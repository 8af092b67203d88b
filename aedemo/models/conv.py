"""Convolutional autoencoder: strided convolutions down to a code, transposed convolutions back up."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import Autoencoder, check_sizes


class ResidualBlock(nn.Module):
    """x + conv(relu(conv(relu(x)))), 3x3, same size: depth at one resolution without hurting gradient flow."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def conv_encoder(channels: list[int], out_features: int, blocks: int = 0, in_channels: int = 1) -> nn.Sequential:
    """[B,in_channels,28,28] -> [B,out_features]: two stride-2 convolutions (28 -> 14 -> 7), then a linear layer.

    `blocks` residual blocks follow each strided convolution (0: the plain two-layer encoder).
    """
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(in_channels, c1, 4, stride=2, padding=1), *(ResidualBlock(c1) for _ in range(blocks)), nn.ReLU(),
        nn.Conv2d(c1, c2, 4, stride=2, padding=1), *(ResidualBlock(c2) for _ in range(blocks)), nn.ReLU(),
        nn.Flatten(), nn.Linear(c2 * 7 * 7, out_features),
    )


def conv_decoder(in_features: int, channels: list[int], blocks: int = 0) -> nn.Sequential:
    """[B,in_features] -> logits [B,1,28,28]: the encoder mirrored with transposed convolutions."""
    c1, c2 = channels
    return nn.Sequential(
        nn.Linear(in_features, c2 * 7 * 7), nn.Unflatten(1, (c2, 7, 7)),
        *(ResidualBlock(c2) for _ in range(blocks)), nn.ReLU(),
        nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), *(ResidualBlock(c1) for _ in range(blocks)), nn.ReLU(),
        nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),
    )


class ConvAE(Autoencoder):
    variant = "conv"
    display_name = "Conv AE"
    short_name = "Conv"
    description = (
        "convolutions instead of fully connected layers (28 → 14 → 7 pixels with strided "
        "convolutions, mirrored by transposed ones)"
    )
    reference = "Masci et al. 2011"

    def __init__(self, latent_dim: int = 32, channels: list[int] | tuple[int, ...] = (32, 64), **config: Any) -> None:
        channels = check_sizes("channels", channels, min_count=2, max_count=2)  # one per strided convolution
        super().__init__(latent_dim, channels=channels, **config)
        self.encoder = conv_encoder(channels, latent_dim)
        self.decoder = conv_decoder(latent_dim, channels)

    def _encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z)
