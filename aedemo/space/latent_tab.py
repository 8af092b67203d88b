"""Latent space: where each model puts the test digits, and what it draws anywhere on that map."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import gradio as gr
import numpy as np
import torch

from ..models import Autoencoder
from ..models.base import N_CLASSES
from . import images
from .inputs import UserInputError, a_digit, as_batch, number_said, parse_digit, parse_float, parse_int, quoted
from .scatter import latent_scatter
from .store import LATENT_DIGITS, ModelStore, display_name
from .ui import (
    UNSEEN_LABEL,
    digit_image,
    endpoint,
    follow_session,
    live_slider,
    on_show_state,
    problem,
    reports_problem,
    unchanged,
)

VIEWS = ("2-D", "3-D")
DEFAULT_MODEL = "vae"
GRID_SIDE = 15  # places per side of the decoded grid: Kingma & Welling's figure 4 shows 20; 15 fit a phone
SLIDER_RANGE = 4.0  # until a map is drawn, sliders span +-4 (a unit Gaussian prior's codes sit well inside)
# A slider moved tells the map where the ring goes (scatter.py listens): the map stays as it is drawn.
PLACE_JS = """(x, y, z) => {
  window.dispatchEvent(new CustomEvent('aedemo-latent-place', {detail: [x, y, z].map(Number)}));
  return [x, y, z];
}"""
# The events that redraw the map run one at a time, in the order they came: opening the tab (which redraws it for a
# new Draw tab digit) and then picking another model left the first model's map on show when the two ran side by side.
# The line is the whole server's, not a session's (Gradio has no other): a map takes 10-95 ms, so a visitor waits
# behind a handful of others' at most, and Draw, the busy tab, is not in it. The map a page opens on is not either: a
# visitor cannot reach the tab's controls before it.
MAP_QUEUE = "latent-map"
NEIGHBOURS = 10  # test digits whose codes lie nearest the Draw tab's digit, counted by class


def _axis_names(projection, k: int) -> list[str]:
    if projection.direct:
        return [f"z{i + 1}" for i in range(k)]
    return [f"PC{i + 1} ({share:.0%} of variance)" for i, share in enumerate(projection.explained[:k])]


def _coordinates(values: Any, projection) -> list[float]:
    """The sliders' values as numbers; an emptied or bad one is named by its axis ("PC2 is empty: enter a number.")."""
    axis = "z" if projection.direct else "PC"
    return [parse_float(v, f"{axis}{i + 1}") for i, v in enumerate(values)]


def _at_rest(coords: torch.Tensor, axis: int) -> float:
    """Where the slider of an axis the map does not show sits: the codes' mean along it (0 past the code's size)."""
    return round(float(coords[:, axis].mean()), 3) if axis < coords.shape[1] else 0.0


def _at_their_mean(latent_dim: int, shown: int, direct: bool) -> str:
    """What a decoded place's status says of the directions of the code it does not name: the codes' mean along
    them. On a map of principal axes those are the other principal axes, not code dimensions: each of the code's
    dimensions moves with the sliders there."""
    others = latent_dim - shown
    if others <= 0:
        return ""
    if not direct:
        return f" (the code along its other {others} principal axes at the test codes' mean)" if others > 1 else (
            " (the code along its other principal axis at the test codes' mean)")
    return f" (the other {others} code dimensions at their mean)" if others > 1 else (
        " (the other code dimension at its mean)")


def _sliders(coords: torch.Tensor, names: list[str], value: list[float] | None = None, dims: int = 3) -> list:
    """One slider per plotted axis (the first `dims`) spanning the codes (a margin beyond); the others hidden, at
    the codes' mean along them, so a 2-D map decodes what it shows."""
    out = []
    for a in range(3):
        if dims <= a < coords.shape[1]:
            out.append(gr.Slider(value=_at_rest(coords, a), visible=False))
        elif a < coords.shape[1]:
            lo, hi = float(coords[:, a].min()), float(coords[:, a].max())
            pad = 0.1 * (hi - lo) + 1e-3
            v = round(value[a], 3) if value is not None else _at_rest(coords, a)
            lo, hi = min(lo - pad, v), max(hi + pad, v)  # a click beyond the data still fits its slider
            # rounded after the margin: round(lo, 2) - 0.01 showed as -3.5999999999999996
            out.append(gr.Slider(minimum=round(lo - 0.01, 2), maximum=round(hi + 0.01, 2), value=v,
                                 label=names[a], visible=True))
        else:
            out.append(gr.Slider(value=0.0, visible=False))
    return out


