"""Turn a drawing or an uploaded picture into a 28x28 digit prepared the way MNIST prepared its own.

MNIST's recipe: crop the ink to its bounding box, scale it anti-aliased (aspect kept) so the longer side is 20 px,
and place it in a 28x28 field with its centre of mass at the centre. Hand-drawn input needs two steps more: find
the ink (alpha, or luminance of either polarity), and bring the brush width to MNIST's pen width, because a
classifier trained on MNIST has never seen a hairline or a marker stroke.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from PIL import ExifTags, Image, UnidentifiedImageError

MAX_PIXELS = 25_000_000  # a 5000x5000 upload; above this we refuse before decoding
MIN_SIDE = 8  # smaller than this cannot hold a recognisable digit
REDUCED = 1024  # uploads larger than twice this are block-averaged down to about this first
SIZE, BOX, CENTRE = 28, 20, 14.0  # MNIST: 28x28 field, longer side 20 px, centre of mass at pixel (14, 14)
WORK = 80  # longer side (px) of the crop while the stroke width is measured and changed: 4x the 20-px box
PEN_WIDTHS = (2.1, 3.0)  # MNIST's middle half (quartiles) of stroke widths, in 20-px-box px as _stroke_width measures
MIN_CONTRAST = 0.08  # weaker ink than this (on a 0..1 scale) is taken for a blank picture
ERODE_MAX = 0.4  # thinning by more than this fraction of the mean width would erase the thinner strokes
INK_LEVEL = 0.5  # ink above this (relative to the strongest) is the stroke itself, not its anti-aliased edge
# Strokes wider than this, in pixels of the 20-px box, make a dot or a blob rather than a digit: MNIST's widest test
# digit measures 7.4 (median 2.5), a round dot 10.5-12.7 whatever its size. Scaled up into the box, a dot became a
# filled disc that the classifier read as a 0 at 96 %.
MAX_WIDTH = 9.0
_HIGH_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


class InvalidImageError(ValueError):
    """The input is not a usable image; the message is meant to be shown to the user as it is."""


def canvas_to_mnist(image: Any) -> np.ndarray | None:
    """A drawing or upload as an MNIST digit: float32 [28,28] in [0,1], white on black; None when there is no ink.

    Takes a Gradio ImageEditor / Sketchpad value (dict with "composite", "background", "layers"), a PIL image, a
    numpy array or tensor ([H,W], [H,W,C] or [C,H,W], any dtype), a file path, or the file's bytes.
    Raises InvalidImageError (with a message fit for the user) for anything that is not a usable image.
    """
    picture = _read(image)
    if picture is None:
        return None
    ink = _ink_crop(*picture)
    return None if ink is None else _mnist_layout(ink)


# --- reading: any input -> (luminance, alpha), [H,W] arrays, uint8 (0..255) or float32 (0..1) --------------------
# The luminance comes as a function: for the Sketchpad's strokes the alpha channel is all we need, and a canvas is
# big enough that converting it for nothing would cost more than all the rest.

Luminance = Callable[[], np.ndarray]


def _read(image: Any) -> tuple[Luminance, np.ndarray | None] | None:
    if image is None:
        return None
    if isinstance(image, dict):
        return _read_editor(image)
    if isinstance(image, Image.Image):
        return _read_pil(image)
    if isinstance(image, torch.Tensor):
        image = _tensor_as_array(image)
    if isinstance(image, np.ndarray):
        return _read_array(image)
    if isinstance(image, (str, os.PathLike, bytes, bytearray, memoryview)):
        return _read_file(image)
    raise InvalidImageError(f"expected an image, got {type(image).__name__}")


def _tensor_as_array(t: torch.Tensor) -> np.ndarray:
    if t.is_meta:  # "Cannot copy out of meta tensor"
        raise InvalidImageError("expected an image, got a tensor on the meta device, which holds no values")
    t = t.detach().cpu()
    if t.is_floating_point() and t.dtype not in (torch.float16, torch.float32, torch.float64):
        t = t.float()  # bfloat16 and the float8 types have no numpy dtype
    try:
        return t.numpy()
    except (TypeError, RuntimeError):  # quantized, sparse, ...: no numpy counterpart either
        raise InvalidImageError(f"expected a plain tensor of numbers, got a {t.layout} {t.dtype} tensor") from None


def _read_editor(value: dict) -> tuple[Luminance, np.ndarray | None] | None:
    """An ImageEditor value: its composite when there is one, else the background with the layers on top."""
    if value.get("composite") is not None:
        return _read(value["composite"])
    if value.get("path") is not None:  # a FileData-like dict, as the Gradio client sends files
        return _read(value["path"])
    layers = value.get("layers") or []
    if not isinstance(layers, (list, tuple)):
        raise InvalidImageError(f"the drawing's layers should be a list of images, not {type(layers).__name__}")
    sources = [p for p in (value.get("background"), *layers) if p is not None]
    parts = [(_as_float(luminance()), alpha) for luminance, alpha in filter(None, map(_read, sources))]
    if not parts:
        return None
    lum, alpha = parts[0][0], _opacity(*parts[0])
    for top_lum, top_alpha in parts[1:]:
        if top_lum.shape != lum.shape:
            raise InvalidImageError("the drawing's layers have different sizes")
        top_alpha = _opacity(top_lum, top_alpha)
        out_alpha = top_alpha + alpha * (1 - top_alpha)
        lum = (top_lum * top_alpha + lum * alpha * (1 - top_alpha)) / np.maximum(out_alpha, 1e-6)
        alpha = out_alpha
    return (lambda: lum), alpha


def _as_float(a: np.ndarray) -> np.ndarray:
    return a * np.float32(1 / 255) if a.dtype == np.uint8 else a


def _opacity(lum: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    return np.ones(lum.shape, np.float32) if alpha is None else _as_float(alpha)


def _too_large(size: str = "") -> InvalidImageError:
    side = math.isqrt(MAX_PIXELS)
    return InvalidImageError(
        f"the image is too large ({size}the limit is {MAX_PIXELS // 1_000_000} megapixels, e.g. {side}x{side}). "
        "Crop it to the digit or scale it down."
    )


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise _too_large(f"{width}x{height} pixels; ")
    if min(width, height) < MIN_SIDE:
        raise InvalidImageError(f"the image is too small ({width}x{height} pixels) to hold a digit.")


def image_size(source: str | os.PathLike | bytes | bytearray | memoryview) -> tuple[int, int]:
    """(width, height) of an image file or its bytes, read from its header without decoding it; InvalidImageError
    for what cannot be read (or claims more pixels than PIL itself opens), in the words a whole read gives."""
    with _decoding(), Image.open(_file_like(source)) as im:
        return im.size


def _file_like(source: str | os.PathLike | bytes | bytearray | memoryview) -> Any:
    return io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else source


def _read_file(source: str | os.PathLike | bytes | bytearray | memoryview) -> tuple[Luminance, np.ndarray | None]:
    with _decoding(), Image.open(_file_like(source)) as im:  # the header only: the size is checked before decoding
        _check_size(*im.size)
        _draft(im)
        im.load()
        return _read_pil(im)


def _draft(im: Image.Image) -> None:
    """Have a big JPEG (a phone photo) decode at 1/2 to 1/8 scale, as its DCT allows: a 24-MP one then costs ~6 MB
    instead of ~100. Other formats decode whole."""
    if im.format == "JPEG" and max(im.size) > 2 * REDUCED:
        factor = max(im.size) // REDUCED
        im.draft(im.mode, (im.width // factor, im.height // factor))


def pixels_decoded(source: str | os.PathLike | bytes | bytearray | memoryview) -> int:
    """How many pixels canvas_to_mnist decodes to read an image file (or its bytes): width x height, less for a big
    JPEG; read from the header, like image_size."""
    with _decoding(), Image.open(_file_like(source)) as im:
        _draft(im)
        return im.width * im.height


@contextmanager
def _decoding() -> Iterator[None]:
    """Turn what PIL raises on a missing, foreign, damaged or huge file into a message for the user.

    PIL's DecompressionBombWarning (a header claiming over ~89 megapixels) is left to warn: such a file is refused
    by _check_size anyway, and warnings.catch_warnings, which would silence it, is not thread-safe: two uploads
    decoded at once left its "ignore" filter behind, silencing every warning in the process for good."""
    try:
        yield
    except InvalidImageError:
        raise
    except (FileNotFoundError, IsADirectoryError):
        raise InvalidImageError("could not read the image: file not found") from None
    except Image.DecompressionBombError:  # PIL's own limit, far above ours, also refused before decoding
        raise _too_large() from None
    except UnidentifiedImageError:
        raise InvalidImageError("could not read the image: not a recognised image format") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:  # what PIL's decoders raise on damaged data
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)[:200] or type(e).__name__
        reason = "the file is truncated" if "truncated" in reason.lower() else reason  # PIL: "Truncated File Read"
        raise InvalidImageError(f"could not read the image: {reason}") from None


def _read_pil(im: Image.Image) -> tuple[Luminance, np.ndarray | None]:
    _check_size(*im.size)
    with _decoding():
        im.load()  # a lazily opened image decodes here, where a damaged file gets its message
    # phone photos come sideways with a rotation tag, turned once shrunk: a turned copy of a 25-MP picture would cost
    # its size again
    turn = _TURNS.get(im.getexif().get(ExifTags.Base.Orientation, 1))
    if im.mode in _HIGH_BIT_MODES:  # 16-bit and float: read as numbers, once shrunk like the 8-bit ones below
        return _read_array(np.asarray(_turned(_shrink(im), turn)))
    if im.mode in ("L", "LA", "RGB", "RGBA"):  # shrunk before any conversion, which copies the picture whole
        im = _shrink(im)
    try:
        if "A" in im.getbands() or "a" in im.getbands() or "transparency" in im.info:
            im = im if im.mode == "RGBA" else im.convert("RGBA")
        elif im.mode not in ("L", "RGB"):
            im = im.convert("RGB")  # CMYK, YCbCr, LAB, HSV, P, 1, ... all go through RGB
    except ValueError:  # a mode PIL cannot convert (e.g. premultiplied "La"): read its channels as they are
        return _read_array(np.asarray(_turned(im, turn)))
    im = _turned(_shrink(im), turn)
    alpha = np.asarray(im.getchannel("A")) if im.mode == "RGBA" else None
    return (lambda: np.asarray(im.convert("L"))), alpha


# EXIF orientation -> the transposition that shows the picture upright (as ImageOps.exif_transpose applies them)
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _turned(im: Image.Image, turn: Image.Transpose | None) -> Image.Image:
    return im if turn is None else im.transpose(turn)


def _shrink(im: Image.Image) -> Image.Image:
    """A big upload with blocks of pixels averaged, which keeps the rest fast and small: a 25-megapixel picture as
    float32 arrays would cost hundreds of MB, and the digit needs ~1000 px at most."""
    if max(im.size) <= 2 * REDUCED:
        return im
    factor = max(im.size) // REDUCED
    if im.mode.startswith("I;16"):  # PIL's reduce() refuses 16-bit modes; a box resize is the same block average
        return im.resize((-(-im.width // factor), -(-im.height // factor)), Image.BOX)
    return im.reduce(factor)


def _read_array(a: np.ndarray) -> tuple[Luminance, np.ndarray | None]:
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise InvalidImageError(f"expected an image array of numbers, got dtype {a.dtype}")
    while a.ndim > 3 and a.shape[0] == 1:  # a batch of one, e.g. [1,1,H,W]
        a = a[0]
    if a.ndim == 3 and a.shape[-1] > 4 and a.shape[0] <= 4:  # channels first, as torch keeps them
        if a.shape[0] == 2:  # grey + alpha is a PIL layout, never torch's: this is a batch of two
            raise InvalidImageError(f"expected one image, got {list(a.shape)}: a batch of 2? Pass them one at a time")
        a = np.moveaxis(a, 0, -1)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or not 1 <= a.shape[-1] <= 4:
        raise InvalidImageError(f"expected an image array shaped [H,W] or [H,W,C] with C<=4, got {list(a.shape)}")
    _check_size(a.shape[1], a.shape[0])
    if a.dtype != np.uint8:
        a = _to_unit(a)
    channels = a.shape[-1]
    alpha = np.ascontiguousarray(a[..., -1]) if channels in (2, 4) else None
    if channels <= 2:
        return (lambda: np.ascontiguousarray(a[..., 0])), alpha
    if a.dtype == np.uint8:  # Gradio's numpy images: PIL converts them in C
        return (lambda: np.asarray(Image.fromarray(np.ascontiguousarray(a)).convert("L"))), alpha
    return (lambda: a[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)), alpha


def _to_unit(a: np.ndarray) -> np.ndarray:
    """float32 in [0,1], scaled by the range the dtype implies (8 bit; 16 bit, or the 10, 12 or 14 bits such images
    often hold), else by the values' own range."""
    if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
        raise InvalidImageError("the image contains NaN or infinite values")
    lo, hi = float(a.min()), float(a.max())
    if max(-lo, hi) > 1e30:  # no picture's values; float32 arithmetic below would overflow on them
        raise InvalidImageError(f"the image's values are out of range for pixels (as large as {max(-lo, hi):.3g})")
    if a.dtype == np.uint16:  # a scanner's or a microscope's 12 bits, read as 16, would be too faint to find ink
        lo, scale = 0.0, float(2 ** max(8, int(hi).bit_length()) - 1)
    elif np.issubdtype(a.dtype, np.floating) and lo >= 0 and hi <= 1:
        lo, scale = 0.0, 1.0
    elif lo >= 0 and hi <= 255:
        lo, scale = 0.0, 255.0
    else:
        scale = hi - lo if hi - lo > 1e-30 else 1.0  # less is no contrast (and 1 / scale overflows float32)
    return ((a.astype(np.float32) - np.float32(lo)) * np.float32(1 / scale)).astype(np.float32)


