"""On a CUDA GPU: every variant trains there and its checkpoint loads on the CPU with the same outputs, the shipped
checkpoints give there what they give on the CPU, and the Space's Train tab trains there.

Skipped where torch sees no CUDA GPU (CI has none). Where one is: `python -m pytest tests/test_gpu.py`; these need
neither Gradio nor the browser.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from aedemo import VARIANTS, build_model, load_model
from aedemo.checkpoint import read_metrics
from aedemo.data import load_mnist, to_float
from aedemo.evaluate import evaluate_terms
from aedemo.space import train_worker
from aedemo.train import TrainConfig, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

GPU = "cuda"
CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
_images, _labels = load_mnist("test", download=False)
DATA = (_images[:1024], _labels[:1024], _images[9000:9256], _labels[9000:9256])
# Convolutions on a GPU multiply in TF32 (torch.backends.cudnn.allow_tf32, on by default), whose 10-bit mantissa
# moves a pixel by up to ~1e-3 per layer: 0.01 is 2.5 grey levels, too little to see.
PIXELS = 0.01


def outputs(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """What a user looks at: an autoencoder's reconstructions, the classifier's class probabilities (on the CPU)."""
    x, y = x.to(model.device), y.to(model.device)
    with torch.no_grad():
        if hasattr(model, "reconstruct"):
            return model.reconstruct(x, y if model.conditional else None).cpu()
        return model.predict_proba(x).cpu()


@pytest.mark.parametrize("variant", [*VARIANTS, "classifier"])
def test_every_variant_trains_on_the_gpu_and_its_checkpoint_loads_on_the_cpu(variant, tmp_path):
    torch.manual_seed(0)  # train() builds its model after seeding the same way: the same initial weights
    before = evaluate_terms(build_model(variant), to_float(DATA[2]), DATA[3])["loss"]
    out = tmp_path / variant
    result = train(TrainConfig(variant=variant, epochs=2, batch_size=64, device=GPU, out=str(out)), data=DATA)
    assert result.device == GPU and all(t.is_cuda for t in result.model.state_dict().values())
    after = result.history[-1]["test"]["loss"]
    assert after < before, f"{variant}: held-out loss {before:.3f} -> {after:.3f}"
    assert read_metrics(out)["training"]["device"] == GPU

    on_cpu = load_model(out)
    assert on_cpu.device.type == "cpu"
    x, y = to_float(DATA[2]), DATA[3]
    gap = (outputs(result.model, x, y) - outputs(on_cpu, x, y)).abs().max().item()
    assert gap <= PIXELS, f"{variant}: trained on the GPU and loaded on the CPU, its outputs differ by up to {gap:.4f}"


@pytest.mark.parametrize("variant", [*VARIANTS, "classifier"])
def test_a_shipped_checkpoint_gives_on_the_gpu_what_it_gives_on_the_cpu(variant):
    cpu, gpu = load_model(CHECKPOINTS / variant), load_model(CHECKPOINTS / variant, device=GPU)
    assert gpu.device.type == "cuda" and not gpu.training
    x, y = to_float(_images[:500]), _labels[:500]
    gap = (outputs(gpu, x, y) - outputs(cpu, x, y)).abs().max().item()
    assert gap <= PIXELS, f"{variant}: outputs on the GPU and the CPU differ by up to {gap:.4f}"
    if hasattr(cpu, "encode"):
        cond = y if cpu.conditional else None
        codes = cpu.encode(x, cond)
        on_gpu = gpu.encode(x.to(GPU), None if cond is None else cond.to(GPU)).cpu()
        assert torch.allclose(on_gpu, codes, rtol=1e-2, atol=1e-2 * codes.abs().max().item())
    if getattr(cpu, "generative", False):
        # sample() draws its codes on the CPU (aedemo.models.base): a seed gives the same digits on either device
        labels = torch.arange(20) % 10 if cpu.conditional else None
        drawn = [m.sample(20, None if labels is None else labels.to(m.device),
                          generator=torch.Generator().manual_seed(3)).cpu() for m in (cpu, gpu)]
        gap = (drawn[0] - drawn[1]).abs().max().item()
        assert gap <= PIXELS, f"{variant}: the same seed's samples differ by up to {gap:.4f} between the devices"


def test_the_train_tab_trains_on_the_gpu(tmp_path):
    assert train_worker.gpu_expected() and train_worker.default_run() == ("vae", 5)
    data = train_worker.TrainingData(*DATA)
    settings = {"variant": "cvae", "epochs": 2, "budget": None, "batch_size": 64, "lr": 1e-3, "seed": 0}
    news = list(train_worker._train_worker(settings, str(tmp_path / "stop"), data))
    kinds = [kind for kind, _ in news]
    assert "error" not in kinds, dict(news)["error"]
    assert news[0] == ("start", {"device": GPU, "cap": train_worker.GPU_MAX_SECONDS, "notices": []})
    epochs = [payload for kind, payload in news if kind == "epoch"]
    assert len(epochs) == 2
    # the preview as on the CPU: ten digits, their reconstructions and ten samples, a row each
    picks = torch.arange(10)
    expected = train_worker.preview_grid(build_model("cvae"), to_float(DATA[2][picks]), DATA[3][picks])
    grid = epochs[-1]["grid"]
    assert grid.dtype == expected.dtype and grid.shape == expected.shape and grid.std() > 0
    initial, done = dict(news)["initial"], dict(news)["done"]
    assert epochs[-1]["test"]["loss"] < initial["test"]
    assert done["device"] == GPU and not done["stopped"]
    # handed over on the CPU: the Space keeps and serves its models there
    assert all(t.device.type == "cpu" for t in done["state_dict"].values())
