"""An interactive 2-D / 3-D scatter plot of latent codes, drawn on a canvas by a few lines of plain JavaScript.

gr.ScatterPlot only reports brushed x-ranges and has no 3-D view, and plotly is not a dependency, so this is a
gr.HTML component: drag to rotate the 3-D view, click a point (or, in 2-D, any place) to decode it. A click
triggers the custom event "pick" with {index: test-digit index or null, coords: [x, y, z]}; Enter on the focused
map, with {nearest: true}.
"""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from .ui import SCROLL_BEHAVIOUR

HTML = (
    # the canvas says what it shows, for screen readers (and for tests, which cannot read its pixels)
    # and how to use it: the hint under it was not read out as the map took the keyboard's focus
    '<div class="ls-wrap"><canvas class="ls-canvas" role="img" tabindex="0" aria-describedby="ls-hint ls-drawing"'
    ' aria-label="${value && value.title ? value.title : \'Latent space map\'}"></canvas>'
    '<div class="ls-hint" id="ls-hint">${value && value.hint ? value.hint : ""}</div>'
    '<div class="ls-hint ls-drawing" id="ls-drawing">${value && value.drawing_note ? value.drawing_note : ""}</div>'
    '</div>'
)

CSS = """
.ls-wrap { position: relative; width: 100%; }
.ls-canvas { width: 100%; height: min(520px, 110vw); display: block; cursor: crosshair; border-radius: var(--radius-lg);
             background: var(--background-fill-secondary); touch-action: pan-y; }
.ls-canvas:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 2px; }
.ls-hint { font-size: var(--text-sm); color: var(--body-text-color-subdued); margin-top: 4px; min-height: 1.2em; }
"""

