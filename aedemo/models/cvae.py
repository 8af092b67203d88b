"""Conditional VAE (Sohn et al., 2015): the class, one-hot, goes into both the encoder and the decoder."""

from __future__ import annotations

import torch

from .base import one_hot
from .vae import VAE


class CVAE(VAE):
    variant = "cvae"
    description = "Conditional VAE: generates the digit class you ask for"
    conditional = True

    def __init__(self, latent_dim: int = 16, hidden=(512, 256), **config):
        super().__init__(latent_dim, hidden, **config)

    def _encoder_input(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return torch.cat([x.flatten(1), one_hot(labels)], 1)

    def _decoder_input(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return torch.cat([z, one_hot(labels)], 1)
