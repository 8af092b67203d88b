"""The Train tab: train any variant in the browser, watch it learn, then keep, download or push the result.

The handlers are plain functions (testable without a browser); `build_train_tab` only wires them to components.
The training itself runs in the background (aedemo.space.train_worker); `run_training` turns its news into what
the tab shows, a TrainView at a time.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd
import torch

from ..allocator import return_freed_memory
from ..checkpoint import save_checkpoint
from ..data import one_per_class, to_float
from ..evaluate import evaluate_model
from ..models import AUTOENCODERS, VARIANTS, Autoencoder, build_model
from ..train import TrainConfig
from . import train_worker as worker
from .inputs import MAX_UI_SEED, UserInputError, parse_float, parse_int, parse_seed, quoted
from .store import display_name, keep_trained
from .train_line import LineRefused, Place, TrainingLine
from .train_worker import StopFlag, TrainingData
from .ui import SCROLL_BEHAVIOUR, UNSEEN_LABEL

MAX_EPOCHS = 50
MAX_BATCH = 4096
# On the CPU a bigger batch's activations take the Space past its 1.5 GB: a step of the conv VAE at 4096 peaked 1.35 GB
# above the process's size, at 512 0.29 GB (at 128, the default, 0.10 GB)
MAX_BATCH_CPU = 512
UPDATE_EVERY_S = 0.5  # at most this often a streamed UI update (each one re-sends the curve)
SESSION_ROOT = Path(tempfile.gettempdir()) / "aedemo-space" / "train"
RUNNING = "running"  # marker file in the session folder while one of its runs trains; it names that run's stop flag
WAIT_POLL_S = 1.0  # a run waiting its turn says how many are ahead this often (and finds out its visitor left)
# How long a session's trained models and files outlive its last run. Gradio deletes a session's state an hour after
# its browser tab closes, but never that of a call without a page (a /call/train request, gradio_client without
# its heartbeat): 36 such runs kept 299 MB on disk and 160 MB of models for good.
SESSION_TTL_SECONDS = 6 * 3600
# Session folders kept on disk, the newest by their last run (or push), each with its latest run only (~8-15 MB):
# callers without a page, each call a new session, could otherwise add ~15 GB an hour for the 6 hours above.
MAX_SESSION_FOLDERS = 200

HELP = """\
Train any of the models from scratch and watch it learn: the loss curve updates live, and after each epoch the
grid shows ten test digits, their reconstructions and, for the generative models, samples from the prior. The
result appears in the other tabs **for your browser session only**; download it or push it to the Hugging Face
Hub to keep it. One training runs at a time: if someone else is training, yours waits its turn (the status says
how many runs are ahead; Stop cancels it)."""


# seconds an epoch of the 60k digits takes, measured with one training thread as on a 2-core CPU Space
# (benchmarks/train_epochs.py, as train_worker.default_run trains); the MLP models take 5-10 s. A variant added
# without its figure here gets no time in the Epochs help: "about 5-10 s", a guess, would have been given as measured.
EPOCH_SECONDS_ON_CPU = {"conv": 25, "vae": 80}
MLP_EPOCH_SECONDS_ON_CPU = "5-10"
MLPS_MEASURED = ("ae", "dae", "sparse", "contractive", "cvae", "aae")


def _fitted_in_closed_form(variant: Any) -> bool:
    """Whether `variant` (a name the visitor chose, or anything) is fitted rather than trained: PCA."""
    # a list or a dict from the API raised "unhashable type" here, before the checks that say what is wrong
    return isinstance(variant, str) and variant in AUTOENCODERS and not AUTOENCODERS[variant].trainable


def epochs_info(variant: Any) -> str | None:
    """The Epochs field's help for `variant`: how long an epoch takes here, and how many fit a CPU Space's cap (a VAE
    left at the AE's 3 epochs was stopped at the cap, a third of the way)."""
    if _fitted_in_closed_form(variant):
        return f"{display_name(variant)} is {CLOSED_FORM}."
    if worker.gpu_expected():
        return None
    seconds = EPOCH_SECONDS_ON_CPU.get(variant)
    if seconds is None and variant not in MLPS_MEASURED:
        return "One epoch is a pass over the 60,000 training digits."
    if seconds is None:
        return (f"One epoch is a pass over the 60,000 training digits: about {MLP_EPOCH_SECONDS_ON_CPU} s for this "
                f"model on a 2-vCPU Space (the Conv AE {EPOCH_SECONDS_ON_CPU['conv']} s, the VAE "
                f"{EPOCH_SECONDS_ON_CPU['vae']} s; measured).")
    fits = int(worker.CPU_MAX_SECONDS // seconds)
    return (f"One epoch is a pass over the 60,000 training digits: about {seconds} s for the {display_name(variant)} "
            f"on a 2-vCPU Space (measured), so "
            + (f"{_count(fits, 'epoch')} {'fits' if fits == 1 else 'fit'}" if fits else "not one epoch fits")
            + f" in the {worker.CPU_MAX_SECONDS:.0f} s a run may take here.")


def settings_look(variant: Any) -> tuple:
    """Epochs' help for the chosen model; Epochs, Batch size and Learning rate greyed out for PCA, which they do not
    apply to (its status said so only after the run)."""
    trains = not _fitted_in_closed_form(variant)
    return gr.Slider(info=epochs_info(variant), interactive=trains), gr.Number(interactive=trains), gr.Number(
        interactive=trains)


DEFAULT_SEED = TrainConfig.seed


def _device_words(device: str) -> str:
    """A torch device ("cpu", "cuda", "cuda:0", "mps") as the Train tab's status names it."""
    return "a GPU" if device.startswith(("cuda", "mps")) else "the CPU"


# On Train: the status into view when it lies below the screen (a phone's one column; beside the form it is in view),
# with Stop above it at the screen's top (scrolled to the status itself, Stop went off screen above it). Focus goes
# to Stop as the button is pressed (ui.PAGE_JS)
TRAIN_PRESSED_JS = f"""() => {{
  const status = document.getElementById('train-status');
  const stop = document.getElementById('train-stop');
  if (status && status.getBoundingClientRect().top > window.innerHeight * 0.6)
    (stop || status).scrollIntoView({{behavior: {SCROLL_BEHAVIOUR}, block: 'start'}});
}}"""
# Lines read at 3:1 or more (WCAG's minimum for graphics) on both the light and the dark plot (white, slate 800):
# blue 600 read 2.8:1 on the dark one, orange 500 2.8:1 on the light one; green 600 reads 3.3 and 4.4
CURVE_COLORS = {"train": "#3b82f6", "test": "#ea580c"}  # 3.7 and 4.0; 3.6 and 4.1
PENALTY_COLOR = "#16a34a"
# the epoch axis's numbers without trailing zeros (d3's "~g"): a one-epoch run's ticks read "0.000.05 ... 0.951.00"
EPOCH_TICKS = "~g"


class SettingsError(ValueError):
    """A training setting that cannot be used; the message is shown to the visitor as is."""


@dataclass
class TrainSettings:
    variant: str
    epochs: int
    budget: float | None  # seconds of training; None = no limit besides the epochs (and the Space's cap)
    batch_size: int
    lr: float
    seed: int = DEFAULT_SEED  # the initial weights, the order of the batches, the noise the model draws


def _epochs(value: Any) -> int:
    return parse_int(value, "Epochs", 1, MAX_EPOCHS)


def _time_budget(budget: Any) -> float | None:
    """Seconds, or None for no limit: a blank field, as 0 is."""
    if budget is None or (isinstance(budget, str) and not budget.strip()):
        return None
    seconds = parse_float(budget, "Time budget")
    if seconds < 0:
        raise UserInputError(f"Time budget must be 0 (no limit) or a number of seconds, not {quoted(budget)}.")
    return seconds or None


def _batch_size(value: Any) -> int:
    batch = parse_int(value, "Batch size", 1, MAX_BATCH)
    if batch > MAX_BATCH_CPU and not worker.gpu_expected():
        raise UserInputError(f"Batch size must be at most {MAX_BATCH_CPU} on the CPU, not {batch}: a bigger batch "
                             f"takes this Space past its memory (a GPU Space takes up to {MAX_BATCH}).")
    return batch


def _learning_rate(value: Any) -> float:
    rate = parse_float(value, "Learning rate")
    if not 0 < rate <= 1:
        raise UserInputError(f"Learning rate must be above 0 and at most 1 (1e-3 is a good start), "
                             f"not {quoted(value)}.")
    return rate


def _model(variant: Any) -> str:
    if variant not in VARIANTS:
        raise UserInputError(f"Unknown model {quoted(variant)}; choose one of: {', '.join(VARIANTS)}.")
    return variant


def parse_settings(
    variant: Any, epochs: Any, budget: Any, batch_size: Any, lr: Any, seed: Any = DEFAULT_SEED
) -> TrainSettings:
    """Check the form's values (from the UI, or anything from the API); raise SettingsError naming every field that
    is wrong, in the form's order, each with its own message (named one at a time, a visitor fixed one, pressed
    Train, and only then learnt of the next)."""
    problems: list[str] = []

    def checked(read: Callable[[Any], Any], value: Any) -> Any:
        try:
            return read(value)
        except UserInputError as e:
            problems.append(str(e))
            return None

    if _fitted_in_closed_form(variant):  # greyed out for PCA (settings_look): a value left there must not block it
        epochs, batch_size, lr = 1, TrainConfig.batch_size, TrainConfig.lr
    settings = (checked(_model, variant), checked(_epochs, epochs), checked(_time_budget, budget),
                checked(_batch_size, batch_size), checked(_learning_rate, lr),
                checked(parse_seed, seed))  # the seed: the Generate and Denoise tabs' message
    if problems:
        raise SettingsError(" ".join(problems))
    return TrainSettings(*settings)


# --- this visitor's runs -------------------------------------------------------------------------------------

def session_folder(session_hash: str | None) -> Path:
    """This visitor's folder for runs and the stop flag, keyed by Gradio's session hash."""
    key = re.sub(r"[^A-Za-z0-9_-]", "", session_hash or "") or uuid.uuid4().hex
    return SESSION_ROOT / key


def sweep_sessions(
    root: Path = SESSION_ROOT, ttl: float = SESSION_TTL_SECONDS, keep: int = MAX_SESSION_FOLDERS
) -> None:
    """Delete the session folders untouched for `ttl` seconds (a run adds its folder and its marker to the
    session's folder, so that folder's time is its last run's), and all but the `keep` newest, unless a run is
    training there: what the sessions' states no longer hold, and what a server stopped by a signal left behind. A
    marker as old as that is one such a server left (a run lasts minutes), not a run."""
    if not root.is_dir():
        return
    oldest = time.time() - ttl
    folders = []
    for folder in root.iterdir():
        try:
            if folder.is_dir():
                folders.append((folder.stat().st_mtime, folder))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    folders.sort(reverse=True)
    for rank, (mtime, folder) in enumerate(folders):
        try:
            marker = folder / RUNNING
            if ((mtime < oldest or rank >= keep)
                    and (not marker.exists() or marker.stat().st_mtime < oldest)):
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def _running_flag(folder: Path) -> str:
    """The stop flag's name of the session's run training now, or ""."""
    try:
        return Path((folder / RUNNING).read_text()).name
    except OSError:
        return ""


def request_stop(session_dir: str | os.PathLike, cancelled_waiting: bool = False, training: bool = True) -> str:
    """Ask this session's training to stop after its current step (the model trained so far is kept): what to tell
    the visitor, who also had a run waiting its turn cancelled if `cancelled_waiting` (TrainingLine.cancel).
    `training=False`: the line says no run of the session has started, so none is stopped (a run whose turn had just
    come, cancelled there, had already published its flag)."""
    folder = Path(session_dir)
    flag = _running_flag(folder) if training else ""
    if flag:
        StopFlag(folder / flag).set()
    if flag and cancelled_waiting:
        return "Stopping after the current step (the model trained so far is kept); your run waiting is cancelled."
    if flag:
        return "Stopping after the current step; the model trained so far is kept."
    if cancelled_waiting:
        return "Your run waiting for its turn is cancelled: it will not train."
    return "Nothing of yours is training or waiting to train right now."


def stop_runs(line: TrainingLine, session: str | None, session_dir: str | os.PathLike) -> str:
    """Stop: the session's runs that have not started leave `line` untrained, the one training stops after its
    step. What to tell the visitor."""
    cancelled, training = line.cancel(session)
    return request_stop(session_dir, cancelled_waiting=cancelled, training=training)


# --- the handler: the worker's news -> what the tab shows ------------------------------------------------------

CLOSED_FORM = "fitted in closed form (SVD): epochs, batch size and learning rate do not apply"


PENALTY_CURVE = "on test digits"  # a model's penalty term (a VAE's KL, say), drawn on a plot of its own


@functools.cache
def loss_title(variant: str) -> str:
    """The loss axis' title: what the model this tab trains minimises per image (the tab builds each variant with
    its default architecture)."""
    return build_model(variant).loss_in_words()


def loss_axis_top(curve: pd.DataFrame) -> float | None:
    """A little above the untrained model's loss: a spike past it (a learning rate near 1 reaches 1e11) would
    squash the rest of the curve into a flat line at the bottom. Points above are cut off at the frame."""
    start = curve.loc[curve["epoch"] == 0, "loss"]
    return None if start.empty else 1.1 * float(start.max())


@dataclass
class TrainView:
    """Everything the tab shows at one moment of a run."""

    status: str  # Markdown
    progress: float = 0.0  # 0..1
    # columns epoch, loss, curve ("train" / "test"); empty: no curve (yet); None: leave the plot as it is
    loss: pd.DataFrame | None = None
    grid: np.ndarray | None = None
    grid_version: int = 0  # bumps when `grid` is new, so the UI re-sends the picture only then
    models: dict = field(default_factory=dict)  # the session's trained models, name -> model
    checkpoint: str | None = None  # folder with model.safetensors, config.json, metrics.json
    download: str | None = None  # zip of that folder
    error: str | None = None  # why there is no model, for a pop-up
    waiting: bool = False  # the run waits its turn behind others


def run_name(variant: str, models: dict) -> str:
    """The name a new run gets in the session's model list: "my vae #2"."""
    n = 1 + sum(1 for name in models if name.startswith(f"my {variant} #"))
    return f"my {variant} #{n}"


def save_run(model: torch.nn.Module, folder: Path, done: dict, data: TrainingData) -> Path:
    """Write the checkpoint folder (layout and metrics.json as the shipped ones) and a zip of it; return the zip."""
    x_test, y_test = worker.test_subset(data)
    metrics = {
        "test": evaluate_model(model, to_float(x_test), y_test),
        "training": {
            **done["training"],
            "source": "the aedemo Space's Train tab",
            "data": ("the first " if done["trained_on"] < len(data.x_train) else "")
            + f"{done['trained_on']:,} training digits"
            + (" of the bundled test split (offline)" if data.notice else " of the MNIST train split")
            + f"; test figures on {len(x_test):,} test digits it never saw",
        },
    }
    save_checkpoint(model, folder, metrics)
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w") as z:  # stored: float weights do not compress
        for path in sorted(folder.iterdir()):
            if not path.name.startswith("."):
                z.write(path, f"{folder.name}/{path.name}")
    return archive


def _keep_files(
    model: torch.nn.Module, folder: Path, name: str, done: dict, data: TrainingData
) -> tuple[str | None, str | None, str]:
    """Save the run's checkpoint and zip under `folder`: (checkpoint folder, zip, what the visitor can do)."""
    run_folder = folder / re.sub(r"[^a-z0-9]+", "-", f"aedemo {name}".lower()).strip("-")
    try:
        archive = save_run(model, run_folder, done, data)
    except Exception as e:  # the model still works in this session; only its files are missing
        return None, None, f"saving its files failed ({type(e).__name__}: {e}), so it cannot be downloaded"
    # the earlier runs' files: Download and Push offer the latest run only (the models stay in the session)
    for path in folder.iterdir():
        if path.is_dir() and path != run_folder:
            shutil.rmtree(path, ignore_errors=True)
        elif path.suffix == ".zip" and path != archive:
            path.unlink(missing_ok=True)
    return str(run_folder), str(archive), "download it or push it to the Hub below"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _seconds(limit: float) -> str:
    """A time limit in whole seconds, or as typed below one: a budget of 0.4 s read "or 0 s", and 0 means none."""
    return f"{limit:.0f}" if limit >= 1 else f"{limit:.2g}"


def run_training(
    variant: Any, epochs: Any, budget: Any, batch_size: Any, lr: Any, session_models: dict | None,
    *, seed: Any = DEFAULT_SEED, session_dir: str | os.PathLike | None = None, data: TrainingData | None = None,
    line: TrainingLine | None = None, session: str | None = None,
) -> Iterator[TrainView]:
    """Train one model, yielding a TrainView after each piece of news (throttled); the last one has the result.

    Bad settings give a single view with the message, and nothing else happens. `seed` fixes the initial weights,
    the batches' order and the model's noise: on the CPU the same settings and seed train the same model, step for
    step. `session_dir` holds the visitor's runs and stop flag (a new temp folder when None); `data` replaces
    `training_data()`. With a `line`, the run of `session` first waits its turn there (a view every WAIT_POLL_S
    seconds), and ends untrained if the line refuses it or Stop cancels it meanwhile.
    """
    models = dict(session_models or {})
    try:
        s = parse_settings(variant, epochs, budget, batch_size, lr, seed)
        place = line.join(session) if line is not None else None
    except (SettingsError, LineRefused) as e:  # nothing written
        if line is not None:  # a Stop pressed now must not say it cancelled this run
            line.forget(session)
        yield TrainView(f"**Not trained:** {e}", models=models, error=str(e))
        return
    try:
        while place is not None and (ahead := line.wait(place, WAIT_POLL_S)):
            yield TrainView(f"**Waiting for its turn:** {_count(ahead, 'run')} ahead of yours; "
                            f"press **Stop** to cancel it.", models=models, waiting=True)
        if place is not None and place.cancelled:
            yield TrainView("**Not trained:** you pressed Stop while this run waited for its turn.", models=models)
            return
        yield from _run_in_turn(s, models, session_dir, data, line, place)
    finally:
        if place is not None:  # however it ended, the visitor's page closed included: the next run's turn
            line.leave(place)


def _run_in_turn(
    s: TrainSettings, models: dict, session_dir: str | os.PathLike | None, data: TrainingData | None,
    line: TrainingLine | None, place: Place | None,
) -> Iterator[TrainView]:
    """run_training's body once the run's turn has come: publish its stop flag, then train."""
    folder = Path(session_dir) if session_dir is not None else Path(tempfile.mkdtemp(prefix="aedemo-train-"))
    folder.mkdir(parents=True, exist_ok=True)
    # Each run has its own stop flag: a cancelled run's thread stops at its next step, even when the next run
    # of the session starts before that (a flag they shared was cleared by the new run, and both trained on).
    stop = StopFlag(folder / f"stop-{uuid.uuid4().hex}")
    running = folder / RUNNING
    pending = running.with_name(f".{stop.path.name}")
    pending.write_text(stop.path.name)
    # Published before the run counts as started in the line: once it has started a Stop finds this run's flag, and
    # before that cancels it in the line. (The other way round, a Stop landing between the two found neither.)
    pending.replace(running)  # whole or not at all, for request_stop reading it
    try:
        if place is not None and not line.start(place):
            stop.path.unlink(missing_ok=True)  # no worker will come to it
            yield TrainView("**Not trained:** you pressed Stop while this run waited for its turn.", models=models)
            return
        sweep_sessions()
        yield from _train_and_report(s, models, folder, stop, data)
    finally:
        # not the flag: a page closed mid-run has just set it, for the worker to stop at its next step
        _drop_marker(folder, stop)
        return_freed_memory()  # glibc keeps a run's freed buffers otherwise: the Space looks ~500 MB fatter


def _drop_marker(folder: Path, stop: StopFlag) -> None:
    """Take down the session's marker, when it is still this run's: a Stop pressed from now on finds nothing."""
    try:
        if (folder / RUNNING).read_text() == stop.path.name:
            (folder / RUNNING).unlink()
    except OSError:
        pass


def _training_over(folder: Path, stop: StopFlag) -> None:
    """The worker has finished: while the model is evaluated and saved a Stop finds nothing training (it used to say
    "Stopping…" above a run then reported finished, and leave its flag file behind)."""
    _drop_marker(folder, stop)
    stop.clear()  # a Stop that came between the worker's end and the line above


def _train_and_report(
    s: TrainSettings, models: dict, folder: Path, stop: StopFlag, data: TrainingData | None
) -> Iterator[TrainView]:
    """run_training's body, once the settings are valid: the worker's news turned into views."""
    title = display_name(s.variant)
    yield TrainView(f"Preparing to train **{title}**…", models=models)

    data = data or worker.training_data()
    view = TrainView("", models=models)
    points: list[tuple[float, float, str]] = []
    limit = s.budget or worker.CPU_MAX_SECONDS
    last_sent = 0.0

    def snapshot() -> TrainView:
        # The curve appears once it has both series: Gradio 6.31's LinePlot keeps the colour legend of the
        # first data it gets (a series that is missing then is never drawn), so the untrained model's
        # train and test losses at epoch 0 come first.
        curve = pd.DataFrame(points, columns=["epoch", "loss", "curve"])
        if curve["epoch"].nunique() < 2:  # one x value is a degenerate axis; PCA's one fit never gets a second
            curve = curve.iloc[:0]
        return replace(view, loss=curve, models=dict(view.models))

    settings = {"variant": s.variant, "epochs": s.epochs, "budget": s.budget, "batch_size": s.batch_size, "lr": s.lr,
                "seed": s.seed}
    cap = math.inf  # the Space's limit on a run, as the worker says at its start
    news = worker.train_in_background(settings, str(stop.path), data)
    try:
        for kind, payload in news:
            if kind == "start":
                cap = payload["cap"]
                limit = min(s.budget or cap, cap)
                where = _device_words(payload["device"])
                where += f" ({_count(worker.CPU_THREADS, 'thread')})" if where == "the CPU" else ""
                facts = [f"on {where}",
                         f"until {_count(s.epochs, 'epoch')} or {_seconds(limit)} s, whichever comes first"]
                if s.budget is None or s.budget > payload["cap"]:
                    facts.append(f"runs are capped at {payload['cap']:.0f} s on this Space")
                view.status = f"Training **{title}** " + "; ".join(facts + payload["notices"]) + "."
                # the previous run's digits (another model's, perhaps) stayed up until this run's first epoch ended
                view.grid, view.grid_version = None, view.grid_version + 1
                if not AUTOENCODERS[s.variant].trainable:
                    view.status = f"**{title}** is {CLOSED_FORM}. " + " ".join(payload["notices"])
            elif kind == "initial":
                points += [(0.0, payload["train"], "train"), (0.0, payload["test"], "test")]
                if payload.get("test_penalty") is not None:  # the trade-off of its two terms, as it trains
                    points.append((0.0, payload["test_penalty"], PENALTY_CURVE))
            elif kind == "step":
                points.append((payload["epoch"], payload["loss"], "train"))
                view.progress = min(1.0, max(payload["epoch"] / s.epochs, payload["seconds"] / limit))
                view.status = (f"Training **{title}**: epoch {payload['epoch']:.2f} of {s.epochs}, "
                               f"{payload['seconds']:.0f} s, train loss {payload['loss']:.1f}")
            elif kind == "test":
                points.append((payload["epoch"], payload["loss"], "test"))
                if payload.get("penalty") is not None:
                    points.append((payload["epoch"], payload["penalty"], PENALTY_CURVE))
            elif kind == "epoch":
                view.grid, view.grid_version = payload["grid"], view.grid_version + 1
                if AUTOENCODERS[s.variant].trainable:  # a fit has no epochs: the start's status still holds
                    view.progress = min(1.0, max(payload["at"] / s.epochs, payload["seconds"] / limit))
                    # a stop ends an epoch early: it reports where it got to, not the epoch as done
                    done = (f"epoch {payload['epoch']} of {s.epochs} done"
                            if payload["at"] >= payload["epoch"] - 1e-9
                            else f"stopping at epoch {payload['at']:.2f} of {s.epochs}")
                    view.status = (f"Training **{title}**: {done}, {payload['seconds']:.0f} s, "
                                   f"test loss {payload['test']['loss']:.1f}")
            elif kind == "error":
                _training_over(folder, stop)
                view.status, view.error = f"**Not trained:** {payload['message']}", payload["message"]
            elif kind == "done":
                _training_over(folder, stop)
                name = run_name(s.variant, models)
                view.status = f"Evaluating and saving **{name}**…"
                yield snapshot()
                model = build_model(**payload["config"])
                model.load_state_dict(payload["state_dict"])
                models[name] = model.eval()
                keep_trained(model)
                view.checkpoint, view.download, saved = _keep_files(model, folder, name, payload, data)
                view.models, view.progress = dict(models), 1.0
                # a run stopped mid-epoch says how far it got: its last, partial epoch counts as one in the history
                ended, trained = (
                    ("stopped" if payload.get("stopped_by") == "stop" else "stopped at the time limit",
                     f"{payload['epochs']:.2f} of {_count(s.epochs, 'epoch')}") if payload["stopped"]
                    else ("finished", _count(len(payload["history"]), "epoch"))
                )
                test = payload["history"][-1]["test"]["loss"] if payload["history"] else float("nan")
                clock = None if payload.get("stopped_by") != "time" else (
                    "budget" if s.budget is not None and s.budget <= cap else "cap")
                how = f"{ended}: {trained}, {payload['seconds']:.0f} s of training"
                if round(payload["elapsed"]) > round(payload["seconds"]):  # the live status counted these too
                    how += f" ({payload['elapsed']:.0f} s with the test evaluations)"
                if not model.trainable:
                    how = f"{CLOSED_FORM}; it took {payload['seconds']:.0f} s"
                # what the loss is and the digits it was measured on: the Draw tab gives MSE per pixel (0.02 where
                # this says 124), and a student could not connect the two
                on_test = (f"its test loss, {loss_title(s.variant)}, is {test:.1f} on "
                           f"{len(worker.test_subset(data)[0]):,} test digits")
                view.status = (
                    f"**{name}** {how} on {_device_words(payload['device'])}; {on_test}. It is now in "
                    f"the other tabs' model lists (for this browser session only); {saved}."
                    + (f"\n\n*{collapse_note(s.lr, clock)}*" if collapsed(model, data) else "")
                    + (f"\n\n*Note:* {data.notice}" if data.notice else "")
                )
            now = time.perf_counter()
            if kind in ("epoch", "done", "error", "start") or now - last_sent >= UPDATE_EVERY_S:
                last_sent = now
                yield snapshot()
    finally:  # close the worker now (that stops its thread), not whenever it is garbage-collected
        news.close()
    if view.error is None and view.progress < 1.0:  # no "done" and no "error": should not happen, but say so
        view.status = view.error = "Training ended without a model."
        yield snapshot()


def collapse_note(lr: float, stopped_by: str | None = None) -> str:
    """What a collapsed model's status adds: the likely cause for the learning rate it was trained at and for what
    ended the run. (At 1e-3 or below, a short run leaves a model still drawing its average digit: "learning rate too
    high?" misled there, and "train it for more epochs" did after a run the clock stopped.)

    `stopped_by`: "budget" (the visitor's time budget), "cap" (the Space's limit on a run) or None (its epochs, or
    Stop)."""
    if lr > 1e-3:
        why = f"learning rate too high? {lr:g} is above 1e-3, a good start"
    elif stopped_by == "budget":
        why = "it has not learned the digits apart yet: give it a longer Time budget (0 for none)"
    elif stopped_by == "cap":
        why = ("it has not learned the digits apart yet, and runs here stop at the Space's time limit: a smaller "
               "batch size takes more steps in that time")
    else:
        why = "it has not learned the digits apart yet: train it for more epochs"
    return f"All ten reconstructions look alike: the model draws an average digit whatever it is given ({why})."


@torch.no_grad()
def collapsed(model: Autoencoder, data: worker.TrainingData) -> bool:
    """Whether the model draws one digit whatever it is given, as a learning rate near 1 leaves it while the loss
    still reads as a number: its reconstructions of a test digit of each class hardly differ pixel by pixel."""
    picks = one_per_class(data.y_test)
    x, y = to_float(data.x_test[picks]), data.y_test[picks]
    out = model.reconstruct(x.to(model.device), y.to(model.device) if model.conditional else None)
    return float(out.std(0).mean()) < COLLAPSE_SPREAD


COLLAPSE_SPREAD = 0.02  # mean per-pixel std across the ten; the shipped models' is ~0.3


# --- Hub push ------------------------------------------------------------------------------------------------

def push_to_hub(repo_id: str, token: str, private: bool, checkpoint: str | None) -> str:
    """Push this session's latest trained model to `repo_id` with the visitor's token; return a message.

    The token serves this one call: it is never stored, logged or shown (error text is scrubbed of it). An
    empty token is refused rather than letting huggingface_hub fall back to the Space's own credentials.
    """
    from ..hub import HubError, check_repo_id, push_checkpoint, scrub_token

    # the Textbox sends text; a direct call may send anything, which gets the same messages as bad text
    repo_id = repo_id.strip() if isinstance(repo_id, str) else repo_id or ""
    token = token.strip() if isinstance(token, str) else ""
    if not isinstance(checkpoint, str | os.PathLike) or not checkpoint:
        return "**Not pushed:** train a model first; the push sends the latest model trained in this session."
    if not Path(checkpoint).is_dir():
        return (f"**Not pushed:** the files of this session's latest model were cleared to make room (the Space "
                f"keeps those of the {MAX_SESSION_FOLDERS} sessions that trained last); train it again to push it.")
    with contextlib.suppress(OSError):  # the session's folder counts as its newest, so no sweep clears it meanwhile
        os.utime(Path(checkpoint).parent)
    if not repo_id:
        return "**Not pushed:** enter a repository id, `your-name/model-name` (it is created if it does not exist)."
    # not echoed: a secret, pasted bare or with a "/" beside it ("hf_…/", "me/hf_…"); a repo's own name may start with
    # "hf_", but not with the 34 letters and digits of a token after it
    if isinstance(repo_id, str) and (repo_id.startswith("hf_") and "/" not in repo_id
                                     or re.search(r"hf_[A-Za-z0-9]{30,}", repo_id)):
        return ("**Not pushed:** that looks like an access token: it goes in the token box, and the repository id, "
                "`your-name/model-name`, here.")
    try:
        check_repo_id(repo_id)
    except HubError:
        return f"**Not pushed:** the repository id must look like `your-name/model-name`, not `{str(repo_id)[:100]}`."
    if not token:
        return ("**Not pushed:** paste a Hugging Face access token with write permission "
                "(huggingface.co/settings/tokens).")
    try:
        url = push_checkpoint(checkpoint, repo_id, token=token, private=bool(private))
    except Exception as e:  # HubError, or anything unexpected: a message, never a traceback or the token
        return f"**Not pushed:** {scrub_token(str(e), token).removeprefix('not pushed: ')}"
    return f"**Pushed** to [{repo_id}](https://huggingface.co/{repo_id}): {url}"


# --- the UI --------------------------------------------------------------------------------------------------

def _train_handler(variant, epochs, budget, batch_size, lr, seed, models, request: gr.Request,
                   progress=gr.Progress()):  # noqa: B008 (Gradio finds the progress tracker by this default)
    """Train a model from scratch, streaming the run's status, loss curve and pictures as it goes.

    API inputs: `variant` ("ae", "vae", ...), `epochs` (1-50), `budget` (seconds; 0 = none), `batch_size`
    (1-4096), `lr` (e.g. 1e-3), `seed` (integer, 0 to 2**32 - 1; gradio_client fills in the field's 0 when left out).
    The last of the streamed results has the status line ("**Not trained:** ..." and why, for bad settings), the
    loss curve (a Gradio update holding its table), the last epoch's picture (test digits, their reconstructions
    and, for a generative model, samples) and the checkpoint (.zip: model.safetensors, config.json,
    metrics.json). While other runs train first, the streamed status says "**Waiting for its turn:** ..."; a second
    run from the same session, or a ninth waiting, is refused before it starts.
    """
    session = request.session_hash if request else None
    folder = str(session_folder(session))
    sent_grid = 0
    for view in run_training(variant, epochs, budget, batch_size, lr, models, seed=seed, session_dir=folder,
                             line=LINE, session=session):
        if view.error:
            gr.Warning(view.error)
        progress(view.progress, desc="waiting for its turn" if view.waiting else "training")
        # the picture only when it is new, and again with the checkpoint: a caller that reads only the run's
        # last result (gradio_client's predict) gets it there
        new_grid, sent_grid = view.grid_version != sent_grid, view.grid_version
        yield (
            view.status, _curve_update(view.loss, variant),
            view.grid if new_grid or (view.download and view.grid is not None) else gr.skip(),
            view.models, folder, view.checkpoint or gr.skip(),
            view.download or gr.skip(),  # a file, not an update: gradio_client fetches it (the step after shows it)
            # the push sends the model just trained: suggest a repository named after it, and drop the message
            # of an earlier push (or of one refused for want of a model)
            gr.Textbox(placeholder=f"your-name/aedemo-{variant}") if view.checkpoint else gr.skip(),
            "" if view.checkpoint else gr.skip(),
            _penalty_update(view.loss, variant),
        )


def _curve_update(curve: pd.DataFrame | None, variant: str) -> Any:
    """The loss plot for a view: its title says what this model's loss is (the variant is valid once a curve
    exists: refused settings leave the plot alone); an empty frame clears the previous run's curve."""
    if curve is None:
        return gr.skip()
    # the penalty on its own axis: a VAE's KL, ~20 nats, ran flat along the foot of this one
    curve = curve[curve["curve"] != PENALTY_CURVE]
    if curve.empty:  # PCA's fit draws no curve: no empty frame for the whole of its run either
        return gr.LinePlot(value=None, visible=AUTOENCODERS[variant].trainable)
    return gr.LinePlot(value=curve, visible=True, y_title=loss_title(variant), y_lim=[None, loss_axis_top(curve)])


def _penalty_update(curve: pd.DataFrame | None, variant: str) -> Any:
    """The penalty plot for a view: shown, named after the model's penalty, once the curve carries two of its
    points (as the loss plot waits for two epochs' worth: one point drew an empty frame with one tick, the whole of a
    short run); hidden for a model without one."""
    if curve is None:
        return gr.skip()
    penalty = curve[curve["curve"] == PENALTY_CURVE]
    if penalty["epoch"].nunique() < 2:
        return gr.LinePlot(value=None, visible=False)
    named = AUTOENCODERS[variant].penalty
    return gr.LinePlot(value=penalty, visible=True, label=named.label, y_title=named.axis)


LINE = TrainingLine()  # the Space's one line of runs: one trains at a time, on whichever device


def _why_not_admitted(request: gr.Request | None) -> str | None:
    """Why the line would refuse a run of the request's session now (None: it would take it)."""
    return LINE.why_refused(request.session_hash if request else None)


def _admit_handler(variant, epochs, budget, batch_size, lr, seed, models, request: gr.Request) -> tuple:
    """The /train event's validator: Gradio runs it before starting the run, with the run's inputs, and takes a
    verdict on each (None: no objection). A refusal is set on the Model field; gradio_client raises it as a
    ValidationError (a gr.Error raised here reached a client as a bare HTTP 400).

    An admitted run is on its way to the line from here: an API call, which has no Train press, sent /stop_training
    at once and the Stop found nothing, while the run trained to its end."""
    why = _why_not_admitted(request)
    if why is None:
        LINE.expect(request.session_hash if request else None)
    return (None if why is None else gr.validate(False, why), *[None] * 6)


def _press_train(request: gr.Request) -> tuple:
    """The Train button's first step: a run the line will not take is refused here, in a toast (the validator's
    refusal showed clipped over the Model field and left the button greyed out); otherwise Train greys out until the
    run ends, an earlier push's message goes (it spoke of another model), the run's progress box shows, and the
    previous run's download hides (beside a new run it read as that run's checkpoint)."""
    why = _why_not_admitted(request)
    if why:
        raise gr.Error(why)
    LINE.expect(request.session_hash if request else None)  # a Stop before the run reaches the line cancels it
    return gr.Button(interactive=False), "", gr.HTML(visible=True), gr.DownloadButton(visible=False)


def _run_ended(zipped: str | None) -> tuple:
    """After a run, however it ended: Train is enabled again, the progress box goes, and the download shows if
    there is a checkpoint (this run's, or the previous run's when this one kept none)."""
    return gr.Button(interactive=True), gr.HTML(visible=False), gr.DownloadButton(visible=zipped is not None)


def _stop_handler(request: gr.Request) -> None:
    """Stop this session's run (an API caller's: the one its Client started with /train) at its next step; the model
    is kept as trained so far and its checkpoint comes as the run's last result. A run still waiting for its turn ends
    at once, untrained. The answer is a Gradio info message; there are no outputs."""
    session = request.session_hash if request else None
    # a few seconds, not Gradio's ten: the run's end comes in the status line, which the note covered on a laptop
    gr.Info(stop_runs(LINE, session, session_folder(session)), duration=4)


def _push_handler(repo_id: str, token: str, private: bool, checkpoint: str | None) -> tuple[str, str]:
    """Push the model this session trained last (an API caller's: its Client's last /train) to the Hugging Face Hub.

    API inputs: `repo_id` ("your-name/aedemo-vae"; created if missing), `token` (a token with write access: used for
    this push only, never stored or logged), `private` (create the repository private). Returns the push status
    ("**Pushed** to ..." with the URL, or "**Not pushed:** ..." and why) and the token field, emptied.
    """
    return push_to_hub(repo_id, token, private, checkpoint), ""  # and the token field is emptied


def _remove_folder(folder: str | None) -> None:
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def build_train_tab(session_models: gr.State) -> None:
    """The tab's components and events, built inside the caller's `with gr.Tab("Train"):`.

    `session_models` is the gr.State (name -> model) of this browser session; each finished run adds to it.
    Unlike the other tabs it takes no model store: training starts from scratch and loads its own data.
    """
    gr.Markdown(HELP)
    with gr.Row():
        with gr.Column(scale=1, min_width=260, elem_id="train-settings"):
            first_variant, first_epochs = worker.default_run()
            variant = gr.Dropdown([(display_name(v), v) for v in VARIANTS], value=first_variant, label="Model",
                                  elem_id="train-variant")
            epochs = gr.Slider(1, MAX_EPOCHS, value=first_epochs, step=1, label="Epochs",
                               info=epochs_info(first_variant))
            # parse_settings checks every field (the event runs with preprocess=False): its messages name the
            # field, Gradio's range check's did not. The Seed's minimum / maximum only guide the browser.
            # No budget at first: a run with one keeps a constant learning rate (it cannot know its length), and
            # the default run ends well before the Space's cap
            budget = gr.Number(value=0, label="Time budget (seconds, 0 = none)",
                               info=f"0: no budget of your own; without a GPU every run still stops at "
                                    f"{worker.CPU_MAX_SECONDS:.0f} s.")
            batch_size = gr.Number(value=128, precision=0, label="Batch size")
            lr = gr.Number(value=1e-3, label="Learning rate")
            seed = gr.Number(value=DEFAULT_SEED, precision=0, label="Seed", minimum=0, maximum=MAX_UI_SEED,
                             info="The same settings and seed give the same run on the CPU, unless a time limit "
                                  "stops it: where the clock stops a run varies.")
            with gr.Row():
                train_btn = gr.Button("Train", variant="primary", elem_id="train-button")
                stop_btn = gr.Button("Stop", variant="stop", elem_id="train-stop")
        with gr.Column(scale=3):
            # Gradio's progress (a bar, "waiting for its turn" while a run waits) in a box of its own, shown from the
            # press to the run's end: drawn over the status, it covered the line it was reporting, and faded it
            progress_box = gr.HTML("", visible=False, padding=False, elem_id="train-progress")  # sized in ui.CSS
            status = gr.Markdown("Choose a model and the settings, then press **Train**.", label="Status",
                                 elem_id="train-status")
            # the run's last status, read out by a screen reader (the status line changes at every step, so it is
            # no live region): how the run ended, or why it did not train
            said_at_end = gr.Markdown("", elem_classes=["status-line", "unseen"], elem_id="train-said-at-end")
            # no fixed height: with one, the plot clipped its legend, which sits below the axes
            # what the curves are goes in the label: a long title squeezed the plot to a sliver on a phone
            curve = gr.LinePlot(None, x="epoch", y="loss", color="curve",
                                label="Loss on training batches and on held-out test digits",
                                x_title="epoch", y_title="loss per image", color_title="",
                                color_map=CURVE_COLORS, x_axis_format=EPOCH_TICKS, elem_id="train-curve")
            # a penalty pulls against the reconstruction (a VAE's KL term, say): on an axis of its own, where it
            # can be read; named for each run after the model's
            penalty_plot = gr.LinePlot(None, x="epoch", y="loss", color="curve", visible=False, x_title="epoch",
                                       label="The penalty term on the test digits", y_title="penalty",
                                       color_title="", color_map={PENALTY_CURVE: PENALTY_COLOR},
                                       x_axis_format=EPOCH_TICKS)
            # captioned above, not by Gradio's label, which sat over the first digits (and its buttons over the last)
            gr.Markdown("After each epoch, rows from the top: **ten test digits**, **their reconstructions** and, "
                        "for the generative models, **samples from the prior** (the same draws every epoch, so you "
                        "see them sharpen):")
            grid = gr.Image(label="Test digits, their reconstructions and samples", buttons=[], format="png",
                            type="numpy", interactive=False, elem_id="train-grid",
                            elem_classes=[UNSEEN_LABEL])
    with gr.Accordion("Keep your model: download it, or push it to the Hub", open=True):
        download = gr.DownloadButton("Download the checkpoint (.zip: model.safetensors, config.json, metrics.json)",
                                     visible=False, elem_id="train-download")
        with gr.Row(elem_id="train-push-row"):  # on a phone, one field a line (ui.CSS)
            repo_id = gr.Textbox(label="Repository id", placeholder=f"your-name/aedemo-{first_variant}")
            token = gr.Textbox(label="Hugging Face token (write access)", type="password", placeholder="hf_…",
                               info="Used for this push only: never stored or logged.")
            private = gr.Checkbox(label="Private repository", value=False)
        push_btn = gr.Button("Push to the Hub")
        push_status = gr.Markdown(label="Push status", elem_classes=["status-line"], elem_id="train-push-status")

    sweep_sessions()  # what an earlier server left
    session_dir = gr.State(None, delete_callback=_remove_folder, time_to_live=SESSION_TTL_SECONDS)
    checkpoint = gr.State(None, time_to_live=SESSION_TTL_SECONDS)  # its folder goes with session_dir's
    # Train is greyed out from the press until the run ends, queued, trained or failed: a second press used to be
    # ignored without a word
    # (queued, though it waits for nothing: a refusal raised outside the queue showed no message)
    run = train_btn.click(_press_train, None, [train_btn, push_status, progress_box, download], concurrency_limit=None,
                          show_progress="hidden", api_visibility="private").then(
        _train_handler, [variant, epochs, budget, batch_size, lr, seed, session_models],
        [status, curve, grid, session_models, session_dir, checkpoint, download, repo_id, push_status, penalty_plot],
        # no concurrency limit: the runs wait their turn in LINE, which Stop reaches (Gradio's queue it could not)
        api_name="train", concurrency_limit=None, show_progress_on=[progress_box],
        validator=_admit_handler,
        # parse_settings checks every value and names the field; Gradio's preprocessing rounded a seed or batch
        # size of 2.5 without a word and answered text in a number field with its own error
        preprocess=False,
    )
    # on a phone the status and the curve sit below the form, off screen: pressing Train seemed to change nothing
    train_btn.click(None, js=TRAIN_PRESSED_JS, queue=False, api_visibility="private")
    # .then follows a success only; .failure the rest (an exception, a full queue), or the button stayed grey
    for follow in (run.then, run.failure):
        follow(_run_ended, download, [train_btn, progress_box, download], queue=False, show_progress="hidden",
               api_visibility="private")
    run.then(lambda said: said, status, said_at_end, queue=False, show_progress="hidden", api_visibility="private")
    variant.change(settings_look, variant, [epochs, batch_size, lr], queue=False, show_progress="hidden",
                   api_visibility="private")
    stop_btn.click(_stop_handler, None, None, api_name="stop_training", concurrency_limit=None)
    # Enter in either box pushes, as a form's fields submit it: a keyboard user had to Tab on to the button
    gr.on([push_btn.click, repo_id.submit, token.submit], _push_handler, [repo_id, token, private, checkpoint],
          [push_status, token], api_name="push_to_hub", concurrency_limit=2)
