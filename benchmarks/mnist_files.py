"""Where the training benchmarks find MNIST: as `python -m aedemo.train` does (aedemo.data.load_mnist), not in one
machine's folder.

`--data-dir`, else $AEDEMO_DATA_DIR, else aedemo's download cache, else a download (with the internet); where none
holds the training split, one line says so and the script exits.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script, without installing aedemo
from aedemo.data import DOWNLOAD_DIR, DataError, DataNotFoundError, load_mnist  # noqa: E402

HOW = "pass --data-dir DIR or set AEDEMO_DATA_DIR (DIR holding MNIST/raw/train-*.gz), or connect to the internet"


def load_splits(data_dir: str | os.PathLike | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, train labels, test images, test labels), as load_mnist finds them."""
    try:
        with warnings.catch_warnings():  # "not found in DIR; looking elsewhere": the exit below says it whole
            warnings.simplefilter("ignore")
            return (*load_mnist("train", data_dir), *load_mnist("test", data_dir))
    except (DataNotFoundError, DataError) as e:
        raise SystemExit(f"error: {e}") from None  # it says where it looked, and how to fix it


def raw_folder(data_dir: str | os.PathLike | None) -> Path:
    """The folder whose MNIST/raw holds the training files load_splits read (for torchvision's own MNIST class)."""
    for folder in (data_dir, os.environ.get("AEDEMO_DATA_DIR"), DOWNLOAD_DIR):
        if folder and (Path(folder).expanduser() / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file():
            return Path(folder).expanduser()
    raise SystemExit(f"error: no folder holds MNIST/raw/train-images-idx3-ubyte.gz ({HOW})")
