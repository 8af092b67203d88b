"""Driving the Space in headless Chromium: shared by the end-to-end tests, scripts/screenshots.py and benchmarks.

Debian's /usr/bin/chromium through Playwright (`executable_path`), never a browser Playwright downloads.
Playwright is a development dependency: import this module only where it is installed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # playwright is a test and benchmark dependency, not the Space's
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
Strokes = list[list[tuple[float, float]]]  # each stroke: (x, y) points in fractions of the canvas


# Animation frames at most every given ms: each callback waits that long, then for the next frame. Cancelling works
# through the wrapper's own ids (Pixi stops its ticker that way).
FRAME_CAP_JS = """(() => {
  const request = window.requestAnimationFrame.bind(window), cancel = window.cancelAnimationFrame.bind(window);
  const pending = new Map();
  let last = 0;
  window.requestAnimationFrame = (callback) => {
    const id = ++last;
    pending.set(id, {timer: setTimeout(() => {
      pending.set(id, {frame: request((time) => { pending.delete(id); callback(time); })});
    }, %d)});
    return id;
  };
  window.cancelAnimationFrame = (id) => {
    const waiting = pending.get(id);
    pending.delete(id);
    if (waiting && "timer" in waiting) clearTimeout(waiting.timer);
    else if (waiting) cancel(waiting.frame);
  };
})();"""


def new_context(browser: Browser, max_fps: int | None = None, **options: Any) -> BrowserContext:
    """A browser context (`options` as Playwright's `new_context` takes them) whose pages run animation frames at
    most `max_fps` times a second, when given.

    For the end-to-end tests: there Chromium paints WebGL in software (SwiftShader), and Gradio's sketchpad redraws
    its two canvases every frame for half a second after anything touches it, which is most of the browser's CPU
    (see docs/performance.md). Measurements (benchmarks/browser_latency.py) keep the browser's own frame rate.
    """
    context = browser.new_context(**options)
    if max_fps:
        ms = round(1000 / max_fps)
        context.add_init_script(FRAME_CAP_JS % ms)
    return context


@contextmanager
def open_app(url: str, timeout_ms: int, max_fps: int | None = None) -> Iterator[Page]:
    """A Playwright page on the app at `url`, once the Draw tab's sketchpad is on screen (frames capped at `max_fps`
    a second when given: see new_context)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = new_context(browser, max_fps, viewport=VIEWPORT).new_page()
            page.goto(url, wait_until="load", timeout=timeout_ms)
            page.wait_for_selector("#draw-sketchpad canvas", timeout=timeout_ms)
            yield page
        finally:
            browser.close()


def draw(page: Page, strokes: Strokes, steps: int = 5) -> None:
    """Mouse strokes on the Draw tab's sketchpad (`steps` mouse moves between consecutive points)."""
    box = page.locator("#draw-sketchpad canvas").first.bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=steps)
        page.mouse.up()
        time.sleep(0.5)  # let the stroke reach the app before the next one starts


# what Gradio's sketchpad requests while it takes in a value it was given: its picture, and its own copy of it
SKETCHPAD_TRAFFIC = ("/gradio_api/upload", "/gradio_api/file=")


def wait_for_canvas_to_settle(page: Page, quiet_s: float = 1.5, timeout_ms: int = 30_000) -> None:
    """Wait until the sketchpad has gone `quiet_s` without fetching or uploading a picture (at most `timeout_ms`).

    Gradio 6.31's sketchpad fetches the picture an event puts on it and sends it back ~30 times, for seconds on a
    busy machine, whenever another output of the page updates (gradio-app/gradio#11053). A Clear pressed meanwhile is
    undone: the next fetch paints the picture back. A visitor presses Clear again; a test must not race it.
    """
    last = [time.monotonic()]

    def seen(request) -> None:
        if any(part in request.url for part in SKETCHPAD_TRAFFIC):
            last[0] = time.monotonic()

    page.on("request", seen)
    try:
        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() - last[0] < quiet_s and time.monotonic() < deadline:
            page.wait_for_timeout(100)  # lets Playwright deliver the request events meanwhile
    finally:
        page.remove_listener("request", seen)


def clear_canvas(page: Page, timeout_ms: int = 30_000) -> None:
    """Press the Draw tab's "Clear canvas" once the sketchpad has settled (a stuck overlay over the sketchpad would
    make this time out)."""
    wait_for_canvas_to_settle(page, timeout_ms=timeout_ms)
    page.locator("#draw-sketchpad button[aria-label='Clear canvas']").click(timeout=timeout_ms)


def train(page: Page, model: str, timeout_ms: int) -> str:
    """In the Train tab, pick `model` (its menu label, e.g. "AE"), press Train and wait for the run to end (and the
    Train button, greyed out meanwhile, to be pressable again).

    Returns the status text: it says "finished", "stopped" or "Not trained".
    """
    page.get_by_role("tab", name="Train").click()
    page.wait_for_selector("#train-variant input", timeout=timeout_ms)
    page.locator("#train-variant input").click()
    page.get_by_role("option", name=model, exact=True).click()
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function(
        "() => /finished|stopped|Not trained/.test(document.querySelector('#train-status').innerText)",
        timeout=timeout_ms)
    page.wait_for_function("() => !document.querySelector('#train-button').disabled", timeout=timeout_ms)
    return page.locator("#train-status").inner_text()
