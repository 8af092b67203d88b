"""Bad arguments to the public model API are refused with a message that names the argument, what it takes and
what it got, rather than failing deep inside torch or giving NaN images without a word."""

from __future__ import annotations

import pytest
import torch

from aedemo import build_model
from aedemo.data import load_mnist, to_float

X = to_float(load_mnist("test", download=False)[0][:16])


@pytest.mark.parametrize("variant, config, message", [
    ("vae", {"blocks": -1}, r"blocks must be a whole number of at least 0, got -1"),  # was written to config.json
    ("vae", {"channels": None, "blocks": 3}, r"with channels=None \(MLPs\) there are none, got blocks=3"),  # dropped
    ("vae", {"hidden": ()}, r"hidden must be a list of 1 or more whole numbers .*, got \(\)"),  # was an IndexError
    ("cvae", {"hidden": []}, r"hidden must be a list of 1 or more whole numbers"),
    ("conv", {"channels": [8]}, r"channels must be a list of 2 whole numbers .*, got \[8\]"),  # "not enough values"
    ("vae", {"channels": [8, 16, 32]}, r"channels must be a list of 2 whole numbers"),
    ("ae", {"hidden": 512}, r"hidden must be a list of whole numbers .*, got 512"),  # "'int' object is not iterable"
    ("contractive", {"hidden": 512}, r"hidden must be a list of whole numbers"),
    ("aae", {"disc_hidden": 512}, r"disc_hidden must be a list of whole numbers"),
    ("classifier", {"hidden": 0}, r"hidden must be a whole number of at least 1, got 0"),  # built a dead model
    ("classifier", {"channels": [1, 2, 3]}, r"channels must be a list of 2 whole numbers .*, got \[1, 2, 3\]"),
    ("classifier", {"dropout": 1.0}, r"dropout must be a number at least 0 and below 1, got 1\.0"),
    ("pca", {"latent_dim": 1000}, r"latent_dim must be a whole number from 1 to 784, got 1000"),  # failed at fit
    ("sparse", {"beta": float("inf")}, r"beta must be a number at least 0 \(finite\), got inf"),  # an infinite loss
])
def test_bad_architecture_arguments_are_refused_by_name(variant, config, message):
    with pytest.raises(ValueError, match=message):
        build_model(variant, **config)


@pytest.mark.parametrize("variant, config", [
    ("vae", {"blocks": 0}), ("vae", {"channels": None, "blocks": 0}),  # how a checkpoint without "blocks" loads
    ("pca", {"latent_dim": 784}), ("ae", {"hidden": []}), ("classifier", {"dropout": 0.0}),
])
def test_arguments_at_the_edge_of_their_range_build_a_working_model_of_that_shape(variant, config):
    torch.manual_seed(0)
    model = build_model(variant, **config).eval()
    with torch.no_grad():
        if variant == "classifier":
            assert torch.allclose(model.predict_proba(X).sum(1), torch.ones(len(X)))
            return
        if variant == "pca":
            model.fit(to_float(load_mnist("test", download=False)[0][:1000]))
            assert torch.allclose(model.reconstruct(X), X, atol=1e-4)  # all 784 components: nothing is lost
        assert model.encode(X).shape == (len(X), model.latent_dim) and model.reconstruct(X).shape == X.shape
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if config.get("hidden") == []:  # no hidden layer: one linear map each way
        assert [(m.in_features, m.out_features) for m in linears] == [(784, model.latent_dim), (model.latent_dim, 784)]
    if config.get("blocks") == 0:  # no residual blocks anywhere
        with_blocks = build_model(variant, **{**config, "blocks": 1}) if config.get("channels", 0) is not None else None
        assert not any(name.endswith(".body") for name, _ in model.named_modules())
        assert with_blocks is None or any(name.endswith(".body") for name, _ in with_blocks.named_modules())


def test_pca_says_how_many_images_its_fit_takes():
    with pytest.raises(ValueError, match=r"latent_dim 64 .*at least 64 images, got 16"):  # a shape RuntimeError
        build_model("pca", latent_dim=64).fit(X)


