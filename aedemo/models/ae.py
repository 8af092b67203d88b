"""The plain autoencoder: an MLP encoder to a small code and an MLP decoder back."""

from __future__ import annotations

from typing import Any

import torch

from .base import N_PIXELS, Autoencoder, mlp


class AE(Autoencoder):
    variant = "ae"
    display_name = "AE"
    description = (
        "a plain autoencoder, fully connected layers down to the code and back up, trained only to "
        "redraw its input"
    )
    reference = "Hinton & Salakhutdinov 2006"

    def __init__(self, latent_dim: int = 32, hidden: list[int] | tuple[int, ...] = (512, 256), **config: Any) -> None:
        super().__init__(latent_dim, hidden=hidden, **config)  # which checks the sizes
        self.encoder = mlp([N_PIXELS, *hidden, latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), N_PIXELS])

    def _encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(x.flatten(1))

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z).view(-1, 1, 28, 28)
