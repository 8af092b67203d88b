"""The Space's memory while visitors upload big pictures at once: `python benchmarks/upload_memory.py`.

Starts `python app.py` on a free local port; `--clients` gradio_clients each send `--uploads` pictures of
`--side` x `--side` pixels (a digit on white, RGBA PNG: the format that costs most to decode; the limit is 25
megapixels) to `/reconstruct`, all at once. Prints the server's resident memory before, its peak during, and 3 s
after. Prints figures only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_startup import load_line, memory_mb, served_app  # noqa: E402


def big_picture(side: int, folder: str) -> str:
    """A PNG of a dark bar (a 1) on a white, opaque RGBA sheet of side x side pixels."""
    sheet = np.full((side, side, 4), 255, np.uint8)
    sheet[side // 5: 4 * side // 5, 2 * side // 5: 13 * side // 25, :3] = 0
    path = Path(folder) / f"big-{side}.png"
    Image.fromarray(sheet).save(path)
    return str(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--uploads", type=int, default=3, help="pictures each client sends, one after another")
    p.add_argument("--side", type=int, default=5000)
    args = p.parse_args()
    from gradio_client import Client, handle_file

    print(load_line())
    with tempfile.TemporaryDirectory() as folder, served_app() as (url, proc):
        path = big_picture(args.side, folder)
        clients = [Client(url, verbose=False) for _ in range(args.clients)]
        before = memory_mb(proc.pid)[0]
        samples, done, said = [before], threading.Event(), set()

        def sample() -> None:
            while not done.is_set():
                samples.append(memory_mb(proc.pid)[0])
                time.sleep(0.05)

        def upload(client: Client) -> None:
            for _ in range(args.uploads):
                said.add(client.predict(handle_file(path), ["ae"], "ae", api_name="/reconstruct")[-1])

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        senders = [threading.Thread(target=upload, args=(c,)) for c in clients]
        for s in senders:
            s.start()
        for s in senders:
            s.join()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        time.sleep(3)
        print(f"{args.clients} clients x {args.uploads} uploads of {args.side}x{args.side} px "
              f"({Path(path).stat().st_size / 1e3:.0f} kB PNG) in {seconds:.1f} s; statuses: {sorted(said)}")
        print(f"resident MiB: before {before:.0f}, peak {max(samples):.0f}, 3 s after {memory_mb(proc.pid)[0]:.0f}")
    print(load_line())


if __name__ == "__main__":
    main()
