"""Latency of the Space's handlers, in-process and over HTTP: `python benchmarks/app_latency.py`.

1. In-process: each tab's handler called directly (as Gradio calls it) with real test digits; p50 / p95 in ms.
   Target: reconstruct with all variants p50 <= 5 ms.
2. HTTP: `python app.py` on a free local port; every endpoint with 1 client, then `reconstruct` with 8 and
   64 concurrent clients (each its own client and thread); p50 / p95, errors and throughput. Twice: through
   gradio_client (with ssl_verify=False: by default it loads the CA bundle afresh for every request, ~150 ms of
   client CPU per call, for an http:// URL that never uses it), and through Gradio's plain-HTTP route (upload,
   POST /gradio_api/call/<api>, read the event stream) with httpx. A call is timed from submit to result,
   without fetching output files (the Draw and Denoise tabs send their pictures inline; a browser fetches other
   images separately). Targets: 1 client p50 <= 40 ms; 64 clients -> 0 errors. Then the server's peak memory
   (target <= 1.5 GB).
3. With --during-training: the 1-client reconstruct latency again while the Train tab trains a model.

Next to each wall-clock figure is the CPU time the call used (in-process: this process; over HTTP: the server
process per call): on a shared, busy machine wall time mostly measures the wait for a core, CPU time is what
the call costs on an idle one. The machine's load is printed too. Prints figures, asserts nothing. Set
AEDEMO_CHECKPOINTS to serve another checkpoints folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

# As app.py: torch single-threaded in every thread (the handlers' and the Draw tab's model pool), set before
# torch loads; torch.set_num_threads would reach only the thread that calls it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_startup import digit_png, free_port, launch_app, load_line, memory_mb, stop_app, wait_until_up  # noqa: E402


def percentiles(times: list[float]) -> str:
    ms = np.asarray(times) * 1000
    return f"p50 {np.percentile(ms, 50):7.1f} ms   p95 {np.percentile(ms, 95):7.1f} ms"


def time_calls(fn: Callable[[int], object], repeats: int, warmup: int = 3) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) per call of fn(i), i = 0..repeats-1 (a different digit or seed each time).

    CPU time is what the call would take on an idle core: on a shared, busy machine the wall time mostly
    measures the wait for a core.
    """
    for i in range(warmup):
        fn(i)
    wall, cpu = [], []
    for i in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(i)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) that process `pid` has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- 1. in-process ---------------------------------------------------------------------------------------------

def loaded_models(store) -> set[str]:
    return {*store.models, *(["classifier"] if store.classifier is not None else [])}


def cvae_label(model) -> torch.Tensor | None:
    """The class a conditional model is asked to draw in these timings (any class costs the same)."""
    return torch.tensor([3]) if model.conditional else None


@torch.no_grad()
def weights_used(models: list, x: torch.Tensor) -> list[torch.Tensor]:
    """The parameters a reconstruction of x reads (not, e.g., the AAE's discriminator, which only trains)."""
    used: dict[int, torch.Tensor] = {}

    def note(module, args, output) -> None:
        used.update((id(p), p) for p in module.parameters(recurse=False))

    hook = torch.nn.modules.module.register_module_forward_hook(note)
    try:
        for m in models:
            m.reconstruct(x, cvae_label(m))
    finally:
        hook.remove()
    return list(used.values())


