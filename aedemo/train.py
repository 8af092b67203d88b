"""One training loop for every variant: `python -m aedemo.train --variant vae`, or `train(TrainConfig(...))`.

Each model supplies its loss terms and optimisers (aedemo.models.base.Trainable); this file only feeds it
batches, evaluates after each epoch, reports through callbacks, and saves a checkpoint.
"""

from __future__ import annotations

import argparse
import json
import math
import numbers
import os
import shlex
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .allocator import keep_freed_memory
from .checkpoint import on_cpu, save_checkpoint
from .data import DataError, DataNotFoundError, batches, load_mnist, to_float
from .devices import DEVICE_NAMES, DeviceError, is_device_name, resolve_device
from .evaluate import evaluate_model, evaluate_terms
from .models import MODEL_CLASSES, Model, build_model
from .models.base import check_class_ids, check_range, check_sizes


@dataclass
class TrainConfig:
    variant: str
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    data_dir: str | os.PathLike | None = None
    out: str | os.PathLike | None = None  # checkpoint folder to write at the end (nothing is written when None)
    device: str | torch.device = "auto"  # a torch.device is kept as its name
    seed: int = 0
    # seconds; training stops after the step that crosses it. A run with a budget cannot know its length in
    # advance, so it keeps a constant learning rate instead of the cosine decay.
    time_budget: float | None = None
    schedule: str = "cosine"  # "cosine" (decay to 0 over all epochs) or "constant"
    # torch.set_float32_matmul_precision during the training steps. On CPU, "medium" hands float32 matrix products
    # to oneDNN, which may use bf16 arithmetic where that is fast: on the AMD EPYC here the products came out as
    # exact as MKL's float32 ones (largest relative error 6e-7 vs 3e-7) at twice the speed; on the Intel Xeon with
    # AMX (Sapphire Rapids) they are bf16's (2.4e-3) at 2.5 times the speed. Where the CPU has bf16 dot products
    # (AVX-512 BF16) "medium" also runs the steps under bf16 autocast (see bf16_autocast). "highest" is torch's
    # default, and the test figures after each epoch are computed in float32, at the precision torch had before.
    matmul_precision: str = "medium"
    model_config: dict = field(default_factory=dict)  # architecture overrides, e.g. {"latent_dim": 2}

    def __post_init__(self) -> None:
        # paths become plain strings, with "~" meaning home as in load_model: a shell leaves "--out=~/run" as typed,
        # and metrics.json records the command line these make
        for name in ("data_dir", "out"):
            value = getattr(self, name)
            if isinstance(value, str | os.PathLike):
                setattr(self, name, os.path.expanduser(os.fspath(value)))
        if isinstance(self.device, torch.device):  # as load_model takes it; kept as its name, for the command line
            self.device = str(self.device)
        for name in ("epochs", "batch_size", "seed", "lr", "time_budget"):  # numpy's numbers (a sweep's values)
            # as Python's: `seed + 1` would wrap in a uint64, and the command line would read "np.int64(3)"
            value = getattr(self, name)
            if isinstance(value, numbers.Integral) and not isinstance(value, int):
                setattr(self, name, int(value))
            elif isinstance(value, np.floating):  # by its shortest digits: np.float32(1e-3) is 0.0010000000475
                setattr(self, name, float(str(value)))


@dataclass
class StepInfo:
    step: int
    epoch: int
    epoch_fraction: float  # epochs done so far, fractional
    terms: dict[str, float]
    model: Model | None = None  # the model being trained (in training mode), e.g. to evaluate it


@dataclass
class EpochInfo:
    epoch: int
    train: dict[str, float]  # mean of the step terms over the epoch
    test: dict[str, float]  # loss terms on the test set
    seconds: float  # training time of this epoch (evaluation excluded)
    model: Model


@dataclass
class TrainResult:
    model: Model
    history: list[dict]
    seconds: float  # training time, evaluation excluded
    device: str
    stopped_early: bool
    steps: int = 0  # optimisation steps taken (0 for PCA's closed-form fit)
    # how many training digits were given to train() in code (None: the MNIST split the command reads); its
    # recorded command does not reproduce such a run, and save_trained says so in metrics.json
    digits_given: int | None = None


