"""The work-arounds for two Gradio bugs a long-running Space meets (aedemo/space/gradio_fixes.py) take effect."""

from __future__ import annotations

import io
import os
import struct
import threading
import uuid
import zlib
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import httpx
import numpy as np
import pytest
from fastapi import HTTPException
from gradio import processing_utils, route_utils
from gradio.components.image_editor import EditorData
from gradio.data_classes import FileData
from PIL import Image

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
        call(app_url, "latent", ["vae", 0.1, -0.2, 0.3, 0], session)  # its inputs but the two States
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


def _png(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height over a few bytes of data, as a decompression bomb does."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _stroke_png() -> bytes:
    stroke = io.BytesIO()
    Image.new("LA", (280, 280)).save(stroke, "png")  # the canvas's size
    return stroke.getvalue()


def test_the_sketchpad_refuses_huge_or_many_pictures_before_decoding_them(tmp_path):
    # Gradio decoded every picture of a sketchpad value in full: a 0.5 MB PNG of 12000x12000 cost 2.2 GB
    gradio_fixes.install()
    sketch = gr.Sketchpad(type="numpy", image_mode="RGBA")

    def picture(name: str, content: bytes) -> FileData:
        (tmp_path / name).write_bytes(content)
        return FileData(path=str(tmp_path / name))

    bomb, big, stroke = picture("bomb.png", _png(12000, 12000)), picture("big.png", _png(4000, 4000)), picture(
        "stroke.png", _stroke_png())
    refusals = {  # decoded, these headers' 64 bytes of data would be "truncated": the message shows none was
        "megapixels in all": EditorData(composite=bomb),
        # more than PIL opens at all: the image's own message, ended by one full stop (there were two)
        r"the image is too large \(the limit is \d+ megapixels, e\.g\. \d+x\d+\)\. Crop it to the digit or scale "
        r"it down\.(?!\.)": EditorData(composite=picture("vast.png", _png(20000, 20000))),
        "48,000,000 pixels": EditorData(layers=[big, big, big]),  # each under the limit, not all together
        "7 pictures": EditorData(background=stroke, layers=[stroke] * 5, composite=stroke),
    }
    for words, value in refusals.items():
        with pytest.raises(gr.Error, match=words):
            sketch.preprocess(value)
    drawn = sketch.preprocess(EditorData(layers=[stroke], composite=stroke))
    assert drawn["composite"].shape == (280, 280, 4) and len(drawn["layers"]) == 1
    # strokes posted as blobs first are checked alike, and forgotten once refused
    sketch.accept_blobs(SimpleNamespace(data={"type": "composite", "index": None, "id": "s1"},
                                        files=[("blob", _png(12000, 12000))]))
    with pytest.raises(gr.Error, match="megapixels in all"):
        sketch.preprocess(EditorData(id="s1"))
    assert "s1" not in sketch.blob_storage


def _blob(index: object, stroke: str, content: bytes = b"png") -> SimpleNamespace:
    return SimpleNamespace(data={"type": "layer", "index": index, "id": stroke}, files=[("blob", content)])


def test_the_sketchpad_s_blob_route_bounds_the_layer_index_and_the_strokes_it_keeps():
    # a 250-byte request with index 10,000,000 kept a 77 MB list; strokes whose event never came were kept for good
    gradio_fixes.install()
    sketch = gr.Sketchpad()
    assert getattr(sketch.accept_blobs, "_is_server_fn", False)  # Gradio's route calls only functions so marked
    for index in (10_000_000, -1, "2**62", "²", gradio_fixes.MAX_LAYERS):
        with pytest.raises(HTTPException) as refused:
            sketch.accept_blobs(_blob(str(index), "attack"))
        assert refused.value.status_code == 400 and "layer index" in refused.value.detail
    with pytest.raises(HTTPException) as refused:
        sketch.accept_blobs(_blob("0", "attack", b"\0" * (gradio_fixes.MAX_STROKE_BYTES + 1)))
    assert refused.value.status_code == 413
    assert "attack" not in sketch.blob_storage
    for n in range(gradio_fixes.MAX_WAITING_STROKES + 10):
        sketch.accept_blobs(_blob("0", f"stroke-{n}"))
    assert len(sketch.blob_storage) == gradio_fixes.MAX_WAITING_STROKES
    assert f"stroke-{gradio_fixes.MAX_WAITING_STROKES + 9}" in sketch.blob_storage  # the latest stay
    assert "stroke-0" not in sketch.blob_storage
    # and their bytes: at most MAX_WAITING_BYTES wait, the latest stroke always kept
    per_stroke = gradio_fixes.MAX_STROKE_BYTES
    for n in range(gradio_fixes.MAX_WAITING_BYTES // per_stroke + 5):
        sketch.accept_blobs(_blob("0", f"large-{n}", b"\0" * per_stroke))
    waiting = sum(gradio_fixes._stroke_bytes(s) for s in sketch.blob_storage.values())
    assert waiting <= gradio_fixes.MAX_WAITING_BYTES and f"large-{n}" in sketch.blob_storage
    sketch.accept_blobs(SimpleNamespace(data={"type": "composite", "index": "null", "id": "s"}, files=[("b", b"p")]))
    assert sketch.blob_storage["s"].composite == b"p"


def test_the_served_app_refuses_a_huge_layer_index_and_files_past_its_upload_limit(served_demo, app_url):
    sketch = next(i for i, b in served_demo.blocks.items() if isinstance(b, gr.Sketchpad))

    def post(index: int, content: bytes = b"x") -> httpx.Response:
        return httpx.post(f"{app_url}gradio_api/component_server", timeout=30, files={"file": ("blob", content)},
                          data={"component_id": str(sketch), "session_hash": uuid.uuid4().hex,
                                "fn_name": "accept_blobs", "type": "layer", "index": str(index), "id": "probe"})

    assert post(0).status_code == 200
    assert post(10_000_000).status_code == 400
    assert post(0, b"\0" * (51 * 2**20)).status_code == 413  # launch_kwargs' max_file_size


def test_a_picture_saved_again_is_never_served_empty_or_cut_off(tmp_path):
    # a picture is saved under a name from its content, and saved again for each request giving the same one: the
    # rewrite truncated the file first, and a request served it meanwhile got it empty (five API callers decoding
    # the Latent tab's first place: 9 empty pictures in 585 calls)
    gradio_fixes.install()
    picture = Image.fromarray(np.random.default_rng(0).integers(0, 256, (280, 280), dtype=np.uint8))
    path = Path(processing_utils.save_pil_to_cache(picture, str(tmp_path), format="png"))
    whole = path.read_bytes()
    done = threading.Event()

    def save_again() -> None:
        while not done.is_set():
            processing_utils.save_pil_to_cache(picture, str(tmp_path), format="png")

    saver = threading.Thread(target=save_again)
    saver.start()
    try:
        served = [path.read_bytes() for _ in range(2000)]
    finally:
        done.set()
        saver.join()
    assert all(content == whole for content in served)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
