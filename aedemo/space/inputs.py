"""From whatever an image input hands over (sketchpad value, upload, API payload) to the 28x28 a model sees.

The tabs' image events run with `preprocess=False`, so a corrupt upload reaches this code instead of failing
inside Gradio with a generic "Error": here every failure becomes a UserInputError with a message for the user.
"""

from __future__ import annotations

import base64
import math
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from ..allocator import return_freed_memory
from ..models.base import N_CLASSES
from ..preprocess import InvalidImageError, canvas_to_mnist, pixels_decoded
from ..wording import quoted

EDITOR_KEYS = ("background", "layers", "composite")


class UserInputError(ValueError):
    """Input the app cannot use; the message is shown to the visitor as it is."""


MAX_UI_SEED = 2**32 - 1  # the tabs' seed boxes, shorter to type than the trainer's own range (aedemo.train.MAX_SEED)


def number_said(number: float) -> str:
    """A number as a refusal quotes it: short (2, not 2.0), unless that rounds it (1.0000001 read "1", which looked
    in range)."""
    short = f"{number:g}"
    return short if float(short) == number else repr(number)


def _blank(value: Any) -> bool:
    """An emptied number box: Gradio sends None (the API may send "")."""
    return value is None or (isinstance(value, str) and not value.strip())


def parse_int(value: Any, what: str, low: int, high: int) -> int:
    """A whole-number field's value (number or text, from the UI or the API) as an int in [low, high].

    `what` names the field in the message ("The seed"). 2.0 is 2; 2.5, NaN, infinity and text that is not a
    number are refused with a UserInputError, as is anything out of range.
    """
    if _blank(value):
        raise UserInputError(f"{what} is empty: enter a whole number from {low:,} to {high:,}.")
    try:
        number = float(value)
        whole = int(number)
    except (TypeError, ValueError, OverflowError):
        raise UserInputError(f"{what} must be a whole number, not {quoted(value)}.") from None
    if whole != number or not low <= whole <= high:
        raise UserInputError(f"{what} must be a whole number from {low:,} to {high:,}, not {quoted(value)}.")
    return whole


def parse_float(value: Any, what: str) -> float:
    """A number field's value (number or text, from the UI or the API) as a finite float; `what` names the field.

    NaN, infinity, text that is not a number and integers too large for a float (JSON allows any) are refused with
    a UserInputError."""
    if _blank(value):
        raise UserInputError(f"{what} is empty: enter a number.")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number):
        raise UserInputError(f"{what} must be a number, not {quoted(value)}.")
    return number


def another_seed(seed: Any) -> int:
    """A seed other than `seed` (as its box holds it: a number, text, or nothing), for "New noise" and "New
    samples": pressed again, Denoise and Generate gave the same draws for the same seed, and seemed to do nothing.
    Short enough to read back and type again."""
    while True:
        drawn = int(np.random.default_rng().integers(10_000))
        if drawn != seed:
            return drawn


def parse_seed(value: Any) -> int:
    return parse_int(value, "The seed", 0, MAX_UI_SEED)


def a_digit(d: int) -> str:
    """"a 7", "an 8": a digit named in a sentence."""
    return f"an {d}" if d == 8 else f"a {d}"


def parse_digit(value: Any, what: str = "Digit") -> int:
    """A class field's value (the digit to draw, an interpolation's end) as an int in [0, 9]."""
    return parse_int(value, what, 0, N_CLASSES - 1)


def _uploaded(path: str) -> str:
    """`path`, when it is a regular file in Gradio's upload folder (where a visitor's upload lands); else a
    UserInputError. A request names its file by path, and with Gradio's preprocessing off nothing else checks it:
    any file the server can read would be opened (and a FIFO would hold a worker)."""
    from gradio.utils import get_upload_folder, is_in_or_equal

    if is_in_or_equal(path, get_upload_folder()):
        try:
            if stat.S_ISREG(os.stat(path).st_mode):
                return path
        except (OSError, ValueError):
            pass
    raise UserInputError("The image arrived without a file; please upload it again.")


