"""Hub round trip, offline: model cards, loading from the HF cache, the exact commits of a push, every error.

No test makes an HTTP call: pushes capture what HfApi would send, loads read a snapshot laid out as the
huggingface_hub cache, and Hub failures are the library's own exceptions, built by its own hf_raise_for_status.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from huggingface_hub import CommitInfo, ModelCard, constants, metadata_load
from huggingface_hub.errors import HTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled
from huggingface_hub.repocard_data import model_index_to_eval_results
from huggingface_hub.utils import filter_repo_objects, hf_raise_for_status
from PIL import Image

import aedemo
from aedemo import CheckpointError, build_model, hub, save_checkpoint
from aedemo.card import BASELINE_METRICS, GRID_SCALE, index_card, model_card

http = importlib.import_module(HTTPError.__module__.split(".")[0])  # the HTTP library huggingface_hub uses
ROOT = Path(__file__).resolve().parent.parent
TOKEN = "hf_TESTsecretTOKEN1234567890abcdef"
SHA = "0123456789abcdef0123456789abcdef01234567"
PUSHED = ("model.safetensors", "config.json", "metrics.json", "grid.png", "README.md")  # in commit order
SMALL = {  # small architectures: checkpoints of a few hundred kB keep the tests fast
    "vae": {"latent_dim": 4, "hidden": [32]},
    "cvae": {"latent_dim": 4, "hidden": [32]},
    "ae": {"latent_dim": 4, "hidden": [32]},
}


def _metrics(variant: str, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    test = {"mse": 0.01 + 0.01 * torch.rand(1, generator=g).item(), "psnr": 15 + 5 * torch.rand(1, generator=g).item()}
    if variant != "cvae":
        test |= {"gaussian_noisy_psnr": 7.25, "gaussian_denoised_psnr": 14.5 + torch.rand(1, generator=g).item()}
    command = f"python -m aedemo.train --variant {variant} --epochs 3 --seed {seed} --matmul-precision medium"
    config = {"variant": variant, "epochs": 3, "seed": seed, "matmul_precision": "medium"}
    return {"test": test, "training": {"command": command, "epochs": 3, "seconds": 12.5, "device": "cpu",
                                       "config": config}}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> Path:
    """A checkpoints/ folder with small vae, cvae and ae checkpoints (untrained weights: loading is what counts)."""
    root = tmp_path_factory.mktemp("checkpoints")
    for i, (variant, config) in enumerate(SMALL.items()):
        torch.manual_seed(i)
        save_checkpoint(build_model(variant, **config), root / variant, _metrics(variant, i))
    return root


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any HTTP request fails the test; no token is found unless a test gives one."""
    def refuse(request):
        raise AssertionError(f"test tried to reach the network: {request.method} {request.url}")

    monkeypatch.setattr(http.HTTPTransport, "handle_request", lambda self, request: refuse(request))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(hub, "get_token", lambda: None)


def hub_error(status: int, error_code: str | None = None, url: str = "https://huggingface.co/api/models/user/x",
              body: str = "") -> Exception:
    """The exception huggingface_hub raises for this HTTP answer, made by its own hf_raise_for_status."""
    headers = {"X-Error-Code": error_code} if error_code else {}
    response = http.Response(status, headers=headers, text=body, request=http.Request("GET", url))
    try:
        hf_raise_for_status(response)
    except Exception as e:  # noqa: BLE001 - returned for the test to raise where it wants
        return e
    raise AssertionError("hf_raise_for_status did not raise")


def cache_snapshot(cache: Path, repo_id: str, files: dict[str, bytes], ref: str = "main", sha: str = SHA,
                   tree: dict[str, bytes] | None = None) -> Path:
    """Lay out `files` as huggingface_hub's cache does: blobs, a snapshot of symlinks, refs/<ref>.

    `tree`: the repo's full file list, cached as snapshot_download caches it after listing the repo online.
    """
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    if tree is not None:
        tree_cache = pytest.importorskip("huggingface_hub._tree_cache")
        entry = tree_cache.TreeCacheEntry
        entries = {p: entry(size=len(d), blob_id=hashlib.sha1(d).hexdigest()) for p, d in tree.items()}
        tree_cache.write_tree_cache(str(repo), sha, entries)
    for path, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = repo / "snapshots" / sha / path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / ref).write_text(sha)
    return repo / "snapshots" / sha


def folder_files(folder: Path, prefix: str = "") -> dict[str, bytes]:
    return {prefix + n: (folder / n).read_bytes() for n in ("model.safetensors", "config.json", "metrics.json")}


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


class Recorder:
    """Stands in for HfApi.create_repo / create_commit and keeps what a push would send."""

    def __init__(self, monkeypatch, commit_error: Exception | None = None, repo_error: Exception | None = None):
        self.repos, self.commits = [], []
        self.commit_error, self.repo_error = commit_error, repo_error
        # plain functions, so that the HfApi instance comes in as their first argument
        monkeypatch.setattr(hub.HfApi, "create_repo", lambda api, *a, **kw: self.create_repo(api, *a, **kw))
        monkeypatch.setattr(hub.HfApi, "create_commit", lambda api, *a, **kw: self.create_commit(api, *a, **kw))

    def create_repo(self, api, repo_id, **kw):
        self.repos.append((repo_id, kw, api.token))
        if self.repo_error:
            raise self.repo_error

    def create_commit(self, api, repo_id, operations, **kw):
        ops = list(operations)
        files = {}
        for op in ops:
            with op.as_file() as f:
                files[op.path_in_repo] = f.read()
        self.commits.append({"repo_id": repo_id, "files": files, "token": api.token, **kw})
        if self.commit_error:
            raise self.commit_error
        url = f"https://huggingface.co/{repo_id}/commit/{SHA}"
        pr_url = f"https://huggingface.co/{repo_id}/discussions/7" if kw.get("create_pr") else None
        return CommitInfo(commit_url=url, commit_message=kw["commit_message"], commit_description="", oid=SHA,
                          pr_url=pr_url)


