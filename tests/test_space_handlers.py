"""The Space's handlers called directly, as the tabs call them, with real test digits drawn onto canvas-like inputs."""

from __future__ import annotations

import re
import warnings
from functools import partial
from html import unescape

import gradio as gr
import numpy as np
import pytest
import torch

from aedemo.models import AUTOENCODERS, build_model
from aedemo.space import build_demo, denoise_tab, draw_tab, generate_tab, latent_tab
from aedemo.space.images import GRID_BORDER, fit_scale, grid, is_note, note_html, read_tiles, show, ssim, tiles_html
from aedemo.space.inputs import MAX_UI_SEED, UserInputError, a_digit, parse_float, parse_seed
from aedemo.space.store import SAME_CODE, ModelStore, built_from, display_name, short_name
from aedemo.space.ui import problem, reports_problem, results_look, unchanged

N_STATUS = 5  # index of the status line in the Draw tab's outputs


def _first_correct(store, mnist_test, per_class: int = 1) -> list[int]:
    """Indices of test digits, one per class, that the classifier reads right (clear examples to draw)."""
    images, labels = mnist_test
    x = images[:500].float().div(255).unsqueeze(1)
    pred = store.classify(x).argmax(1)
    picked = []
    for d in range(10):
        ok = torch.nonzero((labels[:500] == d) & (pred == d)).flatten()[:per_class]
        picked += ok.tolist()
    return picked


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(np.corrcoef(a, b)[0, 1])


# --- Draw & reconstruct -----------------------------------------------------------------------------------------

DRAWINGS = {  # name -> keyword arguments of conftest.draw_digit
    "sketchpad RGBA": dict(style="rgba"),
    "white RGB": dict(style="white"),
    "dark background": dict(style="dark"),
    "off-centre": dict(style="rgba", box=0.35, offset=(0.25, -0.2)),
    "800 px": dict(style="white", size=800),
    "thin strokes": dict(style="rgba", size=800, box=0.9),
    "thick strokes": dict(style="white", size=120, box=0.9),
}


@pytest.mark.parametrize("how", list(DRAWINGS))
def test_drawn_test_digits_keep_their_shape_and_class(store, mnist_test, canvas, how):
    if store.classifier is None:
        pytest.skip("no classifier checkpoint")
    images, labels = mnist_test
    indices = _first_correct(store, mnist_test)
    hits, corrs = 0, []
    for i in indices:
        drawing = canvas(images[i].numpy(), **DRAWINGS[how])
        out = draw_tab.reconstruct(store, drawing, ["ae"] if "ae" in store.models else None, None)
        (seen, _, figures), = read_tiles(out[0])
        reading, digit = out[1], out[-1]
        assert figures == {"model": "input"} and seen.shape == (28, 28)  # sent as it is; the browser enlarges it
        assert np.array_equal(seen, show(digit))  # the picture shown is the digit the models get
        assert digit.shape == (28, 28) and 0 <= digit.min() and digit.max() <= 1
        corrs.append(_corr(digit, images[i].numpy()))
        hits += max(reading, key=reading.get) == str(int(labels[i]))
    assert hits >= len(indices) - 1, f"{how}: the classifier read {hits}/{len(indices)} drawn digits right"
    assert np.median(corrs) > 0.7, f"{how}: the 28x28 differs from the original (median correlation {corrs})"


def test_every_loaded_model_reconstructs_a_drawing_closer_to_it_than_to_another_digit(store, mnist_test, canvas):
    images, labels = mnist_test
    a, b = _first_correct(store, mnist_test)[3], _first_correct(store, mnist_test)[8]  # a 3 and an 8
    seen, _, _, gallery, code, status, digit = draw_tab.reconstruct(store, canvas(images[a].numpy()), None, "ae")
    names = [n for n in store.models if not (store.models[n].conditional and store.classifier is None)]
    tiles = read_tiles(gallery)
    assert [t[2]["model"] for t in tiles] == names
    x = torch.from_numpy(digit)
    other = images[b].float().div(255)
    for image, caption, figures in tiles:
        recon = torch.from_numpy(image.astype(np.float32) / 255)
        assert (recon - x).pow(2).mean() < (recon - other).pow(2).mean(), caption
        # the error shown is the error of the picture shown (to 8-bit rounding)
        assert float(figures["mse"]) == pytest.approx(float((recon - x).pow(2).mean()), abs=2e-4)
        assert caption.endswith(f"{float(figures['mse']):.4f}")  # 3 decimals showed good ones as 0.000
        # each picture is its own model's (the models run in a thread pool)
        model = store.models[figures["model"]]
        labels = torch.tensor([int(caption.split("(as ")[1][0])]) if model.conditional else None
        with torch.no_grad():
            own = model.reconstruct(x.view(1, 1, 28, 28), labels)[0, 0].numpy()
        assert np.abs(image.astype(np.float32) / 255 - own).max() <= 1 / 255 + 1e-6, caption
    if "ae" in store.models:
        with torch.no_grad():
            z = store.models["ae"].encode(x.view(1, 1, 28, 28))[0]
        assert np.allclose(code["value"].to_numpy(), z.numpy(), atol=6e-4)  # the focus model's code, to 3 decimals


def test_reconstructions_keep_the_models_list_order_whatever_order_they_were_ticked_in(store, mnist_test):
    names = [n for n in ("ae", "vae", "pca") if n in store.models]
    digit = mnist_test[0][0].float().div(255).numpy()
    gallery = draw_tab.reconstruct_digit(store, digit, list(reversed(names)), None)[3]  # a box ticked again is last
    assert [figures["model"] for _, _, figures in read_tiles(gallery)] == names


def test_a_random_test_digit_says_which_it_is(store):
    canvas_value, note, index = draw_tab.random_example(store, 7)
    assert note.startswith(f"On the canvas: test digit #{index}, labelled 7;")  # to hold the reading against
    assert np.array_equal(canvas_value, draw_tab.test_digit_canvas(store, index))
    # opaque black on white, as the empty canvas looks: transparent, it showed as a checkerboard
    assert (canvas_value[..., 3] == 255).all() and (canvas_value[0, 0, :3] == 255).all()
    assert canvas_value[..., :3].min() == 0


def test_the_models_get_a_test_digit_put_on_the_canvas_as_it_is_in_mnist(store, mnist_test):
    # read back from the canvas it was prepared again like a drawing, and changed by more than a reconstruction's
    # error (a dotted, broken 7 for test digit #6561)
    images, _ = mnist_test
    for index in (0, 6561):
        seen, *_, digit = draw_tab.reconstruct_test_digit(store, index, ["ae"], "ae")
        assert np.array_equal(digit, images[index].numpy() / np.float32(255))
        assert np.array_equal(read_tiles(seen)[0][0], images[index].numpy())
    *unchanged_outputs, status, kept = draw_tab.reconstruct_test_digit(store, 10**4, ["ae"], "ae")
    assert "index" in status and kept == unchanged(1)[0]


def test_a_buttons_test_digit_is_shown_whatever_a_late_stroke_event_cleared(store):
    # a stroke drawn just before a click could send its change after it: the reconstruction then read an index the
    # stroke had cleared ("The test digit index is empty" on a tab with no such field)
    demo = build_demo(store)
    deps = demo.config["dependencies"]
    comps = {c["id"]: c for c in demo.config["components"]}
    sketch = next(i for i, c in comps.items() if c["props"].get("elem_id") == "draw-sketchpad")
    stroke_events = [d for d in deps if [sketch, "change"] in map(list, d["targets"])]
    written_by_strokes = {o for d in stroke_events for o in d["outputs"]}
    buttons = [d["id"] for d in deps if not d["trigger_after"] and sketch in d["outputs"]]
    shown = [d for d in deps if d["trigger_after"] in buttons]  # each button's reconstruction
    assert len(shown) == len(buttons) == 11  # ten digits and Random
    assert all(not written_by_strokes & set(d["inputs"]) for d in shown)


def test_a_stroke_from_before_a_test_digit_or_the_digit_alone_changes_nothing(store):
    # Gradio's sketchpad sent a stroke's event after a button had put a test digit over it (the stroke's
    # reconstructions replaced the digit's), and a change of its own with the digit alone (its note went)
    index, size = 6561, draw_tab.CANVAS
    digit = draw_tab.test_digit_canvas(store, index)
    white = np.full((size, size, 4), 255, np.uint8)
    stroke = np.zeros((size, size, 4), np.uint8)
    stroke[300:320, 50:200] = (0, 0, 0, 255)
    over = digit.copy()
    over[300:320, 50:200] = (0, 0, 0, 255)
    changed = partial(draw_tab.changed_since_test_digit, store, index=index)
    assert changed({"background": digit, "layers": [stroke], "composite": over})  # a stroke over the digit
    assert changed({"background": None, "layers": [], "composite": None})  # Clear
    assert not changed({"background": white, "layers": [stroke], "composite": np.minimum(white, over)})  # before
    assert not changed({"background": digit, "layers": [np.zeros_like(stroke)], "composite": digit})  # digit alone
    assert not changed({"background": draw_tab.test_digit_canvas(store, 0), "layers": [stroke], "composite": over})
    outputs = draw_tab.reconstruct_drawing(store, {"background": white, "layers": [stroke], "composite": white},
                                           ["ae"], "ae", None, index)
    assert outputs == unchanged(draw_tab.N_OUTPUTS + 1)
    *_, digit_read, on_show = draw_tab.reconstruct_drawing(
        store, {"background": digit, "layers": [stroke], "composite": over}, ["ae"], "ae", None, index)
    assert digit_read is not None and on_show is None  # read, and the test digit forgotten


def test_a_stroke_is_reconstructed_with_the_models_the_visitor_chose_last(store, mnist_test, canvas):
    # Gradio takes a stroke's inputs as it ends and sends them a second or two later, once the sketchpad has its
    # picture: a model unticked meanwhile came back, its box still unticked
    images, _ = mnist_test
    *_, digit, _ = draw_tab.reconstruct_drawing(store, canvas(images[0].numpy()), ["ae", "pca"], "ae", None)
    *now, controls = draw_tab.redraw(store, digit, "", ["ae"], "vae")  # PCA unticked, the VAE's code chosen
    assert [t[2]["model"] for t in read_tiles(now[3])] == ["ae"] and controls == [["ae"], "vae"]
    late = draw_tab.reconstruct_drawing(store, canvas(images[1].numpy()), ["ae", "pca"], "ae", None, None, None,
                                        controls)
    assert [t[2]["model"] for t in read_tiles(late[3])] == ["ae"] and "VAE's error" in late[2]
    # without a choice made in the tab (an API call), the event's own
    alone = draw_tab.reconstruct_drawing(store, canvas(images[1].numpy()), ["ae", "pca"], "ae", None)
    assert [t[2]["model"] for t in read_tiles(alone[3])] == ["ae", "pca"] and "AE's error" in alone[2]
    # and in the app, what the Models list's redraw keeps is what a stroke's reconstruction reads
    demo = build_demo(store)
    deps, comps = demo.config["dependencies"], demo.config["components"]
    sketch = next(c["id"] for c in comps if c["props"].get("elem_id") == "draw-sketchpad")
    models = next(c["id"] for c in comps if c["type"] == "checkboxgroup" and c["props"].get("label") == "Models")
    (stroke,) = [d for d in deps if [sketch, "change"] in map(list, d["targets"])]
    (untick,) = [d for d in deps if [models, "input"] in map(list, d["targets"])]
    assert untick["outputs"][-1] == stroke["inputs"][-1]


def test_the_warm_up_computes_what_a_page_s_first_view_needs_first(store, monkeypatch):
    # a page opens on the VAE's rank (the Draw tab's focus) and its code map (the Latent tab's), and an event waits
    # for whatever the warm-up is computing: the other models' errors came first, and the first view waited on them
    done = []
    monkeypatch.setattr(store, "reconstruction_errors", lambda model: done.append(("errors", model.variant)))
    monkeypatch.setattr(store, "test_codes", lambda model: done.append(("codes", model.variant)))
    store.warm_up()
    assert done[:2] == [("errors", "vae"), ("codes", "vae")]
    assert {v for kind, v in done if kind == "errors"} == set(store.models)  # and then every model's errors


def test_a_digit_ranks_above_a_scribble(store, mnist_test, canvas):
    if "ae" not in store.models:
        pytest.skip("no AE checkpoint")
    images, _ = mnist_test
    digit_html = draw_tab.reconstruct(store, canvas(images[0].numpy()), ["ae"], "ae")[2]
    rng = np.random.default_rng(0)
    scribble = np.zeros((400, 400, 4), dtype=np.uint8)
    for _ in range(60):  # random blobs all over: ink, but no digit
        y, x = rng.integers(40, 360, size=2)
        scribble[y - 12 : y + 12, x - 12 : x + 12, 3] = 255
    scribble_html = draw_tab.reconstruct(store, scribble, ["ae"], "ae")[2]

    def score(html: str) -> float:
        return float(html.split('class="meter-big">')[1].split("%")[0])

    assert score(digit_html) > score(scribble_html)


