"""Variational autoencoder (Kingma & Welling, 2014): Gaussian posterior, reparameterisation, closed-form KL."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from . import mlp_gradients
from .base import (
    N_PIXELS,
    Autoencoder,
    Labels,
    Penalty,
    bce_logits_gradient,
    bce_sum,
    check_sizes,
    mean_bce_per_image,
    mlp,
)
from .conv import conv_decoder, conv_encoder


def gaussian_kl(
    mu: torch.Tensor, logvar: torch.Tensor, prior_mu: torch.Tensor | None = None,
    prior_logvar: torch.Tensor | None = None,
) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || prior) per row, in nats; the prior is N(0, I) unless given."""
    if prior_mu is None or prior_logvar is None:
        return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return 0.5 * (prior_logvar - logvar + (logvar.exp() + (mu - prior_mu).pow(2)) / prior_logvar.exp() - 1).sum(1)


class VAE(Autoencoder):
    """Convolutional encoder/decoder by default; `channels=None` makes both MLPs of `hidden` sizes. The convolutional
    version reads only `hidden[-1]`: the width of the layer its mean and log-variance heads read.

    One residual block per resolution (`blocks=1`, the convolutional version's default) is what reached the 95-nat
    target: the plain two-layer version stopped at a test -ELBO of 97.9 after 30 epochs; with the blocks it was 94.5
    after 16 and 92.2 after 40 (checkpoints/vae/metrics.json), for ~2x the compute per step.
    """

    variant = "vae"
    display_name = "VAE"
    description = (
        "its encoder gives each digit a Gaussian over codes, N(μ, σ²); training maximises the ELBO "
        "(reconstruction minus the KL divergence to a standard normal prior), so codes drawn from the prior "
        "decode to new digits; its code for a digit is the mean μ"
    )
    reference = "Kingma & Welling 2014"
    loss_words = "BCE + KL (nats per image)"
    penalty = Penalty("kl", "The test loss's KL term: how far the codes' Gaussians sit from the prior",
                      "KL (nats per image)")
    generative = True

    def __init__(
        self,
        latent_dim: int = 32,
        hidden: list[int] | tuple[int, ...] = (512,),
        channels: list[int] | tuple[int, ...] | None = (32, 64),
        blocks: int | None = None,
        **config: Any,
    ) -> None:
        hidden = check_sizes("hidden", hidden, min_count=1)  # at least one: the mean and log-variance heads read it
        blocks = 1 if blocks is None and channels is not None else check_sizes("blocks", blocks or 0, minimum=0)
        if channels is not None:  # convolutional: one channel count per strided convolution
            channels = check_sizes("channels", channels, min_count=2, max_count=2)
            config["blocks"] = blocks  # residual blocks per resolution
        elif blocks:  # an MLP has no residual blocks: a request for some would be dropped without a word
            raise ValueError(f"blocks are the convolutional VAE's residual blocks; with channels=None (MLPs) there "
                             f"are none, got blocks={blocks}")
        super().__init__(latent_dim, hidden=hidden, channels=channels, **config)
        into_encoder, into_heads = self._class_widths()  # the CVAE's one-hot class, where it goes in
        into_decoder = into_encoder + into_heads  # the decoder takes it either way
        if channels:  # a class given to the encoder comes as constant input planes beside the image
            encoder = conv_encoder(channels, hidden[-1], blocks, in_channels=1 + into_encoder)
            self.encoder = nn.Sequential(encoder, nn.ReLU())
            self.decoder = conv_decoder(latent_dim + into_decoder, channels, blocks)
        else:
            self.encoder = mlp([N_PIXELS + into_encoder, *hidden], last_activation=True)
            self.decoder = mlp([latent_dim + into_decoder, *reversed(hidden), N_PIXELS])
        # The network outputs log-variance, unconstrained: sigma = exp(logvar / 2) is positive by construction.
        self.to_mu = nn.Linear(hidden[-1] + into_heads, latent_dim)
        self.to_logvar = nn.Linear(hidden[-1] + into_heads, latent_dim)

    def _class_widths(self) -> tuple[int, int]:
        """How many inputs the class adds to the encoder's first layer and to the mean/log-variance heads; the
        plain VAE takes none."""
        return 0, 0

    def _encoder_input(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """What the encoder reads: the image (flat for the MLP), with the CVAE's class where it takes it."""
        return x if self.config["channels"] else x.flatten(1)

    def _heads_input(self, h: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """What the mean and log-variance heads read: the encoder's features (with the class, for an older CVAE)."""
        return h

    def _condition(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """What the decoder reads: the code, with the CVAE's class appended."""
        return z

    def posterior(self, x: torch.Tensor, labels: Labels = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z|x), each [B, latent_dim]."""
        return self._posterior(self._images(x), self._labels(labels, x.shape[0]))

    def _posterior(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """posterior() without the input checks: labels, when the model takes them, int64 [B] class ids."""
        h = self._heads_input(self.encoder(self._encoder_input(x, labels)), labels)
        # Both heads in one product of their stacked weights: a bf16 product this small costs about the same at
        # twice the width (~35 us on the Zen 4 EPYC here), so one fewer forward and two fewer backward took 1-2 %
        # off the 784-400-20 VAE's training step under bf16 autocast (docs/performance.md). The weights stay two
        # layers, as checkpoints hold them.
        weight = torch.cat((self.to_mu.weight, self.to_logvar.weight))
        bias = torch.cat((self.to_mu.bias, self.to_logvar.bias))
        mu, logvar = F.linear(h, weight, bias).chunk(2, dim=1)
        return mu, logvar

    def _encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self._posterior(x, labels)[0]

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(self._condition(z, labels)).view(-1, 1, 28, 28)

    def kl(self, mu: torch.Tensor, logvar: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """KL of the posterior from the prior, per image."""
        return gaussian_kl(mu, logvar)

    def loss_terms(
        self, x: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Negative ELBO in nats per image: BCE summed over pixels + KL (pytorch/examples' convention)."""
        # checked once per batch and made int64: the encoder, the decoder and the KL all take them
        labels = self._labels(labels, x.shape[0]) if self.conditional else None
        mu, logvar = self._posterior(x, labels)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + (0.5 * logvar).exp() * eps
        recon = mean_bce_per_image(self.decode_logits(z, labels), x)
        kl = self.kl(mu, logvar, labels).mean()
        return {"loss": recon + kl, "bce": recon, "kl": kl}

    _written_out_takes = "the VAE class itself with MLPs (channels=None) of plain linear layers and ReLUs"

    def _written_out_mlps(self) -> tuple[list, list] | None:
        """The encoder's and the decoder's layers when loss_and_gradients can train this model: the VAE class
        itself (a subclass, the CVAE or a β-VAE, has a loss of its own, which autograd differentiates), with MLPs
        of plain linear layers and ReLUs and plain linear heads (mlp_gradients.relu_mlp, plain_linear); else None."""
        encoder, decoder = mlp_gradients.relu_mlp(self.encoder), mlp_gradients.relu_mlp(self.decoder)
        heads = mlp_gradients.plain_linear(self.to_mu) and mlp_gradients.plain_linear(self.to_logvar)
        return (encoder, decoder) if type(self) is VAE and encoder and decoder and heads else None

    def _flat_parameters(self, encoder: list, decoder: list) -> mlp_gradients.FlatParameters:
        # the heads adjacent, stacked as one product
        heads = [self.to_mu.weight, self.to_logvar.weight, self.to_mu.bias, self.to_logvar.bias]
        return mlp_gradients.flat_parameters(
            self, [*mlp_gradients.parameters(encoder), *heads, *mlp_gradients.parameters(decoder)])

    @torch.no_grad()
    def _loss_and_gradients(
        self, mlps: tuple[list, list], x: torch.Tensor, labels: torch.Tensor | None,
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """loss_terms(x, labels) of the plain VAE with MLPs, with the gradient of its "loss" added to every parameter's
        `.grad`: the backward pass written out (aedemo/models/mlp_gradients.py) rather than recorded by autograd,
        which took 0.91-0.93 of autograd's step for pytorch/examples' 784-400-20 VAE on the CPU, and 0.90 of that
        with the parameters flat (mlp_gradients.FlatParameters; docs/performance.md). The products run in bf16
        under CPU autocast, as autograd's would; the code, the KL and the reparameterisation stay in the weights'
        dtype (float32), where autograd's would be bf16, and the BCE's targets are rounded to bf16 as the encoder's
        input is (autograd's stay float32)."""
        encoder, decoder = mlps
        params = self._flat_parameters(encoder, decoder)
        dtype = params.flat.dtype  # the weights' (float32): the code's, the KL's and the reparameterisation's
        params.load_weights(mlp_gradients.products_dtype(x, dtype))
        n, flat = x.shape[0], x.flatten(1)

        encoded = mlp_gradients.forward(encoder, flat, params)
        h = encoded[-1].output
        heads = (self.to_mu.weight, self.to_logvar.weight), (self.to_mu.bias, self.to_logvar.bias)
        weight, bias = params.stacked(*heads[0]), params.stacked(*heads[1])  # both in one product (see _posterior)
        mu, logvar = torch.addmm(bias, h, weight.t()).to(dtype).chunk(2, dim=1)
        std = (0.5 * logvar).exp()
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = torch.addcmul(mu, std, eps)
        decoded = mlp_gradients.forward(decoder, z, params)
        logits = decoded[-1].output
        # The targets as the encoder multiplied them: in bf16 under autocast (MNIST's 0 and 1 exact, its grey
        # edges to 3 digits), which keeps the loss's 100k-element operations in bf16 and took ~3 % off the step.
        targets = encoded[0].input
        bce = bce_sum(logits, targets) / n
        kl = gaussian_kl(mu, logvar).mean()

        for_z = mlp_gradients.backward(decoded, bce_logits_gradient(logits, targets, 1 / n), params).to(dtype)
        # z = mu + std * eps, std = exp(logvar / 2); the KL's own gradient is mu / n and (exp(logvar) - 1) / 2n
        for_mu = torch.add(for_z, mu, alpha=1 / n)
        for_logvar = torch.addcmul((std * std - 1) / (2 * n), for_z * eps, std, value=0.5)
        for_heads = torch.cat((for_mu, for_logvar), 1).to(params.dtype)
        torch.mm(for_heads.t(), h, out=params.stacked(*heads[0], grad=True))
        torch.sum(for_heads, 0, out=params.stacked(*heads[1], grad=True))
        mlp_gradients.backward(encoded, for_heads @ weight, params, input_grad=False)
        params.write_gradients()
        return {"loss": bce + kl, "bce": bce, "kl": kl}
