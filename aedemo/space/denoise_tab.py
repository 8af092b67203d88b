"""Denoise: corrupt a digit, then let the denoising AE, the plain AEs and PCA try to restore it."""

from __future__ import annotations

from functools import partial
from typing import Any

import gradio as gr
import numpy as np
import torch

from ..data import one_per_class
from ..evaluate import DENOISE_SETTINGS, PSNR_CAP_DB, psnr, reconstruct_all
from ..noise import NOISE_KINDS, TRAIN_STRENGTH, corrupt
from . import images
from .inputs import (
    MAX_UI_SEED,
    UserInputError,
    a_digit,
    another_seed,
    as_batch,
    number_said,
    parse_float,
    parse_seed,
    quoted,
    to_mnist,
)
from .store import ModelStore, ModelUnavailable, short_name
from .ui import (
    endpoint,
    follow_session,
    live_slider,
    on_show_state,
    problem,
    reports_problem,
    results_look,
    reveal_on_click,
    unchanged,
)

SOURCES = ("Test digit", "My drawing", "Upload")
KIND_LABELS = {"gaussian": "Gaussian", "salt_pepper": "Salt & pepper", "masking": "Masking (occlusion)"}
COMPARED = ("dae", "ae", "conv", "pca")
N_OUTPUTS = 3  # tiles, table, status
IDENTICAL_DB = PSNR_CAP_DB - 1e-3  # psnr() caps identical images: from here a PSNR is shown as "identical"
# The averages at the chosen noise are over every AVERAGE_EVERY-th test digit: 1,000 of the 10,000, from both halves
# of the test set (its last 5,000, from NIST's own test set, are the harder). Over 10 seeds a mean moved by at most
# 0.17 dB, except under small masking squares (strength 0.2 or less: few digits hit, up to 2.7 dB); at the two
# settings metrics.json scores, every model's fell within 0.08 dB of its 10,000-digit figure (seeds 0-2).
AVERAGE_EVERY = 10
AVERAGE_BATCH = 250  # digits a model restores at a time: the VAE adds 31 MiB to the peak RSS, 171 MiB at 1,000
# The glance: on a phone the results stack ~400-800 px under the settings that change them, and moving the Strength
# slider changed nothing in view; a row of the same tiles, small, under it (hidden on a wider screen), from the tab's
# opening on. Its tiles are hidden from screen readers, which hear the results' own summary (results_said).
GLANCE_JS = """(tiles) => tiles ? '<div aria-hidden="true">' + tiles + '</div>' +
  '<p class="glance-link"><a href="#denoise-table">PSNR and SSIM of each ↓</a></p>' : ''"""


def _clean_digit(
    store: ModelStore, source: str, test_index: Any, upload: Any, drawing: Any, uploads_only: bool = False
) -> tuple[torch.Tensor, int | None]:
    """The clean [1,1,28,28] digit from the chosen source and its label when known."""
    if source == "Test digit":
        return store.test_digit(test_index)
    if source == "My drawing":
        if isinstance(drawing, np.ndarray) and drawing.shape == (28, 28):  # the Draw tab's digit, already 28x28
            return as_batch(drawing), None
        digit = to_mnist(drawing)
        if digit is None:
            raise UserInputError("There is no drawing yet: draw a digit in the Draw tab first.")
        return as_batch(digit), None
    if source == "Upload":
        if upload is None:
            raise UserInputError("Upload an image of a digit first.")
        digit = to_mnist(upload, uploads_only)
        if digit is None:
            raise UserInputError("No ink found in the uploaded image.")
        return as_batch(digit), None
    raise UserInputError(f"Unknown source {quoted(source)}; choose one of: {', '.join(SOURCES)}.")


def _noise_settings(kind: Any, strength: Any, seed: Any) -> tuple[str, float, int]:
    """The noise's kind, strength and seed as the Denoise tab's fields and its API give them, checked; a
    UserInputError says what is wrong."""
    if kind not in NOISE_KINDS:
        raise UserInputError(f"Unknown noise kind {quoted(kind)}; choose one of: {', '.join(NOISE_KINDS)}.")
    strength = parse_float(strength, "Strength")
    seed = parse_seed(seed)
    if not 0.0 <= strength <= 1.0:
        raise UserInputError(f"Strength must be between 0 and 1, not {number_said(strength)}.")
    return kind, strength, seed


