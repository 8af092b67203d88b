"""A Hub that accepts the connection and never answers: the app's and the CLI's Hub calls give up, as
HubConnectionError, where huggingface_hub's own client waits forever (the Space's start-up and every push hung)."""

from __future__ import annotations

import socket
import threading

import pytest
from huggingface_hub import constants, set_client_factory
from huggingface_hub.utils._http import default_client_factory

from aedemo import hub
from aedemo.checkpoint import CHECKPOINTS


@pytest.fixture
def silent_hub(monkeypatch):
    """An endpoint that accepts every connection and never sends a byte."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:  # closed at the end of the test
                return

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # conftest turns offline mode on for the suite
    hub.use_hub_timeouts(connect=2, read=0.5)
    yield
    set_client_factory(default_client_factory)
    server.close()
    for connection in held:
        connection.close()


def test_a_load_from_a_hub_that_never_answers_gives_up(silent_hub, tmp_path):
    with pytest.raises(hub.HubConnectionError, match="cannot load user/x .*: the Hub cannot be reached"):
        hub.load_from_hub("user/x", subfolder="ae", cache_dir=tmp_path)


def test_a_push_to_a_hub_that_never_answers_gives_up(silent_hub):
    with pytest.raises(hub.HubConnectionError, match=r"cannot reach the Hub to push user/x \(ReadTimeout\)"):
        hub.push_checkpoint(CHECKPOINTS / "pca", "user/x", token="hf_" + "x" * 30)


def test_a_timeout_huggingface_hub_sets_itself_is_kept(silent_hub):
    # its file downloads pass their own (HF_HUB_DOWNLOAD_TIMEOUT); only the requests it leaves unbounded get ours
    from huggingface_hub.utils import get_session

    hook = get_session().event_hooks["request"][-1]
    request = get_session().build_request("GET", constants.ENDPOINT, timeout=(1, 7, 8, 1))
    hook(request)
    assert request.extensions["timeout"] == {"connect": 1, "read": 7, "write": 8, "pool": 1}
    request = get_session().build_request("GET", constants.ENDPOINT, timeout=None)
    hook(request)
    assert request.extensions["timeout"] == {"connect": 2, "read": 0.5, "write": 0.5, "pool": 2}