def _tally(classes: list[int]) -> str:
    """The neighbours' classes, commonest first: 'all 10 of class 7', or '6 of class 2, 3 of class 3, 1 of
    class 8'."""
    counts = sorted(((classes.count(d), d) for d in set(classes)), key=lambda cd: (-cd[0], cd[1]))
    if len(counts) == 1:
        return f"all {len(classes)} of class {counts[0][1]}"
    ones = [str(d) for c, d in counts if c == 1]
    parts = [f"{c} of class {d}" for c, d in counts if c > 1]
    if ones:
        parts.append(f"1 of class {ones[0]}" if len(ones) == 1 else f"1 each of {', '.join(ones)}")
    return ", ".join(parts)


@torch.no_grad()
def _drawing_on_map(
    store: ModelStore, model: Autoencoder, drawing: Any, dims: int
) -> tuple[list[float], str] | None:
    """Where the Draw tab's digit (float [28,28], or None) sits on a model's map of `dims` axes, and the classes of
    the test digits whose codes lie nearest to its code: codes near one another decode alike, so a digit the model has
    learnt to represent lands among its own class. None when there is no digit, or the CVAE has no class for it
    (no classifier)."""
    if not (isinstance(drawing, np.ndarray) and drawing.shape == (28, 28)):
        return None
    x = as_batch(drawing)
    read = store.predicted_label(x)
    if model.conditional and read is None:
        return None
    labels = torch.tensor([read], device=model.device) if model.conditional else None
    z = model.encode(x.to(model.device), labels).float().cpu()
    _, projection = store.test_codes(model)
    at = projection.to_axes(z)[0].tolist()
    classes = store.test_set[2][store.nearest_test_digits(model, x, z, NEIGHBOURS)[0]].tolist()
    read_as = f", read as {a_digit(read)}" if read is not None else ""
    # "not on this map's axes" of a code the map shows whole (the CVAE's 2-D one) was wrong
    code = (f"whole {model.latent_dim}-D code (not on this map's axes)" if model.latent_dim > dims
            else f"{model.latent_dim}-D code, as this map shows it")
    note = (f"★ The Draw tab's digit{read_as}. Of the {len(classes)} test digits whose codes lie nearest to its "
            f"{code}: {_tally(classes)}.")
    if model.conditional:
        note += " The class goes to the decoder on its own, so the code holds the style: neighbours of any class."
    return at, note


def _map(
    store: ModelStore, model_name: str | None, view: Any, n_points: Any, session_models: dict | None,
    drawing: Any = None,
) -> tuple:
    """The checked inputs' map: (scatter value, the codes on the map's axes, the axes' names, dims shown, note);
    with `drawing` (the Draw tab's digit), a star where it lands."""
    model = store.get(model_name, session_models)
    if view not in VIEWS:
        raise UserInputError(f"View must be one of {', '.join(VIEWS)}, not {quoted(view)}.")
    n = parse_int(n_points, "Test digits shown", 100, LATENT_DIGITS)
    codes, projection = store.test_codes(model)
    k_all = projection.components.shape[0]
    coords = projection.to_axes(codes)
    names = _axis_names(projection, k_all)
    dims = min(3 if view == "3-D" else 2, k_all)
    labels = store.test_set[2][: len(codes)]
    shown = coords[:n].clone()
    if shown.shape[1] < 3:  # pad to x, y, z so every point has the same layout
        shown = torch.cat([shown, torch.zeros(len(shown), 3 - shown.shape[1])], 1)
    points = [[round(a, 3), round(b, 3), round(c, 3), int(y), i]
              for i, ((a, b, c), y) in enumerate(zip(shown[:, :3].tolist(), labels[:n].tolist(), strict=True))]
    # the share shown: the VAE's top 3 axes hold a quarter of its code's variance, and classes that overlap on them
    # can be apart in the rest
    shown_share = sum(projection.explained[:dims])
    share = f"{shown_share:.0%} of its variance" if shown_share > 0 else "its codes do not vary: all the same code"
    how = "its code" if projection.direct else (
        f"the top {dims} principal axes of its {model.latent_dim}-D code ({share})")
    hint = (("Drag, or use the arrow keys, to rotate; on a touch screen, drag sideways: a swipe up or down "
             "scrolls. " if dims == 3 else "") + "Click a point (or, in 2-D, anywhere) to "
            "decode it; Enter on the map opens the test digit nearest the place the sliders set. The axes cross at "
            "0 (on an edge, where the codes do not reach it). Each axis is stretched to "
            "fit: the numbers at its ends say where the codes shown stop (compare the AE's with the VAE's); the "
            f"sliders reach a little past all {LATENT_DIGITS:,} test digits' codes.")
    value = {
        "points": points, "dims": dims, "axes": names[:dims], "marker": None, "hint": hint,
        "title": f"{display_name(model_name)}: {n:,} test digits, {how}", "drawing": None, "drawing_note": "",
        "class_labels": not model.conditional,  # the CVAE's classes share one place: their digits piled up there
    }
    placed = _drawing_on_map(store, model, drawing, dims)
    if placed is not None:
        at, value["drawing_note"] = placed
        value["drawing"] = [round(v, 3) for v in (at + [0.0, 0.0])[:dims]] + [0.0] * (3 - dims)
    notes = []
    if view == "3-D" and k_all < 3:
        notes.append(f"{display_name(model_name)} has a {k_all}-D code: showing it in 2-D.")
    if model.conditional:  # mixed classes look like a failure, and are the point
        notes.append("The classes overlap on this map: the decoder is given the class, so the code mostly holds the "
                     "style (slant, width, thickness). Each class has its own learned prior, and these priors "
                     "overlap, so the classes' codes do too.")
    return value, coords, names, dims, " ".join(notes)


