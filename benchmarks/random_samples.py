"""What a prior buys: how often random codes decode to a digit the classifier reads with confidence.

`python benchmarks/random_samples.py [--samples 1000]`: for the VAE and the AAE, codes drawn from their prior; for
the models without one (the plain AE and its relatives), codes drawn from a Gaussian fitted to their test codes
(their mean and covariance, as the Generate tab draws them). Prints, per model, the share of samples the
shipped classifier reads with confidence above 0.9 and the median confidence; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from aedemo.checkpoint import checkpoints_root  # noqa: E402
from aedemo.models import AUTOENCODERS  # noqa: E402
from aedemo.space.store import ModelStore  # noqa: E402

# the models with a prior first; not the CVAE (scored per class by aedemo.evaluate) nor PCA (no training)
MODELS = sorted((v for v, cls in AUTOENCODERS.items() if cls.trainable and not cls.conditional),
                key=lambda v: not AUTOENCODERS[v].generative)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    store = ModelStore(checkpoints_root())
    if store.classifier is None:
        raise SystemExit("the shipped classifier is needed to read the samples")
    print(f"{args.samples} samples per model at temperature 1, read by the shipped classifier")
    print(f"{'model':12s} {'codes from':35s} {'read with p>0.9':>16s} {'median p':>9s}")
    for name in MODELS:
        if name not in store.models:
            print(f"{name:12s} not loaded: {store.errors.get(name, 'no checkpoint')}")
            continue
        model = store.models[name]
        generator = torch.Generator().manual_seed(args.seed)
        with torch.no_grad():
            if model.generative:
                samples, source = model.sample(args.samples, generator=generator), "its prior"
            else:
                samples = store.random_codes_decoded(model, args.samples, generator)
                source = "a Gaussian fitted to its test codes"
        confidence = store.classify(samples).max(1).values.cpu()
        print(f"{name:12s} {source:35s} {(confidence > 0.9).float().mean().item():16.0%} "
              f"{confidence.median().item():9.2f}")


if __name__ == "__main__":
    main()
