"""The Space's memory over a long run of calls: `python benchmarks/soak.py [--rounds 1000] [--every 100]`.

Starts `python app.py` on a free local port and makes `--rounds` rounds of calls, one to every computing endpoint
but train (reconstruct with every model, denoise, generate, generate_all, interpolate, latent_map, latent: those of
benchmarks/app_latency.py), over Gradio's plain-HTTP route from one session, as one visitor clicking through the
tabs for hours would. Prints the server's resident memory every `--every` rounds, with those rounds' time, and the
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
    calls = [endpoints[name][1] for name in args.endpoints]
    with served_app() as (url, proc):
        client = RawClient(url)
        marks: list[tuple[int, float]] = []
        # the time of the rounds since the last print: a round that slows as calls add up holds on to something too
        print(f"{'rounds':>7s} {'calls':>7s} {'resident MiB':>13s} {'s per round':>12s}")
        since, last = time.perf_counter(), 0
        for n in range(1, args.rounds + 1):
            for call in calls:
                call(client, n)
            if n % args.every == 0 or n == args.rounds:
                marks.append((n, memory_mb(proc.pid)[0]))
                per_round = (time.perf_counter() - since) / (n - last)
                print(f"{n:7d} {n * len(calls):7d} {marks[-1][1]:13.0f} {per_round:12.3f}", flush=True)
                since, last = time.perf_counter(), n
        peak = memory_mb(proc.pid)[1]
    if len(marks) > 1:
        (n0, m0), (n1, m1) = marks[0], marks[-1]
        print(f"growth after round {n0}: {(m1 - m0) / (n1 - n0) * 1000:+.1f} MiB per 1,000 rounds "
              f"({m0:.0f} -> {m1:.0f} MiB over {n1 - n0} rounds); peak {peak:.0f} MiB")
    print(load_line())


if __name__ == "__main__":
    main()