MATMUL_PRECISIONS = ("highest", "high", "medium")  # torch.set_float32_matmul_precision's values
MAX_SEED = 2**64 - 2  # torch's generators take up to 2**64 - 1, and the noise's is seeded with seed + 1
SCHEDULES = ("cosine", "constant")


# The setting is process-wide and runs may overlap (threads, or a Space's run still stopping when the next
# starts): the first run in saves the setting, the last one out restores it.
_precision_lock = threading.Lock()
_precision_runs = 0
_precision_before = "highest"


@contextmanager
def float32_matmul_precision(precision: str) -> Iterator[None]:
    """torch.set_float32_matmul_precision for the duration of the block, restored when the last such block ends."""
    global _precision_runs, _precision_before
    with _precision_lock:
        if _precision_runs == 0:
            _precision_before = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision(precision)
        _precision_runs += 1
    try:
        yield
    finally:
        with _precision_lock:
            _precision_runs -= 1
            if _precision_runs == 0:
                torch.set_float32_matmul_precision(_precision_before)


def cpu_has_bf16_products() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX-512 BF16: AMD Zen 4 and later, Intel Cooper Lake and
    Sapphire Rapids and later, not Ice Lake), where oneDNN's bf16 products took about half the time of its float32
    ones."""
    check = getattr(torch.cpu, "_is_avx512_bf16_supported", None)  # private in torch 2.x: absent means no
    return bool(check and check())


def bf16_autocast(precision: str, device: torch.device) -> AbstractContextManager:
    """What the training steps run under: bf16 autocast on a CPU with bf16 products when `precision` is "medium",
    else nothing.

    oneDNN's "medium" multiplies in bf16 only on CPUs with AMX: on an AMD EPYC of the Zen 4 generation it left the
    784-400-20 VAE's products in float32 (brg_matmul:avx512_core), 60 % of the step. Under autocast the products,
    convolutions and layer outputs are bf16 and the weights and optimiser float32 (as GPUs train in mixed
    precision): there, each variant timed (all but the DAE) took 0.61-0.76 of its float32 step time, and 400 steps
    of each reached the same test loss as in float32, within the spread between runs (docs/performance.md).

    Its cache of bf16 weights is off: it is kept until the block ends, and the AAE's step updates its weights
    between its three phases, whose later ones then ran on the weights from before the first update."""
    if runs_bf16_autocast(precision, device):
        return torch.autocast("cpu", dtype=torch.bfloat16, cache_enabled=False)
    return nullcontext()


def runs_bf16_autocast(precision: str, device: torch.device | str) -> bool:
    """Whether training at `precision` on `device` runs its steps under bf16 autocast (see bf16_autocast)."""
    return precision == "medium" and torch.device(device).type == "cpu" and cpu_has_bf16_products()


def flushing_denormals() -> bool:
    """Whether this thread's float arithmetic flushes denormal numbers to zero (torch has a setter, no getter)."""
    return torch.tensor(1e-40).item() == 0.0  # a denormal in float32, made in this thread


@contextmanager
def flushed_denormals() -> Iterator[None]:
    """torch.set_flush_denormal(True) in this thread for the duration of the block, then as it was.

    Adam's running mean of a gradient that stays 0 (a weight from a border pixel that few digits ink) decays by
    beta1 = 0.9 per step, through the denormal range for ~150 steps, and each multiply there costs an x86 CPU a
    microcode assist: on the Intel Xeon (Sapphire Rapids) here the 784-400-20 VAE's optimiser steps took 0.25 s of
    its first epoch and 0.55 s of its third, 0.25 s throughout with denormals flushed (on one thread 0.95 s against
    0.38 s in the third). Numbers under 1.2e-38 become 0, which changes no figure a run reports.
    The setting is per thread. OpenMP's worker threads copy it from the thread that starts them, at torch's first
    parallel operation, so the CLI sets it for the whole process before that.
    """
    before = flushing_denormals()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(before)