@torch.no_grad()
def latent_map(
    store: ModelStore, model_name: str | None, view: str, n_points: Any, session_models: dict | None = None,
    drawing: Any = None,
) -> tuple:
    """The test digits' codes under one model, as plotted: 2-D or 3-D, PCA-projected when the code is bigger.

    API inputs: `model_name` (e.g. "vae"), `view` ("2-D" or "3-D"), `n_points` (100-5000). Returns the scatter
    value {"points": [[x, y, z, label, test index], ...], "dims", "axes", "title", "hint", "drawing",
    "drawing_note"}, the three axis sliders as Gradio updates (for each axis the map shows, {"minimum", "maximum",
    "label", "value"}: the range of the codes along it, with a margin; for one it does not, {"visible": false,
    "value"}: the codes' mean along it, where /latent decodes) and a status line.

    Args:
        store: the models. session_models: the browser session's own (a gr.State).
        drawing: the Draw tab's digit, kept per session (a gr.State): starred on the map ("drawing": [x, y, z])
            with its nearest test digits' classes ("drawing_note").
    """
    try:
        value, coords, names, dims, note = _map(store, model_name, view, n_points, session_models, drawing)
    except UserInputError as e:
        return (*unchanged(4), problem(str(e)))
    # the ring at the sliders' place, which is decoded next (an update made in an event has no .value to read)
    value["marker"] = [_at_rest(coords, a) for a in range(dims)] + [0.0] * (3 - dims)
    return (value, *_sliders(coords, names, dims=dims), note)


@torch.no_grad()
def more_or_fewer_points(
    store: ModelStore, model_name: str | None, view: str, n_points: Any, c1: Any, c2: Any, c3: Any,
    session_models: dict | None = None, digit: Any = 0, status: str | None = None, drawing: Any = None,
) -> tuple:
    """The same map with another number of test digits, or another Draw tab digit to star: the sliders, the
    decoded digit and the status stay, and the marker stays where the sliders are. Returns the scatter value and a
    status line: left as it is, unless `n_points` is refused, or an earlier refusal (`status`) is to be replaced by
    what the sliders decode."""
    try:
        value, _, _, dims, _ = _map(store, model_name, view, n_points, session_models, drawing)
    except UserInputError as e:
        return gr.skip(), problem(str(e))
    if reports_problem(status):  # a warning about a value no longer there
        status = decode_point(store, model_name, c1, c2, c3, digit, session_models, view)[1]
    else:
        status = gr.skip()
    try:
        at = [parse_float(v, "Each coordinate") for v in (c1, c2, c3)][:dims]
        value["marker"] = at + [0.0] * (3 - dims)
    except UserInputError:
        pass  # sliders that are not numbers: no marker, as on a fresh map
    return value, status


