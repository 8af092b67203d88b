"""The trainer: it learns for every variant, reports through callbacks, stops cleanly, is reproducible, saves."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import platform
import resource
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from aedemo import VARIANTS, build_model, load_model
from aedemo.checkpoint import read_metrics
from aedemo.data import load_mnist, to_float
from aedemo.evaluate import evaluate_model, evaluate_terms
from aedemo.models import AUTOENCODERS
from aedemo.models.base import Trainable
from aedemo.train import (
    ConfigError,
    EpochInfo,
    StepInfo,
    TrainConfig,
    TrainingDiverged,
    bf16_autocast,
    check_config,
    float32_matmul_precision,
    flushing_denormals,
    main,
    parse_args,
    save_trained,
    train,
    train_command,
)

_images, _labels = load_mnist("test", download=False)
# a small train slice and a disjoint held-out slice of the bundled test set, as uint8/int64 like load_mnist gives
DATA = (_images[:512], _labels[:512], _images[512:768], _labels[512:768])
TINY = (_images[:96], _labels[:96], _images[96:160], _labels[96:160])


def config(variant: str = "ae", **kw) -> TrainConfig:
    return TrainConfig(variant=variant, **{"epochs": 2, "batch_size": 32, "device": "cpu", **kw})


@pytest.mark.parametrize("variant", [*VARIANTS, "classifier"])
def test_short_training_lowers_the_held_out_loss(variant):
    torch.manual_seed(0)  # train() builds its model after seeding the same way: same initial weights
    before = evaluate_terms(build_model(variant), to_float(DATA[2]), DATA[3])["loss"]
    result = train(config(variant, batch_size=64), data=DATA)
    after = result.history[-1]["test"]["loss"]
    assert after < before, f"{variant}: held-out loss {before:.3f} -> {after:.3f}"
    assert not result.model.training and not result.stopped_early


def test_history_reports_each_epoch_on_the_test_set():
    result = train(config(epochs=3), data=TINY)
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert all(h["seconds"] > 0 and "loss" in h["train"] and "loss" in h["test"] for h in result.history)
    assert result.seconds == pytest.approx(sum(h["seconds"] for h in result.history))
    final = evaluate_terms(result.model, to_float(TINY[2]), TINY[3])
    assert final == pytest.approx(result.history[-1]["test"])  # the reported figures are the model's


def test_callbacks_receive_each_step_and_epoch():
    steps: list[StepInfo] = []
    epochs: list[EpochInfo] = []
    result = train(config("vae", epochs=2), on_step=steps.append, on_epoch=epochs.append, data=TINY)
    per_epoch = 96 // 32
    assert [s.step for s in steps] == list(range(1, 2 * per_epoch + 1))
    assert [s.epoch for s in steps] == [1] * per_epoch + [2] * per_epoch
    assert steps[-1].epoch_fraction == pytest.approx(2.0)
    assert all(isinstance(v, float) for s in steps for v in s.terms.values())
    assert {"loss", "bce", "kl"} <= set(steps[0].terms)
    assert [e.epoch for e in epochs] == [1, 2]
    assert epochs[-1].model is result.model
    assert epochs[-1].test == result.history[-1]["test"] and epochs[-1].seconds > 0


def seen_in_training_steps(monkeypatch, probe: Callable[[], object]) -> list:
    """What `probe()` returns in each training step the models take from now on, in a list that fills as they do."""
    seen: list = []
    training_step = Trainable.training_step

    def probed_step(self, *args, **kwargs):
        seen.append(probe())
        return training_step(self, *args, **kwargs)

    monkeypatch.setattr(Trainable, "training_step", probed_step)
    return seen


@pytest.mark.parametrize("precision", ["medium", "highest"])
def test_matmul_precision_holds_while_training_and_is_restored_after(precision, monkeypatch):
    in_steps = seen_in_training_steps(monkeypatch, torch.get_float32_matmul_precision)
    at_callbacks: set[str] = set()
    before = torch.get_float32_matmul_precision()
    train(config(matmul_precision=precision, epochs=2), data=TINY,
          on_step=lambda info: at_callbacks.add(torch.get_float32_matmul_precision()),
          on_epoch=lambda info: at_callbacks.add(torch.get_float32_matmul_precision()))
    assert in_steps and set(in_steps) == {precision}
    # the test figures, and those a callback takes (the Space's mid-epoch test points), come at torch's own
    # precision: on a CPU with AMX "medium" multiplies in bf16
    assert at_callbacks == {before}
    assert torch.get_float32_matmul_precision() == before

    def failing_callback(info: StepInfo) -> None:
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):  # a run that fails midway restores it too
        train(config(matmul_precision=precision), data=TINY, on_step=failing_callback)
    assert torch.get_float32_matmul_precision() == before


@pytest.mark.parametrize("bf16_cpu", [True, False])
@pytest.mark.parametrize("precision", ["medium", "highest"])
def test_the_steps_run_under_bf16_autocast_on_a_cpu_with_bf16_products_at_medium_only(precision, bf16_cpu, monkeypatch,
                                                                                       tmp_path):
    # oneDNN's "medium" multiplies in bf16 only with AMX: on a Zen 4 EPYC the products stayed float32
    monkeypatch.setattr("aedemo.train.cpu_has_bf16_products", lambda: bf16_cpu)
    in_steps = seen_in_training_steps(monkeypatch, lambda: torch.get_autocast_dtype("cpu")
                                      if torch.is_autocast_enabled("cpu") else None)
    at_callbacks = set()
    result = train(config(matmul_precision=precision, epochs=2, out=str(tmp_path / "ae")), data=TINY,
                   on_step=lambda info: at_callbacks.add(torch.is_autocast_enabled("cpu")),
                   on_epoch=lambda info: at_callbacks.add(torch.is_autocast_enabled("cpu")))
    used = precision == "medium" and bf16_cpu
    assert in_steps and set(in_steps) == ({torch.bfloat16} if used else {None})
    assert at_callbacks == {False} and not torch.is_autocast_enabled("cpu")  # test figures in float32
    assert all(p.dtype == torch.float32 for p in result.model.parameters())  # the weights stay float32
    assert result.history[-1]["train"]["loss"] < result.history[0]["train"]["loss"]  # and it trains
    assert read_metrics(tmp_path / "ae")["training"]["bf16_autocast"] is used


def test_weights_updated_within_a_step_under_bf16_autocast_are_used_by_the_rest_of_it(monkeypatch):
    # the AAE's step updates its weights between its three phases; autocast's cache of bf16 weights, kept until its
    # block ends, gave the later phases the weights from before the first update
    monkeypatch.setattr("aedemo.train.cpu_has_bf16_products", lambda: True)
    layer, x = torch.nn.Linear(8, 4), torch.ones(2, 8)
    with bf16_autocast("medium", torch.device("cpu")):
        before = layer(x)
        with torch.no_grad():
            layer.weight.add_(1.0)  # as an optimiser's step does
        after = layer(x)
    assert before.dtype == torch.bfloat16 and torch.allclose(after.float(), before.float() + 8, atol=0.1)


@pytest.mark.parametrize("before", [False, True])
def test_denormals_are_flushed_while_training_and_the_thread_is_set_back_after(before, monkeypatch):
    if not torch.set_flush_denormal(before):  # False where the CPU cannot (x86 without SSE3, ARM)
        pytest.skip("this CPU has no flush-to-zero mode torch can set")
    try:
        seen = seen_in_training_steps(monkeypatch, flushing_denormals)
        train(config(epochs=1), data=TINY)
        assert seen and all(seen)  # Adam's decaying averages would otherwise slow every step on an x86 CPU
        assert flushing_denormals() == before
    finally:
        torch.set_flush_denormal(False)


def test_overlapping_runs_restore_the_setting_when_the_last_one_ends():
    before = torch.get_float32_matmul_precision()
    first, second = float32_matmul_precision("medium"), float32_matmul_precision("medium")
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first run ends while the second still trains
    assert torch.get_float32_matmul_precision() == "medium"
    second.__exit__(None, None, None)
    assert torch.get_float32_matmul_precision() == before


def test_on_step_returning_true_stops_cleanly():
    seen = []

    def stop_at_three(info: StepInfo) -> bool:
        seen.append(info.step)
        return info.step == 3

    result = train(config(epochs=5), on_step=stop_at_three, data=TINY)
    assert seen == [1, 2, 3] and result.stopped_early
    assert len(result.history) == 1 and "loss" in result.history[0]["test"]  # the partial epoch is evaluated
    assert not result.model.training


def test_on_epoch_returning_true_stops_after_that_epoch():
    result = train(config(epochs=5), on_epoch=lambda info: info.epoch == 2, data=TINY)
    assert [h["epoch"] for h in result.history] == [1, 2] and result.stopped_early
    # a stop asked for when nothing is left to do (a time limit met at the last epoch's end) is no early stop
    assert not train(config(epochs=2), on_epoch=lambda info: info.epoch == 2, data=TINY).stopped_early
    assert not train(config(epochs=1), on_step=lambda info: info.step == 3, data=TINY).stopped_early  # 96 / 32
    assert train(config(epochs=2), on_step=lambda info: info.step == 4, data=TINY).stopped_early  # in the last epoch


def test_time_budget_stops_training():
    steps = []
    result = train(config(epochs=5, time_budget=0.0), on_step=steps.append, data=TINY)
    assert len(steps) == 1 and result.stopped_early  # the first step already crosses a zero budget


@pytest.mark.parametrize("settings, decays", [
    ({}, True),  # cosine: the learning rate falls to ~0 by the last step
    ({"schedule": "constant"}, False),
    ({"time_budget": 3600.0}, False),  # a budget cannot know the run's length: the rate stays constant
])
def test_learning_rate_schedule(settings, decays):
    weights = []  # after each step; Adam moves each weight by ~lr whatever the gradient's size
    record = lambda info: weights.append(torch.cat([p.detach().flatten() for p in info.model.parameters()]))
    train(config(epochs=3, **settings), on_step=record, data=TINY)
    moves = [(b - a).abs().mean().item() for a, b in itertools.pairwise(weights)]
    assert len(moves) == 8
    ratio = moves[-1] / moves[0]  # the last step's against the second's
    assert ratio < 0.2 if decays else ratio > 0.5, moves


# every trainable variant, so a new one's random draws (the VAE's reparameterisation noise, the DAE's input noise,
# the AAE's prior draws) are held to the seed without a list to extend
@pytest.mark.parametrize("variant", [v for v in VARIANTS if AUTOENCODERS[v].trainable])
def test_same_seed_gives_identical_weights_on_the_cpu(variant):
    a = train(config(variant, seed=3), data=TINY).model.state_dict()
    b = train(config(variant, seed=3), data=TINY).model.state_dict()
    c = train(config(variant, seed=4), data=TINY).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_pca_is_fitted_in_one_pass():
    epochs = []
    result = train(config("pca", epochs=5), on_epoch=epochs.append, data=TINY)
    assert len(result.history) == 1 and len(epochs) == 1 and not result.stopped_early
    assert result.model.components.abs().sum() > 0
    assert not train(config("pca"), on_epoch=lambda info: True, data=TINY).stopped_early  # the fit was whole


def test_a_pca_with_a_code_bigger_than_its_digits_is_a_config_error():
    # the CLI's traceback ended in PCA.fit's ValueError: it says "error: ..." for what a user can fix
    with pytest.raises(ConfigError, match="model_config: a PCA of latent_dim 128 is fitted to at least 128 images"):
        train(config("pca", model_config={"latent_dim": 128}), data=TINY)


def test_out_writes_a_loadable_checkpoint_with_its_metrics(tmp_path):
    result = train(config(out=str(tmp_path / "ae")), data=TINY)
    loaded = load_model(str(tmp_path / "ae"))
    x = to_float(TINY[2])
    with torch.no_grad():
        assert torch.equal(loaded.reconstruct(x), result.model.reconstruct(x))
    metrics = json.loads((tmp_path / "ae" / "metrics.json").read_text())
    # scored on the run's own test set (TINY's), not on whatever MNIST load_mnist finds
    assert metrics["test"] == pytest.approx(evaluate_model(loaded, to_float(TINY[2]), TINY[3]))
    training = metrics["training"]
    assert training["command"].startswith("python -m aedemo.train --variant ae")
    assert training["epochs"] == 2 and training["device"] == "cpu" and training["torch"] == torch.__version__
    assert training["seconds"] >= 0 and training["stopped_early"] is False and training["steps"] == 6  # 2 x 96/32
    train(config(out=str(tmp_path / "ae")), on_step=lambda info: info.step == 2, data=TINY)
    training = json.loads((tmp_path / "ae" / "metrics.json").read_text())["training"]
    assert training["stopped_early"] is True and training["steps"] == 2  # what the command cannot say


def test_out_and_data_dir_may_be_paths_and_start_with_a_tilde(tmp_path, monkeypatch):
    # a Path used to fail after the whole run, at the recorded command line, and lose it; "~" made a folder named "~"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config(out="~/run", data_dir="~/data").out == str(tmp_path / "run")
    assert config(data_dir=Path("~/data")).data_dir == str(tmp_path / "data")
    settings = config(epochs=1)
    settings.out = tmp_path / "ae"  # set after the config was made: the recorded command takes it as it is
    train(settings, data=TINY)
    command = json.loads((tmp_path / "ae" / "metrics.json").read_text())["training"]["command"]
    assert f"--out {tmp_path / 'ae'}" in command and load_model(tmp_path / "ae").variant == "ae"


def test_a_checkpoint_trained_on_data_given_in_code_says_so_and_its_card_claims_no_official_test_set(tmp_path):
    from aedemo.card import model_card
    from aedemo.checkpoint import read_config

    train(config(epochs=1, out=str(tmp_path / "ae")), data=TINY)
    metrics = read_metrics(tmp_path / "ae")
    # the command reads MNIST: alone, it claimed to rebuild a run on 96 digits scored on 64
    assert metrics["training"]["data"].startswith("96 training digits given to train() in code; test figures on "
                                                  "the 64 test digits")
    card = str(model_card(read_config(tmp_path / "ae"), metrics, "user/ae"))
    assert "96 training digits given to train() in code" in card and "official MNIST test set" not in card


def test_a_run_on_digits_given_in_code_says_so_when_saved_afterwards(tmp_path):
    # save_trained after train(): its metrics.json carried no data note, so the recorded command (which reads MNIST)
    # looked as if it rebuilt a run on 96 digits
    result = train(config(epochs=1), data=TINY)
    save_trained(result, config(epochs=1, out=str(tmp_path / "given")), *TINY[2:])
    assert read_metrics(tmp_path / "given")["training"]["data"].startswith(
        "96 training digits given to train() in code; test figures on the 64 test digits given with them")
    save_trained(result, config(epochs=1, out=str(tmp_path / "mnist")))  # scored on the test set the command reads
    metrics = read_metrics(tmp_path / "mnist")
    assert "test figures on the MNIST test set" in metrics["training"]["data"]
    assert metrics["test"]["mse"] != read_metrics(tmp_path / "given")["test"]["mse"]


def test_save_trained_without_an_out_folder_says_to_name_one(tmp_path):
    settings = config(epochs=1)
    result = train(settings, data=TINY)
    with pytest.raises(ConfigError, match="out"):
        save_trained(result, settings, *TINY[2:])
    save_trained(result, replace(settings, out=str(tmp_path / "ae")), *TINY[2:])
    assert load_model(str(tmp_path / "ae")).variant == "ae"


def test_progress_into_a_log_is_one_line_per_epoch_without_a_bar(capsys):
    train(config(epochs=2), data=TINY, progress=True)  # capsys: stdout and stderr are no terminal, as in a log
    out, err = capsys.readouterr()
    assert err == ""  # the bar's \r updates used to pile up here
    assert [line.split(":")[0] for line in out.splitlines()] == ["ae epoch 1", "ae epoch 2"]


def test_metrics_record_the_schedule_the_run_followed(tmp_path):
    # a time-budget run keeps a constant rate (test_learning_rate_schedule), so "cosine" there would misreport it
    for settings, schedule in (({}, "cosine"), ({"time_budget": 3600.0}, "constant")):
        train(config(epochs=1, out=str(tmp_path / "ae"), **settings), data=TINY)
        metrics = json.loads((tmp_path / "ae" / "metrics.json").read_text())
        assert metrics["training"]["config"]["schedule"] == schedule


def test_bad_requests_are_refused_clearly():
    with pytest.raises(ValueError, match="unknown variant"):
        train(config("transformer"), data=TINY)
    with pytest.raises(ValueError, match="unknown matmul_precision 'low'; known: highest, high, medium"):
        train(config(matmul_precision="low"), data=TINY)
    with pytest.raises(TypeError, match="uint8"):  # floats would be divided by 255 a second time
        train(config(), data=(to_float(TINY[0]), *TINY[1:]))
    flat = TINY[0].reshape(-1, 784)  # used to fail at the first step, in words about logits and targets
    with pytest.raises(TypeError, match=r"uint8 images \[N,28,28\].*the train images are torch.uint8 \["):
        train(config(), data=(flat, *TINY[1:]))
    # numpy arrays were told "takes uint8 images; the train images are uint8 [96, 28, 28]"
    with pytest.raises(TypeError, match=r"takes torch tensors.*the train split is ndarray and ndarray.*from_numpy"):
        train(config(), data=(TINY[0].numpy(), TINY[1].numpy(), *TINY[2:]))
    with pytest.raises(ValueError, match="the test labels must be one per image"):  # used to be an IndexError
        train(config(), data=(*TINY[:3], TINY[3][:-1]))
    # an empty test split failed at the save, after the run; an empty train split "trained" without a step
    with pytest.raises(ValueError, match="the test split holds no images"):
        train(config(), data=(*TINY[:2], TINY[2][:0], TINY[3][:0]))
    with pytest.raises(ValueError, match="the train split holds no images"):
        train(config(), data=(TINY[0][:0], TINY[1][:0], *TINY[2:]))
    # the classifier's loss met such labels mid-run: "IndexError: Target 12 is out of bounds."
    with pytest.raises(ValueError, match=r"the train labels must be class ids 0-9, got \[10, 12\]"):
        train(config("classifier"), data=(TINY[0], torch.cat([torch.tensor([12, 10]), TINY[1][2:]]), *TINY[2:]))
    with pytest.raises(TypeError, match="the test labels must be integer class ids 0-9, got torch.float32"):
        train(config(), data=(*TINY[:3], TINY[3].float()))
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA"):
            train(config(device="cuda"), data=TINY)
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        train(config(device="tpu"), data=TINY)
    for name in ("cuda:", "cuda:first", "cpu:0"):  # one GPU of several is cuda:N, as load_model takes it
        with pytest.raises(ConfigError, match=f"unknown device '{name}'.*cuda:N"):
            train(config(device=name), data=TINY)
    with pytest.raises(ConfigError, match="CUDA device"):
        train(config(device=f"cuda:{torch.cuda.device_count()}"), data=TINY)  # one past the last, or none at all
    # a torch.device, as load_model takes it: it was "unknown device device(type='cpu')"
    assert config(device=torch.device("cpu")).device == "cpu"
    assert train(config(device=torch.device("cpu"), epochs=1), data=TINY).device == "cpu"


@pytest.mark.parametrize("settings, message", [
    ({"schedule": "cosin"}, "unknown schedule 'cosin'; known: cosine, constant"),  # used to train at a constant rate
    ({"batch_size": 0}, "batch_size must be a whole number of at least 1"),  # used to divide by zero
    ({"epochs": 0}, "epochs must be a whole number of at least 1"),
    ({"epochs": 2.5}, "epochs must be a whole number"),
    ({"lr": 0.0}, "lr must be a number above 0"),
    ({"lr": float("nan")}, "lr must be a number above 0"),
    ({"lr": float("inf")}, "lr must be a number above 0"),
    ({"lr": True}, "lr must be a number above 0"),  # used to train at 1.0
    # these failed in torch's words ("Overflow when unpacking long", a TypeError), after the data had loaded
    ({"seed": "0"}, r"seed must be a whole number from 0 to 2\*\*64 - 2, got '0'"),
    ({"seed": 1.5}, "seed must be a whole number"),
    ({"seed": -1}, "seed must be a whole number"),
    ({"seed": 2**64 - 1}, "seed must be a whole number"),  # the noise's generator gets seed + 1
    ({"time_budget": -1.0}, "time_budget must be a number of seconds"),
    ({"time_budget": "5"}, "time_budget must be a number of seconds"),  # used to fail in Python's words
    ({"out": "/proc/aedemo/run"}, "out: cannot save a checkpoint into /proc/aedemo/run"),  # used to fail after the run
    ({"model_config": {"latnt_dim": 4}}, "no architecture argument 'latnt_dim'"),  # used to be saved and ignored
    ({"model_config": {"latent_dim": -2}}, "model_config: latent_dim must be a whole number of at least 1"),
    ({"model_config": {"latent_dim": 0}}, "latent_dim must be a whole number"),  # used to train a 0-D code
    ({"model_config": {"latent_dim": "2"}}, "latent_dim must be a whole number"),  # used to fail in torch's words
    ({"model_config": {"hidden": [512, 0]}}, "hidden must be whole numbers of at least 1, got 0"),
])
def test_settings_train_cannot_honour_are_refused_before_any_data_is_read(settings, message, monkeypatch):
    import aedemo.train

    monkeypatch.setattr(aedemo.train, "load_mnist", lambda *a, **k: pytest.fail("data was read before the check"))
    with pytest.raises(ConfigError, match=message):
        train(config(**settings))


@pytest.mark.parametrize("variant, settings", [
    ("sparse", {"rho": 1.5}), ("sparse", {"rho": 0.0}), ("sparse", {"beta": -1.0}), ("contractive", {"lam": -0.1}),
])
def test_loss_weights_out_of_range_are_refused_when_the_model_is_built(variant, settings):
    # a target firing rate outside (0, 1) made every loss NaN from the first step; a negative weight rewards the
    # opposite of the penalty
    name = next(iter(settings))
    with pytest.raises(ConfigError, match=f"model_config: {name} must be a number"):
        train(config(variant, model_config=settings), data=TINY)


def test_a_diverging_run_stops_at_the_first_non_finite_loss_and_says_so(tmp_path, monkeypatch):
    import aedemo.train

    steps = []
    with pytest.raises(TrainingDiverged, match=r"diverged at step \d+ .*lower learning rate than 1e\+06") as e:
        train(config("vae", lr=1e6, out=str(tmp_path / "ck")), on_step=steps.append, data=TINY)
    # it used to go on in NaN to the end, then fail inside the evaluation while saving
    assert len(steps) == e.value.step - 1 and e.value.step < 2 * 3  # before the end of the run's 6 steps
    assert not (tmp_path / "ck").exists()
    monkeypatch.setattr(aedemo.train, "load_mnist", lambda split, *a, **k: TINY[:2] if split == "train" else TINY[2:])
    with pytest.raises(SystemExit, match="error: training diverged .*lower learning rate"):
        main(["--variant", "vae", "--lr", "1e6", "--epochs", "1", "--out", str(tmp_path / "cli")])


def test_ctrl_c_stops_the_cli_after_its_step_and_saves_and_twice_stops_it_at_once(tmp_path, monkeypatch, capsys):
    # it gave a 20-line traceback and lost the run
    import aedemo.train

    monkeypatch.setattr(aedemo.train, "load_mnist", lambda split, *a, **k: TINY[:2] if split == "train" else TINY[2:])
    args = ["--variant", "ae", "--epochs", "10000", "--batch-size", "32", "--device", "cpu"]

    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    main([*args, "--out", str(tmp_path / "once")])
    out = capsys.readouterr()
    assert "stopping after this step" in out.err and "(stopped by Ctrl-C)" in out.out
    training = json.loads((tmp_path / "once" / "metrics.json").read_text())["training"]
    assert training["stopped_early"] and training["epochs"] < 10000

    def pressed_twice(*_, **__):  # a run that a second Ctrl-C reaches before its step ends
        for _ in range(2):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # the handler runs here, in this (the main) thread
        pytest.fail("the second Ctrl-C did not stop the run")

    monkeypatch.setattr(aedemo.train, "train", pressed_twice)
    with pytest.raises(SystemExit, match="interrupted: nothing saved"):
        main([*args, "--out", str(tmp_path / "twice")])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # as it was


def test_an_out_path_that_is_a_file_is_refused_before_training(tmp_path):
    # found after training, this used to lose the whole run
    (tmp_path / "a-file").write_text("")
    steps = []
    with pytest.raises(ValueError, match="exists and is not a folder"):
        train(config(out=str(tmp_path / "a-file")), on_step=steps.append, data=TINY)
    assert steps == [] and (tmp_path / "a-file").read_text() == ""


def test_the_cvae_trains_on_labels_of_any_integer_type():
    # int32 labels (numpy's default on some platforms) train as int64 ones do, digit for digit
    as_int32 = train(config("cvae", epochs=1), data=(TINY[0], TINY[1].int(), TINY[2], TINY[3].int()))
    as_int64 = train(config("cvae", epochs=1), data=TINY)
    def figures(history: list[dict]) -> list[dict]:
        return [{k: v for k, v in epoch.items() if k != "seconds"} for epoch in history]

    assert figures(as_int32.history) == figures(as_int64.history)
    for name, tensor in as_int64.model.state_dict().items():
        assert torch.equal(as_int32.model.state_dict()[name], tensor), name


def test_cli_says_what_is_wrong_without_a_traceback(tmp_path, monkeypatch, capsys):
    import aedemo.train
    from aedemo.data import DataNotFoundError

    def offline(split, *args, **kwargs):  # as on a machine without the training split and without the internet
        raise DataNotFoundError(f"MNIST {split!r} split not found. Looked in: ...")

    monkeypatch.setattr(aedemo.train, "load_mnist", offline)
    with pytest.raises(SystemExit) as exit_:
        main(["--variant", "ae", "--out", str(tmp_path / "ck")])
    assert exit_.value.code == "error: MNIST 'train' split not found. Looked in: ..."
    with pytest.raises(SystemExit) as exit_:
        main(["--variant", "ae", "--schedule", "constant", "--model-config", '{"latnt_dim": 2}'])
    assert "no architecture argument 'latnt_dim'" in exit_.value.code
    with pytest.raises(SystemExit) as exit_:
        main(["--variant", "ae", "--model-config", "[2]"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        main(["--variant", "ae", "--device", "gpu"])
    assert exit_.value.code == 2 and "cuda:N" in capsys.readouterr().err


@pytest.mark.parametrize("variant", ["ae", "aae"])
def test_optimisers_use_the_fused_adam_kernel_on_the_cpu(variant):
    model = build_model(variant)
    optimizers = model.configure_optimizers(1e-3)
    assert optimizers and all(group["fused"] for opt in optimizers for group in opt.param_groups)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the trainer tunes glibc's malloc")
@pytest.mark.parametrize("in_thread", [False, True], ids=["main-thread", "worker-thread"])
def test_training_steps_reuse_freed_memory_instead_of_faulting_it_in_again(in_thread):
    # With glibc's default thresholds the conv AE took ~6,000-8,000 page faults per step at batch 128 (10-17 ms of
    # system time in a 25-36 ms step): each step's freed activations went back to the OS and were faulted in again.
    # The Space trains in a worker thread: glibc gives a thread's memory back by other rules than the main one's.
    faults: list[int] = []

    def on_step(info: StepInfo) -> None:
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)

    data = (_images[:2048], _labels[:2048], _images[2048:2304], _labels[2048:2304])

    def run() -> None:
        train(config("conv", epochs=1, batch_size=128), on_step=on_step, data=data)

    if in_thread:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    else:
        run()
    per_step = np.diff(faults[4:])  # the first steps grow the heap to its working size
    assert len(per_step) >= 10 and np.median(per_step) < 1000, f"page faults per step: {per_step.tolist()}"


def write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_cli_trains_from_a_data_dir_and_saves(tmp_path, capsys):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, (images, labels) in {"train": TINY[:2], "t10k": TINY[2:]}.items():
        write_idx(raw / f"{prefix}-images-idx3-ubyte.gz", images.numpy())
        write_idx(raw / f"{prefix}-labels-idx1-ubyte.gz", labels.numpy())
    out = tmp_path / "ck"
    args = ["--variant", "sparse", "--epochs", "1", "--batch-size", "32", "--data-dir", str(tmp_path / "data"),
            "--out", str(out), "--device", "cpu"]
    main(args)
    assert str(out) in capsys.readouterr().out
    assert load_model(str(out)).variant == "sparse"
    command = json.loads((out / "metrics.json").read_text())["training"]["command"]
    assert command.split()[:3] == ["python", "-m", "aedemo.train"] and "--data-dir" in command


@pytest.mark.parametrize("settings", [
    {},
    {"time_budget": 60.0},  # as the Space's Train tab trains: a budget, hence a constant learning rate
    {"schedule": "constant", "matmul_precision": "highest", "lr": 3e-4, "seed": 7, "out": "runs/my ae",
     "data_dir": "../shared/data", "device": "cuda"},
    {"model_config": {"latent_dim": 2, "hidden": [400]}},  # an architecture of one's own is part of the command
])
def test_recorded_training_command_rebuilds_the_same_configuration(settings):
    trained = config(**settings)
    command = shlex.split(train_command(trained))
    assert command[:3] == ["python", "-m", "aedemo.train"]
    rebuilt = parse_args(command[3:])
    for name in ("variant", "epochs", "batch_size", "lr", "seed", "schedule", "time_budget", "matmul_precision",
                 "data_dir", "device", "model_config"):
        assert getattr(rebuilt, name) == getattr(trained, name), name
    assert rebuilt.out == (trained.out or f"checkpoints/{trained.variant}-run")


def test_numpy_numbers_in_a_config_train_as_the_python_numbers_they_hold():
    # a sweep's values: seed=np.int64(3) was refused as "must be a whole number ..., got np.int64(3)", and so was
    # time_budget=np.float32(5.0)
    as_numpy = config(epochs=np.int64(1), batch_size=np.int32(32), lr=np.float32(1e-3), seed=np.int64(3),
                      time_budget=np.float32(5.0))
    assert as_numpy == config(epochs=1, batch_size=32, lr=1e-3, seed=3, time_budget=5.0)
    assert "--lr 0.001 --seed 3" in train_command(as_numpy)
    result = train(as_numpy, data=TINY)
    assert torch.equal(result.model.encoder[0].weight,
                       train(config(epochs=1, seed=3, time_budget=5.0), data=TINY).model.encoder[0].weight)


def test_the_command_lines_defaults_are_train_configs():
    # written twice, they could drift apart: a run from Python and one from the command line would train differently
    assert parse_args(["--variant", "vae"]) == TrainConfig("vae", out="checkpoints/vae-run")


def test_cli_rejects_an_unknown_variant(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--variant", "transformer"])
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_an_out_folder_under_a_file_is_refused_before_training(tmp_path):
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(ConfigError, match="notes.txt is a file"):
        check_config(config(out=str(tmp_path / "notes.txt" / "ae")))
    check_config(config(out=str(tmp_path / "new" / "ae")))  # a folder yet to make is fine, and is not made yet
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_the_command_line_works_with_docstrings_stripped():
    # python -OO sets __doc__ to None: the parser's description read it, and the CLI died before argparse ran
    done = subprocess.run([sys.executable, "-OO", "-m", "aedemo.train", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "--variant" in done.stdout, done.stderr
