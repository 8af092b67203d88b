"""The Gradio Space: `build_demo()` assembles the tabs over a `ModelStore` of the shipped checkpoints.

The names below are imported on first use, so the modules that need no Gradio (the training worker, the
pictures) import without it: a GPU machine that only trains has no Gradio installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .blocks import build_demo, launch_kwargs
    from .store import ModelStore

_HOMES = {"build_demo": ".blocks", "launch_kwargs": ".blocks", "ModelStore": ".store"}
__all__ = ["ModelStore", "build_demo", "launch_kwargs"]


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name], __name__), name)
