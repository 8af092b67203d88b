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
from pathlib import Path

import pytest

from aedemo.data import BUNDLED_DIR
from aedemo.space.browser import CHROMIUM

ROOT = Path(__file__).resolve().parents[1]


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


def test_train_speed_times_both_loops_and_prints_the_ratio(tmp_path):
    bundled_test_set_as_train_split(tmp_path)  # a few steps are timed
    out = run_benchmark("benchmarks/train_speed.py", "--data-dir", str(tmp_path), "--steps", "3", "--repeats", "1")
    rows = re.findall(r"^(reference|aedemo trainer).* ([\d.]+) s/epoch +(\d+) samples/s", out, re.MULTILINE)
    assert [r[0] for r in rows] == ["reference", "aedemo trainer"], out
    assert all(float(seconds) > 0 and int(rate) > 0 for _, seconds, rate in rows), out
    assert re.search(r"speed-up: [\d.]+x", out), out


def test_train_epochs_times_each_variant_s_epochs_and_the_train_tab_s_first_run(tmp_path):
    bundled_test_set_as_train_split(tmp_path)
    out = run_benchmark("benchmarks/train_epochs.py", "--data-dir", str(tmp_path), "--device", "cpu",
                        "--variants", "ae", "pca", "--epochs", "1")
    rows = re.findall(r"^(\w+) +s per epoch: ([\d.]+) +test loss ([\d.]+)$", out, re.MULTILINE)
    assert [r[0] for r in rows] == ["ae", "pca"] and all(float(r[1]) > 0 for r in rows), out
    assert re.search(r"Train tab's first run: ae, 3 epochs on cpu: finished after 3.00 epochs", out), out


def test_denormals_times_each_epoch_flushed_and_not(tmp_path):
    # an empty data folder: the bundled 10k test digits stand in for the training set
    out = run_benchmark("benchmarks/denormals.py", "--data-dir", str(tmp_path), "--epochs", "2", "--rounds", "1")
    rows = re.findall(r"^ +(flushed \(trainer\)|not flushed) +([\d.]+) +([\d.]+) +total +([\d.]+)$", out, re.MULTILINE)
    assert [r[0] for r in rows] == ["flushed (trainer)", "not flushed"], out
    assert all(float(first) > 0 and float(second) > 0 for _, first, second, _ in rows), out


def test_train_steps_times_each_variant_under_both_malloc_settings():
    out = run_benchmark("benchmarks/train_steps.py", "--variants", "ae", "--steps", "2", "--rounds", "1")
    rows = re.findall(r"^ +ae +(glibc default|kept \(trainer\)) +([\d.]+) ms/step .* page faults/step +\d+", out,
                      re.MULTILINE)
    assert [r[0] for r in rows] == ["glibc default", "kept (trainer)"], out
    assert all(float(ms) > 0 for _, ms in rows), out


def test_app_latency_times_every_handler_in_process():
    out = run_benchmark("benchmarks/app_latency.py", "--skip-http", "--repeats", "2")
    for handler in ("reconstruct, all variants", "preprocessing", "the classifier", "the models, one after another",
                    "denoise", "generate", "generate_all", "interpolate", "latent_map", "latent (decode a point)"):
        assert re.search(rf"{re.escape(handler)}.* p50 +[\d.]+ ms", out), f"no figure for {handler}:\n{out}"
    assert "skipped" not in out, out  # every shipped model loaded, so every row was measured


def test_preprocess_accuracy_scores_both_preprocessings():
    out = run_benchmark("benchmarks/preprocess_accuracy.py", "-n", "20")
    assert re.search(r"^20 test digits, .*right on the originals", out, re.MULTILINE), out
    assert re.search(r"^all +20 +[\d.]+% +[\d.]+%$", out, re.MULTILINE), out  # careless vs canvas_to_mnist
    assert re.search(r"canvas_to_mnist wall time per canvas: p50 [\d.]+ ms", out), out


def test_random_samples_reads_each_model_s_random_digits():
    out = run_benchmark("benchmarks/random_samples.py", "--samples", "20")
    for name, source in (("vae", "its prior"), ("ae", "a Gaussian fitted to its test codes")):
        assert re.search(rf"^{name} +{source} +\d+% +[\d.]+$", out, re.MULTILINE), out
    assert "not loaded" not in out, out


def test_code_neighbours_places_test_digits_among_each_model_s_codes():
    out = run_benchmark("benchmarks/code_neighbours.py", "--digits", "50")
    for name in ("vae", "ae", "cvae", "pca"):
        assert re.search(rf"^{name} +\d+ +[\d.]+% +[\d.]+%$", out, re.MULTILINE), out


def test_contraction_measures_each_mlp_autoencoder_s_jacobian():
    out = run_benchmark("benchmarks/contraction.py", "--digits", "20")
    for name in ("ae", "dae", "sparse", "contractive"):
        assert re.search(rf"checkpoints/{name} +[\d.]+ +[\d.]+ +[\d.]+$", out, re.MULTILINE), out


def test_session_memory_prints_the_servers_memory_as_sessions_add_up():
    out = run_benchmark("benchmarks/session_memory.py", "--sessions", "4", "--every", "2")
    assert [int(n) for n in re.findall(r"^ +(\d+) +\d+$", out, re.MULTILINE)] == [1, 2, 4], out


def test_soak_prints_the_servers_memory_as_rounds_of_calls_add_up():
    out = run_benchmark("benchmarks/soak.py", "--rounds", "2", "--every", "1")
    # rounds, calls, resident MiB, then each of the seven endpoints' mean ms
    assert [int(n) for n in re.findall(r"^ +(\d+) +\d+ +\d+ +(?:\d+ ){6}\d+$", out, re.MULTILINE)] == [1, 2], out
    assert "MiB per 1,000 rounds" in out, out


def test_soak_in_process_also_prints_the_heap_in_use_and_the_session_s_components():
    out = run_benchmark("benchmarks/soak.py", "--rounds", "2", "--every", "1", "--in-process", "--endpoints",
                        "latent_map", "latent")
    rows = re.findall(r"^ +(\d+) +\d+ +\d+ +([\d.]+) +(\d+) +\d+ \d+$", out, re.MULTILINE)
    assert [int(n) for n, _, _ in rows] == [1, 2], out
    assert all(float(mib) > 0 for _, mib, _ in rows), out
    assert rows[0][2] == rows[1][2], out  # a map redrawn keeps no extra components in the session (gradio_fixes)
    assert re.search(r"^in use: [+-][\d.]+ MiB per 1,000 rounds", out, re.MULTILINE), out


def test_app_startup_launches_the_app_and_reconstructs():
    out = run_benchmark("benchmarks/app_startup.py", "--runs", "1")
    assert re.search(r"port answers after [\d.]+ s, first reconstruct back after [\d.]+ s", out), out


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_browser_latency_draws_strokes_and_splits_their_time():
    pytest.importorskip("playwright.sync_api")
    out = run_benchmark("benchmarks/browser_latency.py", "--strokes", "2", timeout=300)
    assert re.search(r"pen up -> reconstructions on screen +\d+", out), out
