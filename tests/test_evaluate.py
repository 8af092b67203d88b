"""Evaluation: PSNR, the figures of one model, the classifier-based CVAE score and the CLI table."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from aedemo import VARIANTS, build_model, save_checkpoint
from aedemo.data import load_mnist, to_float
from aedemo.evaluate import (
    PSNR_CAP_DB,
    evaluate_model,
    evaluate_terms,
    load_classifier,
    main,
    markdown_table,
    psnr,
)
from aedemo.models import VAE, Autoencoder, MnistClassifier
from aedemo.space.store import ModelStore
from aedemo.train import TrainConfig, train

_images, _labels = load_mnist("test", download=False)
X, Y = to_float(_images[:200]), _labels[:200]


class Identity(Autoencoder):
    """Returns its input: its denoised PSNR must equal the noisy input's own."""

    variant = "identity"

    def __init__(self):
        super().__init__(latent_dim=784)
        self.register_buffer("unused", torch.zeros(1))  # where the input checks read the dtype every model has

    def encode(self, x, labels=None):
        return x.flatten(1)

    def decode_logits(self, z, labels=None):
        return torch.logit(z.clamp(1e-6, 1 - 1e-6)).view(-1, 1, 28, 28)

    def reconstruct(self, x, labels=None):
        return x.clone()


def always(digit: int) -> MnistClassifier:
    """A classifier that answers `digit` for every image."""
    clf = MnistClassifier()
    with torch.no_grad():
        clf.net[-1].weight.zero_()
        clf.net[-1].bias.copy_(10.0 * F.one_hot(torch.tensor(digit), 10))
    return clf.eval()


def test_psnr_known_values():
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 0.8
    assert psnr(x + 0.1, x) == pytest.approx(torch.full((3,), 20.0))  # MSE 0.01 at peak 1: 20 dB
    assert psnr(x + 0.01, x) == pytest.approx(torch.full((3,), 40.0), rel=1e-4)
    same = psnr(x, x)
    assert torch.equal(same, torch.full((3,), PSNR_CAP_DB))  # identical images: capped, not infinite
    assert torch.equal(psnr(x.half(), x.half()), same)  # the cap's 1e-10 is 0 in float16: it was infinite


def test_figures_of_an_autoencoder():
    torch.manual_seed(0)
    model = build_model("ae").eval()
    figures = evaluate_model(model, X, Y)
    with torch.no_grad():
        out = model.reconstruct(X)
    assert figures["mse"] == pytest.approx(F.mse_loss(out, X).item(), rel=1e-5)
    assert figures["psnr"] == pytest.approx(psnr(out, X).mean().item(), rel=1e-5)
    assert figures["bce"] == pytest.approx(F.binary_cross_entropy(out, X, reduction="sum").item() / 200, rel=1e-4)
    assert {"gaussian_noisy_psnr", "gaussian_denoised_psnr", "salt_pepper_noisy_psnr",
            "salt_pepper_denoised_psnr"} <= set(figures)
    assert "nelbo" not in figures and "sample_class_accuracy" not in figures
    assert figures == evaluate_model(model, X, Y)  # fixed noise: the same figures every time
    model.train()  # a caller mid-training (the Space scores a model it goes on training) keeps its mode
    assert evaluate_model(model, X, Y) == figures and model.training


def test_denoising_figures_compare_output_with_the_noisy_input():
    figures = evaluate_model(Identity(), X, Y)
    assert figures["mse"] == 0.0
    for kind in ("gaussian", "salt_pepper"):
        assert figures[f"{kind}_denoised_psnr"] == pytest.approx(figures[f"{kind}_noisy_psnr"])
        assert figures[f"{kind}_noisy_psnr"] < 20  # the corruptions are strong
    torch.manual_seed(0)
    other = evaluate_model(build_model("dae").eval(), X, Y)
    assert other["gaussian_noisy_psnr"] == figures["gaussian_noisy_psnr"]  # the noisy inputs do not depend on the model


def test_pca_bce_is_one_figure_in_evaluation_and_in_its_loss():
    # PCA's clipped linear output has pixels at exactly 0 or 1: its BCE depends on the bound, which was two bounds
    model = build_model("pca").fit(to_float(_images[-2000:]))
    assert evaluate_model(model, X, Y)["bce"] == pytest.approx(evaluate_terms(model, X, Y)["bce"], rel=1e-5)