# --- finding the ink: a float32 crop around it, 0 = background, 1 = the strongest stroke -------------------------


def _ink_crop(luminance: Luminance, alpha: np.ndarray | None) -> np.ndarray | None:
    lum = None
    if alpha is not None:
        unit = 255 if alpha.dtype == np.uint8 else 1.0
        if alpha.min() < 0.98 * unit:
            opaque = _sample(alpha) > unit / 2
            if np.count_nonzero(opaque) < opaque.size / 2:
                # strokes on a transparent sheet (an editor layer): every opaque pixel is ink, whatever its colour
                return _crop(alpha, background=0.0, sign=1, noise=0.0)
            lum, a = _as_float(luminance()), _as_float(alpha)
            tones = _sample(lum)[opaque]
            if np.percentile(tones, 98) - np.percentile(tones, 2) < MIN_CONTRAST:
                # one colour all over: strokes after all, only broad ones
                return _crop(alpha, background=0.0, sign=1, noise=0.0)
            # an opaque picture with transparent parts: those parts take the picture's background tone
            lum = lum * a + float(np.median(tones)) * (1 - a)
    lum = luminance() if lum is None else lum
    unit = 255 if lum.dtype == np.uint8 else 1.0
    levels = np.arange(256)
    ring = _histogram(_border(lum))
    bg = _median_level(ring)  # the background is what the picture's border mostly holds
    noise = _median_level(np.bincount(np.abs(levels - bg), weights=ring, minlength=256))  # its spread (MAD)
    level = max(3 * noise, 5)
    # the ink is the side of the background (darker or lighter) with more mass clear of the noise
    hist = _histogram(_sample(lum))
    above = (hist * np.clip(levels - bg - level, 0, None)).sum()
    below = (hist * np.clip(bg - levels - level, 0, None)).sum()
    if above == below:  # the sample missed the ink (a hairline): fall back on the extremes
        above, below = float(lum.max()) / unit * 255 - bg, bg - float(lum.min()) / unit * 255
    return _crop(lum, background=bg / 255 * unit, sign=1 if above > below else -1, noise=3 * noise / 255 * unit)