def _file(value: Any, uploads_only: bool = False) -> Any:
    """A Gradio FileData (dict or object) -> its path (or the bytes of a data: URL); anything else as is.

    With `uploads_only` (a request from the network), a path is read only from Gradio's upload folder."""
    check = _uploaded if uploads_only else str
    # any dict but an editor's is a FileData, whole or not: one without path and url ({}, {"meta": {...}}) was taken
    # for an image without ink
    if isinstance(value, dict) and not any(k in value for k in EDITOR_KEYS):
        path, url = value.get("path"), value.get("url")
        if path:
            return check(str(path))
        if isinstance(url, str) and url.startswith("data:"):
            try:  # the bytes go through preprocess's reading, and its messages, like any file's
                return base64.b64decode(url.partition(",")[2], validate=True)
            except ValueError:
                raise UserInputError("Could not read the image: the data URL is not valid base64.") from None
        raise UserInputError("The image arrived without a file; please upload it again.")
    path = getattr(value, "path", None)
    if isinstance(path, str) and not isinstance(value, dict | np.ndarray):
        return check(path)
    if uploads_only and isinstance(value, str | os.PathLike):  # a bare path in a request
        return check(os.fspath(value))
    return value


def normalise(value: Any, uploads_only: bool = False) -> Any:
    """Raw Gradio payloads (FileData dicts, editor dicts of them) -> what canvas_to_mnist takes."""
    if isinstance(value, dict) and any(k in value for k in EDITOR_KEYS):
        layers = value.get("layers") or []
        if not isinstance(layers, list | tuple):
            raise UserInputError("Could not read the drawing: its layers are not a list of images.")
        return {
            "background": _file(value.get("background"), uploads_only),
            "layers": [_file(v, uploads_only) for v in layers if v is not None],
            "composite": _file(value.get("composite"), uploads_only),
        }
    return _file(value, uploads_only)


def to_mnist(value: Any, uploads_only: bool = False) -> np.ndarray | None:
    """The image as MNIST would have it: float32 [28,28] in [0,1], white ink on black; None when there is no ink.

    Raises UserInputError with a short message for anything unusable (not an image, corrupt, too large, ...).
    `uploads_only`: the value came in a request (an event with preprocessing off), so a file is read only from
    Gradio's upload folder.
    """
    if value is None:
        return None
    try:
        image = normalise(value, uploads_only)
        with _big_picture_slot(image):
            digit = canvas_to_mnist(image)
    except UserInputError:
        raise
    except InvalidImageError as e:  # a sentence for the visitor: preprocess's messages are an exception's phrases
        message = str(e).strip()
        ending = "" if message.endswith((".", "!", "?")) else "."
        raise UserInputError(message[:1].upper() + message[1:] + ending) from None
    except Exception as e:  # whatever the preprocessing trips on, the visitor gets a sentence, not a traceback
        raise UserInputError(f"Could not read the image ({type(e).__name__}: {e}).") from None
    if digit is None:
        return None
    digit = np.asarray(digit, dtype=np.float32)
    if digit.shape != (28, 28) or not np.isfinite(digit).all():
        raise UserInputError("Could not turn the image into a 28x28 digit.")
    return digit


# A big picture costs ~10 bytes a pixel while it is decoded (a 25-MP PNG, ~200 MB): eight visitors' uploads at once
# took the server from 0.8 to 2.4 GB, and glibc kept most of it. At most two are decoded at a time, and the memory
# goes back to the system after each; a sketch or a phone's JPEG (decoded at a fraction of its size) never waits.
BIG_PICTURE = 4_000_000  # pixels
_big_decodes = threading.BoundedSemaphore(2)


@contextmanager
def _big_picture_slot(image: Any) -> Iterator[None]:
    big = False
    if isinstance(image, str | os.PathLike | bytes | bytearray | memoryview):
        try:
            big = pixels_decoded(image) > BIG_PICTURE
        except InvalidImageError:  # canvas_to_mnist says what is wrong with it
            pass
    if not big:
        yield
        return
    with _big_decodes:
        try:
            yield
        finally:
            return_freed_memory()


def as_batch(digit: np.ndarray) -> torch.Tensor:
    """float [28,28] -> the [1,1,28,28] tensor every model takes."""
    return torch.from_numpy(np.ascontiguousarray(digit, dtype=np.float32)).view(1, 1, 28, 28)
