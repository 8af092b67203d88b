"""aedemo: the autoencoder playground. Eight autoencoder variants and PCA on MNIST, behind one interface."""

from __future__ import annotations

from .checkpoint import CONFIG_NAME, CheckpointError, load_checkpoint, save_checkpoint
from .models import VARIANTS, Autoencoder, MnistClassifier, build_model

__version__ = "0.1.0"


def load_model(path_or_repo_id: str, device: str = "cpu", **hub_kwargs) -> Autoencoder | MnistClassifier:
    """Load a checkpoint, in eval mode on `device`, from a local folder or a Hub repo id ("user/name").

    A path that exists locally is a folder (`subfolder=` applies inside it; the other keywords are ignored).
    Anything else is a Hub id: `subfolder`, `revision`, `token`, `cache_dir`, `local_files_only` are passed to
    aedemo.hub.download_checkpoint, which fetches just the aedemo files through the huggingface_hub cache
    (offline from the cache with HF_HUB_OFFLINE=1). Failures raise CheckpointError (HubError for the Hub); a
    `device` torch cannot use raises torch's RuntimeError.
    """
    from pathlib import Path

    path = Path(path_or_repo_id).expanduser()
    if path.exists():
        return load_checkpoint(path / (hub_kwargs.get("subfolder") or ""), device=device)
    if str(path_or_repo_id).count("/") != 1:
        # not a folder and not shaped like "user/name": most likely a mistyped local path
        raise CheckpointError(f"{path_or_repo_id}: no such checkpoint folder (nor a Hub repo id, which is 'user/name')")
    from .hub import HubError, load_from_hub  # imported here: local loading never needs huggingface_hub

    try:
        return load_from_hub(str(path_or_repo_id), device=device, **hub_kwargs)
    except HubError as e:
        if not path.parent.is_dir():
            raise
        # "checkpoints/vea" next to a folder "checkpoints": a mistyped local path far more likely than a Hub id
        held = sorted(p.name for p in path.parent.iterdir() if (p / CONFIG_NAME).is_file())
        listing = f" ({path.parent} holds {', '.join(held)})" if held else ""
        raise type(e)(f"{path_or_repo_id}: no such checkpoint folder{listing}; as a Hub repo id: {e}") from None


__all__ = [
    "VARIANTS", "Autoencoder", "MnistClassifier", "CheckpointError", "build_model", "load_model",
    "load_checkpoint", "save_checkpoint", "__version__",
]