def _compared(extra: Any) -> list[Any]:
    """The models the tab compares: COMPARED, and `extra` when one is chosen (an API call can send anything)."""
    names: list[Any] = list(COMPARED)
    if extra and extra not in names:
        names.append(extra)
    return names


@torch.no_grad()
def denoise(
    store: ModelStore, source: str = "Test digit", test_index: Any = 0, upload: Any = None, drawing: Any = None,
    kind: str = "gaussian", strength: Any = 0.5, seed: Any = 0, extra: str | None = None,
    session_models: dict | None = None, *, uploads_only: bool = False,
) -> tuple:
    """Corrupt a clean digit and restore it with the denoising AE, the plain AE, the conv AE and PCA.

    API inputs: `source` ("Test digit", "My drawing" or "Upload"), `test_index` (0-9999, for "Test digit"),
    `upload` (an image file, for "Upload": `handle_file("digit.png")`), `kind` ("gaussian", "salt_pepper" or
    "masking"), `strength` (0-1: noise std, fraction of pixels hit, or side of the occluding square relative to the
    image), `seed` (integer), `extra` (one more model to compare, or None). Returns clean | noisy | each model as
    HTML tiles (28x28 PNGs inline, each `<figure data-model=... data-psnr=... data-ssim=...>`;
    `aedemo.space.images.read_tiles` reads them back), a Markdown table of PSNR and SSIM against the clean digit,
    and a status line.

    Args:
        store: the models. session_models: the browser session's own (a gr.State).
        drawing: the Draw tab's digit, kept per session (a gr.State): "My drawing" denoises it.
        uploads_only: `upload` came in a request, so a file is read only from Gradio's upload folder (see
            inputs.to_mnist).
    """
    try:
        x, label = _clean_digit(store, source, test_index, upload, drawing, uploads_only)
        kind, strength, seed = _noise_settings(kind, strength, seed)
    except UserInputError as e:
        return (*unchanged(N_OUTPUTS - 1), problem(str(e)))

    noisy = corrupt(x, kind, strength, torch.Generator().manual_seed(seed))
    rows = [("clean", "Clean", x), ("noisy", "Noisy", noisy)]  # (key, caption name, image)
    notes = []
    for name in _compared(extra):
        try:
            if label is None and store.get(name, session_models).conditional:
                label = store.predicted_label(x)  # only the CVAE needs the class; classify only for it
            model, labels = store.get_for_digit(name, session_models, label)
        except ModelUnavailable as e:
            notes.append(str(e))
            continue
        # a conditional model is told the class (the true one, or the classifier's reading): said, as the Draw tab
        # does, lest its score be read as denoising alone
        caption = f"{short_name(name)} (as {int(labels[0])})" if model.conditional else short_name(name)
        rows.append((name, caption, model.reconstruct(noisy.to(model.device), labels).cpu()))

    outs = torch.cat([r for _, _, r in rows])
    scores_psnr = psnr(outs, x.expand_as(outs)).tolist()
    scores_ssim = images.ssim(outs, x.expand_as(outs)).tolist()
    tiles = []
    table = ["| Image | PSNR (dB) | SSIM |", "|---|---:|---:|"]
    # the best figure of each column, apart (bolding a whole row by PSNR set SSIM's worst figure in bold), as shown:
    # models tied at the figures shown are all bold
    best_psnr, best_ssim = (round(max(col[2:]), digits) if len(rows) > 2 else None
                            for col, digits in ((scores_psnr, 2), (scores_ssim, 3)))
    pictures = images.to_uint8_batch(outs)
    for i, ((key, name, _), p, s) in enumerate(zip(rows, scores_psnr, scores_ssim, strict=True)):
        if i == 0:
            tiles.append((pictures[i], name, {"model": key}))
            continue
        # psnr() caps identical images (no noise at strength 0): "100.0 dB" read as a measurement
        identical = p >= IDENTICAL_DB
        shown = "identical" if identical else f"{p:.1f} dB"
        tiles.append((pictures[i], f"{name} · {shown}", {"model": key, "psnr": f"{p:.4f}", "ssim": f"{s:.4f}"}))
        cell = "∞ (identical)" if identical else f"{p:.2f}"
        model = i >= 2  # not the noisy input
        row = name if model else "Noisy input (no model)"  # the figures to beat, in a column of models' outputs
        table.append(f"| {row} | {_bold(cell, model and round(p, 2) == best_psnr)} | "
                     f"{_bold(f'{s:.3f}', model and round(s, 3) == best_ssim)} |")
    return images.tiles_html(tiles), "\n".join(table), " ".join(notes)


