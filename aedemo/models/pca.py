"""PCA, the linear baseline: the best rank-k linear autoencoder under squared error, fitted in closed form."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .base import N_PIXELS, PROB_EPS, Autoencoder, check_images, check_sizes, mean_bce_per_image


class PCA(Autoencoder):
    variant = "pca"
    display_name = "PCA"
    description = (
        "the linear baseline: the best linear encoder and decoder (about the data's mean) of its code size under "
        "squared error, fitted by SVD (no training loop); compare it with the models of the same code size"
    )
    reference = "Pearson 1901"
    trainable = False

    def __init__(self, latent_dim: int = 32, **config: Any) -> None:
        # an image is 784 numbers, so it has no more principal directions than that
        latent_dim = check_sizes("latent_dim", latent_dim, maximum=N_PIXELS)
        super().__init__(latent_dim, **config)
        self.register_buffer("mean", torch.zeros(N_PIXELS))
        self.register_buffer("components", torch.zeros(latent_dim, N_PIXELS))

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> PCA:
        """Set the mean and the top `latent_dim` principal directions of x ([N,1,28,28] in [0,1]; [N,28,28] and
        [N,784] too)."""
        check_images(x, self)  # as encode checks: a fit to 0-255 pixels gave a model that reconstructs nothing
        if x.shape[0] < self.latent_dim:  # n images span at most n directions: the SVD would give too few
            raise ValueError(f"a PCA of latent_dim {self.latent_dim} is fitted to at least {self.latent_dim} images, "
                             f"got {x.shape[0]}")
        flat = x.flatten(1).to("cpu", torch.float64)  # float64 for the SVD's accuracy; Apple GPUs have none
        mean = flat.mean(0)
        _, _, vh = torch.linalg.svd(flat - mean, full_matrices=False)
        self.mean.copy_(mean.float())
        self.components.copy_(vh[: self.latent_dim].float())
        return self

    def _encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return (x.flatten(1) - self.mean) @ self.components.T

    def _decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return (z @ self.components + self.mean).clamp(0, 1).view(-1, 1, 28, 28)

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # clamped to keep the BCE of a linear output finite, in float32 at least: in bfloat16 1 - PROB_EPS is 1
        p = self._decode(z).to(torch.promote_types(z.dtype, torch.float32)).clamp(PROB_EPS, 1 - PROB_EPS)
        return torch.log(p) - torch.log1p(-p)

    def loss_terms(
        self, x: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        z = self._encode(x)
        recon = mean_bce_per_image(self.decode_logits(z), x)
        mse = F.mse_loss(self._decode(z), x)
        return {"loss": recon, "bce": recon, "mse": mse}