def _histogram(a: np.ndarray) -> np.ndarray:
    q = a if a.dtype == np.uint8 else np.round(a * 255).astype(np.uint8)
    return np.bincount(q.ravel(), minlength=256).astype(np.float64)


def _median_level(hist: np.ndarray) -> int:
    return int(np.searchsorted(np.cumsum(hist), hist.sum() / 2))


def _border(a: np.ndarray) -> np.ndarray:
    b = max(1, min(a.shape) // 50)
    return np.concatenate([a[:b].ravel(), a[-b:].ravel(), a[b:-b, :b].ravel(), a[b:-b, -b:].ravel()])


def _sample(a: np.ndarray) -> np.ndarray:
    """About 40k pixels on a grid: plenty for the statistics of the background."""
    step = max(1, int((a.shape[0] * a.shape[1] / 40_000) ** 0.5))
    return a[::step, ::step]


def _crop(x: np.ndarray, background: float, sign: int, noise: float) -> np.ndarray | None:
    """Ink = how far x strays from the background on the ink's side, less the noise, scaled to peak at 1."""
    unit = 255 if x.dtype == np.uint8 else 1.0
    reduce = np.max if sign > 0 else np.min
    by_row = (reduce(x, 1).astype(np.float32) - background) * sign  # the strongest ink in each row / column
    by_col = (reduce(x, 0).astype(np.float32) - background) * sign
    peak = float(by_row.max())
    if peak < MIN_CONTRAST * unit:
        return None
    floor = min(max(noise, 0.05 * peak), 0.5 * peak)
    cut = floor + INK_LEVEL * (peak - floor)
    rows, cols = np.flatnonzero(by_row > cut), np.flatnonzero(by_col > cut)
    crop = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32)
    ink = ((crop - background) * sign - floor) / (peak - floor)
    return np.clip(ink, 0, 1, out=ink)