# --- the model card ------------------------------------------------------------------------------------
def test_card_metadata_passes_huggingface_hub_parsing(checkpoints, tmp_path):
    folder = checkpoints / "vae"
    config = json.loads((folder / "config.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    path = tmp_path / "README.md"
    path.write_text(str(model_card(config, metrics, "user/aedemo", "vae", ["test images", "reconstructions"])))

    card = ModelCard.load(path)  # a local file: parsed and checked strictly (ignore_metadata_errors=False)
    assert card.data.library_name == "aedemo"
    assert card.data.license == "mit"
    assert card.data.datasets == ["ylecun/mnist"]  # the Hub's id; "mnist" is a redirect
    assert card.data.pipeline_tag == "image-to-image"
    assert {"autoencoder", "vae", "mnist", "pytorch", "safetensors"} <= set(card.data.tags)

    meta = metadata_load(path)
    name, results = model_index_to_eval_results(meta["model-index"])
    assert name and all(r.dataset_type == "ylecun/mnist" and r.dataset_split == "test" for r in results)
    reported = {r.metric_type: r.metric_value for r in results}
    expected = {k: v for k, v in metrics["test"].items() if k not in BASELINE_METRICS}
    # the likelihood figures are explained, each of those the card has: the -ELBO of grey levels is in the table,
    # with its caveat, and not in model-index beside binarised-MNIST likelihoods
    for figures, explained in (({"bce": 61.7}, ["BCE"]), ({"bce": 61.7, "nelbo": 92.2}, ["BCE", "-ELBO"])):
        metrics["test"] = {"mse": 0.0058, **figures}
        path.write_text(str(model_card(config, metrics, "user/aedemo", "vae", ["test images", "reconstructions"])))
        card = ModelCard.load(path)
        assert [key for key in ("BCE", "-ELBO") if f"\n{key}: " in card.text or f" {key}: " in card.text] == explained
        assert "not comparable with papers' likelihoods of binarised" in card.text
        assert "nelbo" not in {r.metric_type for r in card.data.eval_results}
    assert "| -ELBO nats | 92.2 |" in card.text
    assert reported.keys() == expected.keys()
    assert all(reported[k] == pytest.approx(v, rel=1e-5) for k, v in expected.items())

    text = card.text
    assert metrics["training"]["command"] in text
    assert "https://huggingface.co/user/aedemo/resolve/main/vae/grid.png" in text
    assert 'load_model("user/aedemo", subfolder="vae")' in re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert "pip install" in text  # aedemo is no PyPI package: the card says how to get it


@pytest.mark.parametrize("variant, pipeline_tag", [("vae", "image-to-image"), ("cvae", None)])
def test_card_names_the_model_once_and_files_each_figure_under_its_task(checkpoints, variant, pipeline_tag):
    config = json.loads((checkpoints / variant / "config.json").read_text())
    metrics = json.loads((checkpoints / variant / "metrics.json").read_text())
    metrics["test"]["sample_class_accuracy"] = 0.99
    card = ModelCard(str(model_card(config, metrics, "user/aedemo", variant)))
    heading = next(line for line in card.text.splitlines() if line.startswith("# "))
    assert heading == f"# aedemo `{variant}`"  # was "# aedemo `vae`: VAE: ..."
    assert card.data.pipeline_tag == pipeline_tag  # the CVAE draws a class it is given: no Hub task fits
    task = {r.metric_type: r.task_type for r in card.data.eval_results}
    assert task["psnr"] == "image-to-image" and task["sample_class_accuracy"] not in ("image-to-image", None)


@pytest.mark.parametrize("variant", ["pca", "vae"])
def test_drawing_a_card_leaves_the_callers_model_as_it_was(variant):
    from aedemo.card import grid_rows
    from aedemo.checkpoint import on_cpu

    model = build_model(variant).train()  # a caller mid-training
    if variant == "pca":
        model.fit(torch.rand(50, 1, 28, 28))
    images, names = grid_rows(model)
    assert model.training and images.shape[0] == 10 * len(names)  # rows of ten, each named
    assert on_cpu(model) is model  # on the CPU already: no copy


def test_card_says_which_test_digits_a_space_run_was_scored_on(checkpoints):
    folder = checkpoints / "ae"
    config = json.loads((folder / "config.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    assert "official MNIST test set (10,000 images)" in model_card(config, metrics, "user/aedemo").text
    data = "1,000 training digits of the bundled test split (offline); test figures on 500 test digits it never saw"
    metrics["training"]["data"] = data
    text = model_card(config, metrics, "user/aedemo").text
    assert "10,000" not in text and f"1{data[1:]}." in text


def test_card_shows_the_training_command_without_the_trainers_local_paths(checkpoints):
    folder = checkpoints / "ae"
    config = json.loads((folder / "config.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["training"]["command"] = (
        "python -m aedemo.train --variant ae --epochs 3 --data-dir '/home/alice/my data' --out /home/alice/runs/ae "
        "--matmul-precision medium")
    text = model_card(config, metrics, "user/aedemo").text
    assert "alice" not in text
    assert ("python -m aedemo.train --variant ae --epochs 3 --data-dir DATA_DIR --out OUT --matmul-precision medium"
            in text)
    # which precision the steps ran in: the same command on a CPU without bf16 products trains in float32
    assert "bf16" not in text
    metrics["training"]["bf16_autocast"] = True
    assert "steps in bf16 autocast" in model_card(config, metrics, "user/aedemo").text


def test_card_of_a_run_stopped_early_says_its_command_does_not_reproduce_it(tmp_path):
    from aedemo.data import load_mnist
    from aedemo.train import TrainConfig, train

    images, labels = load_mnist("test", download=False)
    data = (images[:96], labels[:96], images[96:160], labels[96:160])  # 3 steps of 32 an epoch
    settings = {"variant": "ae", "epochs": 2, "batch_size": 32, "device": "cpu", "model_config": SMALL["ae"]}
    for stop_at, early in ((4, True), (None, False)):
        out = tmp_path / f"ae{stop_at}"
        train(TrainConfig(**settings, out=str(out)), on_step=lambda info, at=stop_at: info.step == at, data=data)
        config = json.loads((out / "config.json").read_text())
        text = model_card(config, json.loads((out / "metrics.json").read_text()), "user/aedemo").text
        assert ("Stopped early in epoch 2 of 2, after 4 optimisation steps" in text) == early
        assert ("the command alone does not reproduce it" in text) == early
        assert "steps: " + ("4" if early else "6") in text


def test_pushed_metrics_json_carries_no_local_path_either(checkpoints, tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "ae"
    shutil.copytree(checkpoints / "ae", folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["training"]["command"] += " --data-dir /home/alice/mnist --out /home/alice/runs/ae"
    (folder / "metrics.json").write_text(json.dumps(metrics))
    rec = Recorder(monkeypatch)
    hub.push_checkpoint(folder, "user/aedemo-ae", token=TOKEN)
    (commit,) = rec.commits
    pushed = json.loads(commit["files"]["metrics.json"])
    command = pushed["training"]["command"]
    assert "alice" not in json.dumps(pushed) and "--data-dir DATA_DIR" in command and command.endswith("--out OUT")
    assert pushed["test"] == metrics["test"]  # the figures as they are
    assert "alice" in (folder / "metrics.json").read_text()  # the local record keeps its paths


def test_index_card_carries_every_variant(checkpoints):
    entries = {v: (json.loads((checkpoints / v / "config.json").read_text()),
                   json.loads((checkpoints / v / "metrics.json").read_text())) for v in SMALL}
    card = ModelCard(str(index_card("user/aedemo", entries)))
    assert set(SMALL) <= set(card.data.tags)
    by_name = {r.metric_name: r.metric_value for r in card.data.eval_results}
    for v, (_, metrics) in entries.items():
        assert by_name[f"{v}: PSNR dB"] == pytest.approx(metrics["test"]["psnr"], rel=1e-5)
        assert f'load_model("user/aedemo", subfolder="{v}")' in card.text
    # its example loads a variant that is there: it loaded the VAE, whether pushed or not
    without_vae = ModelCard(str(index_card("user/aedemo", {v: e for v, e in entries.items() if v != "vae"})))
    example = re.search(r"```python\n(.*?)```", without_vae.text, re.S).group(1)
    assert 'subfolder="vae"' not in example and f'subfolder="{next(v for v in entries if v != "vae")}"' in example


# --- loading -------------------------------------------------------------------------------------------
def test_local_folders_still_load(checkpoints):
    assert aedemo.load_model(str(checkpoints / "vae")).variant == "vae"
    assert aedemo.load_model(checkpoints, subfolder="cvae").variant == "cvae"
    assert aedemo.load_model(checkpoints / "ae", token=TOKEN, cache_dir="unused").variant == "ae"  # Hub-only: moot


def test_misspelt_keywords_and_a_revision_of_a_local_folder_are_refused(checkpoints):
    # both used to be dropped without a word: the folder's one version was loaded, or the repo's top folder
    for where in (checkpoints, "user/aedemo"):
        with pytest.raises(TypeError, match=r"unknown keywords \['sub_folder'\]; it takes subfolder, revision"):
            aedemo.load_model(where, sub_folder="vae")
    with pytest.raises(ValueError, match="revision applies to a Hub repo id; .* is a local folder"):
        aedemo.load_model(checkpoints / "vae", revision="v1")


def test_from_pretrained_takes_the_mixins_keywords_and_refuses_a_loose_load(checkpoints, monkeypatch):
    from aedemo.models import VAE

    asked = []

    def download(repo_id, **kwargs):
        asked.append((repo_id, kwargs))
        return checkpoints / "vae"

    monkeypatch.setattr(hub, "download_checkpoint", download)
    mixin = {"force_download": True, "token": TOKEN, "cache_dir": "/tmp/hf", "local_files_only": True,
             "revision": "v1"}
    vae = VAE.from_pretrained("user/aedemo-vae", map_location="cpu", strict=True, **mixin)
    assert same_weights(vae, aedemo.load_model(checkpoints / "vae"))
    assert asked == [("user/aedemo-vae", mixin)]  # every one of them reaches the download
    # the mixin's default: aedemo has no partial load, and says so rather than load half a model
    with pytest.raises(ValueError, match="strict=False is not supported: aedemo loads strictly.*reconstructs garbage"):
        VAE.from_pretrained("user/aedemo-vae", strict=False)
    with pytest.raises(ValueError, match="strict=False is not supported"):
        VAE.from_pretrained(checkpoints / "vae", strict=False)
    with pytest.raises(ValueError, match="strict=None is not supported"):  # not "strict=False": what was passed
        VAE.from_pretrained(checkpoints / "vae", strict=None)
    # with the reason, as save_pretrained and push_to_hub refuse it: it was load_model's "unknown keywords"
    with pytest.raises(TypeError, match=r"from_pretrained\(\) takes no config: the model is rebuilt from"):
        VAE.from_pretrained("user/aedemo-vae", config={"latent_dim": 2})
    assert len(asked) == 1


def test_keywords_huggingface_hub_dropped_are_refused_with_what_replaced_them(checkpoints, monkeypatch):
    from aedemo.models import VAE

    monkeypatch.setattr(hub, "download_checkpoint", lambda *a, **k: pytest.fail("reached the download"))
    with pytest.raises(TypeError, match=r"unknown keywords \['proxies'\].*HTTP_PROXY / HTTPS_PROXY environment"):
        VAE.from_pretrained("user/aedemo-vae", proxies={"https": "http://proxy:3128"})
    with pytest.raises(TypeError, match=r"\['resume_download'\].*always resumes an interrupted download"):
        aedemo.load_model(checkpoints / "vae", resume_download=True)


def test_a_device_this_machine_lacks_is_refused_before_the_download(monkeypatch):
    from aedemo import DeviceError

    def download(*args, **kwargs):
        raise AssertionError("downloaded a checkpoint that could not be loaded on the device asked for")

    monkeypatch.setattr(hub, "download_checkpoint", download)
    with pytest.raises(DeviceError, match="unknown device 'gpu'"):
        aedemo.load_model("user/aedemo", device="gpu", subfolder="vae")


def test_load_model_knows_every_keyword_of_the_hub_download():
    import inspect

    keywords = inspect.signature(hub.download_checkpoint).parameters
    assert aedemo._HUB_KEYWORDS == tuple(k for k, p in keywords.items() if p.kind is p.KEYWORD_ONLY)


def test_save_pretrained_passes_on_every_keyword_of_the_push():
    import inspect

    from aedemo.models.pretrained import PUSH_KEYWORDS

    keywords = inspect.signature(hub.push_checkpoint).parameters
    # the folder and the repo come from save_pretrained's own arguments; a dry run pushes nothing
    assert PUSH_KEYWORDS == tuple(k for k in keywords if k not in ("folder", "repo_id", "dry_run"))


def test_offline_load_from_cache_runs_the_cards_snippet(checkpoints, tmp_path):
    """HF_HUB_OFFLINE=1, a snapshot in the cache: the card's snippet runs as written, in a fresh process."""
    files = folder_files(checkpoints / "vae", "vae/") | folder_files(checkpoints / "ae")
    cache_snapshot(tmp_path / "hf" / "hub", "user/aedemo", files)
    config = json.loads((checkpoints / "vae" / "config.json").read_text())
    card = model_card(config, json.loads((checkpoints / "vae" / "metrics.json").read_text()), "user/aedemo", "vae")
    snippet = re.search(r"```python\n(.*?)```", card.text, re.S).group(1)
    script = (
        snippet +  # as it stands: it used to need an `x` the reader had to make up
        "assert out.shape == (8, 1, 28, 28) and model.variant == 'vae'\n"
        f"torch.save(model.state_dict(), {str(tmp_path / 'vae.pt')!r})\n"
        "root = load_model('user/aedemo')\nprint('root', root.variant)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("HF_HUB_CACHE", None)
    env.pop("HF_TOKEN", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "root ae" in done.stdout
    loaded = build_model("vae", **SMALL["vae"])
    loaded.load_state_dict(torch.load(tmp_path / "vae.pt"))
    assert same_weights(loaded, aedemo.load_model(checkpoints / "vae"))


def test_revision_reads_its_own_ref(checkpoints, tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    cache_snapshot(tmp_path, "user/aedemo", folder_files(checkpoints / "ae"), ref="main", sha="a" * 40)
    cache_snapshot(tmp_path, "user/aedemo", folder_files(checkpoints / "vae"), ref="v2", sha="b" * 40)
    assert aedemo.load_model("user/aedemo", cache_dir=tmp_path).variant == "ae"
    assert aedemo.load_model("user/aedemo", revision="v2", cache_dir=tmp_path).variant == "vae"


def test_download_asks_only_for_the_aedemo_files_of_its_subfolder(checkpoints, tmp_path, monkeypatch):
    rec = Recorder(monkeypatch)
    hub.push_all(checkpoints, "user/aedemo", token=TOKEN)
    in_repo = list(rec.commits[0]["files"])
    snapshot = cache_snapshot(tmp_path, "user/aedemo", rec.commits[0]["files"])
    asked = {}

    def snapshot_download(repo_id, **kwargs):
        asked.update(kwargs, repo_id=repo_id)
        return str(snapshot)

    monkeypatch.setattr(hub, "snapshot_download", snapshot_download)
    model = aedemo.load_model("user/aedemo", subfolder="vae", revision="v1", token=TOKEN, cache_dir=tmp_path)
    assert model.variant == "vae"
    assert asked["repo_id"] == "user/aedemo" and asked["revision"] == "v1" and asked["token"] == TOKEN
    assert asked["cache_dir"] == tmp_path and asked["library_name"] == "aedemo" and not asked["force_download"]
    # PyTorchModelHubMixin's keywords for a fresh copy and the device: "load_model() got unknown keywords"
    from aedemo.models import VAE

    assert VAE.from_pretrained("user/aedemo", subfolder="vae", force_download=True, map_location="cpu").variant == "vae"
    assert asked["force_download"] is True
    # the library's own pattern matching picks exactly the three files of vae/ (not cvae/, no card, no picture)
    wanted = set(filter_repo_objects(in_repo, allow_patterns=asked["allow_patterns"]))
    assert wanted == {"vae/model.safetensors", "vae/config.json", "vae/metrics.json"}


@pytest.mark.parametrize("repo_id", ["user/na me", "user/a--b", "-user/x", "user/x.git"])
def test_malformed_id(repo_id, monkeypatch):
    monkeypatch.setattr(hub, "snapshot_download", lambda *a, **k: pytest.fail("a malformed id reached the Hub"))
    with pytest.raises(hub.HubError, match="not a valid Hub repo id"):
        aedemo.load_model(repo_id)


@pytest.mark.parametrize("name", ["no-such-folder", "a/b/c", "./x/y", "./x", "../x", "/no-such-x", "~/no-such-x",
                                  "no-such-folder/"])
def test_missing_folder_that_is_no_repo_id(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(hub, "snapshot_download", lambda *a, **k: pytest.fail("a local path reached the Hub"))
    with pytest.raises(CheckpointError, match=r"no such checkpoint folder \(a Hub repo id is 'owner/name'\)"):
        aedemo.load_model(name)  # "./x", "../x", "/x", "~/x" were read as malformed Hub ids


def test_a_missing_folder_is_said_without_listing_its_neighbours(checkpoints, monkeypatch):
    # A Space shows this message to visitors: AEDEMO_HUB_REPO="../x" once listed the server's folder there
    monkeypatch.chdir(checkpoints / "vae")
    with pytest.raises(CheckpointError) as e:
        aedemo.load_model("../x", subfolder="vae")
    assert str(e.value) == "../x: no such checkpoint folder (a Hub repo id is 'owner/name')"


def test_a_mistyped_folder_shaped_like_a_repo_id_says_no_such_folder(checkpoints, tmp_path, monkeypatch):
    # "checkpoints/vea" is a repo id by shape; with a folder "checkpoints" here, the user meant a path
    monkeypatch.chdir(checkpoints.parent)
    fail_with(monkeypatch, OSError("Temporary failure in name resolution"))
    with pytest.raises(hub.HubConnectionError) as e:
        aedemo.load_model(f"{checkpoints.name}/vea")
    assert str(e.value).startswith(f"{checkpoints.name}/vea: no such checkpoint folder; as a Hub repo id: ")
    assert "cannot reach the Hub" in str(e.value) and "cvae" not in str(e.value)  # what the folder holds is not told
    monkeypatch.chdir(tmp_path)  # no such folder here: the Hub's failure first, then that no path was found either
    with pytest.raises(hub.HubConnectionError) as e:
        aedemo.load_model(f"{checkpoints.name}/vae")
    assert str(e.value).startswith(f"cannot reach the Hub for {checkpoints.name}/vae: OSError")
    assert str(e.value).endswith(f"; nor is there a local folder {checkpoints.name}/vae (a relative path starts from "
                                 "the working directory)")


def fail_with(monkeypatch, error: Exception) -> None:
    def snapshot_download(*args, **kwargs):
        raise error

    monkeypatch.setattr(hub, "snapshot_download", snapshot_download)


def test_repo_not_found_without_token(monkeypatch):
    fail_with(monkeypatch, hub_error(401, "RepoNotFound"))
    with pytest.raises(hub.HubError) as e:
        aedemo.load_model("user/missing")
    assert "not found" in str(e.value) and "private" in str(e.value) and "HF_TOKEN" in str(e.value)


def test_private_repo_with_a_token_that_has_no_access(monkeypatch):
    fail_with(monkeypatch, hub_error(404, "RepoNotFound"))
    with pytest.raises(hub.HubError, match="token used has no access") as e:
        aedemo.load_model("user/private", token=TOKEN)
    assert TOKEN not in str(e.value)


def test_gated_repo(monkeypatch):
    fail_with(monkeypatch, hub_error(403, "GatedRepo"))
    with pytest.raises(hub.HubError, match="gated repo: ask for access on https://huggingface.co/user/gated"):
        aedemo.load_model("user/gated")


def test_unknown_revision(monkeypatch):
    fail_with(monkeypatch, hub_error(404, "RevisionNotFound", "https://huggingface.co/api/models/user/x/revision/v9"))
    with pytest.raises(hub.HubError, match="has no revision 'v9'"):
        aedemo.load_model("user/x", revision="v9")


def test_invalid_token(monkeypatch):
    fail_with(monkeypatch, hub_error(401, url="https://huggingface.co/api/whoami-v2", body=f"bad token {TOKEN}"))
    with pytest.raises(hub.HubError, match="refused the token") as e:
        aedemo.load_model("user/x", token=TOKEN)
    assert TOKEN not in str(e.value) and "HF_TOKEN" in str(e.value) and "hf auth login" in str(e.value)


def test_a_server_error_says_try_again_later(monkeypatch):
    fail_with(monkeypatch, hub_error(503, body="Service Unavailable"))
    with pytest.raises(hub.HubError, match="the Hub answered 503 for user/x.*try again later") as e:
        aedemo.load_model("user/x")
    assert not isinstance(e.value, hub.HubConnectionError)  # the Hub answered: no silent local fallback


@pytest.mark.parametrize("status, says", [(500, "try again later"), (503, "try again later"),
                                          (403, "the token used may not read it")])
def test_the_hubs_own_answer_is_said_not_a_network_failure(status, says, tmp_path, monkeypatch):
    # huggingface_hub's snapshot_download itself, the Hub answering `status`: it wraps that answer in a
    # LocalEntryNotFoundError when nothing is cached, which read as "the Hub cannot be reached (no network?)"
    def answer(transport, request):
        return http.Response(status, text="Internal Error", request=request)

    monkeypatch.setattr(http.HTTPTransport, "handle_request", answer)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # online mode (conftest turns it on for the suite)
    with pytest.raises(hub.HubError, match=f"the Hub answered {status} for user/x.*{says}") as e:
        aedemo.load_model("user/x", cache_dir=tmp_path)
    assert not isinstance(e.value, hub.HubConnectionError)


def test_asking_for_the_saved_login_without_one_says_so(checkpoints, tmp_path, monkeypatch):
    # token=True is huggingface_hub's "use the saved login": without one, a load and a push were each blamed on
    # the network
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(hub.HubError, match="token=True asks for a saved login, and there is none: .*HF_TOKEN") as e:
        aedemo.load_model("user/x", token=True, cache_dir=tmp_path)
    assert not isinstance(e.value, hub.HubConnectionError)
    rec = Recorder(monkeypatch)
    with pytest.raises(hub.HubError, match="no Hugging Face token to push with") as e:
        build_model("ae", **SMALL["ae"]).push_to_hub("user/x", token=True)
    assert not isinstance(e.value, hub.HubConnectionError) and rec.commits == []


def test_a_proxy_failure_is_a_connection_error(monkeypatch):
    fail_with(monkeypatch, OSError("Tunnel connection failed: 407 Proxy Authentication Required"))
    with pytest.raises(hub.HubConnectionError, match="cannot reach the Hub for user/x: OSError: Tunnel"):
        aedemo.load_model("user/x", token=TOKEN)


def test_no_network_and_no_cache(monkeypatch):
    # what snapshot_download raises when the Hub is unreachable and nothing is cached
    cause = http.ConnectError("[Errno -3] Temporary failure in name resolution")
    error = LocalEntryNotFoundError(
        f"Got: {cause.__class__.__name__}: {cause}\nAn error happened while trying to locate the files on the Hub, and"
        " we cannot find the appropriate snapshot folder for the specified revision on the local disk."
    )
    error.__cause__ = cause
    fail_with(monkeypatch, error)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # online mode (conftest turns it on for the suite)
    with pytest.raises(hub.HubConnectionError, match="cannot be reached .* holds no complete copy"):
        aedemo.load_model("user/x")


def test_offline_mode_and_no_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # read at import; set as HF_HUB_OFFLINE=1 would
    with pytest.raises(hub.HubConnectionError, match="offline mode is on"):
        aedemo.load_model("user/x", cache_dir=tmp_path)


def test_repo_without_aedemo_files(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    files = {"README.md": b"# hello\n", "pytorch_model.bin": b"\0" * 16}
    cache_snapshot(tmp_path, "user/other", files, tree=files)  # listed online earlier: it is all the repo holds
    with pytest.raises(hub.HubError, match="holds no aedemo checkpoint"):
        aedemo.load_model("user/other", cache_dir=tmp_path)
    with pytest.raises(hub.HubError, match="subfolder 'vae'.*holds no aedemo checkpoint"):
        aedemo.load_model("user/other", subfolder="vae", cache_dir=tmp_path)


def test_a_checkpoint_missing_from_a_cached_snapshot_with_the_hub_unreachable_is_a_connection_error(
        checkpoints, tmp_path, monkeypatch):
    # online mode, no network: snapshot_download falls back to the cached snapshot, which holds the vae only
    def no_route(transport, request):
        raise http.ConnectError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(http.HTTPTransport, "handle_request", no_route)
    cache_snapshot(tmp_path, "user/aedemo", folder_files(checkpoints / "vae", "vae/"))
    with pytest.raises(hub.HubConnectionError, match=r"subfolder 'cvae'\): the Hub cannot be reached"):
        aedemo.load_model("user/aedemo", subfolder="cvae", cache_dir=tmp_path)


def test_offline_a_checkpoint_missing_from_a_cached_snapshot_is_a_connection_error(checkpoints, tmp_path,
                                                                                   monkeypatch):
    # the cache holds the repo's vae only, and no listing of the repo: the Hub may well have the cvae. It said
    # "holds no aedemo checkpoint", a HubError a caller's fallback on HubConnectionError let through
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    cache_snapshot(tmp_path, "user/aedemo", folder_files(checkpoints / "vae", "vae/"))
    assert aedemo.load_model("user/aedemo", subfolder="vae", cache_dir=tmp_path).variant == "vae"
    with pytest.raises(hub.HubConnectionError, match=r"user/aedemo \(subfolder 'cvae'\): offline mode is on.*holds "
                                                     r"no complete copy"):
        aedemo.load_model("user/aedemo", subfolder="cvae", cache_dir=tmp_path)


def test_repo_of_subfolders_names_them(checkpoints, tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    rec = Recorder(monkeypatch)
    hub.push_all(checkpoints, "user/aedemo", token=TOKEN)
    pushed = rec.commits[0]["files"]
    cache_snapshot(tmp_path, "user/aedemo", {p: d for p, d in pushed.items() if p.startswith("vae/")}, tree=pushed)
    with pytest.raises(hub.HubError, match=r"holds no aedemo checkpoint.*subfolder= one of \['ae', 'cvae', 'vae'\]"):
        aedemo.load_model("user/aedemo", cache_dir=tmp_path)
    assert aedemo.load_model("user/aedemo", subfolder="vae", cache_dir=tmp_path).variant == "vae"
    # cvae/ was never downloaded: offline, that is a missing copy, not a broken repo
    with pytest.raises(hub.HubConnectionError, match="offline mode is on"):
        aedemo.load_model("user/aedemo", subfolder="cvae", cache_dir=tmp_path)


def test_config_json_of_another_library(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    files = {"config.json": b'{"model_type": "bert"}', "model.safetensors": b"\0" * 16}
    cache_snapshot(tmp_path, "user/bert", files)
    with pytest.raises(CheckpointError, match="user/bert.*no 'variant' field"):
        aedemo.load_model("user/bert", cache_dir=tmp_path)


def test_subfolder_cannot_climb_out(monkeypatch):
    monkeypatch.setattr(hub, "snapshot_download", lambda *a, **k: pytest.fail("reached the Hub"))
    with pytest.raises(hub.HubError, match="not a plain folder path") as refused:
        aedemo.load_model("user/x", subfolder="../../etc")
    assert "local folder" not in str(refused.value)  # a bad argument, not a repo (or folder) not found


# --- pushing -------------------------------------------------------------------------------------------
def test_push_sends_one_commit_with_exact_files(checkpoints, monkeypatch):
    rec = Recorder(monkeypatch)
    url = hub.push_checkpoint(checkpoints / "vae", "user/aedemo-vae", token=TOKEN)
    assert url == f"https://huggingface.co/user/aedemo-vae/commit/{SHA}"
    assert [r[0] for r in rec.repos] == ["user/aedemo-vae"] and rec.repos[0][1]["exist_ok"]
    (commit,) = rec.commits
    files = commit["files"]
    assert list(files) == list(PUSHED)
    for name, data in folder_files(checkpoints / "vae").items():
        assert files[name] == data
    grid = Image.open(io.BytesIO(files["grid.png"]))
    # ten digits a row; two rows each of test digits, reconstructions and samples; 2-pixel borders
    assert grid.format == "PNG" and grid.size == (GRID_SCALE * (10 * 30 + 2), GRID_SCALE * (6 * 30 + 2))
    card = ModelCard(files["README.md"].decode())
    assert "vae" in card.data.tags and 'load_model("user/aedemo-vae")' in card.text
    assert commit["token"] == TOKEN and commit["repo_id"] == "user/aedemo-vae"


def test_every_model_saves_loads_and_pushes_by_the_mixins_method_names(checkpoints, tmp_path, monkeypatch):
    from aedemo.checkpoint import read_metrics
    from aedemo.models import AE, VAE

    vae = VAE.from_pretrained(checkpoints / "vae")  # what an engineer used to PyTorchModelHubMixin tries first
    assert same_weights(vae, aedemo.load_model(checkpoints / "vae")) and not vae.training
    with pytest.raises(CheckpointError, match="holds variant 'vae'"):
        AE.from_pretrained(checkpoints / "vae")
    vae.save_pretrained(tmp_path / "copy", read_metrics(checkpoints / "vae"))
    assert folder_files(tmp_path / "copy") == folder_files(checkpoints / "vae")
    rec = Recorder(monkeypatch)
    url = vae.push_to_hub("user/aedemo-vae", token=TOKEN, subfolder="vae")
    (commit,) = rec.commits
    assert url.startswith("https://huggingface.co/user/aedemo-vae/commit/")
    # the figures it was loaded with, its weights unchanged: the card shows them (it had none)
    assert sorted(commit["files"]) == sorted(f"vae/{n}" for n in PUSHED)
    assert commit["files"]["vae/metrics.json"] == (checkpoints / "vae" / "metrics.json").read_bytes()
    assert commit["files"]["vae/model.safetensors"] == (checkpoints / "vae" / "model.safetensors").read_bytes()
    assert commit["commit_message"] == "aedemo: upload the vae checkpoint into vae/"
    vae.push_to_hub("user/aedemo-vae", token=TOKEN, commit_message="VAE, 40 epochs")  # the mixin's keyword
    assert rec.commits[1]["commit_message"] == "VAE, 40 epochs"


def test_save_pretrained_pushes_the_saved_folder_as_the_mixin_does(checkpoints, tmp_path, monkeypatch):
    from aedemo.checkpoint import read_metrics
    from aedemo.models import VAE

    rec = Recorder(monkeypatch)
    tokens = []
    monkeypatch.setattr(hub.HfApi, "whoami", lambda api, *a, **kw: tokens.append(api.token) or {"name": "me"})
    vae, metrics = VAE.from_pretrained(checkpoints / "vae"), read_metrics(checkpoints / "vae")
    # no repo_id: the folder's name, in the token owner's namespace (where the mixin's create_repo puts it)
    url = vae.save_pretrained(tmp_path / "aedemo-vae", metrics, push_to_hub=True, token=TOKEN, branch="dev")
    (commit,) = rec.commits
    assert url == f"https://huggingface.co/me/aedemo-vae/commit/{SHA}" and tokens == [TOKEN]
    assert commit["repo_id"] == "me/aedemo-vae" and commit["revision"] == "dev" and commit["token"] == TOKEN
    assert folder_files(tmp_path / "aedemo-vae") == folder_files(checkpoints / "vae")  # saved, metrics kept
    for name, data in folder_files(tmp_path / "aedemo-vae").items():
        assert commit["files"][name] == data  # ...and that folder is what was pushed
    vae.save_pretrained(tmp_path / "elsewhere", push_to_hub=True, repo_id="org/named", token=TOKEN, subfolder="v",
                        commit_message="the 30-epoch run")
    assert rec.commits[1]["repo_id"] == "org/named" and "v/model.safetensors" in rec.commits[1]["files"]
    assert rec.commits[1]["commit_message"] == "the 30-epoch run"
    assert tokens == [TOKEN]  # a repo_id given: no question to the Hub about whose token it is
    assert vae.save_pretrained(tmp_path / "local") == tmp_path / "local" and len(rec.commits) == 2  # no push
    # a bare name, as the mixin takes it, in either method: the token owner's (it was refused as not "user/name")
    vae.save_pretrained(tmp_path / "third", push_to_hub=True, repo_id="bare-name", token=TOKEN)
    vae.push_to_hub("other-name", token=TOKEN)
    assert [c["repo_id"] for c in rec.commits[2:]] == ["me/bare-name", "me/other-name"] and tokens == [TOKEN] * 3


def test_save_pretrained_and_push_to_hub_refuse_a_config_and_misspelt_keywords_writing_nothing(
    checkpoints, tmp_path, monkeypatch
):
    from aedemo.models import VAE

    rec = Recorder(monkeypatch)
    vae = VAE.from_pretrained(checkpoints / "vae")
    # the mixin's config= would be written into config.json; aedemo's is the model's own, or it would not load
    with pytest.raises(TypeError, match=r"save_pretrained\(\) takes no config: aedemo writes config.json from the"):
        vae.save_pretrained(tmp_path / "a", config={"lr": 1e-3})
    with pytest.raises(TypeError, match=r"push_to_hub\(\) takes no config"):
        vae.push_to_hub("user/x", token=TOKEN, config={"lr": 1e-3})
    with pytest.raises(TypeError, match=r"unknown keywords \['brnach'\]; with push_to_hub=True it passes on token"):
        vae.save_pretrained(tmp_path / "b", push_to_hub=True, repo_id="user/x", token=TOKEN, brnach="dev")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists() and rec.repos == rec.commits == []


def test_push_to_a_branch_or_as_a_pull_request(checkpoints, monkeypatch):
    from aedemo.models import AE

    rec = Recorder(monkeypatch)
    url = hub.push_checkpoint(checkpoints / "ae", "user/x", token=TOKEN, branch="dev")
    assert rec.commits[0]["revision"] == "dev" and not rec.commits[0]["create_pr"]
    assert url == f"https://huggingface.co/user/x/commit/{SHA}"
    url = AE.from_pretrained(checkpoints / "ae").push_to_hub("user/x", token=TOKEN, create_pr=True)
    assert rec.commits[1]["create_pr"] is True and rec.commits[1]["revision"] is None
    assert url == "https://huggingface.co/user/x/discussions/7"  # the pull request, where a reviewer goes
    hub.push_all(checkpoints, "user/x", token=TOKEN, branch="refs/pr/7")  # more commits into that pull request
    assert rec.commits[2]["revision"] == "refs/pr/7"
    # a card on a branch links its picture and its files there, and loads from there: it showed main's grid (another
    # model's, or none) and a snippet that loaded main's weights
    card = rec.commits[0]["files"]["README.md"].decode()
    assert "https://huggingface.co/user/x/resolve/dev/grid.png" in card and "/main/" not in card
    assert 'load_model("user/x", revision="dev")' in card
    hub.push_all(checkpoints, "user/x", token=TOKEN, branch="dev")
    index = rec.commits[3]["files"]["README.md"].decode()
    assert "/blob/dev/ae/README.md" in index and "/main/" not in index and ', revision="dev")' in index
    assert "/resolve/main/grid.png" in rec.commits[1]["files"]["README.md"].decode()  # a new pull request: main


def test_a_branch_the_repo_lacks_is_said_with_how_to_create_it(checkpoints, monkeypatch):
    # as with the mixin's push_to_hub, the push does not create it: a mistyped branch would start a new one
    missing = hub_error(404, "RevisionNotFound", url="https://huggingface.co/api/models/user/x/preupload/dve")
    Recorder(monkeypatch, commit_error=missing)
    with pytest.raises(hub.HubError, match=r"user/x has no branch 'dve': create it first \(`hf repos branch create"):
        hub.push_checkpoint(checkpoints / "ae", "user/x", token=TOKEN, branch="dve")
    # a pull request's ref is not a branch to create (that advice was given for it)
    with pytest.raises(hub.HubError, match=r"user/x has no open pull request 'refs/pr/9': open one with create_pr"):
        hub.push_checkpoint(checkpoints / "ae", "user/x", token=TOKEN, branch="refs/pr/9")


def test_a_pull_request_onto_another_branch_is_refused_before_anything_is_sent(checkpoints, monkeypatch):
    from aedemo.models import AE

    rec = Recorder(monkeypatch)
    with pytest.raises(hub.HubError, match="create_pr opens a pull request against 'main'.*not against branch 'dev'"):
        hub.push_checkpoint(checkpoints / "ae", "user/x", token=TOKEN, branch="dev", create_pr=True)
    with pytest.raises(hub.HubError, match="not against branch 'dev'"):
        AE.from_pretrained(checkpoints / "ae").push_to_hub("user/x", token=TOKEN, branch="dev", create_pr=True)
    assert rec.repos == rec.commits == []
    hub.push_checkpoint(checkpoints / "ae", "user/x", token=TOKEN, branch="main", create_pr=True)  # main is fine
    assert rec.commits[0]["create_pr"] is True


def test_cli_pushes_to_a_branch_or_opens_a_pull_request(checkpoints, monkeypatch, capsys):
    rec = Recorder(monkeypatch)
    args = ["push", "--variant", "vae", "--checkpoints", str(checkpoints), "--repo-id", "user/x", "--token", TOKEN]
    assert hub.main([*args, "--branch", "dev"]) == 0
    assert rec.commits[0]["revision"] == "dev"
    assert "pushed: https://huggingface.co/user/x/commit/" in capsys.readouterr().out
    for flag, says in (("--branch=dev", "the commit to branch dev would add"),
                       ("--create-pr", "the commit as a pull request against main would add")):
        assert hub.main([*args, flag, "--dry-run"]) == 0 and says in capsys.readouterr().out
    assert hub.main([*args, "--create-pr"]) == 0
    assert rec.commits[1]["create_pr"] is True
    assert "opened a pull request: https://huggingface.co/user/x/discussions/7" in capsys.readouterr().out
    assert hub.main(["push", "--all", "--checkpoints", str(checkpoints), "--repo-id", "user/x", "--token", TOKEN,
                     "--create-pr"]) == 0
    assert rec.commits[2]["create_pr"] is True and "cvae/config.json" in rec.commits[2]["files"]
    # nothing changed: the Hub makes no commit and opens no pull request, and gives the latest commit's URL
    def unchanged(api, repo_id, operations, **kw):
        return CommitInfo(commit_url=f"https://huggingface.co/{repo_id}/commit/{SHA}", commit_message="",
                          commit_description="", oid=SHA, pr_url=None)

    monkeypatch.setattr(hub.HfApi, "create_commit", unchanged)
    capsys.readouterr()
    assert hub.main([*args, "--create-pr"]) == 0
    assert "nothing changed, no pull request opened: https://huggingface.co/user/x/commit/" in capsys.readouterr().out


def test_push_into_a_subfolder(checkpoints, monkeypatch):
    rec = Recorder(monkeypatch)
    hub.push_checkpoint(checkpoints / "cvae", "user/aedemo", token=TOKEN, subfolder="cvae", private=True)
    assert rec.repos[0][1]["private"] is True
    (commit,) = rec.commits
    assert sorted(commit["files"]) == sorted(f"cvae/{n}" for n in PUSHED)
    assert commit["files"]["cvae/config.json"] == (checkpoints / "cvae" / "config.json").read_bytes()
    hub.push_checkpoint(checkpoints / "cvae", "user/aedemo", token=TOKEN, subfolder="cvae")
    assert rec.repos[1][1]["private"] is None  # not False: a push never makes an existing private repo public


def test_push_all_is_one_commit_with_a_folder_each_and_an_index(checkpoints, monkeypatch):
    rec = Recorder(monkeypatch)
    out = hub.push_all(checkpoints, "user/aedemo", token=TOKEN)
    (commit,) = rec.commits
    files = commit["files"]
    assert set(files) == {"README.md"} | {f"{v}/{n}" for v in SMALL for n in PUSHED}
    for v in SMALL:
        for name, data in folder_files(checkpoints / v, f"{v}/").items():
            assert files[name] == data
    assert set(SMALL) <= set(ModelCard(files["README.md"].decode()).data.tags)
    assert "skipped, no folder: " in out and "classifier" in out  # not in this checkpoints folder


def test_cli_dry_run_prints_the_operations_and_sends_nothing(checkpoints, monkeypatch, capsys):
    rec = Recorder(monkeypatch)
    code = hub.main(["push", "--variant", "vae", "--checkpoints", str(checkpoints), "--repo-id", "user/x", "--dry-run"])
    assert code == 0 and rec.repos == [] and rec.commits == []
    out = capsys.readouterr().out
    for name, data in folder_files(checkpoints / "vae").items():
        line = next(line for line in out.splitlines() if f" {name} " in line)
        assert f"{len(data)} bytes" in line and hashlib.sha256(data).hexdigest() in line
    assert " grid.png " in out and " README.md " in out


def test_a_folder_given_from_home_with_a_tilde_is_read_as_load_model_reads_it(checkpoints, monkeypatch, capsys):
    # "no such checkpoint folder" for --folder=~/run (a shell leaves it as typed), though load_model read it
    from aedemo.checkpoint import checkpoints_root

    monkeypatch.setenv("HOME", str(checkpoints.parent))
    home = f"~/{checkpoints.name}"
    Recorder(monkeypatch)
    assert hub.main(["push", "--folder", f"{home}/vae", "--repo-id", "user/x", "--dry-run"]) == 0
    assert hub.main(["push", "--variant", "vae", "--checkpoints", home, "--repo-id", "user/x", "--dry-run"]) == 0
    assert hub.main(["push", "--all", "--checkpoints", home, "--repo-id", "user/x", "--dry-run"]) == 0
    monkeypatch.setenv("AEDEMO_CHECKPOINTS", home)
    assert checkpoints_root() == checkpoints


def test_cli_says_where_variant_looked_and_how_to_point_it_elsewhere(tmp_path, monkeypatch, capsys):
    # an installed package ships no checkpoints: "no such checkpoint folder" alone left the way out unsaid
    monkeypatch.setenv("AEDEMO_CHECKPOINTS", str(tmp_path))
    assert hub.main(["push", "--variant", "vae", "--repo-id", "user/x", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'vae'}: no such checkpoint folder" in err and "--checkpoints DIR" in err


def test_cli_refuses_a_subfolder_with_all_and_pushes_nothing(checkpoints, monkeypatch, capsys):
    rec = Recorder(monkeypatch)
    with pytest.raises(SystemExit) as exit_:
        hub.main(["push", "--all", "--subfolder", "vae", "--checkpoints", str(checkpoints), "--repo-id", "user/x"])
    assert exit_.value.code == 2 and "--subfolder does not go with --all" in capsys.readouterr().err
    assert rec.repos == [] and rec.commits == []


def test_pushed_files_load_back(checkpoints, tmp_path, monkeypatch):
    """What a push sends, laid out as the cache holds it after a download, loads to the same weights."""
    rec = Recorder(monkeypatch)
    hub.push_all(checkpoints, "user/aedemo", token=TOKEN)
    cache_snapshot(tmp_path, "user/aedemo", rec.commits[0]["files"])
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    for v in SMALL:
        assert same_weights(aedemo.load_model("user/aedemo", subfolder=v, cache_dir=tmp_path),
                            aedemo.load_model(checkpoints / v))


def test_push_errors(checkpoints, tmp_path, monkeypatch):
    rec = Recorder(monkeypatch)
    with pytest.raises(hub.HubError, match="not a valid Hub repo id"):
        hub.push_checkpoint(checkpoints / "vae", "not an id", token=TOKEN)
    with pytest.raises(hub.HubError, match="no Hugging Face token"):
        hub.push_checkpoint(checkpoints / "vae", "user/x")
    monkeypatch.setattr(hub, "get_token", lambda: TOKEN)  # the Space's own secret, say
    with pytest.raises(hub.HubError, match="no Hugging Face token"):
        hub.push_checkpoint(checkpoints / "vae", "user/x", token="")  # a visitor's empty field: never replaced
    with pytest.raises(hub.HubError, match="not pushed: .*no such checkpoint folder"):
        hub.push_checkpoint(tmp_path / "nothing", "user/x", token=TOKEN)
    assert rec.commits == []

    Recorder(monkeypatch, repo_error=hub_error(403, url="https://huggingface.co/api/repos/create"))
    with pytest.raises(hub.HubError, match="may not write to org/x"):
        hub.push_checkpoint(checkpoints / "vae", "org/x", token=TOKEN)
    # offline mode said as such: "check the network connection" sent one looking for a fault elsewhere
    Recorder(monkeypatch, repo_error=OfflineModeIsEnabled("Cannot reach https://huggingface.co: offline mode"))
    with pytest.raises(hub.HubConnectionError, match=r"offline mode is on \(HF_HUB_OFFLINE=1\); unset it"):
        hub.push_checkpoint(checkpoints / "vae", "user/x", token=TOKEN)
    Recorder(monkeypatch, repo_error=ConnectionError("Name or service not known"))
    with pytest.raises(hub.HubConnectionError, match="cannot reach the Hub .*check the network connection"):
        hub.push_checkpoint(checkpoints / "vae", "user/x", token=TOKEN)
    # a "…" pasted with the token: httpx's UnicodeEncodeError traceback
    for pasted in (TOKEN + "…", TOKEN + " ", "hf_ab cd"):
        with pytest.raises(hub.HubError, match="characters no Hugging Face token has") as refused:
            hub.push_checkpoint(checkpoints / "vae", "user/x", token=pasted)
        assert pasted.strip() not in str(refused.value)


def test_token_never_printed_or_logged(checkpoints, monkeypatch, capsys, caplog):
    """The token, from --token or HF_TOKEN, appears in no output or log, even when the server echoes it back."""
    caplog.set_level(logging.DEBUG)
    # a 500 passes the server's words on (a 401's message is aedemo's own): only scrubbing keeps the token out
    echo_500 = hub_error(500, url="https://huggingface.co/api/models/user/x/commit/main",
                         body=json.dumps({"error": f"internal error for token {TOKEN}"}))
    rec = Recorder(monkeypatch, commit_error=echo_500)
    assert hub.main(["push", "--variant", "vae", "--checkpoints", str(checkpoints), "--repo-id", "user/x",
                     "--token", TOKEN]) == 1
    echo = hub_error(401, url="https://huggingface.co/api/repos/create", body=f'{{"error": "bad token {TOKEN}"}}')
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setattr(hub, "get_token", lambda: os.environ.get("HF_TOKEN"))
    Recorder(monkeypatch)
    assert hub.main(["push", "--variant", "ae", "--checkpoints", str(checkpoints), "--repo-id", "user/x"]) == 0
    fail_with(monkeypatch, echo)
    with pytest.raises(hub.HubError) as e:
        aedemo.load_model("user/x")
    captured = capsys.readouterr()
    assert rec.repos[0][2] == TOKEN  # it was used...
    assert TOKEN not in captured.out + captured.err + caplog.text + str(e.value)  # ...and never shown
    assert "answered 500" in captured.err and "internal error for token" in captured.err  # the server's words...
    assert "refused the token" in str(e.value) and "pushed: https://huggingface.co/user/x/commit/" in captured.out


def test_a_server_error_echoing_the_token_is_scrubbed(checkpoints, monkeypatch):
    # a 401's message is aedemo's own; a 500 passes the server's words on, so only scrubbing keeps the token out
    echo = hub_error(500, url="https://huggingface.co/api/models/user/x/commit/main",
                     body=json.dumps({"error": f"internal error for token {TOKEN}"}))
    Recorder(monkeypatch, commit_error=echo)
    with pytest.raises(hub.HubError) as e:
        hub.push_checkpoint(checkpoints / "ae", "user/x", token=TOKEN)
    assert "500" in str(e.value) and TOKEN not in str(e.value)


@pytest.mark.parametrize("repo_id", ["aedemo-vae", "user/a/b"])
def test_a_push_needs_a_user_slash_name_id_and_sends_nothing_without(checkpoints, monkeypatch, repo_id):
    rec = Recorder(monkeypatch)
    with pytest.raises(hub.HubError, match="not a valid Hub repo id"):
        hub.push_checkpoint(checkpoints / "ae", repo_id, token=TOKEN)
    assert rec.repos == [] and rec.commits == []
