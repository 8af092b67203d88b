"""Training for the Train tab, in the background: the core trainer in a thread that reports through a queue.

`train_in_background(settings, stop_path, data)` yields (kind, payload) news while it trains, so the tab can stream
a loss curve, a sample / reconstruction grid and a progress bar. Wherever the `spaces` package is importable (every
Space has it) it runs inside `spaces.GPU`, which lends a GPU on a ZeroGPU Space and does nothing elsewhere;
everything it yields is plain data (floats, arrays, a CPU state dict) so
that it can cross that process boundary, and Stop is a file flag for the same reason (one per run: `stop_path`).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..allocator import return_freed_memory
from ..data import DataError, DataNotFoundError, load_mnist, one_per_class, to_float
from ..devices import resolve_device
from ..evaluate import evaluate_terms
from ..models import AUTOENCODERS, Autoencoder, build_model
from ..models.base import eval_mode
from ..train import EpochInfo, StepInfo, TrainConfig, TrainingDiverged, train, training_record
from .images import grid as image_grid

try:  # on a ZeroGPU Space a GPU is lent to the decorated function for the length of one call
    import spaces
except ImportError:
    spaces = None
# Set on ZeroGPU Spaces only: `spaces` is importable on every Space, so it cannot tell them apart.
ZERO_GPU = os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "t", "true")

# Caps that keep a CPU-only Space responsive while someone trains: the other tabs still need a core.
CPU_MAX_SECONDS = 120.0
GPU_MAX_SECONDS = 90.0  # ZeroGPU refuses calls that ask for more than ~120 s to visitors without PRO
CPU_THREADS = max(1, (os.cpu_count() or 2) // 2)
PCA_MAX_SAMPLES = 20_000  # the SVD of all 60k digits in float64 needs ~1 GB; 20k give the same components
INITIAL_LOSS_DIGITS = 500  # the untrained model's train loss (the train curve's first point), on this many
# The test curve: the test loss (on the TEST_DIGITS below) before training and TEST_POINTS_PER_EPOCH times an
# epoch, the last at its end; those within an epoch only while they cost under PROBE_SHARE of the training time
# (a conv VAE on one CPU thread takes ~1.5 s per point). Without points inside an epoch, a run shorter than one
# would show its test loss as a straight line down from the untrained model's.
TEST_POINTS_PER_EPOCH = 5
PROBE_SHARE = 0.05
# The test loss after each epoch and the saved metrics use this many test digits: the whole 10k set costs a
# conv AE ~10 s of CPU at the end of a run, and memory in proportion; 2,000 give the same figures to ~1 %.
TEST_DIGITS = 2000
POINTS_PER_EPOCH = 25  # loss-curve resolution: step losses are averaged over windows this long
# ...or over this many seconds, whichever ends first: with small batches a window of steps takes long to fill (at
# batch size 1 it is 2,400 steps, and a short run showed no train curve at all)
SECONDS_PER_POINT = 1.0
# A cancelled run's thread stops at its next step, then finishes that epoch's evaluation: the next run waits for it
# (up to this long), or cancelled runs queued one after another trained side by side (RSS 1.96 GB, 40 runs cancelled)
PREVIOUS_RUN_WAIT_SECONDS = 30.0
_last_run: threading.Thread | None = None
GRID_SCALE = 3


def gpu_expected() -> bool:
    """Whether runs will train on a GPU: this process has one, or it is a ZeroGPU Space, which lends one per run."""
    return ZERO_GPU or resolve_device("auto").type != "cpu"


def default_run() -> tuple[str, int]:
    """The Train tab's first model and number of epochs. A first run should end "finished", well inside the cap:
    one cut short by the cap never gets to the low end of its cosine learning-rate decay. On a 2-core CPU Space
    (training gets one thread) an epoch of the 60k digits takes the MLP AE ~5 s and the conv VAE ~80 s, so the
    VAE's 3 epochs under the old default budget of 60 s stopped at 0.78 of an epoch, every student's first run. A
    GPU trains the VAE in seconds an epoch (an H200: 3.2 s, the whole first run 17 s), and its prior samples are
    the grid's third row."""
    return ("vae", 5) if gpu_expected() else ("ae", 3)


# --- data ----------------------------------------------------------------------------------------------------

@dataclass
class TrainingData:
    x_train: torch.Tensor  # uint8 [N,28,28]
    y_train: torch.Tensor  # int64 [N]
    x_test: torch.Tensor
    y_test: torch.Tensor
    notice: str | None = None  # shown in the UI when this is not the real MNIST train / test split


_data_cache: TrainingData | None = None
_data_lock = threading.Lock()


