"""Gradio 6.31 bugs that a public Space meets, worked around until Gradio mends them.

The first two were found with benchmarks/soak.py (thousands of calls from one session), the third and fourth by
probing the app's API as an attacker would, the fifth with five API callers at once, the sixth by calling every
endpoint with malformed values. Each work-around replaces one small piece of Gradio and has a test that fails if it
stops taking effect (a Gradio release that renames what is replaced).

1. The scheduled deletion of served files (`delete_cache`) dies for good the first time a handler writes a file
   while it runs. `gradio.route_utils.delete_files_created_by_app` walks each live set of file paths while handler
   threads add to it; "Set changed size during iteration" ends the background task, and from then on no file is
   deleted (about 60 MB of pictures per 1,000 rounds of the soak's calls, their paths kept in memory). The
   replacement walks copies, and also forgets paths whose file is already gone, which Gradio kept for good.
2. A session's record of its components grows with every update of a component's properties (range, label,
   visibility) that a later event reads. Gradio builds the updated component with a new id and stores it under the
   old one; the next event that takes it as input stores it again under the new id. The Latent tab's three
   sliders change range and label with every map drawn: three more components, with their configs, per map, kept
   as long as the session. The replacement gives an updated component the id of the one it replaces.
3. The sketchpad's event decodes every picture its value names (background, each layer, composite) in full before
   a handler can look at one, and a value may name any number of them: a 0.5 MB PNG declaring 12000x12000 pixels
   cost 2.2 GB for the 0.07 s it takes an upload to be refused. The replacement reads the pictures' headers first
   and refuses more than MAX_PICTURES of them, or more than the app's limit for one image in all
   (aedemo.preprocess.MAX_PIXELS).
4. The sketchpad's blob route (`ImageEditor.accept_blobs`, which the browser posts a stroke's pictures to before
   its event) makes a list as long as the layer index it is sent, and keeps every stroke whose event never came
   (one that `trigger_mode="always_last"` dropped, or none at all) for good: 77 MB per 250-byte request, kept. The
   replacement refuses a layer index of MAX_LAYERS or more and a picture over MAX_STROKE_BYTES (HTTP 400 and 413),
   and forgets the oldest strokes waiting beyond MAX_WAITING_STROKES or MAX_WAITING_BYTES. The strokes of all
   visitors wait together: a flood of posts can push out a visitor's stroke before its event reads it (that
   stroke then reads as an empty canvas, and the next one is read again), but it cannot exhaust memory.
5. A picture output is saved to a file named after its content (`processing_utils.save_pil_to_cache`), written
   again for every request that gives the same picture, and the write truncates the file first: a request served
   that file meanwhile got it empty or cut off (found with five API callers decoding the Latent tab's first place,
   which every visitor decodes). The replacement writes a temporary file and renames it over the old one, so a
   file is always whole, and one being served keeps its content.
6. A value Gradio itself refuses before any handler sees it (an image parameter sent as a bare path or a number, not
   as an uploaded file; a file named by its path on the server) failed with pydantic's or Gradio's own words
   ("1 validation error for ImageData ... errors.pydantic.dev") and a traceback in the Space's log. The replacement
   of `Blocks.preprocess_data` refuses it in a sentence that says how to send a file, and logs no traceback: a
   caller's mistake, not the Space's.
"""

from __future__ import annotations

import inspect
import os
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from gradio import Error, processing_utils, route_utils
from gradio import __version__ as gr_version
from gradio.blocks import Block, Blocks
from gradio.components.image_editor import ImageEditor
from gradio.data_classes import FileData
from gradio.exceptions import InvalidPathError
from gradio.state_holder import SessionState
from pydantic import ValidationError

from ..preprocess import MAX_PIXELS, InvalidImageError, image_size

