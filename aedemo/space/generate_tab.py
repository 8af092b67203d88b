"""Generate: new digits from the CVAE (class of your choice), the VAE and AAE priors (beside the plain AE at random
codes, which has none), and interpolations."""

from __future__ import annotations

from functools import partial
from typing import Any

import gradio as gr
import numpy as np
import torch

from ..models.base import N_CLASSES
from ..models.cvae import CVAE
from . import images
from .inputs import (
    MAX_UI_SEED,
    UserInputError,
    a_digit,
    another_seed,
    number_said,
    parse_digit,
    parse_float,
    parse_int,
    parse_seed,
    quoted,
)
from .store import ModelStore, display_name
from .ui import (
    UNSEEN_LABEL,
    endpoint,
    follow_session,
    live_slider,
    problem,
    reports_problem,
    reveal_on_click,
    tick_new_session_models,
    unchanged,
)

MAX_SAMPLES = 64
# The glance: on a phone the samples stack ~700 px under the Digit and the sliders that change them; a small copy
# under the sliders (hidden on a wider screen), from the tab's opening on. Hidden from screen readers, which hear
# the status line.
GLANCE_JS = """(grid) => {
  if (!grid || !grid.url) return '';
  const img = document.createElement('img');  // its outerHTML escapes the URL, whatever it holds
  img.src = grid.url;
  img.alt = '';
  img.setAttribute('aria-hidden', 'true');
  return img.outerHTML + '<p class="glance-link"><a href="#generate-grid">The samples, larger ↓</a></p>';
}"""
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.1, 2.0
PER_CLASS = 8  # columns of the "all classes" grid
STRIP_GAP = 6  # px (before upscaling) between an interpolation's end digits and its frames
# Sampled beside the priors, at random codes: what a model without a prior gives, which is what a prior buys
NO_PRIOR_MODEL = "ae"


def _temperature_and_seed(temperature: Any, seed: Any) -> tuple[float, int]:
    temperature = parse_float(temperature, "The temperature")
    if not MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE:  # the slider's range
        raise UserInputError(f"Temperature must be a number from {MIN_TEMPERATURE} to {MAX_TEMPERATURE:g}, "
                             f"not {number_said(temperature)}.")
    return temperature, parse_seed(seed)


def _model(store: ModelStore, name: str | None, session_models: dict | None, *, conditional: bool | None):
    model = store.get(name, session_models)
    if not model.generative and not (conditional is False and name == NO_PRIOR_MODEL):
        also = " (or, to compare, the plain AE at random codes)" if conditional is False else ""
        raise UserInputError(f"{display_name(name)} has no prior to sample from; choose "
                             f"{_one_of(store, conditional)}{also}.")
    if conditional is not None and model.conditional != conditional:
        kind = "a conditional model" if conditional else "an unconditional one"
        raise UserInputError(f"{display_name(name)} cannot be used here: choose {kind}, "
                             f"{_one_of(store, conditional)}.")
    return model


def _one_of(store: ModelStore, conditional: bool | None) -> str:
    """The shipped models with a prior (of one kind, when `conditional` is given), in words: "the VAE, CVAE or
    AAE", from what the Space loaded, so a variant added to the registry is named too."""
    names = [label for label, _ in store.choices(generative=True, conditional=conditional)]
    if not names:
        return "a model with a prior (none is loaded)"
    return "the " + (names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}")


def _prior_choices(store: ModelStore, session_models: dict | None = None) -> list[tuple[str, str]]:
    """The models whose random samples the Generate tab compares: the shipped unconditional priors and the plain AE
    beside them, then the session's own (which came before the AE)."""
    priors = store.choices(conditional=False, generative=True)
    no_prior = ([(f"{display_name(NO_PRIOR_MODEL)} (no prior: random codes)", NO_PRIOR_MODEL)]
                if NO_PRIOR_MODEL in store.models else [])
    session = store.choices(session_models, conditional=False, generative=True)[len(priors):]  # listed after
    return priors + no_prior + session


