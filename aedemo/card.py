"""What a Hub repo shows about a checkpoint: the README.md model card and its picture (grid.png).

The card's YAML header is built with huggingface_hub's ModelCardData / EvalResult, so the Hub reads the
test figures of metrics.json as model-index results; the body says how to load the model and how it was
trained. The grid is drawn from the model itself on the bundled MNIST test set, so it shows these weights.
"""

from __future__ import annotations

import io
import json
import shlex
from urllib.parse import quote

import torch
import torch.nn.functional as F
from huggingface_hub import EvalResult, ModelCard, ModelCardData, constants
from torchvision.utils import make_grid, save_image

from .checkpoint import on_cpu
from .data import load_mnist, one_per_class, to_float
from .evaluate import COLUMNS, DENOISE_SETTINGS
from .models import MODEL_CLASSES, MnistClassifier, Model
from .models.base import eval_mode
from .noise import corrupt

GRID_NAME = "grid.png"
GRID_SCALE = 2
LICENSE = "mit"
BASE_TAGS = ["autoencoder", "mnist", "pytorch", "safetensors"]
DATASET = "ylecun/mnist"  # the Hub's id of MNIST ("mnist" redirects there)
# The Hub's task for each model's use. Every autoencoder maps an image to an image (reconstruct; the DAE denoises),
# except the CVAE, whose use is to draw the class it is given: the Hub has no task for generation from a class label
# (text-to-image and unconditional-image-generation would both misdescribe it), so its card names none.
PIPELINE_TAGS = {"classifier": "image-classification", "cvae": None}
DEFAULT_PIPELINE_TAG = "image-to-image"
# (task type, task name) of each test figure in model-index; figures not named here are image-to-image ones
# (reconstructions, and the denoised PSNRs: model-index groups results by task type, so a task name of their own
# would be merged away). CVAE samples scored by class: no Hub task fits (see PIPELINE_TAGS), so a type of its own
# keeps leaderboards from ranking it with reconstructions or with unconditional generators.
METRIC_TASKS = {
    "accuracy": ("image-classification", "Digit classification"),
    "sample_class_accuracy": ("class-conditional-image-generation", "Generation by class"),
}
RECONSTRUCTION_TASK = ("image-to-image", "Reconstruction")
# Input baselines (how noisy the test inputs are), not figures of the model: shown in the table only.
BASELINE_METRICS = ("gaussian_noisy_psnr", "salt_pepper_noisy_psnr")
# Also in the table only: a bound on the likelihood of MNIST's grey levels under a Bernoulli model. Filed in
# model-index it would sit beside papers' likelihoods of binarised MNIST, which look alike (80-95 nats) and are not
# comparable.
TABLE_ONLY_METRICS = (*BASELINE_METRICS, "nelbo")
# said under the table of a card whose figures include a BCE or a -ELBO, each of those it has
LIKELIHOOD_NOTES = {
    "bce": "BCE: summed over the 784 pixels, per image, of the reconstruction.",
    "nelbo": "-ELBO: the BCE of one code sampled from the posterior, plus the KL term (the pytorch/examples "
             "convention).",
}
GREY_LEVELS_NOTE = ("The pixels are MNIST's grey levels in [0, 1], not binarised, under a Bernoulli likelihood: not "
                    "comparable with papers' likelihoods of binarised MNIST.")
DAE_NOISE = ("gaussian", DENOISE_SETTINGS["gaussian"])  # the card's denoised row: the noise the table scores


def what_it_is(variant: str) -> str:
    """One line on a variant for its card: "VAE: its encoder gives each digit a Gaussian ... (Kingma & Welling
    2014)"."""
    cls = MODEL_CLASSES[variant]
    paper = f" ({cls.reference})" if getattr(cls, "reference", "") else ""  # the classifier names no paper
    return f"{cls.display_name}: {cls.description}{paper}"


# --- the picture ------------------------------------------------------------------------------------------
@torch.no_grad()
def grid_rows(model: Model) -> tuple[torch.Tensor, list[str]]:
    """The images of the grid (rows of ten, [10*R,1,28,28]) and what each row shows, for `model`."""
    images, labels = load_mnist("test", download=False)  # never a network call
    x, y = to_float(images), labels
    model = on_cpu(model)  # drawn on the CPU
    with eval_mode(model):
        return _rows(model, x, y)


