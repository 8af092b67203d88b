"""Draw & reconstruct: sketch a digit, see what every autoencoder makes of it, live."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd
import torch
from PIL import Image

from ..evaluate import mse_per_image
from ..models import Autoencoder
from . import images
from .inputs import UserInputError, as_batch, to_mnist
from .store import (
    PERCENTILE_DIGITS,
    PRIOR_MU,
    PRIOR_SIGMA,
    ModelStore,
    ModelUnavailable,
    at_prior,
    display_name,
    has_posterior,
    short_name,
)
from .ui import (
    IMAGE_PX,
    endpoint,
    follow_session,
    problem,
    reports_problem,
    results_look,
    tick_new_session_models,
    unchanged,
)

# The nine models of a stroke run two at a time: at batch 1 each is mostly waiting on its weights coming from
# memory, with the GIL released, so a second thread cuts their time by 12-34 % (two VMs, quiet and slow spells;
# benchmarks/app_latency.py, docs/performance.md).
# One pool for all visitors, so concurrent strokes never run more than two models at once on a 2-core Space.
MODEL_THREADS = ThreadPoolExecutor(2, thread_name_prefix="aedemo-models")
CANVAS = 400  # sketchpad size in px; the digit drawn on it is scaled to MNIST's 20 px box anyway
N_OUTPUTS = 7  # preview, classifier, reconstruction rank, reconstructions, code, status, the 28x28 for Denoise
DEFAULT_FOCUS = "vae"
MAX_UNLISTED_NOTED = 3  # names sent that are no model here, each said in the status line
# Gradio 6's sketchpad starts with no tool selected ("select the draw tool to start"), and its Clear button drops
# the tool again; pick the brush for the visitor both times, so the next stroke draws. (A selected tool's button
# has the class "highlight": clicking it then would deselect it.)
SELECT_BRUSH_JS = """
const selectBrush = (triesLeft) => {
  const button = document.querySelector('#draw-sketchpad button[aria-label="Brush"]');
  if (button) { if (!button.classList.contains('highlight')) button.click(); return; }
  if (triesLeft > 0) setTimeout(() => selectBrush(triesLeft - 1), 250);
};
selectBrush(80);
document.addEventListener('click', (event) => {
  if (event.target.closest('#draw-sketchpad button[aria-label="Clear canvas"]')) setTimeout(() => selectBrush(4), 150);
}, true);
"""
# After each reconstruction, in the browser from the tiles and the reading (no second request), parsed once:
# - the glance: on a phone the panels stack ~700 px under the canvas, so a stroke changed nothing in view: a strip of
#   the reconstructions and the reading sit under the canvas;
# - what a screen reader hears (the status line says nothing when all went well, and the pictures nothing to it): the
#   classifier's reading, which model redrew the digit closest, and the reconstruction rank's sentence (a change of
#   the model it is for changes nothing else).
TILES_JS = """
(tiles, reading, rank) => {
  const figures = [...new DOMParser().parseFromString(tiles || '', 'text/html').querySelectorAll('figure')];
  if (!figures.length) return ['', ''];
  const read = reading && reading.label != null;
  const glance = document.createElement('div');
  const strip = glance.appendChild(document.createElement('div'));
  strip.className = 'glance-strip';
  for (const figure of figures) {
    const img = strip.appendChild(document.createElement('img'));
    img.src = figure.querySelector('img').src;
    img.alt = img.title = figure.querySelector('figcaption').textContent;
  }
  const line = glance.appendChild(document.createElement('p'));
  if (read) {
    line.append('Reads ');
    line.appendChild(document.createElement('b')).textContent = reading.label;
    line.append(' · ');
  }
  const link = line.appendChild(document.createElement('a'));
  link.href = '#draw-gallery-heading';
  link.textContent = 'each model, with its error ↓';
  const scored = figures.filter(figure => figure.dataset.mse !== undefined);
  if (!scored.length) return [glance.innerHTML, ''];
  let said = '';
  if (read) {
    const top = (reading.confidences || []).find(c => String(c.label) === String(reading.label));
    said = `Read as ${reading.label}` + (top ? ` (${Math.round(top.confidence * 100)} %)` : '') + '. ';
  }
  const best = scored.reduce((a, b) => (Number(b.dataset.mse) < Number(a.dataset.mse) ? b : a));
  const name = best.querySelector('figcaption').textContent.split(' · ')[0];
  said += `${scored.length} reconstructions; the closest to it: ${name}.`;
  const ranked = new DOMParser().parseFromString(rank || '', 'text/html').querySelector('.meter-text');
  if (ranked) said += ' ' + ranked.textContent.split('. ')[0] + '.';
  return [glance.innerHTML, said];
}
"""
# The code's table: for a model with a posterior (VAE, CVAE) `value` is mu, SIGMA its sigma, and CARRIES whether the
# dimension carries this digit (False: it sits at the prior, store.at_prior); any other model's dimensions all carry it.
SIGMA = "σ"
CARRIES = "carries this digit"


@dataclass
class DrawTab:
    """The components other tabs reuse (the Denoise tab offers the current drawing as a source)."""

    sketch: gr.Sketchpad
    digit: gr.State  # the last drawing as the models see it (float [28,28]), or None


def posterior_note(
    carried: int, at_prior_here: int, collapsed: int, conditional: bool, sigmas: tuple[float, float] | None = None
) -> str:
    """The line under the code of a model with a posterior: of its `carried + at_prior_here` dimensions, how many carry
    the digit and how many sit at the prior, `collapsed` of these for every test digit checked (posterior collapse);
    `sigmas`: the least and the largest σ of the dimensions that carry it."""
    n = carried + at_prior_here
    head = "σ is how unsure the encoder is."
    if sigmas and carried:
        # cut, not rounded: a σ of 0.899 shown as "0.90" read as past the rule's "under 0.9"
        low, high = (f"{math.floor(sigma * 100 + 1e-6) / 100:.2f}" for sigma in sigmas)  # 0.29 * 100 < 29
        span = f"{low}–{high}" if low != high else (low if carried == 1 else f"{low} in each")  # not "0.08–0.08"
        # the rule, said: a dimension with sigma near 1 and mu far from the prior's carries the digit (a student read
        # "σ 1.01 where the code carries it" against "σ≈1 and μ≈0, the prior itself")
        rule = (f"σ under {PRIOR_SIGMA:g} of its class prior's, or μ {PRIOR_MU:g} of that σ or more from its mean"
                if conditional else f"σ under {PRIOR_SIGMA:g}, or μ {PRIOR_MU:g} or more from the prior's")
        head = f"σ is how unsure the encoder is: {span} where the code carries the digit ({rule})."
    if not at_prior_here:
        return f"{head} {'Both' if n == 2 else f'All {n}'} dimensions carry this digit."
    where = "μ and σ are those of its class's prior" if conditional else "σ≈1 and μ≈0, the prior itself"
    them = "it" if at_prior_here == 1 else "them"
    if carried:
        other = "one" if at_prior_here == 1 else str(at_prior_here)
        verb = "carries" if carried == 1 else "carry"
        text = f"{head} {carried} of {n} dimensions {verb} this digit; in the other {other} (grey) {where}"
    else:
        text = f"{head} No dimension carries this digit: in all {n} {where}"
    text += f": the decoder hardly reads {them}."
    if collapsed:
        if collapsed == at_prior_here:
            who = "It sits" if collapsed == 1 else "They sit"
        else:
            who = f"{collapsed} of them {'sits' if collapsed == 1 else 'sit'}"
        text += f" {who} there for each of {PERCENTILE_DIGITS:,} test digits: posterior collapse."
    return text


def code_table(
    model: Autoencoder, z: torch.Tensor, logvar: torch.Tensor | None, labels: torch.Tensor | None
) -> pd.DataFrame:
    """The focus model's code of one digit as the plot takes it (dim, value, CARRIES; with a posterior, SIGMA too).
    `z`: the code (mu), `logvar` its log-variance (None: the model has no posterior), both [latent_dim]."""
    # one DataFrame built whole: adding columns one by one took 3x as long (~0.26 ms against 0.09)
    # to three decimals, as σ: the hover box showed ten ("-2.2268610001")
    table = {"dim": [f"z{i + 1:02d}" for i in range(len(z))], "value": z.cpu().double().numpy().round(3)}
    if logvar is None:
        return pd.DataFrame({**table, CARRIES: True})
    prior = at_prior(model, z[None], logvar[None], labels)[0].cpu()
    sigma = (0.5 * logvar).exp().cpu().double().numpy().round(3)
    return pd.DataFrame({**table, SIGMA: sigma, CARRIES: ~prior.numpy()})


def _as_frame(code: Any) -> pd.DataFrame | None:
    """The code plot's value as a DataFrame (the browser sends it back as {columns, data, ...}); None: no code."""
    if isinstance(code, dict):
        code = pd.DataFrame(code.get("data") or [], columns=code.get("columns") or None)
    return code if isinstance(code, pd.DataFrame) else None


