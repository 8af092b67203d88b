"""Screenshot each tab of the Space with headless Chromium: `python scripts/screenshots.py [--url URL]`.

Without --url the app is built and launched in this process on a free port. Uses Debian's /usr/bin/chromium
through Playwright (never a downloaded browser). Writes docs/screenshots/<tab>.png. The Train shot trains the plain
AE for 3 epochs: set AEDEMO_DATA_DIR to a folder with MNIST/raw to train on the full training set, as a Space would.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

TABS = {"draw": "Draw", "denoise": "Denoise", "generate": "Generate", "latent": "Latent",
        "train": "Train"}
# a hand-drawn 3, as strokes of (x, y) in fractions of the canvas
THREE = [[(0.32, 0.22), (0.45, 0.16), (0.6, 0.18), (0.66, 0.28), (0.6, 0.4), (0.46, 0.46)],
         [(0.46, 0.46), (0.62, 0.5), (0.68, 0.62), (0.62, 0.76), (0.46, 0.82), (0.3, 0.76)]]


def launch_app() -> str:
    from aedemo.space import build_demo, launch_kwargs

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    demo = build_demo()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs())
    return demo.local_url


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--url", help="a running app (default: launch one here)")
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    p.add_argument("--timeout", type=float, default=180, help="seconds to wait for each tab's outputs")
    args = p.parse_args()
    from aedemo.space.browser import draw, open_app, train

    url = args.url or launch_app()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wait_ms = int(args.timeout * 1000)
    with open_app(url, wait_ms) as page:
        time.sleep(2)  # the brush gets selected a moment after the canvas appears
        draw(page, THREE, steps=12)
        page.wait_for_selector("#draw-gallery img", timeout=wait_ms)
        page.wait_for_selector("#draw-code svg", timeout=wait_ms)
        time.sleep(3)
        page.screenshot(path=str(out / "draw.png"), full_page=True)
        for name, title in list(TABS.items())[1:]:
            page.get_by_role("tab", name=title).click()
            if name == "latent":
                page.wait_for_function(
                    "() => document.querySelector('#latent-decoded img') !== null", timeout=wait_ms)
                time.sleep(2)
                box = page.locator("#latent-scatter canvas").bounding_box()  # click a dot: decode it
                page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
                page.wait_for_function(
                    "() => document.querySelector('#latent-original img') !== null", timeout=wait_ms)
            if name == "generate":
                page.wait_for_selector("#generate-grid img", timeout=wait_ms)
            if name == "train":  # a short run of the plain AE (an MLP: a few seconds an epoch), to its end
                train(page, "AE", wait_ms)
            time.sleep(3)
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    print("wrote", ", ".join(f"{out / n}.png" for n in TABS))


if __name__ == "__main__":
    main()