def train(
    config: TrainConfig,
    on_step: Callable[[StepInfo], bool | None] | None = None,
    on_epoch: Callable[[EpochInfo], bool | None] | None = None,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    progress: bool = False,
) -> TrainResult:
    """Train `config.variant`; a callback may return True to stop cleanly: on_step's after that step (the epoch
    begun is still evaluated and reported), on_epoch's after that epoch.

    `data` = (train_images, train_labels, test_images, test_labels) as uint8/int64 tensors; loaded from
    `config.data_dir` (see aedemo.data.load_mnist) when not given. A checkpoint saved from data given here says so
    in its metrics.json and model card, with the sizes.

    On the CPU, training first sets glibc's malloc, for the whole process and for good, to keep freed memory for
    reuse (aedemo/allocator.py: each step would otherwise fault its activations in again); a long-lived program
    that trains once can hand that memory back with aedemo.allocator.return_freed_memory(), as the Space does.
    """
    check_config(config)
    device = resolve_device(config.device)
    if device.type == "cpu":  # each step frees its activations and allocates them again: see aedemo/allocator.py
        keep_freed_memory()
    torch.manual_seed(config.seed)
    try:  # built before the data is read: a misspelt architecture argument (or a size torch refuses) fails at once
        model = build_model(config.variant, **config.model_config)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ConfigError(f"model_config: {e}") from None

    given = data is not None
    if data is None:
        data = (*load_mnist("train", config.data_dir), *load_mnist("test", config.data_dir))
    # The whole dataset lives on the training device, as uint8 (a quarter of float's memory): a batch is an index
    # gather and a conversion of 128 images, nothing more.
    x_train, y_train, x_test, y_test = data
    for images, labels, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if not isinstance(images, torch.Tensor) or not isinstance(labels, torch.Tensor):  # numpy's uint8 read as
            # "takes uint8 images; the train images are uint8"
            raise TypeError(f"train() takes torch tensors, as load_mnist returns them; the {split} split is "
                            f"{type(images).__name__} and {type(labels).__name__} (numpy: torch.from_numpy)")
        if images.dtype != torch.uint8 or images.dim() != 3 or images.shape[1:] != (28, 28):
            raise TypeError(f"train() takes uint8 images [N,28,28], as load_mnist returns them; the {split} images "
                            f"are {images.dtype} {list(images.shape)}")
        if labels.shape != images.shape[:1]:
            raise ValueError(f"the {split} labels must be one per image, [{images.shape[0]}], got {list(labels.shape)}")
        if not len(images):  # an empty test split failed only at the save, after the whole run; an empty train split
            # gave back an untrained model as if trained
            raise ValueError(f"the {split} split holds no images: train() needs some to train on and to test on")
        check_class_ids(labels, f"the {split} labels")  # the classifier's loss met bad ones mid-run
    data = (x_train.to(device), y_train.to(device, torch.int64), x_test.to(device), y_test.to(device, torch.int64))

    model = model.to(device)
    if model.trainable:
        with flushed_denormals():  # once for the run: flushing changes no figure it reports, only its speed
            try:
                history, seconds, stopped, steps = _fit(model, config, data, on_step, on_epoch, progress)
            finally:
                model.release_training_buffers()
    else:  # PCA: fitted in closed form, in float64
        history, seconds, stopped = _fit_closed_form(model, data, on_epoch)
        steps = 0

    model.eval()
    if not all(t.isfinite().all() for t in model.state_dict().values() if t.is_floating_point()):
        # the last step's update, after the last loss checked (_fit checks each step's loss)
        raise TrainingDiverged(f"training diverged: the weights hold NaN or infinite values after step {steps}; "
                               f"try a lower learning rate than {config.lr:g}", steps, history)
    result = TrainResult(model, history, seconds, str(device), stopped, steps, len(x_train) if given else None)
    if config.out:
        save_trained(result, config, x_test, y_test)
    return result