def code_numbers_table(code: Any) -> pd.DataFrame:
    """The code plot's values as a table, in words: "carries this digit" yes or no."""
    table = _as_frame(code)
    if table is None or table.empty:
        return pd.DataFrame()
    table = table.copy()
    if CARRIES in table.columns:
        table[CARRIES] = ["yes" if carries else "no" for carries in table[CARRIES].astype(bool)]
    return table


def code_note(store: ModelStore, code: Any, focus: str | None, session_models: dict | None = None) -> str:
    """The line under the code plot, from the table it shows (a DataFrame, or the plot's value as the browser sends it):
    for a model with a posterior, how many dimensions carry the digit and how many sit at the prior (posterior_note);
    "" for any other, or no code. A line of its own, not the status line's: that one is read out at every change."""
    code = _as_frame(code)
    if code is None or SIGMA not in code.columns or CARRIES not in code.columns or not focus:
        return ""
    try:
        model = store.get(focus, session_models)
    except ModelUnavailable:
        return ""
    if not has_posterior(model) or len(code) != model.latent_dim:  # a code from the model shown before it
        return ""
    try:
        prior = ~code[CARRIES].to_numpy(dtype=bool)
        carrying = code[SIGMA].to_numpy(dtype=float)[~prior]
    except (ValueError, TypeError):  # a table code_table did not write (a request's own): nothing to say of it
        return ""
    collapsed = store.collapsed_dims(model)
    n_collapsed = 0 if collapsed is None else int((prior & collapsed.cpu().numpy()).sum())
    n_prior = int(prior.sum())
    sigmas = (float(carrying.min()), float(carrying.max())) if len(carrying) else None
    return posterior_note(len(code) - n_prior, n_prior, n_collapsed, model.conditional, sigmas)


