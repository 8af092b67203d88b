"""How the library's and the app's refusals quote a value they were given: short enough to read in one line."""

from __future__ import annotations

from typing import Any


def quoted(value: Any, limit: int = 40) -> str:
    """A value as a refusal quotes it: its repr, a long one cut to about `limit` characters with an ellipsis that
    shows the cut (inside a string's quotes: a format of `!r:.40` cut the closing quote off)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return repr(value[:limit - 3] + "…") if isinstance(value, str) else text[:limit - 1] + "…"
