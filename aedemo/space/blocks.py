"""The whole Space as one gr.Blocks: an intro, then one tab per module."""

from __future__ import annotations

import gradio as gr

from ..hub import use_hub_timeouts
from ..models import AUTOENCODERS
from . import gradio_fixes
from .denoise_tab import build_denoise_tab
from .draw_tab import build_draw_tab
from .generate_tab import build_generate_tab
from .latent_tab import build_latent_tab
from .store import ModelStore
from .train_tab import SESSION_TTL_SECONDS, build_train_tab

_COUNT = sum(cls.trainable for cls in AUTOENCODERS.values())  # every variant but PCA, whichever are registered
_IN_WORDS = {6: "Six", 7: "Seven", 8: "Eight", 9: "Nine", 10: "Ten", 11: "Eleven", 12: "Twelve"}
INTRO = f"""
# The autoencoder playground
{_IN_WORDS.get(_COUNT, _COUNT)} autoencoders and PCA, trained on MNIST, side by side: **draw** a digit and watch each
one redraw it, **denoise** corrupted digits, **generate** new ones, explore their **latent space**, or **train**
your own.
"""


def tab_heading(text: str) -> gr.Markdown:
    """A tab's heading, for screen readers only (the tab's name is on screen above it): Gradio's tab panel has no
    name, so a screen reader's list of headings went from the page's title to nothing, and its panel was unnamed."""
    return gr.Markdown(f"## {text}", elem_classes=["unseen"])


def build_demo(store: ModelStore | None = None) -> gr.Blocks:
    """The app over `store` (by default: every checkpoint under checkpoints/, or under AEDEMO_CHECKPOINTS when set, or
    the Hub repo in AEDEMO_HUB_REPO), with its queue set up: app.py, the tests and the screenshots serve the same
    configuration."""
    use_hub_timeouts()  # before the store, which may load from the Hub
    store = store or ModelStore()
    gradio_fixes.install()
    # the pictures Gradio serves as files (generated grids, the 28x28 previews, downloads) go to its cache folder:
    # deleted hourly once an hour old, so a long-running Space does not fill its disk
    with gr.Blocks(title="Autoencoder playground", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO, elem_id="intro")
        status = store.status_markdown()
        if store.errors or store.notices:
            title = "Model status: some models are unavailable" if store.errors else "Model status"
            with gr.Accordion(title, open=True):
                gr.Markdown(status, elem_id="model-status")
        # models this visitor trained in the Train tab: private to the browser session, listed by every tab
        session_models = gr.State({}, time_to_live=SESSION_TTL_SECONDS)
        with gr.Tabs() as tabs:
            with gr.Tab("Draw", id="draw"):
                tab_heading("Draw a digit")
                draw = build_draw_tab(store, session_models, demo=demo)
            with gr.Tab("Denoise", id="denoise") as denoise:
                tab_heading("Denoise a digit")
                build_denoise_tab(store, session_models, drawing=draw.digit, tab=denoise, tabs=tabs)
            with gr.Tab("Generate", id="generate") as generate:
                tab_heading("Generate digits")
                build_generate_tab(store, session_models, tab=generate)
            with gr.Tab("Latent", id="latent") as latent:
                tab_heading("Latent space")
                build_latent_tab(store, session_models, demo=demo, drawing=draw.digit, tab=latent, tabs=tabs)
            with gr.Tab("Train", id="train"):
                tab_heading("Train a model")
                build_train_tab(session_models)
    demo.store = store  # tests and benchmarks reach the loaded models through the app
    # one queue for every tab; small handlers may run side by side (the Train tab limits itself to one run)
    return demo.queue(default_concurrency_limit=8, max_size=256)


# Gradio keeps a copy of every component's config for each session it has seen, closed ones included, until this
# many newer ones push it out (least recently used first): 0.28 MiB a session here, so Gradio's default of 10,000 would
# hold 2.8 GB (benchmarks/session_memory.py). A session pushed out loses its State: its drawing, its trained models.
SESSIONS_KEPT = 1000
# The largest file Gradio takes: a photo or scan of a digit under the 25-megapixel limit fits as JPEG or as a usual
# PNG; a larger file gets Gradio's own "too large" message.
MAX_UPLOAD = "50mb"


def launch_kwargs() -> dict:
    """The arguments of Blocks.launch() every launch of the app shares: the styling and the page's script (in
    Gradio 6 theme, css and js belong to launch, not Blocks), the sessions kept, and no run history. Gradio 6 keeps
    each call's inputs in the visitor's browser by default, the Hub token of a push included, in plain text, whatever
    the token field says; off, it also deletes what an earlier version of the app left there.

    max_file_size: Gradio takes files of any size by default, and keeps them an hour (a 60 MB upload was stored in
    0.3 s).

    show_error: a request Gradio refuses before any handler sees it (a sketchpad value of the wrong shape, a file
    not uploaded) gets Gradio's reason instead of a bare "Error"; the handlers themselves raise nothing a visitor
    could cause, they answer in their status lines."""
    from .ui import CSS, PAGE_JS, THEME

    return {"theme": THEME, "css": CSS, "js": PAGE_JS, "run_history": False,
            "state_session_capacity": SESSIONS_KEPT, "show_error": True, "max_file_size": MAX_UPLOAD}