class ConfigError(ValueError):
    """A TrainConfig setting train() cannot honour; the message names the setting."""


class TrainingDiverged(RuntimeError):
    """A loss term became NaN or infinite: the run stops there (every later step would be NaN too, and its
    weights are no model). `history` holds the epochs finished before it."""

    def __init__(self, message: str, step: int, history: list[dict]) -> None:
        super().__init__(message)
        self.step, self.history = step, history


def check_config(config: TrainConfig) -> None:
    """Raise ConfigError for a setting train() cannot honour, before any data is loaded or time is spent (the
    architecture arguments are checked by building the model, which train() does next)."""
    if config.variant not in MODEL_CLASSES:
        raise ConfigError(f"unknown variant {config.variant!r}; known: {', '.join(MODEL_CLASSES)}")
    if config.matmul_precision not in MATMUL_PRECISIONS:  # torch itself only warns, and ignores the value
        known = ", ".join(MATMUL_PRECISIONS)
        raise ConfigError(f"unknown matmul_precision {config.matmul_precision!r}; known: {known}")
    if not is_device_name(config.device):
        raise ConfigError(f"unknown device {config.device!r}; known: {DEVICE_NAMES}")
    try:
        resolve_device(config.device)
    except DeviceError as e:
        raise ConfigError(str(e)) from None
    if config.schedule not in SCHEDULES:
        raise ConfigError(f"unknown schedule {config.schedule!r}; known: {', '.join(SCHEDULES)}")
    try:  # the models' own checks of a size and of a weight, with the setting's name
        check_sizes("epochs", config.epochs)
        check_sizes("batch_size", config.batch_size)
        check_range("lr", config.lr, 0, open_low=True)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    seed = config.seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:  # torch's own error was
        # "Overflow when unpacking long" or a TypeError from deep inside, after the data had loaded
        raise ConfigError(f"seed must be a whole number from 0 to 2**64 - 2, got {seed!r}")
    budget = config.time_budget
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int | float) or not budget >= 0):
        # 0: one step
        raise ConfigError(f"time_budget must be a number of seconds, at least 0 (or None), got {config.time_budget!r}")
    if config.out is not None and Path(config.out).exists() and not Path(config.out).is_dir():
        # found now rather than after the whole run, which would then be lost
        raise ConfigError(f"out: {config.out} exists and is not a folder; the checkpoint is a folder of files")
    if config.out is not None:
        _check_writable(Path(config.out))
    if not isinstance(config.model_config, dict):
        raise ConfigError(f"model_config must be a dict of architecture arguments, got {config.model_config!r}")


def _check_writable(out: Path) -> None:
    """Raise ConfigError unless a checkpoint can be saved into `out`: the save begins with a folder made inside it
    (or in its nearest existing parent), so that is tried now, before a run that would be lost at the end."""
    parent = out.absolute()
    while not parent.exists():
        parent = parent.parent
    try:
        if not parent.is_dir():
            raise NotADirectoryError(f"{parent} is a file")
        os.rmdir(tempfile.mkdtemp(dir=parent, prefix=".aedemo-check-"))
    except OSError as e:
        raise ConfigError(f"out: cannot save a checkpoint into {out} ({e.strerror or e})") from None