def results_said(table: str | None) -> str:
    """denoise()'s table in a sentence, for a screen reader (a hidden live line): the tiles and the table say nothing
    to it as they change, and the status line is empty while all goes well, so a Denoise pressed was silent."""
    rows = [[cell.strip().strip("*") for cell in line.strip().strip("|").split("|")]
            for line in (table or "").splitlines()[2:]]
    if len(rows) < 2:
        return ""

    def score(cell: str) -> str:
        return "identical to it" if cell.startswith("∞") else f"{cell} dB PSNR"

    noisy, models = rows[0], rows[1:]
    try:  # a table denoise() did not write (a request's own) has nothing to say
        best = max(models, key=lambda row: float("inf") if row[1].startswith("∞") else float(row[1]))
        noisy_psnr = noisy[1]
    except (ValueError, IndexError):
        return ""
    # "closest", not "restored best": under a light mask every model lands further from it than the noisy input
    return f"Closest to the clean digit: {best[0]}, {score(best[1])}; the noisy input, {score(noisy_psnr)}."


def _bold(text: str, bold: bool) -> str:
    return f"**{text}**" if bold else text


def averages_markdown(store: ModelStore, names: tuple[str, ...] = COMPARED) -> str:
    """The compared models' mean PSNR over the 10,000 test digits at the two settings the evaluation scores, from
    their metrics.json: one digit can mislead. Empty when no model has the figures."""
    settings = list(DENOISE_SETTINGS.items())
    heads = [f"{KIND_LABELS[k]} {s:g}: noisy → restored" for k, s in settings]
    figures = {name: store.test_figures(name) for name in names}
    figures = {n: f for n, f in figures.items() if all(f"{k}_denoised_psnr" in f for k, _ in settings)}
    if not figures:
        return ""
    # each column's best in bold, as shown (as in the tables above it): a tie at the figure shown is bold twice
    best = {k: max(round(f[f"{k}_denoised_psnr"], 1) for f in figures.values()) for k, _ in settings}
    rows = []
    for name, f in figures.items():
        restored = {k: f[f"{k}_denoised_psnr"] for k, _ in settings}
        cells = [f"{f[k + '_noisy_psnr']:.1f} → {_bold(f'{restored[k]:.1f}', round(restored[k], 1) == best[k])} dB"
                 for k, _ in settings]
        rows.append(f"| {short_name(name)} | " + " | ".join(cells) + " |")
    return "\n".join([f"| Model | {' | '.join(heads)} |", "|---|" + "---|" * len(heads), *rows])


def average_digits(store: ModelStore) -> tuple[torch.Tensor, torch.Tensor]:
    """The digits the averages at the chosen noise are over: every AVERAGE_EVERY-th test digit, float
    [1000,1,28,28], and their labels."""
    _, x, y = store.test_set
    return x[::AVERAGE_EVERY].contiguous(), y[::AVERAGE_EVERY].contiguous()