def _agreement(store: ModelStore, samples: torch.Tensor, wanted: torch.Tensor) -> str:
    predicted = store.predict(samples)
    if predicted is None:
        return ""
    hits = int((predicted.cpu() == wanted).sum())
    if len(wanted) == 1:  # not "1 of 1 samples"
        return f"The classifier {'reads' if hits else 'does not read'} the sample as the asked class."
    return f"The classifier reads {hits} of {len(wanted)} samples as the asked class."


def _settings_said(temperature: float, seed: int) -> str:
    """The sampling settings, in the status line: a status read the same for another digit or seed ("16 of 16"), and
    a screen reader, which reads a live region when its text changes, said nothing of the new samples."""
    return f"seed {seed}, temperature {temperature:g}"


@torch.no_grad()
def generate(
    store: ModelStore, model_name: str | None, digit: Any, n: Any, temperature: Any, seed: Any,
    priors: list[str] | None = None, session_models: dict | None = None,
) -> tuple:
    """Sample digits of one class from a conditional model, and from unconditional priors for comparison.

    API inputs: `model_name` ("cvae"), `digit` (0-9), `n` (1-64 samples), `temperature` (x the prior's std, 0.1-2, e.g.
    1.0; lower = cleaner, less varied), `seed` (integer), `priors` (unconditional models to compare, e.g.
    ["vae", "aae"]; "ae" for the plain AE at random codes). Returns the class-conditional grid, a gallery of
    (samples grid, caption), one per model in the order the tab lists them, and a status line.

    Args:
        store: the models. session_models: the browser session's own (a gr.State).
    """
    try:
        n = parse_int(n, "Samples", 1, MAX_SAMPLES)
        temperature, seed = _temperature_and_seed(temperature, seed)
        digit = parse_digit(digit)
        model = _model(store, model_name, session_models, conditional=True)
        if priors is not None and not (isinstance(priors, list) and all(isinstance(p, str) for p in priors)):
            raise UserInputError(f"Priors must be a list of model names, such as ['vae', 'aae'], not {quoted(priors)}.")
        # each model once: a name repeated a thousand times sampled a thousand grids (14 s of a worker); and in the
        # tick boxes' order, which a box ticked again, or a model trained meanwhile, put at the end of the value
        listed = [name for _, name in _prior_choices(store, session_models)]
        wanted = sorted(dict.fromkeys(priors or []), key=lambda n: listed.index(n) if n in listed else len(listed))
        prior_models = [(name, _model(store, name, session_models, conditional=False)) for name in wanted]
    except UserInputError as e:
        return (*unchanged(2), problem(str(e)))
    labels = torch.full((n,), digit, dtype=torch.int64)
    samples = model.sample(n, labels, generator=torch.Generator().manual_seed(seed), temperature=temperature).cpu()
    ncol = int(np.ceil(np.sqrt(n)))
    grid = images.grid(samples, ncol, scale=images.fit_scale(ncol))
    gallery = []
    for name, prior in prior_models:
        generator = torch.Generator().manual_seed(seed)
        if prior.generative:
            s, caption = prior.sample(n, generator=generator, temperature=temperature).cpu(), "prior"
        else:
            s, caption = store.random_codes_decoded(prior, n, generator, temperature), "random codes"
        gallery.append((images.grid(s, ncol, scale=images.fit_scale(ncol, 300)), f"{display_name(name)} {caption}"))
    said = f"{n} sample{'s' if n > 1 else ''} of {a_digit(digit)}, {_settings_said(temperature, seed)}."
    return grid, gallery, f"{said} {_agreement(store, samples, labels)}".strip()


