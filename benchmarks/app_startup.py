"""Start-up time and memory of the Space: `python benchmarks/app_startup.py [--runs 3]`.

Starts `python app.py` on a free local port, as a visitor's first request would find it, and prints for each run:
the seconds until the port answers HTTP (the issue's "ready to serve", target <= 6 s), the seconds until a first
`reconstruct` call through gradio_client comes back (the app is usable, caches included), and the server's memory
(resident now, and the peak so far). Set AEDEMO_CHECKPOINTS to serve another checkpoints folder. Prints figures
only; the load of the machine is printed too, because it moves every figure here.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `python benchmarks/...` imports aedemo from this checkout, installed or not


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_app(port: int) -> subprocess.Popen:
    """`python app.py` on 127.0.0.1:port, offline, its output in a temp file (read it when something fails)."""
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    log = tempfile.NamedTemporaryFile("w+", prefix="aedemo-app-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log.name  # type: ignore[attr-defined]
    return proc


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 300.0) -> None:
    """Return once http://127.0.0.1:port/ answers 200; raise if the process dies or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}; see {proc.log_path}")  # type: ignore[attr-defined]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"app.py did not answer on port {port} within {timeout:.0f} s")


def stop_app(proc: subprocess.Popen) -> None:
    """Stop the app; its log goes too, unless it had exited on its own (the log says why): each run left one."""
    exited = proc.poll() is not None
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if not exited:
        Path(proc.log_path).unlink(missing_ok=True)  # type: ignore[attr-defined]


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) memory of process `pid` in MiB, from /proc (Linux)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def digit_png(index: int = 0) -> str:
    """A real test digit, white on black as an upload would be, saved as a PNG file for the client to send."""
    from aedemo.data import load_mnist

    images, _ = load_mnist("test", download=False)
    path = Path(tempfile.gettempdir()) / f"aedemo-bench-digit-{index}.png"
    Image.fromarray(np.asarray(images[index])).resize((280, 280), Image.BICUBIC).save(path)
    return str(path)


def load_line() -> str:
    one, five, _ = os.getloadavg()
    return f"machine: {os.cpu_count()} CPUs, load average {one:.1f} (1 min) / {five:.1f} (5 min)"


@contextmanager
def served_app() -> Iterator[tuple[str, subprocess.Popen]]:
    """`python app.py` on a free local port, answering: (its URL, its process); stopped on the way out."""
    port = free_port()
    proc = launch_app(port)
    try:
        wait_until_up(port, proc)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop_app(proc)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    from gradio_client import Client, handle_file

    png = digit_png()
    print(load_line())
    up, usable, rss, peak = [], [], [], []
    for run in range(1, args.runs + 1):
        port = free_port()
        started = time.perf_counter()
        proc = launch_app(port)
        try:
            wait_until_up(port, proc)
            up.append(time.perf_counter() - started)
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            client.predict(handle_file(png), api_name="/reconstruct")
            usable.append(time.perf_counter() - started)
            now, high = memory_mb(proc.pid)
            rss.append(now)
            peak.append(high)
        finally:
            stop_app(proc)
        print(f"run {run}: port answers after {up[-1]:.2f} s, first reconstruct back after {usable[-1]:.2f} s, "
              f"memory {rss[-1]:.0f} MiB (peak {peak[-1]:.0f} MiB)")
    print(f"start-up, median of {args.runs}: {statistics.median(up):.2f} s to answer (target <= 6 s), "
          f"{statistics.median(usable):.2f} s to a first reconstruction; peak memory {max(peak):.0f} MiB")
    print(load_line())


if __name__ == "__main__":
    main()
