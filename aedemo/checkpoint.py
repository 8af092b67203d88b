"""Checkpoints: a folder of model.safetensors + config.json (+ metrics.json), never a pickle.

The files are those of huggingface_hub's PyTorchModelHubMixin (weights in model.safetensors, the constructor's
keyword arguments in config.json), and every model has the mixin's save_pretrained / from_pretrained / push_to_hub
(aedemo/models/pretrained.py). config.json adds the variant name, so one loader rebuilds any model, a format
version and the weights' SHA-256; so the mixin's own from_pretrained cannot read it: load_model does.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from .devices import resolve_device
from .models import MODEL_CLASSES, Model
from .wording import quoted

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
METRICS_NAME = "metrics.json"
CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"  # the shipped ones, one folder per model
ROOT_ENV = "AEDEMO_CHECKPOINTS"  # another checkpoints folder (e.g. freshly trained ones) without moving files
FORMAT_VERSION = 1
ModuleT = TypeVar("ModuleT", bound=nn.Module)


def checkpoints_root() -> Path:
    """Where the app and the command-line tools look for checkpoints: $AEDEMO_CHECKPOINTS, else the shipped ones."""
    return Path(os.environ.get(ROOT_ENV) or CHECKPOINTS).expanduser()


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message names the file and what is wrong with it."""


def json_text(data: dict) -> str:
    """config.json and metrics.json as a checkpoint holds them (and a Hub push sends them). numpy and 0-d torch
    numbers are written as the plain numbers they hold."""
    return json.dumps(data, indent=2, default=_plain_number) + "\n"