def test_blank_canvas_clears_the_outputs_and_says_why(store):
    out = draw_tab.reconstruct(store, np.zeros((400, 400, 4), dtype=np.uint8), None, "ae")
    assert out[0] == "" and read_tiles(out[3]) == [] and out[-1] is None  # no tiles: the reason stands in their place
    assert "empty" in out[N_STATUS] and draw_tab.EMPTY_CANVAS in out[3]


def test_clear_empties_the_panels_as_an_emptied_canvas_does_and_forgets_the_test_digit(store):
    *panels, index, note = draw_tab.cleared(store)
    assert index is None and note == ""  # no test digit on the canvas, and no note naming one
    emptied = np.zeros((draw_tab.CANVAS, draw_tab.CANVAS, 4), dtype=np.uint8)
    *by_change, _ = draw_tab.reconstruct_drawing(store, emptied, ["ae", "vae"], "vae", None, 7)
    assert panels == by_change and panels[N_STATUS] == draw_tab.EMPTY_CANVAS and panels[-1] is None


def test_example_buttons_put_the_test_digit_on_the_canvas(store, mnist_test):
    images, _ = mnist_test
    drawing = draw_tab.test_digit_canvas(store, 7)
    assert drawing.shape == (draw_tab.CANVAS, draw_tab.CANVAS, 4)
    digit = draw_tab.reconstruct(store, drawing, [], None)[-1]
    assert _corr(digit, images[7].numpy()) > 0.8


def test_session_models_are_offered_and_used(store, mnist_test, canvas):
    images, _ = mnist_test
    mine = build_model("ae", latent_dim=5).eval()
    session = {"my tiny AE": mine}
    assert ("my tiny AE (trained in this session)", "my tiny AE") in store.choices(session)
    out = draw_tab.reconstruct(store, canvas(images[0].numpy()), ["my tiny AE"], "my tiny AE", session)
    (tile,) = read_tiles(out[3])
    assert tile[2]["model"] == "my tiny AE" and "my tiny AE" in tile[1]
    assert len(out[4]) == 5  # its 5-D code
    value, *_ = latent_tab.latent_map(store, "my tiny AE", "3-D", 300, session)
    assert value["dims"] == 3 and len(value["points"]) == 300


def test_unknown_model_is_reported_not_raised(store, mnist_test, canvas):
    images, _ = mnist_test
    out = draw_tab.reconstruct(store, canvas(images[0].numpy()), ["nope"], None)
    assert "Unknown model" in out[N_STATUS] and read_tiles(out[3]) == []


def test_many_unknown_model_names_get_a_few_notes_not_one_each(store, mnist_test, canvas):
    # an API call sending 50,000 of them got a 5 MB answer, a note per name
    images, _ = mnist_test
    sent = ["ae", *["nope"] * 1000, *[f"nope {i}" for i in range(1000)]]
    out = draw_tab.reconstruct(store, canvas(images[0].numpy()), sent, None)
    assert len(read_tiles(out[3])) == 1
    status = out[N_STATUS]
    assert status.count("Unknown model") == draw_tab.MAX_UNLISTED_NOTED and "'nope'" in status and "'nope 1'" in status
    assert "More names that are no model here were left out." in status and len(status) < 2000


def test_with_no_model_ticked_the_reconstructions_panel_says_why(store, mnist_test, canvas):
    # the panel was blank, and the reason at the page's foot, under the code plot
    images, _ = mnist_test
    out = draw_tab.reconstruct(store, canvas(images[0].numpy()), [], None)
    assert out[N_STATUS] == "Tick at least one model to see reconstructions."
    assert out[3] == draw_tab.images.note_html(out[N_STATUS])
    shown = draw_tab.reconstruct(store, canvas(images[0].numpy()), ["ae", "nope"], None)
    assert len(read_tiles(shown[3])) == 1 and "Unknown model" in shown[N_STATUS]  # tiles, with the note below


# --- Denoise ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variants, focus", [(5, "ae"), ([["ae"]], "ae"), (["ae"], ["ae"]), ("ae", {"x": 1})])
def test_model_names_of_the_wrong_type_from_the_api_get_a_message(store, mnist_test, canvas, variants, focus):
    images, _ = mnist_test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the toast, outside a request
        out = draw_tab.reconstruct(store, canvas(images[0].numpy()), variants, focus)
    assert out[N_STATUS] and "Traceback" not in out[N_STATUS]
    extra = denoise_tab.denoise(store, "Test digit", 3, None, None, "gaussian", 0.3, 0, extra=["ae"])
    assert "string" in extra[-1]


def test_the_denoise_tab_says_which_class_the_cvae_was_given(store, mnist_test):
    if "cvae" not in store.models:
        pytest.skip("no shipped CVAE")
    _, labels = mnist_test
    tiles, table, _ = denoise_tab.denoise(store, "Test digit", 3, None, None, "gaussian", 0.5, 0, extra="cvae")
    captions = [caption for _, caption, _ in read_tiles(tiles)]
    told = f"CVAE (as {int(labels[3])})"  # its true class: the others are not told it
    assert any(c.startswith(told) for c in captions) and f"| {told} |" in table
    assert not any("(as" in c for c in captions if not c.startswith("CVAE"))


def test_the_draw_tab_says_what_each_loaded_model_is(store):
    table = store.models_markdown().splitlines()
    assert len(table) == 2 + len(store.models)  # a header, its rule, a row per model
    for name, model in store.models.items():
        row = next(line for line in table if f"**{display_name(name)}" in line)
        what = type(model).description
        assert f"| {model.latent_dim} |" in row and what[1:] in row
    if "dae" in store.models:  # the captions' abbreviation is spelled out where the model is described
        assert any(line.startswith("| **Denoising AE (DAE)** |") for line in table)


def test_denoising_ae_restores_gaussian_noise(store):
    if "dae" not in store.models:
        pytest.skip("no DAE checkpoint")
    psnrs = []
    for index in range(5):
        gallery, table, status = denoise_tab.denoise(store, "Test digit", index, None, None, "gaussian", 0.5, index)
        tiles = read_tiles(gallery)
        assert tiles[0][1] == "Clean" and tiles[1][1].startswith("Noisy")
        db = {figures["model"]: float(figures["psnr"]) for _, _, figures in tiles[1:]}
        assert all(f"{db[name]:.1f} dB" in caption for _, caption, name in
                   ((t[0], t[1], t[2]["model"]) for t in tiles[1:]))  # the caption shows the figure
        psnrs.append((db["noisy"], db["dae"]))
    assert all(dae > noisy + 3 for noisy, dae in psnrs), psnrs  # a clear gain, not a rounding one


@pytest.mark.parametrize("kind", ["gaussian", "salt_pepper", "masking"])
def test_denoise_is_reproducible_by_seed(store, kind):
    run = lambda seed: read_tiles(denoise_tab.denoise(store, "Test digit", 3, None, None, kind, 0.3, seed)[0])
    first, again, other = run(1), run(1), run(2)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[1][0], other[1][0])  # the noisy image depends on the seed


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "lots", None])
def test_a_seed_out_of_range_is_explained_by_every_seeded_handler(store, seed):
    handlers = {
        "denoise": lambda: denoise_tab.denoise(store, "Test digit", 3, None, None, "gaussian", 0.3, seed)[-1],
        "generate": lambda: generate_tab.generate(store, "cvae", 5, 4, 1.0, seed, [])[-1],
        "generate_all": lambda: generate_tab.generate_all(store, "cvae", 1.0, seed)[-1],
        "interpolate": lambda: generate_tab.interpolate(store, "ae", 1, 7, 4, 1.0, seed)[-1],
    }
    for name, call in handlers.items():
        with pytest.warns(UserWarning):  # the visitor's toast, outside a request
            status = call()
        assert "seed" in status.lower() and "Traceback" not in status, (name, status)


def test_seed_fields_take_whole_numbers_up_to_the_generators_limit():
    assert parse_seed(0) == 0 and parse_seed("12") == 12 and parse_seed(7.0) == 7
    assert parse_seed(MAX_UI_SEED) == MAX_UI_SEED
    torch.Generator().manual_seed(MAX_UI_SEED)
    np.random.default_rng(MAX_UI_SEED)
    for bad in (MAX_UI_SEED + 1, -3, 2.5, float("nan"), float("inf"), "", [1]):
        with pytest.raises(UserInputError):
            parse_seed(bad)


def test_number_fields_take_finite_numbers_only():
    # with only NaN refused, infinity would come through as a coordinate or a time budget
    assert parse_float("2.5", "The temperature") == 2.5 and parse_float(-3, "The temperature") == -3.0
    for bad in (float("inf"), float("-inf"), "inf", "-Infinity", float("nan"), "nan", "x", [1]):
        with pytest.raises(UserInputError, match=r"^The temperature must be a number, not "):
            parse_float(bad, "The temperature")


def test_an_empty_canvas_says_so_where_the_reconstructions_were(store):
    # emptied, the panels collapsed and the reason sat in the status line at the foot of the page
    outputs = draw_tab.reconstruct(store, None, ["ae"], "ae")
    assert draw_tab.EMPTY_CANVAS in outputs[3] and read_tiles(outputs[3]) == []
    assert outputs[5] == draw_tab.EMPTY_CANVAS  # the status keeps it, for the API and screen readers


def test_an_emptied_number_box_is_called_empty():
    # the message read "The seed must be a whole number, not None."
    for empty in (None, "", "  "):
        with pytest.raises(UserInputError, match=r"^The seed is empty: enter a whole number from 0 to 4,294,967,295"):
            parse_seed(empty)
        with pytest.raises(UserInputError, match=r"^Each coordinate is empty: enter a number\.$"):
            parse_float(empty, "Each coordinate")


def test_an_emptied_latent_slider_is_named_by_its_axis(store):
    # "Each coordinate is empty" left the visitor to find which of three boxes it meant
    assert latent_tab.decode_point(store, "vae", 0.5, "", 0.0)[1] == problem("PC2 is empty: enter a number.")
    if "cvae" in store.models and store.models["cvae"].latent_dim == 2:  # its map is its code: axes z1, z2
        assert latent_tab.decode_point(store, "cvae", None, 0.0, 0.0, 3)[1] == problem("z1 is empty: enter a number.")


def test_denoise_from_the_current_drawing(store, mnist_test, canvas):
    images, _ = mnist_test
    digit = draw_tab.reconstruct(store, canvas(images[0].numpy()), [], None)[-1]
    gallery, table, status = denoise_tab.denoise(store, "My drawing", 0, None, digit, "masking", 0.4, 0)
    assert np.array_equal(read_tiles(gallery)[0][0], show(digit))
    with pytest.warns(UserWarning, match="draw a digit"):  # the visitor's toast, as a warning outside a request
        nothing = denoise_tab.denoise(store, "My drawing", 0, None, None, "masking", 0.4, 0)
    assert "draw a digit" in nothing[-1]


def test_the_drawing_is_denoised_again_as_the_tab_comes_into_view(store, mnist_test, canvas):
    # a digit drawn after "My drawing" was chosen: the tab kept showing the one before until Denoise was pressed
    images, _ = mnist_test
    demo = build_demo(store)
    (tab,) = [c["id"] for c in demo.config["components"] if c["type"] == "tabitem" and c["props"].get("label") ==
              "Denoise"]
    (again,) = [d for d in demo.config["dependencies"] if [tab, "select"] in [list(t) for t in d["targets"]]
                and demo.fns[d["id"]].fn is not None]  # not the phone's glance, drawn in the browser
    for index in (0, 1):
        digit = draw_tab.reconstruct(store, canvas(images[index].numpy()), [], None)[-1]
        gallery, *_ = demo.fns[again["id"]].fn("My drawing", 0, None, digit, "masking", 0.4, 0, "", {})
        assert np.array_equal(read_tiles(gallery)[0][0], show(digit))  # the drawing of now
    # another source: what is on show stays
    assert all(isinstance(out, dict) and out.get("__type__") == "update" and "value" not in out
               for out in demo.fns[again["id"]].fn("Test digit", 3, None, digit, "masking", 0.4, 0, "", {}))
    # and a drawing stored while the tab is already on show (its stroke's reconstruction still running as the visitor
    # switched): the one before stayed, without a word
    drawing = again["inputs"][3]  # the Draw tab's digit
    (late,) = [d for d in demo.config["dependencies"] if [drawing, "change"] in [list(t) for t in d["targets"]]
               and d["outputs"] == again["outputs"]]
    gallery, *_ = demo.fns[late["id"]].fn("My drawing", 0, None, digit, "masking", 0.4, 0, "", {}, True)
    assert np.array_equal(read_tiles(gallery)[0][0], show(digit))
    hidden = demo.fns[late["id"]].fn("My drawing", 0, None, digit, "masking", 0.4, 0, "", {}, False)
    assert hidden == unchanged(3)  # another tab on show: opening this one denoises it then


