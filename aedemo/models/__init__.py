"""Every model family, one module each, behind one registry."""

from __future__ import annotations

from typing import Any

from .aae import AAE
from .ae import AE
from .base import Autoencoder
from .classifier import MnistClassifier
from .contractive import ContractiveAE
from .conv import ConvAE
from .cvae import CVAE
from .dae import DAE
from .pca import PCA
from .sparse import SparseAE
from .vae import VAE

AUTOENCODERS: dict[str, type[Autoencoder]] = {
    cls.variant: cls for cls in (AE, DAE, SparseAE, ContractiveAE, ConvAE, VAE, CVAE, AAE, PCA)
}
VARIANTS: tuple[str, ...] = tuple(AUTOENCODERS)
MODEL_CLASSES: dict[str, type[Autoencoder] | type[MnistClassifier]] = {
    **AUTOENCODERS, MnistClassifier.variant: MnistClassifier,
}
Model = Autoencoder | MnistClassifier  # what a checkpoint holds


def build_model(variant: str, **config: Any) -> Model:
    """A fresh, untrained model of `variant` with the given architecture arguments (defaults otherwise)."""
    if variant not in MODEL_CLASSES:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(MODEL_CLASSES)}")
    return MODEL_CLASSES[variant](**config)


__all__ = [
    "AUTOENCODERS", "VARIANTS", "MODEL_CLASSES", "Autoencoder", "MnistClassifier", "Model", "build_model",
    "AE", "DAE", "SparseAE", "ContractiveAE", "ConvAE", "VAE", "CVAE", "AAE", "PCA",
]
