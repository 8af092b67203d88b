"""Every checkpoint shipped in checkpoints/ loads and reproduces the test-set figures its metrics.json claims.

To check a set of checkpoints before copying them into checkpoints/:
    AEDEMO_CHECKPOINTS=/path/to/folder python -m pytest tests/test_shipped_checkpoints.py
"""

from __future__ import annotations

import re
import shlex
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from aedemo import VARIANTS, load_model
from aedemo.card import public_command
from aedemo.checkpoint import checkpoints_root, read_metrics
from aedemo.data import load_mnist, to_float
from aedemo.evaluate import evaluate_model, load_classifier
from aedemo.train import parse_args, schedule_used

ROOT = checkpoints_root()
REPO = Path(__file__).resolve().parents[1]
NAMES = (*VARIANTS, "classifier")
SIZE_BUDGET = 40 * 2**20  # all checkpoints together, as the repository carries them
# Figures are recomputed with fixed seeds, so only float rounding may differ (another CPU's kernels, say);
# a sample's class can flip when the classifier is torn between two digits, hence the wider tolerance there.
TOLERANCE = {"sample_class_accuracy": {"abs": 0.01}, "accuracy": {"abs": 0.001}}
DEFAULT_TOLERANCE = {"rel": 1e-3, "abs": 1e-4}


def checkpoint(name: str) -> Path:
    folder = ROOT / name
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: train it with `python -m aedemo.train --variant {name} --epochs N "
                    f"--data-dir DIR --out {folder}` (DIR holding MNIST/raw; scripts/train_checkpoints.sh has each "
                    "shipped variant's epochs)")
    return folder


@pytest.fixture(scope="module")
def test_set() -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = load_mnist("test", download=False)
    return to_float(images), labels


@pytest.mark.parametrize("name", NAMES)
def test_shipped_checkpoint_loads_ready_for_inference(name):
    model = load_model(str(checkpoint(name)))
    assert model.variant == name
    assert not model.training and all(p.device.type == "cpu" for p in model.parameters())


@pytest.mark.parametrize("name", NAMES)
def test_shipped_checkpoint_reproduces_its_metrics(name, test_set):
    folder = checkpoint(name)
    claimed = read_metrics(folder).get("test")
    assert claimed, f"{folder / 'metrics.json'} has no test figures"
    measured = evaluate_model(load_model(str(folder)), *test_set, classifier=load_classifier(ROOT))
    assert set(measured) == set(claimed)
    for key, value in claimed.items():
        assert measured[key] == pytest.approx(value, **TOLERANCE.get(key, DEFAULT_TOLERANCE)), key


@pytest.mark.parametrize("name", NAMES)
def test_shipped_checkpoint_records_how_it_was_trained(name):
    training = read_metrics(checkpoint(name)).get("training", {})
    assert training.get("command", "").startswith(f"python -m aedemo.train --variant {name}")
    assert training.get("epochs", 0) >= 1 and training.get("seconds", -1) >= 0
    assert training.get("device") and training.get("torch")


@pytest.mark.parametrize("name", NAMES)
def test_the_command_a_card_shows_rebuilds_the_recorded_training_config(name):
    # Most were trained before --matmul-precision existed, at torch's "highest"; the flag's default is now
    # "medium", so their command as recorded would train with other arithmetic.
    training = read_metrics(checkpoint(name))["training"]
    words = shlex.split(public_command(training))
    assert words[:3] == ["python", "-m", "aedemo.train"]
    parsed = parse_args(words[3:])
    shown = {k: v for k, v in asdict(parsed).items() if k not in ("out", "data_dir")}
    # metrics.json records the schedule the run followed: a --time-budget run's is constant whatever --schedule says
    shown["schedule"] = schedule_used(parsed)
    assert shown == {"matmul_precision": "highest", **training["config"]}


@pytest.mark.parametrize("name", NAMES)
def test_the_rebuild_commands_train_as_each_model_was_trained(name):
    # checkpoints/README.md's table and scripts/train_checkpoints.sh trained the models made before
    # --matmul-precision at its new default, "medium", against the "highest" they were trained at: a rebuild as
    # documented came out further from the shipped figures than it had to
    if ROOT.resolve() != (REPO / "checkpoints").resolve():
        pytest.skip("the documented commands are the shipped checkpoints'")
    table = (REPO / "checkpoints" / "README.md").read_text()
    documented = dict(re.findall(r"^\| `(\w+)/` \|.*\| `(python -m aedemo\.train [^`]*)` \|$", table, re.M))
    script = (REPO / "scripts" / "train_checkpoints.sh").read_text()
    entries = re.search(r"^RUNS=\(([^)]*)\)", script, re.M)[1].split()  # name:epochs[:precision], medium by default
    runs = {v: (int(epochs), precision or "medium")
            for v, epochs, precision in (re.fullmatch(r"(\w+):(\d+)(?::(\w+))?", e).groups() for e in entries)}

    def config(command: str) -> dict:
        parsed = asdict(parse_args(shlex.split(command)[3:]))
        return {k: v for k, v in parsed.items() if k not in ("out", "data_dir")}

    recorded = config(public_command(read_metrics(checkpoint(name))["training"]))
    # a variant without its row or its run failed with a bare KeyError (docs/adding-a-variant.md says what they are)
    assert name in documented, f"checkpoints/README.md's table has no row for {name}/ and its training command"
    assert name in runs, f"scripts/train_checkpoints.sh's RUNS has no {name}:EPOCHS"
    assert config(documented[name]) == recorded
    assert runs[name] == (recorded["epochs"], recorded["matmul_precision"])


def test_checkpoints_fit_the_size_budget():
    files = [p for name in NAMES if (ROOT / name).is_dir() for p in (ROOT / name).iterdir()]
    assert sum(p.stat().st_size for p in files) <= SIZE_BUDGET
