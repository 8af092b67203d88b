"""Conditional VAE (Sohn et al., 2015): the class, one-hot, goes into both the encoder and the decoder."""

from __future__ import annotations

import torch

from .base import one_hot
from .vae import VAE


class CVAE(VAE):
    variant = "cvae"
    description = "Conditional VAE: generates the digit class you ask for"
    conditional = True

    def __init__(self, latent_dim: int = 16, hidden=(512,), channels=(32, 64), **config):
        super().__init__(latent_dim, hidden, channels, **config)

    def _condition(self, h: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        # A one-hot vector, not a scalar class id: a scalar imposes a false order on the classes and
        # conditions poorly (samples land in the asked class only about a third of the time).
        return torch.cat([h, one_hot(labels)], 1)
