"""Training speed: one epoch of the pytorch/examples VAE, trained two ways in the same run.

1. a reference loop written the way pytorch/examples' vae/main.py trains: torchvision's MNIST dataset with
   ToTensor, a shuffling DataLoader, BCE(sum) + KL, Adam 1e-3, batch 128, `.item()` on the loss each step;
2. aedemo's trainer (`aedemo.train.train`) on the same 784-400-20 architecture
   (`build_model("vae", latent_dim=20, hidden=[400])`), batch 128, Adam 1e-3, constant learning rate.

Both time only the training epoch (dataset construction and aedemo's per-epoch test evaluation excluded) and
print samples/s and the ratio. Run it on a quiet machine (the load average is printed with the figures):

    OMP_NUM_THREADS=2 python benchmarks/train_speed.py [--data-dir ../shared/data] [--repeats 3]
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
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from anywhere, without installing aedemo

from aedemo.data import load_mnist  # noqa: E402
from aedemo.train import TrainConfig, train  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"


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


def reference_epoch(root: Path, batch_size: int, seed: int) -> tuple[float, float]:
    """One epoch of the reference loop; returns (seconds, mean train loss per image)."""
    from torchvision import datasets, transforms

    torch.manual_seed(seed)
    dataset = datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
    model = ReferenceVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    total = 0.0
    start = time.perf_counter()
    for x, _ in loader:
        optimizer.zero_grad()
        recon, mu, logvar = model(x)
        bce = F.binary_cross_entropy(recon, x.view(-1, 784), reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = bce + kld
        loss.backward()
        total += loss.item()
        optimizer.step()
    seconds = time.perf_counter() - start
    return seconds, total / len(dataset)


def aedemo_epoch(data: tuple[torch.Tensor, ...], batch_size: int, seed: int) -> tuple[float, float]:
    """One epoch of aedemo's trainer; returns (seconds of training, mean train loss per image)."""
    config = TrainConfig(
        variant="vae", epochs=1, batch_size=batch_size, lr=1e-3, device="cpu", seed=seed, schedule="constant",
        model_config={"latent_dim": 20, "hidden": [400]},
    )
    result = train(config, data=data)
    return result.seconds, result.history[-1]["train"]["loss"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="folder holding MNIST/raw/*.gz")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--repeats", type=int, default=1, help="epochs timed per side; the fastest counts")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    data = (*load_mnist("train", args.data_dir), *load_mnist("test", args.data_dir))
    n = data[0].shape[0]
    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads on {os.cpu_count()} cores ({cpu}), "
          f"load average before {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as scratch:
        root = torchvision_root(args.data_dir, Path(scratch))
        ref_runs = [reference_epoch(root, args.batch_size, args.seed) for _ in range(args.repeats)]
    ours_runs = [aedemo_epoch(data, args.batch_size, args.seed) for _ in range(args.repeats)]
    ref_s, ref_loss = min(ref_runs)
    ours_s, ours_loss = min(ours_runs)
    print(f"reference (DataLoader + ToTensor): {ref_s:6.2f} s/epoch  {n / ref_s:9.0f} samples/s  "
          f"train loss {ref_loss:.1f} nats/image")
    print(f"aedemo trainer:                    {ours_s:6.2f} s/epoch  {n / ours_s:9.0f} samples/s  "
          f"train loss {ours_loss:.1f} nats/image")
    print(f"speed-up: {ref_s / ours_s:.2f}x (target >= 3.5x); load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
