"""What a visitor feels in the Draw tab: from lifting the pen to the nine reconstructions on screen.

`python benchmarks/browser_latency.py [--strokes 20]` starts `python app.py` on a free local port, opens it in
headless Chromium (Debian's /usr/bin/chromium through Playwright, never a downloaded browser) and draws strokes
with the mouse. For each stroke it reads the page's own clocks (no Python round trip is counted) and splits the
time from the pointer going up into: the sketchpad turning its canvas into PNGs, until it starts sending them
(Gradio's component_server call); uploading them, until the event joins the queue; and the server computing and
the page showing the new reconstructions. The browser shares this machine's two cores with the server and draws
WebGL in software (--disable-gpu), unlike a visitor's browser, so the first part is pessimistic. Prints figures
only, with the machine's load.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_startup import load_line, served_app  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aedemo.space.browser import clear_canvas, draw, open_app  # noqa: E402

# The page's clocks: pointer-ups and changes of the reconstructions; the requests come from Resource Timing.
WATCH_JS = """
() => {
  window.__ups = []; window.__shown = [];
  performance.setResourceTimingBufferSize(100000);
  document.addEventListener('pointerup', () => window.__ups.push(performance.now()), true);
  new MutationObserver(() => window.__shown.push(performance.now())).observe(
    document.querySelector('#draw-gallery'), {childList: true, subtree: true, characterData: true});
}
"""
REQUESTS_JS = "() => performance.getEntriesByType('resource').map(e => [e.name, e.startTime])"
PAUSE_S = 2.5  # between strokes: each one's reconstructions are on screen long before the next starts


def stroke(i: int) -> list[tuple[float, float]]:
    """A different short stroke each time, inside the canvas, so every one changes the drawing."""
    rng = np.random.default_rng(i)
    x0, y0 = rng.uniform(0.25, 0.75, 2)
    x1, y1 = np.clip([x0, y0] + rng.uniform(-0.2, 0.2, 2), 0.15, 0.85)
    return [(float(x0), float(y0)), (float((x0 + x1) / 2), float((y0 + y1) / 2)), (float(x1), float(y1))]


def first_after(times: list[float], t: float, before: float) -> float | None:
    return min((x for x in times if t < x < before), default=None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--strokes", type=int, default=20)
    p.add_argument("--clear-every", type=int, default=6, help="strokes before the canvas is cleared")
    args = p.parse_args()
    print(load_line())
    with served_app() as (url, _), open_app(f"{url}/", 120_000) as page:
        page.wait_for_function(
            "() => document.querySelector(\"#draw-sketchpad button[aria-label='Brush']\") !== null",
            timeout=120_000)
        time.sleep(2)  # the brush gets selected a moment after the canvas appears
        draw(page, [stroke(args.strokes)], steps=2)  # one more stroke first warms the caches: not counted
        time.sleep(PAUSE_S)
        page.evaluate(WATCH_JS)
        for i in range(args.strokes):
            if i and i % args.clear_every == 0:
                clear_canvas(page)
                time.sleep(PAUSE_S)
            draw(page, [stroke(i)], steps=2)
            time.sleep(PAUSE_S)
        ups, shown = page.evaluate("() => [window.__ups, window.__shown]")
        requests = page.evaluate(REQUESTS_JS)
    sent = sorted(t for name, t in requests if "/component_server" in name)
    joined = sorted(t for name, t in requests if "/queue/join" in name)
    parts: list[tuple[float, float, float]] = []
    # strokes only: a Clear's pointer-up is followed by no drawing to send
    for up, next_up in zip(ups, [*ups[1:], float("inf")], strict=True):
        s, j = first_after(sent, up, next_up), first_after(joined, up, next_up)
        if s is None or j is None:
            continue
        g = first_after(shown, j, next_up)
        if g is not None:
            parts.append((s - up, j - s, g - j))
    if not parts:
        print("no stroke could be timed (did Gradio's sketchpad change how it sends drawings?)")
        return
    ms = np.asarray(parts)
    total = ms.sum(1)
    print(f"{len(ms)} strokes, p50 (p95) in ms:")
    for k, name in enumerate(("browser: canvas to PNGs, until sent", "uploads, until the event is queued",
                              "server + showing the reconstructions")):
        print(f"  {name:38s} {np.percentile(ms[:, k], 50):6.0f} ({np.percentile(ms[:, k], 95):.0f})")
    name = "pen up -> reconstructions on screen"
    print(f"  {name:38s} {np.percentile(total, 50):6.0f} ({np.percentile(total, 95):.0f})")
    print(load_line())


if __name__ == "__main__":
    main()
