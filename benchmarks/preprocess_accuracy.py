"""How well the classifier reads drawings after each preprocessing: `python benchmarks/preprocess_accuracy.py`.

Test digits are redrawn the way people draw on the canvas: MNIST's centre lines (a skeleton) traced with a round
brush of a chosen width, anti-aliased, somewhere on a canvas of some size, in one of three styles: the value
gr.Sketchpad hands over (white background, black strokes), strokes on a transparent sheet (an editor layer), and a
dark photo or scan with light ink. Each canvas then goes through (a) the careless route, shrinking the whole canvas
to 28x28, and (b) `canvas_to_mnist`, and the project's classifier reads both. Prints accuracies overall and per
condition, and the time canvas_to_mnist takes; asserts nothing."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from aedemo.checkpoint import (
    checkpoints_root,  # noqa: E402
    load_checkpoint,  # noqa: E402
)
from aedemo.data import load_mnist  # noqa: E402
from aedemo.preprocess import canvas_to_mnist  # noqa: E402

STYLES = ("sketchpad", "transparent", "dark")
RELATIVE_BRUSHES = (0.02, 0.05, 0.1, 0.2, 0.3)  # brush width / digit height; MNIST's pen is about 0.11
UPSAMPLE = 4  # the skeleton is taken on the digit enlarged 4x, so its centre lines are smooth enough to trace


def skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean mask to one-pixel-wide centre lines."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            c = img[1:-1, 1:-1]
            n = [img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:],  # P2..P9, clockwise from north
                 img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]]
            b = sum(n)
            a = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).astype(np.uint8) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                cond = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                cond = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (c == 1) & (b >= 2) & (b <= 6) & (a == 1) & cond
            if remove.any():
                c[remove] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


def centre_lines(digit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The digit's centre lines as points and segments, in 28-px MNIST pixel units."""
    big = Image.fromarray(digit.astype(np.float32)).resize((28 * UPSAMPLE,) * 2, Image.BICUBIC)
    sk = skeleton(np.asarray(big) > 0.5)
    ys, xs = np.nonzero(sk)
    points = (np.stack([xs, ys], 1) + 0.5) / UPSAMPLE
    segments = []
    h, w = sk.shape
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):  # each pair of 8-neighbours once
        a = sk[: h - dy, max(0, -dx) : w - max(0, dx)]
        b = sk[dy:, max(0, dx) : w + min(0, dx)]
        y0, x0 = np.nonzero(a & b)
        x0 = x0 + max(0, -dx)
        segments.append(np.stack([x0, y0, x0 + dx, y0 + dy], 1))
    return points, (np.concatenate(segments) + 0.5) / UPSAMPLE


def trace(lines: tuple[np.ndarray, np.ndarray], size: tuple[int, int], scale: float, offset: np.ndarray,
          brush: float) -> np.ndarray:
    """Ink coverage [H,W] of the centre lines drawn with a round brush, anti-aliased like the browser's canvas."""
    points, segments = lines
    ss = 8 if max(size) < 100 else 2  # draw larger and average down
    mask = Image.new("L", (size[0] * ss, size[1] * ss), 0)
    pen = ImageDraw.Draw(mask)
    r = brush * ss / 2
    for x0, y0, x1, y1 in segments:
        a = (np.array([x0, y0]) * scale + offset) * ss
        b = (np.array([x1, y1]) * scale + offset) * ss
        pen.line([tuple(a), tuple(b)], fill=255, width=max(1, round(2 * r)))
    for x, y in (points * scale + offset) * ss:
        pen.ellipse([x - r, y - r, x + r, y + r], fill=255)
    return np.asarray(mask.reduce(ss), dtype=np.float32) / 255


def draw(lines: tuple[np.ndarray, np.ndarray], canvas: tuple[int, int], height: float, brush: float, style: str,
         rng: np.random.Generator) -> np.ndarray:
    """The digit traced with a round brush (width `brush` px, its 20-px box `height` px tall) on a canvas."""
    points = lines[0]
    extent = (points.max(0) - points.min(0)) * height / 20 + brush
    fit = min(1.0, *(0.95 * np.array(canvas) / extent))  # people keep their digit on the canvas
    scale, brush = height / 20 * fit, brush * fit
    lo, hi = points.min(0) * scale - brush / 2, points.max(0) * scale + brush / 2
    room = np.maximum(np.array(canvas) - (hi - lo), 0)
    ink = trace(lines, canvas, scale, -lo + rng.uniform(0, 1, 2) * room, brush)
    alpha = np.round(ink * 255).astype(np.uint8)
    if style == "transparent":  # strokes on a transparent sheet (an editor layer): RGB 0, ink in alpha
        out = np.zeros((*ink.shape, 4), np.uint8)
        out[..., 3] = alpha
        return out
    if style == "sketchpad":  # gr.Sketchpad's value in Gradio 6.31: white background, stroke layer, composite
        white = np.full((*ink.shape, 4), 255, np.uint8)
        composite = white.copy()
        composite[..., :3] = 255 - alpha[..., None]
        layer = np.zeros_like(white)
        layer[..., 3] = alpha
        return {"background": white, "layers": [layer], "composite": composite}
    paper, pen_tone = rng.uniform(0, 50), rng.uniform(190, 255)  # "dark": a photo or scan, light ink on dark
    grey = paper + (pen_tone - paper) * ink
    return np.repeat(np.round(grey).astype(np.uint8)[..., None], 3, 2)