def _fit(
    model: Model,
    config: TrainConfig,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    on_step: Callable[[StepInfo], bool | None] | None,
    on_epoch: Callable[[EpochInfo], bool | None] | None,
    progress: bool,
) -> tuple[list[dict], float, bool, int]:
    """train()'s loop over epochs and batches: (history, seconds of training, stopped early, steps taken)."""
    x_train, y_train, x_test, y_test = data
    history: list[dict] = []
    shuffle_gen = torch.Generator().manual_seed(config.seed)
    noise_gen = torch.Generator(device=x_train.device).manual_seed(config.seed + 1)
    optimizers = model.configure_optimizers(config.lr)
    steps_per_epoch = -(-x_train.shape[0] // config.batch_size)
    schedulers = (
        [torch.optim.lr_scheduler.CosineAnnealingLR(o, config.epochs * steps_per_epoch) for o in optimizers]
        if schedule_used(config) == "cosine"
        else []
    )
    step = 0
    seconds = 0.0
    stopped = False
    precision = config.matmul_precision
    step_autocast = bf16_autocast(precision, x_train.device)  # decided once for the run, entered at every step
    for epoch in range(1, config.epochs + 1):
        model.train()
        epoch_start = time.perf_counter()
        sums: dict[str, float] = {}
        n_seen = 0
        bar = tqdm(
            batches(x_train, y_train, config.batch_size, generator=shuffle_gen),
            total=steps_per_epoch, desc=f"{config.variant} epoch {epoch}/{config.epochs}",
            # None: no bar where stderr is no terminal (a log, a pipe), whose hundreds of \r updates would pile up
            # on one line there; the line per epoch below is written all the same
            disable=None if progress else True, leave=False,
        )
        for xb, yb in bar:
            xb = to_float(xb)
            # The step only: the test figures, the callbacks' included, are the model's own, not bf16 approximations
            with float32_matmul_precision(precision), step_autocast:
                terms = model.training_step(xb, yb, optimizers, noise_gen)
            bad = [k for k, v in terms.items() if not math.isfinite(v)]
            if bad:  # found at once: the run used to go on in NaN to its end, then fail to save
                bar.close()
                raise TrainingDiverged(
                    f"training diverged at step {step + 1} (epoch {epoch}): the {bad[0]} became {terms[bad[0]]}; "
                    f"try a lower learning rate than {config.lr:g}", step + 1, history)
            for s in schedulers:
                s.step()
            step += 1
            n_seen += xb.shape[0]
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + v * xb.shape[0]
            if step % 20 == 0:
                bar.set_postfix(loss=f"{sums['loss'] / n_seen:.2f}")
            info = StepInfo(step, epoch, epoch - 1 + n_seen / x_train.shape[0], terms, model)
            over_budget = (
                config.time_budget is not None
                and seconds + time.perf_counter() - epoch_start >= config.time_budget
            )
            if (on_step and on_step(info)) or over_budget:
                stopped = True
                break
        bar.close()
        epoch_seconds = time.perf_counter() - epoch_start
        seconds += epoch_seconds
        train_terms = {k: v / max(n_seen, 1) for k, v in sums.items()}
        test = evaluate_terms(model, x_test, y_test)
        history.append({"epoch": epoch, "train": train_terms, "test": test, "seconds": epoch_seconds})
        bad = [k for k, v in test.items() if not math.isfinite(v)]
        if bad:  # weights blown up but finite in the training steps, NaN on the test digits
            raise TrainingDiverged(f"training diverged in epoch {epoch}: the test set's {bad[0]} became "
                                   f"{test[bad[0]]}; try a lower learning rate than {config.lr:g}", step, history)
        if progress:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in test.items())
            tqdm.write(f"{config.variant} epoch {epoch}: {epoch_seconds:.1f}s, test {shown}")
        if on_epoch and on_epoch(EpochInfo(epoch, train_terms, test, epoch_seconds, model)):
            stopped = True
        if stopped:
            break
    # "early" means steps were left undone: a stop asked for after the last one (a time limit met just then) is not
    finished = len(history) == config.epochs and n_seen == x_train.shape[0]
    return history, seconds, stopped and not finished, step


def schedule_used(config: TrainConfig) -> str:
    """The learning-rate schedule a run follows: a run with a time budget cannot know its length, so it keeps a
    constant rate instead of config.schedule's cosine decay."""
    return "constant" if config.time_budget is not None else config.schedule


