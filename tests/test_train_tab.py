"""The Space's Train tab: its handlers called directly, and its events through gradio_client on a real server."""

from __future__ import annotations

import json
import math
import os
import re
import socket
import threading
import time
import types
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import torch
from PIL import Image

import aedemo
from aedemo.checkpoint import read_metrics
from aedemo.data import DataError, DataNotFoundError, load_mnist
from aedemo.evaluate import evaluate_terms
from aedemo.space import train_line, train_tab, train_worker
from aedemo.space.inputs import UserInputError, parse_seed
from aedemo.space.train_line import TrainingLine
from aedemo.space.train_tab import push_to_hub, request_stop, run_training, stop_runs
from aedemo.space.train_worker import TrainingData


@pytest.fixture(scope="module")
def small_data() -> TrainingData:
    """1,200 real digits to train on and 500 others to test on: a run of a few hundred steps takes seconds."""
    x, y = load_mnist("test")
    return TrainingData(x[:1200], y[:1200], x[9000:9500], y[9000:9500])


def curve_points(view, curve: str) -> list[float]:
    df = view.loss
    return df[df["curve"] == curve].sort_values("epoch")["loss"].tolist()


def test_short_run_learns_and_adds_a_model_to_this_session_only(small_data, tmp_path):
    before = {"someone's model": object()}
    threads = torch.get_num_threads()
    views = list(run_training("ae", 4, 0, 32, 2e-3, before, session_dir=tmp_path, data=small_data))

    assert len(views) > 4  # streamed, not one answer at the end
    last = views[-1]
    assert last.error is None, last.status
    assert set(last.models) == {"someone's model", "my ae #1"}
    assert before == {"someone's model": before["someone's model"]}  # the caller's dict is not changed
    model = last.models["my ae #1"]
    assert model.variant == "ae" and not model.training
    train_curve, test_curve = curve_points(last, "train"), curve_points(last, "test")
    # epoch 0 (untrained), after each of the 4 epochs, and within epochs as far as the time share allows
    assert len(train_curve) > 20 and len(test_curve) >= 5
    assert curve_points(last, train_tab.PENALTY_CURVE) == []  # the AE's loss has no penalty term
    epoch_ends = last.loss[(last.loss["curve"] == "test") & (last.loss["epoch"].isin([1.0, 2.0, 3.0, 4.0]))]
    assert len(epoch_ends) == 4
    assert sum(train_curve[-5:]) / 5 < 0.7 * sum(train_curve[:5]) / 5
    assert test_curve[-1] < 0.7 * test_curve[0]
    assert last.grid is not None and last.grid.dtype.name == "uint8"
    assert last.progress == 1.0
    assert torch.get_num_threads() == threads  # the CPU cap on threads lasts only as long as the run


def test_the_test_curve_has_points_within_an_epoch(small_data, tmp_path, monkeypatch):
    """A run shorter than an epoch still shows how the test loss fell, not a straight line to its one point."""
    monkeypatch.setattr(train_worker, "PROBE_SHARE", 1.0)  # no time limit on them, so the count is certain
    last = list(run_training("ae", 1, 0, 32, 2e-3, {}, session_dir=tmp_path, data=small_data))[-1]
    test = last.loss[last.loss["curve"] == "test"].sort_values("epoch")
    inside = test[(test["epoch"] > 0) & (test["epoch"] < 1)]
    assert len(inside) == train_worker.TEST_POINTS_PER_EPOCH - 1  # and the epoch's end has the trainer's figure
    assert test["loss"].iloc[len(test) // 2] < test["loss"].iloc[0]  # already lower halfway through the epoch


@pytest.mark.parametrize("variant", ["sparse", "contractive"])
def test_a_penalised_models_penalty_is_plotted_under_its_own_name(variant, small_data, tmp_path):
    # only a VAE's KL used to be drawn: the sparse AE's KL(rho||rho_hat) and the contractive AE's ||J||^2 were not
    last = list(run_training(variant, 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data))[-1]
    assert last.error is None, last.status
    test, penalty = (curve_points(last, c) for c in ("test", train_tab.PENALTY_CURVE))
    assert len(penalty) == len(test) and all(p > 0 for p in penalty)
    model = last.models[f"my {variant} #1"]
    key, label, axis = type(model).penalty
    probe = train_worker.test_subset(small_data)  # the figure at the run's end: the model's term on the test digits
    assert penalty[-1] == pytest.approx(evaluate_terms(model, *probe)[key], rel=1e-4)
    plot = train_tab._penalty_update(last.loss, variant)
    assert plot.visible is True and plot.label == label and plot.y_title == axis


def test_downloaded_zip_loads_with_load_model(small_data, tmp_path):
    last = list(run_training("vae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path / "s", data=small_data))[-1]
    # a VAE's KL term is drawn at every test point, on its own axis: the trade-off between its two terms
    test, kl = (last.loss[last.loss["curve"] == c].sort_values("epoch") for c in ("test", train_tab.PENALTY_CURVE))
    assert kl["epoch"].tolist() == test["epoch"].tolist()
    assert all(0 < k < t for k, t in zip(kl["loss"], test["loss"], strict=True))
    kl_plot, loss_plot = train_tab._penalty_update(last.loss, "vae"), train_tab._curve_update(last.loss, "vae")
    assert kl_plot.visible is True and train_tab.PENALTY_CURVE not in {row[2] for row in loss_plot.value["data"]}
    assert kl_plot.y_title == "KL (nats per image)"
    without = last.loss[last.loss["curve"] != train_tab.PENALTY_CURVE]  # as an AE's curve is
    assert train_tab._penalty_update(without, "ae").visible is False
    # the untrained model's point alone, for the whole of a run shorter than a test interval: an empty frame
    assert train_tab._penalty_update(last.loss[last.loss["epoch"] == 0], "vae").visible is False
    with zipfile.ZipFile(last.download) as z:
        names = set(z.namelist())
        z.extractall(tmp_path / "unzipped")
    folder = next(iter(names)).split("/")[0]
    assert names == {f"{folder}/{f}" for f in ("model.safetensors", "config.json", "metrics.json")}
    loaded = aedemo.load_model(tmp_path / "unzipped" / folder)
    trained = last.models["my vae #1"]
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(loaded.reconstruct(x), trained.reconstruct(x))


def test_stop_ends_the_run_early_and_keeps_the_model(small_data, tmp_path):
    views = []
    for view in run_training("ae", 50, 0, 32, 1e-3, {}, session_dir=tmp_path, data=small_data):
        views.append(view)
        if view.loss is not None and len(view.loss) > 3:
            request_stop(tmp_path)
    last = views[-1]
    assert "my ae #1** stopped:" in last.status  # by the visitor: not "at the time limit"
    done = float(re.search(r"([0-9.]+) of 50 epochs", last.status).group(1))  # how far it got, not "1 epoch"
    assert 0 < done < 50 and done == pytest.approx(last.loss["epoch"].max(), abs=0.5)
    assert "my ae #1" in last.models
    assert len(curve_points(last, "test")) < 50


def test_a_stop_mid_epoch_does_not_report_that_epoch_as_done(small_data, tmp_path, monkeypatch):
    import aedemo.space.train_tab as train_tab

    monkeypatch.setattr(train_tab, "UPDATE_EVERY_S", 0.0)  # every piece of news becomes a view
    statuses = []
    for view in run_training("ae", 50, 0, 8, 1e-3, {}, session_dir=tmp_path, data=small_data):
        statuses.append(view.status)
        if "epoch 0." in view.status:  # partway through the first epoch
            request_stop(tmp_path)
    assert not any("epoch 1 of 50 done" in s for s in statuses), statuses  # it said so, at 0.4 of an epoch
    assert any(s.startswith("Training **AE**: stopping at epoch 0.") for s in statuses), statuses


def test_a_cancelled_run_stops_even_when_the_next_starts_at_once(small_data, tmp_path):
    """Gradio closes a cancelled run's generator; a new run in the same session used to clear the stop flag the old
    thread had not yet seen, and the two trained side by side."""

    def trainers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "aedemo-train"}

    first = run_training("ae", 50, 0, 8, 1e-3, {}, session_dir=tmp_path, data=small_data)
    for view in first:
        if view.loss is not None and len(view.loss) > 3:  # training
            break
    cancelled = trainers()
    first.close()
    second = run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data)
    next(second), next(second)  # its thread has started
    _wait_for(lambda: not any(t.is_alive() for t in cancelled), "the cancelled run's thread to end", timeout=20)
    assert "my ae #1** finished" in list(second)[-1].status  # the first run's flag did not stop this one
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(("stop", "running"))] == []


