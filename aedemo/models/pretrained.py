"""save_pretrained / from_pretrained / push_to_hub on every model, as huggingface_hub's PyTorchModelHubMixin names
them, over aedemo's own saver and loader: the mixin itself cannot read aedemo's config.json, which holds the variant,
a format version and the weights' SHA-256 beside the constructor's arguments.

The mixin's keywords mean what they mean there (push_to_hub=, repo_id=, branch=, create_pr=, strict=True, the Hub
download keywords); those aedemo cannot honour (config=, strict=False) are refused with the reason, never ignored."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import torch

P = TypeVar("P", bound="Pretrained")

# what save_pretrained(push_to_hub=True) passes on to the push, as the mixin passes on its push_to_hub_kwargs
PUSH_KEYWORDS = ("token", "private", "subfolder", "commit_message", "branch", "create_pr")


def _refuse_config(config: object, method: str) -> None:
    if config is not None:
        raise TypeError(
            f"{method}() takes no config: aedemo writes config.json from the model itself (its variant and "
            "constructor arguments, a format version and the weights' SHA-256), so that it always describes the "
            "weights; other keys would make the loader refuse the checkpoint. Figures and notes go in metrics="
        )


class Pretrained:
    @overload
    def save_pretrained(
        self, save_directory: str | os.PathLike, metrics: dict | None = ..., *, push_to_hub: Literal[False] = ...,
        repo_id: str | None = ..., config: None = ..., **push_to_hub_kwargs: Any,
    ) -> Path: ...
    @overload
    def save_pretrained(
        self, save_directory: str | os.PathLike, metrics: dict | None = ..., *, push_to_hub: Literal[True],
        repo_id: str | None = ..., config: None = ..., **push_to_hub_kwargs: Any,
    ) -> str: ...
    def save_pretrained(
        self, save_directory: str | os.PathLike, metrics: dict | None = None, *, push_to_hub: bool = False,
        repo_id: str | None = None, config: None = None, **push_to_hub_kwargs: Any,
    ) -> Path | str:
        """aedemo.save_checkpoint(self, save_directory, metrics): model.safetensors + config.json, written
        atomically (and metrics.json when `metrics` is given); returns the folder.

        `push_to_hub=True`, as with PyTorchModelHubMixin: then push the saved folder, as push_to_hub does, to
        `repo_id` (default: the folder's name, in the namespace of the token's owner), passing on
        `push_to_hub_kwargs` (token, private, subfolder, commit_message, branch, create_pr); returns the commit URL
        (or the pull request's). `config=` is refused: config.json is derived from the model.
        """
        from ..checkpoint import save_checkpoint  # the checkpoint module imports the models

        _refuse_config(config, "save_pretrained")
        unknown = sorted(set(push_to_hub_kwargs) - set(PUSH_KEYWORDS))
        if unknown:  # before anything is written: a misspelt `branch` would otherwise push to main
            raise TypeError(f"save_pretrained() got unknown keywords {unknown}; with push_to_hub=True it passes on "
                            f"{', '.join(PUSH_KEYWORDS)}")
        folder = save_checkpoint(self, save_directory, metrics)  # type: ignore[arg-type]
        if not push_to_hub:
            return folder
        from ..hub import owner_repo_id, push_checkpoint  # huggingface_hub only when pushing

        if repo_id is None or "/" not in repo_id:  # a bare name, or the folder's ("." resolved): the token owner's
            repo_id = owner_repo_id(repo_id or folder.resolve().name, push_to_hub_kwargs.get("token"))
        return push_checkpoint(folder, repo_id, **push_to_hub_kwargs)

    @classmethod
    def from_pretrained(
        cls: type[P], path_or_repo_id: str | os.PathLike, device: str | torch.device = "cpu", *,
        map_location: str | torch.device | None = None, strict: bool = True, config: None = None, **hub_kwargs: Any,
    ) -> P:
        """aedemo.load_model(path_or_repo_id, device, expect=cls, **hub_kwargs): a local folder or a Hub id, in eval
        mode; a checkpoint of another class is refused (`VAE.from_pretrained` takes the VAE, not the CVAE).
        `map_location`, PyTorchModelHubMixin's name for the device, is taken too, and so are its `revision`,
        `token`, `cache_dir`, `local_files_only` and `force_download`. Loading is always strict: strict=False (the
        mixin's default) is refused, and so is `config=`: the model is built from the checkpoint's config.json."""
        from .. import load_model

        if config is not None:
            raise TypeError(
                "from_pretrained() takes no config: the model is rebuilt from the checkpoint's config.json, which its "
                "weights are checked against; for a model of other arguments, build_model(variant, **arguments)"
            )
        if strict is not True:
            raise ValueError(
                f"strict={strict!r} is not supported: aedemo loads strictly, refusing a checkpoint whose weights do "
                "not match its config.json (missing, unexpected or misshapen tensors), because a half-loaded "
                "autoencoder reconstructs garbage without a word. Load with strict=True (the default here)"
            )
        device = map_location if map_location is not None else device
        return load_model(path_or_repo_id, device, expect=cls, **hub_kwargs)  # type: ignore[type-var]

    def push_to_hub(
        self, repo_id: str, token: str | bool | None = None, private: bool = False, subfolder: str | None = None,
        metrics: dict | None = None, commit_message: str | None = None, *, branch: str | None = None,
        create_pr: bool | None = False, config: None = None,
    ) -> str:
        """Save, then push as aedemo.hub.push_checkpoint does (weights, config, model card, sample grid) in one
        commit; returns its URL. `repo_id` "user/name", or a bare "name" in the namespace of the token's owner.
        `token=None` (or True): HF_TOKEN or the cached login. As PyTorchModelHubMixin takes them: `commit_message`
        replaces aedemo's default, `branch` commits to that branch (it must exist; default main) and
        `create_pr=True` opens a pull request against main instead, returning the pull request's URL. `config=` is
        refused: config.json is derived from the model."""
        from ..hub import owner_repo_id, push_checkpoint  # huggingface_hub only when pushing

        _refuse_config(config, "push_to_hub")
        if "/" not in repo_id:  # a bare name: the token owner's, as with the mixin (asked before any work)
            repo_id = owner_repo_id(repo_id, token)
        with tempfile.TemporaryDirectory(prefix="aedemo-push-") as folder:
            self.save_pretrained(folder, metrics)
            return push_checkpoint(folder, repo_id, token=token, private=private, subfolder=subfolder,
                                   commit_message=commit_message, branch=branch, create_pr=create_pr)