JS = r"""
// one colour per class, each 3:1 or more against the map's background (WCAG's minimum for graphics): matplotlib's
// tab10, its orange 1, pink 6, olive 8 and cyan 9 darkened (1.9-2.6:1 on the light page as they come)
const COLORS = ['#1f77b4', '#db6d0c', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#ca6aad', '#7f7f7f',
                '#8f901a', '#139aa8'];
// on a dark background tab10 mixed a quarter with white: there its brown 5, red 3 and blue 0 read 3.0-3.7:1, these 5:1
// or more
const COLORS_DARK = ['#5799c7', '#ff9f4a', '#61b861', '#e05d5e', '#af8dce', '#a98078', '#ea99d1', '#9f9f9f',
                     '#cdce59', '#51cedb'];
const isDark = colour => {
  const [r, g, b] = (colour.match(/[\d.]+/g) || [255, 255, 255]).map(Number);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
};
let yaw = 0.7, pitch = 0.35, drag = null, marker = null, screen = [];

function geometry(d) {
  // each axis scaled to fill the box: principal axes differ a lot in spread, and the smaller ones matter too
  const c = [0, 0, 0], half = [1, 1, 1];
  for (let a = 0; a < d.dims; a++) {
    let lo = Infinity, hi = -Infinity;
    for (const p of d.points) { lo = Math.min(lo, p[a]); hi = Math.max(hi, p[a]); }
    c[a] = (lo + hi) / 2; half[a] = Math.max(1e-9, (hi - lo) / 2);
  }
  return {c, half};
}

function project(p, d, geo, W, H) {
  const R = Math.min(W, H) * 0.42, cx = W / 2, cy = H / 2 + 10;
  const x = (p[0] - geo.c[0]) / geo.half[0], y = (p[1] - geo.c[1]) / geo.half[1];
  if (d.dims < 3) return [cx + x * R, cy - y * R, 0];
  const z = (p[2] - geo.c[2]) / geo.half[2];
  const cyw = Math.cos(yaw), syw = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  const X = x * cyw - z * syw, Z = x * syw + z * cyw;
  const Y = y * cp - Z * sp, D = y * sp + Z * cp;
  return [cx + X * R, cy - Y * R, D];
}

function draw() {
  const canvas = element.querySelector('canvas');
  if (!canvas) return;
  const d = props.value;
  const W = canvas.clientWidth || 600, H = canvas.clientHeight || 520, dpr = window.devicePixelRatio || 1;
  canvas.width = W * dpr; canvas.height = H * dpr;
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, W, H);
  const ink = getComputedStyle(canvas).color || '#333';
  g.font = '12px sans-serif';
  if (!d || !d.points || !d.points.length) {
    g.fillStyle = ink; g.fillText('Choose a model to map its codes.', 20, 30); screen = []; return;
  }
  const geo = geometry(d);
  // axes through the codes' origin, where the cloud holds it (else along the edge nearest it): drawn through the
  // cloud's centre, their crossing read as 0 (a CVAE's z1 crossed at 1.3), and "decoded at (0, 0)" lay elsewhere
  const origin = [0, 1, 2].map(i => (i < d.dims ? Math.max(-1, Math.min(1, -geo.c[i] / geo.half[i])) : 0));
  const axisEnds = Array.from({length: d.dims}, (_, a) => [-1, 1].map(t => origin.map((o, i) => (i === a ? t : o))));
  g.strokeStyle = 'rgba(128,128,128,0.6)'; g.fillStyle = ink; g.lineWidth = 1;
  // each axis is stretched to the box, so its ends say where the codes stop: a model's scale shows only there
  // to one significant digit below 0.1: a barely trained model's axis read "0.0" at one end and "-0.0" at the other
  const fmt = v => (Math.abs(v) >= 10 ? v.toFixed(0) : Math.abs(v) >= 0.1 || v === 0 ? v.toFixed(1) : v.toPrecision(1));
  const paper = getComputedStyle(canvas).backgroundColor;
  const colors = isDark(paper) ? COLORS_DARK : COLORS;
  const labels = [];  // drawn after the dots, haloed in the canvas's colour, so the dots never hide them
  const label = (text, x, y) => labels.push([text, x, y]);
  axisEnds.forEach((e, a) => {
    const toData = v => v.map((t, i) => geo.c[i] + t * geo.half[i]);
    const p0 = project(toData(e[0]), d, geo, W, H), p1 = project(toData(e[1]), d, geo, W, H);
    g.beginPath(); g.moveTo(p0[0], p0[1]); g.lineTo(p1[0], p1[1]); g.stroke();
    label(d.axes[a] || '', p1[0] + 4, p1[1] - 4);
    label(fmt(toData(e[0])[a]), p0[0] + 4, p0[1] + 13);
    label(fmt(toData(e[1])[a]), p1[0] + 4, p1[1] + 13);
  });
  screen = d.points.map(p => { const s = project(p, d, geo, W, H); return [s[0], s[1], s[2], p]; });
  const order = d.dims < 3 ? screen : screen.slice().sort((u, v) => u[2] - v[2]);
  for (const s of order) {
    const near = d.dims < 3 ? 1 : 0.55 + 0.45 * (s[2] + 1) / 2;
    g.globalAlpha = 0.75 * near;
    g.fillStyle = colors[s[3][3]];
    g.beginPath(); g.arc(s[0], s[1], 2.6 * near + 0.4, 0, 2 * Math.PI); g.fill();
  }
  g.globalAlpha = 1;
  // each class's digit where its dots gather on screen: the colours alone fail colour-blind visitors, and several
  // are faint on the light background
  const sums = Array.from({length: 10}, () => [0, 0, 0]);
  for (const s of screen) { const c = sums[s[3][3]]; c[0] += s[0]; c[1] += s[1]; c[2] += 1; }
  // the text drawn so far, as [left, baseline, width]: a label that would cover some moves down a line (turned in
  // 3-D, the axes' names landed on each other, on the class digits and under the star's caption)
  const placed = [];
  const free = (x, y, w) => !placed.some(([px, py, pw]) => x < px + pw && px < x + w && Math.abs(y - py) < 13);
  // kept inside the canvas (on a phone the axis name ran off its edge), and out of the legend's column beside its
  // ten rows (on a phone the PC2 name ran under it)
  const legendX = W - 30, legendY = i => 16 + i * 18;  // the legend's chips: drawn last, below
  const legendBottom = legendY(9) + 8, legendLeft = legendX - 8;
  const leftFor = (x, w, top) => Math.max(2, Math.min(x, (top - 12 < legendBottom ? legendLeft : W - 2) - w));
  const put = (text, x, y) => {
    const w = g.measureText(text).width;
    let top = y, left = leftFor(x, w, top);
    for (let i = 0; i < 4 && !free(left, top, w); i++) {
      top = Math.min(top + 14, H - 2);
      left = leftFor(x, w, top);
    }
    placed.push([left, top, w]);
    g.strokeText(text, left, top); g.fillText(text, left, top);
  };
  g.font = 'bold 16px sans-serif'; g.lineJoin = 'round';
  // two classes gathering in one place had their digits written over each other ("76" read as neither): the later
  // one moves beside the earlier, to the first free place of a few around its own
  const nudges = [[0, 0], [11, 0], [-11, 0], [0, 14], [0, -14], [11, 14], [-11, -14], [11, -14], [-11, 14]];
  sums.forEach(([x, y, n], digit) => {
    if (!n || d.class_labels === false) return;
    const [dx, dy] = nudges.find(([a, b]) => free(x / n - 5 + a, y / n + 6 + b, 10)) || nudges[0];
    const left = Math.max(2, Math.min(x / n - 5 + dx, W - 12)), top = Math.max(16, Math.min(y / n + 6 + dy, H - 2));
    g.lineWidth = 4; g.strokeStyle = paper; g.strokeText(String(digit), left, top);
    g.fillStyle = colors[digit]; g.fillText(String(digit), left, top);
    g.lineWidth = 0.8; g.strokeStyle = ink; g.strokeText(String(digit), left, top);
    placed.push([left, top, 10]);
  });
  g.font = '12px sans-serif';
  g.fillStyle = ink; g.strokeStyle = paper; g.lineWidth = 3;
  // drawn before the axes' names, which then keep clear of it (PC3's name was written across it)
  if (d.drawing) {  // a star, and what it is, where the Draw tab's digit lands
    // the axes keep to the test digits' codes (their ends say where those stop): a digit beyond them is starred at
    // the canvas's edge, and says so
    const at = project(d.drawing, d, geo, W, H), s = [Math.max(12, Math.min(at[0], W - 12)),
                                                      Math.max(12, Math.min(at[1], H - 12))];
    const path = new Path2D();
    for (let i = 0; i < 10; i++) {
      const r = i % 2 ? 4.5 : 11, t = -Math.PI / 2 + i * Math.PI / 5;
      path.lineTo(s[0] + r * Math.cos(t), s[1] + r * Math.sin(t));
    }
    path.closePath();
    g.lineWidth = 3; g.strokeStyle = '#fff'; g.stroke(path); g.fillStyle = '#111'; g.fill(path);
    const text = s[0] === at[0] && s[1] === at[1] ? 'Draw tab' : 'Draw tab (off the map)';
    g.fillStyle = ink; g.strokeStyle = paper; g.lineWidth = 3;
    put(text, s[0] + 13, s[1] + 4);
    placed.push([s[0] - 11, s[1] + 6, 22]);  // the star itself: the axes' names keep off it too
  }
  for (const [text, x, y] of labels) put(text, x, y);
  const m = marker || d.marker;
  element.dataset.marker = m ? m.slice(0, d.dims).map(v => v.toFixed(2)).join(' ') : '';  // where the ring is, in words
  if (m) {
    const s = project(m, d, geo, W, H);
    g.lineWidth = 3; g.strokeStyle = '#111'; g.beginPath(); g.arc(s[0], s[1], 9, 0, 2 * Math.PI); g.stroke();
    g.lineWidth = 1.5; g.strokeStyle = '#fff'; g.beginPath(); g.arc(s[0], s[1], 9, 0, 2 * Math.PI); g.stroke();
  }
  // legend: one chip per class
  for (let i = 0; i < 10; i++) {
    const x = legendX, y = legendY(i);
    g.fillStyle = colors[i]; g.beginPath(); g.arc(x, y, 5, 0, 2 * Math.PI); g.fill();
    g.fillStyle = ink; g.fillText(String(i), x + 9, y + 4);
  }
  if (d.title) {  // wrapped to stay clear of the legend on a narrow (phone) screen
    g.fillStyle = ink; g.font = 'bold 13px sans-serif';
    let line = '', y = 20;
    for (const word of d.title.split(' ')) {
      if (line && g.measureText(line + ' ' + word).width > W - 60) { g.fillText(line, 12, y); line = word; y += 17; }
      else line = line ? line + ' ' + word : word;
    }
    g.fillText(line, 12, y);
  }
}

function pickAt(x, y) {  // whether something was picked
  const d = props.value;
  if (!d || !screen.length) return false;
  let best = null, bestDist = 100;  // squared px: within 10 px
  for (const s of screen) {
    const dist = (s[0] - x) ** 2 + (s[1] - y) ** 2;
    if (dist < bestDist) { best = s; bestDist = dist; }
  }
  if (best) {
    const p = best[3];
    marker = p.slice(0, 3);
    trigger('pick', {index: p[4], coords: p.slice(0, d.dims)});
  } else if (d.dims < 3) {
    // anywhere on the 2-D map: invert the projection
    const canvas = element.querySelector('canvas');
    const W = canvas.clientWidth, H = canvas.clientHeight, geo = geometry(d);
    const R = Math.min(W, H) * 0.42, cx = W / 2, cy = H / 2 + 10;
    const coords = [geo.c[0] + (x - cx) / R * geo.half[0], geo.c[1] - (y - cy) / R * geo.half[1]];
    marker = [coords[0], coords[1], 0];
    trigger('pick', {index: null, coords: coords});
  }
  draw();
  return Boolean(best) || d.dims < 3;
}

element.addEventListener('pointerdown', e => {
  if (!e.target.matches('canvas')) return;
  drag = {x: e.clientX, y: e.clientY, moved: false};
  e.target.setPointerCapture(e.pointerId);
});
element.addEventListener('pointermove', e => {
  if (!drag) return;
  const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
  if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
  if (drag.moved && props.value && props.value.dims === 3) {
    yaw += dx * 0.01; pitch = Math.max(-1.5, Math.min(1.5, pitch + dy * 0.01));
    drag.x = e.clientX; drag.y = e.clientY; draw();
  }
});
// a finger's up-and-down swipe scrolls the page (touch-action: pan-y; the map is most of a phone's screen, and it
// held the page still), so a touch turns the 3-D view about its upright axis only; the browser then cancels the drag
element.addEventListener('pointercancel', () => { drag = null; });
element.addEventListener('pointerup', e => {
  if (!drag) return;
  const moved = drag.moved; drag = null;
  if (!moved && e.target.matches('canvas')) {
    const r = e.target.getBoundingClientRect();
    const picked = pickAt(e.clientX - r.left, e.clientY - r.top);
    // on a phone the map fills the screen and what a tap opens is laid out below it: bring that into view
    const result = RESULT_ID && document.getElementById(RESULT_ID);
    if (picked && result && e.pointerType === 'touch' && result.getBoundingClientRect().top > r.bottom) {
      result.scrollIntoView({behavior: SCROLL_BEHAVIOUR(), block: 'nearest'});
    }
  }
});
// the keyboard: arrows rotate the 3-D view; Enter asks for the test digit nearest the sliders' place (the server
// knows the sliders; the map does not)
element.addEventListener('keydown', e => {
  const d = props.value;
  if (!d || !e.target.matches('canvas')) return;
  const turn = {ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1]}[e.key];
  if (turn && d.dims === 3) {
    yaw += turn[0]; pitch = Math.max(-1.5, Math.min(1.5, pitch + turn[1])); draw(); e.preventDefault();
  } else if (e.key === 'Enter' || e.key === ' ') {
    marker = null; trigger('pick', {index: null, coords: null, nearest: true}); draw(); e.preventDefault();
  }
});
// a screen reader activates the map with a click that no pointer made (detail 0), not with Enter: the same ask
element.addEventListener('click', e => {
  if (e.detail === 0 && props.value && e.target.matches('canvas')) {
    marker = null; trigger('pick', {index: null, coords: null, nearest: true}); draw();
  }
});
watch('value', () => { marker = null; draw(); });
// the sliders moved (by hand, or by a pick's answer): the ring marks the place they decode (PLACE_JS in latent_tab)
window.addEventListener('aedemo-latent-place', e => {
  if (e.detail.every(Number.isFinite)) { marker = e.detail; draw(); }
});
new ResizeObserver(() => draw()).observe(element);
draw();
"""


def latent_scatter(result_id: str | None = None, **kwargs: Any) -> gr.HTML:
    """The scatter component. Value: {"points": [[x, y, z, label, test index], ...], "dims": 2 or 3,
    "axes": [names], "title": str, "marker": [x, y, z] or None, "hint": str, "drawing": [x, y, z] or None (a
    star), "drawing_note": str, "class_labels": bool (each class's digit where its dots gather)}. `result_id`: the
    element showing what a pick opens, scrolled into view after a tap when the layout put it below the map.

    A factory rather than a gr.HTML subclass: Gradio writes a .pyi stub next to the source of every subclass.
    """
    # the id is written into the script, not passed as a prop: Gradio 6.31 sends gr.skip() to a gr.HTML as
    # props {"__type__": "update"}, which replace its own (the Latent tab skips the map while hidden whenever the
    # Draw tab's digit changes): opened after that, the map had lost result_id, and a tap scrolled to nothing
    js = f"const RESULT_ID = {json.dumps(result_id)};\nconst SCROLL_BEHAVIOUR = () => {SCROLL_BEHAVIOUR};\n{JS}"
    return gr.HTML(value=None, html_template=HTML, css_template=CSS, js_on_load=js, **kwargs)