def _waiting(run: Iterator) -> str:
    """The first view's status of a run that should be waiting its turn."""
    view = next(run)
    assert view.waiting and not view.models, view
    return view.status


def test_a_run_waits_its_turn_and_says_how_many_are_ahead(small_data, tmp_path, monkeypatch):
    monkeypatch.setattr(train_tab, "WAIT_POLL_S", 0.05)
    line = TrainingLine()
    ahead = [line.join("a"), line.join("b")]  # one training, one waiting
    run = run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data, line=line, session="me")
    assert _waiting(run) == "**Waiting for its turn:** 2 runs ahead of yours; press **Stop** to cancel it."
    line.leave(ahead.pop(0))
    assert next(run).status.startswith("**Waiting for its turn:** 1 run ahead")
    line.leave(ahead.pop(0))
    assert "my ae #1** finished" in list(run)[-1].status
    assert line.sessions_waiting() == [] and line.join("next") is not None  # it left the line


def test_stop_ends_a_run_waiting_for_its_turn_at_once_and_only_that_one(small_data, tmp_path):
    # a run cancelled in Gradio's queue waited there, its Train button greyed out, until the run ahead had ended
    line = TrainingLine()
    other = line.join("other")  # another visitor's run trains meanwhile
    assert line.start(other)
    run = run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data, line=line, session="me")
    _waiting(run)
    assert stop_runs(line, "me", tmp_path) == "Your run waiting for its turn is cancelled: it will not train."
    views = list(run)
    assert len(views) == 1 and views[0].status.startswith("**Not trained:** you pressed Stop") and not views[0].models
    assert line.cancel("other") == (False, True) and line.sessions_waiting() == []  # the other run trains on
    line.leave(other)
    # nothing is left behind: the session's next run trains
    again = run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data, line=line, session="me")
    assert "finished" in list(again)[-1].status


def test_a_second_run_of_a_session_is_refused_while_its_first_trains_and_stop_stops_that_one(small_data, tmp_path):
    line = TrainingLine()
    first = run_training("ae", 50, 0, 32, 1e-3, {}, session_dir=tmp_path, data=small_data, line=line, session="me")
    for view in first:
        if view.loss is not None and len(view.loss) > 3:  # training
            break
    second = list(run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data, line=line,
                               session="me"))
    assert len(second) == 1 and second[0].status.startswith("**Not trained:** A run of yours is already training")
    assert stop_runs(line, "me", tmp_path) == "Stopping after the current step; the model trained so far is kept."
    assert "my ae #1** stopped" in list(first)[-1].status


def test_a_stop_pressed_as_the_runs_turn_comes_cancels_it(small_data, tmp_path):
    # between the turn coming and the run saying it trains: a Stop then must not miss it (it answered "nothing of
    # yours is training" and the run trained to its end)
    line = TrainingLine()
    start, said = line.start, []

    def stop_pressed_meanwhile(place):
        said.append(stop_runs(line, "me", tmp_path))
        return start(place)

    line.start = stop_pressed_meanwhile
    views = list(run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data, line=line,
                              session="me"))
    # not "Stopping after the current step (the model trained so far is kept)": nothing trained
    assert said == ["Your run waiting for its turn is cancelled: it will not train."]
    assert views[-1].status.startswith("**Not trained:** you pressed Stop")
    assert list(tmp_path.iterdir()) == [] and line.sessions_waiting() == []  # no stop flag left behind


def test_a_stop_pressed_before_the_run_reaches_the_line_cancels_it(small_data, tmp_path):
    # Train, then Stop at once (focus goes to Stop as Train is pressed): the run had not yet joined the line, Stop
    # said "Nothing of yours is training", and the run trained
    line = TrainingLine()
    line.expect("me")
    assert stop_runs(line, "me", tmp_path) == "Your run waiting for its turn is cancelled: it will not train."
    views = list(run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data, line=line,
                              session="me"))
    assert len(views) == 1 and views[0].status.startswith("**Not trained:** you pressed Stop")
    # used up: the next press trains, and a press long ago is not on its way any more
    assert "finished" in list(run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data,
                                           line=line, session="me"))[-1].status
    line.expect("me")
    line._pressed["me"][0] -= TrainingLine.PRESS_SECONDS
    assert stop_runs(line, "me", tmp_path).startswith("Nothing of yours is training")


def test_an_api_calls_stop_sent_with_its_train_cancels_the_run(small_data, tmp_path, monkeypatch):
    # /train, then /stop_training at once: an API call has no Train press, so nothing said a run was on its way,
    # the Stop found nothing, and the run trained to its end
    line = TrainingLine()
    monkeypatch.setattr(train_tab, "LINE", line)
    request = types.SimpleNamespace(session_hash="api")
    verdicts = train_tab._admit_handler("ae", 1, 0, 64, 1e-3, 0, {}, request)
    assert verdicts == (None,) * 7  # admitted
    assert stop_runs(line, "api", tmp_path) == "Your run waiting for its turn is cancelled: it will not train."
    views = list(run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data, line=line,
                              session="api"))
    assert len(views) == 1 and views[0].status.startswith("**Not trained:** you pressed Stop")
    # a browser's press, a Stop, then the validator of that same run: the Stop stands
    line.expect("me")
    stop_runs(line, "me", tmp_path)
    train_tab._admit_handler("ae", 1, 0, 64, 1e-3, 0, {}, types.SimpleNamespace(session_hash="me"))
    assert line.join("me").cancelled


def test_a_visitor_who_leaves_while_waiting_gives_up_the_place(small_data, tmp_path):
    # Gradio closes the handler's generator when the page goes: its place must not hold the line
    line = TrainingLine()
    other = line.join("other")
    run = run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data, line=line, session="gone")
    _waiting(run)
    run.close()
    assert line.sessions_waiting() == []
    line.leave(other)
    assert line.sessions_waiting() == [] and line.why_refused("gone") is None


