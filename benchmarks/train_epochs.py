"""Seconds per training epoch of every variant on the 60k MNIST digits, on the CPU or a GPU, and the Space's
first Train-tab run (train_worker.default_run) as the Train tab trains it.

    python benchmarks/train_epochs.py --device cuda [--data-dir DIR] [--variants vae conv] [--epochs 2]

Each variant trains as the shipped checkpoints did (its default architecture, batch 128, Adam 1e-3, seed 0) and
prints each epoch's training seconds (the first includes the device's warm-up: cuDNN's autotuning, kernel loads)
and the test loss after the last. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from anywhere, without installing aedemo

from mnist_files import load_splits  # noqa: E402

from aedemo import VARIANTS  # noqa: E402
from aedemo.devices import DeviceError, resolve_device  # noqa: E402
from aedemo.space import train_worker  # noqa: E402
from aedemo.train import TrainConfig, train  # noqa: E402


def train_tab_first_run(data: train_worker.TrainingData) -> str:
    """The Train tab's first run, with the tab's other defaults, timed from the press of Train to its model."""
    variant, epochs = train_worker.default_run()
    settings = {"variant": variant, "epochs": epochs, "budget": None, "batch_size": 128, "lr": 1e-3, "seed": 0}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        news = list(train_worker._train_worker(settings, str(Path(scratch) / "stop"), data))
    elapsed = time.perf_counter() - start
    found = dict(news)
    if "done" not in found:
        return f"{variant}, {epochs} epochs: {found.get('error', found)}"
    done = found["done"]
    how = f"stopped by the {found['start']['cap']:.0f} s cap" if done["stopped"] else "finished"
    return (f"{variant}, {epochs} epochs on {done['device']}: {how} after {done['epochs']:.2f} epochs, "
            f"{done['seconds']:.1f} s training, {elapsed:.1f} s from start to model, "
            f"test loss {done['history'][-1]['test']['loss']:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder holding MNIST/raw (default: $AEDEMO_DATA_DIR, else aedemo's download cache)")
    p.add_argument("--device", default="auto")
    p.add_argument("--variants", nargs="+", default=[*VARIANTS, "classifier"])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--no-train-tab", action="store_true", help="skip the Train tab's first run")
    args = p.parse_args()

    try:  # one line for a device this machine lacks, not a traceback
        device = resolve_device(args.device)
    except DeviceError as e:
        raise SystemExit(f"error: {e}") from None
    data = load_splits(args.data_dir)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{os.cpu_count()} cores"
    print(f"torch {torch.__version__} on {device} ({name}), {len(data[0]):,} training digits, batch "
          f"{args.batch_size}")
    for variant in args.variants:
        config = TrainConfig(variant=variant, epochs=args.epochs, batch_size=args.batch_size, device=str(device),
                             seed=0)
        result = train(config, data=data)
        seconds = " ".join(f"{epoch['seconds']:.2f}" for epoch in result.history)
        print(f"{variant:12s} s per epoch: {seconds:24s} test loss {result.history[-1]['test']['loss']:.3f}")
    if not args.no_train_tab:
        print("Train tab's first run:", train_tab_first_run(train_worker.TrainingData(*data)))


if __name__ == "__main__":
    main()