@torch.no_grad()
def generate_all(
    store: ModelStore, model_name: str | None, temperature: Any, seed: Any, session_models: dict | None = None
) -> tuple:
    """A grid with one row per class 0-9 (8 samples each, PER_CLASS) from a conditional model.

    API inputs: `model_name` ("cvae"), `temperature` (x the prior's std, 0.1-2), `seed` (integer). Returns the grid
    and a status line.

    Args:
        store: the models. session_models: the browser session's own (a gr.State).
    """
    try:
        temperature, seed = _temperature_and_seed(temperature, seed)
        model = _model(store, model_name, session_models, conditional=True)
    except UserInputError as e:
        return unchanged(1) + (problem(str(e)),)
    labels = torch.arange(N_CLASSES).repeat_interleave(PER_CLASS)
    samples = model.sample(len(labels), labels, generator=torch.Generator().manual_seed(seed),
                           temperature=temperature).cpu()
    grid = images.grid(samples, PER_CLASS, scale=images.fit_scale(PER_CLASS))
    # the Samples slider is one class's: say how many each row holds (a visitor asked for 16 saw 8)
    said = f"Rows: classes 0 to 9, {PER_CLASS} samples each, {_settings_said(temperature, seed)}."
    # the Digit and Samples fields, left as they were, read as this grid's settings
    parts = (said, _agreement(store, samples, labels), "Digit and Samples apply to the Generate button only.")
    return grid, " ".join(part for part in parts if part)


def interpolate_on_shared_field(store: ModelStore, *inputs: Any) -> tuple:
    """interpolate() after a change to the Seed or the Temperature, which the samples above use too: a bad value is
    said in the strip's status without a toast of its own (the samples' event toasts it: the visitor got two)."""
    try:
        _temperature_and_seed(*inputs[4:6])
    except UserInputError as e:
        return unchanged(1) + (problem(str(e), toast=False),)
    return interpolate(store, *inputs)


def _strip(
    frames: torch.Tensor, ends: tuple[torch.Tensor, torch.Tensor] | None, scale: int, blend: torch.Tensor | None = None
) -> np.ndarray:
    """Frames side by side; when given, the two real digits they start and end from sit apart at either end.

    `blend`: as many frames again, drawn as a second row under `frames`, frame for frame (the same t); the end
    digits then sit halfway down, beside both rows, which both go from one to the other.
    """
    row = images.grid(frames, len(frames), scale=1)
    # mid grey: white glared as bars on a dark-mode page, black would read as part of the frames
    if blend is not None:
        gap = np.full((STRIP_GAP, row.shape[1]), 128, dtype=np.uint8)
        row = np.concatenate([row, gap, images.grid(blend, len(blend), scale=1)], axis=0)
    if ends is not None:
        left, right = (images.grid(e, 1, scale=1) for e in ends)
        top = (row.shape[0] - left.shape[0]) // 2
        left, right = (np.pad(e, ((top, row.shape[0] - e.shape[0] - top), (0, 0)), constant_values=128)
                       for e in (left, right))
        gap = np.full((row.shape[0], STRIP_GAP), 128, dtype=np.uint8)
        row = np.concatenate([left, gap, row, gap, right], axis=1)
    return images.upscale(row, scale)