def test_bad_settings_are_refused_without_joining_the_line(tmp_path):
    line = TrainingLine()
    other = line.join("other")
    views = list(run_training("ae", 0, 0, 64, 1e-3, {}, session_dir=tmp_path, line=line, session="me"))
    assert len(views) == 1 and "Epochs" in views[0].error
    assert line.sessions_waiting() == [] and line.cancel("me") == (False, False)
    line.leave(other)


@pytest.mark.parametrize("refused_by", ["settings", "line"])
def test_a_stop_after_a_refused_run_says_nothing_is_training(small_data, tmp_path, refused_by):
    # the press's record of a run on its way stayed: for 30 s a Stop said "Your run waiting for its turn is
    # cancelled" of a run that had been refused
    line = TrainingLine()
    first = line.join("me") if refused_by == "line" else None  # a run of this session trains: a second is refused
    line.expect("me")
    epochs = 0 if refused_by == "settings" else 1
    views = list(run_training("ae", epochs, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data, line=line,
                              session="me"))
    assert len(views) == 1 and views[0].status.startswith("**Not trained:**")
    if first is not None:
        line.leave(first)
    assert stop_runs(line, "me", tmp_path).startswith("Nothing of yours is training")


def test_the_line_refuses_a_second_run_of_a_session_and_runs_past_its_cap(monkeypatch):
    # a session's second run, let in behind its first, started from the session's models as they were before the
    # first one's model joined them: that model was dropped, and the second took its name
    monkeypatch.setattr(train_line, "MAX_RUNS_WAITING", 2)
    line = TrainingLine()
    line.join("a")  # trains
    line.join("b")  # waits
    for session in ("a", "b"):
        with pytest.raises(train_line.LineRefused, match="A run of yours is already training or waiting"):
            line.join(session)
    line.join("c")  # waits: two in all
    with pytest.raises(train_line.LineRefused, match="^2 runs are waiting to train on this Space"):
        line.join("d")
    assert line.sessions_waiting() == ["b", "c"]


def test_stop_with_nothing_training_leaves_the_next_run_alone(small_data, tmp_path):
    assert "Nothing of yours is training" in request_stop(tmp_path)
    views = list(run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data))
    assert "finished" in views[-1].status
    # the device in words, at the start and the end alike (the end said "on cpu")
    assert any("on the CPU (1 thread)" in v.status for v in views[:3])
    end = r"\d+ s of training( \(\d+ s with the test evaluations\))? on the CPU; its test loss"
    assert re.search(end, views[-1].status)
    # what the loss is (the Draw tab shows MSE per pixel) and the digits it comes from: a subset of the test split
    n = len(train_worker.test_subset(small_data)[0])
    assert re.search(rf"; its test loss, BCE \(nats per image\), is [\d.]+ on {n:,} test digits\.", views[-1].status)


def test_a_stop_while_the_trained_model_is_saved_finds_nothing_training(small_data, tmp_path):
    # it said "Stopping after the current step" above a run then reported finished, and left its flag file behind
    views, said = [], []
    for view in run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data):
        views.append(view)
        if view.status.startswith("Evaluating and saving"):
            said.append(request_stop(tmp_path))
    assert said == ["Nothing of yours is training or waiting to train right now."]
    assert "finished" in views[-1].status
    assert not list(tmp_path.glob("stop-*")) and not (tmp_path / train_tab.RUNNING).exists()


def test_the_end_status_counts_the_seconds_the_live_one_did(small_data, tmp_path, monkeypatch):
    # the live status counts the run's wall time, its test evaluations included; the end status gave only the
    # training's ("9 s", then "8 s of training")
    slow = train_worker.evaluate_terms

    def evaluated_slowly(*args, **kwargs):
        time.sleep(0.6)
        return slow(*args, **kwargs)

    monkeypatch.setattr(train_worker, "evaluate_terms", evaluated_slowly)
    end = list(run_training("ae", 1, 0, 128, 1e-3, {}, session_dir=tmp_path, data=small_data))[-1].status
    training, in_all = re.search(r"(\d+) s of training \((\d+) s with the test evaluations\)", end).groups()
    assert int(in_all) > int(training)


def test_cpu_time_cap_stops_a_long_run(small_data, tmp_path, monkeypatch):
    monkeypatch.setattr(train_worker, "CPU_MAX_SECONDS", 0.5)
    last = list(run_training("ae", 50, 0, 32, 1e-3, {}, session_dir=tmp_path, data=small_data))[-1]
    assert "stopped at the time limit" in last.status and "my ae #1" in last.models


@pytest.mark.parametrize("variant", ["pca", "cvae", "aae"])  # closed form, labels, a custom training step
def test_special_variants_train_in_the_tab(variant, small_data, tmp_path):
    last = list(run_training(variant, 1, 0, 128, 1e-3, {}, session_dir=tmp_path, data=small_data))[-1]
    assert last.error is None, last.status
    assert last.models[f"my {variant} #1"].variant == variant
    rows = 3 if variant in ("cvae", "aae") else 2  # digits, reconstructions (and samples)
    assert last.grid.shape[0] == pytest.approx(rows * 29 * train_worker.GRID_SCALE, abs=2 * train_worker.GRID_SCALE)


def test_pca_is_fitted_not_drawn_as_a_training_curve(small_data, tmp_path):
    views = list(run_training("pca", 3, 0, 1, 0.5, {}, session_dir=tmp_path, data=small_data))
    last = views[-1]
    assert last.error is None and "my pca #1" in last.models
    assert all(v.loss is None or v.loss.empty for v in views)  # it used to draw a line from the untrained loss
    said = "fitted in closed form (SVD): epochs, batch size and learning rate do not apply"
    assert said in views[2].status and said in last.status  # at the start, and with the result
    assert "1 epoch" not in last.status and "finished" not in last.status
    # nor an empty frame with a picture icon in it, for the whole run; the next model's run brings the plot back
    assert train_tab._curve_update(last.loss, "pca").visible is False
    assert train_tab._curve_update(last.loss.iloc[:0], "ae").visible is True


def test_a_time_budget_under_a_second_is_said_as_it_was_given(small_data, tmp_path):
    # rounded to whole seconds it read "until 2 epochs or 0 s", and 0 is the field's "no limit"
    views = run_training("ae", 2, 0.4, 128, 1e-3, {}, session_dir=tmp_path, data=small_data)
    start = next(v for v in views if v.status.startswith("Training **AE**"))
    assert "until 2 epochs or 0.4 s, whichever comes first" in start.status


def test_a_run_clears_the_previous_runs_grid_when_it_starts(small_data, tmp_path):
    views = list(run_training("ae", 1, 0, 128, 1e-3, {}, session_dir=tmp_path, data=small_data))
    start = next(v for v in views if v.status.startswith("Training **AE**"))
    assert start.grid is None and start.grid_version > 0  # an empty picture is sent, not the last run's left up
    assert views[-1].grid is not None and views[-1].grid_version > start.grid_version