def _rows(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, list[str]]:
    if isinstance(model, MnistClassifier):
        # Row d: the first ten test images the classifier calls d; a misread digit stands out in its row.
        # The first 1,000 test images hold ~100 of each digit: plenty, at a tenth of the cost of all 10,000.
        x = x[:1000]
        predicted = model.predict(x)
        blank = torch.zeros(10, *x.shape[1:])
        # a row with fewer than ten images is padded with blanks, so that row d stays row d
        rows = [torch.cat([x[predicted == d][:10], blank])[:10] for d in range(10)]
        return torch.cat(rows), [f"test images classified as {d}" for d in range(10)]

    idx = one_per_class(y, 2)
    x, y = x[idx], y[idx]
    cond = y if model.conditional else None
    rows, names = [x, model.reconstruct(x, cond)], ["test images", "reconstructions"]
    if model.variant == "dae":
        noisy = corrupt(x, DAE_NOISE[0], DAE_NOISE[1], torch.Generator().manual_seed(0))
        rows += [noisy, model.reconstruct(noisy)]
        names += [f"{DAE_NOISE[0]} noise σ={DAE_NOISE[1]}", "denoised"]
    if model.generative:
        digits = torch.arange(10).repeat(2) if model.conditional else None
        rows.append(model.sample(20, digits, generator=torch.Generator().manual_seed(0)))
        names.append("samples of digits 0-9" if model.conditional else "samples from the prior")
    # rows holds pairs of rows (20 images); names say what each pair shows
    return torch.cat(rows), [n for n in names for _ in range(2)]


def grid_png(model: Model) -> tuple[bytes, list[str]]:
    """The grid as PNG bytes, and what each row shows (top to bottom)."""
    images, rows = grid_rows(model)
    grid = make_grid(images.clamp(0, 1), nrow=10, padding=2, pad_value=1.0)
    # nearest-neighbour upscaling: 28-pixel digits stay sharp at the size a model page shows them
    grid = F.interpolate(grid[None], scale_factor=GRID_SCALE, mode="nearest")[0]
    buf = io.BytesIO()
    save_image(grid, buf, format="png")
    return buf.getvalue(), rows


# --- the card ---------------------------------------------------------------------------------------------
def _label(key: str) -> tuple[str, str]:
    """(pretty name, format) of a metrics.json test figure, as aedemo.evaluate prints it."""
    for k, header, fmt in COLUMNS:
        if k == key:
            return header, fmt
    return key, "{:.4g}"


def _value(v: float) -> float:
    return float(f"{v:.6g}")  # keep the YAML short; six digits is more than the test set resolves


def eval_results(test: dict, name_prefix: str = "") -> list[EvalResult]:
    """metrics.json's test figures as model-index entries, but for TABLE_ONLY_METRICS."""
    return [
        EvalResult(
            task_type=task[0], task_name=task[1], dataset_type=DATASET, dataset_name="MNIST", dataset_split="test",
            metric_type=key, metric_name=name_prefix + _label(key)[0], metric_value=_value(value),
        )
        for key, value in test.items()
        if key not in TABLE_ONLY_METRICS and isinstance(value, (int, float))
        for task in [METRIC_TASKS.get(key, RECONSTRUCTION_TASK)]
    ]


def card_data(
    variants: list[str], results: list[EvalResult], model_name: str, pipeline_tag: str | None
) -> ModelCardData:
    return ModelCardData(
        library_name="aedemo", license=LICENSE, datasets=[DATASET], model_name=model_name,
        tags=BASE_TAGS + variants, eval_results=results or None, pipeline_tag=pipeline_tag,
    )


def file_url(repo_id: str, path: str, revision: str = constants.DEFAULT_REVISION, view: str = "resolve") -> str:
    """Absolute link to a file of the repo at `revision` (the branch the card is pushed to: a card on a branch
    showed main's picture): relative links break when the card is shown outside its folder. `view`: "resolve" (the
    file) or "blob" (its page)."""
    return f"{constants.ENDPOINT}/{repo_id}/{view}/{quote(revision, safe='')}/{path}"


# aedemo is not on PyPI: a card can only say what to install from where
INSTALL = ("Needs aedemo, which is not on PyPI: `pip install .` in a checkout of its source (it brings torch, "
           "torchvision, huggingface_hub and safetensors; `pip install \".[space]\"` adds the Gradio app). The test "
           "digits below ship with it.\n")


def _load_call(repo_id: str, subfolder: str | None, revision: str) -> str:
    """The load_model call a card shows, for its subfolder and the branch the card is pushed to."""
    sub = f', subfolder="{subfolder}"' if subfolder else ""
    sub += f', revision="{revision}"' if revision != constants.DEFAULT_REVISION else ""
    return f'load_model("{repo_id}"{sub})'


