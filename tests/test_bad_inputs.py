"""The bad-input corpus: each case gets a clear message (never a traceback), changes nothing, and the app keeps serving.

Each case goes through the Draw tab's handler directly and through the running app's /reconstruct endpoint.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import struct
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from gradio.data_classes import FileData
from gradio_client import handle_file
from PIL import Image

from aedemo.space import denoise_tab, draw_tab, generate_tab, inputs, latent_tab
from aedemo.space.images import read_tiles
from aedemo.space.ui import reports_problem

STATUS = 5  # index of the status line among the Draw tab's outputs


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _corpus(tmp_path, digit: np.ndarray) -> dict[str, tuple[object, str]]:
    """name -> (what the handler gets, the word its message must contain), files written under tmp_path."""
    white_on_black = Image.fromarray(digit).resize((280, 280))
    files = {}

    def file(name: str, data: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(data)
        files[name] = str(path)
        return str(path)

    cmyk = io.BytesIO()
    white_on_black.convert("CMYK").save(cmyk, format="JPEG")
    sixteen = Image.fromarray(np.asarray(white_on_black).astype(np.uint16) * 257).convert("I;16")
    huge = io.BytesIO()
    Image.new("L", (8000, 8000)).save(huge, format="PNG", optimize=False, compress_level=1)
    truncated = _png_bytes(white_on_black)
    icon = io.BytesIO()
    white_on_black.save(icon, format="ICO", sizes=[(64, 64)])
    transparent = np.zeros((400, 400, 4), dtype=np.uint8)
    transparent[..., :3] = 255  # white paint, but fully transparent everywhere
    return {
        "blank canvas": (np.zeros((400, 400, 4), dtype=np.uint8), "empty"),
        "all-transparent RGBA": (transparent, "empty"),
        "1x1 image": (file("one.png", _png_bytes(Image.new("L", (1, 1), 255))), "too small"),
        "8000x8000 image": (file("huge.png", huge.getvalue()), "too large"),
        "NaN array": (np.full((64, 64), np.nan, dtype=np.float32), "NaN"),
        "non-image upload": (file("notes.png", b"these are my notes, not a picture\n" * 20), "not a recognised image"),
        "truncated PNG": (file("cut.png", truncated[: len(truncated) // 2]), "truncated"),
        # PIL says it in capitals here ("Truncated File Read")
        "truncated ICO": (file("cut.ico", icon.getvalue()[: len(icon.getvalue()) // 2]), "the file is truncated"),
        # well-formed images in unusual modes: these must work
        "CMYK JPEG": (file("cmyk.jpg", cmyk.getvalue()), None),
        "16-bit PNG": (file("sixteen.png", _png_bytes(sixteen)), None),
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, mnist_test):
    images, _ = mnist_test
    return _corpus(tmp_path_factory.mktemp("bad"), images[0].numpy())


def _message(status: str) -> None:
    assert status and "Traceback" not in status and 'File "' not in status, status
    assert len(status) < 400, status
    assert status.rstrip().endswith((".", "!", "?")), status  # a sentence, as every other message


@pytest.mark.parametrize("case", ["blank canvas", "all-transparent RGBA", "1x1 image", "8000x8000 image",
                                  "NaN array", "non-image upload", "truncated PNG", "truncated ICO"])
def test_bad_input_gets_a_clear_message_and_changes_nothing(store, corpus, case):
    value, word = corpus[case]
    if word == "empty":  # a normal state (the visitor pressed Clear): outputs cleared, a hint, no toast
        out = draw_tab.reconstruct(store, value, None, "ae")
    else:
        with pytest.warns(UserWarning):  # gr.Warning outside a request: the toast becomes a Python warning
            out = draw_tab.reconstruct(store, value, None, "ae")
    _message(out[STATUS])
    assert word in out[STATUS]
    if word != "empty":  # invalid input: every other output is left as it was
        assert all(isinstance(o, dict) and o.get("__type__") == "update" for i, o in enumerate(out) if i != STATUS), out


@pytest.mark.parametrize("case", ["CMYK JPEG", "16-bit PNG"])
def test_unusual_image_modes_work(store, corpus, mnist_test, case):
    value, _ = corpus[case]
    out = draw_tab.reconstruct(store, value, ["ae"], "ae")
    assert read_tiles(out[0])[0][0].shape == (28, 28)
    if store.classifier is not None:
        _, labels = mnist_test
        assert max(out[1], key=out[1].get) == str(int(labels[0]))


def test_bad_uploads_over_http_leave_the_app_serving(client, corpus, mnist_test, canvas, png_file, store):
    for case in ("1x1 image", "8000x8000 image", "non-image upload", "truncated PNG"):
        path, word = corpus[case]
        result = client.predict(handle_file(path), ["ae"], "ae", api_name="/reconstruct")
        _message(result[STATUS])
        assert word in result[STATUS]
    # and a good request still works afterwards
    images, labels = mnist_test
    good = client.predict(handle_file(png_file(canvas(images[0].numpy(), style="white"))), ["ae"], "ae",
                          api_name="/reconstruct")
    assert good[STATUS] == "" or "unavailable" in good[STATUS]
    if store.classifier is not None:
        assert good[1]["label"] == str(int(labels[0]))


def test_denoise_upload_reads_good_files_and_explains_bad_ones(store, corpus, mnist_test, canvas, png_file):
    images, _ = mnist_test
    good = {"path": png_file(canvas(images[0].numpy(), style="dark")), "orig_name": "seven.png"}  # raw FileData
    gallery, table, status = denoise_tab.denoise(store, "Upload", 0, good, None, "masking", 0.3, 0)
    assert read_tiles(gallery)[0][1] == "Clean" and "PSNR" in table
    # no ink: it used to get as far as the models, and raise
    blank = png_file(np.full((200, 200), 255, np.uint8), "blank.png")
    for path, word in (corpus["non-image upload"], corpus["truncated PNG"], (blank, "No ink found")):
        with pytest.warns(UserWarning):
            *unchanged, status = denoise_tab.denoise(store, "Upload", 0, {"path": path}, None, "masking", 0.3, 0)
        _message(status)
        assert word in status, (path, status)  # each file its own reason: a text file is not "blank"
        assert all(u == {"__type__": "update"} for u in unchanged)


# --- the other tabs' settings, as the API can send them ---------------------------------------------------------
INF, NAN, HUGE = float("inf"), float("nan"), 10**400
TAB_CASES = {  # name -> (handler call on the store, words its message must contain)
    "latent: points infinite": (lambda s: latent_tab.latent_map(s, "vae", "2-D", INF), "Test digits shown"),
    "latent: decode far off the map": (lambda s: latent_tab.decode_point(s, "vae", -100, 0, 0), "must be between"),
    "latent: too few points": (lambda s: latent_tab.latent_map(s, "vae", "2-D", 50), "100 to 5,000"),
    "latent: unknown view": (lambda s: latent_tab.latent_map(s, "vae", "4-D", 500), "View"),
    "latent: unknown model": (lambda s: latent_tab.latent_map(s, "nope", "2-D", 500), "Unknown model"),
    "decode: digit infinite": (lambda s: latent_tab.decode_point(s, "cvae", 0, 0, 0, INF), "Digit"),
    "decode: NaN coordinate": (lambda s: latent_tab.decode_point(s, "vae", NAN, 0, 0, 0), "PC1 must be a number"),
    "decode: text coordinate": (lambda s: latent_tab.decode_point(s, "vae", "x", 0, 0, 0), "PC1 must be a number"),
    # JSON allows integers too large for a float: these used to end in OverflowError, "Error" in every output
    "decode: coordinate past float": (lambda s: latent_tab.decode_point(s, "vae", HUGE, 0, 0, 0), "PC1 must be"),
    "generate: temperature past float": (lambda s: generate_tab.generate(s, "cvae", 3, 4, HUGE, 0, []), "temperature"),
    "denoise: strength past float": (lambda s: denoise_tab.denoise(s, "Test digit", 3, strength=HUGE), "Strength"),
    "generate: samples infinite": (lambda s: generate_tab.generate(s, "cvae", 3, INF, 1.0, 0, []), "Samples"),
    # the Samples slider stops at MAX_SAMPLES: a request for ten times as many drew them all, each a grid per prior
    "generate: too many samples": (lambda s: generate_tab.generate(s, "cvae", 3, generate_tab.MAX_SAMPLES + 1, 1.0, 0,
                                                                   []), "Samples"),
    "generate: half a sample": (lambda s: generate_tab.generate(s, "cvae", 3, 2.5, 1.0, 0, []), "Samples"),
    "generate: NaN temperature": (lambda s: generate_tab.generate(s, "cvae", 3, 4, NAN, 0, []), "temperature"),
    # past the slider's ends: a temperature of 0 drew one digit n times, a negative one mirrored the prior
    "generate: temperature 0": (lambda s: generate_tab.generate(s, "cvae", 3, 4, 0, 0, []), "Temperature must be"),
    "generate: temperature 5": (lambda s: generate_tab.generate_all(s, "cvae", 5.0, 0), "Temperature must be"),
    "interpolate: temperature -1": (lambda s: generate_tab.interpolate(s, "cvae", 1, 7, 5, -1.0, 0), "Temperature"),
    "generate: digit 10": (lambda s: generate_tab.generate(s, "cvae", 10, 4, 1.0, 0, []), "Digit"),
    "generate: digit infinite": (lambda s: generate_tab.generate(s, "cvae", INF, 4, 1.0, 0, []), "Digit"),
    "generate: model without prior": (lambda s: generate_tab.generate(s, "ae", 3, 4, 1.0, 0, []), "no prior"),
    "generate: CVAE as a prior": (lambda s: generate_tab.generate(s, "cvae", 3, 4, 1.0, 0, ["cvae"]), "cannot"),
    "generate: priors not a list": (lambda s: generate_tab.generate(s, "cvae", 3, 4, 1.0, 0, "vae"), "list of model"),
    "generate: unknown prior": (lambda s: generate_tab.generate(s, "cvae", 3, 4, 1.0, 0, ["gan"]), "gan"),
    "interpolate: 2 steps": (lambda s: generate_tab.interpolate(s, "vae", 1, 7, 2, 1.0, 0), "Frames"),
    "interpolate: steps infinite": (lambda s: generate_tab.interpolate(s, "vae", 1, 7, INF, 1.0, 0), "Frames"),
    "interpolate: end 11": (lambda s: generate_tab.interpolate(s, "vae", 1, 11, 5, 1.0, 0), "End"),
    "denoise: index infinite": (lambda s: denoise_tab.denoise(s, "Test digit", INF), "index"),
    "denoise: index past the end": (lambda s: denoise_tab.denoise(s, "Test digit", 10**9), "0 to 9,999"),
    "denoise: unknown noise": (lambda s: denoise_tab.denoise(s, "Test digit", 3, kind="blur"), "noise kind"),
    "denoise: strength 2": (lambda s: denoise_tab.denoise(s, "Test digit", 3, strength=2), "Strength"),
    "denoise: NaN strength": (lambda s: denoise_tab.denoise(s, "Test digit", 3, strength=NAN), "Strength"),
    "denoise: unknown source": (lambda s: denoise_tab.denoise(s, "Webcam", 3), "source"),
    # a value just past an end is quoted as sent: "not 1" looked in range
    "denoise: strength just past 1": (lambda s: denoise_tab.denoise(s, "Test digit", 3, strength=1.0000001),
                                      "between 0 and 1, not 1.0000001."),
    "generate: temperature just past 2": (lambda s: generate_tab.generate(s, "cvae", 3, 4, 2.0000001, 0, []),
                                          "not 2.0000001."),
    # a long name cut inside its quotes, the cut shown
    "latent: long unknown model": (lambda s: latent_tab.latent_map(s, "x" * 10_000, "2-D", 500),
                                   f"Unknown model '{'x' * 37}…'; available: "),
    "denoise: no upload": (lambda s: denoise_tab.denoise(s, "Upload", 3, upload=None), "Upload"),
}


@pytest.mark.parametrize("case", TAB_CASES)
def test_every_tabs_bad_settings_get_a_message_and_change_nothing(store, case):
    call, word = TAB_CASES[case]
    with pytest.warns(UserWarning):  # the visitor's toast, outside a request
        *others, status = call(store)
    _message(status)
    assert word in status
    assert all(o == {"__type__": "update"} for o in others), others


@pytest.mark.parametrize("data", [5, "x", [1, 2], {"coords": 5}, {"coords": [1, "x"]}, {"coords": [HUGE, 0]},
                                  {"coords": [1, 2, 3, 4]}])
def test_a_click_event_that_is_not_a_click_gets_a_message(store, data):
    # the map's click is hidden from the API page but can be called; these used to raise (TypeError, AttributeError,
    # OverflowError), or slice the test set with a boolean
    class Event:
        _data = data

    with pytest.warns(UserWarning):
        *others, status = latent_tab.pick(store, "vae", 0, None, Event())
    assert status == "⚠️ Could not read the clicked point."
    assert all(o == {"__type__": "update"} for o in others)


def test_the_limits_a_refused_coordinate_is_told_are_the_ones_applied(store):
    # the limits were shown to the hundredth but applied exactly: 7.447 refused "between -7.45 and 7.45"
    with pytest.warns(UserWarning):
        status = latent_tab.decode_point(store, "vae", 1e6, 0, 0)[-1]
    low, high = map(float, re.search(r"between (-?[\d.]+) and (-?[\d.]+), around the map", status).groups())
    for inside in (low, high):
        assert not reports_problem(latent_tab.decode_point(store, "vae", inside, 0, 0)[-1]), inside
    for outside in (low - 0.001, high + 0.001):
        with pytest.warns(UserWarning):
            assert "must be between" in latent_tab.decode_point(store, "vae", outside, 0, 0)[-1], outside


def test_a_click_far_off_the_map_is_refused_and_moves_nothing(store):
    class Event:  # the sliders moved to 1e30 and the digit shown was cleared, under a status that refused the place
        _data = {"coords": [1e30, 0.0]}

    with pytest.warns(UserWarning):
        *others, status = latent_tab.pick(store, "vae", 0, None, Event())
    assert "must be between" in status and "around the map" in status
    assert all(o == {"__type__": "update"} for o in others), others


def test_a_click_whose_index_is_not_a_whole_number_decodes_the_place_clicked(store):
    class Event:  # True is an int to Python: it used to pick the test set's digits by a boolean mask, and fail
        _data = {"coords": [0.1, 0.2], "index": True}

    *_, original, status = latent_tab.pick(store, "vae", 0, None, Event())
    assert original is None and status.startswith("Decoded at (0.10, 0.20")


@pytest.mark.parametrize("index", [5000, 9999, 10**6])
def test_a_click_whose_index_is_past_the_digits_mapped_decodes_the_place_clicked(store, index):
    # only the first 5,000 test digits are mapped: an index past them, from a request, failed the call
    class Event:
        _data = {"coords": [0.1, 0.2], "index": index}

    *_, original, status = latent_tab.pick(store, "vae", 0, None, Event())
    assert original is None and status.startswith("Decoded at (0.10, 0.20")


def test_image_payloads_as_data_urls_and_filedata_without_a_file(store, mnist_test, canvas, png_file):
    """What an API client can send for an image besides an upload: a data: URL, or a FileData with no file."""
    images, labels = mnist_test
    with open(png_file(canvas(images[0].numpy(), style="white")), "rb") as f:
        url = "data:image/png;base64," + base64.b64encode(f.read()).decode()
    out = draw_tab.reconstruct(store, {"url": url, "meta": {"_type": "gradio.FileData"}}, ["ae"], "ae")
    assert out[STATUS] == "" and read_tiles(out[3])[0][2]["model"] == "ae"
    if store.classifier is not None:
        assert max(out[1], key=out[1].get) == str(int(labels[0]))  # {class: probability}
    for payload, word in (({"url": "data:image/png;base64,AAAA"}, "Could not read the image"),
                          # not base64 at all: decoded leniently, the junk would be dropped and the rest called no image
                          ({"url": "data:image/png;base64,@@@@"}, "the data URL is not valid base64"),
                          ({"path": None, "url": None}, "without a file"),
                          # a FileData with neither was read as an image without ink: "No ink found"
                          ({"meta": {"_type": "gradio.FileData"}}, "without a file"), ({}, "without a file")):
        with pytest.warns(UserWarning):
            out = draw_tab.reconstruct(store, payload, ["ae"], "ae")
        _message(out[STATUS])
        assert word in out[STATUS]


def test_a_drawing_whose_layers_are_not_a_list_is_told_so(store):
    # iterated as they came, a number would end in "Could not read the image (TypeError: ...)"
    with pytest.warns(UserWarning):
        out = draw_tab.reconstruct(store, {"background": None, "layers": 5, "composite": None}, ["ae"], "ae")
    assert out[STATUS] == "⚠️ Could not read the drawing: its layers are not a list of images."


def test_whatever_the_reading_trips_on_the_visitor_gets_a_sentence(monkeypatch):
    # an error preprocess did not foresee would go up as it is: a traceback, and Gradio's bare "Error"
    def trips(_):
        raise MemoryError("cannot allocate 1.2 GB")

    monkeypatch.setattr(inputs, "canvas_to_mnist", trips)
    sentence = r"^Could not read the image \(MemoryError: cannot allocate 1\.2 GB\)\.$"
    with pytest.raises(inputs.UserInputError, match=sentence):
        inputs.to_mnist(np.zeros((28, 28), np.uint8))


def test_a_request_reads_files_only_from_gradios_upload_folder(store, mnist_test, canvas, tmp_path, monkeypatch):
    # with preprocessing off, a path in a request used to be opened whatever it named: any image on the server could
    # be read back through the tiles, other files' existence was told, and a FIFO held a worker
    images, _ = mnist_test
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))  # where Gradio puts what a visitor uploads
    digit = Image.fromarray(canvas(images[0].numpy(), style="white"))
    digit.save(uploads / "uploaded.png")
    digit.save(tmp_path / "elsewhere.png")
    os.mkfifo(uploads / "fifo")
    uploaded = draw_tab.reconstruct(store, {"path": str(uploads / "uploaded.png")}, ["ae"], "ae", uploads_only=True)
    assert read_tiles(uploaded[0])[0][0].shape == (28, 28)
    outside = str(tmp_path / "elsewhere.png")
    climbing_out = str(uploads / ".." / "elsewhere.png")
    # every place a request can name a file: a drawing's composite and background too, and a FileData object
    for value in ({"path": outside}, outside, {"path": str(uploads / "fifo")}, {"path": climbing_out},
                  {"background": None, "layers": [{"path": outside}], "composite": None},
                  {"background": None, "layers": [], "composite": {"path": outside}},
                  {"background": {"path": outside}, "layers": [], "composite": None}, FileData(path=outside)):
        with pytest.warns(UserWarning):
            out = draw_tab.reconstruct(store, value, ["ae"], "ae", uploads_only=True)
        assert out[STATUS] == "⚠️ The image arrived without a file; please upload it again.", value
        assert all(o == {"__type__": "update"} for i, o in enumerate(out) if i != STATUS)
        with pytest.warns(UserWarning):
            *_, status = denoise_tab.denoise(store, "Upload", 0, value, None, uploads_only=True)
        assert status.startswith("⚠️ The image arrived without a file")
    # a program calling the handler reads what it names: only requests are held to the upload folder
    assert read_tiles(draw_tab.reconstruct(store, outside, ["ae"], "ae")[0])[0][0].shape == (28, 28)


@pytest.mark.parametrize("api_name", ["/reconstruct", "/denoise"])
def test_a_request_naming_a_server_file_is_refused(client, png_file, canvas, mnist_test, api_name):
    images, _ = mnist_test
    outside = png_file(canvas(images[0].numpy(), style="white"), "not-uploaded.png")
    for value in ({"path": outside}, {"path": "/etc/passwd"}, {"path": "/no/such/file"}):
        if api_name == "/reconstruct":
            status = client.predict(value, ["ae"], "ae", api_name=api_name)[STATUS]
        else:
            status = client.predict(source="Upload", upload=value, api_name=api_name)[-1]
        assert status == "⚠️ The image arrived without a file; please upload it again.", value


def _call_refusal(app_url: str, api_name: str, data: list) -> str:
    """What the app says, over plain HTTP, of a call Gradio refuses: the error event's message."""
    import httpx

    url = f"{app_url}gradio_api/call/{api_name}"
    event = httpx.post(url, json={"data": data}, timeout=30).json()["event_id"]
    reply = httpx.get(f"{url}/{event}", timeout=60).text
    assert reply.startswith("event: error"), reply
    return json.loads(reply.split("data:", 1)[1])["error"]