def test_a_pca_fitted_on_part_of_the_digits_says_so_in_its_checkpoint(small_data, tmp_path, monkeypatch):
    # the fit takes the first PCA_MAX_SAMPLES digits (memory); its metrics.json said it had all of them
    monkeypatch.setattr(train_worker, "PCA_MAX_SAMPLES", 1000)
    last = list(run_training("pca", 1, 0, 128, 1e-3, {}, session_dir=tmp_path, data=small_data))[-1]
    metrics = read_metrics(last.checkpoint)
    assert metrics["training"]["data"].startswith("the first 1,000 training digits of the MNIST train split; ")
    ae = list(run_training("ae", 1, 0, 128, 1e-3, {}, session_dir=tmp_path, data=small_data))[-1]
    assert read_metrics(ae.checkpoint)["training"]["data"].startswith("1,200 training digits of the MNIST train")


def test_a_train_curve_shows_even_with_batch_size_1(small_data, tmp_path, monkeypatch):
    # the loss is averaged over a 25th of an epoch: 2,400 steps at batch size 1 on the Space's 60k digits. Made as
    # long here (small_data has 1,200), it still has to show points within a 3-second run.
    monkeypatch.setattr(train_worker, "POINTS_PER_EPOCH", 0.5)
    last = list(run_training("ae", 50, 3, 1, 1e-3, {}, session_dir=tmp_path, data=small_data))[-1]
    assert len(curve_points(last, "train")) >= 3  # the untrained point and at least two more


def test_the_plot_says_what_the_models_loss_is_and_ignores_a_spike(small_data, monkeypatch):
    from aedemo.space.train_tab import loss_title

    assert loss_title("vae") == "BCE + KL (nats per image)" and loss_title("cvae") == loss_title("vae")
    assert "3×sparsity KL" in loss_title("sparse") and "0.1×‖J‖²" in loss_title("contractive")
    assert "KL" not in loss_title("ae") and "+" not in loss_title("ae") and "noisy" in loss_title("dae")
    assert "no GAN terms" in loss_title("aae")
    # the y axis of the plot beside the form at 1280 px shows ~36 characters: the AAE's 39 lost "terms"
    assert all(len(loss_title(v)) <= 36 for v in aedemo.VARIANTS)
    # the words carry the model's own weights, not the class defaults
    assert aedemo.build_model("sparse", beta=0.5).loss_in_words() == "BCE (nats per image) + 0.5×sparsity KL"

    monkeypatch.setattr(train_worker, "_data_cache", small_data)
    updates = [out[1] for out in train_tab._train_handler("sparse", 1, 0, 64, 1e-3, 0, {}, None, lambda *a, **k: None)]
    plots = [u for u in updates if getattr(u, "value", None) is not None]
    assert plots and all(p.y_title == loss_title("sparse") for p in plots)
    curve = pd.DataFrame(plots[-1].value["data"], columns=plots[-1].value["columns"])
    untrained = curve.loc[curve["epoch"] == 0, "loss"].max()
    # the axis stops a little above the untrained loss: a spike past it (learning rate 1) would flatten the rest
    assert plots[-1].y_lim == [None, pytest.approx(1.1 * untrained)]


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        (("ae", 3, 0, 0, 1e-3), "Batch size"),
        (("ae", 3, 0, 12.5, 1e-3), "Batch size"),
        (("nope", 3, 0, 64, 1e-3), "Unknown model"),
        (("classifier", 3, 0, 64, 1e-3), "Unknown model"),
        ((["ae"], 3, 0, 64, 1e-3), "Unknown model"),  # the API's list or dict: "unhashable type", a traceback
        (({"variant": "ae"}, 3, 0, 64, 1e-3), "Unknown model"),
        (("ae", 0, 0, 64, 1e-3), "Epochs"),
        (("ae", 3, -5, 64, 1e-3), "Time budget"),
        (("ae", 3, 0, 64, 0), "Learning rate"),
        (("ae", 3, 0, 64, "fast"), "Learning rate"),
        (("ae", 3, 0, 64, float("nan")), "Learning rate"),
        (("ae", 3, 0, 64, 10**400), "Learning rate"),  # an integer past float's range: used to raise OverflowError
    ],
)
def test_bad_settings_give_a_clear_message_and_change_nothing(settings, says, tmp_path):
    models = {"kept": object()}
    views = list(run_training(*settings, models, session_dir=tmp_path / "session"))
    assert len(views) == 1
    assert says in views[0].error and says in views[0].status
    assert views[0].models == models
    assert not (tmp_path / "session").exists()


def test_a_blank_time_budget_means_no_limit_as_an_empty_one_does():
    from aedemo.space.train_tab import parse_settings

    # "  " was refused as "Time budget is empty" while "" meant no limit
    assert [parse_settings("ae", 3, b, 64, 1e-3).budget for b in (None, "", "  ", 0, "30")] == [None] * 4 + [30.0]


def test_a_batch_too_big_for_the_cpu_is_refused_there_and_taken_on_a_gpu(monkeypatch):
    # a batch of 4096 on the CPU took the Space 1.35 GB past its size, for one visitor's run
    from aedemo.space.train_tab import MAX_BATCH, MAX_BATCH_CPU, SettingsError, parse_settings

    monkeypatch.setattr(train_worker, "gpu_expected", lambda: False)
    assert parse_settings("vae", 3, 0, MAX_BATCH_CPU, 1e-3).batch_size == MAX_BATCH_CPU
    with pytest.raises(SettingsError, match=f"^Batch size must be at most {MAX_BATCH_CPU} on the CPU, not 4096"):
        parse_settings("vae", 3, 0, 4096, 1e-3)
    monkeypatch.setattr(train_worker, "gpu_expected", lambda: True)
    assert parse_settings("vae", 3, 0, MAX_BATCH, 1e-3).batch_size == MAX_BATCH


def test_an_apple_gpu_counts_as_the_gpu_runs_train_on(monkeypatch):
    # `python app.py` on a Mac: the Train tab's limits and status follow the device aedemo.train would pick
    from aedemo import devices

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "_mps_available", lambda: False)
    assert not train_worker.gpu_expected()
    monkeypatch.setattr(devices, "_mps_available", lambda: True)
    assert train_worker.gpu_expected()


def test_every_bad_field_is_named_at_once_in_the_forms_order(tmp_path):
    # only the first was: a visitor fixed it, pressed Train, and learnt of the next
    from aedemo.space.train_tab import SettingsError, parse_settings

    views = list(run_training("ae", 0, -5, "many", 7, {}, seed=-1, session_dir=tmp_path / "session"))
    assert len(views) == 1 and not (tmp_path / "session").exists()
    said = views[0].error
    fields = ["Epochs", "Time budget", "Batch size", "Learning rate", "The seed"]
    at = [said.find(f"{field} must be") for field in fields]
    assert -1 not in at and at == sorted(at), said
    for field, settings in zip(fields, [("ae", 0, 0, 64, 1e-3), ("ae", 3, -5, 64, 1e-3), ("ae", 3, 0, "many", 1e-3),
                                        ("ae", 3, 0, 64, 7)], strict=False):
        with pytest.raises(SettingsError) as alone:
            parse_settings(*settings)
        assert str(alone.value) in said and str(alone.value).startswith(field)  # each its own message, as before
    assert parse_settings("ae", 3, 0, 64, 1e-3).epochs == 3  # good settings still pass


