"""Every endpoint through gradio_client, against the app launched once on a free port (conftest); the Train tab's
training runs are in test_train_tab.py."""

from __future__ import annotations

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image

from aedemo.space import latent_tab
from aedemo.space.generate_tab import STRIP_GAP
from aedemo.space.images import fit_scale, read_tiles

API_NAMES = {"reconstruct", "reconstruct_drawing", "denoise", "denoise_averages", "generate", "generate_all",
             "interpolate", "latent_map", "latent", "latent_grid", "train", "stop_training", "push_to_hub"}


def _image(path: str | dict) -> np.ndarray:
    """An image output as the client returns it (a path, or a dict holding one) -> grey pixels."""
    if isinstance(path, dict):
        path = path["path"]
    return np.asarray(Image.open(path).convert("L"))


def test_the_documented_endpoints_exist(client):
    names = {name.lstrip("/") for name in client.view_api(print_info=False, return_format="dict")["named_endpoints"]}
    assert API_NAMES <= names, API_NAMES - names


def test_the_api_page_describes_each_endpoint_and_names_each_output(client):
    # the handlers are bound to the model store: the page described ten endpoints with functools.partial's own
    # docstring, and named the outputs without a label value_37, value_84...
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for name in API_NAMES:
        info = endpoints[f"/{name}"]
        assert info["description"] and "partial(" not in info["description"], name
        if name not in {"stop_training", "push_to_hub"}:  # their inputs are the whole story
            assert "API inputs" in info["description"], name
        unnamed = [r["label"] for r in info["returns"] if r["label"].startswith("value_")]
        assert not unnamed, (name, unnamed)
    # what an API caller does not pass is left out of what the page says
    assert "uploads_only" not in endpoints["/reconstruct"]["description"]
    assert "⚠️" in endpoints["/latent"]["description"]  # how a refusal comes back


def test_reconstruct_without_an_image_says_none_was_given(client):
    # it was "No ink found in the uploaded image", of an image never sent
    *results, status = client.predict(None, ["ae"], "ae", api_name="/reconstruct")
    assert status.startswith("⚠️ No image was given") and "handle_file" in status
    assert all(r["__type__"] == "update" and "value" not in r for r in results)  # nothing changes


def test_reconstruct_an_uploaded_image(client, store, mnist_test, canvas, png_file):
    images, labels = mnist_test
    path = png_file(canvas(images[0].numpy(), style="white"))  # dark ink on white, like a scan
    seen, reading, rank, gallery, code, status = client.predict(
        handle_file(path), ["ae", "vae"], "ae", api_name="/reconstruct"
    )
    (picture, _, figures), = read_tiles(seen)
    assert picture.shape == (28, 28) and figures["model"] == "input"
    if store.classifier is not None:
        assert reading["label"] == str(int(labels[0]))
    expected = [n for n in ("ae", "vae") if n in store.models]
    tiles = read_tiles(gallery)  # HTML with the pictures inline
    assert [t[2]["model"] for t in tiles] == expected
    assert all(picture.shape == (28, 28) and picture.std() > 0 for picture, _, _ in tiles)
    if "ae" in store.models:
        assert "%" in rank and len(code["data"]) == store.models["ae"].latent_dim


def test_an_upload_without_ink_is_refused_as_that_not_as_an_empty_canvas(client, png_file):
    blank = png_file(np.full((64, 64), 255, np.uint8), "white.png")
    *results, status = client.predict(handle_file(blank), ["ae"], "ae", api_name="/reconstruct")
    assert status.startswith("⚠️ No ink found in the uploaded image")
    assert all(r["__type__"] == "update" and "value" not in r for r in results)  # nothing changes


def test_reconstruct_a_sketchpad_value(client, store, mnist_test, canvas, png_file):
    images, labels = mnist_test
    layer = handle_file(png_file(canvas(images[1].numpy(), style="rgba"), "layer.png"))
    editor = {"background": None, "layers": [layer], "composite": layer, "id": None}
    seen, reading, rank, gallery, code, status = client.predict(editor, ["ae"], "ae", api_name="/reconstruct_drawing")
    (picture, _, figures), = read_tiles(seen)
    assert picture.shape == (28, 28) and picture.std() > 0 and figures["model"] == "input"
    tiles = read_tiles(gallery)
    assert [t[2]["model"] for t in tiles] == (["ae"] if "ae" in store.models else [])
    assert all(picture.shape == (28, 28) and picture.std() > 0 for picture, _, _ in tiles)
    if store.classifier is not None:
        assert reading["label"] == str(int(labels[1]))


def test_denoise(client, store):
    gallery, table, status = client.predict(
        source="Test digit", test_index=3, kind="salt_pepper", strength=0.2, seed=1, api_name="/denoise"
    )
    captions = [caption for _, caption, _ in read_tiles(gallery)]
    assert captions[0] == "Clean" and captions[1].startswith("Noisy")
    assert "PSNR" in table and "SSIM" in table
    assert len(captions) == 2 + len([n for n in ("dae", "ae", "conv", "pca") if n in store.models])
    # README's call, as written there
    averages, status = client.predict(kind="masking", strength=0.5, seed=0, api_name="/denoise_averages")
    assert "PSNR" in averages and "1,000" in averages and not str(status).startswith("⚠️")
    if "dae" in store.models:
        assert "DAE" in averages