def _plain_number(value: object) -> object:
    if isinstance(value, torch.Tensor | np.generic) and value.ndim == 0:
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON: metrics and config values must be numbers, strings, "
                    "lists or dicts")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fsync(path: Path) -> None:
    """Make `path` (a file or a folder) durable, so a rename is never on disk before the data it names."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(model: nn.Module, directory: str | os.PathLike, metrics: dict | None = None) -> Path:
    """Save `model` into `directory` (created if needed): model.safetensors, config.json and, when `metrics` is
    given, metrics.json (a metrics.json already there is removed otherwise, as it would describe other weights,
    unless the weights there are these, byte for byte). A model that load_checkpoint read, saved with its weights
    unchanged, takes along the metrics.json it was loaded with.
    A torch.compile'd model is saved as the model it wraps; one whose config no longer describes its weights is
    refused (ValueError), as the loader would refuse the folder.

    Every file is first written whole into a staging folder beside them; only then does the swap begin, config.json
    first out and last in. A save that fails or is interrupted (an exception, Ctrl-C) puts the old checkpoint back as
    it was; one whose process is killed mid-swap leaves a folder without config.json, which the loader refuses,
    naming the folder that holds the old checkpoint's files and the one that holds the new one's. Renames cannot
    swap several files as one, but a loaded model is never a mix of two saves, nor comes with another's figures.
    """
    if isinstance(getattr(model, "_orig_mod", None), nn.Module):  # torch.compile's wrapper shares the model's weights
        model = model._orig_mod
    if MODEL_CLASSES.get(getattr(model, "variant", None)) is not type(model):  # the loader could not rebuild it
        raise TypeError(f"save_checkpoint saves the models of aedemo's registry (build_model, load_model), not "
                        f"{type(model).__name__}: a new variant is registered in aedemo/models/__init__.py "
                        "(docs/adding-a-variant.md)")
    # everything serialised before anything is written: a metric JSON cannot hold leaves no folder behind
    # contiguous CPU copies: safetensors stores plain buffers, and views (shared storage) are not allowed
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    arch = {k: v for k, v in model.config.items() if k != "variant"}
    try:  # a config edited after the model was built would be saved, and then refused at every load
        with torch.device("meta"):
            problem = _mismatch(MODEL_CLASSES[model.variant](**arch), state)
    except (TypeError, ValueError, RuntimeError) as e:
        problem = f"cannot build {model.variant!r} from it ({e})"
    if problem:
        raise ValueError(f"not saved: model.config does not describe the model's weights, so the checkpoint would "
                         f"not load: {problem}")
    if problem := _not_finite(state):  # a diverged model, written over the last good checkpoint, would lose it
        raise ValueError(f"not saved: {problem}, so the checkpoint would not load (did training diverge?)")
    if metrics is not None:  # as metrics.json will hold them: numpy and 0-d torch numbers become plain ones
        metrics = json.loads(json_text(metrics))
    weights = save(state, metadata={"format": "pt"})
    config = {**model.config, "format_version": FORMAT_VERSION, "weights_sha256": hashlib.sha256(weights).hexdigest()}
    loaded_sha, loaded_figures = getattr(model, "_loaded_figures", (None, None))
    if metrics is None and loaded_figures and loaded_sha == config["weights_sha256"]:
        # a loaded model saved or pushed unchanged, anywhere: its checkpoint's figures describe these very weights
        # (model.push_to_hub() of a shipped checkpoint gave a model card without them)
        metrics = loaded_figures
    if metrics is not None and (problem := _metrics_problem(metrics)):  # written, it would be refused at every load
        raise ValueError(f"not saved: metrics {problem}")
    texts = {CONFIG_NAME: json_text(config), **({METRICS_NAME: json_text(metrics)} if metrics is not None else {})}
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise FileExistsError(f"{directory}: a file is there; a checkpoint is a folder ({WEIGHTS_NAME}, {CONFIG_NAME})")
    directory.mkdir(parents=True, exist_ok=True)
    # metrics.json goes when new figures come, or when these weights are not the ones there (figures of the previous
    # model would describe the wrong one); a model saved back where it was loaded from, unchanged, keeps its figures
    keep_metrics = metrics is None and _saved_weights_sha256(directory) == config["weights_sha256"]
    replaced = [name for name in (CONFIG_NAME, METRICS_NAME, WEIGHTS_NAME)
                if os.path.lexists(directory / name) and not (keep_metrics and name == METRICS_NAME)]
    if folders := [name for name in replaced if (directory / name).is_dir() and not (directory / name).is_symlink()]:
        raise FileExistsError(f"{directory / folders[0]}: a folder is there, where the checkpoint's file goes")
    staging = Path(tempfile.mkdtemp(dir=directory, prefix=".saving-"))
    previous = Path(tempfile.mkdtemp(dir=directory, prefix=".replaced-"))
    moved_out: list[str] = []
    moved_in: list[str] = []
    keep_both = False
    try:
        # written with open(): safetensors' save_file creates its file private (0o600), and checkpoint files get
        # the user's usual permissions, like the JSON files beside them
        (staging / WEIGHTS_NAME).write_bytes(weights)
        for name, text in texts.items():
            (staging / name).write_text(text)
        for path in staging.iterdir():
            _fsync(path)
        for name in replaced:  # config.json first: a folder without one is refused, never loaded half-swapped
            os.replace(directory / name, previous / name)
            moved_out.append(name)
        for name in (WEIGHTS_NAME, *[n for n in (METRICS_NAME, CONFIG_NAME) if n in texts]):  # config.json last
            os.replace(staging / name, directory / name)
            moved_in.append(name)
        if os.name == "posix":  # a folder cannot be opened for fsync on Windows
            _fsync(directory)
    except BaseException:
        try:  # the old checkpoint back as it was
            for name in reversed(moved_in):
                os.replace(directory / name, staging / name)
            for name in reversed(moved_out):
                os.replace(previous / name, directory / name)
        except BaseException:  # a second Ctrl-C, say: the first is what the caller hears of
            keep_both = True  # both sets of files stay where they are, and the loader's refusal names their folders
        raise
    finally:
        if not keep_both:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(previous, ignore_errors=True)
    return directory


def _interrupted_save(directory: Path) -> str:
    """What to do with a folder whose save was killed mid-swap (a killed process, power lost: nothing put the old
    checkpoint back or removed the two folders the save works in)."""
    old = [d for d in sorted(directory.glob(".replaced-*")) if any(d.iterdir())]
    saves = [d for d in sorted(directory.glob(".saving-*")) if any(d.iterdir())]
    if not saves:
        return ""
    new = saves[-1]
    finish = f"move in the files of {new.name}/"
    weights = directory / WEIGHTS_NAME
    if old and ((directory / METRICS_NAME).exists() and not (new / METRICS_NAME).exists() and weights.is_file()
                and _sha256(weights) == _saved_weights_sha256(old[-1]) != _saved_weights_sha256(new)):
        # killed before the old weights' figures went, and the new save brings none
        finish += f" and delete {METRICS_NAME} here (the old weights' figures)"
    restore = f"move back the files of {old[-1].name}/ to restore the checkpoint that was here, or " if old else ""
    return f"; a save into this folder was killed while it swapped the files: {restore}{finish} to finish the new one"


def _saved_weights_sha256(directory: Path) -> str | None:
    """The SHA-256 of the weights in `directory`: as its config records it, else (a checkpoint written by hand or by
    an older tool records none) as the file hashes; None when there is no readable config."""
    try:
        recorded = json.loads((directory / CONFIG_NAME).read_text()).get("weights_sha256")
        return recorded if recorded is not None else _sha256(directory / WEIGHTS_NAME)
    except (OSError, ValueError, AttributeError):
        return None


def _mismatch(skeleton: nn.Module, state: dict[str, torch.Tensor]) -> str | None:
    """Why `state` would not load into `skeleton` (the model its config describes), or None when it would."""
    expected_keys, got_keys = set(skeleton.state_dict()), set(state)
    if expected_keys != got_keys:
        missing, extra = sorted(expected_keys - got_keys), sorted(got_keys - expected_keys)
        return f"tensors do not match {CONFIG_NAME} (missing {missing[:5]}, unexpected {extra[:5]})"
    for name, tensor in skeleton.state_dict().items():
        if state[name].shape != tensor.shape:
            return (f"tensor {name!r} has shape {tuple(state[name].shape)}, but {CONFIG_NAME} describes "
                    f"{tuple(tensor.shape)}")
    return None


def read_config(directory: str | os.PathLike) -> dict:
    """config.json of a checkpoint folder, checked to name a known variant."""
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        # a folder of checkpoint folders, as checkpoints/ is: name them rather than leave the caller guessing
        # (not the hidden folders a save works in)
        inner = sorted(p.parent.name for p in path.parent.glob(f"[!.]*/{CONFIG_NAME}")) if path.parent.is_dir() else []
        hint = f"; {path.parent} holds checkpoint folders: {', '.join(inner[:12])}" if inner else ""
        raise CheckpointError(f"{path}: file missing (a checkpoint folder holds {CONFIG_NAME} and {WEIGHTS_NAME})"
                              f"{hint}{_interrupted_save(path.parent) if path.parent.is_dir() else ''}")
    try:
        config = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:  # [[[…]]] deep
        raise CheckpointError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(config, dict) or "variant" not in config:
        raise CheckpointError(f"{path}: no 'variant' field; is this an aedemo checkpoint?")
    if not isinstance(config["variant"], str) or config["variant"] not in MODEL_CLASSES:
        raise CheckpointError(
            f"{path}: unknown variant {config['variant']!r}; known: {', '.join(MODEL_CLASSES)}"
        )
    version = config.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        readable = f"version {FORMAT_VERSION}" if FORMAT_VERSION == 1 else f"versions 1 to {FORMAT_VERSION}"
        raise CheckpointError(f"{path}: format_version {version!r}, but this aedemo reads {readable} "
                              "(a checkpoint from a newer aedemo? upgrade aedemo)")
    return config


def read_metrics(directory: str | os.PathLike) -> dict:
    """metrics.json of a checkpoint folder, or {} when it has none."""
    path = Path(directory) / METRICS_NAME
    if not path.is_file():
        return {}
    try:
        metrics = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:  # [[[…]]] deep
        raise CheckpointError(f"{path}: not valid JSON ({e})") from None
    if problem := _metrics_problem(metrics):
        raise CheckpointError(f"{path}: {problem}")
    return metrics


def _not_finite(state: dict[str, torch.Tensor]) -> str | None:
    """What makes weights unusable though their shapes fit, or None: a NaN or an infinity in any of them."""
    for name, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            return f"tensor {name!r} holds NaN or infinite values"
    return None


def _metrics_problem(metrics: object) -> str | None:
    """Why `metrics` is not what a metrics.json must hold, or None. save_checkpoint asks before it writes one."""
    if not isinstance(metrics, dict):  # its readers ask it for keys: a list stopped the Space's start-up
        return f"not a JSON object of figures (a {type(metrics).__name__})"
    # and the model card asks these for theirs: a push met "'str' object has no attribute 'get'"
    for key in ("test", "training"):
        if not isinstance(metrics.get(key, {}), dict):
            return f"{key!r} must be a JSON object, not a {type(metrics[key]).__name__}"
    figures = metrics.get("test", {})
    not_numbers = [k for k, v in figures.items() if isinstance(v, bool) or not isinstance(v, int | float)]
    if not_numbers:
        return f"the test figures must be numbers; {not_numbers[0]!r} is {quoted(figures[not_numbers[0]])}"
    return None


# Architecture arguments whose default changed after checkpoints were saved without them: a config that lacks one
# describes a model built with the old default.
LEGACY_DEFAULTS: dict[str, dict] = {
    "vae": {"blocks": 0},  # the conv VAE gained residual blocks (default 1) after the first checkpoints
    "cvae": {"class_into": "heads"},  # the CVAE's encoder took the class at its last layer until December 2026
    "contractive": {"tied": False},  # the contractive AE had a decoder of its own until December 2026
}


def on_cpu(model: ModuleT) -> ModuleT:
    """`model` when all its weights are on the CPU, else a CPU copy: the caller's model stays where it is. Buffers
    count too: PCA has no parameters."""
    if any(t.device.type != "cpu" for t in itertools.chain(model.parameters(), model.buffers())):
        return copy.deepcopy(model).to("cpu")
    return model


def load_checkpoint(
    directory: str | os.PathLike, device: str | torch.device = "cpu", variant: str | None = None
) -> Model:
    """Rebuild the model saved in `directory`, in eval mode on `device`. Raises CheckpointError if anything is off,
    including, when `variant` is given, a model of another variant (a folder named for one model holding another);
    DeviceError (aedemo.devices) for a device this machine lacks, before anything is read."""
    device = resolve_device(device)
    directory = Path(directory)
    if directory.is_file():
        raise CheckpointError(f"{directory}: a file; a checkpoint is the folder holding {WEIGHTS_NAME} and "
                              f"{CONFIG_NAME}: {directory.parent}")
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: no such checkpoint folder")
    config = read_config(directory)
    if variant is not None and config["variant"] != variant:
        raise CheckpointError(f"{directory}: holds a model of variant {config['variant']!r}, not {variant!r}")
    weights = directory / WEIGHTS_NAME
    if not weights.is_file():
        raise CheckpointError(f"{weights}: file missing")
    expected, sha = config.get("weights_sha256"), _sha256(weights)
    if expected is not None and sha != expected:
        raise CheckpointError(
            f"{weights}: contents do not match the SHA-256 recorded in {CONFIG_NAME} "
            "(the file was changed, corrupted, or comes from another save)"
        )
    try:
        state = load_file(weights)
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({e})") from None

    arch = {k: v for k, v in config.items() if k not in ("variant", "format_version", "weights_sha256")}
    arch = {**LEGACY_DEFAULTS.get(config["variant"], {}), **arch}
    try:
        # shapes first, on the meta device: a tampered config asking for a model of many GB is refused without
        # allocating it
        with torch.device("meta"):
            skeleton = MODEL_CLASSES[config["variant"]](**arch)
    except (TypeError, ValueError, RuntimeError) as e:  # torch raises RuntimeError for e.g. a negative size
        raise CheckpointError(f"{directory / CONFIG_NAME}: cannot build {config['variant']!r} from it ({e})") from None
    if problem := _mismatch(skeleton, state):
        raise CheckpointError(f"{weights}: {problem}")
    if problem := _not_finite(state):
        raise CheckpointError(f"{weights}: {problem}")
    model = MODEL_CLASSES[config["variant"]](**arch)  # the shapes match the file's: as big as the file, no bigger
    model.load_state_dict(state)
    try:  # for save_checkpoint: figures that go with these weights while they stay unchanged
        model._loaded_figures = (sha, read_metrics(directory))
    except CheckpointError:  # an unreadable metrics.json spoils nothing here: the model just has no figures
        pass
    # a model saved in another floating dtype (bfloat16, say) comes back in it, not widened to float32
    dtypes = {t.dtype for t in state.values() if t.is_floating_point()}
    if len(dtypes) == 1 and (dtype := dtypes.pop()) != torch.float32:
        model = model.to(dtype)
    return model.to(device).eval()
