"""Do digits of a class land among their own class in a model's code? The figure behind the Latent tab's star.

`python benchmarks/code_neighbours.py [--digits 5000]`: for each shipped model, the test digits the Latent tab does
not plot (those past its first 5,000) are encoded, and each is given the commonest class among the ten plotted test
digits whose codes lie nearest to its code (as the tab's note counts them). Prints the share that get their own
class, and the share of the note's ten neighbours that are of the digit's class; asserts nothing. The CVAE is given
each digit's class, so its code holds the style alone: it should score low.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from aedemo.checkpoint import checkpoints_root  # noqa: E402
from aedemo.space.latent_tab import NEIGHBOURS  # noqa: E402
from aedemo.space.store import LATENT_DIGITS, ModelStore  # noqa: E402


@torch.no_grad()
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--digits", type=int, default=5000, help="test digits past the plotted ones to place")
    args = p.parse_args()
    store = ModelStore(checkpoints_root())
    _, x, y = store.test_set
    queries, truth = x[LATENT_DIGITS : LATENT_DIGITS + args.digits], y[LATENT_DIGITS : LATENT_DIGITS + args.digits]
    print(f"{len(queries)} test digits placed among the {LATENT_DIGITS} plotted, {NEIGHBOURS} nearest codes each")
    print(f"{'model':12s} {'code':>5s} {'majority is its class':>22s} {'neighbours of its class':>24s}")
    for name, model in store.models.items():
        z = torch.cat([model.encode(queries[i : i + 500], truth[i : i + 500] if model.conditional else None)
                       for i in range(0, len(queries), 500)])
        nearest = store.nearest_test_digits(model, queries, z, NEIGHBOURS)
        classes = y[nearest]  # [digits, NEIGHBOURS]
        majority = classes.mode(dim=1).values  # ties go to the smallest class, as a count would leave them
        print(f"{name:12s} {model.latent_dim:5d} {(majority == truth).float().mean().item():22.1%} "
              f"{(classes == truth[:, None]).float().mean().item():24.1%}")


if __name__ == "__main__":
    main()