@torch.no_grad()
def sample_averages(
    store: ModelStore, kind: str, strength: float, seed: int, names: list[Any],
    session_models: dict | None = None,
) -> dict[str, Any]:
    """Mean PSNR (aedemo.evaluate.psnr, dB) of average_digits() corrupted by `kind` at `strength` (one torch
    generator seeded with `seed` for the whole batch, as aedemo.evaluate does), and of each model's restorations.

    Returns {"digits": how many, "changed": how many the noise changed, "noisy": their mean PSNR (None when none
    changed), "restored": {name: mean PSNR of its restorations}, "notes": [why a model is missing]}. The means are
    over the changed digits only: an unchanged one (a mask on background, strength 0) has an infinite PSNR, which
    psnr() caps at PSNR_CAP_DB. When the noise changed none, "restored" is over all of them, the clean digits.
    A conditional model (the CVAE) is given each digit's true class."""
    x, y = average_digits(store)
    noisy = corrupt(x, kind, strength, torch.Generator().manual_seed(seed))
    noisy_psnr = psnr(noisy, x)
    changed = noisy_psnr < IDENTICAL_DB
    counted = changed if changed.any() else torch.ones_like(changed)
    restored, notes = {}, []
    for name in names:
        try:
            model = store.get(name, session_models)
        except ModelUnavailable as e:
            notes.append(str(e))
            continue
        out = reconstruct_all(model, noisy.to(model.device), y.to(model.device), AVERAGE_BATCH).cpu()
        restored[name] = psnr(out, x)[counted].mean().item()
    return {
        "digits": len(x), "changed": int(changed.sum()),
        "noisy": noisy_psnr[changed].mean().item() if changed.any() else None,
        "restored": restored, "notes": notes,
    }


STRENGTH_MEANS = {
    "gaussian": "the standard deviation of the noise added, before clipping to [0, 1]",
    "salt_pepper": "the fraction of pixels set to black or white",
    "masking": "the side of a black square at a random place, as a fraction of the image's 28 px (a square that "
               "falls on background only changes nothing)",
}


# Where the Strength slider goes when a kind is chosen: the two settings aedemo.evaluate scores the DAE at, and for
# masking a square of 40 % of the side (11 px), inside what the DAE trained on. One strength for all three left salt
# & pepper at 0.5 from the Gaussian's opening, half the pixels black or white: past its training, little digit left.
KIND_STRENGTH = {**DENOISE_SETTINGS, "masking": 0.4}


def strength_for(kind: Any) -> dict:
    """The Strength slider's update for a newly chosen kind of noise: that kind's opening strength and what a
    strength means for it (nothing for a value that names no kind: the handler refuses it)."""
    if kind not in KIND_STRENGTH:
        return gr.skip()
    return gr.Slider(value=KIND_STRENGTH[kind], info=strength_info(kind))


def strength_info(kind: str) -> str:
    """What the Strength slider means for this kind of noise, and how far the DAE's training went: the three kinds
    in one text were eleven lines beside the slider's box on a phone."""
    return (f"{STRENGTH_MEANS[kind][:1].upper()}{STRENGTH_MEANS[kind][1:]}. The DAE trained on strengths from 0 to "
            f"{TRAIN_STRENGTH[kind]}: past that it meets noise it never saw.")


def denoise_averages(
    store: ModelStore, kind: str = "gaussian", strength: Any = 0.5, seed: Any = 0, extra: str | None = None,
    session_models: dict | None = None,
) -> tuple[str, str]:
    """The Denoise tab's models on average at the chosen noise: sample_averages() as a Markdown table (per model:
    mean PSNR noisy → restored and the gain, in dB), and a status line; bad input leaves the table as it is and says
    why in the status. The /denoise_averages endpoint is score_settings()."""
    try:
        kind, strength, seed = _noise_settings(kind, strength, seed)
    except UserInputError as e:
        return gr.skip(), problem(str(e))
    figures = sample_averages(store, kind, strength, seed, _compared(extra), session_models)
    restored, noisy, n = figures["restored"], figures["noisy"], figures["digits"]
    lines = [f"{KIND_LABELS[kind]} {strength:g}, seed {seed}: mean PSNR in dB over {n:,} test digits (every "
             f"{AVERAGE_EVERY}th)."]
    if noisy is None:
        lines[0] += " The noise changed none of them: the models restore the clean digits."
    elif figures["changed"] < n:
        lines[0] += (f" The noise left {n - figures['changed']:,} of them unchanged (infinite PSNR): the means are "
                     f"over the other {figures['changed']:,}.")
    if restored:
        best = max(restored, key=restored.get)
        lines += ["", "| Model | Noisy → restored | Gain |", "|---|---:|---:|"]
        for name, db in restored.items():
            mark = "**" if name == best else ""
            before = "∞ (identical)" if noisy is None else f"{noisy:.1f}"
            # the difference of the figures shown: "9.4 → 9.3 | +0.0" read as a contradiction; + 0.0: no "-0.0"
            gain = "–" if noisy is None else f"{mark}{round(db, 1) - round(noisy, 1) + 0.0:+.1f}{mark}"
            told = " (told each digit's class)" if _conditional(store, name, session_models) else ""
            shown = short_name(name) + told
            lines.append(f"| {mark}{shown}{mark} | {before} → {mark}{db:.1f}{mark} | {gain} |")
    return "\n".join(lines), " ".join(figures["notes"])


