"""The plain AE's and the plain MLP VAE's training steps with their gradients written out
(aedemo/models/mlp_gradients.py) against autograd's gradients of the same loss."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from aedemo import VARIANTS, build_model
from aedemo.data import load_mnist, to_float
from aedemo.models import mlp_gradients
from aedemo.models.base import adam, mlp
from aedemo.models.vae import VAE

_images, _labels = load_mnist("test", download=False)
X, Y = to_float(_images[:32]), _labels[:32]


WRITTEN_OUT = [  # (variant, architecture)
    ("vae", {"latent_dim": 20, "hidden": [400], "channels": None}),  # pytorch/examples' VAE, the speed benchmark's
    ("vae", {"latent_dim": 2, "hidden": [64, 32], "channels": None}),
    ("ae", {}),  # the Train tab's first model on a CPU
    ("ae", {"latent_dim": 2, "hidden": [48]}),
]


def fresh(variant: str, **config) -> nn.Module:
    torch.manual_seed(0)
    return build_model(variant, **config).train()


def autograd_gradients(model: nn.Module, x: torch.Tensor, seed: int) -> tuple[dict, dict]:
    model.zero_grad(set_to_none=True)
    terms = model.loss_terms(x, None, torch.Generator().manual_seed(seed))
    terms["loss"].backward()
    return {k: v.item() for k, v in terms.items()}, {n: p.grad.clone() for n, p in model.named_parameters()
                                                     if p.grad is not None}


def written_out_gradients(model: nn.Module, x: torch.Tensor, seed: int) -> tuple[dict, dict]:
    model.zero_grad(set_to_none=True)
    terms = model.loss_and_gradients(x, None, torch.Generator().manual_seed(seed))
    return {k: v.item() for k, v in terms.items()}, {n: p.grad.clone() for n, p in model.named_parameters()
                                                     if p.grad is not None}


@pytest.mark.parametrize("variant, config", WRITTEN_OUT)
def test_written_out_gradients_are_autograds_in_float32(variant, config):
    model = fresh(variant, **config)
    assert model.gradients_written_out()
    expected_terms, expected = autograd_gradients(model, X, seed=3)
    terms, grads = written_out_gradients(model, X, seed=3)  # the same noise: the same loss, to rounding
    assert terms == pytest.approx(expected_terms, rel=1e-6)
    assert grads.keys() == expected.keys()
    for name, grad in grads.items():
        assert grad.dtype == torch.float32 and grad.shape == expected[name].shape
        assert torch.allclose(grad, expected[name], rtol=1e-4, atol=1e-6), name


@pytest.mark.parametrize("variant, config", WRITTEN_OUT[1::2])
def test_a_float64_model_keeps_float64_throughout(variant, config):
    model = fresh(variant, **config).double()
    _, expected = autograd_gradients(model, X.double(), seed=2)
    _, grads = written_out_gradients(model, X.double(), seed=2)
    for name, grad in grads.items():
        assert grad.dtype == torch.float64 and torch.allclose(grad, expected[name], rtol=1e-10, atol=1e-12), name


@pytest.mark.parametrize("variant, config", WRITTEN_OUT[::2])
def test_under_bf16_autocast_the_gradients_are_as_close_to_float32_as_autograds(variant, config):
    model = fresh(variant, **config)
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


@pytest.mark.parametrize("variant, config", WRITTEN_OUT[1::2])
@pytest.mark.parametrize("cleared_by", ["the model", "the flat optimiser"])
def test_gradients_of_two_batches_add_up_as_autograds_do(variant, config, cleared_by):
    model = fresh(variant, **config)
    (opt,) = model.configure_optimizers(1e-3)
    model.training_step(X[16:], None, [opt])  # a step before: the gradient buffers hold its gradients
    opt.zero_grad() if cleared_by == "the flat optimiser" else model.zero_grad()
    first, second = X[:8], X[8:16]
    model.zero_grad(set_to_none=True)
    for xb, seed in ((first, 1), (second, 2)):  # autograd adds the second's gradients to the first's
        model.loss_terms(xb, None, torch.Generator().manual_seed(seed))["loss"].backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    model.loss_and_gradients(first, None, torch.Generator().manual_seed(1))
    model.loss_and_gradients(second, None, torch.Generator().manual_seed(2))  # written where the first's were
    for name, p in model.named_parameters():
        assert torch.allclose(p.grad, expected[name], rtol=1e-4, atol=1e-6), name


@pytest.mark.parametrize("variant, config", WRITTEN_OUT[1::2])
def test_a_frozen_layer_gets_no_gradient_and_stays_as_it_is(variant, config):
    model = fresh(variant, **config)
    frozen = model.encoder[0]
    frozen.requires_grad_(False)
    before = frozen.weight.clone()
    _, expected = autograd_gradients(model, X, seed=4)
    model.zero_grad(set_to_none=True)
    model.loss_and_gradients(X, None, torch.Generator().manual_seed(4))
    assert frozen.weight.grad is None and frozen.bias.grad is None
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert torch.allclose(p.grad, expected[name], rtol=1e-4, atol=1e-6), name
    model.training_step(X, None, [adam(model.parameters(), lr=1e-3)], torch.Generator().manual_seed(4))
    assert torch.equal(frozen.weight, before)


def autograd_step(model: nn.Module, x: torch.Tensor, opt: torch.optim.Optimizer, gen: torch.Generator) -> float:
    opt.zero_grad(set_to_none=True)
    terms = model.loss_terms(x, None, gen)
    terms["loss"].backward()
    opt.step()
    return terms["loss"].item()


def assert_steps_as_autograd_and_adam(
    model: nn.Module, by_autograd: nn.Module, optimizers: list, seed: int, atol: float = 1e-5
) -> None:
    """`model`'s training steps with `optimizers` take it where autograd's gradients and torch's Adam take
    `by_autograd` (a copy of it), batch by batch, with the same noise."""
    gen = torch.Generator().manual_seed(seed)
    losses = [model.training_step(xb, None, optimizers, gen)["loss"] for xb in X.split(8)]
    opt, gen = adam(by_autograd.parameters(), lr=1e-3), torch.Generator().manual_seed(seed)
    expected = [autograd_step(by_autograd, xb, opt, gen) for xb in X.split(8)]
    assert losses == pytest.approx(expected, rel=1e-5)
    for (name, a), b in zip(model.named_parameters(), by_autograd.parameters(), strict=True):
        assert torch.allclose(a, b, atol=atol), name


@pytest.mark.parametrize("variant, config", WRITTEN_OUT[::2])
def test_a_training_step_updates_the_weights_as_autograds_step_does(variant, config):
    written = fresh(variant, **config)
    assert_steps_as_autograd_and_adam(written, copy.deepcopy(written), [adam(written.parameters(), lr=1e-3)], seed=7)


@pytest.mark.parametrize("variant, config", [
    *((v, {}) for v in VARIANTS if v not in ("ae", "pca")),  # the VAE convolutional, the AE's subclasses, ...
    ("cvae", {"channels": None}),  # its class inputs and learned prior
])
def test_the_others_train_through_autograd_and_are_refused_here(variant, config):
    model = fresh(variant, **config)
    assert not model.gradients_written_out()
    with pytest.raises((ValueError, NotImplementedError), match="through loss_terms and autograd"):
        model.loss_and_gradients(X, Y)
    optimizers = model.configure_optimizers(1e-3)
    terms = model.training_step(X, Y, optimizers)  # the autograd step
    assert terms and all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_a_subclass_with_a_loss_of_its_own_trains_on_that_loss():
    class BetaVAE(VAE):  # as docs/adding-a-variant.md derives one
        def loss_terms(self, x, labels, generator=None):
            terms = super().loss_terms(x, labels, generator)
            return {**terms, "loss": terms["bce"] + 4 * terms["kl"]}

    torch.manual_seed(0)
    model = BetaVAE(latent_dim=4, hidden=[32], channels=None).train()
    with pytest.raises(ValueError, match="the VAE class itself"):
        model.loss_and_gradients(X, Y)
    terms = model.training_step(X, None, [adam(model.parameters(), lr=1e-3)], torch.Generator().manual_seed(0))
    assert terms["loss"] == pytest.approx(terms["bce"] + 4 * terms["kl"], rel=1e-5)


def linear_subclass(layer: nn.Linear) -> nn.Linear:
    class Scaled(nn.Linear):  # a forward of its own, which the written-out passes would not run
        def forward(self, x):
            return 2 * super().forward(x)

    scaled = Scaled(layer.in_features, layer.out_features)
    scaled.load_state_dict(layer.state_dict())
    return scaled


def hooked(layer: nn.Linear) -> nn.Linear:
    layer.register_forward_hook(lambda module, args, out: out * 2)
    return layer


@pytest.mark.parametrize("change", [
    lambda m: nn.utils.parametrizations.weight_norm(m.encoder[0]),  # its weight computed from two others
    lambda m: setattr(m.encoder, "0", linear_subclass(m.encoder[0])),
    lambda m: hooked(m.decoder[0]),
    lambda m: m.decoder[0].weight.register_hook(lambda g: g * 0),
    lambda m: setattr(m.encoder, "0", nn.Linear(784, m.encoder[0].out_features, bias=False)),
    lambda m: nn.utils.parametrizations.weight_norm(m.to_mu),  # the VAE's heads too
], ids=["weight-norm", "linear-subclass", "forward-hook", "gradient-hook", "no-bias", "weight-norm-head"])
def test_a_layer_the_written_out_passes_would_get_wrong_leaves_the_model_to_autograd(change):
    model = fresh("vae", latent_dim=4, hidden=[32], channels=None)
    assert model.gradients_written_out()
    change(model)
    assert not model.gradients_written_out()
    with pytest.raises(ValueError, match="through loss_terms and autograd"):
        model.loss_and_gradients(X, Y)
    model.training_step(X, None, [adam(model.parameters(), lr=1e-3)])  # through autograd


@pytest.mark.parametrize("variant, config", WRITTEN_OUT[1::2])
def test_a_float64_model_under_bf16_autocast_stays_float64_as_with_autograd(variant, config):
    model = fresh(variant, **config).double()
    with torch.autocast("cpu", dtype=torch.bfloat16):  # which leaves float64 alone
        _, expected = autograd_gradients(model, X.double(), seed=2)
        _, grads = written_out_gradients(model, X.double(), seed=2)
    for name, grad in grads.items():
        assert torch.allclose(grad, expected[name], rtol=1e-10, atol=1e-12), name


def test_relu_mlp_reads_linear_layers_and_relus_and_nothing_else():
    layers = mlp_gradients.relu_mlp(mlp([8, 6, 4], last_activation=True))
    assert [(linear.out_features, relu) for linear, relu in layers] == [(6, True), (4, True)]
    assert [relu for _, relu in mlp_gradients.relu_mlp(mlp([8, 6, 4]))] == [True, False]
    for other in (mlp([8, 6, 4], activation=nn.Sigmoid), nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.ReLU()),
                  nn.Sequential(nn.ReLU(), nn.Linear(8, 4)), nn.Sequential(), nn.Linear(8, 4)):
        assert mlp_gradients.relu_mlp(other) is None


@pytest.mark.parametrize("variant, config", WRITTEN_OUT[::2])
def test_the_flat_optimiser_steps_as_torchs_adam_over_autograds_gradients(variant, config):
    flat = fresh(variant, **config)
    by_autograd = copy.deepcopy(flat)
    optimizers = flat.configure_optimizers(1e-3)
    assert isinstance(optimizers[0], mlp_gradients.FlatAdam)
    assert_steps_as_autograd_and_adam(flat, by_autograd, optimizers, seed=7)


def test_flattening_keeps_the_parameters_their_values_and_the_checkpoint():
    model = fresh("vae", latent_dim=4, hidden=[32], channels=None)
    params, before = list(model.parameters()), copy.deepcopy(model.state_dict())
    flat = model.flat_parameters()
    assert list(model.parameters()) == params and all(p.data_ptr() != 0 for p in params)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert flat.flat.numel() == sum(p.numel() for p in params)
    with torch.no_grad():
        flat.flat.add_(1.0)  # the parameters are views of it
    assert all(torch.equal(v, before[k] + 1) for k, v in model.state_dict().items())


def test_a_model_trained_flat_saves_and_loads_as_any_other(tmp_path):
    from aedemo import load_model

    model = fresh("ae", latent_dim=2, hidden=[48])
    optimizers = model.configure_optimizers(1e-3)
    for xb in X.split(8):
        model.training_step(xb, None, optimizers, torch.Generator().manual_seed(0))
    model.eval().save_pretrained(tmp_path / "ae")  # views of one buffer: saved as tensors of their own
    loaded = load_model(tmp_path / "ae")
    assert torch.equal(loaded.reconstruct(X), model.reconstruct(X))


def test_the_flat_optimiser_refuses_a_model_moved_since_rather_than_leave_it_untrained():
    model = fresh("vae", latent_dim=4, hidden=[32], channels=None)
    optimizers = model.configure_optimizers(1e-3)
    model.training_step(X, None, optimizers)
    model.double()  # its parameters get storage of their own: the optimiser's buffer would no longer move them
    with pytest.raises(RuntimeError, match="call configure_optimizers again"):
        model.training_step(X.double(), None, optimizers)
    before = [p.clone() for p in model.parameters()]
    model.training_step(X.double(), None, model.configure_optimizers(1e-3))
    assert all(not torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True))


def test_the_flat_optimiser_also_steps_autograds_gradients_when_the_model_leaves_the_written_out_step():
    model = fresh("vae", latent_dim=4, hidden=[32], channels=None)
    by_autograd = copy.deepcopy(model)
    optimizers = model.configure_optimizers(1e-3)
    hooked(model.decoder[0])  # from here on autograd trains it (see above), through the same optimiser
    hooked(by_autograd.decoder[0])
    assert not model.gradients_written_out()
    assert_steps_as_autograd_and_adam(model, by_autograd, optimizers, seed=3, atol=1e-6)


def test_a_model_with_a_frozen_layer_gets_torchs_adam_which_leaves_that_layer_alone():
    model = fresh("ae", latent_dim=2, hidden=[48])
    model.encoder[0].requires_grad_(False)
    (opt,) = model.configure_optimizers(1e-3)
    assert not isinstance(opt, mlp_gradients.FlatAdam)


def test_a_trained_model_keeps_no_training_buffers_beside_its_weights():
    from aedemo.train import TrainConfig, train

    config = TrainConfig(variant="ae", epochs=1, batch_size=16, model_config={"latent_dim": 2, "hidden": [48]})
    model = train(config, data=(_images[:64], _labels[:64], _images[64:96], _labels[64:96])).model
    assert mlp_gradients.KEPT not in model.__dict__  # the copies of the weights and the gradients, freed
    assert all(p.grad is None for p in model.parameters())  # views of the gradient buffer would keep it


def flat_adam_steps(model: nn.Module, steps: int = 4) -> list[torch.Tensor]:
    opt = mlp_gradients.FlatAdam(model.flat_parameters(), lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)
    calls = []
    opt.register_step_pre_hook(lambda optimizer, args, kwargs: calls.append(1))
    for xb in X.split(8)[:steps]:
        model.training_step(xb, None, [opt], torch.Generator().manual_seed(5))
    assert len(calls) >= steps  # the step hooks run (torch's own step runs them twice: a subclass's step and its own)
    return [p.detach().clone() for p in model.parameters()]


def test_the_flat_optimisers_direct_adam_call_updates_as_torchs_own_step_which_a_changed_torch_falls_back_to(
    monkeypatch,
):
    direct_calls = []

    def spy(*args, **kwargs):
        direct_calls.append(1)
        return adam_function(*args, **kwargs)

    adam_function = mlp_gradients.functional_adam
    monkeypatch.setattr(mlp_gradients, "functional_adam", spy)
    direct = flat_adam_steps(fresh("ae", latent_dim=2, hidden=[48]))
    assert len(direct_calls) == 3  # every step after the first, which makes Adam's state through torch's own

    def changed(*args, **kwargs):  # a later torch's functional adam() with other arguments
        raise TypeError("adam() got an unexpected keyword argument 'fused'")

    monkeypatch.setattr(mlp_gradients, "functional_adam", changed)
    for a, b in zip(flat_adam_steps(fresh("ae", latent_dim=2, hidden=[48])), direct, strict=True):
        assert torch.equal(a, b)


def test_the_flat_optimiser_steps_on_the_gradients_its_closure_computes():
    model = fresh("vae", latent_dim=4, hidden=[32], channels=None)
    by_torch = copy.deepcopy(model)
    (opt,) = model.configure_optimizers(1e-3)
    torch_opt = adam(by_torch.parameters(), lr=1e-3)
    for xb in X.split(8):
        for m, o in ((model, opt), (by_torch, torch_opt)):
            def closure(m=m, o=o, xb=xb):
                o.zero_grad()
                loss = m.loss_terms(xb, None, torch.Generator().manual_seed(0))["loss"]
                loss.backward()
                return loss
            assert o.step(closure) is not None  # the loss, as torch's optimisers return it
    for (name, a), b in zip(model.named_parameters(), by_torch.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name


def test_a_layer_frozen_after_the_flat_optimiser_was_made_is_refused_rather_than_moved():
    model = fresh("ae", latent_dim=2, hidden=[48])
    optimizers = model.configure_optimizers(1e-3)
    model.training_step(X, None, optimizers)
    model.encoder[0].requires_grad_(False)
    before = model.encoder[0].weight.clone()
    with pytest.raises(RuntimeError, match="frozen after configure_optimizers"):
        model.training_step(X, None, optimizers)
    model.training_step(X, None, model.configure_optimizers(1e-3))  # torch's Adam, which leaves it alone
    assert torch.equal(model.encoder[0].weight, before)
