"""Test-set figures for every checkpoint: `python -m aedemo.evaluate [FOLDER ...] [--json]`."""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .checkpoint import (
    CHECKPOINTS,
    ROOT_ENV,
    CheckpointError,
    checkpoints_root,
    load_checkpoint,
    on_cpu,
    read_config,
)
from .data import DataError, DataNotFoundError, batches, load_mnist, to_float
from .models import MODEL_CLASSES, Autoencoder, MnistClassifier, Model
from .models.base import N_CLASSES, PROB_EPS, as_class_ids, check_images, eval_mode, first_weight
from .models.vae import VAE
from .noise import corrupt

DENOISE_SETTINGS = {"gaussian": 0.5, "salt_pepper": 0.2}  # the noisy inputs the DAE is scored on
SAMPLES_PER_CLASS = 100
# Digits per forward pass when a whole test set is reconstructed, classified or encoded. The conv models' activations
# for 1,000 digits (25 MB per layer at 32x14x14) spill out of a CPU's cache: 10k digits through the residual VAE took
# 4.7 s in batches of 1,000 and 3.1 s in batches of 250, the conv AE 1.5 s and 0.9 s (docs/performance.md); the MLPs
# are as fast either way. evaluate_terms keeps batches of 1,000: it draws its noise (a VAE's codes, a DAE's
# corruption) batch by batch, and the shipped metrics.json figures were drawn so.
EVAL_BATCH = 250


PSNR_CAP_DB = 100.0  # what psnr() gives identical images, whose PSNR is infinite


