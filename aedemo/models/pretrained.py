"""save_pretrained / from_pretrained / push_to_hub on every model, as huggingface_hub's PyTorchModelHubMixin names
them, over aedemo's own saver and loader: the mixin itself cannot read aedemo's config.json, which holds the variant,
a format version and the weights' SHA-256 beside the constructor's arguments."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

import torch

P = TypeVar("P", bound="Pretrained")


class Pretrained:
    def save_pretrained(self, save_directory: str | os.PathLike, metrics: dict | None = None) -> Path:
        """aedemo.save_checkpoint(self, save_directory, metrics): model.safetensors + config.json, written
        atomically (and metrics.json when `metrics` is given)."""
        from ..checkpoint import save_checkpoint  # the checkpoint module imports the models

        return save_checkpoint(self, save_directory, metrics)  # type: ignore[arg-type]

    @classmethod
    def from_pretrained(
        cls: type[P], path_or_repo_id: str | os.PathLike, device: str | torch.device = "cpu", *,
        map_location: str | torch.device | None = None, **hub_kwargs: Any,
    ) -> P:
        """aedemo.load_model(path_or_repo_id, device, expect=cls, **hub_kwargs): a local folder or a Hub id, in eval
        mode; a checkpoint of another class is refused (`VAE.from_pretrained` takes a VAE or a CVAE).
        `map_location`, PyTorchModelHubMixin's name for the device, is taken too."""
        from .. import load_model

        device = map_location if map_location is not None else device
        return load_model(path_or_repo_id, device, expect=cls, **hub_kwargs)  # type: ignore[type-var]

    def push_to_hub(
        self, repo_id: str, token: str | bool | None = None, private: bool = False, subfolder: str | None = None,
        metrics: dict | None = None, commit_message: str | None = None,
    ) -> str:
        """Save, then push as aedemo.hub.push_checkpoint does (weights, config, model card, sample grid) in one
        commit; returns its URL. `token=None` (or True): HF_TOKEN or the cached login. `commit_message`, as
        PyTorchModelHubMixin takes it, replaces aedemo's default."""
        from ..hub import push_checkpoint  # huggingface_hub only when pushing

        with tempfile.TemporaryDirectory(prefix="aedemo-push-") as folder:
            self.save_pretrained(folder, metrics)
            return push_checkpoint(folder, repo_id, token=token, private=private, subfolder=subfolder,
                                   commit_message=commit_message)