def test_removing_the_uploaded_picture_asks_for_one_and_greys_its_results_out(store):
    # its tiles and table stayed up at full strength, as if current, until a setting moved
    demo = build_demo(store)
    (upload,) = [c["id"] for c in demo.config["components"] if c["props"].get("elem_id") == "denoise-upload"]
    (removed,) = [d for d in demo.config["dependencies"] if [upload, "clear"] in [list(t) for t in d["targets"]]]
    with pytest.warns(UserWarning):
        *kept, status = demo.fns[removed["id"]].fn("Upload", 0, None, None, "gaussian", 0.5, 0, "", {})
    assert status == "⚠️ Upload an image of a digit first."
    assert all(out == gr.skip() for out in kept)  # the results stay, greyed out (results_look, on the status)
    assert results_look(status, 2)[0]["elem_classes"] == ["not-in-use"]


def test_ssim_properties():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 1, 28, 28, generator=g)
    y = (x + 0.1 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    z = (x + 0.3 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    assert torch.allclose(ssim(x, x), torch.ones(4), atol=1e-5)
    assert torch.allclose(ssim(x, y), ssim(y, x), atol=1e-6)
    assert (ssim(x, z) < ssim(x, y)).all() and (ssim(x, y) < 1).all()
    # the same structure at another brightness and contrast scores below 1: SSIM is not correlation
    assert (ssim(x, 0.5 * x + 0.2) < 0.99).all()


def test_ssim_is_the_papers_formula_over_a_gaussian_window_for_each_image_on_its_own():
    # a tenfold C2, zero padding at the border, data_range ignored, or the batch's mean given to every image all
    # passed the properties above. An 11x11 image holds exactly one 11x11 window: the paper's figure is its
    # Gaussian-weighted statistics over the whole image.
    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 1, 11, 11, generator=g)
    y = torch.stack([x[0], (x[1] + 0.2 * torch.randn(x[1].shape, generator=g)).clamp(0, 1),
                     torch.rand(1, 11, 11, generator=g)])
    taps = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5**2))
    w = np.outer(taps, taps) / taps.sum() ** 2

    def paper(a: np.ndarray, b: np.ndarray) -> float:
        mu_a, mu_b = (w * a).sum(), (w * b).sum()
        var_a, var_b = (w * (a - mu_a) ** 2).sum(), (w * (b - mu_b) ** 2).sum()
        cov = (w * (a - mu_a) * (b - mu_b)).sum()
        c1, c2 = 0.01**2, 0.03**2  # K1 = 0.01, K2 = 0.03 times the data range, 1
        return (2 * mu_a * mu_b + c1) * (2 * cov + c2) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))

    expected = [paper(a[0].double().numpy(), b[0].double().numpy()) for a, b in zip(x, y, strict=True)]
    assert expected[0] == pytest.approx(1) and expected[2] < 0.5 < expected[1] < 1  # three different pairs
    assert ssim(x, y).tolist() == pytest.approx(expected, abs=1e-5)
    assert ssim(255 * x, 255 * y, data_range=255).tolist() == pytest.approx(expected, abs=1e-4)  # 8-bit scale


# --- Generate ---------------------------------------------------------------------------------------------------


def _cells(image: np.ndarray, scale: int, n: int, ncol: int) -> torch.Tensor:
    """Cut a images.grid picture back into its [n,1,28,28] digits."""
    small = image[::scale, ::scale]
    out = [small[1 + r * 29 : 29 + r * 29, 1 + c * 29 : 29 + c * 29] for r, c in (divmod(i, ncol) for i in range(n))]
    return torch.from_numpy(np.stack(out).astype(np.float32) / 255).unsqueeze(1)


def test_cvae_draws_the_asked_class(store):
    if "cvae" not in store.models or store.classifier is None:
        pytest.skip("needs the CVAE and the classifier")
    for digit in (2, 7):
        grid_image, priors, status = generate_tab.generate(store, "cvae", digit, 16, 0.8, 0, [])
        scale = grid_image.shape[1] // (4 * 29 + 1)
        samples = _cells(grid_image, scale, 16, 4)
        read = store.classify(samples).argmax(1)
        assert (read == digit).float().mean() >= 0.75, (digit, read.tolist())
        assert f"The classifier reads {int((read == digit).sum())} of 16 samples as the asked class." in status
    _, _, one = generate_tab.generate(store, "cvae", 7, 1, 0.8, 0, [])
    assert "The classifier reads the sample as the asked class." in one  # not "1 of 1 samples"


def test_a_new_temperature_or_seed_keeps_the_all_classes_grid_on_show(store):
    # the all-classes grid gave way to one class's samples as soon as the Temperature moved
    if "cvae" not in store.models:
        pytest.skip("needs the CVAE")
    grid, gallery, status = generate_tab.regenerate(store, True, "cvae", 3, 16, 0.5, 1, ["vae"])
    assert np.array_equal(grid, generate_tab.generate_all(store, "cvae", 0.5, 1)[0])
    assert status.startswith("Rows: classes 0 to 9") and "temperature 0.5." in status
    assert [caption for _, caption in gallery] == ["VAE prior"]  # the priors follow the new settings too
    one = generate_tab.regenerate(store, False, "cvae", 3, 16, 0.5, 1, ["vae"])
    assert np.array_equal(one[0], generate_tab.generate(store, "cvae", 3, 16, 0.5, 1, ["vae"])[0])
    with pytest.warns(UserWarning):  # a bad value is told, and nothing changes
        assert generate_tab.regenerate(store, True, "cvae", 3, 16, 9, 1, ["vae"])[:2] == unchanged(2)
    # in the app: Generate and the class's controls go back to one class, All classes to every class
    demo = build_demo(store)
    deps = demo.config["dependencies"]
    redraws = [d for d in deps if demo.fns[d["id"]].fn is not None and getattr(demo.fns[d["id"]].fn, "func", None)
               is generate_tab.regenerate]
    (state,) = {d["inputs"][0] for d in redraws}
    setters = [demo.fns[d["id"]].fn() for d in deps if d["outputs"] == [state]]
    assert sorted(setters) == [False, True]


def test_the_generate_status_changes_with_the_digit_and_the_seed(store):
    # it read "16 of 16 samples as the asked class" for every digit: a screen reader, which reads a status line when
    # its text changes, said nothing of the new samples
    if "cvae" not in store.models:
        pytest.skip("needs the CVAE")
    said = {generate_tab.generate(store, "cvae", digit, 16, 0.8, seed, [])[2]
            for digit, seed in ((2, 0), (3, 0), (3, 1), (8, 0))}
    assert len(said) == 4 and all(not reports_problem(s) for s in said), said
    assert any(s.startswith("16 samples of an 8,") for s in said), said  # not "a 8"
    one = generate_tab.generate(store, "cvae", 3, 1, 0.8, 5, [])[2]
    assert one.startswith("1 sample of a 3, seed 5, temperature 0.8."), one
    everything = {generate_tab.generate_all(store, "cvae", 0.8, seed)[1] for seed in (0, 1)}
    assert len(everything) == 2, everything


def test_unticking_a_prior_takes_its_samples_away_at_once(store):
    # they stayed on show until the next Generate
    demo = build_demo(store)
    priors = next(c["id"] for c in demo.config["components"]
                  if c["props"].get("label") == "Compare with random samples of")
    ticked = [d for d in demo.config["dependencies"] if [priors, "input"] in map(list, d["targets"])]
    generate = next(d for d in demo.config["dependencies"] if d["api_name"] == "generate")
    # the samples again, as generate() draws them (regenerate: the all-classes grid kept, if on show)
    assert any(d["outputs"] == generate["outputs"] and d["inputs"][-len(generate["inputs"]):] == generate["inputs"]
               for d in ticked)


def test_a_prior_trained_in_the_session_joins_the_comparison_ticked_and_its_samples_come(store):
    # it joined the list unticked, though the Draw tab ticks a model just trained; ticked, it said its samples were
    # shown before the next Generate
    if "cvae" not in store.models:
        pytest.skip("no CVAE checkpoint")
    demo = build_demo(store)
    priors = next(c["id"] for c in demo.config["components"]
                  if c["props"].get("label") == "Compare with random samples of")
    (offer,) = [d for d in demo.config["dependencies"] if d["outputs"][:1] == [priors]]
    (show,) = [d for d in demo.config["dependencies"] if d.get("trigger_after") == offer["id"]]
    mine = {"my vae #1": build_model("vae").eval()}
    choices, offered, fresh = demo.fns[offer["id"]].fn(mine, ["vae"], [])
    assert choices.value == ["vae", "my vae #1"] and fresh
    assert demo.fns[offer["id"]].fn(mine, ["vae"], offered)[0].value == ["vae"]  # unticked by the visitor: stays so
    heading, gallery, grid, status = demo.fns[show["id"]].fn(fresh, False, "cvae", 3, 4, 1.0, 0, choices.value,
                                                             mine)
    assert gallery.visible and [item["caption"] for item in gallery.value] == ["VAE prior", "my vae #1 prior"]


def test_prior_samples_come_in_the_order_of_the_tick_boxes(store):
    # a box ticked again goes to the end of the value, as does a model trained meanwhile: the samples came in that
    # order, under boxes listed in another
    if not {"cvae", "vae", "ae"} <= set(store.models):
        pytest.skip("no CVAE, VAE or AE checkpoint")
    mine = {"my vae #1": build_model("vae").eval()}
    listed = [name for _, name in generate_tab._prior_choices(store, mine)]
    # the shipped models together, the session's after them, as in every other model list (the AE came last)
    assert listed.index("vae") < listed.index("ae") < listed.index("my vae #1")
    _, gallery, _ = generate_tab.generate(store, "cvae", 3, 4, 1.0, 0, ["my vae #1", "ae", "vae"], mine)
    assert [caption for _, caption in gallery] == ["VAE prior", "AE random codes", "my vae #1 prior"]


def test_a_number_typed_in_a_box_applies_when_the_box_is_left_as_on_enter(store):
    # the Denoise tab's test digit index and seed, and the Generate tab's seed, applied on Enter only: a visitor who
    # typed a number and clicked elsewhere saw nothing change, and nothing said why
    demo = build_demo(store)
    ids = {(c["props"].get("label"), c["type"]): c["id"] for c in demo.config["components"]}
    deps = {d["api_name"]: d for d in demo.config["dependencies"] if d["api_name"]}
    seeds = [c["id"] for c in demo.config["components"] if c["props"].get("label") == "Seed" and c["type"] == "number"]
    index = ids[("Test digit index (0-9999)", "number")]
    by_id = {d["id"]: d for d in demo.config["dependencies"]}

    def triggers(dep: dict) -> list:  # a .then step's are those of the step its chain starts from
        return triggers(by_id[dep["trigger_after"]]) if dep.get("trigger_after") is not None else dep["targets"]

    for api_name, boxes in (("denoise", [index, *seeds]), ("generate", seeds), ("interpolate", seeds)):
        typed = [box for box in boxes if box in deps[api_name]["inputs"]]
        # the events that fill the same outputs from the same inputs (the strip's Seed events are private ones, as
        # is the grid's, which also reads whether All classes drew it)
        inputs = deps[api_name]["inputs"]
        targets = [list(t) for d in demo.config["dependencies"] if d["outputs"] == deps[api_name]["outputs"]
                   and d["inputs"][-len(inputs):] == inputs for t in triggers(d)]
        assert typed and all([box, "submit"] in targets and [box, "blur"] in targets for box in typed), api_name


def test_digits_are_named_with_the_article_they_are_read_with():
    assert [a_digit(d) for d in (0, 1, 7, 8)] == ["a 0", "a 1", "a 7", "an 8"]


def test_the_test_digit_picker_greys_out_while_another_source_is_denoised():
    # it looked in use while the drawing or an upload was denoised
    for source in ("My drawing", "Upload"):
        assert "not-in-use" in denoise_tab.picker_look(source)[0].elem_classes
    assert denoise_tab.picker_look("Test digit")[0].elem_classes == denoise_tab.PICKER_CLASSES
    assert denoise_tab.picker_look("Upload")[1].open is True  # where to put the picture
    # a source that gives no digit: the tiles still on show are the previous one's, greyed out
    tiles, table = results_look("⚠️ Upload an image of a digit first.", 2)
    assert tiles["elem_classes"] == table["elem_classes"] == ["not-in-use"]
    assert all(part["elem_classes"] == [] for part in results_look("", 2))


def test_the_picker_highlights_the_digit_denoised_or_none(store):
    # the last digit clicked stayed highlighted beside a random or typed digit's results
    shown = denoise_tab.first_of_each_class(store)
    assert denoise_tab.picked_in_gallery(store, shown[4], shown).selected_index == 4
    other = next(i for i in range(100) if i not in shown)
    assert denoise_tab.picked_in_gallery(store, other, shown).selected_index is None


