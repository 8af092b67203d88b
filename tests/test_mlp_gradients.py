"""The plain MLP VAE's training step with its gradients written out (aedemo/models/mlp_gradients.py) against
autograd's gradients of the same loss."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from aedemo import build_model
from aedemo.data import load_mnist, to_float
from aedemo.models import mlp_gradients
from aedemo.models.base import Trainable, adam, mlp
from aedemo.models.vae import VAE

_images, _labels = load_mnist("test", download=False)
X, Y = to_float(_images[:32]), _labels[:32]


def mlp_vae(**config) -> nn.Module:
    torch.manual_seed(0)
    return build_model("vae", channels=None, **config).train()


def autograd_gradients(model: nn.Module, x: torch.Tensor, seed: int) -> tuple[dict, dict]:
    model.zero_grad(set_to_none=True)
    terms = model.loss_terms(x, None, torch.Generator().manual_seed(seed))
    terms["loss"].backward()
    return {k: v.item() for k, v in terms.items()}, {n: p.grad.clone() for n, p in model.named_parameters()}


def written_out_gradients(model: nn.Module, x: torch.Tensor, seed: int) -> tuple[dict, dict]:
    model.zero_grad(set_to_none=True)
    terms = model.loss_and_gradients(x, torch.Generator().manual_seed(seed))
    return {k: v.item() for k, v in terms.items()}, {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("config", [
    {"latent_dim": 20, "hidden": [400]},  # pytorch/examples' VAE, the training benchmark's
    {"latent_dim": 2, "hidden": [64, 32]},
])
def test_written_out_gradients_are_autograds_in_float32(config):
    model = mlp_vae(**config)
    expected_terms, expected = autograd_gradients(model, X, seed=3)
    terms, grads = written_out_gradients(model, X, seed=3)  # the same noise: the same loss, to rounding
    assert terms == pytest.approx(expected_terms, rel=1e-6)
    assert grads.keys() == expected.keys()
    for name, grad in grads.items():
        assert grad.dtype == torch.float32 and grad.shape == expected[name].shape
        assert torch.allclose(grad, expected[name], rtol=1e-4, atol=1e-6), name


def test_a_float64_model_keeps_float64_throughout():
    model = mlp_vae(latent_dim=3, hidden=[48]).double()
    _, expected = autograd_gradients(model, X.double(), seed=2)
    _, grads = written_out_gradients(model, X.double(), seed=2)
    for name, grad in grads.items():
        assert grad.dtype == torch.float64 and torch.allclose(grad, expected[name], rtol=1e-10, atol=1e-12), name


def test_under_bf16_autocast_the_gradients_are_as_close_to_float32_as_autograds():
    model = mlp_vae(latent_dim=20, hidden=[400])
    _, exact = autograd_gradients(model, X, seed=5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        _, by_autograd = autograd_gradients(model, X, seed=5)
        terms, written = written_out_gradients(model, X, seed=5)
    assert all(g.dtype == torch.float32 for g in written.values())  # as the weights: Adam steps in float32
    for name in exact:
        error = (written[name] - exact[name]).norm() / exact[name].norm()
        autograds = (by_autograd[name] - exact[name]).norm() / exact[name].norm()
        # bf16 products: about 1 % off float32's; the code and the KL stay float32 here, where autograd's are bf16
        assert error < max(2 * autograds, 0.02), name


def test_gradients_add_to_those_already_there_as_autograds_do():
    model = mlp_vae(latent_dim=4, hidden=[32])
    _, once = written_out_gradients(model, X, seed=1)
    model.loss_and_gradients(X, torch.Generator().manual_seed(1))  # .grad kept from the first call
    for name, p in model.named_parameters():
        assert torch.allclose(p.grad, 2 * once[name]), name


def test_a_training_step_updates_the_weights_as_autograds_step_does():
    written = mlp_vae(latent_dim=20, hidden=[400])
    by_autograd = copy.deepcopy(written)
    for model, step in ((written, written.training_step), (by_autograd, lambda *a: Trainable.training_step(
            by_autograd, *a))):
        opt = adam(model.parameters(), lr=1e-3)
        gen = torch.Generator().manual_seed(7)
        losses = [step(X[i:i + 8], None, [opt], gen)["loss"] for i in range(0, 32, 8)]
        model.losses = losses
    assert written.losses == pytest.approx(by_autograd.losses, rel=1e-5)
    for (name, a), b in zip(written.named_parameters(), by_autograd.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-5), name


@pytest.mark.parametrize("variant, config", [
    ("vae", {}),  # convolutional
    ("cvae", {}),  # its class inputs and learned prior
    ("cvae", {"channels": None, "hidden": [64]}),
])
def test_the_others_train_through_autograd_and_are_refused_here(variant, config):
    torch.manual_seed(0)
    model = build_model(variant, **config).train()
    with pytest.raises(ValueError, match="plain VAE with MLPs"):
        model.loss_and_gradients(X)
    opt = adam(model.parameters(), lr=1e-3)
    terms = model.training_step(X, Y, [opt])  # the autograd step
    assert set(terms) == {"loss", "bce", "kl"}
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_a_subclass_with_a_loss_of_its_own_trains_on_that_loss():
    class BetaVAE(VAE):  # as docs/adding-a-variant.md derives one
        def loss_terms(self, x, labels, generator=None):
            terms = super().loss_terms(x, labels, generator)
            return {**terms, "loss": terms["bce"] + 4 * terms["kl"]}

    torch.manual_seed(0)
    model = BetaVAE(latent_dim=4, hidden=[32], channels=None).train()
    with pytest.raises(ValueError, match="not a subclass"):
        model.loss_and_gradients(X)
    terms = model.training_step(X, None, [adam(model.parameters(), lr=1e-3)], torch.Generator().manual_seed(0))
    assert terms["loss"] == pytest.approx(terms["bce"] + 4 * terms["kl"], rel=1e-5)


def test_relu_mlp_reads_linear_layers_and_relus_and_nothing_else():
    layers = mlp_gradients.relu_mlp(mlp([8, 6, 4], last_activation=True))
    assert [(linear.out_features, relu) for linear, relu in layers] == [(6, True), (4, True)]
    assert [relu for _, relu in mlp_gradients.relu_mlp(mlp([8, 6, 4]))] == [True, False]
    for other in (mlp([8, 6, 4], activation=nn.Sigmoid), nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.ReLU()),
                  nn.Sequential(nn.ReLU(), nn.Linear(8, 4)), nn.Sequential(), nn.Linear(8, 4)):
        assert mlp_gradients.relu_mlp(other) is None
