"""Turning model tensors into crisp pictures for the browser, and the SSIM the Denoise tab reports."""

from __future__ import annotations

import base64
import html
import io
import math
import re

import numpy as np
import torch
import torch.nn.functional as F

GRID_BORDER = 60  # grey of the lines between grid cells, dark enough not to read as ink


def to_uint8(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Any [28,28]-shaped image ([1,1,28,28], [1,28,28], [28,28]) in [0,1] -> uint8 [28,28]; NaN -> 0."""
    x = torch.as_tensor(x)
    return to_uint8_batch(x.reshape(1, x.shape[-2], x.shape[-1]))[0]


def to_uint8_batch(x: torch.Tensor) -> np.ndarray:
    """[N,(1,)H,W] in [0,1] -> uint8 [N,H,W], all in a few tensor ops (the Draw tab converts nine at once)."""
    x = x.detach().to("cpu", torch.float32).reshape(x.shape[0], x.shape[-2], x.shape[-1])
    return x.nan_to_num(0.0, 1.0, 0.0).clamp_(0.0, 1.0).mul_(255.0).add_(0.5).to(torch.uint8).numpy()


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour upscaling: every pixel becomes a scale x scale block, so edges stay crisp."""
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def show(x: torch.Tensor | np.ndarray, scale: int = 1) -> np.ndarray:
    """One digit as a uint8 picture, `scale` times its size.

    The tabs send digits at their true 28x28 and let the browser enlarge them (CSS `image-rendering: pixelated`
    in ui.CSS): a 28x28 PNG is 25x fewer pixels to encode per image than a 140x140 one, and an API caller gets
    the model's output pixel for pixel.
    """
    return to_uint8(x) if scale == 1 else upscale(to_uint8(x), scale)


def png_data_url(image: np.ndarray) -> str:
    """A uint8 picture as a `data:image/png;base64,...` URL."""
    from PIL import Image

    buffer = io.BytesIO()
    # uncompressed: for 28x28 digits zlib saves ~20 % of the bytes and costs ~4x the time (123 vs 34 us)
    Image.fromarray(image).save(buffer, format="PNG", compress_level=0)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def tiles_html(tiles: list[tuple[np.ndarray, str, dict[str, str]]]) -> str:
    """Captioned digits as one HTML grid, each picture inline as a PNG data URL.

    `tiles` are (uint8 picture, caption, data attributes). The Draw and Denoise tabs show their outputs this way
    rather than in a gr.Gallery, which writes every picture to a file and serves it separately: inline, the
    nine cost ~1 ms to encode instead of ~20 ms of file work per stroke, and nothing accumulates on disk.
    The data attributes (e.g. data-model, data-mse) let an API caller read the figures back: see read_tiles.
    """
    figures = []
    for picture, caption, attributes in tiles:
        data = "".join(f' data-{k}="{html.escape(str(v))}"' for k, v in attributes.items())
        figures.append(
            f'<figure{data}><img src="{png_data_url(picture)}" alt="">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    return f'<div class="digit-tiles">{"".join(figures)}</div>' if figures else ""


NOTE_START = '<p class="tiles-note">'


def note_html(text: str) -> str:
    """A line of text where the tiles would be: the canvas emptied left a blank panel, its reason at the page's foot."""
    return f"{NOTE_START}{html.escape(text)}</p>"


def is_note(shown: object) -> bool:
    """Whether a panel's value is a note_html() rather than tiles."""
    return isinstance(shown, str) and shown.startswith(NOTE_START)


_TILE = re.compile(r"<figure(?P<attrs>[^>]*)><img src=\"data:image/png;base64,(?P<png>[^\"]+)\"[^>]*>"
                   r"<figcaption>(?P<caption>.*?)</figcaption></figure>")
_ATTR = re.compile(r'data-([\w-]+)="([^"]*)"')


def read_tiles(tiles: str) -> list[tuple[np.ndarray, str, dict[str, str | float]]]:
    """The inverse of tiles_html: [(uint8 picture, caption, data attributes)], e.g. for an API caller; the figures
    (mse, psnr, ssim) as floats, the model's name as text."""
    from PIL import Image

    def value(key: str, text: str) -> str | float:
        if key == "model":  # a name, whatever it looks like
            return text
        try:
            return float(text)
        except ValueError:
            return text

    out = []
    for m in _TILE.finditer(tiles or ""):
        picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(m["png"]))))
        attributes = {k: value(k, html.unescape(v)) for k, v in _ATTR.findall(m["attrs"])}
        out.append((picture, html.unescape(m["caption"]), attributes))
    return out


def grid(x: torch.Tensor, ncol: int | None = None, scale: int = 2, pad: int = 1) -> np.ndarray:
    """[N,1,28,28] in [0,1] -> one uint8 picture of the digits in rows of `ncol` (a square-ish grid by default), each
    framed by `pad` grey pixels; the last row's empty places are grey. torchvision's make_grid lays digits out so, but
    importing torchvision brings in torch._dynamo (through torchvision.ops): 1.6 s of the app's start-up on the Zen 3
    VM of docs/performance.md, where the Generate tab draws its first grid while the app is built."""
    ncol = ncol or math.ceil(math.sqrt(x.shape[0]))
    border = GRID_BORDER / 255
    cells = x.detach().to("cpu", torch.float32).nan_to_num(0.0, 1.0, 0.0).clamp(0.0, 1.0)
    cells = cells.reshape(cells.shape[0], cells.shape[-2], cells.shape[-1])
    n, h, w = cells.shape
    nrow = -(-n // ncol)
    cells = torch.cat([cells, cells.new_full((nrow * ncol - n, h, w), border)])
    cells = F.pad(cells, (0, pad, 0, pad), value=border)  # a border right of and below each cell...
    rows = cells.reshape(nrow, ncol, h + pad, w + pad).permute(0, 2, 1, 3).reshape(nrow * (h + pad), ncol * (w + pad))
    picture = F.pad(rows, (pad, 0, pad, 0), value=border)  # ...and along the top and the left
    return upscale(to_uint8(picture), scale)


def fit_scale(n_cols: int, target_px: int = 420, max_scale: int = 5) -> int:
    """The integer upscaling that makes n_cols digits about target_px wide (integers keep the pixels square)."""
    return max(1, min(max_scale, round(target_px / (n_cols * 29))))


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).view(1, 1, size, size)


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Structural similarity (Wang et al., 2004) per image, shape [B], for x, y float [B,1,H,W].

    The paper's settings: an 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, statistics over
    'valid' windows only (no padding, so the border does not invent structure), averaged over the map.
    """
    x, y = x.to(torch.float32), y.to(torch.float32)
    window = _gaussian_window().to(x.device)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, window)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1)