SERVER_FILE = {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}  # on the server, never sent to it


@pytest.mark.parametrize("api_name, data, words", [
    ("reconstruct_drawing", ["hello", ["ae"], "ae"], "A sketchpad value in this request does not have the form"),
    ("reconstruct_drawing", [{"background": None, "layers": 5, "composite": None}, ["ae"], "ae"],
     "(layers: Input should be a valid list)"),
    # a file the server was not sent: gradio_client would upload it, a bare request names it
    ("reconstruct_drawing", [{"background": None, "layers": [], "composite": SERVER_FILE}, ["ae"], "ae"],
     "names a file on the server, which was not uploaded to it"),
    ("reconstruct", [SERVER_FILE, None, "vae"], "names a file on the server, which was not uploaded to it"),
    # an image as a bare path: what a caller reading "filepath" on the API page tries first
    ("reconstruct", ["digit.png", None, "vae"], "An image in this request does not have the form"),
    ("denoise", ["Upload", 0, 5, "gaussian", 0.5, 0, ""], "An image in this request does not have the form"),
])
def test_a_request_gradio_refuses_is_told_how_to_send_a_file_and_logs_no_traceback(app_url, capfd, api_name, data,
                                                                                    words):
    # Gradio checks such a value before any handler sees it: the caller got pydantic's words ("1 validation error
    # for ImageData ... errors.pydantic.dev"), and the Space's log a traceback for every such call
    said = _call_refusal(app_url, api_name, data)
    assert words in said and "handle_file" in said and "/gradio_api/upload" in said, said
    assert "Traceback" not in capfd.readouterr().err


