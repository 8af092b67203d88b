"""What every tab shares: how a problem is reported, model selectors that follow the session, the styling."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import gradio as gr

IMAGE_PX = 140  # every single digit is shown at this size: its 28 px enlarged 5x by the browser


PROBLEM_MARK = "⚠️"  # what a status line reporting bad input starts with


# What the page's markup lacks for a screen reader, added as Gradio mounts it. Status lines say what a result is and
# when something is refused: as live regions they are read out when they change (the pictures alone say nothing to it);
# not the Train tab's, which changes at every training step. A picture output is a button around an image without alt
# text: it is named after its component's label, or a screen reader calls it only "button" (axe-core: button-name).
PAGE_JS = """
// a picture that is only shown (no select event, no buttons): out of the Tab order, where Enter on it did nothing
const SHOWN_ONLY = ['generate-grid', 'generate-strip', 'latent-decoded', 'latent-original', 'latent-grid',
                    'train-grid'].map(id => `#${id} .image-container > button`)
  .concat('#generate-priors .thumbnail-item').join(', ');  // the priors' grids: a gallery without a preview
const markUp = () => {
  // the Markdown's text only: Gradio gives its outer block the class too, and as a live region that block also
  // read out Gradio's progress timer ("0.1s", "processing | 0.1/0.1s") and said the message a second time
  document.querySelectorAll('.prose.status-line:not([role])').forEach(line => {
    line.setAttribute('role', 'status'); line.setAttribute('aria-live', 'polite');
  });
  // Gradio's own announcement after every event (its status tracker's region) is an untranslated key
  // ("common.complete"); the status lines say what happened. A dropdown's count of choices is left to speak
  document.querySelectorAll('div.sr-only[role=status][aria-atomic=true][aria-live=polite]')
    .forEach(region => region.setAttribute('aria-live', 'off'));
  document.querySelectorAll('.image-container > button:not([aria-label])').forEach(button => {
    const label = button.closest('.block')?.querySelector('[data-testid=block-label]')?.textContent.trim();
    if (label) button.setAttribute('aria-label', label);
  });
  document.querySelectorAll(SHOWN_ONLY).forEach(button => button.setAttribute('tabindex', '-1'));
  // a gallery's thumbnail is a button Gradio names "Thumbnail 3 of 10", which a screen reader says instead of the
  // picture's alt text (the caption: "Test digit #3, a 0")
  document.querySelectorAll('.thumbnail-item').forEach(thumb => {
    const alt = thumb.querySelector('img')?.alt;
    if (alt && thumb.getAttribute('aria-label') !== alt) thumb.setAttribute('aria-label', alt);
  });
  // the classifier's rows are buttons in Gradio's Label, for a select event the app does not use: three Tab stops
  // that did nothing, on the way from the canvas to the test-digit buttons. Read out still, as text
  document.querySelectorAll('#draw-reading button.confidence-set:not([tabindex])').forEach(row => {
    row.setAttribute('tabindex', '-1');
  });
  // Denoise's test digits: the one denoised is highlighted (Gradio's class "selected"), which a screen reader did not
  // say. Its own observer: the page's (below) sees only elements coming and going, not a class that changes
  const picker = document.querySelector('#denoise-digits');
  if (picker && !picker.dataset.currentWatched) {
    picker.dataset.currentWatched = 'yes';
    const markCurrent = () => picker.querySelectorAll('.thumbnail-item').forEach(thumb => {
      if (thumb.classList.contains('selected')) thumb.setAttribute('aria-current', 'true');
      else thumb.removeAttribute('aria-current');
    });
    new MutationObserver(markCurrent).observe(picker, {subtree: true, childList: true, attributeFilter: ['class']});
    markCurrent();
  }
  // the class read is an <h2> in Gradio's Label: a heading "3" in the page's outline, beside the tab's own ones
  document.querySelectorAll('#draw-reading h2.output-class:not([role])').forEach(h => h.setAttribute('role', 'none'));
  // the test-digit buttons say only "3": what they put on the canvas (a test digit of that class, at random) is in a
  // line of text a screen reader may skip; "test digit #3" is the app's name for the test set's digit number 3
  document.querySelectorAll('.digit-buttons button:not([aria-label])').forEach(button => {
    button.setAttribute('aria-label', `Random test digit of class ${button.textContent.trim()}`);
  });
  // an emptied canvas or a blank upload: the note where the reconstructions were says why, and the status line at
  // the foot of the tab said it a second time. Kept for a screen reader, which reads the status line out
  const status = document.querySelector('#draw-status'), note = document.querySelector('#draw-gallery .tiles-note');
  status?.classList.toggle('unseen', !!note && note.textContent.trim() === status.textContent.trim());
};
markUp();
// Train greys out as it is pressed, and focus fell to the page (on the first press of a page, before the pressed
// step's script ran): Stop, the next thing to press, takes it as the press happens
document.addEventListener('click', e => {
  if (e.target.closest('#train-button')) document.getElementById('train-stop')?.focus({preventScroll: true});
}, true);
// A slider's box: a number typed applies on Enter or when the box is left (as in the Seed boxes), brought within the
// slider's range. Gradio sent every key as it was typed: "0.05" on its way sent 0, each number refused in a toast of
// its own, and a request that went out late carried the number typed after it, so one refusal came twice ("Warning
// (2)"); a number past an end was refused as typed, then applied at the end when the box was left (Gradio 6.31
// turns a box left empty or past an end into 0 or the end without sending it, so that is sent here).
const sliderBox = box => box.matches?.('input[type=number]') &&
  box.closest('.block')?.querySelector('input[type=range]');
