"""The Denoise tab's averages at the chosen noise (denoise_tab.denoise_averages, API /denoise_averages): the figures
are the library's own PSNR of its own corruption on every 10th test digit, bad settings are refused as /denoise
refuses them, a seed gives the same figures every time."""

from __future__ import annotations

import pytest
import torch

from aedemo.evaluate import psnr
from aedemo.noise import corrupt
from aedemo.space import denoise_tab
from aedemo.space.store import short_name

SKIP = {"__type__": "update"}  # gr.skip(): an output left as it is


def _compared(store, extra=None):
    names = [n for n in denoise_tab.COMPARED if n in store.models]
    if not names:
        pytest.skip("none of the compared models could be loaded")
    return names + ([extra] if extra and extra in store.models else [])


def _direct(store, kind, strength, seed, names):
    """The same figures, computed here from the library: every 10th test digit, corrupted in one batch by one
    generator seeded with `seed`, each model restoring all of them at once."""
    _, x, y = store.test_set
    x, y = x[::10], y[::10]
    noisy = corrupt(x, kind, strength, torch.Generator().manual_seed(seed))
    noisy_db = psnr(noisy, x)
    changed = ~torch.isclose(noisy_db, torch.tensor(100.0))  # psnr() gives identical images 100 dB
    counted = changed if changed.any() else torch.ones_like(changed)
    restored = {}
    with torch.no_grad():
        for name in names:
            model = store.models[name]
            out = model.reconstruct(noisy, y if model.conditional else None)
            restored[name] = psnr(out, x)[counted].mean().item()
    return int(changed.sum()), (noisy_db[changed].mean().item() if changed.any() else None), restored


def _rows(table: str) -> dict[str, tuple[str, str, str]]:
    """The table's rows: model name -> (noisy, restored, gain) as shown, bold marks dropped."""
    rows = {}
    for line in table.splitlines():
        cells = [c.strip().replace("**", "") for c in line.strip("|").split("|")]
        if len(cells) == 3 and "→" in cells[1] and cells[0] != "Model":
            before, after = (part.strip() for part in cells[1].split("→"))
            rows[cells[0]] = (before, after, cells[2])
    return rows


@pytest.mark.parametrize("kind, strength, seed, extra", [
    ("salt_pepper", 0.3, 5, None),
    ("gaussian", 0.7, 1, "cvae"),  # a conditional model as the extra: given each digit's class
    ("masking", 0.15, 2, "vae"),  # a small square: many digits come through unchanged
])
def test_the_figures_are_the_librarys_on_every_10th_test_digit(store, kind, strength, seed, extra):
    names = _compared(store, extra)
    figures = denoise_tab.sample_averages(store, kind, strength, seed, names)
    changed, noisy, restored = _direct(store, kind, strength, seed, names)
    assert figures["digits"] == 1000 and figures["changed"] == changed
    assert figures["noisy"] == pytest.approx(noisy, abs=1e-4)
    assert list(figures["restored"]) == names
    for name in names:  # the handler restores 250 digits at a time: float rounding apart, the same
        assert figures["restored"][name] == pytest.approx(restored[name], abs=1e-3), name
    if kind == "masking":
        assert 0 < changed < 1000  # the means leave out the digits the square missed
    table, status = denoise_tab.denoise_averages(store, kind, strength, seed, extra)
    assert status == ""
    rows = _rows(table)
    # the CVAE's row says it was told each digit's class, which the others restore without
    shown = {n: short_name(n) + (" (told each digit's class)" if store.models[n].conditional else "") for n in names}
    assert list(rows) == list(shown.values())
    for name in names:
        db = figures["restored"][name]
        assert rows[shown[name]] == (f"{figures['noisy']:.1f}", f"{db:.1f}",
                                     f"{round(db, 1) - round(figures['noisy'], 1) + 0.0:+.1f}")
    best = max(names, key=figures["restored"].get)
    assert f"| **{shown[best]}** |" in table  # the best restoration in bold
    heading = table.splitlines()[0]
    assert heading.startswith(f"{denoise_tab.KIND_LABELS[kind]} {strength:g}, seed {seed}: mean PSNR in dB over "
                              "1,000 test digits")
    assert (f"left {1000 - changed:,} of them unchanged" in heading) == (changed < 1000)