def averages_said(table: str | None) -> str:
    """denoise_averages()'s table in a sentence, for a screen reader (a hidden live line): the table itself is too
    long to be read out as it arrives, and a scoring that went well leaves the status line empty, so it was silent."""
    lines = (table or "").splitlines()
    best = next(([cell.strip().replace("**", "") for cell in line.strip().strip("|").split("|")]
                 for line in lines if line.startswith("| **")), None)
    if not lines or best is None or len(best) != 3:  # nothing scored, or a table denoise_averages() did not write
        return ""
    name, figures, gain = best
    said = f"{lines[0].split(':', 1)[0]}: {name} restores best on average, {figures.split('→')[-1].strip()} dB"
    return f"{said}, {gain} dB over the noisy digits." if gain not in ("–", "") else f"{said}."


def _conditional(store: ModelStore, name: str, session_models: dict | None) -> bool:
    try:
        return store.get(name, session_models).conditional
    except ModelUnavailable:
        return False


def _scored_settings(kind: Any, strength: Any, seed: Any, extra: Any) -> tuple | None:
    """The settings as denoise_averages reads them, or None where it refuses them."""
    try:
        return (*_noise_settings(kind, strength, seed), extra or "")
    except UserInputError:
        return None


def score_settings(
    store: ModelStore, kind: Any, strength: Any, seed: Any, extra: Any, session_models: dict | None = None
) -> tuple:
    """The Denoise tab's models on average at the chosen noise, over 1,000 test digits (every 10th).

    API inputs: `kind`, `strength`, `seed` and `extra` as for /denoise. Returns a Markdown table (per model: mean
    PSNR noisy → restored and the gain, in dB) and the tab's status line, which the figures leave as it is: it
    speaks of the digit denoised above (so an empty update when they come).

    Args:
        store: the models. session_models: the browser session's own (a gr.State).
    Also returns, for the tab (a gr.State, for averages_note), the settings the table is now for, taken with the
    figures: the fields may change while they are computed.
    """
    table, status = denoise_averages(store, kind, strength, seed, extra, session_models)
    refused = reports_problem(status)
    # nothing to say: the status line keeps what it says of the digit denoised above
    return table, status or gr.skip(), gr.skip() if refused else _scored_settings(kind, strength, seed, extra)


def averages_note(scored: Any, kind: Any, strength: Any, seed: Any, extra: Any) -> str:
    """A line over the averages when they are for other settings than the fields show; empty otherwise."""
    if not scored or _scored_settings(kind, strength, seed, extra) == tuple(scored):
        return ""
    return "These averages are for other settings: press the button to score the current ones."


def extra_choices(store: ModelStore, session_models: dict | None = None) -> list[tuple[str, str]]:
    """The "Also compare" menu: (none), then every model not compared already (picking one of those did nothing)."""
    return [("(none)", "")] + [c for c in store.choices(session_models) if c[1] not in COMPARED]


