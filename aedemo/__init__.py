"""aedemo: the autoencoder playground. Eight autoencoder variants and PCA on MNIST, behind one interface."""

from __future__ import annotations

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .models import VARIANTS, Autoencoder, MnistClassifier, build_model

__version__ = "0.1.0"


def load_model(path_or_repo_id: str, device: str = "cpu", **hub_kwargs) -> Autoencoder | MnistClassifier:
    """Load a checkpoint from a local folder (or, later, a Hub repo id), in eval mode on `device`."""
    return load_checkpoint(path_or_repo_id, device=device)


__all__ = [
    "VARIANTS", "Autoencoder", "MnistClassifier", "CheckpointError", "build_model", "load_model",
    "load_checkpoint", "save_checkpoint", "__version__",
]