def test_noise_that_changes_nothing_is_called_identical_not_a_gain(store):
    names = _compared(store)
    table, _ = denoise_tab.denoise_averages(store, "gaussian", 0, 0)
    _, _, restored = _direct(store, "gaussian", 0, 0, names)  # over every digit: the models on clean digits
    assert "changed none of them" in table.splitlines()[0]
    for name in names:
        assert _rows(table)[short_name(name)] == ("∞ (identical)", f"{restored[name]:.1f}", "–")


def test_a_seed_gives_the_same_figures_every_time(store):
    names = _compared(store)
    for kind in ("gaussian", "masking"):
        first = denoise_tab.sample_averages(store, kind, 0.4, 7, names)
        assert denoise_tab.sample_averages(store, kind, 0.4, 7, names) == first
        assert denoise_tab.sample_averages(store, kind, 0.4, 8, names)["noisy"] != first["noisy"]
    table = denoise_tab.denoise_averages(store, "salt_pepper", 0.25, 3)
    assert denoise_tab.denoise_averages(store, "salt_pepper", 0.25, "3") == table  # as the API may send it


def test_on_average_the_dae_gains_far_more_than_the_plain_ae_at_gaussian_half(store):
    if not {"dae", "ae"} <= set(store.models):
        pytest.skip("needs the DAE and the AE")
    # shipped checkpoints, over 1,000 digits: +10.0 dB against +1.3 dB, at every seed tried
    for seed in (0, 1):
        f = denoise_tab.sample_averages(store, "gaussian", 0.5, seed, ["dae", "ae"])
        assert f["restored"]["dae"] - f["noisy"] > f["restored"]["ae"] - f["noisy"] + 5, f


def test_at_the_evaluated_settings_the_sample_agrees_with_metrics_json(store):
    # 1,000 digits stand for the 10,000: at the settings the evaluation scores, within 0.08 dB for every model
    names = [n for n in _compared(store) if "gaussian_denoised_psnr" in store.test_figures(n)]
    if not names:
        pytest.skip("no metrics.json figures")
    for kind, strength in denoise_tab.DENOISE_SETTINGS.items():
        f = denoise_tab.sample_averages(store, kind, strength, 0, names)
        for name in names:
            figures = store.test_figures(name)
            assert f["noisy"] == pytest.approx(figures[f"{kind}_noisy_psnr"], abs=0.2)
            assert f["restored"][name] == pytest.approx(figures[f"{kind}_denoised_psnr"], abs=0.2), (kind, name)


INF, NAN, HUGE = float("inf"), float("nan"), 10**400
BAD = {  # (kind, strength, seed) -> words the message holds
    ("blur", 0.5, 0): "noise kind",
    (None, 0.5, 0): "noise kind",
    ("gaussian", 2, 0): "Strength",
    ("gaussian", -0.1, 0): "Strength",
    ("gaussian", NAN, 0): "Strength",
    ("gaussian", INF, 0): "Strength",
    ("gaussian", HUGE, 0): "Strength",
    ("gaussian", "lots", 0): "Strength",
    ("gaussian", 0.5, -1): "seed",
    ("gaussian", 0.5, 1.5): "seed",
    ("gaussian", 0.5, 2**64): "seed",
    ("gaussian", 0.5, None): "seed",
}


@pytest.mark.parametrize("settings", BAD, ids=[repr(s) for s in BAD])
def test_bad_settings_get_denoises_message_and_change_nothing(store, settings):
    with pytest.warns(UserWarning):  # the visitor's toast, outside a request
        table, status = denoise_tab.denoise_averages(store, *settings)
        *_, scored = denoise_tab.score_settings(store, *settings, None)
        *_, denoised = denoise_tab.denoise(store, "Test digit", 3, None, None, *settings)
    assert table == SKIP and scored == SKIP  # the table, and the settings it is for, stay as they were
    assert status.startswith("⚠️ ") and BAD[settings] in status and "Traceback" not in status
    assert status == denoised  # the same checks, the same words