@torch.no_grad()
def interpolate(
    store: ModelStore, model_name: str | None, start: Any, end: Any, steps: Any, temperature: Any, seed: Any,
    session_models: dict | None = None,
) -> tuple:
    """A strip of frames morphing one digit class into another.

    With a conditional model (CVAE) one standardised style code is drawn (seed), and the class input slides from
    `start` to `end` together with the class prior it is scaled into (temperature; CVAE.morph); with any other
    model a random test digit of each class (seed) is encoded and the code slides between the two (the real digits
    are shown at either end); under those frames, a second row mixes the two digits' pixels in the same proportions
    (a cross-fade), frame for frame. API inputs: `model_name` (any model, e.g. "cvae" or "vae"), `start`, `end`
    (0-9), `steps` (3-16 frames), `temperature` (0.1-2), `seed` (integer). Returns the strip and a status line.

    Args:
        store: the models. session_models: the browser session's own (a gr.State).
    """
    try:
        a, b = parse_digit(start, "Start"), parse_digit(end, "End")
        steps_i = parse_int(steps, "Frames", 3, 16)
        temperature, seed = _temperature_and_seed(temperature, seed)
        model = store.get(model_name, session_models)
    except UserInputError as e:
        return unchanged(1) + (problem(str(e)),)
    t = torch.linspace(0, 1, steps_i).unsqueeze(1)
    generator = torch.Generator().manual_seed(seed)
    if model.conditional:
        if not isinstance(model, CVAE):
            return unchanged(1) + (problem(f"Class interpolation is not supported for {display_name(model_name)}."),)
        eps = torch.randn(model.latent_dim, generator=generator)
        frames = model.morph(a, b, steps_i, eps, temperature).cpu()
        note = (f"{display_name(model_name)}: one style code; the class input and the class's prior slide from {a} "
                f"to {b}." if a != b else f"{display_name(model_name)}: one style code, and From and To are both "
                f"{a}: nothing to morph. Pick two different digits to see the class change.")
        return _strip(frames, None, images.fit_scale(steps_i, 900, 4)), note
    _, x, y = store.test_set
    ia = int(np.random.default_rng(seed).choice(np.flatnonzero(y.numpy() == a)))
    ib = int(np.random.default_rng(seed + 1).choice(np.flatnonzero(y.numpy() == b)))
    pair = x[[ia, ib]]
    za, zb = model.encode(pair.to(model.device)).cpu()
    frames = model.decode(((1 - t) * za + t * zb).to(model.device)).cpu()
    # the same mix of their pixels, frame for frame: the classic cross-fade, two digits overlaid
    w = t.view(-1, 1, 1, 1)
    blend = (1 - w) * pair[0] + w * pair[1]
    note = (f"{display_name(model_name)}: test digits #{ia} ({a_digit(a)}, left) and #{ib} ({a_digit(b)}, "
            f"right). Top: their codes mixed linearly, then decoded. Bottom: their pixels mixed "
            f"in the same proportions, (1−t)·left + t·right: a cross-fade.")
    return _strip(frames, (pair[:1], pair[1:]), images.fit_scale(steps_i + 2, 900, 4), blend), note


def regenerate(
    store: ModelStore, all_classes: bool, model_name: str | None, digit: Any, n: Any, temperature: Any, seed: Any,
    priors: list[str] | None = None, session_models: dict | None = None,
) -> tuple:
    """The Temperature, the Seed or the priors changed: generate() again, with the all-classes grid in place of one
    class's samples when All classes made the grid on show (a visitor comparing temperatures across every class saw
    it give way to "16 samples of a 3")."""
    grid, gallery, status = generate(store, model_name, digit, n, temperature, seed, priors, session_models)
    if all_classes and not reports_problem(status):
        grid, status = generate_all(store, model_name, temperature, seed, session_models)
    return grid, gallery, status


