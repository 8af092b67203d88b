"""aedemo: the autoencoder playground. Eight autoencoder variants and PCA on MNIST, behind one interface."""

from __future__ import annotations

import os
from typing import Any, TypeVar, overload

import torch

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .devices import DeviceError, resolve_device
from .models import MODEL_CLASSES, VARIANTS, Autoencoder, MnistClassifier, Model, build_model

__version__ = "0.1.0"


# aedemo.hub.download_checkpoint's keywords, named here: a local load needs no huggingface_hub (a test keeps them equal)
_HUB_KEYWORDS = ("subfolder", "revision", "token", "cache_dir", "local_files_only", "force_download")
# from_pretrained keywords that huggingface_hub 1.0 dropped, which code written for an older mixin still passes
_DROPPED_HUB_KEYWORDS = {
    "proxies": "huggingface_hub (1.0 on) takes proxies only from the HTTP_PROXY / HTTPS_PROXY environment variables",
    "resume_download": "huggingface_hub (1.0 on) always resumes an interrupted download",
}


M = TypeVar("M", bound=Model)


@overload
def load_model(
    path_or_repo_id: str | os.PathLike, device: str | torch.device = ..., *, expect: type[M], **hub_kwargs: Any
) -> M: ...
@overload
def load_model(
    path_or_repo_id: str | os.PathLike, device: str | torch.device = ..., *, expect: None = ..., **hub_kwargs: Any
) -> Model: ...
def load_model(
    path_or_repo_id: str | os.PathLike, device: str | torch.device = "cpu", *, expect: type[Any] | None = None,
    **hub_kwargs: Any,
) -> Model:
    """Load a checkpoint, in eval mode on `device` ("auto": a GPU when torch sees one), from a local folder or a Hub
    repo id ("user/name").

    `expect` (Autoencoder, VAE, MnistClassifier, ...) refuses a checkpoint holding another kind of model, and tells
    a type checker what comes back: `load_model("checkpoints/vae", expect=VAE)` is a VAE, with .posterior();
    without it the result is an Autoencoder or the MnistClassifier. A variant's class asks for that variant only
    (expect=VAE refuses the CVAE, which subclasses it); Autoencoder takes any of the nine.

    A path that exists locally is a folder (`subfolder=` applies inside it, `revision=` is refused, the other Hub
    keywords are ignored).
    Anything else is a Hub id: `subfolder`, `revision`, `token`, `cache_dir`, `local_files_only`, `force_download`
    are passed to aedemo.hub.download_checkpoint, which fetches just the aedemo files through the huggingface_hub
    cache (offline from the cache with HF_HUB_OFFLINE=1). Failures raise CheckpointError (HubError for the Hub); a
    `device` this machine lacks raises aedemo.devices.DeviceError, before anything is read.
    """
    unknown = sorted(set(hub_kwargs) - set(_HUB_KEYWORDS))
    if unknown:  # a misspelt `subfolder` would otherwise load the repo's top folder, or fail far from the typo
        dropped = "".join(f"; {k}: {why}" for k, why in _DROPPED_HUB_KEYWORDS.items() if k in unknown)
        raise TypeError(f"load_model() got unknown keywords {unknown}; it takes {', '.join(_HUB_KEYWORDS)}{dropped}")
    if expect is not None and not (isinstance(expect, type) and issubclass(expect, Autoencoder | MnistClassifier)):
        raise TypeError(f"expect must be one model class, such as aedemo.models.VAE or Autoencoder, got {expect!r}")
    resolve_device(device)  # a device this machine lacks is refused before anything is read or downloaded
    model = _load(os.fspath(path_or_repo_id), device, hub_kwargs)
    if expect is not None and not _is_kind(model, expect):
        where = "/".join(filter(None, (os.fspath(path_or_repo_id).rstrip("/"), hub_kwargs.get("subfolder"))))
        raise CheckpointError(f"{where}: holds variant {model.variant!r} (class {type(model).__name__}), not the "
                              f"{expect.__name__} that expect= asks for")
    return model


def _is_kind(model: Model, expect: type) -> bool:
    """Whether `model` is what expect= asks for: a variant's class exactly (a CVAE is a VAE to Python, but one that
    needs labels, and a DAE's checkpoint is no AE's), any subclass of a base such as Autoencoder."""
    if expect in MODEL_CLASSES.values():
        return type(model) is expect
    return isinstance(model, expect)


def _load(name: str, device: str | torch.device, hub_kwargs: dict[str, Any]) -> Model:
    from pathlib import Path

    path = Path(name).expanduser()
    if path.exists():
        if hub_kwargs.get("revision") is not None:  # a local folder has one version: loading it would mislead
            raise ValueError(f"revision applies to a Hub repo id; {name} is a local folder")
        return load_checkpoint(path / (hub_kwargs.get("subfolder") or ""), device=device)
    missing = f"{name}: no such checkpoint folder"  # never a listing of what is there: a Space shows this to visitors
    if _path_not_repo_id(name):
        raise CheckpointError(f"{missing} (a Hub repo id is 'owner/name')")
    from .hub import HubError, _clean_subfolder, load_from_hub  # here: local loading never needs huggingface_hub

    _clean_subfolder(hub_kwargs.get("subfolder"))  # a bad argument, said as it is: not as a folder not found too
    try:
        return load_from_hub(name, device=device, **hub_kwargs)
    except HubError as e:
        if not Path(name.split("/")[0]).is_dir():
            # README's "checkpoints/vae" run from another folder reads as a Hub id: say the path was tried too
            raise type(e)(f"{e}; nor is there a local folder {name} (a relative path starts from the working "
                          "directory)") from None
        # "checkpoints/vea" beside a folder "checkpoints": far more likely a mistyped path than a Hub id
        raise type(e)(f"{missing}; as a Hub repo id: {e}") from None


def _path_not_repo_id(name: str) -> bool:
    """A string only a path can be: a Hub id is one "owner/name", begins with none of ".", "/", "~" and does not end
    in "/"."""
    separators = {os.sep, os.altsep} - {None, "/"}  # a Windows path's backslashes
    return (name.count("/") != 1 or name.startswith((".", "/", "~")) or name.endswith("/")
            or any(sep in name for sep in separators))


__all__ = [
    "VARIANTS", "Autoencoder", "MnistClassifier", "Model", "CheckpointError", "DeviceError", "build_model",
    "load_model", "load_checkpoint", "save_checkpoint", "__version__",
]