def _usage(repo_id: str, variant: str, subfolder: str | None, revision: str = constants.DEFAULT_REVISION) -> str:
    """A snippet that runs as it stands, on eight MNIST test digits bundled with aedemo."""
    if variant == "classifier":
        last = "probs = model.predict_proba(x)  # [8, 10]"
    elif MODEL_CLASSES[variant].conditional:
        last = "out = model.reconstruct(x, labels)  # [8,1,28,28] in [0,1]; labels: the digits' classes, int64 [8]"
    else:
        last = "out = model.reconstruct(x)  # [8,1,28,28] in [0,1]"
    return "\n".join([
        "```python", "import torch", "from aedemo import load_model", "from aedemo.data import load_mnist, to_float",
        "", f"model = {_load_call(repo_id, subfolder, revision)}",
        'images, labels = load_mnist("test", download=False)  # the 10k test set bundled with aedemo',
        "x, labels = to_float(images[:8]), labels[:8]  # float [8,1,28,28] in [0,1]",
        "with torch.no_grad():", f"    {last}", "```",
    ])


def _table(test: dict) -> str:
    lines = ["| figure | value |", "|---|---|"]
    for key, value in test.items():
        header, fmt = _label(key)
        try:
            lines.append(f"| {header} | {fmt.format(value)} |")
        except (TypeError, ValueError):
            lines.append(f"| {header} | {value} |")
    return "\n".join(lines)


def _likelihood_note(test: dict) -> str:
    said = [note for key, note in LIKELIHOOD_NOTES.items() if key in test]
    return " ".join([*said, GREY_LEVELS_NOTE]) + "\n" if said else ""


def _yaml_block(data: ModelCardData) -> str:
    return f"---\n{data.to_yaml()}\n---\n"


def model_card(
    config: dict, metrics: dict, repo_id: str, subfolder: str | None = None, grid_caption: list[str] | None = None,
    revision: str = constants.DEFAULT_REVISION,
) -> ModelCard:
    """The README.md of one checkpoint (at the repo root, or in `subfolder`), pushed to `revision`."""
    variant = config["variant"]
    test, training = metrics.get("test", {}), metrics.get("training", {})
    name = repo_id.split("/")[-1] + (f"-{subfolder}" if subfolder else "")
    data = card_data([variant], eval_results(test), name, PIPELINE_TAGS.get(variant, DEFAULT_PIPELINE_TAG))
    prefix = f"{subfolder}/" if subfolder else ""
    rows = grid_caption or []
    # the grid shows rows in pairs (or ten single rows for the classifier): describe each distinct group once
    caption = "; ".join(dict.fromkeys(rows))
    arch = {k: v for k, v in config.items() if k not in ("format_version", "weights_sha256")}
    parts = [
        f"# aedemo `{variant}`\n",  # what_it_is begins with the model's name: it follows the heading, not in it
        f"{what_it_is(variant)}.\n",
        f"A `{variant}` model of aedemo, the autoencoder playground, trained on MNIST "
        "(28x28 grey digits, pixels in [0, 1]).\n",
        f"![{variant} on MNIST test digits]({file_url(repo_id, prefix + GRID_NAME, revision)})\n",
        f"*Rows, top to bottom: {caption}.*\n" if caption else "",
        "## Load it with aedemo\n",
        INSTALL,
        _usage(repo_id, variant, subfolder, revision) + "\n",
        "Works offline from the Hugging Face cache once downloaded (`HF_HUB_OFFLINE=1`).\n",
        "## Test results\n",
        # a run of the Space's Train tab is scored on part of the test set, and says so in metrics.json
        f"{training['data'][0].upper()}{training['data'][1:]}.\n" if training.get("data")
        else "On the official MNIST test set (10,000 images).\n",
        (_table(test) if test else "No test figures were recorded with this checkpoint.") + "\n",
        _likelihood_note(test),
        "## Training\n",
        (f"Trained with:\n\n```bash\n{public_command(training)}\n```\n" if training.get("command")
         else "The training command was not recorded.\n"),
    ]
    facts = [f"{k}: {training[k]}" for k in ("epochs", "steps", "seconds", "device", "torch") if k in training]
    if training.get("bf16_autocast"):  # the same command on a CPU without bf16 products trains in float32
        facts.append("steps in bf16 autocast")
    if facts:
        parts.append("(" + ", ".join(facts) + ")\n")
    if training.get("stopped_early"):
        parts.append(_stopped_early(training))
    parts += [
        "## Architecture\n",
        "The constructor arguments, as in `config.json`:\n",
        "\n".join(f"- `{k}`: `{json.dumps(v)}`" for k, v in arch.items()) + "\n",
        "## Files\n",
        "- `model.safetensors`: the weights (safetensors: loading runs no code).\n"
        "- `config.json`: variant and architecture, plus the SHA-256 of the weights, checked at load.\n"
        "- `metrics.json`: the test figures above and how the model was trained.\n"
        f"- `{GRID_NAME}`: the picture above, drawn from these weights.\n",
        f"License: {LICENSE.upper()}.\n",
    ]
    return ModelCard(_yaml_block(data) + "\n" + "\n".join(p for p in parts if p))


