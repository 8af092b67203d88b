"""The plain autoencoder: an MLP encoder to a small code and an MLP decoder back."""

from __future__ import annotations

from typing import Any

import torch

from . import mlp_gradients
from .base import N_PIXELS, Autoencoder, bce_logits_gradient, bce_sum, mlp


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

    _written_out_takes = "the AE class itself with MLPs of plain linear layers and ReLUs"

    def _written_out_mlps(self) -> tuple[list, list] | None:
        """The encoder's and the decoder's layers when loss_and_gradients can train this model: the AE class itself
        (a subclass, the DAE or the sparse AE, has a loss of its own, which autograd differentiates), with MLPs of
        plain linear layers and ReLUs (mlp_gradients.relu_mlp); else None."""
        encoder, decoder = mlp_gradients.relu_mlp(self.encoder), mlp_gradients.relu_mlp(self.decoder)
        return (encoder, decoder) if type(self) is AE and encoder and decoder else None

    def _flat_parameters(self, encoder: list, decoder: list) -> mlp_gradients.FlatParameters:
        return mlp_gradients.flat_parameters(
            self, [*mlp_gradients.parameters(encoder), *mlp_gradients.parameters(decoder)])

    @torch.no_grad()
    def _loss_and_gradients(
        self, mlps: tuple[list, list], x: torch.Tensor, labels: torch.Tensor | None,
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """loss_terms(x, labels) of the plain AE, with the gradient of its "loss" added to every parameter's
        `.grad`: the backward pass written out (aedemo/models/mlp_gradients.py) rather than recorded by autograd.
        Under CPU autocast the BCE's targets are rounded to bf16 as the encoder's input is (autograd's stay
        float32)."""
        encoder, decoder = mlps
        params = self._flat_parameters(encoder, decoder)
        params.load_weights(mlp_gradients.products_dtype(x, params.flat.dtype))
        n, flat = x.shape[0], x.flatten(1)
        encoded = mlp_gradients.forward(encoder, flat, params)
        decoded = mlp_gradients.forward(decoder, encoded[-1].output, params)
        logits, targets = decoded[-1].output, encoded[0].input  # the targets as the encoder multiplied them (see VAE)
        bce = bce_sum(logits, targets) / n
        for_code = mlp_gradients.backward(decoded, bce_logits_gradient(logits, targets, 1 / n), params)
        mlp_gradients.backward(encoded, for_code, params, input_grad=False)
        params.write_gradients()
        return {"loss": bce, "bce": bce}
