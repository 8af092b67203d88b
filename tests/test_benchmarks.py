"""The README's measurement commands keep working: each benchmark script runs, briefly, and prints its figures.

Nothing here times anything (the figures are the scripts' job, printed, never asserted): a run that is cut short
still has to go through the same code as a full one, so a change to the library that breaks a benchmark shows
here rather than the next time someone measures.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from importlib.util import find_spec
from pathlib import Path

import pytest

from aedemo.data import BUNDLED_DIR
from aedemo.space.browser import CHROMIUM

ROOT = Path(__file__).resolve().parents[1]
# stand-ins in a `runs` marker's command, replaced by folders of the module's own
TRAIN_DATA = "<the bundled test set, standing in for the train split too>"
NO_DATA = "<an empty folder>"


def run_benchmark(*args: str, timeout: float = 240) -> str:
    """Run `python <args>` (a benchmark script and its options) offline; return its output, failing with it."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    return output


def bundled_test_set_as_train_split(root: Path) -> Path:
    """`root` in torchvision's layout, with the bundled 10k test files also standing in for the train split."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("images-idx3-ubyte.gz", "labels-idx1-ubyte.gz"):
        shutil.copy(BUNDLED_DIR / f"t10k-{name}", raw / f"t10k-{name}")
        shutil.copy(BUNDLED_DIR / f"t10k-{name}", raw / f"train-{name}")
    return root


def needs_missing_chromium(item: pytest.Item) -> bool:
    """Whether the test drives Chromium on a machine without it (it is skipped: its run would only fail)."""
    return item.get_closest_marker("browser") is not None and not (CHROMIUM.exists() and find_spec("playwright"))


@pytest.fixture(scope="module")
def started_runs(request, tmp_path_factory) -> Iterator[dict[str, Future]]:
    """The benchmark runs of this module's selected tests (their `runs` markers), started two at a time when the
    first of them needs its output. Most of a run is Python starting, importing torch and often the app, on one
    core: the 13 took 98 s one after another and 56 s two at a time (three at a time, 66 s)."""
    folders = {TRAIN_DATA: str(bundled_test_set_as_train_split(tmp_path_factory.mktemp("mnist"))),
               NO_DATA: str(tmp_path_factory.mktemp("empty"))}
    here = request.node.path
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {}
        for item in request.session.items:
            marker = item.get_closest_marker("runs")
            if item.path == here and marker is not None and not needs_missing_chromium(item):
                command = [folders.get(arg, arg) for arg in marker.args]
                runs[item.nodeid] = pool.submit(run_benchmark, *command)
        yield runs
        for run in runs.values():  # after -x or Ctrl-C: the runs not yet started are dropped
            run.cancel()


@pytest.fixture
def output(request, started_runs: dict[str, Future]) -> str:
    """The output of the run this test's `runs` marker names, once it has ended; a run that fails errors this test,
    with the script's output."""
    if needs_missing_chromium(request.node):
        pytest.skip("needs Debian's chromium at /usr/bin/chromium and the playwright package")
    return started_runs[request.node.nodeid].result()


# first: the longest run (~25 s), so that the two at a time end together
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
@pytest.mark.runs("benchmarks/browser_latency.py", "--strokes", "2")
def test_browser_latency_draws_strokes_and_splits_their_time(output):
    assert re.search(r"pen up -> reconstructions on screen +\d+", output), output


@pytest.mark.runs("benchmarks/train_speed.py", "--data-dir", TRAIN_DATA, "--steps", "3", "--repeats", "1")
def test_train_speed_times_both_loops_and_prints_the_ratio(output):
    rows = re.findall(r"^(reference|aedemo trainer).* ([\d.]+) s/epoch +(\d+) samples/s", output, re.MULTILINE)
    assert [r[0] for r in rows] == ["reference", "aedemo trainer"], output
    assert all(float(seconds) > 0 and int(rate) > 0 for _, seconds, rate in rows), output
    assert re.search(r"speed-up: [\d.]+x", output), output


@pytest.mark.runs("benchmarks/train_epochs.py", "--data-dir", TRAIN_DATA, "--device", "cpu", "--variants", "ae", "pca",
                  "--epochs", "1")
def test_train_epochs_times_each_variant_s_epochs_and_the_train_tab_s_first_run(output):
    rows = re.findall(r"^(\w+) +s per epoch: ([\d.]+) +test loss ([\d.]+)$", output, re.MULTILINE)
    assert [r[0] for r in rows] == ["ae", "pca"] and all(float(r[1]) > 0 for r in rows), output
    assert re.search(r"Train tab's first run: ae, 3 epochs on cpu: finished after 3.00 epochs", output), output


# an empty data folder: the bundled 10k test digits stand in for the training set
@pytest.mark.runs("benchmarks/denormals.py", "--data-dir", NO_DATA, "--epochs", "2", "--rounds", "1")
def test_denormals_times_each_epoch_flushed_and_not(output):
    rows = re.findall(r"^ +(flushed \(trainer\)|not flushed) +([\d.]+) +([\d.]+) +total +([\d.]+)$", output,
                      re.MULTILINE)
    assert [r[0] for r in rows] == ["flushed (trainer)", "not flushed"], output
    assert all(float(first) > 0 and float(second) > 0 for _, first, second, _ in rows), output