def test_vae_figures_include_the_negative_elbo():
    # written out here from the posterior, with torch's own BCE and KL: one draw per digit from the evaluation's
    # seeded generator (seed 0), BCE summed over the pixels plus KL(q(z|x) || N(0, I)), averaged over the digits
    from torch.distributions import Normal, kl_divergence

    torch.manual_seed(0)
    model = build_model("vae").eval()
    with torch.no_grad():
        mu, logvar = model.posterior(X)
        std = (0.5 * logvar).exp()
        z = mu + std * torch.randn(mu.shape, generator=torch.Generator().manual_seed(0))
        bce = F.binary_cross_entropy(model.decode(z), X, reduction="sum") / len(X)
        kl = kl_divergence(Normal(mu, std), Normal(0.0, 1.0)).sum(1).mean()
    assert evaluate_model(model, X, Y)["nelbo"] == pytest.approx(float(bce + kl), rel=1e-4)


def test_a_vae_trained_on_a_weighted_kl_is_scored_on_the_elbo():
    # a β-VAE's training loss is BCE + β·KL; its -ELBO column used to report that
    class BetaVAE(VAE):
        variant = "beta_vae_test"

        def loss_terms(self, x, labels=None, generator=None):
            terms = super().loss_terms(x, labels, generator)
            return {**terms, "loss": terms["bce"] + 4 * terms["kl"]}

    torch.manual_seed(0)
    model = BetaVAE(latent_dim=4, hidden=[64]).eval()
    terms = evaluate_terms(model, X, Y)
    assert terms["loss"] != pytest.approx(terms["bce"] + terms["kl"])  # the weighting makes a difference to see
    assert evaluate_model(model, X, Y)["nelbo"] == pytest.approx(terms["bce"] + terms["kl"])


def test_cvae_samples_are_scored_by_the_classifier():
    torch.manual_seed(0)
    model = build_model("cvae").eval()
    figures = evaluate_model(model, X, Y, classifier=always(3))
    assert figures["sample_class_accuracy"] == pytest.approx(0.1)  # 100 samples per class, all read as a 3
    assert "gaussian_noisy_psnr" not in figures  # conditional: the denoising figures need no labels, it does


def test_evaluation_runs_in_eval_mode_and_leaves_batch_norm_statistics_alone():
    classifier = build_model("classifier").train()
    stats = {k: v.clone() for k, v in classifier.state_dict().items()}
    first = evaluate_model(classifier, X, Y)
    assert evaluate_model(classifier, X, Y) == first  # no dropout
    assert all(torch.equal(v, classifier.state_dict()[k]) for k, v in stats.items())


def test_classifier_accuracy():
    figures = evaluate_model(always(7), X, Y)
    assert figures == {"accuracy": pytest.approx((Y == 7).float().mean().item())}


def test_load_classifier_returns_none_unless_a_classifier_is_there(tmp_path):
    assert load_classifier(tmp_path) is None
    save_checkpoint(build_model("ae", hidden=[8], latent_dim=2), tmp_path / "classifier")
    assert load_classifier(tmp_path) is None  # a checkpoint, but not a classifier
    save_checkpoint(always(1), tmp_path / "classifier")
    assert isinstance(load_classifier(tmp_path), MnistClassifier)
    (tmp_path / "classifier" / "config.json").write_text("{")
    assert load_classifier(tmp_path) is None


def test_the_classifier_and_the_cli_follow_aedemo_checkpoints(tmp_path, monkeypatch, capsys):
    """AEDEMO_CHECKPOINTS points the app and the tools at one other folder: a CVAE is scored by its classifier."""
    save_checkpoint(always(3), tmp_path / "classifier")
    monkeypatch.setenv("AEDEMO_CHECKPOINTS", str(tmp_path))
    assert load_classifier()(torch.zeros(1, 1, 28, 28)).argmax().item() == 3
    assert ModelStore().root == tmp_path
    main(["--json"])
    results = json.loads(capsys.readouterr().out)
    threes = (load_mnist("test")[1] == 3).float().mean().item()
    assert results["classifier"] == {"variant": "classifier", "accuracy": pytest.approx(threes)}  # it always says 3
    assert str(tmp_path / "vae") in results["vae"]["error"]


def test_markdown_table_has_a_column_per_figure_present():
    table = markdown_table({"ae": {"mse": 0.01234, "psnr": 20.0}, "vae": {"mse": 0.02, "nelbo": 101.26}})
    header, rule, ae, vae = table.splitlines()
    assert header.split("|")[1:-1] == [" variant ", " MSE/px ", " PSNR dB ", " -ELBO nats "]
    assert rule.count("|") == header.count("|")
    assert "0.0123" in ae and "101.3" in vae and vae.split("|")[3].strip() == ""