@pytest.mark.parametrize("seed", [-3, 2.5, 2**32, "abc", None, float("nan")])
def test_a_bad_seed_gets_the_other_tabs_message(seed, tmp_path):
    with pytest.raises(UserInputError) as elsewhere:  # what the Generate and Denoise tabs say
        parse_seed(seed)
    views = list(run_training("ae", 1, 0, 64, 1e-3, {}, seed=seed, session_dir=tmp_path / "session"))
    assert len(views) == 1 and views[0].error == str(elsewhere.value)
    assert views[0].status == f"**Not trained:** {elsewhere.value}"
    assert not (tmp_path / "session").exists()


def test_the_same_seed_trains_the_same_model_and_another_seed_another(small_data, tmp_path, monkeypatch):
    """On the CPU a run is its settings and its seed: the initial weights, the order of the batches and the noise
    the denoising AE adds are all drawn from it."""
    # the curve's points by steps alone, not by the clock: every test point within the epoch, and the train loss
    # averaged over windows of steps (one step each here) rather than of seconds
    monkeypatch.setattr(train_worker, "PROBE_SHARE", 1.0)
    monkeypatch.setattr(train_worker, "SECONDS_PER_POINT", math.inf)
    data = TrainingData(small_data.x_train[:640], small_data.y_train[:640], small_data.x_test, small_data.y_test)

    def run(seed: int, folder: str):
        return list(run_training("dae", 1, 0, 64, 2e-3, {}, seed=seed, session_dir=tmp_path / folder, data=data))[-1]

    first, again, other = run(7, "a"), run(7, "b"), run(8, "c")
    assert first.error is None and "finished" in first.status, first.status
    pd.testing.assert_frame_equal(first.loss, again.loss)  # every point, to the last bit
    assert len(curve_points(first, "train")) == 10 + 1 and len(curve_points(first, "test")) == 5 + 1
    same = (m.models["my dae #1"].state_dict() for m in (first, again))
    assert all(torch.equal(a, b) for a, b in zip(*(s.values() for s in same), strict=True))
    assert (first.grid == again.grid).all()
    # another seed: another untrained model, other batches, other noise
    assert curve_points(other, "train")[0] != curve_points(first, "train")[0]
    assert curve_points(other, "train")[1:] != curve_points(first, "train")[1:]
    with open(f"{first.checkpoint}/metrics.json") as f:
        assert "--seed 7" in json.load(f)["training"]["command"]  # the saved run says how to repeat it


def test_diverging_run_is_reported_not_kept(small_data, tmp_path, monkeypatch):
    from aedemo.models.ae import AE

    def blow_up(self, x, labels, optimizers, generator=None):
        with torch.no_grad():
            for p in self.parameters():
                p.fill_(float("nan"))
        for opt in optimizers:  # as a real step does (the learning-rate schedule expects it); no gradients: a no-op
            opt.step()
        return {"loss": float("nan")}

    monkeypatch.setattr(AE, "training_step", blow_up)
    last = list(run_training("ae", 2, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data))[-1]
    assert "diverged" in last.error and "learning rate" in last.error
    assert last.models == {} and last.download is None


@pytest.mark.parametrize("error, says", [
    (DataNotFoundError("no network"), "could not be downloaded (offline?)"),
    (DataError("/cache/MNIST/raw/train-images-idx3-ubyte.gz is not a whole gzip file"), "is damaged (/cache/MNIST"),
])
def test_offline_training_data_falls_back_to_the_bundled_test_set(monkeypatch, error, says):
    real = load_mnist

    def offline(split, *args, **kwargs):
        if split == "train":
            raise error
        return real(split, *args, **kwargs)

    monkeypatch.setattr(train_worker, "load_mnist", offline)
    monkeypatch.setattr(train_worker, "_data_cache", None)
    data = train_worker.training_data()
    assert data.notice and says in data.notice
    assert len(data.x_train) == 9000 and len(data.x_test) == 1000
    x, _ = real("test")
    assert torch.equal(torch.cat([data.x_train, data.x_test]), x)  # disjoint: the test loss stays honest
    assert train_worker.training_data() is data  # loaded once


def test_push_refuses_without_a_trained_model_a_repo_id_or_a_token(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("aedemo.hub.push_checkpoint", lambda *a, **k: calls.append((a, k)))
    assert "train a model first" in push_to_hub("me/model", "hf_x", False, None)
    assert "your-name/model-name" in push_to_hub("not a repo id", "hf_x", False, str(tmp_path))
    empty = push_to_hub("  ", "hf_x", False, str(tmp_path))
    assert "enter a repository id" in empty and "``" not in empty
    # No token must not mean "use the Space's own login": the push is refused.
    assert "token" in push_to_hub("me/model", "  ", False, str(tmp_path))
    # direct calls may pass anything (the Textbox sends text): the same messages, not AttributeError
    assert "your-name/model-name`, not `123`" in push_to_hub(123, "hf_x", False, str(tmp_path))
    assert "your-name/model-name" in push_to_hub(["me/model"], "hf_x", False, str(tmp_path))
    assert "paste a Hugging Face access token" in push_to_hub("me/model", 12345, False, str(tmp_path))
    assert "train a model first" in push_to_hub("me/model", "hf_x", False, 7)
    # its files swept to make room while the session lived on: it said "train a model first" to one who had
    assert "cleared to make room" in push_to_hub("me/model", "hf_x", False, str(tmp_path / "swept" / "my-ae-1"))
    assert calls == []


def test_a_session_keeps_the_files_of_its_latest_run_only(small_data, tmp_path):
    # Download and Push offer the latest run: the earlier runs' files only filled the disk
    first = list(run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path, data=small_data))[-1]
    second = list(run_training("ae", 1, 0, 64, 1e-3, first.models, session_dir=tmp_path, data=small_data))[-1]
    assert set(second.models) == {"my ae #1", "my ae #2"}  # both models stay in the session
    kept = {p.name for p in tmp_path.iterdir() if p.is_dir() or p.suffix == ".zip"}
    assert kept == {Path(second.checkpoint).name, Path(second.download).name}
    assert not Path(first.checkpoint).exists()


def test_enter_in_the_repository_or_token_box_pushes():
    from aedemo.space import build_demo
    from aedemo.space.store import ModelStore

    demo = build_demo(ModelStore(root="/nonexistent"))
    boxes = [c["id"] for c in demo.config["components"]
             if c["props"].get("label") in ("Repository id", "Hugging Face token (write access)")]
    (push,) = [d for d in demo.config["dependencies"] if d["api_name"] == "push_to_hub"]
    assert len(boxes) == 2 and all([box, "submit"] in [list(t) for t in push["targets"]] for box in boxes)