def in_process(repeats: int) -> None:
    from aedemo.space.denoise_tab import denoise
    from aedemo.space.draw_tab import reconstruct, test_digit_canvas
    from aedemo.space.generate_tab import generate, generate_all, interpolate
    from aedemo.space.inputs import to_mnist
    from aedemo.space.latent_tab import decode_point, latent_map
    from aedemo.space.store import ModelStore

    store = ModelStore()
    store.warm_up()  # app.py does this right after launch, before visitors arrive
    print(f"\n1. in-process, {repeats} calls each, torch threads {torch.get_num_threads()}; models: "
          f"{', '.join(store.models)}" + (f"; unavailable: {', '.join(store.errors)}" if store.errors else ""))
    canvases = [test_digit_canvas(store, i) for i in range(100)]
    _, x_test, _ = store.test_set
    models = list(store.models.values())

    @torch.no_grad()
    def models_only(i: int) -> None:
        x = x_test[i % 100 : i % 100 + 1]
        for m in models:
            m.reconstruct(x, cvae_label(m))

    def classify(i: int) -> None:
        store.classify(x_test[i % 100 : i % 100 + 1])

    # At batch 1 the models mostly wait on their weights: reading each weight one stroke uses once (summing it)
    # is the floor under "the models" row, whatever the arithmetic.
    weights = weights_used(models, x_test[:1])
    megabytes = sum(w.numel() * w.element_size() for w in weights) / 2**20

    @torch.no_grad()
    def read_weights(i: int) -> None:
        for w in weights:
            w.sum()

    # (name, models it needs, call); the indented rows split the first one into its parts
    cases: list[tuple[str, tuple[str, ...], Callable[[int], object]]] = [
        ("reconstruct, all variants (handler)", (), lambda i: reconstruct(store, canvases[i % 100], None, "vae", {})),
        ("  preprocessing (400 px canvas -> 28x28)", (), lambda i: to_mnist(canvases[i % 100])),
        ("  the classifier", ("classifier",), classify),
        ("  the models, one after another", (), models_only),
        (f"  reading their weights once ({megabytes:.0f} MB)", (), read_weights),
        ("denoise", ("dae", "ae", "conv", "pca"),
         lambda i: denoise(store, "Test digit", i, None, None, "gaussian", 0.5, i, None, {})),
        ("generate (cvae 16 + vae, aae)", ("cvae", "vae", "aae"),
         lambda i: generate(store, "cvae", i % 10, 16, 1.0, i, ["vae", "aae"], {})),
        ("generate_all (cvae)", ("cvae",), lambda i: generate_all(store, "cvae", 1.0, i, {})),
        ("interpolate (cvae, 10 frames)", ("cvae",), lambda i: interpolate(store, "cvae", 1, 7, 10, 1.0, i, {})),
        ("latent_map (vae, 3-D, 2000 points)", ("vae",), lambda i: latent_map(store, "vae", "3-D", 2000, {})),
        ("latent (decode a point)", ("vae",), lambda i: decode_point(store, "vae", 0.1 * (i % 7), -0.2, 0.3, 0, {})),
    ]
    loaded = loaded_models(store)
    for name, needs, fn in cases:
        missing = [n for n in needs if n not in loaded]
        if missing:
            print(f"  {name:42s} skipped: {', '.join(missing)} not loaded")
            continue
        wall, cpu = time_calls(fn, repeats)
        print(f"  {name:42s} {percentiles(wall)}   CPU p50 {np.percentile(cpu, 50) * 1000:7.1f} ms")


# --- 2. HTTP ---------------------------------------------------------------------------------------------------

