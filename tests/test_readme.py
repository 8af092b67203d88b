"""README's library snippet runs as written, from the repository root, and gives what its comments say."""

from __future__ import annotations

import re
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def test_the_library_snippet_runs_as_written(monkeypatch):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The library", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(ROOT)  # its paths are relative to the repository, as a user runs it from a clone
    scope: dict = {}
    exec(compile(snippet, "README.md", "exec"), scope)
    vae = scope["vae"]
    assert scope["z"].shape == (8, vae.latent_dim) and not scope["z"].requires_grad
    assert scope["x_hat"].shape == (8, 1, 28, 28) and 0 <= scope["x_hat"].min() and scope["x_hat"].max() <= 1
    assert torch.equal(scope["mu"], scope["z"])  # the code is the posterior mean
    assert scope["digits"].shape == (10, 1, 28, 28)


def test_the_training_snippet_trains_saves_and_reloads(monkeypatch, tmp_path):
    import aedemo.train
    from aedemo.data import load_mnist

    images, labels = load_mnist("test", download=False)
    small = {"train": (images[:256], labels[:256]), "test": (images[256:384], labels[256:384])}
    monkeypatch.setattr(aedemo.train, "load_mnist", lambda split, *a, **k: small[split])  # no training split here
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The library", 1)[1]
    snippet = re.findall(r"```python\n(.*?)```", section, re.S)[1]
    assert "train(config" in snippet
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(snippet, "README.md", "exec"), scope)
    assert len(scope["result"].history) == scope["config"].epochs
    assert scope["vae2"].latent_dim == 2 and (tmp_path / scope["config"].out / "metrics.json").is_file()