def test_push_sends_the_visitors_token_and_never_shows_it(tmp_path, monkeypatch):
    from aedemo.hub import HubError

    secret = "hf_SECRETsecretSECRET"
    seen = {}

    def fake_push(folder, repo_id, token=None, private=False, **kwargs):
        seen.update(folder=folder, repo_id=repo_id, token=token, private=private)
        return "https://huggingface.co/me/model/commit/abc"

    monkeypatch.setattr("aedemo.hub.push_checkpoint", fake_push)
    message = push_to_hub(" me/model ", secret, True, str(tmp_path))
    assert seen == {"folder": str(tmp_path), "repo_id": "me/model", "token": secret, "private": True}
    assert "Pushed" in message and "commit/abc" in message and secret not in message

    def failing_push(folder, repo_id, token=None, **kwargs):
        raise HubError(f"401 Unauthorized for token {token}")

    monkeypatch.setattr("aedemo.hub.push_checkpoint", failing_push)
    message = push_to_hub("me/model", secret, False, str(tmp_path))
    assert "Not pushed" in message and "401" in message and secret not in message
    # a token pasted into the repository box, where an id is echoed back when it is not one
    message = push_to_hub(secret, "hf_other_token_000", False, str(tmp_path))
    assert "looks like an access token" in message and secret not in message
    token = "hf_" + "aB3" * 11 + "c"  # as long as Hugging Face's
    for pasted in (f"{token}/", f"/{token}", f"{token}//x", f"me/{token}"):  # with a "/", it was echoed in full
        message = push_to_hub(pasted, "hf_other_token_000", False, str(tmp_path))
        assert "looks like an access token" in message and token not in message, pasted
    assert "looks like" not in push_to_hub("me/hf_models!", "hf_other_token_000", False, str(tmp_path))


