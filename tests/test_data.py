"""MNIST loading (every source, offline fallback, the error when nothing has the split) and batching."""

from __future__ import annotations

import gzip
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import aedemo.data as data
from aedemo.data import DataError, DataNotFoundError, batches, load_mnist, one_per_class, to_float


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write `array` (uint8) as a gzipped IDX file, the format MNIST ships in."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def make_split(root: Path, split: str, n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    prefix = "train" if split == "train" else "t10k"
    write_idx(root / "MNIST" / "raw" / f"{prefix}-images-idx3-ubyte.gz", images)
    write_idx(root / "MNIST" / "raw" / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return images, labels


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No cached download, no AEDEMO_DATA_DIR, and a torchvision download that fails at once (as offline)."""
    tv = pytest.importorskip("torchvision.datasets")
    calls = []

    def no_network(self):
        calls.append(self.train)
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    monkeypatch.setattr(tv.MNIST, "download", no_network)
    monkeypatch.setattr(data, "DOWNLOAD_DIR", tmp_path / "cache")
    monkeypatch.delenv("AEDEMO_DATA_DIR", raising=False)
    return calls


def test_test_split_offline_comes_from_the_bundled_official_files(offline):
    images, labels = load_mnist("test")
    assert images.shape == (10000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (10000,) and labels.dtype == torch.int64
    assert set(labels.tolist()) == set(range(10))
    assert images.float().mean() > 20  # real digits, not a blank placeholder
    assert offline == []  # the bundled copy is the official one: no download is attempted for it


def test_missing_train_split_says_where_it_looked_and_how_to_fix(offline, tmp_path):
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    with pytest.raises(DataNotFoundError) as err, pytest.warns(UserWarning):
        load_mnist("train", empty)
    message = str(err.value)
    assert str(empty) in message  # the folder it was asked to read
    assert str(tmp_path / "cache") in message  # the download cache
    assert "torchvision download" in message and "bundled" in message
    assert "(failed: RuntimeError: Error downloading train-images-idx3-ubyte.gz: no network)" in message  # why
    assert "--data-dir" in message and "AEDEMO_DATA_DIR" in message  # how to fix it
    assert "train-images-idx3-ubyte.gz" in message
    assert offline == [True]  # the download was tried, and its failure did not escape as a traceback


def test_no_download_when_asked_not_to(offline):
    with pytest.raises(DataNotFoundError):
        load_mnist("train", download=False)
    assert offline == []


def test_explicit_folder_in_torchvision_layout(offline, tmp_path):
    images, labels = make_split(tmp_path / "d", "train")
    x, y = load_mnist("train", tmp_path / "d")
    assert torch.equal(x, torch.from_numpy(images))
    assert torch.equal(y, torch.from_numpy(labels.astype(np.int64)))
    assert y.dtype == torch.int64


def _cut_short(path: Path) -> None:
    """The file as an interrupted download leaves it: its first half."""
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _short_of_100_bytes(path: Path) -> None:
    """A whole gzip file whose content lacks its last 100 bytes."""
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-100]))


@pytest.mark.parametrize("damage, says", [
    (lambda raw: _cut_short(raw / "train-images-idx3-ubyte.gz"), "train-images-idx3-ubyte.gz is not a whole gzip"),
    (lambda raw: (raw / "train-labels-idx1-ubyte.gz").write_bytes(b"<html>Not found</html>"),
     "train-labels-idx1-ubyte.gz is not a whole gzip"),
    (lambda raw: _short_of_100_bytes(raw / "train-images-idx3-ubyte.gz"),
     "holds 4,604 bytes for a header that says 6 x 28 x 28"),
    (lambda raw: write_idx(raw / "train-images-idx3-ubyte.gz", np.zeros(6)), "is not an MNIST image file"),
    (lambda raw: write_idx(raw / "train-labels-idx1-ubyte.gz", np.zeros((6, 28, 28))), "is not an MNIST label file"),
    # the test split's images under the train split's name: 10 images, 6 labels
    (lambda raw: write_idx(raw / "train-images-idx3-ubyte.gz", np.zeros((10, 28, 28))), "do not belong together"),
    (lambda raw: write_idx(raw / "train-labels-idx1-ubyte.gz", np.full(6, 255)), "some over 9"),
])
def test_a_damaged_file_is_named_with_what_is_wrong_and_the_fix(offline, tmp_path, damage, says):
    # they failed as EOFError / reshape tracebacks naming no file, or (other files under the names) loaded
    make_split(tmp_path / "d", "train")
    damage(tmp_path / "d" / "MNIST" / "raw")
    with pytest.raises(DataError, match=re.escape(says)) as e:
        load_mnist("train", tmp_path / "d")
    assert str(tmp_path / "d" / "MNIST" / "raw") in str(e.value) and "download" in str(e.value)


def test_a_damaged_file_in_the_download_cache_is_warned_of_and_the_next_source_used(offline, tmp_path):
    # a torn download there hid the bundled test set behind it, and every tab of the Space that shows test digits
    cache = tmp_path / "cache" / "MNIST" / "raw"
    cache.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (cache / name).write_bytes((data.BUNDLED_DIR / name).read_bytes())
    _cut_short(cache / "t10k-images-idx3-ubyte.gz")
    with pytest.warns(UserWarning, match=r"t10k-images-idx3-ubyte.gz is not a whole gzip file.*looking elsewhere"):
        x, y = load_mnist("test")
    assert len(x) == len(y) == 10_000  # the bundled copy


def test_the_trainer_says_a_damaged_file_is_damaged_without_a_traceback(offline, tmp_path, capsys):
    from aedemo.train import main

    make_split(tmp_path / "d", "train")
    _cut_short(tmp_path / "d" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz")
    with pytest.raises(SystemExit, match="^error: .*train-images-idx3-ubyte.gz is not a whole gzip file"):
        main(["--variant", "ae", "--epochs", "1", "--data-dir", str(tmp_path / "d"), "--out", str(tmp_path / "o")])


def test_evaluate_and_a_hub_push_say_a_damaged_file_is_damaged_without_a_traceback(offline, tmp_path, monkeypatch,
                                                                                   capsys):
    # both read the test digits ($AEDEMO_DATA_DIR first; a push draws the model card's grid) and let DataError out
    from aedemo import evaluate, hub
    from aedemo.checkpoint import CHECKPOINTS

    make_split(tmp_path / "d", "test")
    _cut_short(tmp_path / "d" / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz")
    monkeypatch.setenv("AEDEMO_DATA_DIR", str(tmp_path / "d"))
    says = "t10k-images-idx3-ubyte.gz is not a whole gzip file"
    with pytest.raises(SystemExit, match=f"^error: .*{says}"):
        evaluate.main([str(CHECKPOINTS / "pca")])
    assert hub.main(["push", "--variant", "pca", "--repo-id", "user/x", "--dry-run"]) == 1
    assert re.match(f"error: .*{says}", capsys.readouterr().err)


def test_env_folder_and_explicit_folder_win_over_the_bundle(offline, tmp_path, monkeypatch):
    images, _ = make_split(tmp_path / "env", "test", seed=1)
    monkeypatch.setenv("AEDEMO_DATA_DIR", str(tmp_path / "env"))
    assert torch.equal(load_mnist("test")[0], torch.from_numpy(images))
    other, _ = make_split(tmp_path / "arg", "test", seed=2)
    assert torch.equal(load_mnist("test", tmp_path / "arg")[0], torch.from_numpy(other))


def test_a_named_folder_without_the_split_is_warned_of_before_the_fallback(offline, tmp_path):
    # a typo in --data-dir used to train or score on other data without a word
    with pytest.warns(UserWarning, match=re.escape(f"MNIST 'test' split not found in {tmp_path / 'typo'}")):
        images, _ = load_mnist("test", tmp_path / "typo")
    assert images.shape == (10000, 28, 28)  # then the bundled official test set, as before


def test_a_data_folder_set_in_the_environment_may_lack_the_test_split(offline, tmp_path, monkeypatch):
    make_split(tmp_path / "env", "train")  # a Space's training data: the test split comes bundled
    monkeypatch.setenv("AEDEMO_DATA_DIR", str(tmp_path / "env"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on every start of the app
        assert load_mnist("test")[0].shape == (10000, 28, 28)


def test_earlier_download_in_cache_is_used(offline, tmp_path):
    images, _ = make_split(tmp_path / "cache", "train", seed=3)
    assert torch.equal(load_mnist("train")[0], torch.from_numpy(images))
    assert offline == []


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")


def test_to_float_layout_and_range():
    images = torch.tensor([[[0] * 28] * 28, [[255] * 28] * 28], dtype=torch.uint8)
    x = to_float(images)
    assert x.shape == (2, 1, 28, 28) and x.dtype == torch.float32
    assert x[0].max() == 0.0 and x[1].min() == 1.0
    floats = images.float()
    with pytest.raises(TypeError, match="uint8"):  # it divides by 255 in place: a float input is the caller's own
        to_float(floats)
    assert floats.max() == 255.0
    with pytest.raises(ValueError, match=r"images \[N,28,28\], got \[28, 28\]: one image is images\[None\]"):
        to_float(images[0])  # came back [28,1,28], which encode then refused for its shape


def test_shuffled_batches_cover_every_sample_once_and_follow_the_seed():
    x = torch.arange(10.0).view(10, 1)
    y = torch.arange(10)
    got = list(batches(x, y, 4, generator=torch.Generator().manual_seed(0)))
    assert [len(b) for b, _ in got] == [4, 4, 2]
    order = torch.cat([b for _, b in got])
    assert sorted(order.tolist()) == list(range(10))
    assert torch.equal(torch.cat([b for b, _ in got]).view(-1).long(), order)  # images stay with their labels
    again = torch.cat([b for _, b in batches(x, y, 4, generator=torch.Generator().manual_seed(0))])
    other = torch.cat([b for _, b in batches(x, y, 4, generator=torch.Generator().manual_seed(1))])
    assert torch.equal(order, again) and not torch.equal(order, other)


def test_unshuffled_batches_keep_order():
    x, y = torch.arange(5.0).view(5, 1), torch.arange(5)
    assert [b.tolist() for _, b in batches(x, y, 2, shuffle=False)] == [[0, 1], [2, 3], [4]]


def test_one_per_class_gives_rows_of_digits_0_to_9_and_skips_missing_ones():
    labels = torch.tensor([3, 0, 1, 0, 2, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    idx = one_per_class(labels, rows=2)
    assert labels[idx].tolist() == list(range(10)) * 2 and idx[:10].tolist() == [1, 2, 4, 0, 5, 6, 7, 8, 9, 10]
    no_fives = labels[labels != 5]
    assert no_fives[one_per_class(no_fives)].tolist() == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    # no digit with enough examples: torch.stack's "expects a non-empty TensorList"
    assert one_per_class(labels, rows=3).tolist() == [] and one_per_class(labels[:0]).tolist() == []