def mse_per_image(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over each image's pixels, shape [B]: one formula for the PSNR here and for the errors the
    Space shows and ranks a digit's against, which must agree to the last digit."""
    return (output - target).square().flatten(1).mean(1)


def psnr(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image (peak 1.0), shape [B]; PSNR_CAP_DB for identical images."""
    mse = mse_per_image(output, target).float().clamp_min(10 ** (-PSNR_CAP_DB / 10))  # the cap is 0 in float16
    return 10 * torch.log10(1.0 / mse)


@torch.no_grad()
def evaluate_terms(
    model: Model, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000, seed: int = 0
) -> dict[str, float]:
    """Mean loss terms over a dataset (float [N,1,28,28] or uint8 [N,28,28] images, and their labels), in eval
    mode, with fixed noise so repeated calls agree. Images are checked and cast as encode() takes them."""
    y = _paired_labels(x, y)
    device = first_weight(model).device
    generator = torch.Generator(device=device).manual_seed(seed)  # the noise is drawn where the model runs
    totals: dict[str, float] = {}
    with eval_mode(model):
        for xb, yb in batches(x, y, batch_size, shuffle=False):
            xb, yb = check_images(to_float(xb) if xb.dtype == torch.uint8 else xb, model), yb.to(device)
            for k, v in model.loss_terms(xb, yb, generator).items():
                totals[k] = totals.get(k, 0.0) + v.item() * xb.shape[0]
    return {k: v / x.shape[0] for k, v in totals.items()}


def _paired_labels(images: torch.Tensor, labels: Any) -> torch.Tensor:
    """`labels` (a tensor, a list, a numpy array) as int64 class ids, one per image. Refused in words: labels that
    are not one per image (they would broadcast, or be cut short, without a word), and ones that are not class ids
    0-9 (the classifier's loss took int32 ones for "expected target dtype to be Long", and 10 for out of bounds)."""
    labels = as_class_ids(labels, "the labels")
    if labels.dim() != 1 or len(labels) != len(images):
        raise ValueError(f"the labels must be one per image: {len(images)} images, labels shaped {list(labels.shape)}")
    return labels


@torch.no_grad()
def reconstruct_all(
    model: Autoencoder, x: torch.Tensor, y: torch.Tensor, batch_size: int = EVAL_BATCH
) -> torch.Tensor:
    return torch.cat([model.reconstruct(xb, yb if model.conditional else None)
                      for xb, yb in batches(x, y, batch_size, shuffle=False)])


@torch.no_grad()
def sample_class_accuracy(model: Autoencoder, classifier: MnistClassifier, per_class: int = SAMPLES_PER_CLASS,
                          seed: int = 0) -> float:
    """Fraction of the CVAE's samples (per_class for each digit) that the classifier puts in the asked class."""
    labels = torch.arange(N_CLASSES).repeat_interleave(per_class)
    samples = model.sample(len(labels), labels, generator=torch.Generator().manual_seed(seed))
    return (classifier.predict(samples) == labels).float().mean().item()


@torch.no_grad()
def evaluate_model(
    model: Model,
    x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
    classifier: MnistClassifier | None = None,
) -> dict[str, float]:
    """The test-set figures of one model, as stored in its metrics.json, on the official test set or on
    `x_test` (float [N,1,28,28] in [0,1], or uint8 [N,28,28] as load_mnist returns them) with its labels `y_test`
    (int64 [N]: the CVAE and the classifier need them). Computed on the CPU in float32 (a model elsewhere, or in
    another dtype, is copied: the test tensors, the noise and the classifier are float32 on the CPU); the model's
    mode is left as it was."""
    if (x_test is None) != (y_test is None):  # the official labels would be paired with other images
        raise ValueError("give x_test and y_test together (images and their labels), or neither for the "
                         "official test set")
    model = on_cpu(model)
    if any(t.is_floating_point() and t.dtype != torch.float32 for t in model.state_dict().values()):
        model = copy.deepcopy(model).float()
    with eval_mode(model):
        return _figures(model, x_test, y_test, classifier)


def _figures(
    model: Model, x_test: torch.Tensor | None, y_test: torch.Tensor | None,
    classifier: MnistClassifier | None,
) -> dict[str, float]:
    if x_test is None or y_test is None:  # evaluate_model let both through together
        images, y_test = load_mnist("test")
        x_test = to_float(images)
    if isinstance(x_test, torch.Tensor) and x_test.dtype == torch.uint8:  # load_mnist's, as evaluate_terms takes
        x_test = to_float(x_test)
    x_test = check_images(x_test, model)  # float64 or [N,28,28] images are scored like the rest
    y_test = _paired_labels(x_test, y_test)
    if not len(x_test):  # every figure is a mean over the images
        raise ValueError("no images to score: x_test is empty")
    if isinstance(model, MnistClassifier):
        logits = torch.cat([model(xb) for xb, _ in batches(x_test, y_test, EVAL_BATCH, shuffle=False)])
        return {"accuracy": (logits.argmax(1) == y_test.to(logits.device)).float().mean().item()}

    out = reconstruct_all(model, x_test, y_test)
    if not out.isfinite().all():  # binary_cross_entropy would fail on them, in words about its input's range
        raise ValueError(f"{model.variant}: its reconstructions hold NaN or infinite values (diverged weights?)")
    figures = {
        "mse": F.mse_loss(out, x_test).item(),
        "bce": F.binary_cross_entropy(out.clamp(PROB_EPS, 1 - PROB_EPS), x_test, reduction="sum").item() / len(x_test),
        "psnr": psnr(out, x_test).mean().item(),
    }
    if isinstance(model, VAE):  # the CVAE and any VAE a user derives
        # its two terms, not the "loss" the model trains on: a derived VAE may weight them (a β-VAE: BCE + β·KL)
        terms = evaluate_terms(model, x_test, y_test)
        figures["nelbo"] = terms["bce"] + terms["kl"]
    if not model.conditional:
        generator = torch.Generator().manual_seed(0)
        for kind, strength in DENOISE_SETTINGS.items():
            noisy = corrupt(x_test, kind, strength, generator)
            figures[f"{kind}_noisy_psnr"] = psnr(noisy, x_test).mean().item()
            figures[f"{kind}_denoised_psnr"] = psnr(reconstruct_all(model, noisy, y_test), x_test).mean().item()
    if model.conditional and model.generative:  # samples of an asked class: does it draw that class?
        if classifier is None:  # a CVAE trained with $AEDEMO_CHECKPOINTS naming a new folder lost the figure unsaid
            classifier, note = _classifier_for(checkpoints_root())
            if classifier is None:
                warnings.warn(f"{note}: {model.variant}'s sample_class_accuracy is left out",
                              stacklevel=_callers_level())
        if classifier is not None:
            figures["sample_class_accuracy"] = sample_class_accuracy(model, classifier)
    return figures


def _samples_a_class(folder: Path) -> bool:
    """Whether the checkpoint in `folder` draws samples of an asked class, which the classifier reads."""
    try:
        model_class = MODEL_CLASSES.get(read_config(folder).get("variant"))
    except CheckpointError:
        return False
    # the classifier's class has neither flag: it draws nothing
    return getattr(model_class, "conditional", False) and getattr(model_class, "generative", False)


def _classifier_for(root: Path) -> tuple[MnistClassifier | None, str | None]:
    """The classifier that reads a conditional model's samples: the root's, else the shipped one, with a note
    saying so (a root without one was scored by the shipped classifier without a word; a root named by
    $AEDEMO_CHECKPOINTS, by none, and the CVAE's column went missing without a word)."""
    classifier = load_classifier(root)
    if classifier is not None:
        return classifier, None
    shipped = CHECKPOINTS / "classifier"
    if (root / "classifier").resolve() != shipped.resolve():
        classifier = load_classifier(CHECKPOINTS)
    where = (f"the one in {shipped} reads them" if classifier is not None else
             f"they are not scored (set ${ROOT_ENV} to a folder holding classifier/, such as a checkout's "
             f"checkpoints/: an installed aedemo carries none)")
    return classifier, f"{root} holds no classifier that loads, for the CVAE's samples; {where}"


def _callers_level() -> int:
    """warnings.warn's stacklevel for the first frame outside aedemo and torch: the line of the caller's own code
    (a fixed level named torch's no_grad wrapper, or aedemo's trainer, depending on the way in)."""
    inside = (str(Path(__file__).parent) + os.sep, str(Path(torch.__file__).parent) + os.sep)  # not torchvision
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(inside):
        frame, level = frame.f_back, level + 1
    return level


def load_classifier(root: str | Path | None = None) -> MnistClassifier | None:
    """The MNIST classifier under `root` (default: `checkpoints_root()`), or None when it is missing or broken."""
    try:
        return load_checkpoint(Path(root or checkpoints_root()) / "classifier", variant="classifier")
    except CheckpointError:
        return None


COLUMNS = [  # (key, header, format)
    ("mse", "MSE/px", "{:.4f}"),
    ("bce", "BCE nats", "{:.1f}"),
    ("psnr", "PSNR dB", "{:.2f}"),
    ("nelbo", "-ELBO nats", "{:.1f}"),
    ("gaussian_noisy_psnr", "noisy σ=.5 dB", "{:.2f}"),
    ("gaussian_denoised_psnr", "denoised σ=.5 dB", "{:.2f}"),
    ("salt_pepper_noisy_psnr", "noisy s&p 20% dB", "{:.2f}"),
    ("salt_pepper_denoised_psnr", "denoised s&p dB", "{:.2f}"),
    ("sample_class_accuracy", "CVAE samples in class", "{:.1%}"),
    ("accuracy", "accuracy", "{:.2%}"),
]


def markdown_table(results: dict[str, dict[str, float]]) -> str:
    cols = [c for c in COLUMNS if any(c[0] in r for r in results.values())]
    lines = ["| variant | " + " | ".join(h for _, h, _ in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, r in results.items():
        cells = [fmt.format(r[k]) if k in r else "" for k, _, fmt in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m aedemo.evaluate", description=__doc__)
    p.add_argument("folders", nargs="*",
                   help="checkpoint folders to evaluate instead, e.g. a run of `python -m aedemo.train` "
                        "(checkpoints/vae-run); a row each, named by its path and variant")
    p.add_argument("--checkpoints", default=None,
                   help="folder holding one folder per variant (default: $AEDEMO_CHECKPOINTS or the shipped ones)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    args = p.parse_args(argv)
    root = Path(args.checkpoints or checkpoints_root()).expanduser()  # "~" as load_model reads it (a shell
    # leaves --checkpoints=~/runs as typed)
    try:
        images, labels = load_mnist("test")
    except (DataNotFoundError, DataError) as e:  # a damaged file in $AEDEMO_DATA_DIR, say: one line, not a traceback
        raise SystemExit(f"error: {e}") from None
    x = to_float(images)
    results: dict[str, dict[str, float]] = {}
    # keyed by each folder as typed ("./runs/a/" too: a script looks up what it passed)
    folders = {f: (Path(f).expanduser(), None) for f in args.folders} or {n: (root / n, n) for n in MODEL_CLASSES}
    # the folders named are scored by the root's classifier too
    classifier, note = (_classifier_for(root) if any(_samples_a_class(folder) for folder, _ in folders.values())
                        else (None, None))  # only a conditional model's samples need it
    if note:
        print(f"note: {note}", file=sys.stderr)
    for name, (folder, variant) in folders.items():
        try:
            model = load_checkpoint(folder, variant=variant)
        except CheckpointError as e:
            results[name] = {"error": str(e)}
            continue
        # keyed as named (a script looks a folder up by the path it gave), and saying what it holds
        results[name] = {"variant": model.variant, **evaluate_model(model, x, labels, classifier)}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        # a folder named on the command line says what it holds in its row: "runs/a (vae)"
        evaluated = {(f"{k} ({r['variant']})" if args.folders else k): r for k, r in results.items()
                     if "error" not in r}
        hint = ""
        if not args.folders and not root.is_dir():  # e.g. aedemo installed with pip: the package carries no checkpoints
            hint = f" There is no such folder: name one with --checkpoints or ${ROOT_ENV}."
        where = "those folders" if args.folders else root
        print(markdown_table(evaluated) if evaluated else f"No checkpoint could be loaded from {where}.{hint}")
        for name, r in results.items():
            if "error" in r and not hint:  # with no such root, ten lines saying each folder is missing add nothing
                print(f"\n{name}: unavailable: {r['error']}")
    # a script checking the exit status should know: a folder named that failed, a broken one under the root, or
    # nothing evaluated at all (a root holding only some of the variants is fine)
    failed = [n for n, (folder, _) in folders.items() if "error" in results.get(n, {}) and
              (args.folders or folder.exists())]
    if failed or all("error" in r for r in results.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
