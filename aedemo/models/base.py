"""The one interface every model implements, and the small building blocks they share."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

IMAGE_SHAPE = (1, 28, 28)
N_PIXELS = 28 * 28
N_CLASSES = 10


def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU, last_activation: bool = False) -> nn.Sequential:
    """Linear layers of the given sizes with `activation` between them (and after the last if asked)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or last_activation:
            layers.append(activation())
    return nn.Sequential(*layers)


def one_hot(labels: torch.Tensor) -> torch.Tensor:
    return F.one_hot(labels, N_CLASSES).to(torch.float32)


def mean_bce_per_image(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy summed over pixels, averaged over the batch: nats per image, a scalar.

    One reduction over the whole batch: a [B, 784] loss map and a per-image sum would be two more kernels (and
    their backward) in every training step.

    Written out as softplus(l) - x*l = relu(l) - x*l - log(sigmoid(|l|)) rather than with
    F.binary_cross_entropy_with_logits: torch's CPU log1p, which that function and F.softplus use, was ~10x
    slower than log here (AMD EPYC, Zen 5), so theirs took 0.69 ms of forward and backward per batch of 128
    against 0.22 ms for this form. sigmoid(|l|) lies in [1/2, 1), so the log is well conditioned; where it
    rounds to 1 (|l| > 17) the term it drops is under 1e-7 nats per pixel.
    """
    if logits.shape != x.shape:  # broadcasting would silently sum a loss over the wrong pairs of pixels
        raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(x.shape)} must have the same shape")
    return (F.relu(logits) - logits * x - torch.log(torch.sigmoid(logits.abs()))).sum() / x.shape[0]


def adam(params: Iterable[nn.Parameter], lr: float, **kwargs) -> torch.optim.Adam:
    """Adam, with the fused kernel where torch has one: the for-loop version was ~40 % of a small model's step."""
    params = list(params)
    fused = all(p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.Adam(params, lr=lr, fused=fused or None, **kwargs)


class Trainable:
    """What the one training loop needs of a model: its loss terms, its optimisers, one step.

    The default step minimises `loss_terms(...)["loss"]` with one Adam; the AAE overrides it (its two phases take
    three optimiser steps).
    """

    def loss_terms(
        self, x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Per-batch mean of each loss term; the key "loss" is the sum that is minimised."""
        raise NotImplementedError

    def configure_optimizers(self, lr: float) -> list[torch.optim.Optimizer]:
        return [adam(self.parameters(), lr=lr)]

    def training_step(
        self,
        x: torch.Tensor,
        labels: torch.Tensor,
        optimizers: list[torch.optim.Optimizer],
        generator: torch.Generator | None = None,
    ) -> dict[str, float]:
        """One optimisation step; returns the loss terms as floats. The AAE overrides this (two phases)."""
        (opt,) = optimizers
        terms = self.loss_terms(x, labels, generator)
        opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        opt.step()
        return {k: v.item() for k, v in terms.items()}


class Autoencoder(Trainable, nn.Module):
    """Base class: an encoder to a code of `latent_dim`, a decoder back to [B,1,28,28] in [0,1].

    Subclasses implement `encode`, `decode_logits` and `loss_terms`. The constructor's keyword arguments are
    the whole architecture: they are what config.json stores, so `cls(**config)` rebuilds the module.
    """

    variant: ClassVar[str]
    description: ClassVar[str] = ""
    conditional: ClassVar[bool] = False  # encode/decode need labels
    generative: ClassVar[bool] = False  # has a prior to `sample` from
    trainable: ClassVar[bool] = True  # trained by gradient steps (PCA is fitted in closed form)

    def __init__(self, latent_dim: int, **config):
        super().__init__()
        self.latent_dim = latent_dim
        self.config = {"variant": self.variant, "latent_dim": latent_dim, **config}

    # --- the public interface -------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(z, self._labels(labels, z.shape[0])))

    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        labels = self._labels(labels, x.shape[0])
        return self.decode(self.encode(x, labels), labels)

    def sample(
        self, n: int, labels: torch.Tensor | None = None, generator: torch.Generator | None = None,
        temperature: float = 1.0,
    ) -> torch.Tensor:
        """Decode n draws from the prior N(0, temperature^2 I) (generative variants only)."""
        if not self.generative:
            raise TypeError(f"{self.variant} has no prior to sample from; use vae, cvae or aae")
        device = self.device
        z = temperature * torch.randn(n, self.latent_dim, generator=generator, device="cpu").to(device)
        return self.decode(z, labels)

    # --- helpers ------------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(itertools.chain(self.parameters(), self.buffers())).device

    def _labels(self, labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if self.conditional:
            if labels is None:
                raise ValueError(f"{self.variant} needs labels: an int64 tensor of {n} class ids (0-9)")
            labels = torch.as_tensor(labels, dtype=torch.int64, device=self.device)
            if labels.shape != (n,):
                raise ValueError(f"{self.variant} needs one label per image: got shape {tuple(labels.shape)} for {n}")
            if labels.numel() and (labels.min() < 0 or labels.max() >= N_CLASSES):
                raise ValueError(f"labels must be class ids 0-9, got {labels.tolist()}")
        return labels

    def extra_repr(self) -> str:
        return f"variant={self.variant!r}, latent_dim={self.latent_dim}"
