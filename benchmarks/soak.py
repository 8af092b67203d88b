"""The Space's memory over a long run of calls: `python benchmarks/soak.py [--rounds 1000] [--every 100]`.

Starts `python app.py` on a free local port and makes `--rounds` rounds of calls, one to every computing endpoint
but train (reconstruct with every model, denoise, generate, generate_all, interpolate, latent_map, latent: those of
benchmarks/app_latency.py), over Gradio's plain-HTTP route from one session, as one visitor clicking through the
tabs for hours would. Prints the server's resident memory every `--every` rounds, with each endpoint's time, and the
growth per 1,000 rounds from the first print on (the first rounds fill the caches, which is not growth). Prints
figures only; the memory of sessions coming and going is benchmarks/session_memory.py's. `--endpoints` limits the
rounds to some endpoints.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_latency import RawClient, endpoint_calls  # noqa: E402
from app_startup import digit_png, load_line, memory_mb, served_app  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=1000)
    p.add_argument("--every", type=int, default=100, help="print the memory after this many rounds")
    endpoints = endpoint_calls(digit_png(), raw=True)
    p.add_argument("--endpoints", nargs="+", choices=list(endpoints), default=list(endpoints),
                   help="the endpoints a round calls (default: all of them), to find which one holds memory")
    args = p.parse_args()
    print(load_line())
    calls = {name: endpoints[name][1] for name in args.endpoints}
    with served_app() as (url, proc):
        client = RawClient(url)
        marks: list[tuple[int, float]] = []
        # each endpoint's mean time over the rounds since the last print: one that slows as calls add up holds on to
        # something too
        print(f"{'rounds':>7s} {'calls':>7s} {'resident MiB':>13s}  mean ms per call since the last line: "
              + " ".join(calls))
        spent = dict.fromkeys(calls, 0.0)
        last = 0
        for n in range(1, args.rounds + 1):
            for name, call in calls.items():
                start = time.perf_counter()
                call(client, n)
                spent[name] += time.perf_counter() - start
            if n % args.every == 0 or n == args.rounds:
                marks.append((n, memory_mb(proc.pid)[0]))
                means = " ".join(f"{1000 * t / (n - last):.0f}" for t in spent.values())
                print(f"{n:7d} {n * len(calls):7d} {marks[-1][1]:13.0f}  {means}", flush=True)
                spent, last = dict.fromkeys(calls, 0.0), n
        peak = memory_mb(proc.pid)[1]
    if len(marks) > 1:
        (n0, m0), (n1, m1) = marks[0], marks[-1]
        print(f"growth after round {n0}: {(m1 - m0) / (n1 - n0) * 1000:+.1f} MiB per 1,000 rounds "
              f"({m0:.0f} -> {m1:.0f} MiB over {n1 - n0} rounds); peak {peak:.0f} MiB")
    print(load_line())


if __name__ == "__main__":
    main()