def test_a_sketchpad_layer_that_is_no_image_is_told_so(client, tmp_path, capfd):
    from gradio_client.exceptions import AppError

    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    layer = handle_file(str(text))
    with pytest.raises(AppError) as refused:
        client.predict({"background": None, "layers": [layer], "composite": layer}, ["ae"], "ae",
                       api_name="/reconstruct_drawing")
    assert "could not read the image: not a recognised image format" in str(refused.value)
    assert "Traceback" not in capfd.readouterr().err  # the caller's mistake, not the Space's: no traceback logged


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header says width x height (over a few bytes of data: never decoded here)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_big_pictures_are_decoded_two_at_a_time_and_their_memory_handed_back(tmp_path, monkeypatch):
    # eight 25-MP uploads at once took the server from 0.8 to 2.4 GB, and glibc kept 1.4 GB of it
    at_once, most, lock = 0, 0, threading.Lock()

    def slow_reading(image):
        nonlocal at_once, most
        with lock:
            at_once += 1
            most = max(most, at_once)
        time.sleep(0.2)
        with lock:
            at_once -= 1
        return None

    handed_back = []
    monkeypatch.setattr(inputs, "canvas_to_mnist", slow_reading)
    monkeypatch.setattr(inputs, "return_freed_memory", lambda: handed_back.append(1))

    def read_at_once(path) -> int:
        nonlocal most
        most = 0
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(inputs.to_mnist, [str(path)] * 6))
        return most

    big, small = tmp_path / "big.png", tmp_path / "small.png"
    big.write_bytes(_png_claiming(5000, 5000))
    small.write_bytes(_png_claiming(1000, 1000))
    assert read_at_once(big) == 2 and len(handed_back) == 6
    assert read_at_once(small) > 2 and len(handed_back) == 6  # a sketch never waits behind them
