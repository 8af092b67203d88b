"""Seconds per epoch with denormal floats flushed to zero, as the trainer runs, and without.

    python benchmarks/denormals.py [--data-dir DIR] [--variant ae] [--epochs 4] [--threads 1] [--rounds 2]

Adam's running mean of a gradient that stays 0 decays through the denormal range, where an x86 CPU takes a
microcode assist on each multiply; `aedemo.train.flushed_denormals` flushes them while the model trains (see its
docstring). This trains the same run in fresh processes, one as the CLI trains (denormals flushed for the whole
process) and one with the flushing taken out, the two alternating for `--rounds` rounds, and prints each epoch's
seconds. The first epoch has no denormals to flush: the difference shows from the second. `--threads 1` (the
default) trains as the Space's Train tab does on a 2-core CPU. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"flushed (trainer)": "1", "not flushed": "0"}


def child(variant: str, epochs: int, data_dir: str | None, flush: bool) -> list[float]:
    """In this process: train `variant` for `epochs` epochs and return the seconds of each."""
    import torch

    import aedemo.train
    from aedemo.data import DataNotFoundError, load_mnist

    torch.set_flush_denormal(flush)  # before any parallel operation, so OpenMP's threads copy it
    if not flush:
        aedemo.train.flushed_denormals = contextlib.nullcontext  # the trainer as it was before it flushed them
    try:
        data = (*load_mnist("train", data_dir, download=False), *load_mnist("test", data_dir, download=False))
    except DataNotFoundError:  # the bundled 10k test digits stand in for both splits, as the output says
        data = (*load_mnist("test", download=False),) * 2
        print("note: no MNIST training split found; the bundled 10k test digits stand in for it", file=sys.stderr)
    config = aedemo.train.TrainConfig(variant=variant, epochs=epochs, device="cpu")
    return [h["seconds"] for h in aedemo.train.train(config, data=data).history]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="folder holding MNIST/raw (default: $AEDEMO_DATA_DIR, else "
                   "aedemo's download cache; without the training split, the bundled 10k test digits stand in)")
    p.add_argument("--variant", default="ae")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: 1, as the Space trains)")
    p.add_argument("--rounds", type=int, default=2, help="fresh processes per setting, alternating")
    p.add_argument("--child", choices=list(SETTINGS.values()), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(args.variant, args.epochs, args.data_dir, args.child == "1")))
        return

    print(f"{args.variant}, {args.epochs} epochs, {args.threads} torch thread(s), load average "
          f"{os.getloadavg()[0]:.2f}; seconds per epoch:")
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}  # read by torch in every thread it starts
    for _ in range(args.rounds):
        for setting, flag in SETTINGS.items():
            command = [sys.executable, __file__, "--child", flag, "--variant", args.variant,
                       "--epochs", str(args.epochs), *(["--data-dir", args.data_dir] if args.data_dir else [])]
            out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
            seconds = json.loads(out.splitlines()[-1])
            print(f"  {setting:18s} " + " ".join(f"{s:5.2f}" for s in seconds) + f"   total {sum(seconds):6.2f}")
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
