"""Two Gradio 6.31 bugs that a Space running for days meets, worked around until Gradio mends them.

Both were found with benchmarks/soak.py (thousands of calls from one session). Each work-around replaces one small
piece of Gradio and has a test that fails if it stops taking effect (a Gradio release that renames what is replaced).

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
"""

from __future__ import annotations

import inspect
import os
import time
import warnings
from typing import Any

from gradio import __version__ as gr_version
from gradio import route_utils
from gradio.blocks import Block
from gradio.state_holder import SessionState


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


def _same_call(replaced: Any, replacement: Any) -> bool:
    """Whether Gradio still calls what is replaced as the replacement expects; if not, Gradio changed and the
    replacement would break what it mends (in a background task, silently), so it is left out."""
    names = [list(inspect.signature(f).parameters) for f in (replaced, replacement)]
    return names[0] == names[1]


def install() -> None:
    """Put both work-arounds in place, for the whole process (idempotent); one Gradio no longer fits is left out,
    with a warning."""
    fixes = ((route_utils, "delete_files_created_by_app", delete_files_created_by_app),
             (SessionState, "__setitem__", _set_keeping_ids))
    for owner, name, replacement in fixes:
        replaced = getattr(owner, name, None)
        if replaced is replacement:
            continue
        if replaced is None or not _same_call(replaced, replacement):
            warnings.warn(f"aedemo: Gradio {gr_version} changed {owner.__name__}.{name}; its work-around is left out",
                          stacklevel=2)
            continue
        setattr(owner, name, replacement)