const lastNumber = new WeakMap();  // the number each box last sent, or held when it took focus (the server's)
document.addEventListener('focusin', e => {
  const box = e.target;
  if (sliderBox(box) && box.value !== '' && Number.isFinite(+box.value)) lastNumber.set(box, box.value);
}, true);
// keys typed are not sent (the box's own listeners, Gradio's, do not hear them); commit() sends what they made
document.addEventListener('input', e => {
  if (e.isTrusted && sliderBox(e.target)) e.stopImmediatePropagation();
}, true);
const commit = (box, again) => {
  const value = +box.value, low = parseFloat(box.min), high = parseFloat(box.max);
  let number = box.value;
  if (box.value === '' || !Number.isFinite(value)) number = lastNumber.get(box) ?? null;
  else if (value > high) number = String(high);
  else if (value < low) number = String(low);
  if (number === null) return;
  box.value = number;
  if (!again && number === lastNumber.get(box)) return;  // left as it was: nothing to send
  lastNumber.set(box, number);
  box.dispatchEvent(new Event('input', {bubbles: true}));
};
// capture: before the slider's own blur handler clamps the box
document.addEventListener('blur', e => { if (sliderBox(e.target)) commit(e.target, false); }, true);
document.addEventListener('keydown', e => {
  if (e.key === 'Enter' && sliderBox(e.target)) commit(e.target, true);
}, true);
// A number box (a seed, a test digit's index) sends its value on Enter and again when it is left: a value refused on
// Enter was refused a second time, the toast reading "Warning (2)" with the message twice. Leaving a box sends only
// a value that Enter has not just sent. (Capture, at the document: before the box's own blur handler.)
const fieldBox = box => box.matches?.('input[type=number]') && !sliderBox(box);
const sentByEnter = new WeakMap();
document.addEventListener('keydown', e => {
  if (e.key === 'Enter' && fieldBox(e.target)) sentByEnter.set(e.target, e.target.value);
}, true);
document.addEventListener('blur', e => {
  const box = e.target;
  if (!fieldBox(box)) return;
  if (sentByEnter.get(box) === box.value) e.stopImmediatePropagation();
  sentByEnter.delete(box);
}, true);
// A refusal's toast (a warning: problem()) says what a status line, a live region, says too: a screen reader read it
// out twice. The toast is kept quiet, before it is first read (here, not on the next frame). An error toast (the
// Train tab's queue refusing a run) or an info one is the only thing that says its message, and stays live
const quietToasts = () => document.querySelectorAll('[data-testid=toast-body].warning:not([aria-live=off])')
  .forEach(toast => toast.setAttribute('aria-live', 'off'));
