"""Shared fixtures: the test digits, canvas-like drawings of them, the model store, and one running app.

The app fixture (`app_url`) launches the Space once per test session on a free local port; every module that
talks to it over HTTP (gradio_client, the browser) shares it. Set AEDEMO_CHECKPOINTS to test against another
checkpoints folder.
"""

from __future__ import annotations

import os
import socket

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # tests run offline: no usage pings
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from aedemo.data import load_mnist  # noqa: E402


@pytest.fixture(scope="session")
def mnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    """The bundled 10k test set: uint8 [N,28,28], int64 [N]."""
    return load_mnist("test", download=False)


def draw_digit(
    digit: np.ndarray | torch.Tensor,
    style: str = "rgba",
    size: int = 400,
    box: float = 0.7,
    offset: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """A 28x28 uint8 MNIST digit as a drawing on a canvas-like image of `size` px.

    style: "rgba" (black ink on a transparent canvas, like gr.Sketchpad), "white" (RGB, dark ink on white),
    "dark" (RGB, light ink on black, like a photo of chalk). The digit fills `box` of the canvas, moved by
    `offset` (fractions of the canvas) from the centre.
    """
    d = np.asarray(digit, dtype=np.uint8)
    side = max(1, int(size * box))
    ink = np.asarray(Image.fromarray(d).resize((side, side), Image.BICUBIC))
    alpha = np.zeros((size, size), dtype=np.uint8)
    top = int((size - side) / 2 + offset[1] * size)
    left = int((size - side) / 2 + offset[0] * size)
    alpha[top : top + side, left : left + side] = ink
    if style == "rgba":
        out = np.zeros((size, size, 4), dtype=np.uint8)
        out[..., 3] = alpha
        return out
    if style == "white":
        return np.repeat((255 - alpha)[..., None], 3, axis=2)
    if style == "dark":
        return np.repeat(alpha[..., None], 3, axis=2)
    raise ValueError(style)


@pytest.fixture(scope="session")
def store():
    """The models the app serves (checkpoints/, or AEDEMO_CHECKPOINTS)."""
    from aedemo.space.store import ModelStore

    s = ModelStore()
    if not s.models:
        pytest.skip(f"no checkpoints could be loaded from {s.root}: {s.errors}")
    return s


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def free_port() -> int:
    """A TCP port nothing listens on right now."""
    return _free_port()


@pytest.fixture(scope="session")
def served_demo(store):
    """The whole Space, launched once for the test session on a free port (its gr.Blocks)."""
    from aedemo.space import build_demo, launch_kwargs

    demo = build_demo(store)
    demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True,
                **launch_kwargs())
    yield demo
    demo.close()


@pytest.fixture(scope="session")
def app_url(served_demo) -> str:
    """URL of the whole Space, launched once for the test session."""
    return served_demo.local_url.rstrip("/") + "/"


@pytest.fixture(scope="session")
def client(app_url):
    """A gradio_client connected to the running app."""
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture
def png_file(tmp_path):
    """Write a uint8 array as a PNG and return its path."""
    def write(array: np.ndarray, name: str = "digit.png") -> str:
        path = tmp_path / name
        Image.fromarray(array).save(path)
        return str(path)

    return write


@pytest.fixture(scope="session")
def canvas():
    """`draw_digit` as a fixture: turn a test digit into a canvas-like drawing."""
    return draw_digit