def test_an_extra_model_is_scored_and_an_unknown_one_is_named(store):
    names = _compared(store)
    shipped = denoise_tab.sample_averages(store, "gaussian", 0.3, 0, names)
    mine = {"my AE": store.models[names[0]]}  # a model trained in this session, under its own name
    table, status = denoise_tab.denoise_averages(store, "gaussian", 0.3, 0, "my AE", mine)
    assert status == "" and _rows(table)["my AE"][1] == f"{shipped['restored'][names[0]]:.1f}"
    for extra, words in (("nope", "Unknown model"), (["ae"], "string")):
        table, status = denoise_tab.denoise_averages(store, "gaussian", 0.3, 0, extra)
        assert words in status and list(_rows(table)) == [short_name(n) for n in names]


def test_the_note_says_when_the_averages_are_for_other_settings():
    scored = ("gaussian", 0.5, 0, "")
    note = denoise_tab.averages_note
    assert note(None, "masking", 0.3, 1, "") == ""  # nothing scored yet
    assert note(scored, "gaussian", 0.5, 0, None) == note(list(scored), "gaussian", 0.5, 0.0, "") == ""
    for changed in (("masking", 0.5, 0, ""), ("gaussian", 0.55, 0, ""), ("gaussian", 0.5, 1, ""),
                    ("gaussian", 0.5, 0, "vae"), ("gaussian", 7, 0, "")):
        assert "other settings" in note(scored, *changed), changed


def test_the_button_records_the_settings_it_scored(store):
    _compared(store)
    table, status, scored = denoise_tab.score_settings(store, "masking", "0.4", 2.0, "", None)
    assert scored == ("masking", 0.4, 2, "") and denoise_tab.averages_note(scored, "masking", 0.4, 2, "") == ""
    assert table == denoise_tab.denoise_averages(store, "masking", 0.4, 2)[0]
    assert status == SKIP  # nothing to say: the status line keeps what it says of the digit denoised above


def test_the_api_endpoint(client, store):
    names = _compared(store)
    table, status = client.predict(kind="salt_pepper", strength=0.2, seed=4, extra="", api_name="/denoise_averages")
    assert table == denoise_tab.denoise_averages(store, "salt_pepper", 0.2, 4)[0] and status == SKIP
    assert list(_rows(table)) == [short_name(n) for n in names]
    table, status = client.predict(kind="gaussian", strength=1.5, seed=4, api_name="/denoise_averages")
    assert status.startswith("⚠️ Strength must be between 0 and 1") and table == SKIP  # left as it was


@pytest.mark.parametrize("kind, strength", [("gaussian", 0.5), ("salt_pepper", 0.7), ("masking", 0.5)])
def test_each_gain_is_the_difference_of_the_figures_it_sits_beside(store, kind, strength):
    # rounded apart, "9.4 -> 9.3" sat beside a gain of +0.0
    _compared(store)
    for name, (before, after, gain) in _rows(denoise_tab.denoise_averages(store, kind, strength, 0)[0]).items():
        assert f"{float(after) - float(before) + 0.0:+.1f}" == gain, name


def test_a_screen_reader_hears_the_best_average_in_a_sentence(store):
    # the table is no live region and a scoring that goes well leaves the status line empty: it was silent
    table, _ = denoise_tab.denoise_averages(store, "gaussian", 0.5, 0, None)
    name, restored, gain = _best(table)
    assert denoise_tab.averages_said(table) == (f"Gaussian 0.5, seed 0: {name} restores best on average, {restored} "
                                                f"dB, {gain} dB over the noisy digits.")
    unchanged_digits, _ = denoise_tab.denoise_averages(store, "gaussian", 0.0, 0, None)  # no gain to speak of
    name, restored, _ = _best(unchanged_digits)
    assert denoise_tab.averages_said(unchanged_digits) == (f"Gaussian 0, seed 0: {name} restores best on average, "
                                                           f"{restored} dB.")
    assert denoise_tab.averages_said("") == "" and denoise_tab.averages_said("| **not** | a table |") == ""


def _best(table: str) -> tuple[str, str, str]:
    """The table's best row (the first of the highest restored figure, the one in bold): name, restored, gain."""
    rows = _rows(table)
    name = max(rows, key=lambda n: float(rows[n][1]))
    return name, rows[name][1], rows[name][2]