def _encode(
    model: Autoencoder, x: torch.Tensor, labels: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The code of digits x (on the model's device) and, for a model with a posterior, its log-variance (else None)."""
    if has_posterior(model):
        return model.posterior(x, labels)  # its code, encode()'s, is the mean: the same pass gives the spread
    return model.encode(x, labels), None


def _rank_html(score: float, focus: str) -> str:
    return (
        f'<div class="meter-big">{score:.0f}%</div>'
        f'<div class="meter"><div class="meter-fill" style="width:{score:.1f}%"></div></div>'
        f'<div class="meter-text">{display_name(focus)}\'s error on this digit is lower than on '
        f"{score:.0f}% of {PERCENTILE_DIGITS:,} MNIST test digits. A model redraws well what resembles its training "
        "digits, so a low rank flags an unusual input; but plain strokes with little ink (a 1, a bar) are "
        "easy for every model.</div>"
    )


EMPTY_CANVAS = "The canvas is empty: draw a digit (0-9), large, in the middle."
EMPTY_UPLOAD = "No ink found in the uploaded image: upload a picture of one digit, dark on light or light on dark."
NO_UPLOAD = "No image was given: send a picture of one digit, e.g. handle_file(\"digit.png\") with gradio_client."
NOTHING_YET = "Nothing to reconstruct yet: draw a digit (0-9), large, in the middle, or upload one."


@torch.inference_mode()
def reconstruct(
    store: ModelStore, image: Any, variants: list[str] | None, focus: str | None, session_models: dict | None = None,
    *, missing: str | None = None, blank: str | None = None, uploads_only: bool = False,
) -> tuple:
    """Reconstruct a drawn or uploaded digit with each chosen model.

    API inputs: `image` (an image file: `handle_file("digit.png")`; any size or mode, light or dark background),
    `variants` (model names, e.g. ["ae", "vae", "pca"]; None = all), `focus` (the model whose code and
    reconstruction rank are shown; None: neither). Returns: the 28x28 the models see (HTML, one tile with
    data-model="input"), the classifier's reading ({"label", "confidences"}), the reconstruction rank (HTML: the
    share of test digits reconstructed worse), the reconstructions as HTML (a grid of captioned 28x28 PNGs inline,
    each `<figure data-model=... data-mse=...>`; `aedemo.space.images.read_tiles` reads both back), the focus model's
    code (a table of dim, value and "carries this digit"; for the VAE and CVAE value is the posterior mean μ, "σ"
    its standard deviation, both to 3 decimals, and "carries this digit" is false where the dimension sits at the
    prior: σ≈1 and μ≈0 for the VAE, the class's own prior for the CVAE) and a status line.

    Args:
        store: the models. session_models: the browser session's own (a gr.State).
        missing: the refusal of no image at all, where that is one (an upload event without its file).
        blank: the refusal of an image without ink, where that is one (an upload; a cleared canvas is news).
        uploads_only: `image` came in a request, so a file is read only from Gradio's upload folder (see
            inputs.to_mnist).
    Returns the outputs above and, for the session only (a gr.State), the 28x28 digit.
    """
    try:
        if image is None and missing:
            raise UserInputError(missing)
        digit = to_mnist(image, uploads_only)
        if digit is None and blank:
            raise UserInputError(blank)
    except UserInputError as e:
        return (*unchanged(N_OUTPUTS - 2), problem(str(e)), gr.skip())
    return reconstruct_digit(store, digit, variants, focus, session_models)


def reconstruct_drawing(
    store: ModelStore, image: Any, variants: list[str] | None, focus: str | None, session_models: dict | None = None,
    test_digit_shown: int | None = None, visit: dict | None = None, controls: list | None = None,
) -> tuple:
    """What a stroke on the Draw tab's sketchpad runs; returns what /reconstruct returns.

    From code, /reconstruct is the endpoint to call: it takes any image, None as `variants` for all the models, and
    a model of the session's own. This one goes through Gradio's preprocessing, which the sketchpad's strokes need.
    API inputs: `image` (an ImageEditor value: {"background", "layers", "composite"}, each an image file or None),
    `variants` (a list of names on the page's Models list) and `focus` (one of them). A value Gradio cannot read is
    refused with an error (gradio_client raises it), not with a status line.
    """  # the API page describes the endpoint by it
    if test_digit_shown is not None and not changed_since_test_digit(store, image, test_digit_shown):
        return (*unchanged(N_OUTPUTS), gr.skip())
    if controls:
        # The Models and code choice the visitor last made (redraw keeps it), over the one the event brings: Gradio
        # 6.31 takes a stroke's inputs as the stroke ends and sends them once the sketchpad has its picture, a second
        # or two later on a slow machine, so a model unticked meanwhile came back, its box still unticked.
        variants, focus = controls
    put_a_digit(visit)
    return (*reconstruct(store, image, variants, focus, session_models), None)


def changed_since_test_digit(store: ModelStore, value: Any, index: int) -> bool:
    """Whether a sketchpad value is news while test digit `index`, put there by a button, is on show: a cleared
    canvas, or strokes over that digit. Gradio 6.31 also sends two values that are not: a stroke's event a second or
    more late, after the button replaced the stroke (its reconstructions then replaced the test digit's), and a
    change of its own a second or two after the button, with the digit alone (it took the note naming it away)."""
    if not isinstance(value, dict):
        return True
    strokes = any(_has_ink(layer) for layer in value.get("layers") or [])
    background = value.get("background")
    if background is None:  # cleared (the composite is the layers over the background); else strokes from before
        return not strokes
    background, shown = np.asarray(background), test_digit_canvas(store, index)
    if background.shape[:2] != shown.shape[:2]:
        return False
    # its ink where the digit's is (the picture comes back re-encoded by the browser: not always to the byte)
    ink, digit_ink = background[..., :3].min(axis=-1) < 128, shown[..., :3].min(axis=-1) < 128
    return strokes and (ink & digit_ink).sum() > 0.8 * (ink | digit_ink).sum()


def _has_ink(layer: Any) -> bool:
    """Whether a sketchpad layer has anything drawn: a pixel not transparent, or without alpha, a dark one."""
    layer = np.asarray(layer)
    if layer.ndim == 3 and layer.shape[2] == 4:
        return bool((layer[..., 3] > 0).any())
    return bool((layer[..., :3] if layer.ndim == 3 else layer).min() < 128)


@torch.inference_mode()
def reconstruct_digit(
    store: ModelStore, digit: np.ndarray | None, variants: list[str] | None, focus: str | None,
    session_models: dict | None = None, *, empty: str = EMPTY_CANVAS,
) -> tuple:
    """reconstruct() from the 28x28 the models see (float [28,28] in [0,1]; None: nothing drawn, `empty` says so).

    The Models and code controls re-run this on the digit last shown, whichever source it came from."""
    if digit is None:
        return "", None, "", images.note_html(empty), None, empty, None

    x = as_batch(digit).to(store.device)
    probs = store.classify(x)
    reading = None if probs is None else {str(i): float(p) for i, p in enumerate(probs[0])}
    predicted = None if probs is None else int(probs[0].argmax())

    if isinstance(variants, str):  # an API call naming one model
        variants = [variants]
    elif variants is not None and not isinstance(variants, list | tuple):
        return (*unchanged(N_OUTPUTS - 2), problem("Models must be a list of model names."), gr.skip())
    listed = [c for _, c in store.choices(session_models)]
    unlisted: list = []
    if variants is None:
        names = listed
    else:  # in the Models list's order: a box ticked again came last in the value, and its tile moved to the end
        # names the list lacks (an unavailable model, or anything an API call sends) get a note each, a few at most:
        # 50,000 of them made a 5 MB answer
        for name in variants:
            if name not in listed and name not in unlisted:
                unlisted.append(name)
                if len(unlisted) > MAX_UNLISTED_NOTED:
                    break
        names = [n for n in listed if n in variants] + unlisted[:MAX_UNLISTED_NOTED]
    notes: list[str] = [] if names else ["Tick at least one model to see reconstructions."]
    shown, jobs = [], []  # (name, caption suffix), (model, labels), in the same order
    for name in names:
        try:
            jobs.append(store.get_for_digit(name, session_models, predicted))
        except ModelUnavailable as e:
            notes.append(str(e))
            continue
        shown.append((name, f" (as {predicted})" if jobs[-1][0].conditional else ""))
    if len(unlisted) > MAX_UNLISTED_NOTED:
        notes.append("More names that are no model here were left out.")

    @torch.inference_mode()  # inference mode is per thread: the handler's own does not reach the pool's
    def encode_decode(job: tuple[Autoencoder, torch.Tensor | None]) -> tuple[torch.Tensor, Any, torch.Tensor]:
        model, labels = job
        # a model trained in this session may live elsewhere than the shipped ones (no copy when it does not)
        z, logvar = _encode(model, x.to(model.device), labels)  # kept: the focus model's code is shown from it
        return z[0], None if logvar is None else logvar[0], model.decode(z, labels).to(x.device)

    results = list(MODEL_THREADS.map(encode_decode, jobs))
    codes = {name: (z, logvar) for (name, _), (z, logvar, _) in zip(shown, results, strict=True)}
    outs = [out for *_, out in results]
    errors: dict[str, float] = {}
    tiles = []
    if outs:  # one pass over all reconstructions: errors and 8-bit pictures for the nine at once
        recon = torch.cat(outs)
        errors = dict(zip([n for n, _ in shown], mse_per_image(recon, x).tolist(), strict=True))
        for (name, suffix), picture in zip(shown, images.to_uint8_batch(recon), strict=True):
            tiles.append((picture, f"{short_name(name)}{suffix} · {errors[name]:.4f}",
                          {"model": name, "mse": f"{errors[name]:.6f}"}))

    rank, code = "", None
    if focus:
        try:
            model, labels = store.get_for_digit(focus, session_models, predicted)
            if focus in codes:
                z, logvar = codes[focus]
            else:  # not among the reconstructions
                z, logvar = _encode(model, x.to(model.device), labels)
                z, logvar = z[0], None if logvar is None else logvar[0]
            error = errors.get(focus)
            if error is None:
                error = float(mse_per_image(model.reconstruct(x.to(model.device), labels).to(x.device), x)[0])
            rank = _rank_html(store.reconstruction_rank(model, error), focus)
            code = code_table(model, z, logvar, labels)
        except ModelUnavailable as e:
            if focus not in names:  # else already reported with the reconstructions
                notes.append(str(e))
    if probs is None:
        notes.append("The classifier is unavailable: " + store.errors.get("classifier", "not loaded"))
    seen = images.tiles_html([(images.show(digit), "28×28, as MNIST", {"model": "input"})])
    status = " ".join(notes)
    # no tile (every model unticked, or none available): why, where the tiles would be, not only at the page's foot
    shown = images.tiles_html(tiles) if tiles or not status else images.note_html(status)
    return seen, reading, rank, shown, code, status, digit


def test_digit_canvas(store: ModelStore, index: int) -> np.ndarray:
    """Test digit `index` on the canvas: black ink on white, opaque, CANVAS x CANVAS RGBA. Gradio shows a value set
    by the server as the canvas's background, where transparent pixels are drawn as a checkerboard."""
    images_u8, _, _ = store.test_set
    digit = Image.fromarray(images_u8[index].numpy()).resize((CANVAS * 7 // 10,) * 2, Image.BICUBIC)
    ink = np.zeros((CANVAS, CANVAS), dtype=np.uint8)
    offset = (CANVAS - digit.width) // 2
    ink[offset : offset + digit.height, offset : offset + digit.width] = np.asarray(digit)
    rgba = np.full((CANVAS, CANVAS, 4), 255, dtype=np.uint8)
    rgba[..., :3] = (255 - ink)[..., None]
    return rgba


def random_example(store: ModelStore, digit: int | None = None) -> tuple[np.ndarray, str, int]:
    """A random test digit (of class `digit` when given) on the canvas, which one it is (its index and its MNIST
    label, to hold the classifier's reading against), and its index."""
    _, _, labels = store.test_set
    pool = np.arange(len(labels)) if digit is None else np.flatnonzero(labels.numpy() == digit)
    index = int(np.random.default_rng().choice(pool))
    return test_digit_canvas(store, index), test_digit_note(store, index), index


def test_digit_note(store: ModelStore, index: int) -> str:
    """The note over the panels while test digit `index`, put there by a button, is what the canvas holds."""
    label = int(store.test_set[2][index])
    return f"On the canvas: test digit #{index}, labelled {label}; the models get it as it is in MNIST."


@torch.inference_mode()
def reconstruct_test_digit(
    store: ModelStore, index: Any, variants: list[str] | None, focus: str | None, session_models: dict | None = None
) -> tuple:
    """reconstruct() of test digit `index` itself, not of the canvas showing it: read back from the canvas it
    would be prepared again like a drawing (its stroke brought into MNIST's range of pen widths, among others), which
    moved the VAE's reconstruction rank of test digits from about 50 % to 64 %."""
    try:
        digit = store.test_digit(index)[0][0, 0].numpy()
    except UserInputError as e:
        return (*unchanged(N_OUTPUTS - 2), problem(str(e)), gr.skip())
    return reconstruct_digit(store, digit, variants, focus, session_models)


FIRST_SHOWN = 0  # the test digit (a 7) whose reconstructions greet a visitor, until they draw
FIRST_NOTE = "Shown: test digit"  # how the note over the panels begins while FIRST_SHOWN is on show
UPLOAD_NOTE = "Shown: your upload (the canvas is not used)."


def first_view(
    store: ModelStore, variants: list[str] | None, focus: str | None, session_models: dict | None = None
) -> tuple:
    """What the tab shows when a page loads: test digit FIRST_SHOWN's reconstructions, beside an empty canvas, so
    the first look is the models at work rather than empty panels; the drawing that Denoise offers stays unset.
    Shown again with a model trained since (`session_models`) when the Models list gains it."""
    *shown, _ = reconstruct_test_digit(store, FIRST_SHOWN, variants, focus, session_models)
    label = int(store.test_set[2][FIRST_SHOWN])
    note = f"{FIRST_NOTE} #{FIRST_SHOWN}, labelled {label}, until you draw one or pick one with the buttons below."
    return (*shown, gr.skip(), note)


def new_visit() -> dict:
    """What a gr.State records of a visitor's own use of the tab. Gradio keeps a State's value on the server and
    hands every event of the session that same object, so a mark made by one event is seen by another running."""
    return {"put_a_digit": False}


def put_a_digit(visit: dict | None) -> None:
    """Record that the visitor put a digit on the tab: a stroke, a test digit's button, an upload."""
    if visit is not None:
        visit["put_a_digit"] = True


def first_view_on_load(
    store: ModelStore, variants: list[str] | None, focus: str | None, visit: dict | None = None
) -> tuple:
    """first_view() when the page loads, unless the visitor put a digit on the tab meanwhile: on a slow machine the
    first view can finish after a first click, and it replaced the clicked digit's panels and note. Checked before
    the view is computed too: a click that came before the page's load event leaves nothing to compute."""
    def put_already() -> bool:
        return bool(visit and visit["put_a_digit"])

    if put_already():
        return unchanged(N_OUTPUTS + 1)  # the panels, the digit and the note
    shown = first_view(store, variants, focus)
    return unchanged(N_OUTPUTS + 1) if put_already() else shown


def put_test_digit(store: ModelStore, visit: dict | None, digit: int | None = None) -> tuple:
    """A button's random test digit (of class `digit`) on the canvas: the canvas value, the note naming it, and
    its index twice (the digit on show, the digit its reconstruction reads)."""
    put_a_digit(visit)
    canvas_value, note, index = random_example(store, digit)
    return canvas_value, note, index, index


def cleared(store: ModelStore) -> tuple:
    """The sketchpad's Clear pressed: the panels say the canvas is empty (whatever the Models and code controls
    hold), the drawing Denoise reads goes, and so do the test digit the canvas showed and its note. Its own event,
    beside the change event: Gradio 6.31's sketchpad does not always send a change for Clear (seen after a test
    digit's button, more often on a busy machine; see docs/performance.md), and the emptied canvas stood beside the
    panels of the digit it no longer held."""
    return (*reconstruct_digit(store, None, None, None), None, "")


def refused_look(status: str | None, shown: Any) -> tuple:
    """results_look() for the tab's five result panels and the phone's glance under the canvas (which read "Reads 7"
    at full strength over a refused upload); where the reconstructions' panel held only a note (an emptied canvas),
    the refusal takes its place: "The canvas is empty" stayed beside the dot that was refused."""
    looks = list(results_look(status, 6))
    if reports_problem(status) and images.is_note(shown):
        looks[3] = gr.update(elem_classes=[], value=images.note_html(status))  # the status line then hides (PAGE_JS)
    return tuple(looks)


def upload_note(status: str | None) -> Any:
    """The note over the panels after an upload: they show it; or, refused (a picture without ink, too large, not a
    picture), why, and that the panels are as they were: the note went on saying "Shown: your upload" beside the
    refused picture, over the greyed panels of the one before, the reason only in a toast and at the tab's foot."""
    if reports_problem(status):
        return f"{status} The panels below still show what they showed before it."
    return UPLOAD_NOTE


def back_to_canvas(
    store: ModelStore, image: Any, index: int | None, variants: list[str] | None, focus: str | None,
    session_models: dict | None = None,
) -> tuple:
    """The upload removed: the panels, and the drawing Denoise reads, go back to the canvas; the note over them
    (which named the upload) goes, unless the canvas could not be read and the panels stay as they were. `index`:
    the test digit a button put on the canvas, when no stroke has touched it since; it is shown as it is in MNIST
    and named again, as before the upload (read back from the canvas it became a drawing, and lost its note)."""
    if index is not None:
        shown = reconstruct_test_digit(store, index, variants, focus, session_models)
        note = test_digit_note(store, index)
    else:
        shown, note = reconstruct(store, image, variants, focus, session_models), ""
    return (*shown, gr.skip() if reports_problem(shown[N_OUTPUTS - 2]) else note)


def redraw(
    store: ModelStore, digit: np.ndarray | None, note: str | None, variants: list[str] | None, focus: str | None,
    session_models: dict | None = None,
) -> tuple:
    """The Models and code controls: reconstruct_digit() on the digit last shown (re-reading the sketchpad would
    drop an upload for an empty canvas); while the first view is up, on its test digit, which first_view keeps out
    of the drawing state Denoise reads."""
    if digit is None and isinstance(note, str) and note.startswith(FIRST_NOTE):
        shown = first_view(store, variants, focus, session_models)[:N_OUTPUTS]
    else:
        shown = reconstruct_digit(store, digit, variants, focus, session_models, empty=NOTHING_YET)
    return (*shown, [variants, focus])  # what the next stroke is reconstructed with (reconstruct_drawing)


def build_draw_tab(store: ModelStore, session_models: gr.State, demo: gr.Blocks | None = None) -> DrawTab:
    """The tab's UI; with `demo`, a test digit's reconstructions are shown when a page loads."""
    all_names = [c for _, c in store.choices()]
    sizes = sorted({m.latent_dim for m in store.models.values()}) or [0]
    span = f"{sizes[0]} to {sizes[-1]} numbers" if len(sizes) > 1 else f"{sizes[0]} numbers"
    gr.Markdown(
        f"Draw a digit: every autoencoder squeezes it through its code ({span}, against 784 pixels) and "
        "redraws it. The drawing is first prepared as MNIST prepared its digits (cropped, scaled so its longer side "
        "is 20 px, centred by mass in a 28×28 frame), with one step more for a hand on a screen: its stroke is "
        "brought to the usual pen width of MNIST's digits."
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=4, min_width=300):
            # above the canvas: the first screen shows a test digit's panels beside an empty canvas, and this note
            # saying so sat below the fold, under the digit buttons
            picked = gr.Markdown("", elem_classes=["status-line"], elem_id="draw-picked")
            sketch = gr.Sketchpad(
                label="Draw here", type="numpy", image_mode="RGBA", canvas_size=(CANVAS, CANVAS),
                fixed_canvas=True, layers=False, transforms=(), format="png", height=CANVAS + 60,
                brush=gr.Brush(default_size=14, colors=["#000000"], color_mode="fixed"),
                elem_id="draw-sketchpad",
            )
            gr.HTML("", js_on_load=SELECT_BRUSH_JS, elem_id="draw-select-brush")
            glance = gr.HTML("", elem_id="draw-glance", padding=False)
            gr.Markdown("Put a real test digit on the canvas:")
            digit_buttons = []
            for row in (range(5), range(5, 10)):
                with gr.Row(elem_classes=["digit-buttons"]):
                    digit_buttons += [gr.Button(str(d), size="sm", min_width=0) for d in row]
            random_button = gr.Button("Random test digit", size="sm")
            with gr.Accordion("…or upload a picture of a digit", open=False):
                upload = gr.Image(label="Upload", type="filepath", sources=["upload", "clipboard"], height=200,
                                  elem_id="draw-upload")
        with gr.Column(scale=7):
            with gr.Row(equal_height=True):
                # a column each, with a minimum width: on a phone the three stack instead of squeezing side by side
                with gr.Column(min_width=200):
                    # inline like the reconstructions: as a gr.Image it cost ~5 ms of server work per stroke
                    seen = gr.HTML("", label="What the model sees", show_label=True, container=True,
                                   elem_id="draw-seen", min_height=IMAGE_PX)
                with gr.Column(min_width=200):
                    reading = gr.Label(label="Classifier reads", num_top_classes=3, elem_id="draw-reading")
                with gr.Column(min_width=200):
                    rank = gr.HTML(label="Reconstruction rank", show_label=True, container=True,
                                   elem_id="draw-rank", min_height=IMAGE_PX)
            # errors of models with codes of 2 and 128 numbers side by side read as a ranking of the methods
            differ = (f"code sizes differ, {sizes[0]}–{sizes[-1]} numbers, see “What are these models?”; "
                      if len(sizes) > 1 else "")
            # a heading, not the component's label: Gradio lays a label over the content, and the longer text ran
            # over the first row of tiles on a phone
            gr.Markdown(f"**Reconstructions** (MSE per pixel; {differ}the CVAE is given the class the classifier "
                        "reads)", elem_id="draw-gallery-heading")
            reconstructions = gr.HTML("", label="Reconstructions", show_label=False, container=True,
                                      elem_id="draw-gallery", min_height=IMAGE_PX)
            with gr.Row():
                # min_width: on a phone the list takes the whole width, not half of it with a name a line
                variants = gr.CheckboxGroup(store.choices(), value=all_names, label="Models", scale=3, min_width=320)
                focus = gr.Dropdown(store.choices(), value=DEFAULT_FOCUS if DEFAULT_FOCUS in all_names else
                                    (all_names[0] if all_names else None), label="Show the code and rank of",
                                    scale=1)
            with gr.Accordion("What are these models?", open=False):
                gr.Markdown(
                    "Each squeezes the 784 pixels of a digit into a short code (of *code size* numbers) and redraws "
                    "the digit from it; they differ in what they are trained to do besides.\n\n"
                    + store.models_markdown(), elem_id="draw-models")
            # no legend: for the VAE and CVAE the line under the plot (code_note) says what the grey bars are and gives
            # σ's range; no σ in the tooltip, which gave the models without one "σ NaN" (Gradio keeps a tooltip's
            # columns for every value the plot shows)
            # "hover", not "tap": on a touch screen the plot shows no values, and "The code's numbers" below does
            code = gr.BarPlot(x="dim", y="value",
                              label="Code of the digit shown (VAE, CVAE: the posterior mean μ; hover over a bar, or "
                                    "see its numbers below)",
                              sort="x", y_title="value", x_title="code dimension", x_axis_labels_visible=False,
                              color=CARRIES, colors_in_legend=[], elem_id="draw-code")
            code_words = gr.Markdown(elem_id="draw-code-note", elem_classes=["meter-text"])
            # the plot's values without a mouse: a touch screen shows no hover box, a screen reader only "Vega
            # visualization"
            with gr.Accordion("The code's numbers", open=False):
                code_numbers = gr.Dataframe(interactive=False, show_label=False, elem_id="draw-code-numbers")
            status = gr.Markdown(label="Status", elem_classes=["status-line"], elem_id="draw-status")
            said = gr.Markdown("", elem_classes=["status-line", "unseen"], elem_id="draw-said")  # TILES_JS

    digit = gr.State(None)
    outputs = [seen, reading, rank, reconstructions, code, status, digit]
    picked_index = gr.State(None)  # the test digit a button put on the canvas, until a stroke or Clear
    visit = gr.State(new_visit())
    # the sketchpad sends its strokes as blobs that only Gradio's preprocessing can assemble, so this event keeps
    # it; uploads (which may be anything) skip it, and inputs.to_mnist reports what is wrong with them. A stroke
    # read (not one from before a test digit was put there) forgets that digit.
    controls = gr.State(None)  # [Models, code choice] as the visitor last set them (redraw)
    drawn = sketch.change(
        endpoint(reconstruct_drawing, store), [sketch, variants, focus, session_models, picked_index, visit, controls],
        [*outputs, picked_index], api_name="reconstruct_drawing", trigger_mode="always_last", show_progress="hidden",
    )
    # and its note goes. Chained, not a listener of its own: a change event Gradio 6.31's sketchpad fires of itself a
    # second or two after a button set its value (while it loads the picture) reaches such a listener but not the
    # reconstruction, and cleared the note under an unchanged canvas
    drawn.then(lambda index: gr.skip() if index is not None else "", picked_index, picked, queue=False,
               show_progress="hidden", api_visibility="private")
    # nothing read from the sketchpad: an emptied canvas has nothing to send
    sketch.clear(partial(cleared, store), None, [*outputs, picked_index, picked],
                 queue=False, show_progress="hidden", api_visibility="private")
    # preprocess=False: an upload that is not an image gets the message inputs.to_mnist gives it, not "Error";
    # uploads_only: a request's file path is then read only from Gradio's upload folder
    upload.upload(endpoint(reconstruct, store, missing=NO_UPLOAD, blank=EMPTY_UPLOAD, uploads_only=True),
                  [upload, variants, focus, session_models], outputs, api_name="reconstruct", preprocess=False).then(
        upload_note, status, picked, queue=False, show_progress="hidden", api_visibility="private")
    upload.upload(put_a_digit, visit, None, queue=False, show_progress="hidden", api_visibility="private")
    upload.clear(partial(back_to_canvas, store), [sketch, picked_index, variants, focus, session_models],
                 [*outputs, picked], show_progress="hidden", api_visibility="private")
    # a refused upload or value changes nothing: what is still on show is grey, as in the Denoise tab
    results = [seen, reading, rank, reconstructions, code, glance]
    status.change(refused_look, [status, reconstructions], results, queue=False, show_progress="hidden",
                  api_visibility="private")
    gr.on([reconstructions.change, rank.change], None, [reconstructions, reading, rank], [glance, said],
          js=TILES_JS, queue=False, show_progress="hidden", api_visibility="private")
    for control in (variants, focus):
        control.input(partial(redraw, store), [digit, picked, variants, focus, session_models], [*outputs, controls],
                      show_progress="hidden", api_visibility="private", trigger_mode="always_last")
    # A value set by an event does not make the sketchpad's reconstruction run, so each example chains its own.
    # No progress overlay on the sketchpad: put over strokes, Gradio 6.31 never took it away again, and it covered
    # the canvas and its toolbar for good (the example itself is instant).
    # The reconstruction reads the index from `clicked`, which only the buttons set: picked_index is cleared by a
    # stroke read after the click, and a stroke from before it could once clear it too (changed_since_test_digit).
    clicked = gr.State(None)
    examples = [(b, partial(put_test_digit, store, digit=d)) for d, b in enumerate(digit_buttons)]
    for button, put_digit in [*examples, (random_button, partial(put_test_digit, store))]:
        button.click(put_digit, visit, [sketch, picked, picked_index, clicked], api_visibility="private", queue=False,
                     show_progress="hidden").then(
            partial(reconstruct_test_digit, store), [clicked, variants, focus, session_models], outputs,
            show_progress="hidden", api_visibility="private")
    follow_session(session_models, [(focus, lambda s: store.choices(s))])
    # the line under the code follows the plot, whichever event drew it; in the browser only (the API has the table)
    code.change(partial(code_note, store), [code, focus, session_models], code_words, queue=False,
                show_progress="hidden", api_visibility="private")
    code.change(code_numbers_table, code, code_numbers, queue=False, show_progress="hidden", api_visibility="private")

    if demo is not None and all_names:
        demo.load(partial(first_view_on_load, store), [variants, focus, visit], [*outputs, picked],
                  show_progress="hidden", api_visibility="private")

    # A model the visitor has just trained joins the Models list ticked, and its reconstruction appears at once (with
    # a test digit on show, no stroke comes to redraw the tiles)
    offer, _ = tick_new_session_models(session_models, variants, store.choices)
    offer.then(
        partial(redraw, store), [digit, picked, variants, focus, session_models], [*outputs, controls],
        show_progress="hidden", api_visibility="private", trigger_mode="always_last")
    return DrawTab(sketch=sketch, digit=digit)