MAX_LAYERS = 4  # the Draw tab's sketchpad has one layer
MAX_PICTURES = MAX_LAYERS + 2  # and a background and a composite
MAX_STROKE_BYTES = 2 * 2**20  # one picture of a stroke: the 400x400 canvas's PNG, pure noise in RGBA, is 0.64 MB
MAX_WAITING_STROKES = 256  # per editor, all visitors together: strokes posted whose event has not come (yet)
MAX_WAITING_BYTES = 32 * 2**20


def delete_files_created_by_app(blocks: Any, age: float | None) -> None:
    """Delete the files Gradio wrote for `blocks` that are more than `age` seconds old (all of them when None), as
    Gradio's function of that name does, safely while handlers keep writing."""
    keep: set[str] = set()
    for component in list(blocks.blocks.values()):
        keep.update(getattr(component, "keep_in_cache", set()))
    now = time.time()
    for paths in list(blocks.temp_file_sets):
        done = set()
        for path in list(paths):
            if path in keep:
                continue
            try:
                if age is not None and now - os.lstat(path).st_ctime <= age:
                    continue
                os.remove(path)
            except FileNotFoundError:
                pass  # gone already: nothing left to delete, so nothing to remember
            except OSError:
                continue  # not ours to delete after all (permissions): try again next time
            done.add(path)
        paths -= done


_set_in_session = SessionState.__setitem__


def _set_keeping_ids(self: SessionState, key: int, value: Any) -> None:
    """SessionState.__setitem__, with an updated component given the id of the component it replaces."""
    replaced = self.blocks_config.blocks.get(key)
    if isinstance(value, Block) and isinstance(replaced, Block) and not replaced.stateful and value._id != key:
        value._id = key
    _set_in_session(self, key, value)


_preprocess = ImageEditor.preprocess


def preprocess(self: ImageEditor, payload: Any) -> Any:
    """ImageEditor.preprocess, refusing a value of more than MAX_PICTURES pictures, or of more than MAX_PIXELS in
    all, from their headers, before any is decoded."""
    held = None if payload is None else self.blob_storage.get(payload.id) if payload.id is not None else payload
    if held is not None:
        pictures = [p for p in (held.background, *(held.layers or []), held.composite) if p is not None]
        try:
            if len(pictures) > MAX_PICTURES:
                raise InvalidImageError(f"it holds {len(pictures)} pictures; a sketchpad sends at most {MAX_PICTURES}")
            pixels = sum(w * h for w, h in (image_size(p.path if isinstance(p, FileData) else p) for p in pictures))
            if pixels > MAX_PIXELS:
                raise InvalidImageError(f"its pictures hold {pixels:,} pixels; the limit is "
                                        f"{MAX_PIXELS // 1_000_000} megapixels in all")
        except InvalidImageError as e:
            if payload.id is not None:
                self.blob_storage.pop(payload.id, None)  # as Gradio's preprocess does with the strokes it reads
            raise Error(f"The sketchpad's value is refused: {str(e).rstrip('.')}.", print_exception=False) from None
    return _preprocess(self, payload)


_accept_blobs = ImageEditor.accept_blobs


def accept_blobs(self: ImageEditor, data: Any) -> None:
    """ImageEditor.accept_blobs, refusing a layer index of MAX_LAYERS or more and a picture over MAX_STROKE_BYTES,
    then forgetting the oldest strokes past MAX_WAITING_STROKES or MAX_WAITING_BYTES."""
    index = data.data.get("index")
    if index not in (None, "", "null") and not (str(index).isdecimal() and int(index) < MAX_LAYERS):
        raise HTTPException(400, f"A layer index is a whole number below {MAX_LAYERS}, not {str(index)[:20]!r}.")
    if any(len(content) > MAX_STROKE_BYTES for _, content in data.files):
        raise HTTPException(413, f"A stroke's picture takes at most {MAX_STROKE_BYTES // 2**20} MB.")
    _accept_blobs(self, data)
    _forget_oldest(self.blob_storage)


def _stroke_bytes(stroke: Any) -> int:
    return sum(len(p) for p in (stroke.background, stroke.composite, *stroke.layers) if p is not None)