def careless(canvas: np.ndarray | dict, style: str) -> np.ndarray:
    """What a careless demo does: the ink channel (its polarity known), the whole canvas shrunk to 28x28."""
    if style == "transparent":
        ink = Image.fromarray(canvas[..., 3])
    elif style == "sketchpad":
        ink = Image.eval(Image.fromarray(canvas["composite"]).convert("L"), lambda v: 255 - v)
    else:
        ink = Image.fromarray(canvas).convert("L")
    return np.asarray(ink.resize((28, 28)), dtype=np.float32) / 255


def bucket(value: float, edges: tuple[float, ...], names: tuple[str, ...]) -> str:
    return names[int(np.searchsorted(edges, value))]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=1000, help="number of test digits")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--classifier", default=str(checkpoints_root() / "classifier"), help="classifier checkpoint folder")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    clf = load_checkpoint(args.classifier)
    rng = np.random.default_rng(args.seed)
    images, labels = load_mnist("test")
    idx = rng.choice(len(images), args.n, replace=False)
    digits = images[idx].numpy().astype(np.float32) / 255
    ys = labels[idx]

    rows, ms, cpu_ms, ideal = [], [], [], []
    for digit in digits:
        lines = centre_lines(digit)
        # the drawing made straight into MNIST's frame with MNIST's pen: what perfect preprocessing would give
        ideal.append(trace(lines, (28, 28), 1.0, np.zeros(2), 2.5))
        canvas = (int(rng.choice([400, 600, 800])), int(rng.choice([400, 600, 800])))
        height = rng.uniform(0.2, 0.9) * min(canvas)
        rel = float(rng.choice(RELATIVE_BRUSHES)) * rng.uniform(0.8, 1.25)
        brush = max(1.0, rel * height)
        style = str(rng.choice(STYLES))
        img = draw(lines, canvas, height, brush, style, rng)
        t0, c0 = time.perf_counter(), time.process_time()
        ours = canvas_to_mnist(img)
        ms.append((time.perf_counter() - t0) * 1000)
        cpu_ms.append((time.process_time() - c0) * 1000)
        rows.append({"careless": careless(img, style), "ours": ours if ours is not None else np.zeros((28, 28)),
                     "style": style, "brush": brush / height, "size": height / min(canvas)})

    def accuracy(images: list[np.ndarray]) -> torch.Tensor:
        with torch.no_grad():
            return clf(torch.from_numpy(np.stack(images)).float().unsqueeze(1)).argmax(1) == ys

    preds = {route: accuracy([r[route] for r in rows]) for route in ("careless", "ours")}
    clean, traced = accuracy(list(digits)).float().mean().item(), accuracy(ideal).float().mean().item()

    brushes = ("hairline (~2%)", "thin (~5%)", "MNIST-like (~10%)", "thick (~20%)", "very thick (~30%)")
    sizes = ("small (20-45% of canvas)", "medium (45-70%)", "large (70-90%)")
    groups: dict[str, list[int]] = {name: [] for name in (
        "all", *(f"style {s}" for s in STYLES), *(f"brush {b}" for b in brushes), *(f"digit {s}" for s in sizes))}
    for i, r in enumerate(rows):
        groups["all"].append(i)
        groups[f"style {r['style']}"].append(i)
        groups["brush " + bucket(r["brush"], (0.035, 0.075, 0.15, 0.25), brushes)].append(i)
        groups["digit " + bucket(r["size"], (0.45, 0.7), sizes)].append(i)

    print(f"{args.n} test digits, classifier {args.classifier}: {clean:.1%} right on the originals, {traced:.1%} on "
          "the drawings themselves traced straight into MNIST's frame with MNIST's pen (a reference for the rest)")
    print(f"{'condition':<34} {'n':>5} {'careless':>9} {'canvas_to_mnist':>16}")
    for name, ids in groups.items():
        if not ids:
            continue
        acc = {k: v[ids].float().mean().item() for k, v in preds.items()}
        print(f"{name:<34} {len(ids):>5} {acc['careless']:>9.1%} {acc['ours']:>16.1%}")
    for name, times in (("wall", ms), ("CPU", cpu_ms)):  # CPU time is what it costs a shared, loaded machine
        times.sort()
        print(f"canvas_to_mnist {name} time per canvas: p50 {statistics.median(times):.1f} ms, "
              f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms")

if __name__ == "__main__":
    main()