def test_cli_reports_every_checkpoint_and_says_which_are_missing(tmp_path, capsys, monkeypatch):
    torch.manual_seed(0)
    save_checkpoint(build_model("ae", hidden=[32], latent_dim=4), tmp_path / "ae")
    main(["--checkpoints", str(tmp_path), "--json"])  # on the whole test set: one small model keeps it quick
    results = json.loads(capsys.readouterr().out)
    assert {"mse", "psnr", "gaussian_denoised_psnr"} <= set(results["ae"])
    assert str(tmp_path / "vae") in results["vae"]["error"]
    assert set(results) == {*VARIANTS, "classifier"}
    # a folder from home with a tilde, as load_model reads it: "no such checkpoint folder"
    monkeypatch.setenv("HOME", str(tmp_path))
    main(["~/ae", "--checkpoints", "~", "--json"])
    assert json.loads(capsys.readouterr().out)["~/ae"]["variant"] == "ae"


def test_cli_prints_the_markdown_table_and_says_which_checkpoints_are_missing(tmp_path, capsys):
    torch.manual_seed(0)
    save_checkpoint(build_model("ae", hidden=[32], latent_dim=4), tmp_path / "ae")
    main(["--checkpoints", str(tmp_path)])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ae ")]
    assert len(rows) == 1 and out.splitlines()[0].startswith("| variant | MSE/px |")
    assert str(tmp_path / "vae") in out and "classifier" in out