@torch.no_grad()
def decode_point(
    store: ModelStore, model_name: str | None, c1: Any, c2: Any, c3: Any, digit: Any = 0,
    session_models: dict | None = None, view: Any = "3-D",
) -> tuple:
    """Decode the point (c1, c2, c3) of a model's latent map and show the digit there.

    API inputs: `model_name` (e.g. "vae"), `c1`, `c2`, `c3` (coordinates along the map's axes: the code's
    dimensions for a code of 2 or 3, else its top principal axes, as /latent_map reports them; the range each takes
    is the one /latent_map gives its slider, which depends on the model; c3 is ignored for 2-D codes), `digit` (0-9:
    the class a conditional model, the CVAE, draws). Returns the decoded digit (a 28x28 picture) and a status line.

    Args:
        store: the models. session_models: the browser session's own (a gr.State).
        view: "2-D" or "3-D", the map's (a gr.State), which the status follows: a 2-D map's third axis is one of
            those at the codes' mean.
    """
    try:
        model = store.get(model_name, session_models)
        codes, projection = store.test_codes(model)
        k = projection.components.shape[0]
        c = _coordinates((c1, c2, c3)[:k], projection)  # c3 of a 2-D code is not read: empty is fine
        d = parse_digit(digit) if model.conditional else None  # the class only the CVAE draws: others need none
        coords = projection.to_axes(codes)
        for a, name in enumerate(_axis_names(projection, k)):
            # around the map: twice its spread past each side (at least 1), wider than the sliders and a click
            # anywhere on the plot reach; farther out, the decoder draws from codes unlike any it was trained on,
            # and a value typed past a slider's end used to be decoded without a word
            lo, hi = float(coords[:, a].min()), float(coords[:, a].max())
            margin = max(2 * (hi - lo), 1.0)
            # to the hundredth shown, outwards: 7.447 past a limit of 7.4468 was refused "between ... and 7.45"
            lo, hi = math.floor((lo - margin) * 100) / 100, math.ceil((hi + margin) * 100) / 100
            if not lo <= c[a] <= hi:
                raise UserInputError(f"{name} must be between {lo:.2f} and {hi:.2f}, around the map, "
                                     f"not {number_said(c[a])}.")
    except UserInputError as e:
        return unchanged(1) + (problem(str(e)),)
    z = projection.to_code(torch.tensor([c[:k]], dtype=torch.float32))
    labels = torch.tensor([d]) if model.conditional else None
    out = model.decode(z.to(model.device), labels).cpu()
    # a 2-D map's third axis (its hidden slider, at the codes' mean) is one of the dimensions at their mean: its
    # status counted it as shown, unlike its grid's
    shown = 2 if k == 3 and view == "2-D" else k
    where = ", ".join(_place(v) for v in c[:shown])
    rest = _at_their_mean(model.latent_dim, shown, projection.direct)
    cls = f", drawn as {a_digit(d)}" if model.conditional else ""
    if all(abs(c[a] - _at_rest(coords, a)) < 5e-4 for a in range(k)):  # where the sliders start: say what it is
        return images.show(out), f"Decoded at the test codes' mean ({where}){cls}."
    return images.show(out), f"Decoded at ({where}){rest}{cls}."