def picked_in_gallery(store: ModelStore, index: Any, gallery_digits: list[int]) -> Any:
    """The picker's highlight on the digit denoised, or on none when that is not one of the gallery's (an index
    typed, a random one): the highlight stayed on the last digit clicked, beside another digit's results. An index
    the denoising refuses (empty, 99999) moves nothing: the results stay, and so does the mark on their digit."""
    try:
        store.test_digit(index)
    except UserInputError:
        return gr.skip()
    return gr.Gallery(selected_index=gallery_digits.index(index) if index in gallery_digits else None)


def first_of_each_class(store: ModelStore) -> list[int]:
    """Index of the first test digit of each class 0-9: the gallery to pick from."""
    return one_per_class(store.test_set[2]).tolist()


def random_index(store: ModelStore) -> tuple:
    return int(np.random.default_rng().integers(len(store.test_set[2]))), "Test digit"


PICKER_CLASSES = ["pixels", "digit-gallery"]


def picker_look(source: str | None) -> tuple:
    """The test-digit picker greys out while another source is denoised (a click on it still switches back), and
    the upload box opens when Upload is chosen: where to put the picture."""
    greyed = [] if source == "Test digit" else ["not-in-use"]
    return gr.Gallery(elem_classes=PICKER_CLASSES + greyed), (gr.Accordion(open=True) if source == "Upload"
                                                              else gr.skip())


def denoise_drawing_again(store: ModelStore, source: Any, *inputs: Any) -> tuple:
    """denoise() of the Draw tab's digit when that is the source, as the tab comes into view: the visitor may have
    drawn another digit meanwhile, and the tab showed the one before (under its scores) until Denoise was pressed.
    Any other source: nothing changes."""
    if source != "My drawing":
        return unchanged(N_OUTPUTS)
    return denoise(store, source, *inputs, uploads_only=True)


def drawing_again_if_on_show(store: ModelStore, *inputs: Any) -> tuple:
    """denoise_drawing_again() for a new Draw tab digit while the tab is on show (the last of the inputs): a stroke
    whose reconstruction was still running when the visitor switched tabs (a second, on two cores) stored its digit
    after the tab had denoised the one before, which stayed. Nothing otherwise: opening the tab denoises it then."""
    *denoise_inputs, on_show = inputs
    return denoise_drawing_again(store, *denoise_inputs) if on_show is True else unchanged(N_OUTPUTS)