def test_a_push_failure_is_said_once_and_readable(tmp_path, monkeypatch):
    from aedemo.hub import HubError

    def failing_push(folder, repo_id, token=None, **kwargs):
        raise HubError(f"not pushed: {folder}/config.json: file missing; the Hub was not asked")

    monkeypatch.setattr("aedemo.hub.push_checkpoint", failing_push)
    message = push_to_hub("me/model", "h", False, str(tmp_path))  # a one-letter "token": no "***" in every word
    assert message == f"**Not pushed:** {tmp_path}/config.json: file missing; the Hub was not asked"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(condition, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


@contextmanager
def served_train_tab(data: TrainingData, monkeypatch) -> Iterator[str]:
    """The Train tab alone, served on a free port and training on `data`: its URL."""
    import gradio as gr

    monkeypatch.setattr(train_worker, "_data_cache", data)
    monkeypatch.setattr(train_tab, "LINE", TrainingLine())  # a line of its own: runs of other tests are not in it
    with gr.Blocks() as demo:
        train_tab.build_train_tab(gr.State({}))
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                        show_error=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def _training(job) -> bool:
    """Whether a /train job's latest streamed status says it trains."""
    outputs = job.outputs()
    return bool(outputs) and outputs[-1][0].startswith("Training **")


def _waiting_its_turn(job) -> bool:
    """Whether a /train job's latest streamed status says it waits behind other runs."""
    outputs = job.outputs()
    return bool(outputs) and outputs[-1][0].startswith("**Waiting for its turn:**")


def training_and_waiting(url: str) -> tuple[tuple, tuple]:
    """Two visitors of the app at `url`, as (clients, jobs): the first's long run trains, the second's short one
    waits its turn behind it."""
    from gradio_client import Client

    clients = tuple(Client(url, verbose=False) for _ in range(2))
    training = clients[0].submit("ae", 50, 0, 32, 1e-3, api_name="/train")
    _wait_for(lambda: _training(training), "the first training to start")
    waiting = clients[1].submit("ae", 1, 0, 64, 1e-3, api_name="/train")
    _wait_for(lambda: _waiting_its_turn(waiting), "the second training to wait its turn")
    return clients, (training, waiting)


def test_train_endpoint_through_gradio_client(small_data, monkeypatch):
    """api_name="train" works from a client; a second visitor queues behind a running training; Stop ends it."""
    with served_train_tab(small_data, monkeypatch) as url:
        (first, second), (long_run, queued) = training_and_waiting(url)
        assert not queued.done()
        first.predict(api_name="/stop_training")  # stops the first visitor's run, not the second's

        status, _curve, _grid, download, repo_id, _push_status, _kl = long_run.result(timeout=120)
        assert "my ae #1** stopped:" in status
        status, _curve, grid, download, repo_id, push_status, _kl = queued.result(timeout=120)
        assert push_status == ""  # a new model clears the message of an earlier push
        assert "my ae #1" in status and "finished" in status  # its own session: its own first model
        assert repo_id["placeholder"] == "your-name/aedemo-ae"  # the push box suggests a name for what was trained
        # the run's last result carries its picture and its checkpoint as files the client fetched: they were
        # Gradio updates, the picture an empty one (sent only when new) and the zip a path on the server's disk
        assert isinstance(grid, str) and Image.open(grid).size[0] > 0
        assert isinstance(download, str) and zipfile.is_zipfile(download)

        bad_status, *_ = second.predict("ae", 1, 0, 0, 1e-3, api_name="/train")
        assert "Batch size" in bad_status
        # the seed: the Generate tab's message, not Gradio's rounding of it to 2 without a word
        bad_status, *_ = second.predict("ae", 1, 0, 64, 1e-3, 2.5, api_name="/train")
        assert "The seed must be a whole number from 0 to 4,294,967,295, not 2.5." in bad_status


def test_the_epochs_help_says_how_many_epochs_of_the_chosen_model_fit_and_pca_greys_out_what_it_ignores(monkeypatch):
    # a VAE left at the AE's 3 epochs stopped at the cap a third of the way; PCA's status said only after the run
    # that epochs, batch size and learning rate do not apply
    import gradio as gr

    monkeypatch.setattr(train_worker, "gpu_expected", lambda: False)
    cap, seconds = train_worker.CPU_MAX_SECONDS, train_tab.EPOCH_SECONDS_ON_CPU
    assert f"about {seconds['vae']} s for the VAE" in train_tab.epochs_info("vae")
    assert f"so 1 epoch fits in the {cap:.0f} s" in train_tab.epochs_info("vae")  # not "1 epochs"
    assert f"so {cap // seconds['conv']:.0f} epochs fit" in train_tab.epochs_info("conv")
    assert f"{train_tab.MLP_EPOCH_SECONDS_ON_CPU} s for this model" in train_tab.epochs_info("ae")
    # a variant of one's own, unmeasured here, was given the MLPs' time as measured
    monkeypatch.setattr(train_tab, "MLPS_MEASURED", ("dae",))
    assert train_tab.epochs_info("ae") == "One epoch is a pass over the 60,000 training digits."
    monkeypatch.undo()
    monkeypatch.setattr(train_worker, "gpu_expected", lambda: False)
    unmeasured = [v for v, cls in aedemo.models.AUTOENCODERS.items() if cls.trainable
                  and v not in train_tab.EPOCH_SECONDS_ON_CPU and v not in train_tab.MLPS_MEASURED]
    assert not unmeasured, "time an epoch of each (benchmarks/train_epochs.py) for train_tab.EPOCH_SECONDS_ON_CPU"
    epochs, batch, lr = train_tab.settings_look("pca")
    assert "do not apply" in epochs.info and not (epochs.interactive or batch.interactive or lr.interactive)
    assert all(c.interactive for c in train_tab.settings_look("ae"))
    # and what those greyed-out fields hold does not stop PCA's fit: the visitor could not have mended it
    assert train_tab.parse_settings("pca", 3, 0, 100_000, None, 0).variant == "pca"
    with pytest.raises(train_tab.SettingsError, match="Batch size .* Learning rate"):
        train_tab.parse_settings("ae", 3, 0, 100_000, None, 0)
    monkeypatch.setattr(train_worker, "gpu_expected", lambda: True)  # seconds an epoch there: no CPU figures
    assert train_tab.epochs_info("vae") is None
    with gr.Blocks() as demo:
        train_tab.build_train_tab(gr.State({}))
    ids = {c["props"].get("label"): c["id"] for c in demo.config["components"]}
    (change,) = [d for d in demo.config["dependencies"] if list(map(tuple, d["targets"])) == [(ids["Model"], "change")]]
    assert change["outputs"] == [ids["Epochs"], ids["Batch size"], ids["Learning rate"]]


def test_the_default_run_finishes_well_inside_a_cpu_spaces_cap(monkeypatch):
    """Every student's first run used to end "stopped at the time limit" (the VAE, 3 epochs, 60 s: 0.78 epoch)."""
    import gradio as gr


    monkeypatch.setattr(train_worker, "gpu_expected", lambda: False, raising=False)
    with gr.Blocks() as demo:
        train_tab.build_train_tab(gr.State({}))
    value = {c["props"].get("label"): c["props"].get("value") for c in demo.config["components"]}
    variant, epochs, budget = value["Model"], value["Epochs"], value["Time budget (seconds, 0 = none)"]
    batch = value["Batch size"]

    # by the epoch times measured on a 2-vCPU CPU Space (benchmarks/train_epochs.py prints them; timing steps here
    # made a test that failed on a loaded machine), the most an MLP's takes for the MLPs
    seconds = train_tab.EPOCH_SECONDS_ON_CPU.get(variant, int(train_tab.MLP_EPOCH_SECONDS_ON_CPU.split("-")[-1]))
    assert epochs * seconds <= train_worker.CPU_MAX_SECONDS / 2, f"{variant}, {epochs} epochs: ~{epochs * seconds} s"
    assert batch == 128  # the batch size those epochs were measured at
    assert budget == 0  # no budget of its own: the cosine schedule decays over the epochs


def test_the_train_button_is_enabled_again_however_the_run_ends():
    # greyed out at the press; re-enabled after a run that ends well and (a separate follower) after a failure
    import gradio as gr

    with gr.Blocks() as demo:
        train_tab.build_train_tab(gr.State({}))
    deps = demo.config["dependencies"]
    (run,) = [i for i, d in enumerate(deps) if d.get("api_name") == "train"]
    button = deps[deps[run]["trigger_after"]]["outputs"][0]  # what the press greys out
    followers = [d for d in deps if d.get("trigger_after") == run and button in d["outputs"]]
    assert sorted(bool(d["trigger_only_on_failure"]) for d in followers) == [False, True]
    # the progress box the press shows goes with the run, however it ends
    box = deps[deps[run]["trigger_after"]]["outputs"][2]
    assert deps[run]["show_progress_on"] == [box] and all(box in d["outputs"] for d in followers)


def test_the_previous_runs_download_hides_while_a_run_trains_and_comes_back_if_it_keeps_none():
    # beside a new run, the last run's "Download the checkpoint" read as the new run's
    import gradio as gr

    with gr.Blocks() as demo:
        train_tab.build_train_tab(gr.State({}))
    deps = demo.config["dependencies"]
    (run,) = [i for i, d in enumerate(deps) if d.get("api_name") == "train"]
    press = deps[run]["trigger_after"]
    download = deps[run]["outputs"][6]
    pressed = train_tab._press_train(None)
    assert pressed[deps[press]["outputs"].index(download)].visible is False
    followers = [d for d in deps if d.get("trigger_after") == run and download in d["outputs"]]
    assert sorted(bool(d["trigger_only_on_failure"]) for d in followers) == [False, True]
    assert all(d["inputs"] == [download] for d in followers)  # shown again from what the button holds
    ended = train_tab._run_ended
    assert ended("run.zip")[2].visible is True and ended(None)[2].visible is False


def test_a_model_that_draws_one_digit_for_every_input_is_called_collapsed(small_data, store):
    # a learning rate near 1 left the AE drawing one blurry digit whatever it was given, reported as "finished"
    flat = aedemo.build_model("ae").eval()
    torch.nn.init.zeros_(flat.decoder[-1].weight)  # its output no longer depends on the input
    assert train_tab.collapsed(flat, small_data)
    assert not any(train_tab.collapsed(model, small_data) for model in store.models.values())  # the shipped ones
    # the cause it suggests fits the learning rate used: at the default it asked "learning rate too high?"
    assert "learning rate too high? 0.5 is above 1e-3" in train_tab.collapse_note(0.5)
    assert "more epochs" in train_tab.collapse_note(1e-3) and "learning rate" not in train_tab.collapse_note(1e-3)
    # a run the clock stopped: "train it for more epochs" after "stopped at the time limit: 0.06 of 10 epochs"
    assert "longer Time budget" in train_tab.collapse_note(1e-3, "budget")
    assert "Space's time limit" in train_tab.collapse_note(1e-3, "cap")
    assert "more epochs" not in train_tab.collapse_note(1e-3, "budget") + train_tab.collapse_note(1e-3, "cap")


def test_a_collapsed_model_the_time_budget_stopped_is_told_to_take_longer(small_data, tmp_path):
    views = list(run_training("ae", 10, 0.01, 64, 1e-3, {}, session_dir=tmp_path, data=small_data))
    assert "stopped at the time limit" in views[-1].status
    assert "look alike" in views[-1].status and "longer Time budget" in views[-1].status


def test_a_cancelled_run_has_stopped_before_the_next_one_starts(small_data, tmp_path):
    # the generator is closed without waiting for its thread (Gradio closes it on its event loop); cancelled runs
    # queued one after another used to train side by side
    settings = {"variant": "vae", "epochs": 5, "budget": None, "batch_size": 32, "lr": 1e-3, "seed": 0}
    first = train_worker._train_worker(settings, str(tmp_path / "stop-1"), small_data)
    assert next(first)[0] == "start"
    thread = train_worker._last_run
    first.close()  # the visitor left: its stop flag is set
    second = train_worker._train_worker(settings, str(tmp_path / "stop-2"), small_data)
    assert next(second)[0] == "start"
    assert not thread.is_alive()
    second.close()
    train_worker._last_run.join()


def test_a_run_whose_news_has_all_been_read_has_no_thread_left(small_data, tmp_path):
    # the thread was still unwinding after its last news: a benchmark that exited then died in "terminate called
    # without an active exception"
    settings = {"variant": "ae", "epochs": 1, "budget": None, "batch_size": 64, "lr": 1e-3, "seed": 0}
    news = list(train_worker._train_worker(settings, str(tmp_path / "stop"), small_data))
    assert "done" in dict(news) and not train_worker._last_run.is_alive()


def test_old_session_folders_are_swept_unless_training(tmp_path):

    old, fresh, busy, left = (tmp_path / n for n in ("old", "fresh", "busy", "left"))
    for folder in (old, fresh, busy, left):
        (folder / "aedemo-my-ae-1").mkdir(parents=True)
    for folder in (busy, left):
        (folder / train_tab.RUNNING).write_text("stop-flag")
    long_ago = time.time() - train_tab.SESSION_TTL_SECONDS - 60
    for path in (old, busy, left, left / train_tab.RUNNING):  # `left`: a marker a killed server left behind
        os.utime(path, (long_ago, long_ago))
    train_tab.sweep_sessions(tmp_path)
    assert not old.exists() and fresh.exists() and busy.exists() and not left.exists()
    train_tab.sweep_sessions(tmp_path / "never-made")  # no folder yet: nothing to do, no error


def test_only_the_newest_session_folders_are_kept(tmp_path):
    # each /call/train is a new session: 15 MB of files a run, kept 6 hours, could fill a Space's disk

    folders = [tmp_path / f"session-{n}" for n in range(6)]
    for folder in folders:
        (folder / "aedemo-my-ae-1").mkdir(parents=True)
    (folders[0] / train_tab.RUNNING).write_text("stop-flag")  # the oldest, but training now
    for age, folder in enumerate(reversed(folders)):  # session-5 the newest
        os.utime(folder, (time.time() - 60 * age, time.time() - 60 * age))
    train_tab.sweep_sessions(tmp_path, keep=3)
    assert [f.exists() for f in folders] == [True, False, False, True, True, True]


def test_runs_waiting_are_capped_per_session_and_in_all(small_data, monkeypatch):
    """Runs from callers without a page could line up for hours. A session gets one run waiting at a time, and the
    Space MAX_RUNS_WAITING; a refused run never starts."""
    from gradio_client import Client
    from gradio_client.exceptions import ValidationError

    monkeypatch.setattr(train_line, "MAX_RUNS_WAITING", 2)
    with served_train_tab(small_data, monkeypatch) as url:
        clients = [Client(url, verbose=False) for _ in range(3)]
        jobs = []
        try:
            jobs.append(clients[0].submit("ae", 50, 0, 32, 1e-3, api_name="/train"))  # trains
            _wait_for(lambda: _training(jobs[0]), "the first training to start")
            jobs.append(clients[1].submit("ae", 1, 0, 64, 1e-3, api_name="/train"))  # waits
            _wait_for(lambda: _waiting_its_turn(jobs[1]), "the second training to wait")
            with pytest.raises(ValidationError, match="already training or waiting"):  # the same session
                clients[1].predict("ae", 1, 0, 64, 1e-3, api_name="/train")
            jobs.append(clients[2].submit("ae", 1, 0, 64, 1e-3, api_name="/train"))  # waits: two in all
            _wait_for(lambda: _waiting_its_turn(jobs[2]), "the third training to wait")
            with pytest.raises(ValidationError, match="2 runs are waiting"):  # a new session, over the Space's cap
                Client(url, verbose=False).predict("ae", 1, 0, 64, 1e-3, api_name="/train")
        finally:
            for client, job in zip(clients, jobs, strict=False):
                job.cancel()
                client.predict(api_name="/stop_training")


def test_stop_pressed_while_a_run_waits_its_turn_ends_it_at_once(small_data, monkeypatch):
    with served_train_tab(small_data, monkeypatch) as url:
        (training, waiting), (first, second) = training_and_waiting(url)
        waiting.predict(api_name="/stop_training")  # the waiting session's Stop: the one training trains on
        status = second.result(timeout=30)[0]  # at once: it waited for the run ahead to end (up to 120 s)
        assert status.startswith("**Not trained:** you pressed Stop while this run waited"), status
        assert not first.done()  # still training
        training.predict(api_name="/stop_training")
        assert "stopped" in first.result(timeout=120)[0]


def test_a_run_is_admitted_unless_its_session_has_one_in_the_line_or_the_line_is_long(monkeypatch):
    monkeypatch.setattr(train_line, "MAX_RUNS_WAITING", 3)
    refusal = train_line.refusal  # given the sessions in the line, the first one's run training
    assert refusal([], "a") is None
    assert refusal(["b", "c"], "a") is None
    assert "already training or waiting" in refusal(["b", "a"], "a")
    assert "already training or waiting" in refusal(["a", "b"], "a")
    assert refusal(["t", "b", "c", "d"], "a") == ("3 runs are waiting to train on this Space: try again in a few "
                                                  "minutes.")
    assert refusal(["t", None, None], None) is None  # no session to tell apart: only the Space's cap


def test_idle_models_under_the_count_are_all_kept(monkeypatch):
    from aedemo.space import store as store_module

    monkeypatch.setattr(store_module, "MAX_TRAINED_IN_MEMORY", 4)
    monkeypatch.setattr(store_module, "_trained", [])
    models = [aedemo.build_model("ae").eval() for _ in range(4)]
    for model in models[:2]:
        store_module.keep_trained(model)
    clock = time.monotonic() + store_module.IN_USE_SECONDS + 1  # a minute on, the two are idle
    monkeypatch.setattr(store_module.time, "monotonic", lambda: clock)
    for model in models[2:]:  # the third, under the count, and the fourth, at it
        store_module.keep_trained(model)
        assert not any(store_module.let_go(m) for m in models)
    fifth = aedemo.build_model("ae").eval()
    store_module.keep_trained(fifth)  # past it by one: the oldest idle one goes, and only it
    assert [store_module.let_go(m) for m in [*models, fifth]] == [True, False, False, False, False]


def test_a_model_a_handler_was_just_given_is_not_let_go_under_it(store, monkeypatch):
    # let go mid-call, a session's model failed that call: "Tensor on device meta is not on the expected device cpu!"
    from aedemo.space import store as store_module

    monkeypatch.setattr(store_module, "MAX_TRAINED_IN_MEMORY", 1)
    monkeypatch.setattr(store_module, "_trained", [])
    oldest, newer, newest = (aedemo.build_model("ae").eval() for _ in range(3))
    store_module.keep_trained(oldest)
    store.get("mine", {"mine": oldest})  # handed to a handler just now
    store_module.keep_trained(newer)
    assert not store_module.let_go(oldest)  # over the count, for a while
    clock = time.monotonic() + store_module.IN_USE_SECONDS + 1
    monkeypatch.setattr(store_module.time, "monotonic", lambda: clock)
    store_module.keep_trained(newest)  # a minute on: the oldest goes, then the next, down to the count
    assert store_module.let_go(oldest) and store_module.let_go(newer) and not store_module.let_go(newest)


def test_past_the_models_kept_in_memory_the_oldest_is_let_go_and_says_so(small_data, tmp_path, store, monkeypatch):
    # each /call/train is a session of its own: a model in each of the 1,000 sessions kept could fill the memory
    from aedemo.space import draw_tab
    from aedemo.space import store as store_module

    monkeypatch.setattr(store_module, "MAX_TRAINED_IN_MEMORY", 1)
    monkeypatch.setattr(store_module, "_trained", [])
    first = list(run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path / "a", data=small_data))[-1].models
    assert store.get("my ae #1", first) is first["my ae #1"]
    monkeypatch.setattr(store_module, "IN_USE_SECONDS", -1.0)  # none counts as in use (see the next test)
    second = list(run_training("ae", 1, 0, 64, 1e-3, {}, session_dir=tmp_path / "b", data=small_data))[-1].models
    assert store.get("my ae #1", second) is second["my ae #1"]  # the newest stays
    with pytest.raises(store_module.ModelUnavailable, match="let go to free memory.*train it again"):
        store.get("my ae #1", first)
    digit = small_data.x_test[0].float().div(255).numpy()
    *_, status, _ = draw_tab.reconstruct_digit(store, digit, ["my ae #1"], "my ae #1", first)
    assert "let go to free memory" in status  # in words, in the tab that asked for it