def index_card(
    repo_id: str, entries: dict[str, tuple[dict, dict]], revision: str = constants.DEFAULT_REVISION
) -> ModelCard:
    """The root README.md of a repo holding one checkpoint per subfolder, pushed to `revision`; `entries`: variant ->
    (config, metrics).

    The Hub reads metadata only from the root card, so it carries every variant's results (each metric named
    after its variant) and every variant's tag.
    """
    results = [r for v, (_, m) in entries.items() for r in eval_results(m.get("test", {}), f"{v}: ")]
    # the repo's task: its models' (the classifier is there to score the CVAE's samples)
    data = card_data(list(entries), results, repo_id.split("/")[-1], DEFAULT_PIPELINE_TAG)
    rows = ["| variant | what it is | load it |", "|---|---|---|"]
    example = "vae" if "vae" in entries else next(iter(entries))
    for v in entries:
        description = what_it_is(v)
        link = file_url(repo_id, f"{v}/README.md", revision, view="blob")
        rows.append(f"| [`{v}`]({link}) | {description} | `{_load_call(repo_id, v, revision)}` |")
    body = "\n".join([
        "# aedemo checkpoints: autoencoders on MNIST\n",
        "One folder per model of aedemo, the autoencoder playground; each folder is a complete checkpoint "
        "(model.safetensors, config.json, metrics.json) with its own card and picture.\n",
        "\n".join(rows) + "\n",
        INSTALL,
        # a variant that is there: a push of some folders only showed load_model(..., subfolder="vae") without one
        _usage(repo_id, example, example, revision) + "\n",
        f"License: {LICENSE.upper()}.\n",
    ])
    return ModelCard(_yaml_block(data) + "\n" + body)


# A card is public: the folders a run read and wrote on the trainer's machine (a home directory, a user name) are
# shown as placeholders, as checkpoints/README.md writes them.
PATH_PLACEHOLDERS = {"--data-dir": "DATA_DIR", "--out": "OUT"}


def public_command(training: dict) -> str:
    """metrics.json's recorded training command (`training`: its "training" block) as a card or a Hub repo shows
    it: local paths replaced by placeholders, and the matmul precision the run used, when the record predates it.

    Records written before --matmul-precision existed have it neither in the command nor in the config: those runs
    used torch's default, "highest", and the flag's default is now "medium", so the command as recorded would run
    other arithmetic than the run it describes.
    """
    command = training["command"]
    try:
        words = shlex.split(command)
    except ValueError:  # not a shell command we wrote: shown as recorded
        return command
    for i, word in enumerate(words[:-1]):
        if word in PATH_PLACEHOLDERS:
            words[i + 1] = PATH_PLACEHOLDERS[word]
    if "--matmul-precision" not in words and "matmul_precision" not in training.get("config", {}):
        # where train_command writes it: before the model config and the output folder
        at = next((i for i, w in enumerate(words) if w in ("--model-config", "--out")), len(words))
        words[at:at] = ["--matmul-precision", "highest"]
    return shlex.join(words)


def _stopped_early(training: dict) -> str:
    """The card's line on a run a callback (the Space's Stop, say) or its time budget ended before its epochs."""
    of = training.get("config", {}).get("epochs")
    where = f"in epoch {training['epochs']}" + (f" of {of}" if of else "") if "epochs" in training else ""
    steps = f"after {training['steps']} optimisation steps" if "steps" in training else ""
    when = ", ".join(w for w in (where, steps) if w)
    return (f"Stopped early{' ' + when if when else ''} (by a callback or its time budget): "
            "the command alone does not reproduce it.\n")
