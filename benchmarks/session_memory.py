"""The Space's memory as visitors come and go: `python benchmarks/session_memory.py [--sessions 1500]`.

Starts `python app.py` on a free local port and makes one cheap call (`latent`, a decoded point) per new session,
as many first visits would, printing the server's resident memory as the sessions add up: Gradio keeps a copy of
every component's config for each session until `state_session_capacity` newer ones push it out
(aedemo.space.blocks.SESSIONS_KEPT). Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_startup import load_line, memory_mb, served_app  # noqa: E402


def call_in_new_session(url: str, fn_index: int) -> None:
    """One `latent` call through Gradio's queue, as a browser does it, under a session hash never seen before."""
    session = uuid.uuid4().hex
    body = {"data": ["vae", 0.1, -0.2, 0.3, 0, None], "fn_index": fn_index, "session_hash": session,
            "event_data": None, "trigger_id": None}
    request = urllib.request.Request(f"{url}/gradio_api/queue/join", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=60).read()
    with urllib.request.urlopen(f"{url}/gradio_api/queue/data?session_hash={session}", timeout=60) as events:
        for line in events:
            if b"process_completed" in line:
                return


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=1500)
    p.add_argument("--every", type=int, default=250, help="print the memory after this many sessions")
    args = p.parse_args()
    print(load_line())
    with served_app() as (url, proc):
        config = json.load(urllib.request.urlopen(f"{url}/config", timeout=60))
        fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "latent")
        call_in_new_session(url, fn_index)  # the caches a first call fills are not the sessions' cost
        first = memory_mb(proc.pid)[0]
        print(f"{'sessions':>8s} {'resident MiB':>13s}\n{1:8d} {first:13.0f}")
        for n in range(2, args.sessions + 1):
            call_in_new_session(url, fn_index)
            if n % args.every == 0 or n == args.sessions:
                print(f"{n:8d} {memory_mb(proc.pid)[0]:13.0f}", flush=True)
    print(load_line())


if __name__ == "__main__":
    main()