class RawClient:
    """Gradio's documented plain-HTTP route (upload, POST /call/<api>, read the event stream), via httpx.

    gradio_client spends ~100 ms of CPU per call on its own machinery (measured here against a one-line echo
    app), so on a 2-core machine that also runs the server its figures are mostly the client's; this client's
    are the server's.
    """

    def __init__(self, url: str):
        import httpx

        self.base = url.rstrip("/") + "/gradio_api"
        self.http = httpx.Client(timeout=300)
        # one session per client, as a browser tab or gradio_client has: without one, Gradio starts a new session
        # (and builds its per-session config of every component) for each call
        self.session_hash = uuid.uuid4().hex

    def upload(self, path: str) -> dict:
        with open(path, "rb") as f:
            r = self.http.post(f"{self.base}/upload", files={"files": (Path(path).name, f, "image/png")})
        r.raise_for_status()
        return {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}}

    def predict(self, *data, api_name: str):
        api = api_name.strip("/")
        r = self.http.post(f"{self.base}/call/{api}", json={"data": list(data), "session_hash": self.session_hash})
        r.raise_for_status()
        event = None
        with self.http.stream("GET", f"{self.base}/call/{api}/{r.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    if event == "error":
                        raise RuntimeError(f"{api}: {line[5:].strip()[:200]}")
                    return line[5:]
        raise RuntimeError(f"{api}: the event stream ended without a result")


def http_calls(make_client: Callable, call: Callable, clients: int, per_client: int
               ) -> tuple[list[float], int, float]:
    """`clients` threads, each with its own client, make `per_client` calls; (latencies, errors, wall seconds)."""
    pool = [make_client() for _ in range(clients)]
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    go = threading.Barrier(clients + 1)

    def work(client) -> None:
        go.wait()
        for i in range(per_client):
            start = time.perf_counter()
            try:
                call(client, i)
            except Exception as e:  # counted and reported: the point of the concurrency runs
                with lock:
                    errors.append(f"{type(e).__name__}: {e}"[:200])
                continue
            with lock:
                times.append(time.perf_counter() - start)

    threads = [threading.Thread(target=work, args=(c,)) for c in pool]
    for t in threads:
        t.start()
    go.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        print(f"    first error: {errors[0]}")
    return times, len(errors), wall


def endpoint_calls(png: str, raw: bool) -> dict[str, tuple[tuple[str, ...], Callable]]:
    """name -> (models it needs, call(client, i)) for every computing endpoint but train."""
    from gradio_client import handle_file

    from aedemo.models import VARIANTS

    def image(c):
        return c.upload(png) if raw else handle_file(png)

    return {
        "reconstruct": ((), lambda c, i: c.predict(image(c), list(VARIANTS), "vae", api_name="/reconstruct")),
        "denoise": (("dae",), lambda c, i: c.predict("Test digit", i, None, "gaussian", 0.5, i, "",
                                                     api_name="/denoise")),
        "generate": (("cvae", "vae", "aae"), lambda c, i: c.predict("cvae", i % 10, 16, 1.0, i, ["vae", "aae"],
                                                                    api_name="/generate")),
        "generate_all": (("cvae",), lambda c, i: c.predict("cvae", 1.0, i, api_name="/generate_all")),
        "interpolate": (("cvae",), lambda c, i: c.predict("cvae", 1, 7, 10, 1.0, i, api_name="/interpolate")),
        "latent_map": (("vae",), lambda c, i: c.predict("vae", "3-D", 2000, api_name="/latent_map")),
        "latent": (("vae",), lambda c, i: c.predict("vae", 0.1 * (i % 7), -0.2, 0.3, 0, api_name="/latent")),
    }


def over_http(repeats: int, levels: list[int], during_training: bool, loaded: set[str]) -> None:
    from gradio_client import Client

    png = digit_png(0)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = launch_app(port)
    kinds = {
        # ssl_verify=False: gradio_client makes a new httpx client for each request, and each loads the system's
        # CA bundle into a new SSL context (~35 ms of CPU here) that an http:// URL never uses
        "gradio_client": (lambda: Client(url, verbose=False, download_files=False, ssl_verify=False),
                          endpoint_calls(png, False)),
        "plain HTTP": (lambda: RawClient(url), endpoint_calls(png, True)),
    }
    try:
        wait_until_up(port, proc)
        for kind, (make_client, endpoints) in kinds.items():
            print(f"\n2. over HTTP ({kind}, {url}), 1 client, {repeats} calls each")
            for name, (needs, call) in endpoints.items():
                missing = [n for n in needs if n not in loaded]
                if missing:
                    print(f"  {name:14s} skipped: {', '.join(missing)} not loaded")
                    continue
                http_calls(make_client, call, 1, 3)  # warm-up: the app's caches, the client's connection
                cpu_before = server_cpu_seconds(proc.pid)
                times, errors, _ = http_calls(make_client, call, 1, repeats)
                server_ms = (server_cpu_seconds(proc.pid) - cpu_before) / repeats * 1000
                shown = percentiles(times) if times else "no successful call"
                print(f"  {name:14s} {shown:40s} server CPU {server_ms:6.1f} ms/call   errors {errors}")
            reconstruct = endpoints["reconstruct"][1]
            for clients in levels:
                per_client = max(3, repeats // clients)
                times, errors, wall = http_calls(make_client, reconstruct, clients, per_client)
                total = clients * per_client
                shown = percentiles(times) if times else "no successful call"
                print(f"  reconstruct, {clients:2d} concurrent clients x {per_client:2d} calls: {shown}   "
                      f"errors {errors}/{total}   {len(times) / wall:5.1f} calls/s")
        if during_training:
            trainer = Client(url, verbose=False, download_files=False)
            job = trainer.submit("conv", 50, 0, 128, 1e-3, api_name="/train")
            time.sleep(5)  # past data loading and the first steps
            make_client, endpoints = kinds["plain HTTP"]
            times, errors, _ = http_calls(make_client, endpoints["reconstruct"][1], 1, repeats)
            print(f"\n3. reconstruct (plain HTTP, 1 client) while the Train tab trains a conv AE: "
                  f"{percentiles(times)}   errors {errors}")
            trainer.predict(api_name="/stop_training")
            job.result(timeout=300)
        rss, peak = memory_mb(proc.pid)
        print(f"\nserver memory after all this: {rss:.0f} MiB resident, peak {peak:.0f} MiB (target <= 1536 MiB)")
    finally:
        stop_app(proc)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=50, help="calls per handler / endpoint")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 8, 64], help="concurrency levels for reconstruct")
    p.add_argument("--skip-in-process", action="store_true")
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--during-training", action="store_true", help="also time reconstruct while a model trains")
    args = p.parse_args()
    print(load_line())
    if not args.skip_in_process:
        in_process(args.repeats)
    if not args.skip_http:
        from aedemo.space.store import ModelStore

        over_http(args.repeats, args.clients, args.during_training, loaded_models(ModelStore()))
    print(load_line())


if __name__ == "__main__":
    main()