@pytest.mark.parametrize("index", [None, "", 99999, -1, 2.5])
def test_an_index_the_denoising_refuses_leaves_the_pickers_mark(store, index):
    # the refused index left the results on show, but took the mark off their digit
    shown = denoise_tab.first_of_each_class(store)
    with pytest.warns(UserWarning):
        assert reports_problem(denoise_tab.denoise(store, test_index=index)[-1])  # refused: the results stay
    assert denoise_tab.picked_in_gallery(store, index, shown) == gr.skip()


def test_also_compare_offers_only_models_not_compared_already(store):
    # picking the DAE there showed the same tiles again, without a word
    session = {"my ae #1": build_model("ae", hidden=[16], latent_dim=2)}
    values = [v for _, v in denoise_tab.extra_choices(store, session)]
    assert values[0] == "" and "my ae #1" in values and "vae" in values
    assert not set(denoise_tab.COMPARED) & set(values)


def test_denoise_at_strength_zero_calls_the_noisy_input_identical(store):
    gallery, table, _ = denoise_tab.denoise(store, "Test digit", 3, kind="gaussian", strength=0)
    noisy = read_tiles(gallery)[1]
    assert noisy[1] == "Noisy · identical" and float(noisy[2]["psnr"]) == pytest.approx(100.0)  # the cap, not dB
    assert "∞ (identical)" in table and "100.00" not in table
    # a column of models' outputs and the input they start from, named as such: "Noisy" read as one more model
    head, _, noisy_row, *_ = table.splitlines()
    assert head.startswith("| Image |") and noisy_row.startswith("| Noisy input (no model) |")


# the last: a light mask, where every model lands further from the clean digit than the noisy input
@pytest.mark.parametrize("index, kind, strength", [(3, "gaussian", 0.5), (5, "masking", 1.0), (3, "gaussian", 0),
                                                   (0, "masking", 0.1)])
def test_a_screen_reader_hears_which_model_came_closest_to_the_clean_digit(store, index, kind, strength):
    # the tiles and the table say nothing to it, and the status line stays empty while all goes well
    gallery, table, _ = denoise_tab.denoise(store, "Test digit", index, kind=kind, strength=strength)
    tiles = [(figures["model"], figures["psnr"]) for _, _, figures in read_tiles(gallery)[1:]]
    (_, noisy), models = tiles[0], tiles[1:]
    best, db = max(models, key=lambda tile: tile[1])
    said = denoise_tab.results_said(table)
    assert said.startswith(f"Closest to the clean digit: {short_name(best)}, {db:.2f} dB PSNR;"), said
    assert said.endswith("the noisy input, " + ("identical to it." if strength == 0 else f"{noisy:.2f} dB PSNR.")), said
    assert denoise_tab.results_said("") == ""  # no table, nothing to say
    # a request's own table (the event is the page's, but a request can send any): a traceback, "Error" in the answer
    assert denoise_tab.results_said(table.replace(f"{db:.2f}", "xyz", 1)) == ""
    assert denoise_tab.results_said("| a |\n|---|\n| b |\n| c |") == ""


def test_the_denoise_table_bolds_the_best_figure_of_each_column(store):
    # the whole row went bold by PSNR: at full masking that set the DAE's SSIM, the worst there, in bold
    gallery, table, _ = denoise_tab.denoise(store, "Test digit", 5, kind="masking", strength=1.0)
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[3:]]  # the models
    models = [figures for _, _, figures in read_tiles(gallery)[2:]]  # their figures in full, in the same order
    for column, key, digits in ((1, "psnr", 2), (2, "ssim", 3)):
        figures = [round(float(m[key]), digits) for m in models]  # as shown: models tied there are all bold
        bold = [r[column].startswith("**") for r in rows]
        assert bold == [f == max(figures) for f in figures], table
    assert not any(r[0].startswith("**") for r in rows)


def test_models_tied_at_the_figure_shown_are_all_bold(store):
    # at full masking AE's and Conv's SSIM both read 0.151, and only AE's was bold, as if it had won
    for index in (0, 3):
        _, table, _ = denoise_tab.denoise(store, "Test digit", index, kind="masking", strength=1.0)
        rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[3:]]
        for column in (1, 2):
            shown = [r[column].strip("*") for r in rows]
            best = [f for f, r in zip(shown, rows, strict=True) if r[column].startswith("**")]
            assert best and all(shown.count(f) == len(best) for f in best[:1]), table


def test_generate_is_reproducible_and_compares_priors(store):
    if "cvae" not in store.models:
        pytest.skip("no CVAE checkpoint")
    priors = [n for n in ("vae", "aae") if n in store.models]
    a = generate_tab.generate(store, "cvae", 5, 9, 1.0, 3, priors)
    b = generate_tab.generate(store, "cvae", 5, 9, 1.0, 3, priors)
    c = generate_tab.generate(store, "cvae", 5, 9, 1.0, 4, priors)
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[0], c[0])
    assert [caption for _, caption in a[1]] == [f"{n.upper()} prior" for n in priors]
    # a model named twice is sampled once: a thousand copies of a name held a worker for 14 s
    twice = generate_tab.generate(store, "cvae", 5, 9, 1.0, 3, priors * 50)
    assert [caption for _, caption in twice[1]] == [caption for _, caption in a[1]]


def test_the_plain_ae_is_sampled_at_random_codes_beside_the_priors(store):
    if not {"cvae", "ae"} <= set(store.models):
        pytest.skip("no CVAE or AE checkpoint")
    assert "ae" in [value for _, value in generate_tab._prior_choices(store)]
    (grid_image, caption), = generate_tab.generate(store, "cvae", 5, 9, 1.0, 3, ["ae"])[1]
    assert caption == "AE random codes" and grid_image.ndim == 2
    again, other = (generate_tab.generate(store, "cvae", 5, 9, 1.0, seed, ["ae"])[1][0][0] for seed in (3, 4))
    assert np.array_equal(grid_image, again) and not np.array_equal(grid_image, other)  # the seed picks them
    # the temperature scales the codes' spread around their mean: cool samples stay near the mean code's digit
    ae = store.get("ae")
    codes, _ = store.test_codes(ae)
    with torch.no_grad():
        centre = ae.decode(codes.mean(0, keepdim=True))
    spread = {t: (store.random_codes_decoded(ae, 200, torch.Generator().manual_seed(0), t) - centre).pow(2).mean()
              for t in (0.1, 2.0)}
    assert spread[0.1] < spread[2.0] / 4
    # drawn with the codes' covariance, not each dimension alone: the draws' covariance is the codes'
    drawn = store.random_codes(ae, 50_000, torch.Generator().manual_seed(0))
    assert torch.allclose(drawn.T.cov(), codes.T.cov(), atol=0.05 * codes.var(0).max().item())
    # other models without a prior are still refused: the AE stands for them
    assert "no prior" in generate_tab.generate(store, "cvae", 5, 9, 1.0, 3, ["dae"])[-1]


def test_a_model_generate_cannot_use_is_refused_naming_the_ones_it_can(store):
    # named from the models loaded: a model a contributor adds to the registry is offered too
    unconditional = [label for label, _ in store.choices(generative=True, conditional=False)]
    if "cvae" not in store.models or not unconditional:
        pytest.skip("no CVAE checkpoint")
    status = generate_tab.generate(store, "cvae", 5, 9, 1.0, 3, ["dae"])[-1]  # a slot the CVAE cannot fill
    assert "Denoising AE has no prior" in status and all(label in status for label in unconditional)
    assert "CVAE" not in status
    status = generate_tab.generate(store, "dae", 5, 9, 1.0, 3, [])[-1]
    assert "Denoising AE has no prior to sample from; choose the CVAE." in status
    status = generate_tab.generate(store, "vae", 5, 9, 1.0, 3, [])[-1]
    assert "choose a conditional model, the CVAE." in status
    status = generate_tab.generate(store, "cvae", 5, 9, 1.0, 3, ["cvae"])[-1]
    assert "choose an unconditional one" in status and all(label in status for label in unconditional)
    assert "CVAE" not in status.split("choose")[1]


def test_all_classes_grid_has_one_row_per_class(store):
    if "cvae" not in store.models:
        pytest.skip("no CVAE checkpoint")
    image, status = generate_tab.generate_all(store, "cvae", 0.8, 0)
    scale = image.shape[1] // (generate_tab.PER_CLASS * 29 + 1)
    assert image.shape[0] == (10 * 29 + 1) * scale
    # how many a row holds: the Samples slider, at 16, is one class's (a visitor saw 8 and wondered)
    assert status.startswith(f"Rows: classes 0 to 9, {generate_tab.PER_CLASS} samples each, seed 0, temperature 0.8. ")
    # not this grid's, though still shown
    assert status.endswith(" Digit and Samples apply to the Generate button only.")
    if store.classifier is not None:
        samples = _cells(image, scale, 10 * generate_tab.PER_CLASS, generate_tab.PER_CLASS)
        wanted = torch.arange(10).repeat_interleave(generate_tab.PER_CLASS)
        assert (store.classify(samples).argmax(1) == wanted).float().mean() >= 0.75


def test_generate_refuses_unconditional_model_as_class_model(store):
    if "vae" not in store.models:
        pytest.skip("no VAE checkpoint")
    with pytest.warns(UserWarning):
        *_, status = generate_tab.generate(store, "vae", 3, 4, 1.0, 0, [])
    assert "conditional" in status