@torch.no_grad()
def decode_grid(
    store: ModelStore, model_name: str | None, digit: Any = 0, session_models: dict | None = None
) -> tuple:
    """Decode a 15x15 grid (GRID_SIDE per side) of places spread over the map's first two axes, from the 2nd to the
    98th percentile of the test codes along each (the code along any other axis at the codes' mean): how the decoder's
    output changes across the map, as Kingma & Welling's figure 4 shows it for a VAE with a 2-D code. `digit` is
    the class a conditional model draws, across the codes of that class's test digits.

    API inputs: `model_name` (a model with a code of 2 or more), `digit` (0-9, for the CVAE). Returns the picture
    (the top row at the second axis's high end) and a status line that names each axis's range.

    Args:
        store: the models. session_models: the browser session's own (a gr.State).
    """
    try:
        model = store.get(model_name, session_models)
        d = parse_digit(digit) if model.conditional else None
    except UserInputError as e:
        return unchanged(1) + (problem(str(e)),)
    codes, projection = store.test_codes(model)
    axes = projection.to_axes(codes)
    k = axes.shape[1]
    if k < 2:
        return unchanged(1) + (problem(f"{display_name(model_name)} has a 1-D code: no grid to spread."),)
    if model.conditional:  # the asked class's codes: beyond them the decoder meets codes that class never had
        axes = axes[store.test_set[2][: len(codes)] == d]
    lo, hi = torch.quantile(axes[:, :2], torch.tensor([0.02, 0.98]), dim=0)
    xs = torch.linspace(float(lo[0]), float(hi[0]), GRID_SIDE)
    ys = torch.linspace(float(hi[1]), float(lo[1]), GRID_SIDE)  # rows top to bottom: the second axis upwards
    places = torch.stack([xs.repeat(GRID_SIDE), ys.repeat_interleave(GRID_SIDE)], 1)
    places = torch.cat([places, axes[:, 2:].mean(0).expand(len(places), k - 2)], 1)
    labels = torch.full((len(places),), d, device=model.device) if model.conditional else None
    out = model.decode(projection.to_code(places).to(model.device), labels).cpu()
    names = _axis_names(projection, k)
    rest = _at_their_mean(model.latent_dim, 2, projection.direct)
    cls = f", all drawn as {a_digit(d)}, across the test {d}s' codes" if model.conditional else ""
    return images.grid(out, ncol=GRID_SIDE, scale=1), (
        f"{display_name(model_name)} decoded at {GRID_SIDE}×{GRID_SIDE} places: {names[0]} from "
        f"{_place(lo[0])} (left) to {_place(hi[0])} (right), {names[1]} from {_place(hi[1])} (top) to "
        f"{_place(lo[1])} (bottom){rest}{cls}.")


def _place(value: Any) -> str:
    """A place on an axis as the sliders show it: to 2 decimals, with no "-0.00" for a value just below 0."""
    return f"{float(value):.2f}".replace("-0.00", "0.00")


def star_if_on_show(store: ModelStore, *inputs: Any) -> tuple:
    """more_or_fewer_points() for a new Draw tab digit (the inputs' last but one) while the tab is on show (the
    last); nothing to do otherwise: opening the tab brings the star up to date."""
    *redraw, on_show = inputs
    return more_or_fewer_points(store, *redraw) if on_show is True else (gr.skip(), gr.skip())


def decode_after_map(
    store: ModelStore, model_name: str | None, c1: Any, c2: Any, c3: Any, digit: Any, session_models: dict | None,
    map_status: str | None, view: Any = "3-D",
) -> tuple:
    """decode_point after a map is drawn, and no test digit clicked (that was on the old map); unless the map was
    refused: then nothing changes, and its message stays in the status line."""
    if reports_problem(map_status):
        return unchanged(3)
    decoded, status = decode_point(store, model_name, c1, c2, c3, digit, session_models, view)
    if isinstance(map_status, str) and map_status and not reports_problem(status):
        status = f"{map_status} {status}"  # the map's note (a 2-D code shown in 2-D, the CVAE's mixed classes) stays
    return decoded, None, status


def _nearest_dot(
    axes: torch.Tensor, view: Any, n_points: Any, sliders: tuple[Any, Any, Any], projection
) -> tuple[int, list[float]]:
    """The plotted test digit nearest the sliders' place, given the test codes on the map's axes: (its index, its
    place there)."""
    dims = min(2 if view == "2-D" else 3, axes.shape[1])
    n = parse_int(n_points, "Test digits shown", 100, LATENT_DIGITS)
    at = torch.tensor(_coordinates(sliders[:dims], projection))
    index = int((axes[:n, :dims] - at).square().sum(1).argmin())
    return index, axes[index, :dims].tolist()


