"""Training step time per variant, with glibc's malloc as it comes and as the trainer sets it.

    python benchmarks/train_steps.py [--data-dir DIR] [--variants conv vae] [--steps 30] [--rounds 5]
    python benchmarks/train_steps.py --threads 1 --in-thread     # as the Space's Train tab trains on a CPU

aedemo's trainer calls `aedemo.allocator.keep_freed_memory()` before it trains on the CPU. This times
`model.training_step` at batch 128 in fresh processes, one with glibc's default thresholds and one with the
trainer's, the two alternating for `--rounds` rounds so that a slow spell of a shared machine hits both. The 60k
training digits are loaded as the trainer loads them: where they sit in memory changes what glibc can give back
(with only the bundled 10k test digits, the fallback, the conv AE faulted 1,700 pages a step instead of ~7,700).

Per variant and setting it prints the median step time over the rounds and, per step, the page faults and the
system CPU time: the faults are memory handed back to the OS and faulted in again. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ("glibc default", "kept (trainer)")


def measure(variant: str, keep: bool, steps: int, data_dir: str | None, warmup: int = 5) -> dict[str, float]:
    """In this process: median ms per step, and page faults and system CPU ms per step, after `warmup` steps."""
    import torch

    from aedemo.allocator import keep_freed_memory
    from aedemo.data import DataNotFoundError, batches, load_mnist, to_float
    from aedemo.models import build_model
    from aedemo.train import TrainConfig, float32_matmul_precision

    if keep:
        keep_freed_memory()
    torch.manual_seed(0)
    try:
        x, y = load_mnist("train", data_dir, download=False)
    except DataNotFoundError:
        x, y = load_mnist("test", download=False)
    model = build_model(variant).train()
    optimizers = model.configure_optimizers(1e-3)
    noise = torch.Generator().manual_seed(1)
    times, faults, system = [], [], []
    with float32_matmul_precision(TrainConfig.matmul_precision):  # as the trainer trains, by default
        for i, (xb, yb) in enumerate(batches(x, y, 128, generator=torch.Generator().manual_seed(0))):
            if i == warmup + steps:
                break
            before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            model.training_step(to_float(xb), yb, optimizers, noise)
            seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
            if i >= warmup:
                times.append(seconds * 1e3)
                faults.append(after.ru_minflt - before.ru_minflt)
                system.append((after.ru_stime - before.ru_stime) * 1e3)
    return {"ms": statistics.median(times), "faults": statistics.mean(faults), "system_ms": statistics.mean(system),
            "digits": len(x)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="folder holding MNIST/raw (default: $AEDEMO_DATA_DIR, else "
                   "aedemo's download cache)")
    p.add_argument("--variants", nargs="+", default=["ae", "conv", "vae", "classifier"])
    p.add_argument("--steps", type=int, default=30, help="steps timed per process (after 5 untimed)")
    p.add_argument("--rounds", type=int, default=5, help="fresh processes per variant and setting, alternating")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--in-thread", action="store_true", help="train in a worker thread, as the Space does")
    p.add_argument("--child", nargs=2, metavar=("VARIANT", "KEEP"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        results = []

        def work() -> None:
            results.append(measure(args.child[0], args.child[1] == "1", args.steps, args.data_dir))

        if args.in_thread:  # a thread's allocations come from its own arena, which glibc trims differently
            worker = threading.Thread(target=work)
            worker.start()
            worker.join()
        else:
            work()
        print(json.dumps(results[0]))
        return

    where = "a worker thread" if args.in_thread else "the main thread"
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; batch 128 in {where}, torch threads "
          f"{args.threads or 'default'}, {args.steps} steps x {args.rounds} rounds per setting")
    for variant in args.variants:
        runs: dict[str, list[dict]] = {s: [] for s in SETTINGS}
        for _ in range(args.rounds):
            for keep, setting in enumerate(SETTINGS):
                command = [sys.executable, __file__, "--child", variant, str(keep), "--steps", str(args.steps),
                           *(["--data-dir", args.data_dir] if args.data_dir else [])]
                if args.in_thread:
                    command.append("--in-thread")
                # torch reads OMP_NUM_THREADS in every thread; torch.set_num_threads would reach only the caller's
                env = {**os.environ, **({"OMP_NUM_THREADS": str(args.threads)} if args.threads else {})}
                out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
                runs[setting].append(json.loads(out.splitlines()[-1]))
        digits = runs[SETTINGS[0]][0]["digits"]
        note = "" if digits == 60000 else ", not the 60k training set"
        print(f"  ({variant}: batches drawn from {digits} digits{note})")
        for setting, results in runs.items():
            ms = [r["ms"] for r in results]
            faults = statistics.mean(r["faults"] for r in results)
            system = statistics.mean(r["system_ms"] for r in results)
            print(f"  {variant:11s} {setting:15s} {statistics.median(ms):7.2f} ms/step (rounds: "
                  + " ".join(f"{m:.1f}" for m in ms)
                  + f")   page faults/step {faults:7.0f}   system CPU {system:5.2f} ms/step")
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
