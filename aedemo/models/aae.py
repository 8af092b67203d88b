"""Adversarial autoencoder (Makhzani et al., 2016): a discriminator makes the codes look like N(0, I)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .ae import AE
from .base import adam, mean_bce_per_image, mlp


class AAE(AE):
    variant = "aae"
    display_name = "AAE"
    description = (
        "a discriminator on the codes pushes them towards a Gaussian prior (adversarial training in place of the "
        "VAE's KL term, and on the codes of all digits together, where the KL term pulls each digit's own)"
    )
    reference = "Makhzani et al. 2016"
    loss_words = "BCE (nats per image), no GAN terms"  # the adversarial terms have their own optimisers
    generative = True

    def __init__(
        self,
        latent_dim: int = 8,
        hidden: list[int] | tuple[int, ...] = (512, 256),
        disc_hidden: list[int] | tuple[int, ...] = (512, 512),
        **config: Any,
    ) -> None:
        super().__init__(latent_dim, hidden, disc_hidden=disc_hidden, **config)  # which checks the sizes
        self.discriminator = mlp([latent_dim, *disc_hidden, 1])

    def discriminator_loss(self, z_fake: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """How badly the discriminator tells prior draws (real) from the encoder's codes `z_fake` (fake)."""
        z_real = torch.randn(z_fake.shape, generator=generator, device=z_fake.device, dtype=z_fake.dtype)
        d_real, d_fake = self.discriminator(z_real), self.discriminator(z_fake)
        return F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + (
            F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        )

    def generator_loss(self, z_fake: torch.Tensor) -> torch.Tensor:
        """The encoder's loss as the generator: how surely the discriminator calls its codes fake."""
        logits = self.discriminator(z_fake)
        return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))

    def loss_terms(
        self, x: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        z = self._encode(x)
        recon = mean_bce_per_image(self.decode_logits(z), x)
        # "loss" is the reconstruction: the adversarial terms are minimised by their own optimisers, in turn
        d_loss, g_loss = self.discriminator_loss(z, generator), self.generator_loss(z)
        return {"loss": recon, "bce": recon, "disc": d_loss, "gen": g_loss}

    def configure_optimizers(self, lr: float) -> list[torch.optim.Optimizer]:
        autoencoder = [*self.encoder.parameters(), *self.decoder.parameters()]
        return [
            adam(autoencoder, lr=lr),
            adam(self.discriminator.parameters(), lr=lr / 2, betas=(0.5, 0.999)),
            adam(self.encoder.parameters(), lr=lr / 2, betas=(0.5, 0.999)),
        ]

    def training_step(
        self,
        x: torch.Tensor,
        labels: torch.Tensor,
        optimizers: list[torch.optim.Optimizer],
        generator: torch.Generator | None = None,
    ) -> dict[str, float]:
        """The paper's two phases: reconstruction, then regularisation (discriminator, then encoder)."""
        ae_opt, disc_opt, gen_opt = optimizers
        recon = mean_bce_per_image(self.decode_logits(self._encode(x)), x)
        ae_opt.zero_grad(set_to_none=True)
        recon.backward()
        ae_opt.step()

        with torch.no_grad():  # the discriminator's turn: the encoder only supplies the fakes
            z_fake = self._encode(x)
        d_loss = self.discriminator_loss(z_fake, generator)
        disc_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        disc_opt.step()

        g_loss = self.generator_loss(self._encode(x))
        gen_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        gen_opt.step()
        return {"loss": recon.item(), "bce": recon.item(), "disc": d_loss.item(), "gen": g_loss.item()}