def training_data() -> TrainingData:
    """MNIST for training, loaded once per process. Offline, falls back to the bundled test set, with a notice."""
    global _data_cache
    with _data_lock:
        if _data_cache is None:
            x_test, y_test = load_mnist("test")
            try:
                _data_cache = TrainingData(*load_mnist("train"), x_test, y_test)
            except (DataNotFoundError, DataError) as e:
                why = "could not be downloaded (offline?)" if isinstance(e, DataNotFoundError) else f"is damaged ({e})"
                # 9,000 of the bundled test digits to train on, 1,000 unseen ones so the test loss stays honest
                _data_cache = TrainingData(
                    x_test[:9000], y_test[:9000], x_test[9000:], y_test[9000:],
                    notice=f"MNIST's training split {why}, so this Space trains on 9,000 digits of the bundled "
                    "test set and measures the test loss on the other 1,000.",
                )
            return_freed_memory()  # the decompression buffers: ~100 MB the process would otherwise keep
    return _data_cache


def test_subset(data: TrainingData) -> tuple[torch.Tensor, torch.Tensor]:
    """About TEST_DIGITS test digits spread over the whole set (MNIST's first 5,000 test digits are the neater)."""
    step = max(1, len(data.x_test) // TEST_DIGITS)
    return data.x_test[::step], data.y_test[::step]


# --- stopping ------------------------------------------------------------------------------------------------

class StopFlag:
    """A stop request as a file: seen by a worker in another process (ZeroGPU) as well as in this one."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def set(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def is_set(self) -> bool:
        return self.path.exists()


# --- the worker: trains, and reports plain data ------------------------------------------------------------

def preview_grid(model: Autoencoder, digits: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """uint8 picture: the digits, their reconstructions and (generative models) prior samples, a row each."""
    x, y = digits.to(model.device), labels.to(model.device)
    with eval_mode(model), torch.no_grad():
        cond = y if model.conditional else None
        rows = [x, model.reconstruct(x, cond)]
        if model.generative:  # the same draws every epoch, so the samples visibly sharpen as it learns
            rows.append(model.sample(len(x), cond, generator=torch.Generator().manual_seed(0)))
    return image_grid(torch.cat(rows).float().cpu(), ncol=len(x), scale=GRID_SCALE)


def penalty_of(variant: str, terms: dict[str, float]) -> float | None:
    """The variant's penalty term among its evaluated loss terms (see Autoencoder.penalty), or None."""
    penalty = AUTOENCODERS[variant].penalty
    return terms.get(penalty.key) if penalty else None


def _initial_losses(
    config: TrainConfig, data: TrainingData, probe: tuple[torch.Tensor, torch.Tensor], device: str
) -> dict[str, float]:
    """Loss of the untrained model (built exactly as train() will build it) on some train digits and the test
    digits of the test curve, and the test digits' penalty term (None for a model without one)."""
    torch.manual_seed(config.seed)
    model = build_model(config.variant, **config.model_config).to(device)
    n = INITIAL_LOSS_DIGITS
    test = evaluate_terms(model, *probe)  # uint8 images, as train() takes them
    return {
        "train": evaluate_terms(model, data.x_train[:n].to(device), data.y_train[:n].to(device))["loss"],
        "test": test["loss"], "test_penalty": penalty_of(config.variant, test),
    }


def _train_worker(settings: dict, stop_path: str, data: TrainingData | None = None) -> Iterator[tuple[str, dict]]:
    """Train with the core trainer in a thread; yield (kind, payload) news, kind one of
    start, initial, step, test, epoch, done, error."""
    global _last_run
    # not on Gradio's event loop: a generator's steps run in a worker thread. (Under ZeroGPU each run has a process
    # of its own, and this finds no thread.)
    if _last_run is not None:
        _last_run.join(PREVIOUS_RUN_WAIT_SECONDS)
    data = data or training_data()
    device = resolve_device("auto").type  # a CUDA GPU (ZeroGPU's, lent for this call), else an Apple GPU
    cap = CPU_MAX_SECONDS if device == "cpu" else GPU_MAX_SECONDS
    stop = StopFlag(stop_path)
    notices = [data.notice] if data.notice else []
    x_train, y_train = data.x_train, data.y_train
    x_test, y_test = test_subset(data)
    if settings["variant"] == "pca" and len(x_train) > PCA_MAX_SAMPLES:
        x_train, y_train = x_train[:PCA_MAX_SAMPLES], y_train[:PCA_MAX_SAMPLES]
        notices.append(f"PCA is fitted on the first {PCA_MAX_SAMPLES:,} training digits (memory).")
    config = TrainConfig(
        variant=settings["variant"], epochs=settings["epochs"], batch_size=settings["batch_size"],
        lr=settings["lr"], device=device, time_budget=settings["budget"], seed=settings["seed"],
    )
    picks = one_per_class(y_test)
    digits, labels = to_float(x_test[picks]), y_test[picks]
    probe = (x_test.to(device), y_test.to(device))  # the digits of the test loss after each epoch
    news: queue.Queue = queue.Queue()
    started = time.perf_counter()
    window: list[float] = []
    steps_per_epoch = -(-len(x_train) // config.batch_size)
    window_len = max(1, steps_per_epoch // POINTS_PER_EPOCH)
    probe_every = -(-steps_per_epoch // TEST_POINTS_PER_EPOCH)  # the last of them at the epoch's end
    last = {"fraction": 0.0, "probe_seconds": 0.0, "point": started}

    def test_point(model: torch.nn.Module, at: float) -> None:
        begun = time.perf_counter()
        terms = evaluate_terms(model, *probe)  # in eval mode, then back to the mode it was in
        last["probe_seconds"] += time.perf_counter() - begun
        news.put(("test", {"epoch": at, "loss": terms["loss"], "penalty": penalty_of(config.variant, terms)}))

    def should_stop() -> bool:
        # The Space's cap is checked here rather than passed as time_budget, so a run without a budget of its own
        # keeps the cosine schedule.
        return stop.is_set() or time.perf_counter() - started >= cap

    def on_step(info: StepInfo) -> bool:
        loss = info.terms["loss"]
        last["fraction"] = info.epoch_fraction
        window.append(loss)
        now = time.perf_counter()
        if len(window) >= window_len or now - last["point"] >= SECONDS_PER_POINT:
            news.put(("step", {"epoch": info.epoch_fraction, "loss": sum(window) / len(window),
                               "seconds": now - started}))
            window.clear()
            last["point"] = now
        in_epoch = info.step - (info.epoch - 1) * steps_per_epoch  # the epoch's last step gets on_epoch's point
        affordable = last["probe_seconds"] < PROBE_SHARE * (time.perf_counter() - started)
        if in_epoch % probe_every == 0 and in_epoch < steps_per_epoch and affordable:
            test_point(info.model, info.epoch_fraction)
        return should_stop()

    def on_epoch(info: EpochInfo) -> bool:
        at = last["fraction"] if info.model.trainable else 1.0
        news.put(("test", {"epoch": at, "loss": info.test["loss"],  # the trainer's
                           "penalty": penalty_of(config.variant, info.test)}))
        news.put(("epoch", {"epoch": info.epoch, "at": at, "test": info.test,
                            "grid": preview_grid(info.model, digits, labels),
                            "seconds": time.perf_counter() - started}))
        return should_stop()

    def run() -> None:
        threads = torch.get_num_threads()
        # this thread is the run's own and ends with it; set first, so the OpenMP threads it starts copy it
        torch.set_flush_denormal(True)  # (see aedemo.train.flushed_denormals)
        try:
            if device == "cpu":  # leave the other cores to the Space's other tabs
                torch.set_num_threads(CPU_THREADS)
            if AUTOENCODERS[config.variant].trainable and not stop.is_set():  # a fit (PCA) has no curve to start
                news.put(("initial", _initial_losses(config, data, probe, device)))
            result = train(config, on_step=on_step, on_epoch=on_epoch,
                           data=(x_train, y_train, x_test, y_test))
            state = {k: v.to("cpu") for k, v in result.model.state_dict().items()}
            news.put(("done", {
                "config": dict(result.model.config), "state_dict": state, "history": result.history,
                "seconds": result.seconds, "stopped": result.stopped_early, "device": result.device,
                "stopped_by": ("stop" if stop.is_set() else "time") if result.stopped_early else None,
                "epochs": last["fraction"] if result.model.trainable else 1.0,
                "training": training_record(result, config),
                "trained_on": len(x_train),  # PCA's fit takes the first PCA_MAX_SAMPLES of them
                # the run's wall time, its test evaluations included: what the live status counted
                "elapsed": time.perf_counter() - started,
            }))
        except TrainingDiverged:
            news.put(("error", {"message": "Training diverged (the loss became NaN or infinite); "
                                           "try a lower learning rate."}))
        except Exception as e:  # reported to the visitor as a message; the Space keeps serving
            news.put(("error", {"message": f"Training failed: {type(e).__name__}: {e}"}))
        finally:
            torch.set_num_threads(threads)
            stop.clear()  # this run's own flag: nothing reads it any more
            news.put(("end", {}))

    worker = _last_run = threading.Thread(target=run, name="aedemo-train", daemon=True)
    worker.start()
    ended = False
    try:
        yield "start", {"device": device, "cap": cap, "notices": notices}
        while (item := news.get())[0] != "end":
            yield item
        ended = True
        # "end" is the thread's last word: joined, it is gone when the run's news is (a process that exited just
        # then, a benchmark's, met the thread still unwinding and died in "terminate called without an active
        # exception")
        worker.join()
    finally:
        # The consumer went away (the visitor left, the event was cancelled): the thread stops at its next step.
        # Not joined: Gradio closes a cancelled generator on its event loop, which must not wait for a step.
        if not ended:
            stop.set()


def _gpu_duration(settings: dict, stop_path: str, data: TrainingData | None = None) -> int:
    """Seconds of GPU to ask ZeroGPU for: the training time plus evaluation and start-up (a shorter ask queues
    for less time)."""
    return int(min(settings["budget"] or GPU_MAX_SECONDS, GPU_MAX_SECONDS) + 25)


train_in_background: Callable[..., Iterator[tuple[str, dict]]] = (
    spaces.GPU(duration=_gpu_duration)(_train_worker) if spaces is not None else _train_worker
)
