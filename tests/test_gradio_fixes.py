"""The work-arounds for two Gradio bugs a long-running Space meets (aedemo/space/gradio_fixes.py) take effect."""

from __future__ import annotations

import os
import uuid
from types import SimpleNamespace

import httpx
import pytest
from gradio import route_utils

from aedemo.space import gradio_fixes


def served_files(folder, names: list[str]) -> set[str]:
    paths = set()
    for name in names:
        (folder / name).write_bytes(b"png")
        paths.add(str(folder / name))
    return paths


def test_the_file_purge_survives_files_written_while_it_runs(tmp_path, monkeypatch):
    # Gradio's own walked the live set: "Set changed size during iteration" ended its scheduled task for good
    gradio_fixes.install()
    paths = served_files(tmp_path, ["a.png", "b.png", "c.png"])
    old = set(paths)
    blocks = SimpleNamespace(blocks={}, temp_file_sets=[paths])
    remove = os.remove

    def remove_while_a_handler_writes(path: str) -> None:
        remove(path)
        paths.update(served_files(tmp_path, [f"new-{len(paths)}.png"]))

    monkeypatch.setattr(os, "remove", remove_while_a_handler_writes)
    route_utils.delete_files_created_by_app(blocks, None)
    assert not any(os.path.exists(p) for p in old) and not paths & old
    assert len(paths) == 3 and all(os.path.exists(p) for p in paths)  # written meanwhile: kept, and remembered


def test_the_file_purge_keeps_recent_files_and_forgets_files_already_gone(tmp_path):
    gradio_fixes.install()
    paths = served_files(tmp_path, ["recent.png"]) | {str(tmp_path / "deleted-by-hand.png")}
    route_utils.delete_files_created_by_app(SimpleNamespace(blocks={}, temp_file_sets=[paths]), 3600)
    assert paths == {str(tmp_path / "recent.png")} and (tmp_path / "recent.png").exists()


def test_gradio_s_scheduled_purge_calls_the_replacement():
    # the schedule looks the function up by name at each run; a Gradio that held it otherwise would bypass the fix
    gradio_fixes.install()
    assert route_utils.delete_files_created_by_app is gradio_fixes.delete_files_created_by_app
    assert "delete_files_created_by_app" in route_utils.delete_files_on_schedule.__code__.co_names


def call(app_url: str, api_name: str, data: list, session: str) -> None:
    url = f"{app_url}gradio_api/call/{api_name}"
    event = httpx.post(url, json={"data": data, "session_hash": session}, timeout=30).json()["event_id"]
    assert "event: complete" in httpx.get(f"{url}/{event}", timeout=60).text


def test_a_session_keeps_one_record_per_component_however_often_the_map_redraws(served_demo, app_url):
    # each map updates the three sliders' ranges and labels; every later event reading them used to store three
    # more components in the session, kept as long as the session
    session = uuid.uuid4().hex

    def components() -> int:
        return len(served_demo.state_holder.session_data[session].blocks_config.blocks)

    sizes = []
    for view in ("3-D", "2-D", "3-D", "2-D"):
        call(app_url, "latent_map", ["vae", view, 500, {}, None], session)
        call(app_url, "latent", ["vae", 0.1, -0.2, 0.3, 0, {}], session)
        sizes.append(components())
    assert sizes == [len(served_demo.blocks)] * 4


def test_a_work_around_gradio_no_longer_fits_is_left_out_with_a_warning(monkeypatch):
    # a replacement called in a way Gradio no longer calls it would fail in a background task, silently
    def renamed(app, max_age):
        pass

    monkeypatch.setattr(route_utils, "delete_files_created_by_app", renamed)
    with pytest.warns(UserWarning, match="changed gradio.route_utils.delete_files_created_by_app"):
        gradio_fixes.install()
    assert route_utils.delete_files_created_by_app is renamed