def training_record(result: TrainResult, config: TrainConfig) -> dict:
    """metrics.json's "training" block: how the checkpoint was trained (the Space adds where its data came from)."""
    return {
        "command": train_command(config),
        "epochs": len(result.history),
        "stopped_early": result.stopped_early,  # by a callback or the time budget, before --epochs ran out
        # an early stop's length: the command cannot say it (a callback is no flag, a time budget varies by machine)
        "steps": result.steps,
        "seconds": round(result.seconds, 1),
        "device": result.device,
        # the steps in bf16 (a CPU with bf16 products, "medium"): the command run on another CPU may not be
        "bf16_autocast": result.steps > 0 and runs_bf16_autocast(config.matmul_precision, result.device),
        "torch": torch.__version__,
        # the schedule the run followed: a time-budget run keeps a constant rate whatever config.schedule says
        "config": {
            **{k: v for k, v in asdict(config).items() if k not in ("out", "data_dir")},
            "schedule": schedule_used(config),
        },
    }


def _fit_closed_form(
    model: Model,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    on_epoch: Callable[[EpochInfo], bool | None] | None,
) -> tuple[list[dict], float, bool]:
    """PCA's fit in place of the loop, reported as one epoch: (history, seconds, stopped early: never)."""
    x_train, _, x_test, y_test = data
    started = time.perf_counter()
    try:
        model.fit(to_float(x_train))
    except ValueError as e:  # too few digits for its code size: a setting to change, said without a traceback
        raise ConfigError(f"model_config: {e}") from None
    seconds = time.perf_counter() - started
    test = evaluate_terms(model, x_test, y_test)
    if on_epoch:
        on_epoch(EpochInfo(1, {}, test, seconds, model))
    return [{"epoch": 1, "train": {}, "test": test, "seconds": seconds}], seconds, False  # a fit is never partial


def save_trained(
    result: TrainResult, config: TrainConfig, x_test: torch.Tensor | None = None, y_test: torch.Tensor | None = None,
) -> None:
    """Write the checkpoint with its metrics.json: figures on the run's test set (uint8 images [N,28,28] and labels,
    as train() takes them; by default config.data_dir's) plus how it was trained. A run on digits given to train()
    in code says so in its "data" field, which the model card shows: its command reads MNIST, and would not
    reproduce it."""
    if not config.out:  # refused before the evaluation's time is spent, in words rather than os.fspath's TypeError
        raise ConfigError("out: config.out is None; save_trained writes the checkpoint to config.out, so name a "
                          "folder there (e.g. dataclasses.replace(config, out='checkpoints/my-run'))")
    scored_on = "the MNIST test set"
    if x_test is None or y_test is None:
        x_test, y_test = load_mnist("test", config.data_dir)
    else:
        scored_on = f"the {len(x_test):,} test digits given with them"
    model = on_cpu(result.model)  # evaluated and saved from the CPU
    test = evaluate_model(model, to_float(x_test.cpu()), y_test.cpu())
    training = training_record(result, config)
    if result.digits_given is not None:
        training["data"] = (f"{result.digits_given:,} training digits given to train() in code; test figures on "
                            f"{scored_on} (the command records the settings, not this data)")
    save_checkpoint(model, config.out, {"test": test, "training": training})


