"""Training speed: one epoch of the pytorch/examples VAE, trained two ways in the same run.

1. a reference loop written the way pytorch/examples' vae/main.py trains: torchvision's MNIST dataset with
   ToTensor, a shuffling DataLoader, BCE(sum) + KL, Adam 1e-3, batch 128, `.item()` on the loss each step;
2. aedemo's trainer (`aedemo.train.train`) on the same 784-400-20 architecture
   (`build_model("vae", latent_dim=20, hidden=[400], channels=None)`), batch 128, Adam 1e-3, constant rate, with
   its default float32 matmul precision ("medium", see aedemo/train.py: on a CPU with bf16 products its steps run
   under bf16 autocast; `--matmul-precision highest` for torch's default, all in float32).

Both time only the training epoch (dataset construction and aedemo's per-epoch test evaluation excluded) and
print samples/s and the ratio. Run it on a quiet machine (the load average is printed with the figures):

    python benchmarks/train_speed.py [--data-dir DIR] [--repeats 5]

`--device cuda` runs both on a GPU, the reference as pytorch/examples does there (a DataLoader worker, pinned
memory, each batch copied to the GPU).
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from anywhere, without installing aedemo

from mnist_files import load_splits, raw_folder  # noqa: E402

from aedemo.devices import DeviceError, resolve_device  # noqa: E402
from aedemo.train import MATMUL_PRECISIONS, TrainConfig, train  # noqa: E402


class ReferenceVAE(nn.Module):
    """pytorch/examples' VAE: 784-400-(20, 20) encoder, 20-400-784 decoder with a sigmoid output."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc_mu = nn.Linear(400, 20)
        self.fc_logvar = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = F.relu(self.fc1(x.view(-1, 784)))
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def torchvision_root(data_dir: Path, scratch: Path) -> Path:
    """A root torchvision's MNIST accepts: it reads the unpacked files, which its download step would make."""
    raw = data_dir / "MNIST" / "raw"
    if (raw / "train-images-idx3-ubyte").is_file():
        return data_dir
    (scratch / "MNIST" / "raw").mkdir(parents=True, exist_ok=True)
    for gz in raw.glob("*-ubyte.gz"):
        with gzip.open(gz, "rb") as src, open(scratch / "MNIST" / "raw" / gz.stem, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return scratch


@dataclass
class Timing:
    seconds: float  # wall clock of the training steps
    cpu_seconds: float  # process CPU time over the same steps (all threads: meaningful with --threads 1)
    samples: int
    loss: float  # mean train loss per image over the timed steps

    @property
    def rate(self) -> float:
        return self.samples / self.seconds


def reference_epoch(root: Path, batch_size: int, seed: int, max_steps: int | None, device: str = "cpu") -> Timing:
    """The reference loop over one epoch (or its first `max_steps` steps)."""
    from torchvision import datasets, transforms

    torch.manual_seed(seed)
    dataset = datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())
    on_gpu = {"num_workers": 1, "pin_memory": True} if device != "cpu" else {}  # pytorch/examples' settings there
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, **on_gpu)
    model = ReferenceVAE().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    total, samples = 0.0, 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for step, (x, _) in enumerate(loader, 1):
        x = x.to(device)
        optimizer.zero_grad()
        recon, mu, logvar = model(x)
        bce = F.binary_cross_entropy(recon, x.view(-1, 784), reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = bce + kld
        loss.backward()
        total += loss.item()
        optimizer.step()
        samples += x.shape[0]
        if step == max_steps:
            break
    return Timing(time.perf_counter() - start, time.process_time() - cpu_start, samples, total / samples)


def aedemo_epoch(
    data: tuple[torch.Tensor, ...], batch_size: int, seed: int, max_steps: int | None, matmul_precision: str,
    device: str = "cpu",
) -> Timing:
    """aedemo's trainer over one epoch (or its first `max_steps` steps); its test evaluation is not timed."""
    config = TrainConfig(
        variant="vae", epochs=1, batch_size=batch_size, lr=1e-3, device=device, seed=seed, schedule="constant",
        matmul_precision=matmul_precision,
        model_config={"latent_dim": 20, "hidden": [400], "channels": None},  # MLP, not the conv default
    )
    cpu_marks: list[float] = []
    cpu_start = time.process_time()

    def on_step(info) -> bool:
        cpu_marks.append(time.process_time())
        return info.step == max_steps

    # The CPU clock starts before train() sets up (data to float, model): a few ms against an epoch's seconds.
    result = train(config, data=data, on_step=on_step)
    sizes = [sum(p.numel() for p in m.parameters()) for m in (result.model, ReferenceVAE())]
    assert sizes[0] == sizes[1], f"aedemo's model has {sizes[0]} parameters, the reference {sizes[1]}"
    epoch = result.history[-1]
    samples = min(len(cpu_marks) * batch_size, data[0].shape[0])
    return Timing(result.seconds, cpu_marks[-1] - cpu_start, samples, epoch["train"]["loss"])


def cpu_name() -> str:
    """The CPU's model name, and whether it has AMX (there "medium" multiplies in bf16): runs on different machines
    differ by more than their noise, and platform.processor() is empty on Linux."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    names = [line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")]
    amx = any(line.startswith("flags") and " amx_bf16" in line for line in info.splitlines())
    return f"{names[0] if names else platform.machine()}{', AMX' if amx else ''}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder holding MNIST/raw/*.gz (default: $AEDEMO_DATA_DIR, else aedemo's download cache)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5, help="epochs timed per side, in turns; the fastest counts")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--steps", type=int, default=None, help="time only the first N steps (a quick look)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--matmul-precision", default=TrainConfig.matmul_precision, choices=MATMUL_PRECISIONS,
                   help="aedemo's TrainConfig.matmul_precision (the reference keeps torch's default, highest)")
    p.add_argument("--device", default="cpu", help="where both train: cpu, or cuda / cuda:N for a GPU (auto: the GPU "
                   "there is)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    try:  # one line for a device this machine lacks, not torch's "Found no NVIDIA driver" traceback, before the data
        args.device = str(resolve_device(args.device))
    except DeviceError as e:
        raise SystemExit(f"error: {e}") from None
    data = load_splits(args.data_dir)
    where = f"{torch.get_num_threads()} threads on {os.cpu_count()} cores ({cpu_name()})"
    if args.device.startswith("cuda"):
        where = f"{torch.cuda.get_device_name(torch.device(args.device))}, {where} beside it"
    elif args.device != "cpu":
        where = f"{args.device}, {where} beside it"
    print(f"torch {torch.__version__}, {where}, load average before {os.getloadavg()[0]:.2f}")
    # The two loops take turns, so a slow spell of a shared machine hits both sides alike; each side's fastest
    # epoch counts (as timeit does: slower runs measure interference, not the code).
    refs, ourss = [], []
    with tempfile.TemporaryDirectory() as scratch:
        root = torchvision_root(raw_folder(args.data_dir), Path(scratch))
        for _ in range(args.repeats):
            refs.append(reference_epoch(root, args.batch_size, args.seed, args.steps, args.device))
            ourss.append(aedemo_epoch(data, args.batch_size, args.seed, args.steps, args.matmul_precision,
                                      args.device))
    ref, ours = (min(times, key=lambda t: t.seconds) for times in (refs, ourss))
    if args.repeats > 1:
        print("epochs, s:  reference " + " ".join(f"{t.seconds:.2f}" for t in refs)
              + "   aedemo " + " ".join(f"{t.seconds:.2f}" for t in ourss))
        # each pair ran back to back: their spread is how much the machine moved during the run
        print("ratio of each pair: " + " ".join(f"{o.rate / r.rate:.2f}x" for r, o in zip(refs, ourss, strict=True)))
    per_epoch = data[0].shape[0]
    rows = (("reference (DataLoader + ToTensor)", ref), (f"aedemo trainer, precision {args.matmul_precision}", ours))
    for name, t in rows:
        print(f"{name:36s} {per_epoch / t.rate:6.2f} s/epoch {t.rate:8.0f} samples/s  "
              f"CPU {t.cpu_seconds / t.samples * 1e6:6.1f} us/sample  train loss {t.loss:.1f} nats/image")
    print(f"speed-up: {ours.rate / ref.rate:.2f}x (target >= 3.5x); load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