def build_generate_tab(store: ModelStore, session_models: gr.State, tab: gr.Tab | None = None) -> None:
    """The tab's UI; `tab` (its gr.Tab) coming into view fills the phone's glance of the samples."""
    gr.Markdown(
        "Sample new digits. The **CVAE** is told which digit to draw; the **VAE** and **AAE** draw from their prior, "
        "so their digits come out of any class. The plain **AE** has no prior: its random codes here come from a "
        "Gaussian fitted to its test codes, and many fall between the codes of real digits and decode to smudges. "
        "The VAE's KL term and the AAE's discriminator pull the training digits' codes towards the prior, so most "
        "(not all) draws from it land near real digits. **Temperature** multiplies the spread of what the codes are "
        "drawn from (VAE, AAE: N(0, T²I); CVAE: its class's prior; AE: the fitted Gaussian): at 1 the priors sample "
        "as trained (and the AE's Gaussian as fitted), lower gives cleaner but less varied digits."
    )
    conditional = store.choices(conditional=True, generative=True)
    unconditional = _prior_choices(store)
    any_model = store.choices()
    first_cond = conditional[0][1] if conditional else None
    with gr.Row(equal_height=False):
        with gr.Column(scale=4, min_width=300):
            model = gr.Dropdown(conditional, value=first_cond, label="Conditional model")
            digit = gr.Radio([(str(d), d) for d in range(N_CLASSES)], value=3, label="Digit")
            n = live_slider(1, MAX_SAMPLES, value=16, step=1, label="Samples")
            temperature = live_slider(MIN_TEMPERATURE, MAX_TEMPERATURE, value=1.0, step=0.05,
                                      label="Temperature (× the prior's std)")
            glance = gr.HTML("", elem_id="generate-glance", padding=False)
            with gr.Row():
                seed = gr.Number(value=0, label="Seed", precision=0, minimum=0, maximum=MAX_UI_SEED, scale=2,
                                 elem_id="generate-seed")
                new_samples = gr.Button("New samples", scale=1, elem_classes=["beside-field"])
            priors = gr.CheckboxGroup(unconditional, value=[v for _, v in unconditional],
                                      label="Compare with random samples of")
            with gr.Row():
                go = gr.Button("Generate", variant="primary")
                all_button = gr.Button("All classes")
        with gr.Column(scale=7):
            first = generate(store, first_cond, 3, 16, 1.0, 0, [v for _, v in unconditional]) if first_cond else None
            ok = first is not None and isinstance(first[0], np.ndarray)
            grid = gr.Image(first[0] if ok else None, label="Samples", format="png", interactive=False,
                            height=440, elem_id="generate-grid", elem_classes=["pixels"])
            status = gr.Markdown(first[2] if ok else "", label="Status", elem_classes=["status-line"],
                                 elem_id="generate-status")
            priors_heading = gr.Markdown("**Random samples** of models without class control, same seed and "
                                         "temperature:")
            prior_gallery = gr.Gallery(first[1] if ok else None, label="Prior samples", show_label=False,
                                       columns=2, height="auto", allow_preview=False, format="png", buttons=[],
                                       elem_id="generate-priors", elem_classes=["pixels", "digit-gallery"])
    # a section of the tab, a level under its heading (blocks.tab_heading; axe-core's heading-order)
    # which rows belong to which models, said first: the CVAE's one row was read against "top row, bottom row"
    gr.Markdown("### Interpolation\nUses the **Seed** (and, for the CVAE, the **Temperature**) above. **CVAE**, one "
                "row: one random style code is kept while the class and its prior change from one digit to the "
                "other. **Other models**, two rows between a test digit of each class (picked by the Seed, shown at "
                "either end): on top, their codes mixed linearly (VAE: the posterior means), then decoded; below, "
                "their pixels mixed in the same proportions, a cross-fade: two faint digits overlaid.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=4, min_width=300):
            interp_model = gr.Dropdown(any_model, value=first_cond or (any_model[0][1] if any_model else None),
                                       label="Model", info="CVAE: the class morphs, the style stays; others: the "
                                       "code slides between two real test digits")
            with gr.Row():
                start = gr.Dropdown(list(range(N_CLASSES)), value=1, label="From")
                end = gr.Dropdown(list(range(N_CLASSES)), value=7, label="To")
            steps = live_slider(3, 16, value=10, step=1, label="Frames")
            interp_button = gr.Button("Interpolate", variant="primary")
        with gr.Column(scale=7):
            strip0 = interpolate(store, first_cond, 1, 7, 10, 1.0, 0) if first_cond else None
            ok = strip0 is not None and isinstance(strip0[0], np.ndarray)
            strip = gr.Image(strip0[0] if ok else None, label="Interpolation frames", format="png",
                             interactive=False, buttons=[],  # Gradio's buttons sat over the last digit
                             elem_id="generate-strip", elem_classes=["pixels", UNSEEN_LABEL])
            interp_status = gr.Markdown(strip0[1] if ok else "", label="Interpolation status",
                                        elem_classes=["status-line"])

    gen_inputs = [model, digit, n, temperature, seed, priors, session_models]
    # preprocess=False: the handlers check every value themselves and say which field is wrong and what it takes;
    # Gradio's own range check would answer a bad one with a bare "Error" in every output.
    # sliders on .input, as in the Denoise tab: a value typed in a slider's box and Enter fires only that; a prior
    # unticked takes its samples away at once (they stayed until the next Generate)
    # the Seed applies on Enter or when its box is left (as on the Denoise tab)
    one_class = [go.click, digit.input, n.input]
    gr.on(one_class, endpoint(generate, store), gen_inputs, [grid, prior_gallery, status], api_name="generate",
          trigger_mode="always_last", preprocess=False)
    # what the grid shows, one class or all: the settings both share redraw it as it is
    all_classes = gr.State(False)
    gr.on(one_class, lambda: False, None, all_classes, queue=False, show_progress="hidden", api_visibility="private")
    all_button.click(lambda: True, None, all_classes, queue=False, show_progress="hidden", api_visibility="private")
    samples_again = dict(fn=partial(regenerate, store), inputs=[all_classes, *gen_inputs],
                         outputs=[grid, prior_gallery, status], api_visibility="private", trigger_mode="always_last",
                         preprocess=False)
    priors.input(**samples_again)
    gr.on([grid.change] + ([tab.select] if tab is not None else []), None, grid, glance, js=GLANCE_JS,
          api_visibility="private", queue=False, show_progress="hidden")
    # no prior ticked: no empty box where their samples would be
    priors.input(lambda chosen: (gr.Markdown(visible=bool(chosen)), gr.Gallery(visible=bool(chosen))), priors,
                 [priors_heading, prior_gallery], queue=False, show_progress="hidden", api_visibility="private")
    for button in (go, all_button):
        reveal_on_click(button, "generate-grid")
    reveal_on_click(interp_button, "generate-strip")
    all_button.click(endpoint(generate_all, store), [model, temperature, seed, session_models], [grid, status],
                     api_name="generate_all", preprocess=False)
    interp_inputs = [interp_model, start, end, steps, temperature, seed, session_models]
    gr.on([interp_button.click, start.input, end.input, steps.input, interp_model.input],
          endpoint(interpolate, store), interp_inputs, [strip, interp_status], api_name="interpolate",
          trigger_mode="always_last", preprocess=False)
    strip_again = dict(fn=partial(interpolate_on_shared_field, store), inputs=interp_inputs,
                       outputs=[strip, interp_status], api_visibility="private", trigger_mode="always_last",
                       preprocess=False)
    # The Seed and the Temperature drive the samples and the strip (which stayed stale when they changed): the
    # samples, then the strip, as one chain. Two always_last events on a slider's .input made Gradio 6.31 send them
    # again and again while its box held a number typed below the slider's minimum (tens of requests a second, a
    # toast counting up without end); one event and its .then do not.
    gr.on([temperature.input, seed.submit, seed.blur], **samples_again).then(**strip_again)
    # another seed, and what it draws: the grid as it is (one class or all), the priors' samples and the strip
    # (preprocess=False: a seed past the box's range, refused, is replaced too)
    reseeded = new_samples.click(another_seed, seed, seed, api_visibility="private", queue=False, preprocess=False)
    reseeded.then(**samples_again).then(**strip_again)
    follow_session(session_models, [
        (model, lambda s: store.choices(s, conditional=True, generative=True)),
        (interp_model, lambda s: store.choices(s)),
    ])
    # a VAE or AAE the visitor has just trained joins the comparison ticked (as it joins the Draw tab's models), and
    # its samples come at once: ticked alone, it said they were shown
    offer, ticked_any = tick_new_session_models(session_models, priors, lambda s: _prior_choices(store, s))

    def show_new_priors(fresh: bool, *inputs: Any) -> tuple:
        if not fresh:
            return unchanged(4)
        samples, gallery, status_line = regenerate(store, *inputs)
        if reports_problem(status_line):  # a field the visitor left bad: that says so, and nothing else changes
            return (*unchanged(3), status_line)
        return gr.Markdown(visible=True), gr.Gallery(value=gallery, visible=True), samples, status_line

    offer.then(show_new_priors, [ticked_any, all_classes, *gen_inputs], [priors_heading, prior_gallery, grid, status],
               show_progress="hidden", api_visibility="private", preprocess=False)
