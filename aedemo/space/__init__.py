"""The Gradio Space: `build_demo()` assembles the tabs over a `ModelStore` of the shipped checkpoints."""

from __future__ import annotations

from .blocks import build_demo, launch_kwargs
from .store import ModelStore

__all__ = ["ModelStore", "build_demo", "launch_kwargs"]