def build_denoise_tab(
    store: ModelStore, session_models: gr.State, drawing: gr.State | None = None, tab: gr.Tab | None = None,
    tabs: gr.Tabs | None = None,
) -> None:
    """The tab's UI; `drawing` is the Draw tab's state holding the current drawing as a 28x28 digit, denoised again
    as `tab` comes into view when it is the source."""
    gr.Markdown(
        "Corrupt a digit, then compare how the **denoising AE** (DAE, trained on corrupted inputs), the plain AE, "
        "the convolutional one (Conv) and **PCA** restore it. Scores are against the clean digit: higher is better. "
        "Only the DAE saw noise in training: the others redraw much of it as ink, and may score below the noisy "
        "input itself."
    )
    test_images = store.test_set[0]
    gallery_digits = first_of_each_class(store)
    with gr.Row(equal_height=False):
        with gr.Column(scale=4, min_width=300):
            source = gr.Radio(list(SOURCES), value="Test digit", label="Source")
            gr.Markdown("Pick a test digit (or type any index below):")
            digits = gr.Gallery(
                # captioned for screen readers, which read the caption as the picture's alt text (hidden in CSS)
                [(images.show(test_images[i], 2), f"Test digit #{i}, {a_digit(int(store.test_set[2][i]))}")
                 for i in gallery_digits], label="Test digits", object_fit="contain",
                columns=10, height="auto", allow_preview=False, format="png", show_label=False, buttons=[],
                elem_classes=PICKER_CLASSES, elem_id="denoise-digits", interactive=False, selected_index=7,
            )
            with gr.Row():
                test_index = gr.Number(value=gallery_digits[7], label="Test digit index (0-9999)", precision=0,
                                       minimum=0, maximum=len(store.test_set[2]) - 1, scale=2)
                # "Random test digit" wrapped onto two lines
                random_button = gr.Button("Random digit", scale=1, elem_classes=["beside-field"])
            with gr.Accordion("Upload a picture", open=False) as upload_box:
                upload = gr.Image(label="Upload", type="filepath", sources=["upload", "clipboard"], height=180,
                                  elem_id="denoise-upload")
            kind = gr.Radio([(v, k) for k, v in KIND_LABELS.items()], value="gaussian", label="Noise")
            strength = live_slider(0.0, 1.0, value=KIND_STRENGTH["gaussian"], step=0.05, label="Strength",
                                   info=strength_info("gaussian"), elem_id="denoise-strength")
            glance = gr.HTML("", elem_id="denoise-glance", padding=False)
            with gr.Row():
                seed = gr.Number(value=0, label="Seed", precision=0, minimum=0, maximum=MAX_UI_SEED, scale=2,
                                 elem_id="denoise-seed")
                new_noise = gr.Button("New noise", scale=1, elem_classes=["beside-field"])
            extra = gr.Dropdown(extra_choices(store), value="", label="Also compare", elem_id="denoise-extra")
            go = gr.Button("Denoise", variant="primary")
        with gr.Column(scale=7):
            first = denoise(store, "Test digit", gallery_digits[7], None, None, "gaussian",
                            KIND_STRENGTH["gaussian"], 0)
            if not isinstance(first[0], str):  # nothing to show (no models): start empty, say why
                first = ("", "", first[2])
            results = gr.HTML(first[0], label="Clean | noisy | restored", show_label=False, elem_id="denoise-gallery")
            table = gr.Markdown(first[1], label="PSNR and SSIM", elem_id="denoise-table")
            gr.Markdown(
                "PSNR = 10·log₁₀(1 / MSE) in dB, pixels in [0, 1]: 3 dB more is about half the squared error. SSIM "
                "(structural similarity, Wang et al. 2004) compares local brightness, contrast and structure: 1 is "
                "identical, 0 no resemblance (a little below 0: none, and slightly opposed). One digit can mislead: "
                "try others, and other seeds.",
                elem_classes=["meter-text"])
            with gr.Accordion("Averages at these settings (PSNR)", open=True):
                n_average = len(average_digits(store)[0])
                gr.Markdown(
                    f"The button scores the models above on {n_average:,} test digits, with the noise you chose. "
                    "Another seed moves the means by up to 0.2 dB; under masking of strength 0.2 or less, by up to "
                    "3 dB.", elem_classes=["meter-text"])
                score = gr.Button(f"Score these settings on {n_average:,} test digits", size="sm",
                                  elem_id="denoise-score")
                sample_note = gr.Markdown("", elem_id="denoise-sample-note")
                sample_table = gr.Markdown("", label="Averages over 1,000 test digits",
                                           elem_id="denoise-sample-averages")
                sample_said = gr.Markdown("", elem_classes=["status-line", "unseen"], elem_id="denoise-sample-said")
            averages = averages_markdown(store)
            if averages:
                with gr.Accordion("Averages over the 10,000 test digits (PSNR)", open=False):
                    gr.Markdown(averages, elem_id="denoise-averages")
            status = gr.Markdown(first[2], label="Status", elem_classes=["status-line"], elem_id="denoise-status")
            said = gr.Markdown(results_said(first[1]), elem_classes=["status-line", "unseen"], elem_id="denoise-said")
    scored = gr.State(None)  # the settings sample_table is for: (kind, strength, seed, extra)

    drawing_input = drawing if drawing is not None else gr.State(None)
    inputs = [source, test_index, upload, drawing_input, kind, strength, seed, extra, session_models]
    reveal_on_click(go, "denoise-gallery")
    # a slider's .input, not .release: a value typed in its box and Enter fires only .input, and was left unapplied
    # (the tiles showed another strength than the box); while dragging, always_last runs only the latest value.
    # A number typed in a box applies on Enter or when the box is left: nothing said that Enter was needed
    denoised = endpoint(denoise, store, uploads_only=True)
    gr.on(
        [go.click, source.input, test_index.submit, test_index.blur, strength.input, seed.submit, seed.blur,
         extra.input],
        denoised, inputs, [results, table, status], api_name="denoise", preprocess=False, trigger_mode="always_last",
    )
    # a button, not every change: on one core (the app's OMP_NUM_THREADS=1) the averages of the four compared models
    # take 0.16-0.19 s, 0.5-0.65 s with the VAE as the extra, where the one digit takes 3 ms; one scoring at a time,
    # so a crowd pressing it cannot starve the other tabs
    score.click(endpoint(score_settings, store), [kind, strength, seed, extra, session_models],
                [sample_table, status, scored], api_name="denoise_averages", preprocess=False,
                concurrency_id="denoise_averages", concurrency_limit=1, show_progress_on=[sample_table])
    # preprocess=False: a value out of a field's range is for the handlers to answer; Gradio's own check raised
    gr.on([kind.change, strength.change, seed.change, extra.change, scored.change], averages_note,
          [scored, kind, strength, seed, extra], sample_note, queue=False, show_progress="hidden",
          api_visibility="private", trigger_mode="always_last", preprocess=False)

    def pick_gallery_digit(evt: gr.SelectData) -> tuple:
        return gallery_digits[evt.index], "Test digit"

    source.change(picker_look, source, [digits, upload_box], api_visibility="private", queue=False,
                  show_progress="hidden")
    status.change(lambda line: results_look(line, 3), status, [results, table, glance], api_visibility="private",
                  queue=False, show_progress="hidden")
    table.change(results_said, table, said, api_visibility="private", queue=False, show_progress="hidden")
    sample_table.change(averages_said, sample_table, sample_said, api_visibility="private", queue=False,
                        show_progress="hidden")
    gr.on([results.change] + ([tab.select] if tab is not None else []), None, results, glance, js=GLANCE_JS,
          api_visibility="private", queue=False, show_progress="hidden")
    pick = digits.select(pick_gallery_digit, None, [test_index, source], api_visibility="private", queue=False)
    rand = random_button.click(partial(random_index, store), None, [test_index, source], api_visibility="private",
                               queue=False)
    # preprocess=False: a seed past the box's range (typed, refused) is replaced, not refused again by Gradio (a 500)
    reseeded = new_noise.click(another_seed, seed, seed, api_visibility="private", queue=False, preprocess=False)
    # an upload is what the visitor wants denoised next, whatever the source was
    uploaded = upload.upload(lambda: "Upload", None, source, api_visibility="private", queue=False)
    # another kind moves the slider to that kind's strength first, then denoises at it
    kind_chosen = kind.input(strength_for, kind, strength, queue=False, show_progress="hidden",
                             api_visibility="private", trigger_mode="always_last")
    for event in (pick, rand, uploaded, reseeded, kind_chosen):  # always_last: at "once", a second press while the
        # first's denoising ran was skipped, and the tiles stayed the first seed's under the second's
        event.then(denoised, inputs, [results, table, status], preprocess=False, api_visibility="private",
                   trigger_mode="always_last")
    # the picture removed: with Upload the source, its results stood there as if current, without a word, until a
    # setting moved; now the status asks for a picture and the results grey out, as for any source without a digit
    upload.clear(denoised, inputs, [results, table, status], preprocess=False, api_visibility="private",
                 show_progress="hidden")
    if tab is not None:
        tab.select(partial(denoise_drawing_again, store), inputs, [results, table, status], preprocess=False,
                   api_visibility="private", show_progress="hidden")
        if tabs is not None and drawing is not None:
            drawing.change(partial(drawing_again_if_on_show, store), [*inputs, on_show_state(tabs, tab)],
                           [results, table, status],
                           queue=False, preprocess=False, api_visibility="private", show_progress="hidden")
    follow_session(session_models, [(extra, partial(extra_choices, store))])
    test_index.change(partial(picked_in_gallery, store, gallery_digits=gallery_digits), test_index, digits,
                      api_visibility="private", queue=False, show_progress="hidden", preprocess=False)