@pytest.mark.runs("benchmarks/train_steps.py", "--variants", "ae", "--steps", "2", "--rounds", "1")
def test_train_steps_times_each_variant_under_both_malloc_settings(output):
    rows = re.findall(r"^ +ae +(glibc default|kept \(trainer\)) +([\d.]+) ms/step .* page faults/step +\d+", output,
                      re.MULTILINE)
    assert [r[0] for r in rows] == ["glibc default", "kept (trainer)"], output
    assert all(float(ms) > 0 for _, ms in rows), output


@pytest.mark.runs("benchmarks/app_latency.py", "--skip-http", "--repeats", "2")
def test_app_latency_times_every_handler_in_process(output):
    for handler in ("reconstruct, all variants", "preprocessing", "the classifier", "the models, one after another",
                    "denoise", "generate", "generate_all", "interpolate", "latent_map", "latent (decode a point)"):
        assert re.search(rf"{re.escape(handler)}.* p50 +[\d.]+ ms", output), f"no figure for {handler}:\n{output}"
    assert "skipped" not in output, output  # every shipped model loaded, so every row was measured


@pytest.mark.runs("benchmarks/preprocess_accuracy.py", "-n", "20")
def test_preprocess_accuracy_scores_both_preprocessings(output):
    assert re.search(r"^20 test digits, .*right on the originals", output, re.MULTILINE), output
    assert re.search(r"^all +20 +[\d.]+% +[\d.]+%$", output, re.MULTILINE), output  # careless vs canvas_to_mnist
    assert re.search(r"canvas_to_mnist wall time per canvas: p50 [\d.]+ ms", output), output


@pytest.mark.runs("benchmarks/random_samples.py", "--samples", "20")
def test_random_samples_reads_each_model_s_random_digits(output):
    for name, source in (("vae", "its prior"), ("ae", "a Gaussian fitted to its test codes")):
        assert re.search(rf"^{name} +{source} +\d+% +[\d.]+$", output, re.MULTILINE), output
    assert "not loaded" not in output, output


@pytest.mark.runs("benchmarks/code_neighbours.py", "--digits", "50")
def test_code_neighbours_places_test_digits_among_each_model_s_codes(output):
    for name in ("vae", "ae", "cvae", "pca"):
        assert re.search(rf"^{name} +\d+ +[\d.]+% +[\d.]+%$", output, re.MULTILINE), output


@pytest.mark.runs("benchmarks/contraction.py", "--digits", "20")
def test_contraction_measures_each_mlp_autoencoder_s_jacobian(output):
    for name in ("ae", "dae", "sparse", "contractive"):
        assert re.search(rf"checkpoints/{name} +[\d.]+ +[\d.]+ +[\d.]+$", output, re.MULTILINE), output


@pytest.mark.runs("benchmarks/session_memory.py", "--sessions", "4", "--every", "2")
def test_session_memory_prints_the_servers_memory_as_sessions_add_up(output):
    assert [int(n) for n in re.findall(r"^ +(\d+) +\d+$", output, re.MULTILINE)] == [1, 2, 4], output


@pytest.mark.runs("benchmarks/soak.py", "--rounds", "2", "--every", "1")
def test_soak_prints_the_servers_memory_as_rounds_of_calls_add_up(output):
    # rounds, calls, resident MiB, then each of the seven endpoints' mean ms
    rounds = re.findall(r"^ +(\d+) +\d+ +\d+ +(?:\d+ ){6}\d+$", output, re.MULTILINE)
    assert [int(n) for n in rounds] == [1, 2], output
    assert "MiB per 1,000 rounds" in output, output


@pytest.mark.runs("benchmarks/soak.py", "--rounds", "2", "--every", "1", "--in-process", "--endpoints", "latent_map",
                  "latent")
def test_soak_in_process_also_prints_the_heap_in_use_and_the_session_s_components(output):
    rows = re.findall(r"^ +(\d+) +\d+ +\d+ +([\d.]+) +(\d+) +\d+ \d+$", output, re.MULTILINE)
    assert [int(n) for n, _, _ in rows] == [1, 2], output
    assert all(float(mib) > 0 for _, mib, _ in rows), output
    assert rows[0][2] == rows[1][2], output  # a map redrawn keeps no extra components in the session (gradio_fixes)
    assert re.search(r"^in use: [+-][\d.]+ MiB per 1,000 rounds", output, re.MULTILINE), output


@pytest.mark.runs("benchmarks/upload_memory.py", "--clients", "2", "--uploads", "1", "--side", "600")
def test_upload_memory_prints_the_servers_memory_around_a_burst_of_uploads(output):
    assert "2 clients x 1 uploads of 600x600 px" in output and "statuses: ['']" in output, output
    assert re.search(r"resident MiB: before \d+, peak \d+, 3 s after \d+", output), output


@pytest.mark.runs("benchmarks/app_startup.py", "--runs", "1")
def test_app_startup_launches_the_app_and_reconstructs(output):
    assert re.search(r"port answers after [\d.]+ s, first reconstruct back after [\d.]+ s", output), output