let pending = false;  // tabs mount their content when first opened, pictures when they arrive: once per frame at most
new MutationObserver(() => {
  quietToasts();
  if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; markUp(); }); }
}).observe(document.body, {childList: true, subtree: true});
"""


def problem(message: str, *, toast: bool = True) -> str:
    """Report bad input: a toast in the browser (unless another event reports the same field), a line in the tab's
    status; the caller leaves outputs as they are."""
    if toast:
        gr.Warning(message)
    return f"{PROBLEM_MARK} {message}"


def reports_problem(status: object) -> bool:
    """Whether a status line (a component's value, so possibly None) is one problem() wrote."""
    return isinstance(status, str) and status.startswith(PROBLEM_MARK)


def results_look(status: str | None, n: int) -> tuple:
    """Updates for `n` result components under a status line: greyed out while it reports a refusal (a refused input
    changes nothing, so they are the previous one's), as usual otherwise."""
    greyed = ["not-in-use"] if reports_problem(status) else []
    return tuple(gr.update(elem_classes=greyed) for _ in range(n))


# how a script scrolls something into view: at once where the visitor asks for reduced motion
SCROLL_BEHAVIOUR = "matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth'"


# Said on the API page of every endpoint whose refusals problem() reports
REFUSAL_NOTE = (f"Bad input changes nothing: the status line, the last output, starts with {PROBLEM_MARK} and says "
                "what to fix, and each other output comes back as a Gradio update without a value (a dict whose "
                "\"__type__\" is \"update\").")


def endpoint(handler: Callable, *args: Any, **kwargs: Any) -> partial:
    """`handler` with its first arguments bound (the model store, say), described on the API page as the handler.

    Gradio describes an endpoint by its function's docstring, up to an "Args:" line (where the arguments an API
    caller does not pass are explained), and a bare partial's docstring is functools.partial's own. REFUSAL_NOTE
    follows the description.
    """
    bound = partial(handler, *args, **kwargs)
    description, args_line, rest = (handler.__doc__ or "").partition("\n    Args:")
    bound.__doc__ = f"{description.rstrip()}\n\n    {REFUSAL_NOTE}\n{args_line}{rest}"
    return bound


def reveal_on_click(button: gr.Button, element_id: str) -> None:
    """After a press of `button`, scroll the element it fills into view when that lies low on the screen or below it:
    on a phone the controls stack above the results, and a press seemed to change nothing. Beside the controls (a
    wide screen) the element is in view, and nothing moves."""
    button.click(None, js=f"""() => {{
      const shown = document.getElementById({element_id!r});
      if (shown && shown.getBoundingClientRect().top > window.innerHeight * 0.6)
        shown.scrollIntoView({{behavior: {SCROLL_BEHAVIOUR}, block: 'start'}});
    }}""", queue=False, api_visibility="private")


def on_show_state(tabs: gr.Tabs, tab: gr.Tab) -> gr.State:
    """A State that is True while `tab` is the one on show in `tabs` (False until a tab is selected): for a tab to
    follow news that arrive while it is open (the Draw tab's digit, stored after a late stroke's reconstruction)."""
    on_show = gr.State(False)

    def shown(evt: gr.SelectData) -> bool:
        return evt.value == tab.label

    tabs.select(shown, None, on_show, queue=False, show_progress="hidden", api_visibility="private")
    return on_show


def unchanged(n: int) -> tuple:
    """n outputs left exactly as they are."""
    return tuple(gr.skip() for _ in range(n))


def follow_session(
    session_models: gr.State, selectors: list[tuple[gr.components.Component, Callable[[dict], list]]],
) -> None:
    """Refresh each selector's choices whenever the Train tab adds a model to this browser session.

    `selectors` pairs a Dropdown / CheckboxGroup with a function session_models -> its choices. The value is kept.
    """
    def refresh(models: dict | None) -> gr.components.Component | tuple:
        updates = tuple(type(c)(choices=choices_of(models or {})) for c, choices_of in selectors)
        # one output takes the return value as it is: a 1-tuple would arrive as the selector's new *value*
        return updates[0] if len(updates) == 1 else updates

    session_models.change(
        refresh, session_models, [c for c, _ in selectors], queue=False, show_progress="hidden",
        api_visibility="private",
    )


def tick_new_session_models(
    session_models: gr.State, selector: gr.CheckboxGroup, choices_of: Callable[[dict], list],
) -> tuple[Any, gr.State]:
    """A model the visitor has just trained is what they want to see next: it joins `selector` (a CheckboxGroup whose
    choices come from `choices_of(session_models)`) ticked, once: one the visitor unticks stays unticked.

    Returns the event, for the step that shows the models ticked, and a State that says whether it ticked any.
    """
    offered = gr.State([])  # session models offered already
    ticked_any = gr.State(False)

    def offer(models: dict | None, ticked: list | None, seen: list | None) -> tuple:
        models = models or {}
        choices = choices_of(models)
        ticked = list(ticked or [])
        new = [v for _, v in choices if v in models and v not in (seen or []) and v not in ticked]
        return gr.CheckboxGroup(choices=choices, value=ticked + new), list(models), bool(new)

    event = session_models.change(offer, [session_models, selector, offered], [selector, offered, ticked_any],
                                  queue=False, show_progress="hidden", api_visibility="private")
    return event, ticked_any


def live_slider(*args: Any, **kwargs: Any) -> gr.Slider:
    """A slider whose moves recompute at once (its events on .input), without Gradio's reset button: in Gradio 6.31
    that button sends no input event, so it put the box back to its first value beside results computed at the
    value before (and a Latent axis back to 0, not to where its map rests)."""
    return gr.Slider(*args, buttons=[], **kwargs)


# A picture's label kept in the page but not shown (Gradio's label lies over the picture): it names the button Gradio
# wraps the picture in (PAGE_JS). With show_label=False Gradio leaves the label's text out, and the button unnamed.
UNSEEN_LABEL = "unseen-label"


def digit_image(label: str, **kwargs: Any) -> gr.Image:
    """A read-only 28x28 digit, enlarged by the browser to IMAGE_PX with crisp pixels (see CSS), captioned above.

    The caption is a line of its own: Gradio's label and buttons sat over the picture and hid part of the digit. The
    label stays, unseen, for screen readers (see UNSEEN_LABEL).
    """
    gr.Markdown(f"**{label}**")
    return gr.Image(
        label=label, format="png", interactive=False, height=IMAGE_PX + 20,
        width=IMAGE_PX + 20, buttons=[], elem_classes=["digit", UNSEEN_LABEL], **kwargs,
    )


# system fonts only: the default theme fonts would be fetched from Google Fonts by every visitor's browser
THEME = gr.themes.Soft(
    primary_hue="indigo", secondary_hue="violet", neutral_hue="slate",
    font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
).set(
    # the Soft theme's light greys and indigos fall short of WCAG AA's 4.5:1 for small text (axe-core): hints,
    # labels and white on the primary buttons; in dark mode, white on a hovered button (indigo 500: 4.46:1)
    body_text_color_subdued="*neutral_600", block_label_text_color="*primary_700",
    block_title_text_color="*primary_700",
    button_primary_background_fill="*primary_600", button_primary_background_fill_hover="*primary_700",
    button_primary_background_fill_hover_dark="*primary_700",
    button_secondary_background_fill_hover_dark="*primary_600",
    checkbox_label_background_fill_selected="*primary_600",
    # an unticked box's or radio's edge, near white on white (1.1:1), showed no choice there (WCAG 1.4.11 asks 3:1)
    checkbox_border_color="*neutral_500", checkbox_border_color_dark="*neutral_400",
)

CSS = """
/* a button beside a number box it acts on (Random digit, New noise, New samples): level with the box, not with its
   label above it */
.row > button.beside-field { align-self: flex-end; }
/* a field PCA ignores (Batch size, Learning rate) looked as editable as the others once greyed out */
#train-settings input:disabled { opacity: 0.5; cursor: not-allowed; }
/* digits arrive at 28x28 and are enlarged here, pixel-exact */
.digit img, .pixels img { image-rendering: pixelated; }
/* pictures shown without buttons: Gradio still draws their empty toolbar, a grey speck over the corner digit */
.digit .icon-button-wrapper, #generate-strip .icon-button-wrapper, #train-grid .icon-button-wrapper { display: none; }
/* the Latent grid's download button above the grid, not over its top-right tile */
#latent-grid .icon-button-wrapper { position: static !important; justify-content: flex-end; margin-bottom: 2px; }
.digit img { width: 100% !important; height: 100% !important; object-fit: contain !important; }
.pixels img { object-fit: contain; }
#intro { margin-bottom: 0.25rem; }
#intro h1 { margin-bottom: 0.2rem; }
/* the selected tab's name: the theme's accent (indigo 500) read at 4.47:1 on the light page and 4.27:1 on the dark
   one, under WCAG AA's 4.5; a darker indigo on light, a lighter one on dark */
.tab-container button.selected { color: var(--primary-700); }
.dark .tab-container button.selected { color: var(--primary-400); }
/* UNSEEN_LABEL: a label kept for screen readers, off screen; .unseen (set by PAGE_JS): a whole block */
.unseen-label label[data-testid=block-label], .unseen {
  position: absolute !important; width: 1px; height: 1px; min-height: 0 !important; margin: -1px; padding: 0;
  overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
}
/* keyboard focus on sliders: the theme showed none */
input[type=range]:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 2px; }
/* and on ticked boxes and radio buttons, around the whole option, on the page's background: a ring on the box
   itself sat on the chosen option's indigo (1.4:1) and, in dark mode, on every option's slate (1.7:1) */
label:has(> input[type=checkbox]:focus-visible), label:has(> input[type=radio]:focus-visible) {
  outline: 2px solid var(--body-text-color); outline-offset: 2px;
}
/* the classifier's rows turned the accent colour under the mouse (4.46:1 light, 3.27:1 dark), and do nothing */
#draw-reading .confidence-set:hover .label, #draw-reading .confidence-set:focus .label { color: inherit; }
/* and in number and password boxes, a dropdown's (an input without a type) and a gr.Textbox (a text area) (the
   theme's: a shadow at 10 % opacity), and on a gallery's digits (a 1-px dark ring on a black tile) */
input[type=number]:focus-visible, input[type=text]:focus-visible, input[type=password]:focus-visible,
input:not([type]):focus-visible, textarea:focus-visible, .thumbnail-item:focus-visible {
  outline: 3px solid var(--color-accent) !important; outline-offset: 2px;
}
/* a dropdown's list closes once focus leaves it: Gradio 6.31 closes it on a click outside but not on Tab, so a
   keyboard user's list stayed open over the next fields, and Escape or a click did not take it away */
.wrap:not(:focus-within) > .options:has(> [role=listbox]) { display: none; }
/* Gradio 6.31 draws a dropdown's arrow over the last ~26 px of its text: a session model's long name ("my vae #1
   (trained in this session)") ran under it; now it stops short of the arrow, with an ellipsis */
.secondary-wrap > input[role=combobox] { padding-right: 28px; text-overflow: ellipsis; }
.status-line { min-height: 1.5rem; }
/* the note over the pad keeps the room of its longest text (3 lines where the column is narrow, 2 where it is wide):
   emptied when a stroke's reconstructions came back, it moved the pad up 22-44 px, so a digit drawn in two quick
   strokes came out with its second stroke stepped */
#draw-picked { min-height: 46px; }
@media (max-width: 1599px) { #draw-picked { min-height: 68px; } }
.meter { height: 14px; border-radius: 7px; background: var(--border-color-primary); overflow: hidden; margin: 6px 0; }
.meter-fill { height: 100%; background: linear-gradient(90deg, #f97316, #eab308, #22c55e); }
.meter-text { font-size: var(--text-sm); color: var(--body-text-color-subdued); }
.meter-big { font-size: 1.6rem; font-weight: 700; margin-top: 1.8rem; }
.digit-buttons button { min-width: 0 !important; }
/* galleries of digits: a fixed number of equal columns whatever the width (Gradio's own count varies) */
.digit-gallery .grid-container { grid-template-rows: none !important; grid-auto-rows: auto !important; }
.digit-gallery .grid-wrap { min-height: 0 !important; height: auto !important; max-height: none !important; }
.digit-gallery .caption-label { font-size: 11px !important; padding: 1px 5px !important; max-width: 96% !important; }
/* the random samples' captions under their grids, not over the corner digits */
#generate-priors .thumbnail-item { display: flex !important; flex-direction: column; height: auto !important;
                                   aspect-ratio: auto !important; }
#generate-priors .thumbnail-item img { width: 100% !important; height: auto !important; }
#generate-priors .caption-label { position: static !important; max-width: 100% !important; text-align: center;
                                  font-size: 12px !important; }
/* a phone: the five tab names fit on one row (Gradio moves those that do not fit into a "..." menu, where a visitor
   did not find them); Gradio measures the names with this same style */
@media (max-width: 640px) { .tab-container button { padding: 0 7px !important; font-size: 13px !important; } }
/* and on the narrowest phones (320-359 px: an iPhone SE, a folded phone's cover screen), where three went to "..." */
@media (max-width: 359px) { .tab-container button { padding: 0 4px !important; font-size: 12px !important; } }
/* the pad's box as tall as it is wide (up to its 460 px): where the column is narrower than that (a phone, a tablet,
   a small laptop), Gradio zooms the 400-px canvas to the width less 60 px, and the box of 460 px left up to 160 px of
   white above and below the square that takes no ink, looking like canvas: a stroke begun there drew nothing */
#draw-sketchpad { aspect-ratio: 1; height: auto !important; max-height: 460px; }
#draw-sketchpad .image-container { height: 100% !important; }
/* the interpolation strip: as wide as its column, as tall as that makes it (Gradio sizes a picture without a
   height from its container's, which is 0 once the columns stack on a phone: the strip did not show) */
#generate-strip button, #generate-strip .image-frame { width: 100% !important; height: auto !important; }
/* the samples below Gradio's label and buttons: the ten rows of "All classes", taller than wide, filled the frame's
   height, and on a phone the label and buttons covered the row of 0s */
#generate-grid .image-frame { padding-top: 36px; box-sizing: border-box; }
#generate-strip img { width: 100% !important; height: auto !important; }
/* one row however many tiles (six, seven with "Also compare"): a seventh used to wrap onto a row of its own */
#denoise-gallery .digit-tiles {
  grid-template-columns: none; grid-auto-flow: column; grid-auto-columns: minmax(0, 1fr);
}
/* rows of three where the column is narrow, not six tiles too small to see: on a phone, and on a tablet, where
   the results column beside the controls gave each tile ~52 px and cut its score off ("Nois…"). (A container
   query would say "narrow" better, but Gradio's stylesheet processing drops @container rules.) */
@media (max-width: 1024px) {
  #denoise-gallery .digit-tiles { grid-template-columns: repeat(3, minmax(0, 1fr)); grid-auto-flow: row; }
}
/* captions wrap rather than cut their scores off: seven tiles in a row at 1280 px showed "Sparse · 11.1…" */
#denoise-gallery figcaption { white-space: normal; overflow: visible; text-overflow: clip; line-height: 1.25;
                              flex-grow: 1; }
#denoise-gallery figure, #denoise-glance figure { display: flex; flex-direction: column; }
/* a view of the results under the controls wherever the two columns stack (draw_tab.TILES_JS, the Denoise and
   Generate tabs' GLANCE_JS): below 768 px Gradio narrows its container to 576 px, less than the columns' 300 + 320 px
   and their gap (from 768 px it is 704); the glances showed below 640 px only, and a 700-px window had none */
#draw-glance, #denoise-glance, #generate-glance { display: none; }
@media (max-width: 767px) {
  #draw-glance, #denoise-glance, #generate-glance { display: block; }
  #draw-glance p, .glance-link { margin: 4px 0 0; font-size: var(--text-sm); }
  #draw-glance .glance-strip { display: grid; grid-auto-flow: column; grid-auto-columns: minmax(0, 44px); gap: 3px; }
  #draw-glance .glance-strip img { width: 100%; aspect-ratio: 1; image-rendering: pixelated; background: #000; }
  #denoise-glance .digit-tiles { grid-template-columns: none; grid-auto-flow: column; grid-auto-columns: minmax(0, 1fr);
                                 gap: 3px; }
  #denoise-glance figcaption { font-size: 10px; padding: 1px 2px; white-space: normal; line-height: 1.2; flex-grow: 1; }
  #generate-glance img { display: block; width: 160px; max-width: 50%; height: auto; image-rendering: pixelated; }
}
/* an accordion's title that wraps (on a phone) reads from the left, clear of its ▼: it was centred, the ▼ touching
   its last word */
button.label-wrap { text-align: left; gap: var(--size-2); }
/* the push form on a phone: Gradio puts the three fields in one flex row, and the token box got 200 px */
@media (max-width: 640px) { #train-push-row .form { flex-direction: column; } }
/* room for Gradio's progress (its words, bar and timer, 50 px): the empty box shrank to 20 px while a run was pending,
   and the bar lay over the status line below it */
#train-progress { min-height: 60px !important; }
#draw-seen .digit-tiles { margin-top: 1.9rem; }  /* below the component's label */
#draw-gallery-heading { margin-bottom: -0.5rem; }
.tiles-note { color: var(--body-text-color-subdued); padding: var(--size-4) 0; }
@media (max-width: 640px) {  /* a phone: rows of three, as in Denoise, not nine tiles over two screens */
  #draw-gallery .digit-tiles { grid-template-columns: repeat(3, minmax(0, 1fr)); }
  /* a caption wraps rather than cutting off the error it exists to show ("Contractive …") */
  #draw-gallery figcaption { white-space: normal; overflow: visible; text-overflow: clip; line-height: 1.25;
                             flex-grow: 1; }
  #draw-gallery figure { display: flex; flex-direction: column; }
}
#draw-seen .digit-tiles { grid-template-columns: minmax(0, 140px); justify-content: center; }
#denoise-digits .grid-container { grid-template-columns: repeat(10, minmax(0, 1fr)) !important;
                                  grid-template-rows: none !important; grid-auto-rows: auto !important; gap: 4px; }
#denoise-digits.not-in-use { opacity: 0.4; }  /* another source is denoised; a click on a digit switches back */
#denoise-digits .caption-label { display: none; }  /* the picture says it; the caption is its alt text */
/* a refused input's status over the previous input's results */
#denoise-gallery.not-in-use, #denoise-table.not-in-use, #denoise-glance.not-in-use, #draw-seen.not-in-use,
#draw-reading.not-in-use, #draw-rank.not-in-use, #draw-gallery.not-in-use, #draw-glance.not-in-use,
#draw-code.not-in-use { opacity: 0.5; }  /* still legible */
#denoise-digits.not-in-use:hover { opacity: 0.75; }
/* a finger's size of target on a phone (WCAG 2.5.8 asks 24 px at least; ~44 is comfortable): the test-digit
   buttons were 52x26 px, Denoise's ten test digits in a row 27 px each (after the rule of ten columns above,
   which this one overrides) */
@media (max-width: 640px) {
  .digit-buttons button { min-height: 40px; }
  #denoise-digits .grid-container { grid-template-columns: repeat(5, minmax(0, 1fr)) !important; }
}
/* reconstructions (Draw, Denoise): inline PNG tiles (images.tiles_html), laid out like a gallery */
.digit-tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 8px; }
.digit-tiles figure { margin: 0; border: 1px solid var(--border-color-primary); border-radius: var(--radius-md);
                      overflow: hidden; background: #000; }
.digit-tiles img { display: block; width: 100%; height: auto; aspect-ratio: 1; image-rendering: pixelated; }
.digit-tiles figcaption { font-size: 11px; padding: 2px 6px; white-space: nowrap; overflow: hidden;
                          text-overflow: ellipsis; background: var(--background-fill-secondary);
                          color: var(--body-text-color); }
/* the Draw tab's code plot colours its bars by draw_tab.CARRIES, as a number: Gradio 6's plot fixes a colour
   scale's categories when it draws its axes (its first value, a resize, coming back to the tab), and bars of a
   category that came later were not drawn (the prior's went blank after a plain AE had been shown). A mix of both
   values runs from the plot's --primary-100 (0: at the prior) to its --primary-900 (1: carries the digit); one value
   alone takes --primary-500, the accent every bar had before. The ends: the prior's bars grey, the others strong in
   both modes (Gradio's indigo 900 all but vanished on the dark page); the grey at 3:1 on the white plot, WCAG's
   least for graphics (slate 400 read 2.6:1), and still 2:1 from the indigo. */
#draw-code { --primary-100: #8494a8; --primary-900: #4f46e5; }
.dark #draw-code { --primary-100: #64748b; --primary-900: #818cf8; }
/* the models table: words whole (Gradio's tables break them anywhere), names on one line where there is room */
#draw-models td, #draw-models th { word-break: normal; overflow-wrap: break-word; }
#draw-models td:first-child { white-space: nowrap; }
#denoise-sample-averages td, #denoise-sample-averages th, #denoise-table td, #denoise-table th,
#denoise-averages td, #denoise-averages th { word-break: normal; overflow-wrap: normal; }
@media (max-width: 640px) {  /* a phone: one block per model, not four columns with five letters a line */
  #draw-models thead { display: none; }
  #draw-models table, #draw-models tbody, #draw-models tr, #draw-models td { display: block; width: auto; }
  #draw-models tr { border-bottom: 1px solid var(--border-color-primary); padding: 0.4rem 0; }
  #draw-models td { padding: 1px 6px; border: none; white-space: normal; }
  #draw-models td:nth-child(2)::before { content: "Code size: "; }
  #draw-models td:nth-child(3)::before { content: "Built from: "; }
}
#generate-priors .grid-container { grid-template-columns: repeat(2, minmax(0, 1fr)) !important; }
"""