def test_a_bad_seed_is_toasted_once_though_the_samples_and_the_strip_both_use_it(store):
    # the Seed and the Temperature drive both events: a bad value gave two identical toasts
    with pytest.warns(UserWarning, match="seed"):
        generate_tab.generate(store, "cvae", 3, 16, 1.0, "", [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a toast, outside a request, is a warning
        strip, status = generate_tab.interpolate_on_shared_field(store, "cvae", 1, 7, 10, 1.0, "", None)
        assert reports_problem(status) and "seed" in status.lower() and isinstance(strip, dict)
        strip, status = generate_tab.interpolate_on_shared_field(store, "cvae", 1, 7, 10, 1.0, 3, None)
    assert isinstance(strip, np.ndarray) and not reports_problem(status)


def test_interpolation_goes_from_one_class_to_the_other(store):
    if store.classifier is None:
        pytest.skip("no classifier checkpoint")
    for name in [n for n in ("cvae", "vae", "ae") if n in store.models]:
        strip, note = generate_tab.interpolate(store, name, 1, 7, 8, 0.8, 0)
        # others: the same digits mixed pixel by pixel in a second row under the frames, past a gap
        height = 30 if name == "cvae" else 2 * 30 + generate_tab.STRIP_GAP
        cells = strip[:: strip.shape[0] // height, :: strip.shape[0] // height]  # back to 1 px per pixel
        # other models show the two real digits apart at either end: 30 px each, then a gap
        start = 0 if name == "cvae" else 30 + generate_tab.STRIP_GAP
        frames = [cells[1:29, start + 1 + i * 29 : start + 29 + i * 29] for i in range(8)]
        ends = torch.from_numpy(np.stack([frames[0], frames[-1]]).astype(np.float32) / 255).unsqueeze(1)
        assert store.classify(ends).argmax(1).tolist() == [1, 7], name


# --- Latent space -----------------------------------------------------------------------------------------------


def test_latent_map_plots_the_test_codes(store, mnist_test):
    name = "vae" if "vae" in store.models else next(iter(store.models))
    value, s1, s2, s3, status = latent_tab.latent_map(store, name, "2-D", 500)
    assert value["dims"] == 2 and len(value["points"]) == 500
    _, labels = mnist_test
    assert [p[3] for p in value["points"]] == labels[:500].tolist()
    assert [p[4] for p in value["points"]] == list(range(500))
    xs = [p[0] for p in value["points"]]
    assert s1.minimum <= min(xs) and max(xs) <= s1.maximum  # the slider spans the plotted codes
    value3, *sliders3, _ = latent_tab.latent_map(store, name, "3-D", 500)
    assert value3["dims"] == min(3, store.models[name].latent_dim)
    # as many sliders as the map has axes: a 2-D map's third axis is not one the visitor can see or click
    assert [s.visible for s in (s1, s2, s3)] == [True, True, False]
    assert [s.visible for s in sliders3] == [True, True, value3["dims"] == 3]
    # the ring marks the place the sliders decode, from the start (it marked none until a click)
    assert value["marker"] == [s1.value, s2.value, 0.0]
    assert value3["marker"] == [s.value for s in sliders3[:value3["dims"]]] + [0.0] * (3 - value3["dims"])
    codes, projection = store.test_codes(store.get(name))
    if not projection.direct:  # how much of the code the projection shows: a quarter, for the VAE
        assert f"({sum(projection.explained[:2]):.0%} of its variance)" in value["title"]
    assert ": 2,000 test digits, " in latent_tab.latent_map(store, name, "2-D", 2000)[0]["title"]  # as elsewhere


def test_decoding_a_point_of_a_direct_2d_code_matches_decode():
    store = ModelStore(root="/nonexistent")  # no shipped models needed: a session model with a 2-D code
    model = build_model("ae", latent_dim=2).eval()
    session = {"flat": model}
    value, *_ = latent_tab.latent_map(store, "flat", "2-D", 200, session)
    assert value["axes"] == ["z1", "z2"]
    x, y, _, _, index = value["points"][0]
    image, status = latent_tab.decode_point(store, "flat", x, y, 0.0, 0, session)
    with torch.no_grad():
        expected = model.decode(torch.tensor([[x, y]], dtype=torch.float32))
    assert np.abs(image.astype(int) - show(expected).astype(int)).max() <= 1
    # a 2-D code has no third coordinate to read: an API caller's c3 of None was refused as "z3 is empty"
    assert np.array_equal(latent_tab.decode_point(store, "flat", x, y, None, 0, session)[0], image)


def test_clicking_a_point_decodes_it_and_shows_its_digit(store, mnist_test):
    name = "vae" if "vae" in store.models else next(iter(store.models))
    value, *_ = latent_tab.latent_map(store, name, "3-D", 300)
    point = value["points"][42]

    class Click:  # what Gradio hands the handler for trigger('pick', {...})
        _data = {"index": point[4], "coords": point[:3]}

    s1, s2, s3, decoded, original, status = latent_tab.pick(store, name, 0, None, Click())
    assert [s.value for s in (s1, s2, s3)] == pytest.approx(point[:3])  # the sliders move to the point
    images, labels = mnist_test
    x = images[42:43].float().div(255).unsqueeze(1)
    assert np.array_equal(original, show(x))
    assert f"#{point[4]}" in status
    # decoded from the digit's whole code, not only its place on the plotted axes: its reconstruction
    model = store.get(name)
    with torch.no_grad():
        reconstruction = show(model.decode(model.encode(x), labels[42:43] if model.conditional else None))
    assert np.abs(decoded.astype(int) - reconstruction.astype(int)).max() <= 2

    class EmptySpace:  # a 2-D click away from every dot, beyond the data: the sliders stretch to reach it
        _data = {"index": None, "coords": [s1.maximum + 1.0, 0.0]}

    s1b, *_, original, status = latent_tab.pick(store, name, 0, None, EmptySpace())
    assert s1b.value == pytest.approx(s1.maximum + 1.0) and s1b.maximum >= s1b.value
    assert original is None and "#" not in status


def test_enter_on_the_map_opens_the_test_digit_nearest_the_sliders(store):
    name = "vae" if "vae" in store.models else next(iter(store.models))
    value, *_ = latent_tab.latent_map(store, name, "2-D", 300)
    x, y, _, _, index = value["points"][123]

    class Enter:  # what the map's script sends for the Enter key
        _data = {"index": None, "coords": None, "nearest": True}

    s1, s2, s3, decoded, original, status = latent_tab.pick(store, name, 0, None, Enter(), "2-D", 300,
                                                            (x + 1e-4, y - 1e-4, 0.0))
    assert status.startswith(f"Test digit #{index} ") and original is not None
    assert [s1.value, s2.value] == pytest.approx([x, y], abs=1e-3)
    *_, refused = latent_tab.pick(store, name, 0, None, Enter(), "2-D", 300, ("nan", 0.0, 0.0))
    assert refused.startswith("⚠️ PC1 must be")


def test_a_click_on_empty_space_of_a_2d_map_decodes_there_as_gradio_runs_it(store):
    from gradio.context import LocalContext

    name = "vae" if "vae" in store.models else next(iter(store.models))
    latent_tab.latent_map(store, name, "2-D", 300)

    class EmptySpace:
        _data = {"index": None, "coords": [0.5, -0.25]}

    # inside an event Gradio makes components as bare updates, without .value: reading one back used to raise,
    # and every output of the tab showed "Error"
    token = LocalContext.in_event_listener.set(True)
    try:
        *_, decoded, original, status = latent_tab.pick(store, name, 0, None, EmptySpace())
    finally:
        LocalContext.in_event_listener.reset(token)
    assert original is None and status.startswith("Decoded at (0.50, -0.25")
    codes, projection = store.test_codes(store.get(name))
    third = round(float(projection.to_axes(codes)[:, 2].mean()), 3)  # the hidden axis, where its slider sits
    assert np.array_equal(decoded, latent_tab.decode_point(store, name, 0.5, -0.25, third)[0])


def test_a_refused_map_keeps_its_message_in_the_status_line(store):
    # the decode chained after the map used to overwrite the map's warning with "Decoded at ..."
    name = "vae" if "vae" in store.models else next(iter(store.models))
    *_, status = latent_tab.latent_map(store, name, "2-D", 6000)
    assert status.startswith("⚠️ Test digits shown must be")
    assert latent_tab.decode_after_map(store, name, 0, 0, 0, 0, None, status) == unchanged(3)
    decoded, original, after = latent_tab.decode_after_map(store, name, 0, 0, 0, 0, None, "")
    assert after.startswith("Decoded at") and original is None  # a digit clicked on the old map goes
    # a map's note (here: a 2-D code shown in 2-D) stays beside the decode's line instead of being overwritten
    *_, note = latent_tab.latent_map(store, "cvae", "3-D", 300) if "cvae" in store.models else (None, "")
    if note:
        *_, after = latent_tab.decode_after_map(store, "cvae", 0, 0, 0, 3, None, note)
        assert after.startswith(note) and "Decoded at" in after and "drawn as a 3" in after


def test_more_or_fewer_test_digits_keep_the_sliders_and_the_decoded_point(store):
    # the map used to be redrawn from scratch: the sliders went back to rest and the decoded digit changed
    name = "vae" if "vae" in store.models else next(iter(store.models))
    value, s1, s2, s3, _ = latent_tab.latent_map(store, name, "3-D", 500)
    more, status = latent_tab.more_or_fewer_points(store, name, "3-D", 1500, 0.5, -0.25, 0.125)
    assert len(more["points"]) == 1500 and more["points"][:500] == value["points"]
    assert more["marker"] == [0.5, -0.25, 0.125]  # the place the sliders decode stays marked
    assert status == unchanged(1)[0]  # the decode's line stays
    flat, _ = latent_tab.more_or_fewer_points(store, name, "2-D", 200, 0.5, -0.25, 0.125)
    assert flat["dims"] == 2 and flat["marker"] == [0.5, -0.25, 0.0]
    kept, refused = latent_tab.more_or_fewer_points(store, name, "2-D", 6000, 0.5, -0.25, 0.125)
    assert kept == unchanged(1)[0] and refused.startswith("⚠️ Test digits shown must be")
    # a valid number after a refused one: the warning about the old value goes (it used to stay)
    _, status = latent_tab.more_or_fewer_points(store, name, "2-D", 250, 0.5, -0.25, 0.125, None, 0, refused)
    assert status.startswith("Decoded at (0.50, -0.25")


def test_the_draw_tabs_digit_is_starred_on_every_latent_map(store, mnist_test):
    name = "vae" if "vae" in store.models else next(iter(store.models))
    model = store.get(name)
    images, labels = mnist_test
    index = 7321  # past the 5,000 test digits whose codes the map has: like a drawing, not one of them
    digit = images[index].float().div(255).numpy()
    value, *_ = latent_tab.latent_map(store, name, "2-D", 2000, None, digit)
    codes, projection = store.test_codes(model)
    with torch.no_grad():
        z = model.encode(torch.from_numpy(digit)[None, None], labels[index : index + 1] if model.conditional else None)
    assert value["drawing"] == pytest.approx(projection.to_axes(z)[0, :2].tolist() + [0.0], abs=1e-3)
    # what the note counts: the classes of the test digits nearest to the digit's whole code
    nearest = torch.cdist(z, codes)[0].argsort()[: latent_tab.NEIGHBOURS]
    classes = labels[: len(codes)][nearest].tolist()
    top = max(set(classes), key=classes.count)
    assert f"{classes.count(top)} of class {top}" in value["drawing_note"]
    assert f"{model.latent_dim}-D code" in value["drawing_note"]
    assert ("not on this map's axes" in value["drawing_note"]) == (model.latent_dim > value["dims"])
    # the star stays when more digits are shown, and follows the Draw tab's digit
    other = images[index + 1].float().div(255).numpy()
    more, _ = latent_tab.more_or_fewer_points(store, name, "2-D", 500, 0, 0, 0, None, 0, None, digit)
    assert more["drawing"] == value["drawing"] and more["drawing_note"] == value["drawing_note"]
    moved, _ = latent_tab.more_or_fewer_points(store, name, "2-D", 500, 0, 0, 0, None, 0, None, other)
    assert moved["drawing"] != value["drawing"]
    # nothing drawn yet, or the canvas cleared: no star, no note
    bare, *_ = latent_tab.latent_map(store, name, "2-D", 500)
    cleared, _ = latent_tab.more_or_fewer_points(store, name, "2-D", 500, 0, 0, 0, None, 0, None, None)
    assert bare["drawing"] is None and bare["drawing_note"] == "" and cleared["drawing"] is None


def test_a_draw_tab_digit_stored_while_the_latent_tab_is_on_show_is_starred_at_once(store, mnist_test):
    # the Draw tab's reconstruction can store the digit after the visitor has switched: the map showed the one before
    name = "vae" if "vae" in store.models else next(iter(store.models))
    images, _ = mnist_test
    digit = images[7321].float().div(255).numpy()
    redraw = (store, name, "2-D", 500, 0.5, -0.25, 0.0, None, 0, None, digit)
    value, _ = latent_tab.star_if_on_show(*redraw, True)
    assert value["drawing"] is not None and value["marker"] == [0.5, -0.25, 0.0]
    assert latent_tab.star_if_on_show(*redraw, False) == unchanged(2)  # another tab on show: nothing to send


def test_a_test_digit_on_the_canvas_is_not_counted_as_its_own_neighbour(store, mnist_test):
    # found by its code, it was counted in about half the cases: encoded alone, its code differs from the cached one
    images, labels = mnist_test
    x = images[:50].float().div(255).unsqueeze(1)
    for name in [n for n in ("ae", "vae", "cvae") if n in store.models]:
        model = store.get(name)
        with torch.no_grad():
            z = model.encode(x, labels[:50] if model.conditional else None)
        nearest = store.nearest_test_digits(model, x, z, latent_tab.NEIGHBOURS)
        assert nearest.shape == (50, latent_tab.NEIGHBOURS)
        assert not (nearest == torch.arange(50)[:, None]).any(), name


def test_the_cvae_is_starred_only_with_a_class_to_give_it(store, mnist_test):
    if "cvae" not in store.models:
        pytest.skip("no shipped CVAE")
    images, _ = mnist_test
    digit = images[7].float().div(255).numpy()
    value, *_ = latent_tab.latent_map(store, "cvae", "2-D", 500, None, digit)
    assert value["drawing"] is not None and "holds the style" in value["drawing_note"]
    # its 2-D code is the map: "(not on this map's axes)" was said of it too
    assert "not on this map's axes" not in value["drawing_note"] and "as this map shows it" in value["drawing_note"]
    classifier = store.classifier
    store.classifier = None
    try:
        blind, *_ = latent_tab.latent_map(store, "cvae", "2-D", 500, None, digit)
    finally:
        store.classifier = classifier
    assert blind["drawing"] is None and blind["drawing_note"] == ""


def test_latent_sliders_show_short_bounds_that_hold_their_value(store):
    name = "vae" if "vae" in store.models else next(iter(store.models))
    _, *sliders, _ = latent_tab.latent_map(store, name, "3-D", 500)
    for s in sliders:
        if s.visible:
            assert s.minimum <= s.value <= s.maximum
            assert len(repr(s.minimum).split(".")[-1]) <= 2 and len(repr(s.maximum).split(".")[-1]) <= 2


def test_grid_layout():
    x = torch.rand(10, 1, 28, 28)
    g = grid(x, ncol=4, scale=2, pad=1)
    assert g.shape == ((3 * 29 + 1) * 2, (4 * 29 + 1) * 2)
    assert np.array_equal(g[2:58:2, 2:58:2], (x[0, 0].numpy() * 255 + 0.5).astype(np.uint8))
    assert grid(x[:3], ncol=8, scale=1).shape == (29 + 1, 8 * 29 + 1)  # fewer digits than columns: blanks fill the row
    assert grid(x[:1], ncol=1, scale=1).shape == (30, 30)  # a lone digit keeps its frame
    # row by row: digit 5 sits in the second row's second place, each place one 1-px grey line after the last
    top, left = 2 * (1 + 29), 2 * (1 + 29)
    assert np.array_equal(g[top : top + 56 : 2, left : left + 56 : 2], (x[5, 0].numpy() * 255 + 0.5).astype(np.uint8))
    assert (g[:2] == GRID_BORDER).all() and (g[:, :2] == GRID_BORDER).all()  # the frame's top and left edges
    assert (g[2 * 59 :, 2 * 59 :] == GRID_BORDER).all()  # the last row's two empty places are grey, not black
    # a lone digit in a row of three places: framed once, the other two places grey
    lone = grid(x[:1], ncol=3, scale=1)
    assert lone.shape == (30, 3 * 29 + 1) and (lone[:, 30:] == GRID_BORDER).all()


def test_tiles_carry_pictures_captions_and_figures_exactly():
    rng = np.random.default_rng(0)
    pictures = [rng.integers(0, 256, (28, 28), dtype=np.uint8) for _ in range(3)]
    captions = ["VAE · 0.012", 'a <b> & "c"', ""]
    # a name with quotes and markup: unescaped, it would end the attribute and come back cut short
    figures = [{"model": "vae", "mse": "0.0123"}, {"model": 'x&y "z" <i>'},
               {"model": "1e3", "psnr": "inf", "note": "n/a"}]
    html = tiles_html(list(zip(pictures, captions, figures, strict=True)))
    assert "<b>" not in html  # captions are text, never markup
    back = read_tiles(html)
    assert [c for _, c, _ in back] == captions
    # the figures come back as numbers (a caller had to float() each), a model's name as written
    assert [f for _, _, f in back] == [{"model": "vae", "mse": 0.0123}, {"model": 'x&y "z" <i>'},
                                        {"model": "1e3", "psnr": float("inf"), "note": "n/a"}]
    assert all(np.array_equal(a, b) for a, (b, _, _) in zip(pictures, back, strict=True))
    assert tiles_html([]) == "" and read_tiles("") == []


def test_a_note_shows_its_text_as_text_never_as_markup():
    # unescaped, a message quoting what was sent (a value, a file's name) would go into the page as HTML
    text = 'Could not read "<img src=x onerror=alert(1)>" & the rest'
    note = note_html(text)
    assert "<img" not in note and text in unescape(note)
    assert is_note(note) and not is_note(tiles_html([(np.zeros((28, 28), np.uint8), "a <p>", {})]))


def test_show_enlarges_each_pixel_into_a_square_block():
    # the Denoise tab's test-digit picker asks for its thumbnails at twice the size
    x = torch.rand(28, 28, generator=torch.Generator().manual_seed(0))
    big = show(x, 3)
    assert big.shape == (84, 84)
    assert all(np.array_equal(big[dy::3, dx::3], show(x)) for dy in range(3) for dx in range(3))


def test_pixels_out_of_range_or_infinite_show_as_black_or_white_never_wrapped_around():
    # unclamped, 1.5 and -0.2 would wrap round to greys in uint8; +inf must show white, not black
    x = torch.full((28, 28), 0.5)
    x[0, :5] = torch.tensor([1.5, -0.2, float("inf"), float("-inf"), float("nan")])
    white_or_black = [255, 0, 255, 0, 0]
    assert show(x)[0, :5].tolist() == white_or_black
    assert grid(x.view(1, 1, 28, 28), ncol=1, scale=1)[1, 1:6].tolist() == white_or_black  # inside the 1-px frame


@pytest.mark.parametrize("target_px, max_scale", [(420, 5), (300, 5), (900, 4)])  # the Generate tab's settings
def test_fit_scale_picks_the_whole_scale_whose_width_comes_nearest_the_target(target_px, max_scale):
    # uncapped, one column would be drawn 14 times its size; flooring makes rows narrower than need be; with no
    # floor of 1, past 28 columns the scale would be 0, an empty picture
    for n_cols in range(1, 60):
        width = n_cols * 29  # a 28-px digit and its 1-px line
        scale = fit_scale(n_cols, target_px, max_scale)
        assert scale in range(1, max_scale + 1)
        assert abs(width * scale - target_px) == min(abs(width * s - target_px) for s in range(1, max_scale + 1))


# --- Start-up: broken checkpoints and the Hub -------------------------------------------------------------------


def _copy_checkpoints(tmp_path, names=("ae", "classifier")):
    import shutil

    from aedemo.checkpoint import CHECKPOINTS

    for name in names:
        shutil.copytree(CHECKPOINTS / name, tmp_path / name)
    return tmp_path


def test_a_broken_checkpoint_is_reported_and_the_app_still_builds(tmp_path, store):
    root = _copy_checkpoints(tmp_path)
    (root / "vae").mkdir()
    (root / "vae" / "config.json").write_text("{not json")
    broken = ModelStore(root)
    assert list(broken.models) == ["ae"] and broken.classifier is not None
    assert "config.json" in broken.errors["vae"] and "not valid JSON" in broken.errors["vae"]
    assert "no such checkpoint folder" in broken.errors["cvae"]
    assert "**VAE unavailable**" in broken.status_markdown()
    from aedemo.space import build_demo

    build_demo(broken)  # every tab builds around the missing models
    assert "VAE is unavailable" in draw_tab.reconstruct(broken, draw_tab.test_digit_canvas(broken, 0), ["vae"], None)[5]


def test_a_checkpoint_in_the_wrong_folder_is_not_served_under_that_name(tmp_path):
    import shutil

    from aedemo.checkpoint import CHECKPOINTS

    shutil.copytree(CHECKPOINTS / "pca", tmp_path / "ae")  # a PCA where the AE should be
    shutil.copytree(CHECKPOINTS / "ae", tmp_path / "classifier")  # an autoencoder where the classifier should be
    mixed = ModelStore(tmp_path)
    assert "ae" not in mixed.models and mixed.classifier is None
    assert mixed.errors["ae"] == f"{tmp_path / 'ae'}: holds a model of variant 'pca', not 'ae'"
    assert mixed.errors["classifier"] == f"{tmp_path / 'classifier'}: holds a model of variant 'ae', not 'classifier'"


def test_models_load_from_the_hub_repo_and_fall_back_to_local_files(tmp_path, monkeypatch, store):
    hub_copy = _copy_checkpoints(tmp_path / "hub", names=("ae",))  # a repo laid out as one subfolder per model
    from_hub = ModelStore(_copy_checkpoints(tmp_path / "local", names=("ae", "classifier")), hub_repo=str(hub_copy))
    assert from_hub.sources["ae"] == f"hub:{hub_copy}/ae"
    assert from_hub.sources["classifier"] == str(tmp_path / "local" / "classifier")  # not on the Hub: local
    assert any("classifier" in n for n in from_hub.notices)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no network in tests: the Hub cannot answer
    offline = ModelStore(tmp_path / "local", hub_repo="nobody/no-such-repo")
    assert set(offline.models) == {"ae"} and offline.classifier is not None
    assert offline.sources["ae"] == str(tmp_path / "local" / "ae")
    assert "nobody/no-such-repo" in offline.notices[0] and "using the local checkpoints" in offline.notices[0]


def test_a_hub_that_cannot_be_reached_is_asked_once_not_once_per_model(tmp_path, monkeypatch):
    # each try may wait out a timeout: ten of them held the Space's start-up ten times as long
    import aedemo
    from aedemo.hub import HubConnectionError

    tries = []

    def unreachable(*args, **kwargs):
        tries.append(kwargs.get("subfolder"))
        raise HubConnectionError("cannot reach the Hub for user/x: ReadTimeout")

    monkeypatch.setattr(aedemo, "load_model", unreachable)
    local = _copy_checkpoints(tmp_path / "local", names=("ae", "vae", "classifier"))
    loaded = ModelStore(local, hub_repo="user/x")
    assert tries == ["ae"]
    assert set(loaded.models) == {"ae", "vae"} and loaded.classifier is not None
    (notice,) = loaded.notices
    assert "ReadTimeout" in notice and "using the local checkpoints for: ae, vae, classifier" in notice


def test_the_models_table_says_what_each_model_is_built_from(store):
    # students credited the VAE's KL term with what its convolutions do: the table now says each one's layers
    assert built_from(build_model("ae", latent_dim=4, hidden=[64])) == "MLP 784-64-4"
    assert built_from(build_model("vae")).startswith("Conv 32-64 channels, residual blocks")
    assert built_from(build_model("vae", blocks=0)) == "Conv 32-64 channels"
    assert built_from(build_model("sparse")).endswith("ρ = 0.05, β = 3")
    assert built_from(build_model("contractive")) == "MLP 784-512-32, tied decoder, λ = 0.1"
    assert built_from(build_model("contractive", tied=False)) == "MLP 784-512-32, λ = 0.1"
    # a variant names its own loss weights: the table does not have to know them
    assert all(key in build_model(v).config for v, cls in AUTOENCODERS.items() for key in cls.loss_weights)
    rows = store.models_markdown().splitlines()
    assert len(rows) == 2 + len(store.models)
    assert all(row.count("|") - row.count("\\|") == 5 for row in rows)  # four cells each: no stray "|"


def test_the_view_control_follows_a_2d_code_drawn_in_2d(store):
    # the CVAE's map is drawn in 2-D whatever the View radio says: the radio stayed on 3-D
    if "cvae" not in store.models:
        pytest.skip("no CVAE checkpoint")
    assert latent_tab.view_drawn(store, "cvae", "3-D", {}) == "2-D"
    assert latent_tab.view_drawn(store, "cvae", "2-D", {}) == gr.skip()
    assert latent_tab.view_drawn(store, "vae", "3-D", {}) == gr.skip()  # a bigger code is drawn as asked
    assert latent_tab.view_drawn(store, "no such model", "3-D", {}) == gr.skip()


def test_the_next_models_map_goes_back_to_the_view_the_visitor_picked(store):
    # after the CVAE's 2-D map, the VAE's was drawn in 2-D too: the radio said so, the visitor's 3-D forgotten
    if "cvae" not in store.models:
        pytest.skip("no CVAE checkpoint")
    assert latent_tab.view_for_model(store, "vae", "3-D", "2-D", {}) == "3-D"
    assert latent_tab.view_for_model(store, "vae", "2-D", "2-D", {}) == gr.skip()  # 2-D picked: it stays
    assert latent_tab.view_for_model(store, "vae", "3-D", "3-D", {}) == gr.skip()
    assert latent_tab.view_for_model(store, "cvae", "3-D", "2-D", {}) == gr.skip()  # a 2-D code: 2-D it is
    assert latent_tab.view_for_model(store, "vae", "4-D", "2-D", {}) == gr.skip()  # not a View
    assert latent_tab.view_for_model(store, "no such model", "3-D", "2-D", {}) == gr.skip()


def test_a_cvae_interpolation_between_a_digit_and_itself_says_to_pick_two(store):
    if "cvae" not in store.models:
        pytest.skip("no CVAE checkpoint")
    _, note = generate_tab.interpolate(store, "cvae", 4, 4, 5, 1.0, 0)
    assert "Pick two different digits" in note  # "slide from 4 to 4" over a static strip read as a fault


def test_only_the_cvae_needs_a_digit_to_decode_a_place_or_a_grid(store):
    # the API's `digit` is "for the CVAE": a VAE's call without one was refused with "Digit is empty"
    model = build_model("ae", latent_dim=2).eval()
    session = {"flat": model}
    assert not reports_problem(latent_tab.decode_point(store, "flat", 0, 0, 0, None, session)[-1])
    assert not reports_problem(latent_tab.decode_grid(store, "flat", None, session)[-1])
    if "cvae" in store.models:
        with pytest.warns(UserWarning):
            assert "Digit" in latent_tab.decode_grid(store, "cvae", None)[-1]


def test_a_map_of_codes_that_do_not_vary_says_so_not_nan(store):
    # a session's model trained at too high a rate gave every digit the same code: "(nan% of its variance)"
    model = build_model("ae", latent_dim=8).eval()
    with torch.no_grad():
        for p in model.encoder.parameters():
            p.zero_()
    value = latent_tab.latent_map(store, "same", "3-D", 500, {"same": model})[0]
    assert "nan" not in str(value) and "its codes do not vary" in value["title"]
    assert "nan" not in latent_tab.decode_grid(store, "same", None, {"same": model})[-1]


def test_a_grid_decoded_across_the_map_spans_its_first_two_axes(store):
    # Kingma & Welling's figure 4: for a 2-D code, how the decoder's output changes across the map
    model = build_model("ae", latent_dim=2).eval()
    session = {"flat": model}
    picture, status = latent_tab.decode_grid(store, "flat", 0, session)
    side = latent_tab.GRID_SIDE
    assert picture.shape == (side * 29 + 1, side * 29 + 1)
    codes, _ = store.test_codes(model)
    lo, hi = torch.quantile(codes, torch.tensor([0.02, 0.98]), dim=0)
    with torch.no_grad():  # the top-left cell: the first axis at its low end, the second at its high end
        corner = show(model.decode(torch.stack([lo[0], hi[1]]).unsqueeze(0)))
    assert np.abs(picture[1:29, 1:29].astype(int) - corner.astype(int)).max() <= 1
    assert f"{side}×{side} places" in status and "z1 from" in status
    flat = {"line": build_model("ae", latent_dim=1).eval()}
    with pytest.warns(UserWarning):
        assert "no grid" in latent_tab.decode_grid(store, "line", 0, flat)[-1]
    if "cvae" in store.models:  # every place drawn as the asked class, across its codes: the style alone
        for digit in range(10):  # spread over every class's codes, a 1's grid was 29 % smudges
            picture, status = latent_tab.decode_grid(store, "cvae", digit)
            cells = torch.tensor(picture[1:, 1:], dtype=torch.float32).div(255).unfold(0, 28, 29).unfold(1, 28, 29)
            read = store.classify(cells.reshape(-1, 1, 28, 28)).argmax(1)
            assert (read == digit).float().mean() > 0.9, digit
            assert f"drawn as {a_digit(digit)}" in status


def test_a_page_opens_on_a_test_digits_reconstructions_without_setting_a_drawing(store, mnist_test):
    images, labels = mnist_test
    seen, _, _, tiles, _, _, digit, note = draw_tab.first_view(store, None, "vae")
    assert np.array_equal(read_tiles(seen)[0][0], images[draw_tab.FIRST_SHOWN].numpy())
    assert len(read_tiles(tiles)) == len(store.choices())
    assert note.startswith(f"Shown: test digit #{draw_tab.FIRST_SHOWN}, labelled {int(labels[0])}")
    assert digit == unchanged(1)[0]  # Denoise's "My drawing" still says there is no drawing yet


def test_the_first_view_stands_down_when_the_visitor_puts_a_digit_while_it_is_computed(store, monkeypatch):
    # on a slow machine the first view, computed as the page loads, finished after a first click on a test digit's
    # button: the panels and the note then showed test digit #0 beside the clicked digit on the canvas
    visit = draw_tab.new_visit()
    assert draw_tab.first_view_on_load(store, None, "vae", visit)[-1].startswith("Shown: test digit #0")
    computed = draw_tab.first_view

    def clicked_meanwhile(*args, **kwargs):
        shown = computed(*args, **kwargs)
        canvas, note, index, _ = draw_tab.put_test_digit(store, visit, 6)  # the button, while the view is computed
        assert note.startswith(f"On the canvas: test digit #{index}, labelled 6")
        return shown

    monkeypatch.setattr(draw_tab, "first_view", clicked_meanwhile)
    shown = draw_tab.first_view_on_load(store, None, "vae", visit)
    assert shown == unchanged(draw_tab.N_OUTPUTS + 1)  # the clicked digit's panels and note stay


@pytest.mark.parametrize("action", ["stroke", "cleared canvas", "upload listener"])
def test_a_stroke_a_clear_or_an_upload_also_keeps_the_first_view_from_landing(
    store, canvas, mnist_test, action, monkeypatch
):
    visit = draw_tab.new_visit()
    if action == "upload listener":
        draw_tab.put_a_digit(visit)
    else:
        drawing = canvas(mnist_test[0][0].numpy()) if action == "stroke" else np.zeros((400, 400, 4), np.uint8)
        draw_tab.reconstruct_drawing(store, drawing, ["ae"], "ae", None, None, visit)
    # a digit put before the page's load event ran: the view it would replace is not even computed
    monkeypatch.setattr(draw_tab, "first_view", lambda *args, **kwargs: pytest.fail("computed a first view unused"))
    assert draw_tab.first_view_on_load(store, None, "vae", visit) == unchanged(draw_tab.N_OUTPUTS + 1)
    # a sketchpad value that is no news (Gradio 6.31's own change after a button) is no visitor's doing
    quiet = draw_tab.new_visit()
    _, _, index = draw_tab.random_example(store, 3)
    value = {"background": draw_tab.test_digit_canvas(store, index), "layers": [], "composite": None}
    draw_tab.reconstruct_drawing(store, value, ["ae"], "ae", None, index, quiet)
    assert quiet == draw_tab.new_visit()


def test_the_latent_class_control_shows_for_the_cvae_only(store):
    if "cvae" in store.models:
        assert latent_tab.class_picker(store, "cvae").visible is True
    assert latent_tab.class_picker(store, "vae").visible is False
    assert latent_tab.class_picker(store, "nope").visible is False


def test_the_first_view_survives_a_change_of_models_or_focus(store):
    # the controls re-ran on the (unset) drawing: the first view's panels emptied under a note still naming it
    *_, note = draw_tab.first_view(store, None, "vae")
    seen, _, _, tiles, _, status, digit, _ = draw_tab.redraw(store, None, note, ["ae", "pca"], "ae")
    assert [t[2]["model"] for t in read_tiles(tiles)] == ["ae", "pca"] and read_tiles(seen)
    assert digit == unchanged(1)[0]
    *_, status, _, _ = draw_tab.redraw(store, None, "", ["ae"], "ae")  # nothing shown yet: it says so
    assert status.startswith("Nothing to reconstruct yet")


def test_a_model_trained_while_the_first_view_is_up_joins_it(store):
    # its tile was missing and the status said "Unknown model 'my ae #1'": the first view forgot the session's models
    *_, note = draw_tab.first_view(store, None, "vae")
    session = {"my ae #1": build_model("ae", latent_dim=5).eval()}
    _, _, _, tiles, _, status, _, _ = draw_tab.redraw(store, None, note, ["ae", "my ae #1"], "ae", session)
    assert [t[2]["model"] for t in read_tiles(tiles)] == ["ae", "my ae #1"] and not reports_problem(status)


def test_removing_the_upload_goes_back_to_the_canvas(store):
    *_, status, digit, note = draw_tab.back_to_canvas(store, None, None, ["ae"], "ae")  # an empty canvas
    assert status == draw_tab.EMPTY_CANVAS and digit is None and note == ""  # Denoise's "My drawing" has none
    drawing = np.full((280, 280, 4), 0, np.uint8)
    drawing[60:220, 130:150, 3] = 255  # a "1" in black ink on the transparent canvas
    seen, _, _, tiles, _, status, digit, note = draw_tab.back_to_canvas(
        store, {"composite": drawing}, None, ["ae"], "ae")
    assert digit is not None and digit.max() > 0.5 and [t[2]["model"] for t in read_tiles(tiles)] == ["ae"]
    assert note == "" and status == ""


def test_removing_the_upload_goes_back_to_the_test_digit_a_button_put_on_the_canvas(store, mnist_test):
    # it came back read from the canvas like a drawing (prepared again, so not as in MNIST) and without its note
    images, labels = mnist_test
    canvas_value, note_before, index = draw_tab.random_example(store, 4)
    seen, _, _, tiles, _, status, digit, note = draw_tab.back_to_canvas(
        store, {"composite": canvas_value}, index, ["ae"], "ae")
    assert np.array_equal(digit, images[index].numpy() / np.float32(255))
    assert np.array_equal(read_tiles(seen)[0][0], images[index].numpy())
    assert note == note_before and note.startswith(f"On the canvas: test digit #{index}, labelled 4;")
    assert status == "" and [t[2]["model"] for t in read_tiles(tiles)] == ["ae"]


def test_an_upload_without_ink_changes_nothing_the_draw_tab_shows(store, png_file):
    # it emptied the panels and dropped the digit drawn before (Denoise's drawing, the Latent map's star), as a
    # cleared canvas does; the Denoise tab already refused such an upload
    blank = png_file(np.full((200, 200), 255, np.uint8), "white.png")
    upload = draw_tab.endpoint(draw_tab.reconstruct, store, missing=draw_tab.NO_UPLOAD, blank=draw_tab.EMPTY_UPLOAD)
    with pytest.warns(UserWarning, match="No ink found in the uploaded image"):
        *shown, status, digit = upload({"path": blank}, ["ae"], "ae")
    assert status == f"⚠️ {draw_tab.EMPTY_UPLOAD}"
    assert shown == list(unchanged(len(shown))) and digit == unchanged(1)[0]
    # the note over the panels says why, and that they are as they were
    assert draw_tab.upload_note(status) == f"{status} The panels below still show what they showed before it."
    # the sketchpad's own blank (a cleared canvas) is still news: the panels empty and say so
    *_, status, digit = draw_tab.reconstruct(store, np.zeros((400, 400, 4), np.uint8), ["ae"], "ae")
    assert status == draw_tab.EMPTY_CANVAS and digit is None


def test_the_note_over_the_draw_panels_follows_an_upload(store):
    assert draw_tab.upload_note("") == draw_tab.UPLOAD_NOTE  # the panels show the upload, not the canvas
    # refused: the panels stay, and the note says so, with why (the note used to go, leaving the panels unlabelled;
    # then it stayed, saying "Shown: your upload" beside the refused picture)
    note = draw_tab.upload_note("⚠️ The image is too large.")
    assert note.startswith("⚠️ The image is too large. ") and "still show what they showed before" in note


def test_denoise_shows_the_test_set_averages_beside_the_one_digit(store):
    # one digit can mislead (at strength 0 the AE beats the DAE): the averages from each model's metrics.json
    table = denoise_tab.averages_markdown(store)
    if "dae" in store.models:
        figures = store.test_figures("dae")
        assert f"**{figures['gaussian_denoised_psnr']:.1f}** dB" in table.splitlines()[2]
    assert denoise_tab.averages_markdown(ModelStore(root="/nonexistent")) == ""  # no figures: no table


def test_the_test_set_averages_name_the_models_as_the_tabs_other_tables_and_bold_only_the_best(store):
    # the table named them "Denoising AE" and "Conv AE" under a table saying "DAE" and "Conv", and bolded every figure
    rows = [line.split(" | ") for line in denoise_tab.averages_markdown(store).splitlines()[2:]]
    names = [row[0].strip("| ") for row in rows]
    assert names == [short_name(n) for n in denoise_tab.COMPARED if store.test_figures(n)]
    for column in (1, 2):
        restored = [float(re.search(r"→ \**([\d.]+)", row[column]).group(1)) for row in rows]
        bold = ["**" in row[column] for row in rows]
        assert bold == [r == max(restored) for r in restored], (column, rows)


def test_sliders_that_recompute_as_they_move_have_no_reset_button(store):
    # Gradio's reset button sends no input event: it put the box back to its first value beside results computed at
    # the value before
    demo = build_demo(store)
    sliders = {c["id"]: c for c in demo.config["components"] if c["type"] == "slider"}
    live = {target for d in demo.config["dependencies"] for target, event in d["targets"] if event == "input"}
    moving = [sliders[i] for i in live if i in sliders]
    assert len(moving) >= 7  # Denoise's strength; Generate's samples, temperature and frames; Latent's four
    assert all(c["props"].get("buttons") == [] for c in moving), [c["props"].get("label") for c in moving]


def test_a_decoded_place_names_the_axes_its_map_shows_and_counts_the_rest(store):
    # a 2-D map's status listed the hidden third axis and said "the other 29", where its grid said 30; a 3-D map's
    # left out its third axis whenever that sat at the codes' mean, as it does when the page opens
    if "vae" not in store.models:
        pytest.skip("no VAE checkpoint")
    _, _, _, hidden, _ = latent_tab.latent_map(store, "vae", "2-D", 500)
    at_rest = latent_tab.decode_point(store, "vae", 0.5, -0.25, hidden.value, 0, None, "2-D")[1]
    # the sliders move every one of the code's 32 dimensions (they set principal axes): "the other 30 code
    # dimensions at their mean" told a student that z3..z32 stayed put
    assert at_rest.startswith("Decoded at (0.50, -0.25) (the code along its other 30 principal axes at the test "
                              "codes' mean)")
    _, _, _, third, _ = latent_tab.latent_map(store, "vae", "3-D", 500)
    # the codes' mean along the third axis is ~0, of either sign as the machine rounds: -0.00 reads 0.00
    rest = f"{third.value:.2f}".replace("-0.00", "0.00")
    for c3, says in ((third.value, rest), (1.0, "1.00"), (-0.001, "0.00")):
        status = latent_tab.decode_point(store, "vae", 0.5, -0.25, c3, 0, None, "3-D")[1]
        assert f"(0.50, -0.25, {says}) (the code along its other 29 principal axes" in status
    *_, after_map = latent_tab.decode_after_map(store, "vae", 0.5, -0.25, third.value, 0, None, "", "3-D")
    assert f"(0.50, -0.25, {rest}) (the code along its other 29 principal axes" in after_map


@pytest.mark.parametrize("name", ["vae", "cvae"])
def test_the_place_the_sliders_start_at_is_called_the_test_codes_mean(store, name):
    # the CVAE's map started at "(0.15, -0.57)", a place a student could not place
    if name not in store.models:
        pytest.skip(f"no {name} checkpoint")
    _, first, second, third, _ = latent_tab.latent_map(store, name, "3-D", 500)
    start = latent_tab.decode_point(store, name, first.value, second.value, third.value, 3, None, "3-D")[1]
    assert start.startswith(f"Decoded at the test codes' mean ({latent_tab._place(first.value)}, "
                            f"{latent_tab._place(second.value)}")
    moved = latent_tab.decode_point(store, name, first.value + 0.5, second.value, third.value, 3, None, "3-D")[1]
    assert moved.startswith("Decoded at (") and "mean (" not in moved


# --- The model store ---------------------------------------------------------------------------------------------


def test_a_reconstruction_rank_is_the_percentage_of_test_digits_reconstructed_worse(store):
    # the Draw tab's meter: a rank on a 0-1 scale showed a digit better than 90 % of the test set as "0.9 %"
    model = store.get("ae" if "ae" in store.models else next(iter(store.models)))
    errors = store.reconstruction_errors(model)
    ordered = np.sort(errors)
    between = (ordered[len(ordered) // 4] + ordered[len(ordered) // 4 + 1]) / 2  # no test digit's error
    for error in (ordered[0] / 2, between, ordered[-1] * 2):
        worse = 100.0 * np.count_nonzero(errors > error) / len(errors)
        assert store.reconstruction_rank(model, float(error)) == pytest.approx(worse)


def test_a_session_model_is_offered_only_where_it_fits(store):
    # a session AE, which has no prior, was offered among the priors to sample from (and then refused)
    session = {"my ae #1": build_model("ae").eval(), "my vae #1": build_model("vae").eval()}
    priors = [value for _, value in store.choices(session, generative=True)]
    assert "my vae #1" in priors and "my ae #1" not in priors
    assert not {"my vae #1", "my ae #1"} & {value for _, value in store.choices(session, conditional=True)}
    assert {"my vae #1", "my ae #1"} <= {value for _, value in store.choices(session)}


def test_the_cvaes_test_codes_are_encoded_with_each_digits_own_class(store):
    # the codes are encoded in batches: every batch after the first took the first batch's classes
    if "cvae" not in store.models:
        pytest.skip("no CVAE checkpoint")
    model = store.get("cvae")
    codes, _ = store.test_codes(model)
    _, x, y = store.test_set
    some = slice(3000, 3020)
    with torch.no_grad():
        alone = model.encode(x[some], y[some]).float()
    assert (codes[some] - alone).norm(dim=1).max() < SAME_CODE


def test_a_place_on_a_projected_map_decodes_a_code_that_lies_at_that_place(store):
    # the map's mean was left out of a place's code: every point decoded was one off the place clicked or set
    name = next((n for n in ("vae", "ae") if n in store.models), None)
    if name is None:
        pytest.skip("no VAE or AE checkpoint")
    codes, projection = store.test_codes(store.get(name))
    assert not projection.direct
    places = torch.tensor([[0.0, 0.0, 0.0], [1.5, -2.0, 0.5]])
    assert torch.allclose(projection.to_axes(projection.to_code(places)), places, atol=1e-4)
    assert torch.allclose(projection.to_code(places[:1])[0], codes.mean(0), atol=1e-4)  # the origin: the mean code


def test_a_projected_maps_share_of_the_variance_is_of_the_whole_codes(store):
    # the share was of the 3 axes' variance alone: every map's title said it showed 100 % of the code's variance
    name = next((n for n in ("vae", "ae") if n in store.models), None)
    if name is None:
        pytest.skip("no VAE or AE checkpoint")
    codes, projection = store.test_codes(store.get(name))
    along_axes = projection.to_axes(codes).double().var(0) / codes.double().var(0).sum()
    assert torch.allclose(torch.tensor(projection.explained, dtype=torch.float64), along_axes, atol=1e-4)
    assert sum(projection.explained) < 1


def test_a_3d_code_is_plotted_on_its_own_dimensions_not_principal_axes():
    # a code of 3 was projected onto principal axes: its map, sliders and decoded places named PCs, not z1-z3
    store = ModelStore(root="/nonexistent")
    model = build_model("ae", latent_dim=3).eval()
    value, *_ = latent_tab.latent_map(store, "cube", "3-D", 100, {"cube": model})
    assert value["axes"] == ["z1", "z2", "z3"]
    with torch.no_grad():
        z = model.encode(store.test_set[1][:100])
    assert np.allclose([p[:3] for p in value["points"]], z.numpy(), atol=2e-3)
    assert latent_tab.view_drawn(store, "cube", "3-D", {"cube": model}) != "2-D"  # its map is drawn in 3-D
    # in 2-D the third dimension, which the map does not show, sits at the codes' mean (a slider at 0 decoded a code
    # beside the map's)
    *_, hidden, _ = latent_tab.latent_map(store, "cube", "2-D", 100, {"cube": model})
    codes, _ = store.test_codes(model)
    assert hidden.value == pytest.approx(float(codes[:, 2].mean()), abs=1e-3)


def test_a_digit_close_to_a_test_digit_but_not_it_has_that_digit_for_its_nearest_neighbour(store, mnist_test):
    # only a digit with the very pixels of a test digit is kept from being its own neighbour: one a pixel off was
    # kept from its near-twin too
    model = store.get("ae" if "ae" in store.models else next(iter(store.models)))
    if model.conditional:
        pytest.skip("no unconditional model")
    _, x, _ = store.test_set
    twins = x[:20].clone()
    twins[:, 0, 0, 0] += 1 / 255  # a corner pixel, blank in MNIST, one step darker
    with torch.no_grad():
        z = model.encode(twins)
    nearest = store.nearest_test_digits(model, twins, z, latent_tab.NEIGHBOURS)
    assert nearest[:, 0].tolist() == list(range(20))


def test_a_place_on_the_cvaes_map_is_drawn_as_the_class_asked(store):
    # the class went unread: every place of the CVAE's map was decoded as a 0 whatever the Class control said
    if "cvae" not in store.models:
        pytest.skip("no CVAE checkpoint")
    codes, _ = store.test_codes(store.get("cvae"))
    labels = store.test_set[2][: len(codes)]
    drawn = []
    for digit in range(10):
        c1, c2 = codes[labels == digit].mean(0).tolist()  # amid the class's own codes
        picture, status = latent_tab.decode_point(store, "cvae", c1, c2, 0.0, digit)
        assert f"drawn as {a_digit(digit)}" in status
        drawn.append(torch.from_numpy(picture.astype(np.float32) / 255).view(1, 1, 28, 28))
    assert (store.classify(torch.cat(drawn)).argmax(1) == torch.arange(10)).sum() >= 9


def test_the_grid_runs_along_the_first_axis_left_to_right_and_the_second_axis_upwards(store):
    # the grid came upside down (the second axis downwards) or transposed, under a status that says otherwise
    if "vae" not in store.models:
        pytest.skip("no VAE checkpoint")
    picture, _ = latent_tab.decode_grid(store, "vae")
    codes, projection = store.test_codes(store.get("vae"))
    axes = projection.to_axes(codes)
    lo, hi = torch.quantile(axes[:, :2], torch.tensor([0.02, 0.98]), dim=0).tolist()  # from the 2nd to 98th percentile
    rest = float(axes[:, 2].mean())
    last = (latent_tab.GRID_SIDE - 1) * 29
    corners = {(0, 0): (lo[0], hi[1]), (0, last): (hi[0], hi[1]), (last, 0): (lo[0], lo[1])}  # (row, column) px
    cells = {}
    for (row, col), (c1, c2) in corners.items():
        cells[row, col] = picture[row + 1 : row + 29, col + 1 : col + 29].astype(int)
        alone, _ = latent_tab.decode_point(store, "vae", c1, c2, rest, 0, None, "2-D")
        assert np.abs(cells[row, col] - alone.astype(int)).max() <= 2, (row, col)
    assert np.abs(cells[0, 0] - cells[last, 0]).max() > 50  # the corners differ: the comparison tells them apart


def test_enter_on_the_map_opens_the_nearest_of_the_digits_plotted(store):
    # Enter opened the nearest of all the test digits mapped, though the map showed only the first few hundred
    name = "vae" if "vae" in store.models else next(iter(store.models))
    codes, projection = store.test_codes(store.get(name))
    shown = projection.to_axes(codes)[:100, :2]

    class Enter:
        _data = {"index": None, "coords": None, "nearest": True}

    for place in torch.randn(8, 2, generator=torch.Generator().manual_seed(0)):
        *_, status = latent_tab.pick(store, name, 0, None, Enter(), "2-D", 100, (*place.tolist(), 0.0))
        index = int(re.match(r"Test digit #(\d+) ", status).group(1))
        assert index < 100
        distances = (shown - place).norm(dim=1)  # straight-line distances on the map
        assert distances[index] == pytest.approx(float(distances.min()), abs=1e-5)


def test_neighbour_classes_are_counted_commonest_first():
    # the note under the star listed the rarest class first, and "all 10 of class 7" lost its "all"
    assert latent_tab._tally([7] * 10) == "all 10 of class 7"
    said = latent_tab._tally([3] * 3 + [2] * 6 + [8])
    assert said.index("6 of class 2") < said.index("3 of class 3") < said.index("1 of class 8")


def test_the_priors_compared_are_sampled_at_the_temperature_asked(store):
    # the heading says "same seed and temperature": the priors' samples were drawn at temperature 1 whatever it said
    if not {"cvae", "vae"} <= set(store.models):
        pytest.skip("no CVAE or VAE checkpoint")

    def vae_samples(temperature: float, seed: int) -> np.ndarray:
        _, gallery, _ = generate_tab.generate(store, "cvae", 3, 16, temperature, seed, ["vae"])
        return gallery[0][0].astype(float)

    # cooler, the draws sit near the prior's mean: two seeds give nearly the same digits; hotter, very different ones
    cool = np.abs(vae_samples(0.1, 0) - vae_samples(0.1, 1)).mean()
    hot = np.abs(vae_samples(2.0, 0) - vae_samples(2.0, 1)).mean()
    assert cool < hot / 2


def test_the_cvaes_class_morph_follows_the_temperature(store):
    # "Uses the Temperature above" for the CVAE: its one style code was drawn at temperature 1 whatever it said
    if "cvae" not in store.models:
        pytest.skip("no CVAE checkpoint")

    def strip(temperature: float, seed: int) -> np.ndarray:
        return generate_tab.interpolate(store, "cvae", 1, 7, 5, temperature, seed)[0].astype(float)

    # cooler, the style code sits near its prior's mean whatever the seed; hotter, two seeds draw unlike styles
    cool = np.abs(strip(0.1, 0) - strip(0.1, 1)).mean()
    hot = np.abs(strip(2.0, 0) - strip(2.0, 1)).mean()
    assert cool < hot / 2


def test_new_noise_and_new_samples_always_draw_a_seed_other_than_the_one_shown():
    from aedemo.space.inputs import another_seed

    for shown in (0, 1, 9_999, 3.0, None, "99999999999"):
        drawn = another_seed(shown)
        assert isinstance(drawn, int) and 0 <= drawn < 10_000 and drawn != shown


REPEATABLE = ("latent_map", "decode_after_map", "view_drawn", "view_for_model", "denoise", "regenerate",
              "interpolate_on_shared_field")


def test_a_map_or_a_denoising_a_visitor_can_ask_for_again_runs_only_the_latest(store):
    # Gradio's default for a step is "once": skipped while its last call runs. A model chosen while the previous
    # model's map was drawn kept that map under its name, and New noise pressed twice left the first seed's tiles
    demo = build_demo(store)

    def first_step(block_fn):  # what a .then chain starts from
        return first_step(demo.fns[block_fn.trigger_after]) if block_fn.trigger_after is not None else block_fn

    steps = {}
    for block_fn in demo.fns.values():
        name = getattr(getattr(block_fn.fn, "func", block_fn.fn), "__name__", "")
        if name in REPEATABLE:
            triggers = {event for _, event in first_step(block_fn).targets}
            if triggers - {"load", "clear"}:  # once per page, once per removal
                steps.setdefault(name, set()).add(block_fn.trigger_mode)
    assert steps == {name: {"always_last"} for name in REPEATABLE}


def test_each_kind_of_noise_opens_at_a_strength_the_dae_trained_on():
    # salt & pepper opened at the Gaussian's 0.5, half the pixels black or white: past its training, little digit left
    from aedemo.noise import NOISE_KINDS, TRAIN_STRENGTH
    from aedemo.space.denoise_tab import strength_for, strength_info

    for kind in NOISE_KINDS:
        update = strength_for(kind)
        assert 0 < update.value <= TRAIN_STRENGTH[kind] and update.info == strength_info(kind)
    assert strength_for("salt_pepper").value == 0.2  # as aedemo.evaluate scores the DAE, and README reports it
    assert strength_for("speckle") == gr.skip()  # no kind: the handler says so, the slider stays


def test_no_slider_starts_two_always_last_events_on_its_input(store):
    # Gradio 6.31 sent two such events again and again while the slider's box held a number typed below its minimum
    # (the Generate tab's Temperature: tens of requests a second, a toast counting up without end); a chain of one
    # event and its .then sends each step once
    demo = build_demo(store)
    always_last = {}
    for block_fn in demo.fns.values():
        for target_id, event in block_fn.targets:
            if event == "input" and isinstance(demo.blocks.get(target_id), gr.Slider):
                if block_fn.trigger_mode == "always_last":
                    always_last.setdefault(demo.blocks[target_id].label, []).append(block_fn.name)
    assert "Temperature (× the prior's std)" in always_last and "Strength" in always_last
    assert {label: fns for label, fns in always_last.items() if len(fns) > 1} == {}