# --- MNIST's layout --------------------------------------------------------------------------------------------


def _mnist_layout(ink: np.ndarray) -> np.ndarray | None:
    """The cropped ink, its strokes brought to MNIST's width, scaled into the 20-px box and centred in 28x28."""
    h, w = ink.shape
    scale = WORK / max(h, w)
    work = _resize(ink, max(1, round(w * scale)), max(1, round(h * scale)))
    # renormalise: a hairline averaged down is faint, yet it is as much a stroke as a marker's
    work = np.pad(work / max(float(work.max()), 1e-6), WORK // 4)  # the padding leaves room to thicken
    strokes = _tight(work)
    if strokes is not None and _stroke_width(work) * BOX / max(strokes.shape) > MAX_WIDTH:
        raise InvalidImageError("that is a dot or a blob, not a digit: draw the digit larger, in lines")
    work = _tight(_set_stroke_width(work, *PEN_WIDTHS))
    if work is None:
        return None
    h, w = work.shape
    scale = BOX / max(h, w)
    digit = _resize(work, max(1, round(w * scale)), max(1, round(h * scale)))
    digit = np.clip(digit / max(float(digit.max()), 1e-6), 0, 1)
    return _centre(digit)


def _tight(ink: np.ndarray) -> np.ndarray | None:
    strong = ink > INK_LEVEL
    rows, cols = np.flatnonzero(strong.any(1)), np.flatnonzero(strong.any(0))
    if rows.size == 0:
        return None
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-average when shrinking (that is MNIST's anti-aliasing), bilinear when enlarging."""
    shrink = width < a.shape[1] or height < a.shape[0]
    im = Image.fromarray(a.astype(np.float32)).resize((width, height), Image.BOX if shrink else Image.BILINEAR)
    return np.asarray(im, dtype=np.float32)


def _stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels: ink area over stroke length, the length being half the outline."""
    strong = ink > INK_LEVEL
    edges = np.count_nonzero(strong[1:] != strong[:-1]) + np.count_nonzero(strong[:, 1:] != strong[:, :-1])
    return float(ink.sum()) / max(edges * np.pi / 8, 1.0)  # pi/4: a pixel outline is 4/pi times the true one


def _set_stroke_width(ink: np.ndarray, low: float, high: float) -> np.ndarray:
    """Dilate or erode until the stroke width, in pixels of the 20-px box it will be scaled to, is in [low, high]."""
    eroded, erodible = 0.0, ERODE_MAX * _stroke_width(ink)
    for _ in range(3):  # the width moves by less than the radius (ends and joins grow too): correct and repeat
        width, side = _stroke_width(ink), float(max(_tight(ink).shape))
        target = min(max(width * BOX / side, low), high)
        # growing the strokes by 2r grows the box by about 2r too, which the scaling to 20 px then undoes in part
        radius = (target * side / BOX - width) / (2 * (1 - target / BOX))
        if radius > 0.25:
            ink = _morph(ink, radius, dilate=True)
        elif radius < -0.25 and eroded < erodible:
            thinner = _morph(ink, min(-radius, erodible - eroded), dilate=False)
            if _tight(thinner) is None:  # nothing strong left (a faint dot): keep it as it was
                break
            ink, eroded = thinner, eroded - radius
        else:
            break
    return ink


_CROSS = ((-1, 0), (1, 0), (0, -1), (0, 1))
_SQUARE = (*_CROSS, (-1, -1), (-1, 1), (1, -1), (1, 1))


def _morph(ink: np.ndarray, radius: float, dilate: bool) -> np.ndarray:
    """Grey dilation or erosion by about a disk of any radius: 3x3 steps alternating cross and square (an octagon),
    the last step weighted by the fraction left over, so that r=0.4 grows each stroke by 0.4 px a side."""
    whole, part = int(radius), radius - int(radius)
    for step in range(whole + (part > 0.05)):
        weight = 1.0 if step < whole else part
        padded = np.pad(ink, 1, constant_values=0.0 if dilate else 1.0)
        out = ink.copy()
        for dy, dx in _SQUARE if step % 2 else _CROSS:
            shifted = padded[1 + dy : 1 + dy + ink.shape[0], 1 + dx : 1 + dx + ink.shape[1]]
            if dilate:
                np.maximum(out, shifted * weight if weight < 1 else shifted, out=out)
            else:
                np.minimum(out, shifted * weight + (1 - weight) if weight < 1 else shifted, out=out)
        ink = out
    return ink


def _centre(digit: np.ndarray) -> np.ndarray:
    """Paste into 28x28 with the centre of mass at MNIST's (14, 14), shifting by whole pixels as MNIST did."""
    h, w = digit.shape
    mass = float(digit.sum())
    cy = float((digit.sum(1) * np.arange(h)).sum()) / mass
    cx = float((digit.sum(0) * np.arange(w)).sum()) / mass
    top = int(np.clip(round(CENTRE - cy), 0, SIZE - h))
    left = int(np.clip(round(CENTRE - cx), 0, SIZE - w))
    out = np.zeros((SIZE, SIZE), np.float32)
    out[top : top + h, left : left + w] = digit
    return out