def train_command(config: TrainConfig) -> str:
    """The CLI command that reproduces `config` (for metrics.json and model cards).

    The matmul precision is always written: its default changed once, and a command that left it out came to mean
    other arithmetic than the run it recorded. The CLI records this too, rather than the words it was given.
    """
    parts = ["python", "-m", "aedemo.train", "--variant", config.variant, "--epochs", str(config.epochs)]
    parts += ["--batch-size", str(config.batch_size), "--lr", str(config.lr), "--seed", str(config.seed)]
    if config.data_dir:
        parts += ["--data-dir", str(config.data_dir)]
    if config.device != "auto":
        parts += ["--device", config.device]
    if config.schedule != "cosine":
        parts += ["--schedule", config.schedule]
    if config.time_budget is not None:
        parts += ["--time-budget", str(config.time_budget)]
    parts += ["--matmul-precision", config.matmul_precision]
    if config.model_config:
        parts += ["--model-config", json.dumps(config.model_config, separators=(",", ":"))]
    if config.out:
        parts += ["--out", str(config.out)]
    return shlex.join(parts)


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """The command line's TrainConfig (`python -m aedemo.train ...`, without the `python -m aedemo.train`)."""
    about = (__doc__ or "Train an aedemo model.").splitlines()[0]  # __doc__ is None under python -OO
    p = argparse.ArgumentParser(prog="python -m aedemo.train", description=about)
    p.add_argument("--variant", required=True, choices=list(MODEL_CLASSES))
    # the defaults are TrainConfig's: a run from Python and one from the command line train alike
    p.add_argument("--epochs", type=int, default=TrainConfig.epochs,
                   help="passes over the training set (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size,
                   help="images per step (default: %(default)s)")
    p.add_argument("--lr", type=float, default=TrainConfig.lr, help="Adam's learning rate (default: %(default)s)")
    p.add_argument("--data-dir", default=None, help="folder with MNIST/raw/*.gz (default: $AEDEMO_DATA_DIR, else "
                   "an earlier download in ~/.cache/aedemo, else torchvision's download)")
    p.add_argument("--out", default=None, help="checkpoint folder to write, replacing one there (default: "
                   "checkpoints/<variant>-run, under the working directory)")
    p.add_argument("--device", default=TrainConfig.device, type=_device_name, metavar="{auto,cpu,cuda,cuda:N,mps}",
                   help="where to train (default: auto, a GPU when torch sees one)")
    p.add_argument("--seed", type=int, default=TrainConfig.seed,
                   help="torch's seed: the same seed repeats a CPU run (default: %(default)s)")
    p.add_argument("--schedule", default=TrainConfig.schedule, choices=SCHEDULES,
                   help="learning-rate schedule; a --time-budget run keeps a constant rate")
    p.add_argument("--matmul-precision", default=TrainConfig.matmul_precision, choices=MATMUL_PRECISIONS,
                   help="torch.set_float32_matmul_precision while training (default: %(default)s; on a CPU "
                        "with bf16 products, medium also runs the steps under bf16 autocast)")
    p.add_argument("--time-budget", type=float, default=None,
                   help="stop after this many seconds of training (the learning rate then stays constant)")
    p.add_argument("--model-config", type=_json_object, default={}, metavar="JSON",
                   help='architecture arguments, e.g. \'{"latent_dim": 2, "hidden": [400]}\' (default: the variant\'s)')
    args = p.parse_args(argv)
    return TrainConfig(
        variant=args.variant, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        data_dir=args.data_dir, out=args.out or f"checkpoints/{args.variant}-run", device=args.device,
        seed=args.seed, schedule=args.schedule, time_budget=args.time_budget, matmul_precision=args.matmul_precision,
        model_config=args.model_config,
    )


def _device_name(text: str) -> str:
    if not is_device_name(text):
        raise argparse.ArgumentTypeError(f"choose from {DEVICE_NAMES}")
    return text


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON ({e})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('expected a JSON object such as {"latent_dim": 2}')
    return value


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    # for the process and before any parallel operation, so that OpenMP's threads copy it (see flushed_denormals)
    torch.set_flush_denormal(True)
    # Ctrl-C stops as a time budget does: after the step, with the model so far evaluated and saved (it gave a
    # traceback and lost the run); a second one stops at once, saving nothing
    interrupted = threading.Event()

    def on_interrupt(signum: int, frame: object) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt
        interrupted.set()
        print("\nstopping after this step: the model so far is evaluated and saved (Ctrl-C again: stop now, save "
              "nothing)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        result = train(config, on_step=lambda _: interrupted.is_set(), progress=True)
    # what a user can fix: said, not a traceback
    except (ConfigError, DataNotFoundError, DataError, TrainingDiverged) as e:
        raise SystemExit(f"error: {e}") from None
    except KeyboardInterrupt:
        raise SystemExit("interrupted: nothing saved") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    stopped = " (stopped by Ctrl-C)" if interrupted.is_set() else ""
    print(f"saved {config.out} ({result.seconds:.1f}s of training on {result.device}{stopped})")


if __name__ == "__main__":
    main()
