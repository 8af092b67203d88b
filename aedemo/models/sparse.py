"""Sparse autoencoder: sigmoid code units pushed to fire rarely by a KL(rho || rho_hat) penalty (Ng, 2011)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .ae import AE
from .base import Penalty, check_range, mean_bce_per_image


def kl_sparsity(rho: float, rho_hat: torch.Tensor) -> torch.Tensor:
    """Sum over units of KL(Bernoulli(rho) || Bernoulli(rho_hat)); rho_hat is each unit's mean activation.

    In float32 at least, whatever rho_hat comes in: in bf16 (training under autocast) the two logs of ratios near 1
    cancel into noise (the KL came out negative near rho) and the clamp's 1 - 1e-6 rounds to 1."""
    rho_hat = rho_hat.to(torch.promote_types(rho_hat.dtype, torch.float32)).clamp(1e-6, 1 - 1e-6)
    return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


class SparseAE(AE):
    variant = "sparse"
    display_name = "Sparse AE"
    short_name = "Sparse"
    description = (
        "a wide code of sigmoid units (the shipped model's 128, against 32 for most others: still fewer than the 784 "
        "pixels); a penalty (β times the KL divergence between a small target ρ and each unit's mean activation over "
        "a batch) pushes those means towards ρ, so each unit responds to few digits"
    )
    reference = "Ng 2011"
    loss_words = "BCE (nats per image) + {beta:g}×sparsity KL"  # the KL is one per batch, of the mean activations
    loss_weights = {"rho": "ρ", "beta": "β"}
    penalty = Penalty("kl_sparsity", "The sparsity penalty on the test digits: how far the code units' mean "
                      "activations sit from the target ρ", "KL(ρ‖ρ̂), summed over units")

    def __init__(
        self,
        latent_dim: int = 128,
        hidden: list[int] | tuple[int, ...] = (512,),
        rho: float = 0.05,
        beta: float = 3.0,
        **config: Any,
    ) -> None:
        rho = check_range("rho", rho, 0, 1, open_low=True)  # a target firing rate: KL(rho || rho_hat) needs 0 < rho < 1
        beta = check_range("beta", beta, 0)
        super().__init__(latent_dim, hidden, rho=rho, beta=beta, **config)
        self.rho, self.beta = rho, beta
        self.encoder.append(nn.Sigmoid())  # activations in (0,1): "firing rate" is what rho targets

    def loss_terms(
        self, x: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        code = self._encode(x)
        recon = mean_bce_per_image(self.decode_logits(code), x)
        sparsity = kl_sparsity(self.rho, code.mean(0))
        return {"loss": recon + self.beta * sparsity, "bce": recon, "kl_sparsity": sparsity}