def _forget_oldest(waiting: dict) -> None:
    strokes = list(waiting.items())  # a copy: their events pop them from other threads meanwhile
    total, excess = sum(_stroke_bytes(stroke) for _, stroke in strokes), len(strokes) - MAX_WAITING_STROKES
    for key, stroke in strokes:  # oldest first: a dict keeps the order strokes came in
        if excess <= 0 and total <= MAX_WAITING_BYTES:
            break
        waiting.pop(key, None)
        excess, total = excess - 1, total - _stroke_bytes(stroke)


accept_blobs._is_server_fn = True  # type: ignore[attr-defined]  # Gradio's route calls only functions so marked


def save_pil_to_cache(img: Any, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """processing_utils.save_pil_to_cache, writing the file whole or not at all (a temporary file renamed over it)."""
    content = processing_utils.encode_pil_to_bytes(img, format)
    path = (Path(cache_dir) / processing_utils.hash_bytes(content) / f"{name}.{format}").resolve()
    path.parent.mkdir(exist_ok=True, parents=True)
    temporary = path.with_name(f".{uuid.uuid4().hex}.{path.name}")
    temporary.write_bytes(content)
    os.replace(temporary, path)  # written again all the same: the purge of old files goes by the file's age
    return str(path)


HOW_TO_SEND_A_FILE = ("A picture is sent as a file uploaded to this Space: gradio_client's handle_file(\"digit.png\") "
                      "does that; over plain HTTP, POST it to /gradio_api/upload, then send "
                      "{\"path\": <the path that returns>, \"meta\": {\"_type\": \"gradio.FileData\"}}.")
VALUE_NAMES = {"ImageData": "An image", "FileData": "A file", "EditorData": "A sketchpad value"}

_preprocess_data = Blocks.preprocess_data


async def preprocess_data(self: Blocks, block_fn: Any, inputs: list[Any], state: Any,
                          explicit_call: bool = False) -> Any:
    """Blocks.preprocess_data, refusing a value that does not have its component's form, or names a file the
    Space was not sent, in a sentence (see 6. above)."""
    try:
        return await _preprocess_data(self, block_fn, inputs, state, explicit_call)
    except ValidationError as e:
        first = e.errors()[0] if e.error_count() else {"loc": (), "msg": str(e)}
        where = ".".join(str(part) for part in first["loc"])
        what = VALUE_NAMES.get(e.title, f"A {e.title} value")
        raise Error(f"{what} in this request does not have the form the endpoint takes "
                    f"({where + ': ' if where else ''}{first['msg']}). {HOW_TO_SEND_A_FILE}",
                    print_exception=False) from None
    except InvalidPathError:
        raise Error(f"The request names a file on the server, which was not uploaded to it and is not read. "
                    f"{HOW_TO_SEND_A_FILE}", print_exception=False) from None


def _same_call(replaced: Any, replacement: Any) -> bool:
    """Whether Gradio still calls what is replaced as the replacement expects; if not, Gradio changed and the
    replacement would break what it mends (in a background task, silently), so it is left out."""
    names = [list(inspect.signature(f).parameters) for f in (replaced, replacement)]
    return names[0] == names[1]


def install() -> None:
    """Put the work-arounds in place, for the whole process (idempotent); one Gradio no longer fits is left out,
    with a warning."""
    fixes = ((route_utils, "delete_files_created_by_app", delete_files_created_by_app),
             (SessionState, "__setitem__", _set_keeping_ids),
             (ImageEditor, "preprocess", preprocess),
             (ImageEditor, "accept_blobs", accept_blobs),
             (processing_utils, "save_pil_to_cache", save_pil_to_cache),
             (Blocks, "preprocess_data", preprocess_data))
    for owner, name, replacement in fixes:
        replaced = getattr(owner, name, None)
        if replaced is replacement:
            continue
        if replaced is None or not _same_call(replaced, replacement):
            warnings.warn(f"aedemo: Gradio {gr_version} changed {owner.__name__}.{name}; its work-around is left out",
                          stacklevel=2)
            continue
        setattr(owner, name, replacement)
