"""How much does each model's code move when its input does? The figure behind the contractive AE's choices.

`python benchmarks/contraction.py [--digits 2000] [FOLDER ...]`: for the shipped MLP autoencoders (or the checkpoint
folders named), the squared Frobenius norm of the encoder's Jacobian, ||J||^2, averaged over test digits, beside how
far the codes spread. ||J||^2 alone rewards a model for shrinking its code (a decoder scaled up to match redraws
the same digits), so the figure to compare is the scale-free one: E||J||^2 divided by the codes' total variance,
the trace of their covariance. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.func import jacrev, vmap

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from aedemo import load_model  # noqa: E402
from aedemo.checkpoint import checkpoints_root  # noqa: E402
from aedemo.data import load_mnist, to_float  # noqa: E402

SHIPPED = ("ae", "dae", "sparse", "contractive")  # the MLP autoencoders without a class input


def jacobian_norms(model: torch.nn.Module, x: torch.Tensor, batch: int = 250) -> torch.Tensor:
    """||J||_F^2 of the code with respect to the pixels, per digit [N]; `_encode` skips the input checks, which
    vmap cannot run."""

    def code(pixels: torch.Tensor) -> torch.Tensor:
        return model._encode(pixels.view(1, 1, 28, 28))[0]

    per_digit = vmap(jacrev(code))
    return torch.cat([per_digit(x[i : i + batch].flatten(1)).square().sum((1, 2)) for i in range(0, len(x), batch)])


@torch.no_grad()
def codes(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model.encode(x)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folders", nargs="*", help="checkpoint folders (default: the shipped MLP autoencoders)")
    p.add_argument("--digits", type=int, default=2000, help="the first N test digits")
    args = p.parse_args()
    folders = args.folders or [str(checkpoints_root() / name) for name in SHIPPED]
    x = to_float(load_mnist("test", download=False)[0][: args.digits])
    print(f"the first {len(x)} test digits")
    print(f"{'checkpoint':40s} {'E||J||^2':>9s} {'code std per dim':>17s} {'E||J||^2 / tr Cov':>18s}")
    for folder in folders:
        model = load_model(folder)
        j2, z = jacobian_norms(model, x).mean().item(), codes(model, x)
        print(f"{folder:40s} {j2:9.2f} {z.std(0).mean().item():17.3f} {j2 / z.var(0).sum().item():18.3f}")


if __name__ == "__main__":
    main()
