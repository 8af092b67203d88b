"""The Space's memory over a long run of calls: `python benchmarks/soak.py [--rounds 1000] [--every 100]`.

Starts `python app.py` on a free local port and makes `--rounds` rounds of calls, one to every computing endpoint
but train (reconstruct with every model, denoise, generate, generate_all, interpolate, latent_map, latent: those of
benchmarks/app_latency.py), over Gradio's plain-HTTP route from one session, as one visitor clicking through the
tabs for hours would. Prints the server's resident memory every `--every` rounds, with each endpoint's time, and the
growth per 1,000 rounds from the first print on (the first rounds fill the caches, which is not growth). Prints
figures only; the memory of sessions coming and going is benchmarks/session_memory.py's. `--endpoints` limits the
rounds to some endpoints.

Resident memory counts the freed memory glibc keeps for reuse, which comes and goes with the host's load. To tell
that from memory still held, `--in-process` serves the app in this process instead (as app.py builds it) and also
prints malloc's bytes in use (`aedemo.allocator.heap_in_use`) and how many components Gradio keeps for the session;
`--delete-cache S` then has Gradio delete its served files every S seconds once S seconds old (the app: hourly).
In process the client shares the server's interpreter, so its times per call are not comparable with a plain run's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_latency import RawClient, endpoint_calls  # noqa: E402
from app_startup import digit_png, free_port, load_line, memory_mb, served_app  # noqa: E402


@contextmanager
def served_here(delete_cache: int | None) -> Iterator[tuple[str, Any]]:
    """The app as app.py builds it, served from this process on a free port: (its URL, its gr.Blocks). One torch
    thread per handler, as app.py has it, comes with app_latency's import above."""
    from aedemo.space import build_demo, launch_kwargs

    demo = build_demo()
    if delete_cache:
        demo.delete_cache = (delete_cache, delete_cache)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs())
    try:
        yield f"http://127.0.0.1:{port}", demo
    finally:
        demo.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=1000)
    p.add_argument("--every", type=int, default=100, help="print the memory after this many rounds")
    endpoints = endpoint_calls(digit_png(), raw=True)
    p.add_argument("--endpoints", nargs="+", choices=list(endpoints), default=list(endpoints),
                   help="the endpoints a round calls (default: all of them), to find which one holds memory")
    p.add_argument("--in-process", action="store_true",
                   help="serve the app in this process; also print malloc's bytes in use and the session's components")
    p.add_argument("--delete-cache", type=int, default=None, metavar="S",
                   help="with --in-process: delete served files every S seconds, once S seconds old")
    args = p.parse_args()
    from aedemo.allocator import heap_in_use

    if args.delete_cache and not args.in_process:
        p.error("--delete-cache needs --in-process (app.py purges hourly)")
    if args.in_process and heap_in_use() is None:
        p.error("--in-process reads glibc's malloc figures: this system's malloc is not glibc's")
    print(load_line())
    calls = {name: endpoints[name][1] for name in args.endpoints}
    serving = served_here(args.delete_cache) if args.in_process else served_app()
    with serving as (url, server):
        pid = os.getpid() if args.in_process else server.pid
        client = RawClient(url)

        def held() -> tuple[float, int] | None:  # what --in-process adds: MiB in use, the session's components
            if not args.in_process:
                return None
            session = server.state_holder.session_data[client.session_hash]
            return heap_in_use() / 2**20, len(session.blocks_config.blocks)

        marks: list[tuple[int, float, tuple[float, int] | None]] = []
        # each endpoint's mean time over the rounds since the last print: one that slows as calls add up holds on to
        # something too
        extra = f" {'in use MiB':>11s} {'components':>10s}" if args.in_process else ""
        print(f"{'rounds':>7s} {'calls':>7s} {'resident MiB':>13s}{extra}  mean ms per call since the last line: "
              + " ".join(calls))
        spent = dict.fromkeys(calls, 0.0)
        last = 0
        for n in range(1, args.rounds + 1):
            for name, call in calls.items():
                start = time.perf_counter()
                call(client, n)
                spent[name] += time.perf_counter() - start
            if n % args.every == 0 or n == args.rounds:
                marks.append((n, memory_mb(pid)[0], held()))
                means = " ".join(f"{1000 * t / (n - last):.0f}" for t in spent.values())
                kept = marks[-1][2]
                extra = "" if kept is None else f" {kept[0]:11.1f} {kept[1]:10d}"
                print(f"{n:7d} {n * len(calls):7d} {marks[-1][1]:13.0f}{extra}  {means}", flush=True)
                spent, last = dict.fromkeys(calls, 0.0), n
        peak = memory_mb(pid)[1]
    if len(marks) > 1:
        (n0, m0, h0), (n1, m1, h1) = marks[0], marks[-1]
        print(f"growth after round {n0}: {(m1 - m0) / (n1 - n0) * 1000:+.1f} MiB per 1,000 rounds resident "
              f"({m0:.0f} -> {m1:.0f} MiB over {n1 - n0} rounds); peak {peak:.0f} MiB")
        if args.in_process:
            (u0, _), (u1, _) = h0, h1
            print(f"in use: {(u1 - u0) / (n1 - n0) * 1000:+.1f} MiB per 1,000 rounds ({u0:.1f} -> {u1:.1f} MiB)")
    print(load_line())


if __name__ == "__main__":
    main()