def test_generate_and_all_classes(client, store):
    if "cvae" not in store.models:
        pytest.skip("no CVAE checkpoint")
    grid, priors, status = client.predict(
        model_name="cvae", digit=4, n=9, temperature=0.8, seed=0, priors=[], api_name="/generate"
    )
    side = 3 * 29 + 1  # 3x3 digits of 28 px, a line of 1 px around each
    assert _image(grid).shape == (side * fit_scale(3), side * fit_scale(3))
    assert status.startswith("9 samples of a 4, seed 0, temperature 0.8.")
    assert priors == []
    wanted = [n for n in ("vae", "aae") if n in store.models]
    _, priors, _ = client.predict(model_name="cvae", digit=7, n=16, temperature=0.8, seed=0, priors=wanted[::-1],
                                  api_name="/generate")  # README's call, its priors in another order
    assert [item["caption"] for item in priors] == [f"{n.upper()} prior" for n in wanted]  # the tab's order
    grid_all, status = client.predict(model_name="cvae", temperature=1.0, seed=0, api_name="/generate_all")
    assert _image(grid_all).shape[0] > _image(grid_all).shape[1]  # 10 rows of 8


def test_interpolate(client, store):
    name = "vae" if "vae" in store.models else next(iter(store.models))
    strip, note = client.predict(model_name=name, start=2, end=5, steps=6, temperature=1.0, seed=0,
                                 api_name="/interpolate")
    h, w = _image(strip).shape
    # six frames side by side, the two real digits beside them, set apart by a gap; two rows (the codes mixed, the
    # pixels mixed), a gap between them; all enlarged by one whole factor
    width, height = 30 + STRIP_GAP + (6 * 29 + 1) + STRIP_GAP + 30, 30 + STRIP_GAP + 30
    assert w % width == 0 and (h, w) == (height * (w // width), width * (w // width))
    assert "Top: their codes mixed" in note and "Bottom: their pixels mixed" in note


def test_latent_map_and_decode(client, store):
    name = "vae" if "vae" in store.models else next(iter(store.models))
    value, s1, s2, s3, status = client.predict(model_name=name, view="2-D", n_points=200, api_name="/latent_map")
    assert len(value["points"]) == 200 and value["dims"] == 2
    x, y, z = value["points"][0][:3]
    image, status = client.predict(model_name=name, c1=x, c2=y, c3=z, digit=0, api_name="/latent")
    assert _image(image).shape == (28, 28) and status.startswith(f"Decoded at ({x:.2f}, {y:.2f}")  # the place asked
    other, _ = client.predict(model_name=name, c1=x + 1, c2=y - 1, c3=z, digit=0, api_name="/latent")
    assert not np.array_equal(_image(other), _image(image))  # another place, another digit
    grid, status = client.predict(model_name=name, digit=0, api_name="/latent_grid")
    side = latent_tab.GRID_SIDE
    assert _image(grid).shape == (side * 29 + 1, side * 29 + 1) and f"decoded at {side}×{side} places" in status


@pytest.mark.parametrize("api_name, kwargs, message", [
    ("/generate", {"model_name": "cvae", "digit": 3, "n": 16, "temperature": 1.0, "seed": -3, "priors": []},
     "The seed must be a whole number from 0 to 4,294,967,295, not -3."),
    ("/generate", {"model_name": "cvae", "digit": 3, "n": 65, "temperature": 1.0, "seed": 0, "priors": []},
     "Samples must be a whole number from 1 to 64, not 65."),
    ("/generate_all", {"model_name": "cvae", "temperature": 0, "seed": 0},
     "Temperature must be a number from 0.1 to 2, not 0."),
    ("/interpolate", {"model_name": "vae", "start": 1, "end": 7, "steps": 17, "temperature": 1.0, "seed": 0},
     "Frames must be a whole number from 3 to 16, not 17."),
    ("/latent_map", {"model_name": "vae", "view": "2-D", "n_points": 6000}, "Test digits shown must be a whole number"),
    ("/latent", {"model_name": "vae", "c1": -1e6, "c2": 0, "c3": 0, "digit": 0}, "must be between"),
])
def test_a_value_out_of_a_fields_range_gets_the_tabs_own_message(client, store, api_name, kwargs, message):
    # Gradio's own range check used to answer these with a bare error in every output and a traceback in the log
    if kwargs["model_name"] not in store.models:
        pytest.skip(f"no {kwargs['model_name']} checkpoint")
    *_, status = client.predict(**kwargs, api_name=api_name)
    assert message in status


def test_push_to_hub_without_a_trained_model_explains_and_forgets_the_token(client):
    status, token_field = client.predict("someone/aedemo-vae", "hf_not_a_real_token", False, api_name="/push_to_hub")
    assert "train a model first" in status
    assert "hf_not_a_real_token" not in status and token_field == ""  # never echoed; the field is emptied