@pytest.mark.parametrize("images, says", [
    (load_mnist("test", download=False)[0][:100], r"floats in \[0, 1\], got torch.uint8 .*to_float"),
    (to_float(load_mnist("test", download=False)[0][:100]) * 255, r"0-255"),
    (torch.rand(100, 3, 28, 28), r"shaped \[B, 1, 28, 28\]"),
])
def test_pca_fits_only_images_the_models_take(images, says):
    # a fit to raw uint8 MNIST used to succeed, its mean up to 143: a model that reconstructs nothing
    pca = build_model("pca", latent_dim=16)
    with pytest.raises((TypeError, ValueError), match=says):
        pca.fit(images)
    assert not pca.components.any()  # nothing fitted


def generative(variant: str) -> tuple[torch.nn.Module, dict]:
    """A fresh model that samples, and the labels its sample() takes for n=3."""
    torch.manual_seed(0)
    return build_model(variant).eval(), ({"labels": torch.tensor([1, 2, 3])} if variant == "cvae" else {})


@pytest.mark.parametrize("variant", ["vae", "cvae", "aae"])
@pytest.mark.parametrize("n, temperature, message", [
    (-1, 1.0, r"n must be a whole number of at least 0, got -1"),  # torch: "negative dimension"
    (2.5, 1.0, r"n must be a whole number of at least 0, got 2\.5"),  # torch: "invalid combination of arguments"
    (3, float("nan"), r"temperature must be a number at least 0 \(finite\), got nan"),  # gave NaN images
    (3, float("inf"), r"temperature must be a number .*got inf"),
    (3, -1.0, r"temperature must be a number at least 0"),
])
def test_sample_refuses_a_bad_count_or_temperature(variant, n, temperature, message):
    model, labels = generative(variant)
    with pytest.raises(ValueError, match=message):
        model.sample(n, temperature=temperature, **labels)


@pytest.mark.parametrize("variant", ["vae", "cvae", "aae"])
def test_sample_is_inference_an_empty_batch_included(variant):
    model, labels = generative(variant)
    assert not model.sample(3, **labels).requires_grad  # carried a graph no caller backpropagates through
    empty = {"labels": torch.zeros(0, dtype=torch.int64)} if labels else {}
    assert model.sample(0, **empty).shape == (0, 1, 28, 28)


@pytest.mark.parametrize("value, says", [(float("nan"), "NaN"), (float("inf"), "infinite")])
def test_decode_refuses_codes_that_are_not_finite(value, says):
    model = build_model("ae")
    z = torch.zeros(2, model.latent_dim)
    z[1, 0] = value
    with pytest.raises(ValueError, match=f"ae's codes must be finite numbers, got {says} values"):  # gave NaN images
        model.decode(z)


@pytest.mark.parametrize("variant", ["ae", "cvae"])
def test_reconstruct_says_what_images_it_takes(variant):
    model = build_model(variant)
    labels = torch.tensor([1]) if model.conditional else None
    with pytest.raises(TypeError, match="images must be a torch.Tensor, got list"):  # was "no attribute 'shape'"
        model.reconstruct(X[:1].tolist(), labels)
    with pytest.raises(ValueError, match="images must hold data, got a tensor on the meta device"):  # was .item()'s
        model.reconstruct(X[:1].to("meta"), labels)


@pytest.mark.parametrize("bad, says", [
    (1.0000001, r"to 1 \+ 1\.2e-07 \("),  # to 4 digits this read "to 1", as if within [0, 1]
    (-1e-7, r"got -1e-07 to"),
])
def test_images_just_outside_the_unit_range_are_shown_so_and_told_to_clamp(bad, says):
    x = X[:2].clone()
    x[0, 0, 0, 0] = bad
    with pytest.raises(ValueError, match=says) as e:
        build_model("ae").encode(x)
    assert "x.clamp(0, 1)" in str(e.value) and "normalis" not in str(e.value)  # not "undo the normalisation"


def test_the_classifier_tells_its_device_and_dtype_as_the_autoencoders_do():
    for variant in ("classifier", "ae"):
        model = build_model(variant).to(torch.float64)
        assert (model.device, model.dtype) == (torch.device("cpu"), torch.float64)
