"""`python app.py`, the Space's entry point, as a Space runs it: it serves the app and answers an API call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_python_app_py_serves_the_app(tmp_path, free_port):
    port = free_port
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp_path / "app.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{base}/gradio_api/info", timeout=5) as r:
                    info = json.loads(r.read())
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("app.py did not answer within 180 s")
                time.sleep(0.5)
        assert {"/reconstruct", "/denoise", "/generate"} <= set(info["named_endpoints"])
        # one computation end to end, through Gradio's plain-HTTP route
        body = json.dumps({"data": ["Test digit", 3, None, "gaussian", 0.5, 0, ""]}).encode()
        request = urllib.request.Request(f"{base}/gradio_api/call/denoise", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as r:
            event = json.loads(r.read())["event_id"]
        with urllib.request.urlopen(f"{base}/gradio_api/call/denoise/{event}", timeout=120) as r:
            stream = r.read().decode()
        assert "event: complete" in stream and "PSNR" in stream, stream[-500:]
        proc.terminate()  # SIGTERM, as a Space stops it: a clean close, not death by the signal (exit status -15)
        assert proc.wait(timeout=60) == 0, (tmp_path / "app.log").read_text()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        log.close()
