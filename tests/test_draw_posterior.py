"""The Draw tab's code of a VAE or CVAE: its posterior mean μ with its σ, which dimensions carry the digit and which
sit at the prior, and the line under the plot that counts them (posterior collapse)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gradio_client import handle_file

from aedemo.models import build_model
from aedemo.space import draw_tab
from aedemo.space.draw_tab import CARRIES, SIGMA, posterior_note
from aedemo.space.images import read_tiles
from aedemo.space.store import PERCENTILE_DIGITS, PRIOR_MU, PRIOR_SIGMA, ModelStore, at_prior

N_CODE, N_STATUS = 4, 5  # the code and the status line among the Draw tab's outputs
HEAD = "σ is how unsure the encoder is"


def _posterior(model, digit: np.ndarray, labels=None) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        mu, logvar = model.posterior(torch.from_numpy(digit).view(1, 1, 28, 28), labels)
    return mu[0], logvar[0]


def _needs(store: ModelStore, *names: str) -> None:
    missing = [n for n in names if n not in store.models]
    if missing:
        pytest.skip(f"no checkpoint for {', '.join(missing)}")


@pytest.mark.parametrize("focus", ["vae", "cvae"])
def test_the_code_of_a_model_with_a_posterior_is_its_mean_with_its_sigma(store, mnist_test, focus):
    _needs(store, focus)
    images, _ = mnist_test
    digit = images[0].numpy() / np.float32(255)
    out = draw_tab.reconstruct_digit(store, digit, None, focus)
    code, status = out[N_CODE], draw_tab.code_note(store, out[N_CODE], focus)
    assert HEAD not in out[N_STATUS]  # a line of its own: the status line is read out at every change
    model = store.models[focus]
    labels = None
    if model.conditional:  # the CVAE is given the class the classifier reads
        labels = torch.tensor([int(max(out[1], key=out[1].get))])
    mu, logvar = _posterior(model, digit, labels)
    assert list(code.columns) == ["dim", "value", SIGMA, CARRIES]  # dim and value as the API always gave them
    assert code["dim"].tolist() == [f"z{i + 1:02d}" for i in range(model.latent_dim)]
    assert np.allclose(code["value"].to_numpy(), mu.numpy(), atol=6e-4)  # to 3 decimals
    # as the plot's hover box shows them: it read "-2.2268610001"
    assert all(len(repr(v).partition(".")[2]) <= 3 for v in code["value"].tolist() + code[SIGMA].tolist())
    assert np.allclose(code[SIGMA].to_numpy(), (0.5 * logvar).exp().numpy(), atol=6e-4)  # to 3 decimals
    prior = at_prior(model, mu[None], logvar[None], labels)[0].numpy()
    assert code[CARRIES].dtype == bool and np.array_equal(code[CARRIES].to_numpy(), ~prior)
    # the line under the plot counts what the table shows
    carried, n = int(code[CARRIES].sum()), model.latent_dim
    assert status.startswith(HEAD)
    if prior.any():
        assert f" {carried} of {n} dimensions carr" in status
    else:
        assert "Both dimensions carry this digit." in status or f"All {n} dimensions carry this digit." in status


def test_the_shipped_vae_leaves_dimensions_at_the_prior_and_says_which_collapsed(store, mnist_test):
    _needs(store, "vae")
    images, _ = mnist_test
    digit = images[0].numpy() / np.float32(255)
    code = draw_tab.reconstruct_digit(store, digit, ["ae", "vae"], "vae")[N_CODE]
    status = draw_tab.code_note(store, code, "vae")
    at_the_prior = ~code[CARRIES].to_numpy()
    assert at_the_prior.any() and code[CARRIES].any()
    # there: sigma near 1 and mu near 0, as the line says
    assert (code[SIGMA].to_numpy()[at_the_prior] >= PRIOR_SIGMA).all()
    assert (np.abs(code["value"].to_numpy()[at_the_prior]) < PRIOR_MU).all()
    collapsed = store.collapsed_dims(store.models["vae"]).numpy()
    both = int((collapsed & at_the_prior).sum())
    assert collapsed.any() and both == collapsed.sum()  # a test digit: every collapsed dimension is at the prior
    carrying = code[SIGMA].to_numpy()[~at_the_prior]
    assert status == posterior_note(int((~at_the_prior).sum()), int(at_the_prior.sum()), both, False,
                                    (carrying.min(), carrying.max()))
    low, high = (np.floor(sigma * 100 + 1e-6) / 100 for sigma in (carrying.min(), carrying.max()))
    assert status.startswith(f"{HEAD}: {low:.2f}–{high:.2f} where the code carries the digit "
                             f"(σ under {PRIOR_SIGMA:g}, or μ {PRIOR_MU:g} or more from the prior's).")
    assert "σ≈1 and μ≈0, the prior itself: the decoder hardly reads them." in status
    assert f"for each of {PERCENTILE_DIGITS:,} test digits: posterior collapse." in status


def test_collapsed_dimensions_are_found_in_the_error_ranks_pass_and_the_errors_stay_the_same(store):
    _needs(store, "vae", "ae")
    _, x, y = store.test_set
    x = x[:PERCENTILE_DIGITS]
    model = store.models["vae"]
    with torch.no_grad():
        mu, logvar = model.posterior(x)
        errors = np.sort((model.reconstruct(x) - x).pow(2).flatten(1).mean(1).numpy())
    assert np.array_equal(store.reconstruction_errors(model), errors)  # decoded from mu, as reconstruct() does
    assert torch.equal(store.collapsed_dims(model), at_prior(model, mu, logvar).all(0))
    assert store.collapsed_dims(store.models["ae"]) is None  # no posterior


def test_a_model_without_a_posterior_keeps_its_code_and_gets_no_line(store, mnist_test):
    _needs(store, "ae")
    images, _ = mnist_test
    digit = images[0].numpy() / np.float32(255)
    code = draw_tab.reconstruct_digit(store, digit, None, "ae")[N_CODE]
    assert list(code.columns) == ["dim", "value", CARRIES] and code[CARRIES].all()  # one colour, as before
    with torch.no_grad():
        z = store.models["ae"].encode(torch.from_numpy(digit).view(1, 1, 28, 28))[0]
    assert np.allclose(code["value"].to_numpy(), z.numpy(), atol=6e-4)  # to 3 decimals
    assert draw_tab.code_note(store, code, "ae") == ""


def test_a_focus_model_not_among_the_reconstructions_still_shows_its_sigma(store, mnist_test):
    _needs(store, "ae", "vae")
    images, _ = mnist_test
    digit = images[0].numpy() / np.float32(255)
    code = draw_tab.reconstruct_digit(store, digit, ["ae"], "vae")[N_CODE]
    status = draw_tab.code_note(store, code, "vae")
    mu, logvar = _posterior(store.models["vae"], digit)
    assert np.allclose(code[SIGMA].to_numpy(), (0.5 * logvar).exp().numpy(), atol=6e-4)
    assert status.startswith(HEAD)


def test_a_vae_trained_in_the_session_gets_the_line_too(mnist_test):
    store = ModelStore(root="/nonexistent")  # no shipped models: the session's own, collapse found on first use
    model = build_model("vae", latent_dim=4, hidden=[16], channels=None).eval()
    session = {"my VAE": model}
    images, _ = mnist_test
    digit = images[0].numpy() / np.float32(255)
    out = draw_tab.reconstruct_digit(store, digit, ["my VAE"], "my VAE", session)
    code, status = out[N_CODE], draw_tab.code_note(store, out[N_CODE], "my VAE", session)
    assert len(code) == 4 and SIGMA in code.columns
    assert HEAD in status and store.collapsed_dims(model).shape == (4,)


def test_the_cvae_is_measured_against_its_class_prior():
    model = build_model("cvae", latent_dim=2).eval()
    with torch.no_grad():
        model.prior_mu[3] = torch.tensor([2.0, -1.0])
        model.prior_logvar[3] = torch.tensor([2 * np.log(3.0), 0.0])  # sigma 3 and 1
    labels = torch.tensor([3, 3])
    # digit 1: exactly the class prior; digit 2: N(0, 1), the plain VAE's prior, which is not this class's
    mu = torch.tensor([[2.0, -1.0], [0.0, 0.0]])
    logvar = torch.tensor([[2 * np.log(3.0), 0.0], [0.0, 0.0]])
    assert at_prior(model, mu, logvar, labels).tolist() == [[True, True], [False, False]]
    # within PRIOR_MU and PRIOR_SIGMA of it, in units of the class prior's sigma
    near = torch.tensor([[2.0 + 0.45 * 3, -1.0]]), torch.tensor([[2 * np.log(0.95 * 3), 0.0]])
    assert at_prior(model, *near, labels[:1]).tolist() == [[True, True]]


@pytest.mark.parametrize("args, expected", [
    ((18, 14, 14, False), f"{HEAD}. 18 of 32 dimensions carry this digit; in the other 14 (grey) σ≈1 and μ≈0, the "
                          "prior itself: the decoder hardly reads them. They sit there for each of "
                          f"{PERCENTILE_DIGITS:,} test digits: posterior collapse."),
    ((11, 21, 14, False), f"{HEAD}. 11 of 32 dimensions carry this digit; in the other 21 (grey) σ≈1 and μ≈0, the "
                          f"prior itself: the decoder hardly reads them. 14 of them sit there for each of "
                          f"{PERCENTILE_DIGITS:,} test digits: posterior collapse."),
    ((30, 2, 0, False), f"{HEAD}. 30 of 32 dimensions carry this digit; in the other 2 (grey) σ≈1 and μ≈0, the prior "
                        "itself: the decoder hardly reads them."),
    ((1, 1, 1, True), f"{HEAD}. 1 of 2 dimensions carries this digit; in the other one (grey) μ and σ are those of its "
                      "class's prior: the decoder hardly reads it. It sits there for each of "
                      f"{PERCENTILE_DIGITS:,} test digits: posterior collapse."),
    ((2, 0, 0, True), f"{HEAD}. Both dimensions carry this digit."),
    ((32, 0, 0, False), f"{HEAD}. All 32 dimensions carry this digit."),
    ((0, 32, 1, False), f"{HEAD}. No dimension carries this digit: in all 32 σ≈1 and μ≈0, the prior itself: the "
                        "decoder hardly reads them. 1 of them sits there for each of "
                        f"{PERCENTILE_DIGITS:,} test digits: posterior collapse."),
])
def test_the_line_under_the_code(args, expected):
    assert posterior_note(*args) == expected


def test_sigma_s_range_is_one_figure_when_its_ends_round_alike():
    # the CVAE's two dimensions read "0.08–0.08"
    assert posterior_note(2, 0, 0, True, (0.081, 0.084)).startswith(f"{HEAD}: 0.08 in each where the code carries")
    assert posterior_note(1, 1, 0, True, (0.081, 0.081)).startswith(f"{HEAD}: 0.08 where the code carries")
    assert posterior_note(18, 14, 14, False, (0.05, 0.31)).startswith(f"{HEAD}: 0.05–0.31 where the code carries")
    assert posterior_note(18, 14, 14, False, (0.29, 0.57)).startswith(f"{HEAD}: 0.29–0.57 where the code carries")


def test_sigma_s_range_stays_under_the_rule_it_states():
    # a σ of 0.899, rounded to "0.90", read as breaking "σ under 0.9"
    note = posterior_note(18, 14, 14, False, (0.051, 0.899))
    assert note.startswith(f"{HEAD}: 0.05–0.89 where the code carries the digit (σ under 0.9, or μ 0.5 or more from "
                           "the prior's).")
    # the CVAE's rule is its class prior's, whose σ is not 1
    note = posterior_note(1, 1, 0, True, (0.3, 0.3))
    assert "(σ under 0.9 of its class prior's, or μ 0.5 of that σ or more from its mean)" in note


def test_the_api_gives_the_vaes_sigma_beside_dim_and_value(client, store, mnist_test, canvas, png_file):
    _needs(store, "vae")
    images, _ = mnist_test
    _seen, *_, code, _status = client.predict(handle_file(png_file(canvas(images[0].numpy(), style="white"))), ["vae"],
                                             "vae", api_name="/reconstruct")
    assert code["columns"] == ["dim", "value", SIGMA, CARRIES] and len(code["data"]) == store.models["vae"].latent_dim
    assert all(isinstance(row[2], float) and isinstance(row[3], bool) for row in code["data"])
    # the posterior's sigma, exp(logvar / 2), of the digit the model saw (not its variance, nor another digit's)
    (seen, _, _), = read_tiles(_seen)
    with torch.no_grad():
        mu, logvar = store.models["vae"].posterior(torch.from_numpy(seen / np.float32(255))[None, None])
    # to 0.01: the picture sent back is the model's input rounded to 8 bits (a variance for sigma is 0.25 off)
    assert np.allclose([row[1] for row in code["data"]], mu[0].numpy(), atol=0.01)
    assert np.allclose([row[2] for row in code["data"]], (0.5 * logvar[0]).exp().numpy(), atol=0.01)


def test_the_line_is_made_from_the_plots_value_as_the_browser_sends_it(store, mnist_test):
    _needs(store, "vae", "ae")
    images, _ = mnist_test
    digit = images[0].numpy() / np.float32(255)
    code = draw_tab.reconstruct_digit(store, digit, ["vae"], "vae")[N_CODE]
    sent = {"columns": list(code.columns), "data": code.values.tolist(), "datatypes": {}, "mark": "bar"}
    assert draw_tab.code_note(store, sent, "vae") == draw_tab.code_note(store, code, "vae") != ""
    assert draw_tab.code_note(store, sent, "ae") == ""  # the VAE's code while the focus is already the AE
    assert draw_tab.code_note(store, None, "vae") == draw_tab.code_note(store, {"columns": None}, "vae") == ""
    # a request's own table, its σ not numbers: a traceback in the log, "Error" in the answer
    bad = {**sent, "data": [list(row) for row in sent["data"]]}
    bad["data"][0][sent["columns"].index(draw_tab.SIGMA)] = "x"
    assert draw_tab.code_note(store, bad, "vae") == ""


def test_the_codes_numbers_are_a_table_too_whatever_form_the_plot_sends(store, mnist_test):
    # the plot showed its values only in a hover box: none on a touch screen, "Vega visualization" to a screen reader
    _needs(store, "vae")
    images, _ = mnist_test
    code = draw_tab.reconstruct_digit(store, images[0].numpy() / np.float32(255), None, "vae")[N_CODE]
    table = draw_tab.code_numbers_table(code)
    assert list(table.columns) == ["dim", "value", SIGMA, CARRIES] and len(table) == store.models["vae"].latent_dim
    assert set(table[CARRIES]) <= {"yes", "no"} and (table[CARRIES] == "yes").sum() == code[CARRIES].sum()
    sent = {"columns": list(code.columns), "data": code.to_numpy().tolist()}  # the plot's value from the browser
    assert draw_tab.code_numbers_table(sent).equals(table)
    assert draw_tab.code_numbers_table(None).empty
    import gradio as gr

    with gr.Blocks() as demo:
        draw_tab.build_draw_tab(store, gr.State({}))
    ids = {c["props"].get("elem_id"): c["id"] for c in demo.config["components"]}
    assert any(d["inputs"] == [ids["draw-code"]] and d["outputs"] == [ids["draw-code-numbers"]]
               for d in demo.config["dependencies"])


def test_a_mean_far_off_the_priors_on_either_side_is_not_at_the_prior():
    # μ compared without its sign: a dimension with μ = -3, far below the prior's 0, was greyed as at the prior
    model = build_model("vae", latent_dim=4).eval()
    mu = torch.tensor([[-3.0, 3.0, -PRIOR_MU / 2, PRIOR_MU / 2]])
    logvar = torch.zeros(1, 4)  # σ = 1, the prior's
    assert at_prior(model, mu, logvar).tolist() == [[False, False, True, True]]