def test_cli_with_no_checkpoint_says_so_and_fails(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:  # a script checking the exit status learns that nothing was evaluated
        main(["--checkpoints", str(tmp_path)])
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert out.startswith(f"No checkpoint could be loaded from {tmp_path}.") and "|" not in out
    with pytest.raises(SystemExit):
        main(["--checkpoints", str(tmp_path / "nowhere")])
    out, err = capsys.readouterr()  # once, not followed by ten lines saying each folder is missing
    assert out.strip() == (f"No checkpoint could be loaded from {tmp_path / 'nowhere'}. There is no such folder: name "
                           "one with --checkpoints or $AEDEMO_CHECKPOINTS.")
    assert err == ""  # nor by a note on whose classifier reads a CVAE there is none of


def test_cli_does_not_report_a_model_under_another_variant_s_name(tmp_path, capsys):
    torch.manual_seed(0)
    save_checkpoint(build_model("pca", latent_dim=4), tmp_path / "conv")  # a PCA where the conv AE should be
    save_checkpoint(build_model("ae", hidden=[32], latent_dim=4), tmp_path / "ae")
    with pytest.raises(SystemExit) as exit_:  # a folder there that cannot be evaluated fails the run
        main(["--checkpoints", str(tmp_path), "--json"])
    assert exit_.value.code == 1
    results = json.loads(capsys.readouterr().out)
    assert results["conv"] == {"error": f"{tmp_path / 'conv'}: holds a model of variant 'pca', not 'conv'"}
    assert "mse" in results["ae"]


def test_cli_evaluates_the_folders_it_is_given_such_as_a_training_run(tmp_path, capsys):
    torch.manual_seed(0)
    save_checkpoint(build_model("ae", hidden=[32], latent_dim=4), tmp_path / "ae-run")  # train.py's default out
    with pytest.raises(SystemExit) as exit_:  # one of the folders named is not there: the exit status says so
        main([f"{tmp_path / 'ae-run'}/", str(tmp_path / "nowhere"), "--json"])
    assert exit_.value.code == 1
    results = json.loads(capsys.readouterr().out)
    # only those, keyed by the paths as given (the one that loaded was "<path> (ae)", its trailing / dropped: a
    # script could not look it up)
    assert set(results) == {f"{tmp_path / 'ae-run'}/", str(tmp_path / "nowhere")}
    assert "mse" in results[f"{tmp_path / 'ae-run'}/"] and results[f"{tmp_path / 'ae-run'}/"]["variant"] == "ae"
    assert results[str(tmp_path / "nowhere")] == {"error": f"{tmp_path / 'nowhere'}: no such checkpoint folder"}


def test_cli_succeeds_when_every_folder_it_is_given_evaluates(tmp_path, capsys):
    torch.manual_seed(0)
    save_checkpoint(build_model("pca", latent_dim=4), tmp_path / "pca-run")
    main([str(tmp_path / "pca-run")])  # no SystemExit
    assert f"| {tmp_path / 'pca-run'} (pca) |" in capsys.readouterr().out


def test_images_without_their_labels_are_refused_not_swapped_for_the_test_set():
    model = build_model("ae", hidden=[32], latent_dim=4)
    with pytest.raises(ValueError, match="x_test and y_test together"):
        evaluate_model(model, X[:50])
    with pytest.raises(ValueError, match="x_test and y_test together"):
        evaluate_model(model, y_test=Y[:50])


def test_a_bfloat16_model_is_scored_in_float32_and_left_as_it_was():
    torch.manual_seed(0)
    model = build_model("vae", hidden=[32], latent_dim=4, channels=None).to(torch.bfloat16)
    figures = evaluate_model(model, X, Y)
    assert next(model.parameters()).dtype == torch.bfloat16
    assert figures == pytest.approx(evaluate_model(model.float(), X, Y))  # the same weights, already float32
    assert {"mse", "bce", "nelbo"} <= set(figures)


def test_a_vae_derived_under_a_new_name_is_scored_on_its_elbo():
    from aedemo.models.vae import VAE

    class BetaVAE(VAE):
        variant = "beta_vae_test"

    torch.manual_seed(0)
    figures = evaluate_model(BetaVAE(latent_dim=4, hidden=[32], channels=None), X, Y)
    assert figures["nelbo"] > figures["bce"] > 0


def test_images_in_float64_or_without_their_channel_are_scored_alike():
    torch.manual_seed(0)
    model = build_model("ae", hidden=[32], latent_dim=4)
    figures = evaluate_model(model, X, Y)
    assert evaluate_model(model, X.double(), Y) == pytest.approx(figures)  # used to fail in BCE's words
    assert evaluate_model(model, X[:, 0], Y) == pytest.approx(figures)


def test_labels_that_are_not_one_per_image_are_refused_in_words():
    # the classifier's score failed in broadcasting's words, an autoencoder's figures came out without a word
    for model in (build_model("ae", hidden=[32], latent_dim=4), MnistClassifier()):
        with pytest.raises(ValueError, match=r"one per image: 50 images, labels shaped \[20\]"):
            evaluate_model(model, X[:50], Y[:20])
    with pytest.raises(ValueError, match="one per image"):
        evaluate_terms(build_model("ae", hidden=[32], latent_dim=4), X[:50], Y[:20])
    # too many labels, or a column of them ([N, 1]), broadcast into an accuracy over every pair of image and label
    for labels in (Y[:80], Y[:50, None]):
        with pytest.raises(ValueError, match="one per image"):
            evaluate_model(MnistClassifier(), X[:50], labels)


def test_labels_as_any_integer_type_are_scored_and_other_labels_refused_in_words():
    # the classifier's loss took int32 labels for "expected target dtype to be Long", and 10 for "out of bounds"
    classifier = MnistClassifier().eval()
    expected = evaluate_terms(classifier, X[:50], Y[:50])
    for labels in (Y[:50].int(), Y[:50].tolist(), Y[:50].numpy(), Y[:50].numpy().astype(np.uint32)):
        assert evaluate_terms(classifier, X[:50], labels) == pytest.approx(expected)
        assert evaluate_model(classifier, X[:50], labels) == evaluate_model(classifier, X[:50], Y[:50])
    with pytest.raises(ValueError, match=r"the labels must be class ids 0-9, got \[10\]"):
        evaluate_terms(classifier, X[:2], torch.tensor([3, 10]))
    with pytest.raises(TypeError, match="the labels must be integer class ids 0-9, got torch.float32"):
        evaluate_model(classifier, X[:2], torch.tensor([3.0, 1.0]))
    with pytest.raises(ValueError, match="no images to score"):  # was torch.cat's "expected a non-empty list"
        evaluate_model(build_model("ae", hidden=[32], latent_dim=4), X[:0], Y[:0])


def test_evaluate_model_takes_the_test_set_as_load_mnist_returns_it_as_evaluate_terms_does():
    torch.manual_seed(0)
    model = build_model("ae", hidden=[32], latent_dim=4)
    assert evaluate_model(model, _images[:200], Y) == pytest.approx(evaluate_model(model, X, Y))


def test_loss_terms_of_a_bfloat16_model_are_computed_from_any_image_layout():
    torch.manual_seed(0)
    model = build_model("ae", hidden=[32], latent_dim=4).to(torch.bfloat16)  # used to fail: Float and BFloat16
    terms = evaluate_terms(model, X, Y)
    assert terms == pytest.approx(evaluate_terms(model, _images[:200], Y))  # the uint8 test set, as it is stored
    assert terms["loss"] == pytest.approx(evaluate_terms(model.float(), X, Y)["loss"], rel=0.02)



def test_the_cli_says_whose_classifier_reads_a_cvae_from_a_root_without_one(tmp_path, capsys, monkeypatch):
    # the shipped classifier scored it without a word
    torch.manual_seed(0)
    save_checkpoint(build_model("cvae"), tmp_path / "cvae")
    main(["--checkpoints", str(tmp_path), "--json"])
    out = capsys.readouterr()
    assert "sample_class_accuracy" in json.loads(out.out)["cvae"]
    assert f"note: {tmp_path} holds no classifier that loads, for the CVAE's samples; the one in " in out.err
    # the same root named by $AEDEMO_CHECKPOINTS: its CVAE's column went missing, without a word
    monkeypatch.setenv("AEDEMO_CHECKPOINTS", str(tmp_path))
    main(["--json"])
    out = capsys.readouterr()
    assert "sample_class_accuracy" in json.loads(out.out)["cvae"]
    assert f"note: {tmp_path} holds no classifier that loads, for the CVAE's samples; the one in " in out.err
    # and a CVAE folder named on the command line, with that root: its column went missing too
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("AEDEMO_CHECKPOINTS", str(empty))
    main([str(tmp_path / "cvae"), "--json"])
    out = capsys.readouterr()
    assert "sample_class_accuracy" in json.loads(out.out)[str(tmp_path / "cvae")]
    assert f"note: {empty} holds no classifier that loads, for the CVAE's samples; the one in " in out.err
    save_checkpoint(always(3), tmp_path / "classifier")
    main(["--checkpoints", str(tmp_path), "--json"])
    out = capsys.readouterr()
    assert json.loads(out.out)["cvae"]["sample_class_accuracy"] == pytest.approx(0.1) and out.err == ""


def test_the_cli_scores_a_root_whose_classifier_does_not_load(tmp_path, capsys):
    # asking whether that classifier draws samples of a class, the CLI failed on its class's missing flags
    torch.manual_seed(0)
    save_checkpoint(build_model("ae", hidden=[32], latent_dim=4), tmp_path / "ae")
    save_checkpoint(always(3), tmp_path / "classifier")
    weights = tmp_path / "classifier" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # truncated
    with pytest.raises(SystemExit, match="1"):  # a broken folder under the root: a script checking the status knows
        main(["--checkpoints", str(tmp_path), "--json"])
    results = json.loads(capsys.readouterr().out)
    assert "mse" in results["ae"] and "model.safetensors" in results["classifier"]["error"]


def test_a_cvae_scored_where_the_checkpoints_root_has_no_classifier_is_read_by_the_shipped_one(tmp_path, monkeypatch):
    # python -m aedemo.train --variant cvae with $AEDEMO_CHECKPOINTS naming a new folder saved its metrics without
    # sample_class_accuracy, without a word
    torch.manual_seed(0)
    cvae = build_model("cvae", hidden=[32], latent_dim=4)
    monkeypatch.setenv("AEDEMO_CHECKPOINTS", str(tmp_path))
    assert "sample_class_accuracy" in evaluate_model(cvae, X[:50], Y[:50])
    # with no classifier anywhere (a pip install ships none), the figure is left out and a warning says why
    monkeypatch.setattr("aedemo.evaluate.CHECKPOINTS", tmp_path)
    with pytest.warns(UserWarning, match=f"{tmp_path} holds no classifier .*set \\$AEDEMO_CHECKPOINTS to a folder "
                                         "holding classifier/.* sample_class_accuracy is left out") as warned:
        assert "sample_class_accuracy" not in evaluate_model(cvae, X[:50], Y[:50])
    assert warned[0].filename == __file__  # the caller's line, not torch's no_grad wrapper
    # and through the trainer, which scores what it saves: the line that called train()
    with pytest.warns(UserWarning, match="sample_class_accuracy is left out") as warned:
        train(TrainConfig(variant="cvae", epochs=1, batch_size=50, out=str(tmp_path / "run")),
              data=(_images[:100], _labels[:100], _images[100:150], _labels[100:150]))
    assert [w.filename for w in warned if "sample_class_accuracy" in str(w.message)] == [__file__]


def test_loss_terms_are_fixed_by_their_seed_and_change_with_it():
    # the seed went unused: every seed drew the same noise, so a second seed could not check a figure's spread
    torch.manual_seed(0)
    model = build_model("dae", hidden=[32], latent_dim=4)  # its loss terms are taken on noisy inputs
    first = evaluate_terms(model, X[:100], Y[:100], seed=0)
    assert evaluate_terms(model, X[:100], Y[:100], seed=0) == first
    assert evaluate_terms(model, X[:100], Y[:100], seed=1) != first
