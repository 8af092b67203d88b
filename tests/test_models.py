"""The public model API for every variant, and the maths of the loss terms checked against independent code."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch.autograd.functional import jacobian
from torch.distributions import Bernoulli, Normal, kl_divergence

from aedemo import VARIANTS, build_model
from aedemo.data import load_mnist, to_float
from aedemo.models.base import mean_bce_per_image
from aedemo.models.sparse import kl_sparsity
from aedemo.models.vae import gaussian_kl

_images, _labels = load_mnist("test", download=False)
X, Y = to_float(_images[:16]), _labels[:16]


def fresh(variant: str, **config) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(variant, **config)
    if variant == "pca":
        model.fit(to_float(_images[:500]))
    return model.eval()


def in_unit_range(t: torch.Tensor) -> bool:
    return bool(torch.isfinite(t).all() and t.min() >= 0 and t.max() <= 1)


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_decode_reconstruct_shapes_and_ranges(variant):
    m = fresh(variant)
    labels = Y if m.conditional else None
    assert m.variant == variant
    with torch.no_grad():
        z = m.encode(X, labels)
        assert z.shape == (16, m.latent_dim) and torch.isfinite(z).all()
        out = m.decode(z, labels)
        assert out.shape == (16, 1, 28, 28) and in_unit_range(out)
        rec = m.reconstruct(X, labels)
        assert rec.shape == (16, 1, 28, 28) and in_unit_range(rec)
        assert torch.allclose(rec, out, atol=1e-6)  # in eval mode, reconstruct = decode(encode) (posterior mean)


@pytest.mark.parametrize("variant, dtype", [  # one-hot labels and noise were float32: vae, cvae and aae failed
    *((v, dtype) for v in VARIANTS for dtype in (torch.bfloat16, torch.float64)),
])
def test_models_in_another_precision_reconstruct_and_score(variant, dtype):
    m = fresh(variant).to(dtype)
    labels = Y if m.conditional else None
    with torch.no_grad():
        assert m.reconstruct(X, labels).dtype == dtype  # float32 images are cast to the model's precision
        assert all(torch.isfinite(t) for t in m.loss_terms(X.to(dtype), Y).values())


@pytest.mark.parametrize("variant", VARIANTS)
def test_latent_dim_is_the_configured_one(variant):
    m = fresh(variant, latent_dim=5)
    assert m.latent_dim == 5 and m.config["latent_dim"] == 5
    with torch.no_grad():
        assert m.encode(X[:2], Y[:2] if m.conditional else None).shape == (2, 5)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "cvae"])
def test_unconditional_models_refuse_labels_rather_than_ignore_them(variant):
    m = fresh(variant)
    z = torch.zeros(16, m.latent_dim)
    calls = [m.encode, m.reconstruct, lambda x, y: m.decode(z, y)] + ([m.posterior] if hasattr(m, "posterior") else [])
    if m.generative:
        calls.append(lambda x, y: m.sample(16, y))  # vae.sample(10, labels=...) drew ten unconditional digits
    for call in calls:
        with pytest.raises(TypeError, match=f"{variant} is not conditional: labels are for cvae"):
            call(X, Y)


@pytest.mark.parametrize("variant", ["vae", "cvae"])
def test_posterior_mean_is_the_code(variant):
    m = fresh(variant)
    labels = Y if m.conditional else None
    with torch.no_grad():
        mu, logvar = m.posterior(X, labels)
        assert mu.shape == logvar.shape == (16, m.latent_dim)
        assert torch.equal(m.encode(X, labels), mu)


@pytest.mark.parametrize("variant", VARIANTS)
def test_sampling_only_for_generative_models(variant):
    m = fresh(variant)
    labels = torch.arange(6) % 10 if m.conditional else None
    if not m.generative:
        with pytest.raises(TypeError, match="sample"):
            m.sample(6)
        return
    with torch.no_grad():
        a = m.sample(6, labels, generator=torch.Generator().manual_seed(1))
        b = m.sample(6, labels, generator=torch.Generator().manual_seed(1))
        c = m.sample(6, labels, generator=torch.Generator().manual_seed(2))
    assert a.shape == (6, 1, 28, 28) and in_unit_range(a)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_cvae_needs_valid_labels_everywhere():
    m = fresh("cvae")
    z = torch.zeros(4, m.latent_dim)
    for call in (lambda: m.encode(X), lambda: m.reconstruct(X), lambda: m.posterior(X), lambda: m.decode(z),
                 lambda: m.sample(4)):
        with pytest.raises(ValueError, match="labels"):
            call()
    with pytest.raises(ValueError, match="needs labels"):
        m(X)  # the unchecked forward too: it failed deep inside, on None's missing is_floating_point
    with pytest.raises(TypeError, match=r"takes an int64 tensor of \d+ class ids, not int; reconstruct\(x, labels=3\)"):
        m(X, 3)  # as reconstruct(x, labels=3) takes it: an AttributeError deep inside
    # and the hooks below the checked interface, whose labels are optional as the VAE's are: decode_logits failed on
    # None's missing is_floating_point, and kl of 10 codes returned a [1, latent_dim] tensor without a word
    mu, pixels_with_class = torch.zeros(10, m.latent_dim), fresh("cvae", class_into="input")
    for call in (lambda: m.decode_logits(z), lambda: m.kl(mu, mu), lambda: pixels_with_class._encode(X)):
        with pytest.raises(ValueError, match="needs labels"):
            call()
    with pytest.raises(ValueError, match="one label per image"):
        m.reconstruct(X, Y[:3])
    with pytest.raises(ValueError, match="0-9"):
        m.decode(z, torch.tensor([0, 1, 2, 10]))


def test_cvae_takes_one_class_id_for_the_whole_batch():
    m = fresh("cvae")
    seeded = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    assert torch.equal(m.sample(5, 3, generator=seeded()), m.sample(5, torch.full((5,), 3), generator=seeded()))
    assert torch.equal(m.reconstruct(X[:4], torch.tensor(7)), m.reconstruct(X[:4], torch.full((4,), 7)))
    with pytest.raises(ValueError, match="0-9"):
        m.sample(2, 10)


def test_cvae_labels_must_be_integer_class_ids():
    m = fresh("cvae")
    z = torch.zeros(3, m.latent_dim)
    # 1.7 used to be read as class 1; "3" got torch's "new(): invalid data type 'str'"
    for labels in (torch.tensor([1.7, 2.0, 3.0]), torch.tensor([True, False, True]), "3", [1, "2", 3]):
        with pytest.raises(TypeError, match="integer class ids"):
            m.decode(z, labels)
    with pytest.raises(TypeError, match="integer class ids .*got '3'"):
        m.sample(3, labels="3")
    with pytest.raises(TypeError, match=r"got \['nine', 'nine', .*…$"):  # a long request cut short, the cut shown
        m.sample(50, labels=["nine"] * 50)
    with torch.no_grad():  # any integer type or a list of ints is the same request
        expected = m.decode(z, torch.tensor([1, 2, 3]))
        assert torch.equal(m.decode(z, torch.tensor([1, 2, 3], dtype=torch.int32)), expected)
        assert torch.equal(m.decode(z, [1, 2, 3]), expected)
        # the wide unsigned types got torch's '"min_all" not implemented for 'UInt32''
        for dtype in (torch.uint8, torch.uint16, torch.uint32, torch.uint64):
            assert torch.equal(m.decode(z, torch.tensor([1, 2, 3], dtype=dtype)), expected), dtype
        assert torch.equal(m.decode(z, np.array([1, 2, 3], dtype=np.uint32)), expected)
        assert torch.equal(m.decode_logits(z, torch.tensor([1, 2, 3], dtype=torch.int32)).sigmoid(), expected)
        # an empty batch with an empty list (torch makes it float32) was refused as "got torch.float32"
        assert m.decode(z[:0], []).shape == (0, 1, 28, 28)
    with pytest.raises(ValueError, match=r"got \[-1, 12\]"):  # the offending ids, not the whole batch
        m.decode(torch.zeros(6, m.latent_dim), torch.tensor([0, 12, 3, -1, 12, 5]))
    with torch.no_grad():  # and its loss, as evaluate() computes it, from labels of a smaller integer type
        seeded = lambda: torch.Generator().manual_seed(0)  # the same reparameterisation noise for both
        terms = m.loss_terms(X[:3], torch.tensor([1, 2, 3], dtype=torch.uint8), seeded())
        assert torch.equal(terms["loss"], m.loss_terms(X[:3], torch.tensor([1, 2, 3]), seeded())["loss"])


@pytest.mark.parametrize("variant", VARIANTS)
def test_bad_images_are_refused_with_what_the_models_take(variant):
    m = fresh(variant)
    labels = Y[:4] if m.conditional else None
    calls = [m.encode, m.reconstruct] + ([m.posterior] if hasattr(m, "posterior") else [])
    cases = [
        (X[:4] * 255, ValueError, r"\[0, 1\].*divide by 255"),  # 0-255 floats used to come back as nonsense
        # uint8: each hint takes the images it is given (to_float refuses [B,1,28,28])
        (_images[:4], TypeError, r"aedemo.data.to_float\(x\)"),
        (_images[:4].unsqueeze(1), TypeError, r"x.float\(\) / 255"),
        (_images[:4].flatten(1), TypeError, r"x.float\(\) / 255"),
        (X[:4, :, :14], ValueError, r"\[B, 1, 28, 28\]"),
        (X[:4].view(4, 1, 784), ValueError, r"\[B, 1, 28, 28\]"),
        (torch.full((4, 1, 28, 28), float("nan")), ValueError, r"finite numbers in \[0, 1\], got NaN values"),
        (X[:4].numpy(), TypeError, "torch.Tensor"),
        (X[0, 0], ValueError, r"one image: add the batch dimension, x\[None\]"),
        (X[0].flatten(), ValueError, r"one image: add the batch dimension"),
        (X[:4].permute(0, 2, 3, 1), ValueError, r"channels last: x.permute\(0, 3, 1, 2\)"),
    ]
    for call in calls:
        for x, error, message in cases:
            with pytest.raises(error, match=message):
                call(x, labels)
    with torch.no_grad():  # one layout for every variant: [B,28,28], [B,784] and float64 are the same images
        expected = m.reconstruct(X[:4], labels)
        for x in (X[:4, 0], X[:4].flatten(1), X[:4].double()):
            assert torch.allclose(m.reconstruct(x, labels), expected, atol=1e-6)
        assert torch.equal(m(X[:4], labels), expected)  # model(x) reconstructs, unchecked (for torch.compile etc.)
        for empty in (X[:0], X[:0, 0], X[:0].flatten(1)):
            assert m.reconstruct(empty, labels[:0] if labels is not None else None).shape == (0, 1, 28, 28)
    with pytest.raises(ValueError, match=rf"\[B, {m.latent_dim}\]"):
        m.decode(torch.zeros(4, m.latent_dim + 1), labels)


@pytest.mark.parametrize("x, says, never", [
    (X[:4] * 255, "divide by 255", "normalis"),
    ((X[:4] - 0.1307) / 0.3081, r"normalised images\? undo the normalisation", "255"),  # torchvision's Normalize
    (X[:4] * 2 - 1, r"\[-1, 1\] images: \(x \+ 1\) / 2", "255"),
    (torch.where(X[:4] > 0.5, float("inf"), X[:4]), "got infinite values", "255"),
    (X[:4] * 1.2, r"got 0 to 1\.2$", "255|normalis"),  # an overshoot: no guess at its cause
])
def test_out_of_range_images_get_the_fix_their_values_point_to(x, says, never):
    with pytest.raises(ValueError, match=says) as e:
        fresh("ae").encode(x)
    assert not re.search(never, str(e.value))


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_misspelt_architecture_argument_is_refused(variant):
    with pytest.raises(TypeError, match="no architecture argument 'latnt_dim'.*latent_dim"):
        build_model(variant, latnt_dim=4)


def test_cvae_morph_runs_from_one_class_sample_to_the_other_in_one_style():
    m = fresh("cvae")
    with torch.no_grad():  # a prior away from N(0, I), as training leaves it, so the prior's slide shows
        m.prior_mu.copy_(torch.randn(m.prior_mu.shape, generator=torch.Generator().manual_seed(1)))
    eps = torch.randn(m.latent_dim, generator=torch.Generator().manual_seed(5))
    frames = m.morph(3, 8, 5, eps, temperature=0.8)
    ends = [m.sample(1, torch.tensor([d]), generator=torch.Generator().manual_seed(5), temperature=0.8) for d in (3, 8)]
    assert frames.shape == (5, 1, 28, 28) and in_unit_range(frames)
    assert torch.allclose(frames[0], ends[0][0], atol=1e-6) and torch.allclose(frames[-1], ends[1][0], atol=1e-6)
    with pytest.raises(ValueError, match="class ids 0-9"):
        m.morph(3, 10, 5, eps)
    for bad, message in (({"steps": 0}, "steps must be"), ({"eps": eps[:1]}, "eps must be one"),
                         ({"eps": eps.expand(2, -1)}, "eps must be one"), ({"temperature": -1.0}, "temperature")):
        with pytest.raises(ValueError, match=message):
            m.morph(**{"start": 3, "end": 8, "steps": 5, "eps": eps, **bad})


def test_cvae_output_depends_on_the_label():
    m = fresh("cvae")
    z = torch.randn(4, m.latent_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        threes, fives = m.decode(z, torch.full((4,), 3)), m.decode(z, torch.full((4,), 5))
    assert not torch.allclose(threes, fives)


@pytest.mark.parametrize("channels", [None, [8, 16]])  # MLP and convolutional
def test_cvae_encoder_takes_the_label_with_the_pixels(channels):
    # given only at the last layer, the label shifted every image's code by the same amount: the encoder's
    # features could not depend on the class
    for class_into, shifts_alike in (("input", False), ("heads", True)):
        m = fresh("cvae", channels=channels, class_into=class_into)
        with torch.no_grad():
            shift = m.encode(X[:4], torch.full((4,), 3)) - m.encode(X[:4], torch.full((4,), 5))
            assert m.reconstruct(X[:4], Y[:4]).shape == (4, 1, 28, 28)
        assert torch.allclose(shift, shift[:1].expand_as(shift), atol=1e-5) == shifts_alike, class_into
    with pytest.raises(ValueError, match="class_into must be one of 'input', 'heads'"):
        build_model("cvae", class_into="decoder")


def test_reconstruction_loss_is_torchs_bce_with_logits_even_for_saturated_logits():
    g = torch.Generator().manual_seed(0)
    logits = torch.cat([torch.randn(6, 784, generator=g) * 4, torch.full((1, 784), 40.0), torch.full((1, 784), -40.0)])
    target = torch.rand(8, 784, generator=g)
    ours, theirs = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    loss = mean_bce_per_image(ours, target)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(theirs, target, reduction="sum") / 8
    loss.backward()
    expected.backward()
    assert torch.allclose(loss, expected, rtol=1e-6)
    assert torch.allclose(ours.grad, theirs.grad, atol=1e-7)


def test_reconstruction_loss_gradients_are_right_for_logits_and_targets_to_second_order():
    # its backward is written out: checked against finite differences (on small images: they cost a call per pixel),
    # and under torch.func
    g = torch.Generator().manual_seed(0)
    logits = (torch.randn(3, 1, 6, 6, generator=g, dtype=torch.float64) * 3).requires_grad_()
    target = torch.rand(3, 1, 6, 6, generator=g, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(mean_bce_per_image, (logits, target))
    assert torch.autograd.gradgradcheck(mean_bce_per_image, (logits, target))
    per_image = torch.func.vmap(torch.func.grad(mean_bce_per_image))(logits.detach()[:, None], target.detach()[:, None])
    assert torch.allclose(per_image[:, 0], torch.sigmoid(logits.detach()) - target.detach())  # B = 1 each
    # as the trainer runs it under bf16 autocast: logits from a bf16 layer, float32 targets. The value and the
    # gradient reaching the layer's float32 weights are float32's within bf16's rounding
    layer = torch.nn.Linear(16, 784)
    inputs = torch.randn(4, 16, generator=g)
    pixels = torch.rand(4, 784, generator=g)

    def loss_and_grad(autocast: bool) -> tuple[torch.Tensor, torch.Tensor]:
        layer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            loss = mean_bce_per_image(layer(inputs), pixels)
        loss.backward()
        return loss.detach().float(), layer.weight.grad.clone()

    (loss_bf16, grad_bf16), (loss_f32, grad_f32) = loss_and_grad(True), loss_and_grad(False)
    assert grad_bf16.dtype == torch.float32 and torch.allclose(loss_bf16, loss_f32, rtol=0.01)
    assert torch.nn.functional.cosine_similarity(grad_bf16.flatten(), grad_f32.flatten(), dim=0) > 0.999


def test_reconstruction_loss_refuses_targets_that_would_broadcast():
    with pytest.raises(ValueError, match="same shape"):  # one target for eight images would broadcast silently
        mean_bce_per_image(torch.zeros(8, 1, 28, 28), torch.zeros(1, 28, 28))


def test_vae_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(7, 5, generator=g, dtype=torch.float64), 2 * torch.randn(7, 5, generator=g).double()
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(gaussian_kl(mu, logvar), expected)


@pytest.mark.parametrize("variant", ["vae", "cvae"])
def test_vae_loss_is_bce_plus_kl_of_the_posterior(variant):
    m = fresh(variant)
    labels = Y if m.conditional else None
    prior_mu, prior_std = torch.zeros(16, m.latent_dim), torch.ones(16, m.latent_dim)
    if m.conditional:  # the CVAE's learned prior, moved off N(0, I) as training moves it
        with torch.no_grad():
            m.prior_mu.copy_(torch.randn(m.prior_mu.shape, generator=torch.Generator().manual_seed(1)))
            m.prior_logvar.copy_(torch.rand(m.prior_logvar.shape, generator=torch.Generator().manual_seed(2)) - 0.5)
        prior_mu, prior_std = m.prior_mu[Y].detach(), (0.5 * m.prior_logvar[Y]).exp().detach()
    with torch.no_grad():
        terms = m.loss_terms(X, Y, torch.Generator().manual_seed(0))
        mu, logvar = m.posterior(X, labels)
    kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(prior_mu, prior_std)).sum(1).mean()
    assert torch.allclose(terms["kl"], kl, rtol=1e-4)
    assert torch.allclose(terms["loss"], terms["bce"] + terms["kl"])


def test_contractive_penalty_is_the_exact_jacobian_norm():
    m = fresh("contractive").double()
    x = X[:3].double()
    penalty = m.jacobian_penalty(x)
    assert penalty.shape == (3,)
    for i in range(3):
        jac = jacobian(lambda v: m.encode(v.view(1, 1, 28, 28))[0], x[i].flatten())
        assert jac.shape == (m.latent_dim, 28 * 28)
        assert torch.allclose(penalty[i], jac.pow(2).sum(), rtol=1e-9)
    assert torch.allclose(m.loss_terms(x, None)["jacobian_fro2"], penalty.mean())


def test_contractive_decoder_is_tied_so_the_penalty_cannot_be_paid_by_rescaling():
    # Untied, shrinking the code layer 10x and growing the decoder's first layer 10x kept every reconstruction and
    # cut ||J||^2 100x: the penalty paid without contracting anything. Tied, the decoder reads the encoder's own
    # weights, so there is no decoder layer to grow.
    for tied in (False, True):
        m = fresh("contractive", tied=tied)
        with torch.no_grad():
            before, penalty = m.reconstruct(X), m.jacobian_penalty(X)
            m.encoder[2].weight.mul_(0.1)
            m.encoder[2].bias.mul_(0.1)
            if not tied:
                m.decoder[0].weight.mul_(10)
            after = m.reconstruct(X)
            assert torch.allclose(m.jacobian_penalty(X), penalty / 100, rtol=1e-4)
        assert torch.allclose(after, before, atol=1e-5) is (not tied)
    own = {name for name, _ in m.named_parameters() if name.startswith("decoder.")}
    assert own == {"decoder.hidden_bias", "decoder.output_bias"}  # biases only: its weights are the encoder's


def test_contractive_tied_must_be_true_or_false():
    with pytest.raises(ValueError, match="tied must be true or false"):
        build_model("contractive", tied="yes")


def test_sparse_kl_matches_the_bernoulli_formula():
    rho, rho_hat = 0.05, torch.tensor([0.01, 0.05, 0.3, 0.9], dtype=torch.float64)
    direct = (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()
    via_torch = kl_divergence(Bernoulli(probs=torch.tensor(rho, dtype=torch.float64)), Bernoulli(probs=rho_hat)).sum()
    assert torch.allclose(kl_sparsity(rho, rho_hat), direct)
    assert torch.allclose(kl_sparsity(rho, rho_hat), via_torch)
    assert kl_sparsity(rho, torch.full((3,), rho)).abs() < 1e-12  # no penalty at the target rate
    # mean activations in bf16 (training under autocast): their logs cancelled into noise, the KL came out negative
    near, high = torch.full((128,), 0.0502).bfloat16(), torch.full((4,), 0.9995).bfloat16()
    assert kl_sparsity(rho, near) >= 0
    assert torch.allclose(kl_sparsity(rho, near), kl_sparsity(rho, near.double()).float(), atol=1e-5)  # bf16: -0.05
    assert kl_sparsity(rho, high).isfinite()  # bf16's 1 - 1e-6 was 1: a log of 0


def test_sparse_penalty_is_on_mean_code_activations():
    m = fresh("sparse")
    with torch.no_grad():
        code = m.encode(X)
        terms = m.loss_terms(X, None)
    assert code.min() > 0 and code.max() < 1  # firing rates
    assert torch.allclose(terms["kl_sparsity"], kl_sparsity(m.rho, code.mean(0)))
    assert torch.allclose(terms["loss"], terms["bce"] + m.beta * terms["kl_sparsity"])


def test_pca_reconstructs_data_of_its_rank_exactly():
    g = torch.Generator().manual_seed(0)
    basis = torch.linalg.qr(torch.randn(784, 3, generator=g, dtype=torch.float64))[0].T  # 3 orthonormal rows
    coeffs = torch.randn(200, 3, generator=g, dtype=torch.float64)
    x = (0.5 + 0.1 * coeffs @ basis).float().view(-1, 1, 28, 28)  # stays inside (0,1): no clamping
    m = build_model("pca", latent_dim=3).fit(x).eval()
    assert torch.allclose(m.components @ m.components.T, torch.eye(3), atol=1e-5)
    assert torch.allclose(m.reconstruct(x), x, atol=1e-5)


def test_classifier_outputs_probabilities():
    clf = fresh("classifier")
    with torch.no_grad():
        assert clf(X).shape == (16, 10)
    p = clf.predict_proba(X)
    assert torch.allclose(p.sum(1), torch.ones(16)) and p.min() >= 0


def test_classifier_predicts_the_same_in_training_mode_and_leaves_its_batch_norm_statistics_alone():
    clf = fresh("classifier")
    expected = clf.predict_proba(X)
    clf.train()  # mid-training, say: a caller checking predictions between steps
    stats = {k: v.clone() for k, v in clf.state_dict().items()}
    assert torch.allclose(clf.predict_proba(X[:4]), expected[:4], atol=1e-6)  # not this batch's own statistics
    assert all(torch.equal(v, clf.state_dict()[k]) for k, v in stats.items()) and clf.training


def test_classifier_predict_gives_class_ids_as_scikit_learn_does():
    clf = fresh("classifier")
    expected = clf.predict_proba(X).argmax(1)
    clf.train()  # read in eval mode, as predict_proba is
    predicted = clf.predict(X)
    assert predicted.dtype == torch.int64 and predicted.shape == (len(X),) and torch.equal(predicted, expected)
    assert clf.training and torch.equal(clf.predict(X[:2, 0]), expected[:2])  # [B,28,28] too
    with pytest.raises(ValueError, match="255"):
        clf.predict(X * 255)  # checked as predict_proba checks


def test_classifier_checks_its_images_as_the_autoencoders_do():
    clf = fresh("classifier")
    for x, error, message in [
        (_images[:4].unsqueeze(1), TypeError, r"x.float\(\) / 255"),  # was torch's "Input type (unsigned char)..."
        (_images[:4], TypeError, r"aedemo.data.to_float\(x\)"),
        (X[:4] * 255, ValueError, "divide by 255"),
        (X[:4, :, :14], ValueError, r"\[B, 1, 28, 28\]"),
        (X[:4].numpy(), TypeError, "torch.Tensor"),
        (X[0, 0], ValueError, r"one image: add the batch dimension, x\[None\]"),
        (X[0].flatten(), ValueError, r"one image: add the batch dimension"),
        (X[:4].permute(0, 2, 3, 1), ValueError, r"channels last: x.permute\(0, 3, 1, 2\)"),
    ]:
        with pytest.raises(error, match=message):
            clf.predict_proba(x)
    expected = clf.predict_proba(X[:4])
    for x in (X[:4, 0], X[:4].flatten(1), X[:4].double()):  # the autoencoders' layouts, and float64
        assert torch.allclose(clf.predict_proba(x), expected, atol=1e-6)


def test_unknown_variant_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="vae"):
        build_model("transformer")


def test_cvae_samples_come_from_the_class_prior():
    m = fresh("cvae")
    with torch.no_grad():
        m.prior_mu.copy_(torch.linspace(-3, 3, 10).view(10, 1).expand(10, m.latent_dim))
        m.prior_logvar.fill_(-30.0)  # no spread: a sample is the decoded class mean
        labels = torch.tensor([3, 7, 7])
        got = m.sample(3, labels, generator=torch.Generator().manual_seed(0))
        assert torch.allclose(got, m.decode(m.prior_mu[labels], labels), atol=1e-5)


def test_vae_decodes_a_sample_of_standard_deviation_exp_half_logvar(monkeypatch):
    m = fresh("vae")
    seen, real = {}, m.decode_logits

    def capture(z, labels=None):
        seen["z"] = z
        return real(z, labels)

    with torch.no_grad():
        m.to_logvar.bias.fill_(2.0)  # variance e^2: the standard deviation and the variance differ clearly
        monkeypatch.setattr(m, "decode_logits", capture)
        m.loss_terms(X, None, torch.Generator().manual_seed(0))
        mu, logvar = m.posterior(X)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(seen["z"], mu + (0.5 * logvar).exp() * eps, atol=1e-5)


def test_sparse_penalty_stays_finite_for_dead_and_saturated_units():
    assert torch.isfinite(kl_sparsity(0.05, torch.tensor([0.0, 1.0, 0.3]))).all()
    m = fresh("sparse")
    with torch.no_grad():
        m.encoder[-2].bias[0] = -1e4  # unit 0 never fires: its mean activation is exactly 0 in float32
        assert torch.isfinite(m.loss_terms(X, None)["loss"])


def test_contractive_loss_weighs_the_penalty_by_lam():
    m = fresh("contractive", lam=0.5)
    with torch.no_grad():
        terms = m.loss_terms(X, None)
    assert torch.allclose(terms["loss"], terms["bce"] + 0.5 * terms["jacobian_fro2"])


@pytest.mark.parametrize("variant", ["vae", "aae"])
def test_sampling_temperature_scales_the_prior_draws(variant):
    # a temperature that was ignored passed every test but the CVAE's morph
    m = fresh(variant)
    seeded = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    with torch.no_grad():
        assert torch.allclose(m.sample(4, temperature=0.0, generator=seeded()), m.decode(torch.zeros(4, m.latent_dim)))
        drawn = {}
        real_decode = m._decode
        m._decode = lambda z, labels=None: (drawn.setdefault(len(drawn), z), real_decode(z, labels))[1]
        for t in (1.0, 0.5):
            m.sample(64, temperature=t, generator=seeded())
    assert torch.allclose(drawn[1], 0.5 * drawn[0])  # the same draws, half as far from the prior's mean


def test_dae_learns_from_corrupted_inputs_against_clean_targets():
    # training on the clean digits instead passed every other test: the noise is what makes it a denoising AE
    from aedemo.models.base import mean_bce_per_image
    from aedemo.noise import random_corruption

    m = fresh("dae").train()
    seen = []
    real_encode = m._encode
    m._encode = lambda x, labels=None: (seen.append(x), real_encode(x))[1]
    loss = m.loss_terms(X, None, torch.Generator().manual_seed(5))["loss"]
    (encoded,) = seen
    expected_input = random_corruption(X, torch.Generator().manual_seed(5))
    assert not torch.equal(encoded, X) and torch.equal(encoded, expected_input)
    with torch.no_grad():
        assert torch.allclose(loss, mean_bce_per_image(m.decode_logits(real_encode(expected_input)), X))


def test_aae_losses_are_the_gan_losses_of_the_paper():
    m = fresh("aae")
    z_fake = torch.randn(16, m.latent_dim)
    z_real = torch.randn(z_fake.shape, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        d = m.discriminator
        # -log D(real) - log(1 - D(fake)), and the encoder's -log D(fake) (the non-saturating generator loss)
        expected_disc = -torch.sigmoid(d(z_real)).log().mean() - (1 - torch.sigmoid(d(z_fake))).log().mean()
        expected_gen = -torch.sigmoid(d(z_fake)).log().mean()
        assert torch.allclose(m.discriminator_loss(z_fake, torch.Generator().manual_seed(3)), expected_disc)
        assert torch.allclose(m.generator_loss(z_fake), expected_gen)


def test_aae_training_step_runs_both_adversarial_phases_each_in_its_direction():
    """The discriminator's step makes it tell prior draws from codes better and leaves the encoder; the encoder's
    step as generator then fools it more and leaves the discriminator. (A step that only moved the encoder passed
    when the generator's target was flipped, or the discriminator never stepped.)"""
    m = fresh("aae").train()
    ae_opt, disc_opt, gen_opt = m.configure_optimizers(1e-3)
    seen = {}

    def params(module: torch.nn.Module) -> list[torch.Tensor]:
        return [p.detach().clone() for p in module.parameters()]

    def changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
        return any(not torch.equal(b, p) for b, p in zip(before, module.parameters(), strict=True))

    def watched(name: str, optimizer: torch.optim.Optimizer, loss, other: torch.nn.Module) -> None:
        real_step = optimizer.step

        def step(*args, **kwargs):
            with torch.no_grad():
                before, others = loss(), params(other)
                out = real_step(*args, **kwargs)
                seen[name] = (before, loss(), changed(others, other))
            return out

        optimizer.step = step

    with torch.no_grad():
        codes = m._encode(X)  # the fakes the discriminator is scored on, before its step
    watched("disc", disc_opt, lambda: m.discriminator_loss(codes, torch.Generator().manual_seed(0)), m.encoder)
    watched("gen", gen_opt, lambda: m.generator_loss(m._encode(X)), m.discriminator)
    m.training_step(X, Y, [ae_opt, disc_opt, gen_opt])
    for name in ("disc", "gen"):
        before, after, moved_the_other = seen[name]
        assert after < before, (name, before, after)
        assert not moved_the_other, name


def test_numpy_numbers_are_taken_as_sizes_and_weights_and_saved_as_plain_json(tmp_path):
    from aedemo import load_model, save_checkpoint

    model = build_model("sparse", latent_dim=np.int64(16), hidden=[np.int32(64)], rho=np.float32(0.1))
    assert model.config["latent_dim"] == 16 and type(model.config["latent_dim"]) is int
    save_checkpoint(model, tmp_path / "ck")  # config.json: json cannot write numpy's integers
    assert load_model(str(tmp_path / "ck")).config["hidden"] == [64]