def pick(
    store: ModelStore, model_name: str | None, digit: Any, session_models: dict | None, evt: gr.EventData,
    view: Any = None, n_points: Any = None, sliders: tuple[Any, Any, Any] = (0.0, 0.0, 0.0),
) -> tuple:
    """A click on the map: move the sliders there and decode; a click on a dot also shows that test digit. Enter
    on the map ({"nearest": true}) picks the dot nearest the sliders' place (`view`, `n_points`: the map's).

    A dot is decoded from the digit's whole code, so the picture is the model's reconstruction of that digit. A
    map of a bigger code shows only its top principal axes: decoding the plotted point instead (the code along the
    other principal axes at the mean) could draw a different digit from the one clicked.
    """
    data = getattr(evt, "_data", None)
    data = data if isinstance(data, dict) else {}  # the map's own script sends a dict; a request, anything
    try:
        model = store.get(model_name, session_models)
    except UserInputError as e:
        return (*unchanged(5), problem(str(e)))
    codes, projection = store.test_codes(model)
    axes = projection.to_axes(codes)
    if data.get("nearest") is True:
        try:
            index, coords = _nearest_dot(axes, view, n_points, sliders, projection)
        except UserInputError as e:
            return (*unchanged(5), problem(str(e)))
        data = {"index": index, "coords": coords}
    coords = data.get("coords")
    index = data.get("index")
    index = index if type(index) is int else None  # not True, which is an int too
    try:
        if not isinstance(coords, list | tuple) or not 2 <= len(coords) <= 3:
            raise UserInputError("no coordinates")
        dims = len(coords)  # the map's: a click on a 2-D map has two
        coords = [parse_float(v, "Each coordinate") for v in coords] + [0.0] * (3 - dims)
    except UserInputError:
        return (*unchanged(5), problem("Could not read the clicked point."))
    k = projection.components.shape[0]
    sliders = _sliders(axes, _axis_names(projection, k), value=coords, dims=dims)
    if not (isinstance(index, int) and 0 <= index < len(codes)):  # empty space: the point itself
        # the axes the map does not show are where their hidden sliders sit, so a later slider move agrees (not
        # read back from the sliders: a component made inside an event is only an update, without its value)
        coords = coords[:dims] + [_at_rest(axes, a) for a in range(dims, 3)]
        decoded, status = decode_point(store, model_name, *coords, digit, session_models, f"{dims}-D")
        if not isinstance(decoded, np.ndarray):  # refused (a point far off the map): the sliders stay too
            return (*unchanged(5), status)
        return (*sliders, decoded, None, status)  # and no test digit, clearing one shown by an earlier click
    x, label = store.test_digit(index)
    with torch.no_grad():
        z = codes[index : index + 1].to(model.device)
        decoded = model.decode(z, torch.tensor([label], device=model.device) if model.conditional else None)
    whole = "its code" if projection.direct else (
        f"its whole {model.latent_dim}-D code; the sliders show where it sits on the map, and moving them decodes "
        "the map's points (the code along the other principal axes at the test codes' mean)")
    status = f"Test digit #{index} ({a_digit(label)}), decoded from {whole}."
    return (*sliders, images.show(decoded.cpu()), images.show(x), status)


def class_picker(store: ModelStore, model_name: str | None, session_models: dict | None = None) -> gr.Dropdown:
    """The class control shows only for a conditional model (the CVAE): the others draw no class."""
    try:
        conditional = store.get(model_name, session_models).conditional
    except UserInputError:
        conditional = False
    return gr.Dropdown(visible=conditional)


def _code_size(store: ModelStore, model_name: str | None, session_models: dict | None) -> int | None:
    """The model's latent_dim, or None for a name the store refuses (the map's own event says why)."""
    try:
        return store.get(model_name, session_models).latent_dim
    except UserInputError:
        return None


def view_drawn(store: ModelStore, model_name: str | None, view: Any, session_models: dict | None) -> Any:
    """The View control after a map is drawn: 2-D for a model whose code has two dimensions (the CVAE), which is how
    its map is drawn whatever the control said; the radio left on 3-D disagreed with the map."""
    k = _code_size(store, model_name, session_models)
    return "2-D" if k is not None and k < 3 and view != "2-D" else gr.skip()


def view_for_model(store: ModelStore, model_name: str | None, chosen: Any, view: Any, session_models: dict | None
                   ) -> Any:
    """The View control before a newly chosen model's map is drawn: the visitor's own pick (`chosen`) for a code of
    3 or more dimensions, which a 2-D code's map (the CVAE's) had set to 2-D; left as it is otherwise."""
    k = _code_size(store, model_name, session_models)
    return chosen if k is not None and k >= 3 and chosen in VIEWS and chosen != view else gr.skip()


