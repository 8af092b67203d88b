"""MNIST loading with an offline fallback, and batches drawn from device-resident tensors."""

from __future__ import annotations

import gzip
import math
import os
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

BUNDLED_DIR = Path(__file__).parent / "assets" / "mnist"
DOWNLOAD_DIR = Path(os.environ.get("AEDEMO_CACHE", Path.home() / ".cache" / "aedemo")).expanduser()

_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class DataNotFoundError(FileNotFoundError):
    """No source could provide the requested MNIST split."""


class DataError(ValueError):
    """An MNIST file that is not what its name says: cut short (an interrupted download, say), corrupt, or another
    file under its name. The message names the file."""


def _read_idx(path: Path, shape_after_count: tuple[int, ...]) -> np.ndarray:
    """Read a gzipped IDX file of uint8 values (the format MNIST ships in) whose items have `shape_after_count`
    (28x28 for images, () for labels), checking its header against its length."""
    fix = "delete it and download it again"
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as e:  # a torn download: gzip reads to where it ends, then fails
        raise DataError(f"{path} is not a whole gzip file ({e}): {fix}") from None
    ndim = 1 + len(shape_after_count)
    if len(data) < 4 + 4 * ndim or data[:4] != bytes([0, 0, 0x08, ndim]):  # 0x08: unsigned bytes
        raise DataError(f"{path} is not an MNIST {'image' if ndim > 1 else 'label'} file (its header is "
                        f"{data[:4].hex() or 'missing'}, not 000008{ndim:02x}): {fix}")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if shape[1:] != shape_after_count or len(data) != 4 + 4 * ndim + math.prod(shape):
        raise DataError(f"{path} holds {len(data) - 4 - 4 * ndim:,} bytes for a header that says "
                        f"{' x '.join(map(str, shape))}: {fix}")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _from_folder(root: Path, split: str) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Look for the split in `root` (torchvision's `<root>/MNIST/raw/` layout, or the files directly)."""
    for raw in (root / "MNIST" / "raw", root):
        paths = [raw / name for name in _FILES[split]]
        if all(p.is_file() for p in paths):
            images = torch.from_numpy(_read_idx(paths[0], (28, 28)).copy())
            labels = torch.from_numpy(_read_idx(paths[1], ()).astype(np.int64))
            if len(images) != len(labels) or (len(labels) and int(labels.max()) > 9):
                raise DataError(f"{paths[0]} ({len(images):,} images) and {paths[1]} ({len(labels):,} labels"
                                f"{', some over 9' if len(labels) and int(labels.max()) > 9 else ''}) do not "
                                "belong together: delete them and download them again")
            return images, labels
    return None


def _from_torchvision(split: str) -> tuple[torch.Tensor, torch.Tensor] | str:
    """Download through torchvision; when that fails (no network, a full disk, no torchvision), why, in a few words."""
    try:
        from torchvision.datasets import MNIST

        ds = MNIST(str(DOWNLOAD_DIR), train=(split == "train"), download=True)
    except Exception as e:  # any failure means "this source has nothing", and the error says why
        reason = " ".join(str(e).split())  # torchvision's messages run over several lines
        reason = reason if len(reason) <= 300 else reason[:300] + "…"
        return f"{type(e).__name__}: {reason}" if reason else type(e).__name__
    return ds.data.clone(), ds.targets.to(torch.int64).clone()


def load_mnist(
    split: str = "train", data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return MNIST `split` ("train" or "test") as uint8 images [N,28,28] and int64 labels [N].

    Sources, first that works: `data_dir` or env AEDEMO_DATA_DIR (torchvision layout), an earlier download in
    ~/.cache/aedemo (env AEDEMO_CACHE, read when aedemo.data is imported), the official 10k test set bundled with
    the package (test split only), then torchvision's download (unless `download=False`). The bundle comes before
    the download because it holds the official test files: downloading would fetch nothing new, and offline the
    attempt costs ~10 s of retries. A damaged file (DataError, naming it) in a folder the caller named is raised; one
    in the download cache is warned of, and the next source tried.
    """
    if split not in _FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    tried: list[str] = []
    explicit = data_dir if data_dir is not None else os.environ.get("AEDEMO_DATA_DIR")
    if explicit:
        folder = Path(explicit).expanduser()
        found = _from_folder(folder, split)
        if found is not None:
            return found
        tried.append(f"{folder / 'MNIST' / 'raw'} (no {_FILES[split][0]})")
        if data_dir is not None:  # a folder the caller named, a typo perhaps: the next sources hold other data
            warnings.warn(f"MNIST {split!r} split not found in {tried[0]}; looking elsewhere", stacklevel=2)
    try:
        found = _from_folder(DOWNLOAD_DIR, split)
    except DataError as e:  # an interrupted download, say: not a folder the caller named, so on to the next source
        warnings.warn(f"{e}; looking elsewhere", stacklevel=2)
        found = None
        tried.append(f"download cache {DOWNLOAD_DIR} (damaged: {e})")
    else:
        tried.append(f"download cache {DOWNLOAD_DIR}")
    if found is not None:
        return found
    found = _from_folder(BUNDLED_DIR, split)
    if found is not None:
        return found
    tried.append(f"bundled copy in {BUNDLED_DIR} (holds only the test split)")
    if download:
        found = _from_torchvision(split)
        if not isinstance(found, str):
            return found
        tried.append(f"torchvision download into {DOWNLOAD_DIR} (failed: {found})")
    raise DataNotFoundError(
        f"MNIST {split!r} split not found. Looked in: " + "; ".join(tried) + ". "
        "Fix: pass data_dir / --data-dir (or set AEDEMO_DATA_DIR) to a folder holding "
        f"MNIST/raw/{_FILES[split][0]} and {_FILES[split][1]}, or connect to the internet."
    )


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [N,28,28] -> float32 [N,1,28,28] in [0,1], the layout every model takes."""
    if images.dtype != torch.uint8:  # a float tensor would be divided by 255 again, in place: the caller's own
        raise TypeError(f"to_float takes uint8 images (0-255), got {images.dtype}")
    if images.dim() != 3 or images.shape[1:] != (28, 28):  # one [28,28] image would become [28,1,28]
        hint = ": one image is images[None]" if images.shape == (28, 28) else ""
        raise ValueError(f"to_float takes images [N,28,28], got {list(images.shape)}{hint}")
    return images.to(torch.float32).div_(255.0).unsqueeze(1)


def one_per_class(labels: torch.Tensor, rows: int = 1) -> torch.Tensor:
    """Indices of `rows` rows of examples, row r holding the r-th example of each digit 0-9, in order; a digit with
    fewer than `rows` examples is left out (so a row may hold fewer than 10; none at all: an empty tensor)."""
    by_digit = [torch.nonzero(labels == d).flatten()[:rows] for d in range(10)]
    complete = [i for i in by_digit if len(i) == rows]
    return torch.stack(complete, dim=1).flatten() if complete else torch.zeros(0, dtype=torch.int64)


def batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (x, y) minibatches by indexing tensors that already live on the training device.

    This replaces a DataLoader: one permutation per epoch and one gather per batch, no per-sample
    Python work, which is what makes small models train at close to matmul speed.
    """
    n = x.shape[0]
    if shuffle:
        order = torch.randperm(n, generator=generator).to(x.device)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            # index_select is ~3x faster than x[idx] on the CPU: advanced indexing takes a generic path
            yield x.index_select(0, idx), y.index_select(0, idx)
    else:
        for start in range(0, n, batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]
