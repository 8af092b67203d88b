"""Checkpoints: save -> load is exact; every broken folder gives a clear error naming the file; saves are atomic."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import aedemo.checkpoint as checkpoint
from aedemo import VARIANTS, CheckpointError, build_model, load_model
from aedemo.checkpoint import load_checkpoint, read_metrics, save_checkpoint
from aedemo.data import load_mnist, to_float

_images, _labels = load_mnist("test", download=False)
X, Y = to_float(_images[:8]), _labels[:8]
METRICS = {"test": {"mse": 0.5}, "training": {"command": "python -m aedemo.train --variant ae"}}


def fresh(variant: str, seed: int = 0, **config) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = build_model(variant, **config)
    if variant == "pca":
        model.fit(to_float(_images[seed * 300 : seed * 300 + 300]))
    return model.eval()


@torch.no_grad()
def outputs(model: torch.nn.Module) -> torch.Tensor:
    if model.variant == "classifier":
        return model(X)
    return model.reconstruct(X, Y if model.conditional else None)


def saved(tmp_path: Path, variant: str = "ae", seed: int = 0, **config) -> tuple[Path, torch.nn.Module]:
    model = fresh(variant, seed, **config)
    return save_checkpoint(model, tmp_path / "ck", METRICS), model


def edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (folder / "config.json").write_text(json.dumps(config))


def test_a_vae_saved_before_residual_blocks_still_loads(tmp_path):
    folder, model = saved(tmp_path, "vae", blocks=0)
    edit_config(folder, blocks=None)  # configs written then had no "blocks": the plain two-layer conv VAE
    loaded = load_model(str(folder))
    assert loaded.config["blocks"] == 0
    assert torch.equal(outputs(loaded), outputs(model))
    folder, _ = saved(tmp_path / "new", "vae")  # and a VAE of today keeps its blocks
    assert load_model(str(folder)).config["blocks"] == 1


@pytest.mark.parametrize("channels", [None, [8, 16]])
def test_a_cvae_saved_before_the_class_entered_with_the_pixels_still_loads(tmp_path, channels):
    # the shipped CVAE of November 2026, and any pushed to the Hub then: their configs say nothing of class_into
    folder, model = saved(tmp_path, "cvae", channels=channels, class_into="heads")
    edit_config(folder, class_into=None)
    loaded = load_model(str(folder))
    assert loaded.config["class_into"] == "heads"
    assert torch.equal(outputs(loaded), outputs(model))
    folder, _ = saved(tmp_path / "new", "cvae", channels=channels)
    assert load_model(str(folder)).config["class_into"] == "input"


def test_a_contractive_ae_saved_before_its_decoder_was_tied_still_loads(tmp_path):
    # the shipped contractive AE of November 2026, and any pushed to the Hub then: their configs say nothing of tied
    folder, model = saved(tmp_path, "contractive", tied=False)
    edit_config(folder, tied=None)
    loaded = load_model(str(folder))
    assert loaded.config["tied"] is False
    assert torch.equal(outputs(loaded), outputs(model))
    folder, _ = saved(tmp_path / "new", "contractive")
    assert load_model(str(folder)).config["tied"] is True


@pytest.mark.parametrize("variant", [*VARIANTS, "classifier"])
def test_save_then_load_gives_identical_outputs(tmp_path, variant):
    folder, model = saved(tmp_path, variant)
    loaded = load_model(str(folder))
    assert type(loaded) is type(model) and loaded.variant == variant
    assert not loaded.training  # ready for inference
    assert all(p.device.type == "cpu" for p in loaded.parameters())
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    assert torch.equal(outputs(loaded), outputs(model))
    assert read_metrics(folder) == METRICS


def test_folder_holds_safetensors_and_json_only(tmp_path):
    folder, model = saved(tmp_path, "vae")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "metrics.json", "model.safetensors"]
    with safe_open(str(folder / "model.safetensors"), framework="pt") as f:  # a plain safetensors file, no pickle
        assert set(f.keys()) == set(model.state_dict())
    config = json.loads((folder / "config.json").read_text())
    assert config["variant"] == "vae" and config["latent_dim"] == model.latent_dim


def test_saving_again_replaces_the_checkpoint(tmp_path):
    folder, _ = saved(tmp_path, "ae", seed=0)
    other = fresh("ae", seed=1)
    save_checkpoint(other, folder)
    assert torch.equal(outputs(load_checkpoint(folder)), outputs(other))
    # saved without figures: the old model's metrics.json would describe the new one
    assert not (folder / "metrics.json").exists() and read_metrics(folder) == {}


def test_a_loaded_model_saved_elsewhere_unchanged_takes_its_figures_along(tmp_path):
    # its figures describe these very weights; changed weights are another model's
    folder, _ = saved(tmp_path, "ae", seed=0)
    loaded = load_checkpoint(folder)
    loaded.save_pretrained(tmp_path / "copy")
    assert read_metrics(tmp_path / "copy") == METRICS
    save_checkpoint(loaded, tmp_path / "given", {"test": {"mse": 1.0}})  # figures given win
    assert read_metrics(tmp_path / "given") == {"test": {"mse": 1.0}}
    with torch.no_grad():
        next(loaded.parameters()).add_(0.01)
    loaded.save_pretrained(tmp_path / "changed")
    assert read_metrics(tmp_path / "changed") == {}


def test_a_model_saved_back_where_it_was_loaded_from_keeps_its_figures(tmp_path):
    # load_model(folder).save_pretrained(folder) deleted the shipped metrics.json of the very same weights
    folder, _ = saved(tmp_path, "ae", seed=0)
    load_checkpoint(folder).save_pretrained(folder)
    assert read_metrics(folder) == METRICS
    changed = load_checkpoint(folder)
    with torch.no_grad():
        next(changed.parameters()).add_(0.01)
    changed.save_pretrained(folder)
    assert read_metrics(folder) == {}


def test_a_checkpoint_that_records_no_weights_hash_keeps_its_figures_when_saved_back_unchanged(tmp_path):
    # one written by hand or by an older tool: saved back (or elsewhere) unchanged, its metrics.json was deleted
    folder, _ = saved(tmp_path, "ae", seed=0)
    config = json.loads((folder / "config.json").read_text())
    del config["weights_sha256"]
    (folder / "config.json").write_text(json.dumps(config))
    load_checkpoint(folder).save_pretrained(tmp_path / "copy")
    assert read_metrics(tmp_path / "copy") == METRICS
    load_checkpoint(folder).save_pretrained(folder)
    assert read_metrics(folder) == METRICS


# --- broken checkpoints: each error names the file at fault ---------------------------------------------------------


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # inside the last tensor's data
    path.write_bytes(bytes(data))


def break_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[8] = ord("X")  # the JSON header starts at byte 8
    path.write_bytes(bytes(data))


CASES = {  # name: (how to break the folder, the file the message must name, words it must contain)
    "missing config": (lambda d: (d / "config.json").unlink(), "config.json", "missing"),
    "missing weights": (lambda d: (d / "model.safetensors").unlink(), "model.safetensors", "missing"),
    "truncated weights": (lambda d: truncate(d / "model.safetensors"), "model.safetensors", "SHA-256"),
    "tampered weights": (lambda d: flip_last_byte(d / "model.safetensors"), "model.safetensors", "SHA-256"),
    "truncated weights, no hash": (
        lambda d: (edit_config(d, weights_sha256=None), truncate(d / "model.safetensors")),
        "model.safetensors", "safetensors",
    ),
    "broken header, no hash": (
        lambda d: (edit_config(d, weights_sha256=None), break_header(d / "model.safetensors")),
        "model.safetensors", "safetensors",
    ),
    "config shapes differ from weights": (lambda d: edit_config(d, latent_dim=7), "model.safetensors", "shape"),
    "config layers differ from weights": (lambda d: edit_config(d, hidden=[64]), "model.safetensors", "missing"),
    "config cannot build the model": (lambda d: edit_config(d, hidden="wide"), "config.json", "cannot build"),
    "config with a negative size": (lambda d: edit_config(d, latent_dim=-1), "config.json", "cannot build"),
    "unknown variant": (lambda d: edit_config(d, variant="transformer"), "config.json", "unknown variant"),
    "invalid JSON": (lambda d: (d / "config.json").write_text("{'variant': 'ae',"), "config.json", "JSON"),
    "not an aedemo config": (lambda d: (d / "config.json").write_text("[1, 2]"), "config.json", "variant"),
    # json's recursion limit: a RecursionError, naming no file
    "config nested too deep": (lambda d: (d / "config.json").write_text("[" * 10**5 + "]" * 10**5), "config.json",
                               "not valid JSON"),
    # used to raise TypeError (unhashable type), naming no file
    "a variant that is not a name": (lambda d: edit_config(d, variant=["ae"]), "config.json", "unknown variant"),
    # used to load silently, read as the format this aedemo writes
    "a newer format": (lambda d: edit_config(d, format_version=99), "config.json", "format_version 99"),
    # the model it describes (a trillion weights) used to be built before the shapes were compared: a 200-byte edit
    # could take all the memory of the machine loading it
    "config describing a huge model": (lambda d: edit_config(d, latent_dim=10**9), "model.safetensors", "shape"),
}


def test_a_folder_of_checkpoints_names_the_ones_it_holds(tmp_path):
    # load_model("checkpoints") said only "config.json: file missing"
    for variant, architecture in (("vae", {"channels": None}), ("ae", {})):  # the VAE as an MLP, as the AE is
        save_checkpoint(build_model(variant, latent_dim=2, hidden=[8], **architecture), tmp_path / variant)
    with pytest.raises(CheckpointError, match=r"config.json: file missing .*holds checkpoint folders: ae, vae$"):
        load_model(str(tmp_path))


@pytest.mark.parametrize("case", list(CASES))
def test_broken_checkpoint_gives_a_clear_error_naming_the_file(tmp_path, case):
    breaks, culprit, words = CASES[case]
    folder, _ = saved(tmp_path, "ae")
    breaks(folder)
    with pytest.raises(CheckpointError) as err:
        load_model(str(folder))
    message = str(err.value)
    assert str(folder / culprit) in message
    assert words in message
    assert "Traceback" not in message and len(message) < 400  # one readable sentence


def test_non_finite_weights_are_refused_at_save_and_at_load(tmp_path):
    folder, model = saved(tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with torch.no_grad():
        model.encoder[0].weight[0, 0] = float("nan")
    # a diverged model saved over the last good checkpoint: written, it replaced it with one no load accepts
    with pytest.raises(ValueError, match="not saved: tensor 'encoder.0.weight' holds NaN or infinite values"):
        save_checkpoint(model, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # and such weights written some other way
    state = load_file(folder / "model.safetensors")
    state["decoder.0.bias"][0] = float("inf")
    save_file(state, folder / "model.safetensors")
    edit_config(folder, weights_sha256=None)
    with pytest.raises(CheckpointError, match="tensor 'decoder.0.bias' holds NaN or infinite values"):
        load_checkpoint(folder)


def test_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint folder"):
        load_checkpoint(tmp_path / "nope")


def test_invalid_metrics_json_names_the_file(tmp_path):
    folder, _ = saved(tmp_path)
    (folder / "metrics.json").write_text("not json")
    with pytest.raises(CheckpointError, match="metrics.json"):
        read_metrics(folder)


@pytest.mark.parametrize("text", ["[]", "3", '"figures"', "null"])
def test_metrics_json_that_is_not_an_object_names_the_file(tmp_path, text):
    # its readers ask it for keys: a list made the Space's start-up fail on .get
    folder, _ = saved(tmp_path)
    (folder / "metrics.json").write_text(text)
    with pytest.raises(CheckpointError, match="metrics.json: not a JSON object"):
        read_metrics(folder)


@pytest.mark.parametrize("text, words", [
    ('{"training": "a string"}', "'training' must be a JSON object, not a str"),
    ('{"test": [1, 2]}', "'test' must be a JSON object, not a list"),
    ('{"test": {"mse": "low"}}', "the test figures must be numbers; 'mse' is 'low'"),
    # a long value is cut inside its quotes, the cut shown: `!r:.40` had dropped the closing quote
    ('{"test": {"mse": "' + "x" * 80 + '"}}', "the test figures must be numbers; 'mse' is '" + "x" * 37 + "…'"),
])
def test_metrics_json_with_odd_sections_names_the_file_and_the_section(tmp_path, text, words):
    # the model card asks these for keys and figures: a push (or its dry run) ended in an AttributeError
    from aedemo.hub import push_checkpoint

    folder, _ = saved(tmp_path)
    (folder / "metrics.json").write_text(text)
    with pytest.raises(CheckpointError, match=f"metrics.json: {re.escape(words)}"):
        read_metrics(folder)
    with pytest.raises(CheckpointError, match="metrics.json"):
        push_checkpoint(folder, "someone/aedemo-test", dry_run=True)


# --- interrupted saves ---------------------------------------------------------------------------------------------


def fail_writing_weights(monkeypatch):
    real = Path.write_bytes

    def half_then_crash(self, data):
        real(self, data[: len(data) // 2])
        raise OSError("No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_crash)


def fail_writing_config(monkeypatch):
    real = Path.write_text

    def crash_on_config(self, text, *args, **kwargs):
        real(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError("No space left on device")

    monkeypatch.setattr(Path, "write_text", crash_on_config)


INTERRUPTIONS = [
    pytest.param(fail_writing_weights, id="while writing the weights"),
    pytest.param(fail_writing_config, id="while writing the config"),
]


@pytest.mark.parametrize("interrupt", INTERRUPTIONS)
def test_interrupted_save_leaves_the_old_checkpoint_whole(tmp_path, monkeypatch, interrupt):
    folder, old = saved(tmp_path, "vae", seed=0)
    before = sorted(p.name for p in folder.iterdir())
    interrupt(monkeypatch)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(fresh("vae", seed=1), folder, {"test": {}})
    monkeypatch.undo()
    assert sorted(p.name for p in folder.iterdir()) == before  # no temporary files left behind
    assert torch.equal(outputs(load_checkpoint(folder)), outputs(old))
    assert read_metrics(folder) == METRICS


class Killed(BaseException):
    """The process dies here: nothing after this line of the save runs, not even its clean-up."""


def failing_rename(monkeypatch, at: int, error: BaseException, keeps_failing: bool) -> list:
    """Make the save's `at`-th rename raise `error`; with `keeps_failing`, every rename after it too (a dead process
    moves nothing back). Returns the renames done."""
    real, done = os.replace, []

    def rename(source, target):
        if len(done) == at or (keeps_failing and len(done) > at):
            done.append(None)
            raise error
        done.append((source, target))
        return real(source, target)

    monkeypatch.setattr(checkpoint.os, "replace", rename)
    return done


# a save renames config.json, metrics.json and the weights out of the folder, then the new ones in: 6 renames with
# new figures, 5 without (the old figures go and none come)
RENAMES = {"new metrics": 6, "no metrics": 5}
NEW_METRICS = {"new metrics": {"test": {"loss": 1.0}}, "no metrics": None}  # what each case saves


@pytest.mark.parametrize("error", [OSError("Input/output error"), KeyboardInterrupt()], ids=["OSError", "Ctrl-C"])
@pytest.mark.parametrize("with_metrics", RENAMES)
def test_a_save_that_fails_at_any_rename_puts_the_old_checkpoint_back(tmp_path, monkeypatch, with_metrics, error):
    new_metrics = NEW_METRICS[with_metrics]
    for at in range(RENAMES[with_metrics]):
        folder, old = saved(tmp_path / str(at), "vae", seed=0)
        before = sorted(p.name for p in folder.iterdir())
        failing_rename(monkeypatch, at, error, keeps_failing=False)
        with pytest.raises(type(error)):
            save_checkpoint(fresh("vae", seed=1), folder, new_metrics)
        monkeypatch.undo()
        assert sorted(p.name for p in folder.iterdir()) == before, at  # and no working folders left behind
        assert torch.equal(outputs(load_checkpoint(folder)), outputs(old)), at
        assert read_metrics(folder) == METRICS, at


def test_the_renames_counted_above_are_all_a_save_does(tmp_path, monkeypatch):
    for with_metrics, renames in RENAMES.items():
        folder, _ = saved(tmp_path / with_metrics, "vae", seed=0)
        done = failing_rename(monkeypatch, renames + 1, Killed(), keeps_failing=True)
        new_metrics = NEW_METRICS[with_metrics]
        save_checkpoint(fresh("vae", seed=1), folder, new_metrics)
        monkeypatch.undo()
        assert len(done) == renames


@pytest.mark.parametrize("restore", [True, False], ids=["restore the old", "finish the new"])
@pytest.mark.parametrize("with_metrics", RENAMES)
def test_a_save_killed_mid_swap_is_refused_and_the_message_says_how_to_recover(tmp_path, monkeypatch, with_metrics,
                                                                               restore):
    """Killed at any rename but the first (before it the old checkpoint is untouched) and the last (after it the new
    one is whole), the folder is refused, never loaded as a mix; doing what the message says gives one of the two."""
    new_metrics = NEW_METRICS[with_metrics]
    new = fresh("vae", seed=1)
    for at in range(1, RENAMES[with_metrics]):
        folder, old = saved(tmp_path / str(at), "vae", seed=0)
        failing_rename(monkeypatch, at, Killed(), keeps_failing=True)
        monkeypatch.setattr(checkpoint.shutil, "rmtree", lambda *a, **k: None)
        with pytest.raises(Killed):
            save_checkpoint(new, folder, new_metrics)
        monkeypatch.undo()
        with pytest.raises(CheckpointError, match="config.json: file missing") as refusal:
            load_checkpoint(folder)
        moves = re.search(r"move back the files of (\.replaced-\w+)/ .*move in the files of (\.saving-\w+)/",
                          str(refusal.value))
        assert moves, str(refusal.value)
        for file in (folder / moves[1 if restore else 2]).iterdir():
            os.replace(file, folder / file.name)
        if not restore and "and delete metrics.json here" in str(refusal.value):
            (folder / "metrics.json").unlink()
        loaded = load_checkpoint(folder)
        if restore:
            assert torch.equal(outputs(loaded), outputs(old)), at
            assert read_metrics(folder) == METRICS, at
        else:
            assert torch.equal(outputs(loaded), outputs(new)), at
            assert read_metrics(folder) == (new_metrics or {}), at


def test_a_first_save_killed_mid_swap_says_how_to_finish_it(tmp_path, monkeypatch):
    # nothing was there to restore: the message named no folder at all
    folder, new = tmp_path / "ck", fresh("vae", seed=1)
    failing_rename(monkeypatch, 1, Killed(), keeps_failing=True)  # after the weights, before config.json
    monkeypatch.setattr(checkpoint.shutil, "rmtree", lambda *a, **k: None)
    with pytest.raises(Killed):
        save_checkpoint(new, folder, METRICS)
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match=r"swapped the files: move in the files of \.saving-\w+/"):
        load_checkpoint(folder)
    (staging,) = folder.glob(".saving-*")
    for file in staging.iterdir():
        os.replace(file, folder / file.name)
    assert torch.equal(outputs(load_checkpoint(folder)), outputs(new)) and read_metrics(folder) == METRICS


def test_a_folder_where_a_checkpoint_file_goes_is_refused_before_anything_moves(tmp_path):
    folder, old = saved(tmp_path, "vae", seed=0)
    (folder / "metrics.json").unlink()
    (folder / "metrics.json").mkdir()
    with pytest.raises(FileExistsError, match="metrics.json: a folder is there"):
        save_checkpoint(fresh("vae", seed=1), folder, {"test": {"loss": 1.0}})
    assert torch.equal(outputs(load_checkpoint(folder)), outputs(old))
    assert not list(folder.glob(".*"))


@pytest.mark.parametrize("metrics, words", [
    ([1, 2], "not a JSON object of figures"),
    ({"test": 3}, "'test' must be a JSON object"),
    ({"test": {"mse": "high"}}, "the test figures must be numbers"),
])
def test_metrics_its_reader_would_refuse_are_not_saved(tmp_path, metrics, words):
    folder, old = saved(tmp_path, "vae", seed=0)
    with pytest.raises(ValueError, match=words):
        save_checkpoint(fresh("vae", seed=1), folder, metrics)
    assert torch.equal(outputs(load_checkpoint(folder)), outputs(old))
    assert read_metrics(folder) == METRICS


def test_checkpoint_files_get_the_users_usual_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        folder, _ = saved(tmp_path)
    finally:
        os.umask(previous)
    assert {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()} == {
        "model.safetensors": 0o644, "config.json": 0o644, "metrics.json": 0o644}


def test_a_newer_format_names_the_one_version_this_aedemo_reads(tmp_path):
    folder, _ = saved(tmp_path)
    edit_config(folder, format_version=2)
    with pytest.raises(CheckpointError, match=r"reads version 1 \(a checkpoint from a newer aedemo"):
        load_checkpoint(folder)


def test_the_weights_file_itself_points_to_its_folder(tmp_path):
    folder, _ = saved(tmp_path)
    with pytest.raises(CheckpointError, match=f"a file; a checkpoint is the folder .*: {folder}$"):
        load_model(str(folder / "model.safetensors"))


def test_a_bfloat16_model_comes_back_in_bfloat16(tmp_path):
    model = fresh("ae").to(torch.bfloat16)
    loaded = load_checkpoint(save_checkpoint(model, tmp_path / "ck"))
    assert {p.dtype for p in loaded.parameters()} == {torch.bfloat16}
    assert torch.equal(outputs(loaded), outputs(model))


def test_numpy_and_tensor_numbers_in_metrics_are_stored_as_plain_numbers(tmp_path):
    import numpy as np

    folder = save_checkpoint(fresh("ae"), tmp_path / "ck", {"mse": np.float32(0.25), "steps": torch.tensor(7)})
    assert read_metrics(folder) == {"mse": 0.25, "steps": 7}
    # the test figures too: they were refused as "must be numbers", np.float32(0.25) named as what was wrong
    figures = {"test": {"mse": np.float32(0.25), "psnr": torch.tensor(20.0)}}
    folder = save_checkpoint(fresh("ae"), tmp_path / "ck2", figures)
    assert read_metrics(folder) == {"test": {"mse": 0.25, "psnr": 20.0}}


@pytest.mark.parametrize("bad", [{"when": object()}, {"images": torch.zeros(3)}])
def test_metrics_json_cannot_hold_leave_no_folder_and_no_old_checkpoint_changed(tmp_path, bad):
    with pytest.raises(TypeError, match="is not JSON"):
        save_checkpoint(fresh("ae"), tmp_path / "new", bad)
    assert not (tmp_path / "new").exists()
    folder, model = saved(tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(TypeError, match="is not JSON"):
        save_checkpoint(fresh("ae", seed=1), folder, bad)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_only_models_of_the_registry_are_saved(tmp_path):
    from aedemo.models.vae import VAE

    class Unregistered(VAE):
        variant = "unregistered_test"

    for model in (torch.nn.Linear(2, 2), Unregistered(latent_dim=2, hidden=[8], channels=None)):
        with pytest.raises(TypeError, match="registered in aedemo/models/__init__.py"):
            save_checkpoint(model, tmp_path / "ck")
    assert not (tmp_path / "ck").exists()


def test_a_model_whose_config_no_longer_describes_its_weights_is_not_saved(tmp_path):
    folder, _ = saved(tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    model = fresh("ae", latent_dim=8)
    model.config["latent_dim"] = 5  # saved, it was refused at every load afterwards
    with pytest.raises(ValueError, match=r"not saved: .* tensor '.*' has shape .*8.*, but config.json describes .*5"):
        save_checkpoint(model, folder)
    model.config["latent_dim"] = "five"
    with pytest.raises(ValueError, match="not saved: .*cannot build 'ae'"):
        save_checkpoint(model, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_compiled_model_is_saved_as_the_model_it_wraps(tmp_path):
    model = fresh("ae")
    save_checkpoint(torch.compile(model), tmp_path / "ck")  # said: "a new variant is registered in ..."
    assert torch.equal(load_model(tmp_path / "ck").reconstruct(X), model.reconstruct(X))


def test_saving_where_a_file_is_says_a_checkpoint_is_a_folder(tmp_path):
    (tmp_path / "ck").write_text("notes")
    with pytest.raises(FileExistsError, match="a file is there; a checkpoint is a folder"):
        save_checkpoint(fresh("ae"), tmp_path / "ck")
    assert (tmp_path / "ck").read_text() == "notes"


def test_load_model_expect_names_the_model_class_and_refuses_another(tmp_path):
    from aedemo.models import VAE, Autoencoder, MnistClassifier

    save_checkpoint(build_model("vae"), tmp_path / "vae")
    save_checkpoint(build_model("classifier"), tmp_path / "classifier")
    assert isinstance(load_model(tmp_path / "vae", expect=VAE), VAE)
    assert isinstance(load_model(tmp_path / "vae", expect=Autoencoder), VAE)  # a subclass is what was asked for
    assert isinstance(load_model(tmp_path / "classifier", expect=MnistClassifier), MnistClassifier)
    with pytest.raises(CheckpointError, match=r"holds variant 'classifier' \(class MnistClassifier\), not the "
                                              "Autoencoder that expect= asks for"):
        load_model(tmp_path / "classifier", expect=Autoencoder)
    with pytest.raises(CheckpointError, match=r"/classifier: holds variant 'classifier'"):  # the folder it read
        load_model(tmp_path, subfolder="classifier", expect=VAE)
    with pytest.raises(TypeError, match="expect must be one model class"):
        load_model(tmp_path / "vae", expect="vae")
    # a variant's class is that variant: the CVAE subclasses the VAE but needs labels, and failed only at its first call
    save_checkpoint(build_model("cvae"), tmp_path / "cvae")
    with pytest.raises(CheckpointError, match=r"holds variant 'cvae' \(class CVAE\), not the VAE that expect= asks"):
        load_model(tmp_path / "cvae", expect=VAE)
    with pytest.raises(CheckpointError, match=r"holds variant 'cvae' \(class CVAE\), not the VAE"):
        VAE.from_pretrained(tmp_path / "cvae")
    assert isinstance(load_model(tmp_path / "cvae", expect=Autoencoder), VAE)


def test_a_device_this_machine_lacks_is_refused_before_anything_is_read(tmp_path):
    from aedemo import DeviceError

    # torch's own errors came after the model was built, and read as driver trouble ("Found no NVIDIA driver")
    missing = tmp_path / "not-there"  # refused for the device, so the folder was never looked at
    for name in ("gpu", "xpu", "meta"):  # torch knows the last two, and failed on them after reading the weights
        with pytest.raises(DeviceError, match=f"unknown device '{name}'; known: auto, cpu, cuda, mps, or cuda:N"):
            load_model(missing, device=name)
    with pytest.raises(DeviceError, match="CUDA device"):  # one past the last GPU, or any GPU where there is none
        load_checkpoint(missing, device=f"cuda:{torch.cuda.device_count()}")
    save_checkpoint(build_model("ae"), tmp_path / "ae")
    on = load_model(tmp_path / "ae", device="auto").device  # torch.device("auto") would raise
    assert on.type == "cuda" if torch.cuda.is_available() else on.type in ("mps", "cpu")


@pytest.mark.parametrize("cuda, mps, chosen", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_picks_a_cuda_gpu_then_an_apple_one_then_the_cpu(monkeypatch, cuda, mps, chosen):
    # on a machine without a GPU the test above cannot see "auto" pass one by
    from aedemo import devices

    monkeypatch.setattr(devices.torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(devices, "_mps_available", lambda: mps)
    assert devices.resolve_device("auto") == torch.device(chosen)