def build_latent_tab(
    store: ModelStore, session_models: gr.State, demo: gr.Blocks | None = None, drawing: gr.State | None = None,
    tab: gr.Tab | None = None, tabs: gr.Tabs | None = None,
) -> None:
    """The tab's UI; with `demo`, the default model's map is drawn when a page loads; `drawing` (the Draw tab's
    digit) is starred on every map, and brought up to date whenever `tab` is opened, or changes while it is the tab
    of `tabs` on show."""
    gr.Markdown(
        "Where does each model put the test digits? Every dot is one test digit's code (VAE, CVAE: the mean of its "
        "posterior), coloured by its class. Codes with more than 3 dimensions are projected onto their top principal "
        "axes; the title says how much of the code's variance they show, and what is left out can separate classes "
        "that overlap here. Click a dot to see that digit redrawn from its code, or anywhere on a 2-D map to decode "
        "that place; the sliders move through the map. A ★ marks the digit on the Draw tab's canvas, once you have "
        "drawn one (or picked one there)."
    )
    choices = store.choices()
    names = [v for _, v in choices]
    first = DEFAULT_MODEL if DEFAULT_MODEL in names else (names[0] if names else None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=8):
            with gr.Row():
                model = gr.Dropdown(choices, value=first, label="Model", scale=2, elem_id="latent-model")
                view = gr.Radio(list(VIEWS), value="3-D", label="View", scale=1, elem_id="latent-view")
                n_points = live_slider(100, LATENT_DIGITS, value=2000, step=100, label="Test digits shown", scale=2,
                                       elem_id="latent-n-points")
            scatter = latent_scatter(result_id="latent-decoded", label="Latent map", show_label=False,
                                     elem_id="latent-scatter")
            grid_button = gr.Button(f"Decode a {GRID_SIDE}×{GRID_SIDE} grid across the map's first two axes",
                                    size="sm")
            grid = gr.Image(label="Decoded across the map", format="png", interactive=False, visible=False,
                            buttons=["download"], elem_id="latent-grid", elem_classes=["pixels", UNSEEN_LABEL])
        with gr.Column(scale=3, min_width=240):
            decoded = digit_image("Decoded", elem_id="latent-decoded")
            original = digit_image("Test digit clicked", elem_id="latent-original")
            c1, c2, c3 = (live_slider(-SLIDER_RANGE, SLIDER_RANGE, value=0.0, step=0.01, label=f"axis {a}",
                                       elem_classes=["latent-axis"], elem_id=f"latent-axis-{a}") for a in (1, 2, 3))
            digit = gr.Dropdown(list(range(N_CLASSES)), value=0, label="Class the CVAE draws",
                                visible=first is not None and store.get(first).conditional)
            status = gr.Markdown(label="Status", elem_classes=["status-line"], elem_id="latent-status")

    drawing = drawing if drawing is not None else gr.State(None)
    map_inputs, map_outputs = [model, view, n_points, session_models, drawing], [scatter, c1, c2, c3, status]
    # the view of the map on show, which a decoded place's status follows: a State, so the API's "latent" takes the
    # same values as before
    drawn_view = gr.State("3-D")
    # the View the visitor last picked: a 2-D code's map (the CVAE's) sets the radio to 2-D, and the next model's map
    # was drawn in 2-D too, the visitor's 3-D forgotten
    chosen_view = gr.State("3-D")
    decode_inputs = [model, c1, c2, c3, digit, session_models, drawn_view]
    after_map_inputs = [model, c1, c2, c3, digit, session_models, status, view]
    # preprocess=False: the handlers check every value themselves and say what is wrong (see generate_tab.py)
    drawn = view.input(endpoint(latent_map, store), map_inputs, map_outputs, api_name="latent_map",
                       trigger_mode="always_last", preprocess=False, concurrency_id=MAP_QUEUE, concurrency_limit=1)
    view.input(lambda picked: picked, view, chosen_view, queue=False, show_progress="hidden",
               api_visibility="private")
    # another model: the View back to the visitor's pick first, then its map
    # (always_last on each step: a step left at Gradio's "once" is skipped while its last call runs, and a model
    # chosen while the previous one's map was drawn kept that map under its name)
    redrawn = model.change(partial(view_for_model, store), [model, chosen_view, view, session_models], view,
                           queue=False, show_progress="hidden", api_visibility="private",
                           trigger_mode="always_last").then(
        partial(latent_map, store), map_inputs, map_outputs, api_visibility="private", preprocess=False,
        concurrency_id=MAP_QUEUE, concurrency_limit=1, trigger_mode="always_last")
    for event in (drawn, redrawn):
        event.then(partial(decode_after_map, store), after_map_inputs, [decoded, original, status],
                   api_visibility="private", preprocess=False, trigger_mode="always_last")
        event.then(partial(view_drawn, store), [model, view, session_models], view, queue=False,
                   show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        event.then(lambda shown: shown, view, drawn_view, queue=False, show_progress="hidden",
                   api_visibility="private", trigger_mode="always_last")
    # more or fewer dots redraw the map alone: a digit decoded or clicked on it stays, as do the sliders
    redraw_inputs = [model, view, n_points, c1, c2, c3, session_models, digit, status, drawing]
    n_points.input(partial(more_or_fewer_points, store), redraw_inputs, [scatter, status],
                   api_visibility="private", trigger_mode="always_last", preprocess=False, concurrency_id=MAP_QUEUE,
                   concurrency_limit=1)
    if tab is not None:  # the star follows the Draw tab's digit: not on every stroke there, but when it is seen
        # (every time: a map redrawn meanwhile by another model or view has the digit it had then)
        tab.select(partial(more_or_fewer_points, store), redraw_inputs, [scatter, status], api_visibility="private",
                   trigger_mode="always_last", preprocess=False, show_progress="hidden",
                   concurrency_id=MAP_QUEUE, concurrency_limit=1)
        if tabs is not None:
            # A digit stored after the tab opened: the Draw tab's last stroke, its reconstruction still running when
            # the visitor switched (within about a second, on two cores). The map would show the one before.
            drawing.change(partial(star_if_on_show, store), [*redraw_inputs, on_show_state(tabs, tab)],
                           [scatter, status], queue=False, show_progress="hidden", api_visibility="private",
                           preprocess=False)
    # .input, not .change: a click on the map moves the sliders itself, and must not decode a second time; and not
    # .release, which a value typed in a slider's box and Enter does not fire
    gr.on([c1.input, c2.input, c3.input, digit.input], endpoint(decode_point, store), decode_inputs,
          [decoded, status], api_name="latent", trigger_mode="always_last", preprocess=False)
    # moved by hand, a test digit clicked before goes, as a click on empty 2-D space takes it away: it stood beside a
    # Decoded picture of another place (a click moves the sliders itself, which is no .input)
    gr.on([c1.input, c2.input, c3.input], lambda: None, None, original, queue=False, show_progress="hidden",
          api_visibility="private")
    # moved at all (by hand, or by Enter on the map, which opens the nearest test digit), the ring goes there: in the
    # page only
    gr.on([c1.change, c2.change, c3.change], None, [c1, c2, c3], None, js=PLACE_JS, queue=False,
          show_progress="hidden", api_visibility="private")
    if demo is not None and first is not None:
        demo.load(partial(latent_map, store), map_inputs, map_outputs, api_visibility="private",
                  preprocess=False).then(
            partial(decode_after_map, store), after_map_inputs, [decoded, original, status],
            api_visibility="private", preprocess=False)
    def on_pick(model_name: str | None, digit: Any, models: dict | None, view_shown: Any, shown: Any, x1: Any,
                x2: Any, x3: Any, evt: gr.EventData) -> tuple:  # a plain function: Gradio finds `evt` by its hint
        return pick(store, model_name, digit, models, evt, view_shown, shown, (x1, x2, x3))

    scatter.pick(on_pick, [model, digit, session_models, view, n_points, c1, c2, c3],
                 [c1, c2, c3, decoded, original, status],
                 api_visibility="private", trigger_mode="always_last")
    # the picture itself for an API caller; shown (or kept hidden, after a refusal) by the step after
    grid_button.click(endpoint(decode_grid, store), [model, digit, session_models], [grid, status],
                      api_name="latent_grid", preprocess=False).then(
        lambda picture: gr.Image(visible=picture is not None), grid, grid, queue=False, show_progress="hidden",
        api_visibility="private")
    model.change(partial(class_picker, store), [model, session_models], digit, queue=False, show_progress="hidden",
                 api_visibility="private")
    # another model: the grid shown is no longer one the controls describe; another class: the grid follows it
    model.change(lambda: gr.Image(value=None, visible=False), None, grid, queue=False, show_progress="hidden",
                 api_visibility="private")

    def regrid(model_name: str | None, digit: Any, models: dict | None, shown: Any) -> tuple:
        return decode_grid(store, model_name, digit, models) if shown is not None else (gr.skip(), gr.skip())

    digit.input(regrid, [model, digit, session_models, grid], [grid, status], preprocess=False,
                show_progress="hidden", api_visibility="private", trigger_mode="always_last")
    follow_session(session_models, [(model, lambda s: store.choices(s))])
