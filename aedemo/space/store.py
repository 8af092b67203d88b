"""Every model the Space serves, loaded once at start-up, plus the test-set figures the tabs compare against.

A missing or broken checkpoint never stops the app: it is recorded with its error and the UI says which
variant is unavailable and why. Anything costly (test-set errors, codes, projections) is computed on first use
and cached, so start-up stays within a few seconds.
"""

from __future__ import annotations

import os
import textwrap
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checkpoint import CheckpointError, checkpoints_root, load_checkpoint, read_metrics
from ..data import batches, load_mnist, to_float
from ..evaluate import EVAL_BATCH, mse_per_image
from ..models import AUTOENCODERS, MODEL_CLASSES, Autoencoder, MnistClassifier
from ..models.base import N_CLASSES, N_PIXELS
from .inputs import UserInputError, parse_int, quoted

HUB_ENV = "AEDEMO_HUB_REPO"
PERCENTILE_DIGITS = 2000  # test digits whose reconstruction errors rank a drawing; plenty for a percentile
SAME_CODE = 0.1  # codes of the same pixels, encoded in different batches, lie closer than this (seen: 1e-2)
LATENT_DIGITS = 5000  # test digits the Latent tab can plot
# A code dimension sits at the prior, for one digit, when the encoder's Gaussian there is the prior's (N(0, 1); for the
# CVAE its class's N(mu_y, sigma_y^2)) to within these, in units of the prior's sigma: sigma at least PRIOR_SIGMA of it,
# mu within PRIOR_MU of its mean. Measured on the first 2,000 test digits with checkpoints/vae (latent 32): 14
# dimensions never leave the prior (sigma 0.95-1.01, |mu| at most 0.33; mu's s.d. over the digits 0.015-0.064, the
# other 18's 0.52-1.01), while the other 18 spread over sigma 0.04-1.1 without a gap. Where sigma >= 0.9, 99 % of
# mu lie within 0.31 of 0 (88 of the 64,000 values lie 0.5 or more away: counted as carrying the digit). What sits at
# the prior the decoder hardly reads: redrawing all such dimensions of a digit from N(0, 1) moves its reconstruction by
# 7.6-7.9e-5 MSE per pixel, 1.3-1.4 % of its ~5.8e-3 error (a draw from the whole posterior moves it 3.0e-3). So the
# VAE carries a test digit in 8-18 dimensions (median 18; a 1 in 11); the CVAE carries each in both of its 2 (sigma
# 0.04-0.55).
PRIOR_SIGMA = 0.9
PRIOR_MU = 0.5


def has_posterior(model: Autoencoder) -> bool:
    """Whether the model's encoder gives each digit a Gaussian, `posterior(x, labels)` -> (mu, logvar): VAE, CVAE."""
    return callable(getattr(model, "posterior", None))


def at_prior(model: Autoencoder, mu: torch.Tensor, logvar: torch.Tensor, labels: torch.Tensor | None = None
             ) -> torch.Tensor:
    """Which code dimensions of each digit sit at the prior (bool, like mu [B, latent_dim]): the encoder's Gaussian
    there is the prior's to within PRIOR_SIGMA and PRIOR_MU, so the code says nothing of the digit in them."""
    sigma = (0.5 * logvar).exp()
    if model.conditional and callable(getattr(model, "prior", None)):  # the CVAE: its class's own prior, p(z|y)
        prior_mu, prior_logvar = model.prior(labels)
        prior_sigma = (0.5 * prior_logvar).exp()
        return (sigma >= PRIOR_SIGMA * prior_sigma) & ((mu - prior_mu).abs() < PRIOR_MU * prior_sigma)
    return (sigma >= PRIOR_SIGMA) & (mu.abs() < PRIOR_MU)


class ModelUnavailable(UserInputError):
    """The asked-for model is not loaded; the message says why, for the user (a handler that asked for one model
    reports it as any bad input; one that shows several catches it and shows the rest)."""


@dataclass
class Projection:
    """How the Latent tab maps codes to the plotted axes: coords = (z - mean) @ components.T."""

    mean: torch.Tensor  # [latent_dim]
    components: torch.Tensor  # [k, latent_dim], orthonormal rows
    explained: list[float]  # fraction of the code variance along each axis (1.0 each when not projected)
    direct: bool  # True when the codes are plotted as they are (latent_dim <= 3)

    def to_axes(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.mean) @ self.components.T

    def to_code(self, coords: torch.Tensor) -> torch.Tensor:
        return coords @ self.components + self.mean


# Models trained in the Train tab kept in memory, all sessions together. Each /call/train is a session of its own,
# and a trained model (~8-12 MB) in each of the 1,000 sessions Gradio keeps could fill a Space's memory: past this
# many, the oldest is let go (its weights freed; its name stays in its session's lists, and says so when chosen).
MAX_TRAINED_IN_MEMORY = 100
# A model handed out this recently may still be in a handler's hands: let go of the next oldest instead (one moved
# off its memory mid-call failed that call with "Tensor on device meta is not on the expected device cpu!")
IN_USE_SECONDS = 60.0
_trained: list[weakref.ref] = []
_trained_lock = threading.Lock()


def mark_used(model: torch.nn.Module) -> None:
    """Note that `model` is being handed to a handler now (see IN_USE_SECONDS)."""
    model._aedemo_used_at = time.monotonic()


def keep_trained(model: torch.nn.Module) -> None:
    """Count `model` among the trained models kept in memory, letting go of the oldest past MAX_TRAINED_IN_MEMORY
    that no handler was given in the last IN_USE_SECONDS (while every one was, the count stays over, for a while)."""
    mark_used(model)
    with _trained_lock:
        _trained.append(weakref.ref(model))
        _trained[:] = [ref for ref in _trained if ref() is not None]  # sessions gone took theirs with them
        now = time.monotonic()
        idle = [ref for ref in _trained if now - getattr(ref(), "_aedemo_used_at", 0.0) > IN_USE_SECONDS]
        over = max(len(_trained) - MAX_TRAINED_IN_MEMORY, 0)  # idle[:-k] would let go of all but k under the count
        for ref in idle[:over]:  # the oldest first
            _trained.remove(ref)
            oldest = ref()
            if oldest is not None:
                oldest.to("meta")  # weights without storage: the memory goes, the object its session holds stays


def let_go(model: Autoencoder) -> bool:
    """Whether keep_trained() let go of `model` to free memory (it moved all its tensors: the first one tells)."""
    return model.device.type == "meta"


def display_name(name: str) -> str:
    """A shipped variant's name as the models name themselves ("Denoising AE"); a session model's as it is."""
    return AUTOENCODERS[name].display_name if name in AUTOENCODERS else name


def short_name(name: str) -> str:
    """A model's name in a tile's caption: its class's short_name ("DAE"), else display_name()."""
    return (AUTOENCODERS[name].short_name if name in AUTOENCODERS else None) or display_name(name)


def built_from(model: Autoencoder) -> str:
    """A model's layers and loss weights in a few words, from its config: "MLP 784-512-256-32", "Conv 32-64
    channels, residual blocks". Students otherwise credit the VAE's KL term with what its convolutions do."""
    config = model.config
    if model.variant == "pca":
        return "linear, SVD"
    if config.get("channels"):
        blocks = ", residual blocks" if config.get("blocks") else ""
        words = f"Conv {'-'.join(map(str, config['channels']))} channels{blocks}"
    else:  # a conditional model's encoder takes the one-hot class beside the pixels
        inputs = f"{N_PIXELS}+{N_CLASSES}" if model.conditional and config.get("class_into") == "input" else N_PIXELS
        words = "MLP " + "-".join(map(str, [inputs, *config.get("hidden", []), model.latent_dim]))
    weights = [f"{sign} = {config[k]:g}" for k, sign in type(model).loss_weights.items() if k in config]
    return ", ".join([words, *model.build_notes(), *weights])


class ModelStore:
    """The shipped models (each autoencoder variant and the classifier) and caches derived from them."""

    def __init__(self, root: str | os.PathLike | None = None, hub_repo: str | None = None, device: str = "cpu"):
        self.root = Path(root or checkpoints_root())
        self.hub_repo = hub_repo if hub_repo is not None else (os.environ.get(HUB_ENV) or None)
        self.device = torch.device(device)
        self.models: dict[str, Autoencoder] = {}
        self.errors: dict[str, str] = {}  # name -> why it is unavailable
        self.sources: dict[str, str] = {}  # name -> where it was loaded from
        self.notices: list[str] = []  # things the visitor should know (e.g. the Hub fell back to local files)
        self.classifier: MnistClassifier | None = None
        self._lock = threading.Lock()
        self._cache_lock = threading.Lock()  # one computation per cache entry, however many visitors ask at once
        self._test: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._errors_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._collapsed_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # filled with _errors_cache
        self._codes_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._gaussian_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._hub_fallbacks: list[tuple[str, str]] = []  # (name, why the Hub's copy could not be loaded)
        self._hub_unreachable: str | None = None  # why the Hub did not answer: it is not asked again
        self._load_all()

    # --- loading ------------------------------------------------------------------------------------------
    def _load_one(self, name: str) -> torch.nn.Module:
        hub_error = self._hub_unreachable
        if self.hub_repo and hub_error is None:
            try:
                from .. import load_model
                from ..hub import HubConnectionError

                model = load_model(self.hub_repo, device=str(self.device), subfolder=name)
                self.sources[name] = f"hub:{self.hub_repo}/{name}"
                return model
            except Exception as e:  # any Hub failure (offline, missing file, not implemented): use local files
                hub_error = f"{type(e).__name__}: {e}"
                if isinstance(e, HubConnectionError):  # a Hub that did not answer: not asked again for the rest
                    self._hub_unreachable = hub_error
        model = load_checkpoint(self.root / name, device=self.device)
        self.sources[name] = str(self.root / name)
        if hub_error is not None:
            self._hub_fallbacks.append((name, hub_error))
        return model

    def _load_all(self) -> None:
        for name in MODEL_CLASSES:  # the variants, then the classifier
            try:
                model = self._load_one(name)
            except CheckpointError as e:
                self.errors[name] = str(e)
                continue
            except Exception as e:  # a broken checkpoint must not stop the app: record why, serve the rest
                self.errors[name] = f"{type(e).__name__}: {e}"
                continue
            expected = MnistClassifier if name == "classifier" else Autoencoder
            if not isinstance(model, expected) or getattr(model, "variant", None) != name:
                found = getattr(model, "variant", "classifier" if isinstance(model, MnistClassifier) else "?")
                self.errors[name] = f"{self.sources.get(name)}: holds a model of variant {found!r}, not {name!r}"
                continue
            # Serving is one digit at a time: there the convolutions run ~20 % faster with channels-last
            # weights (measured on the Conv AE, VAE and classifier); outputs agree to float rounding.
            model.to(memory_format=torch.channels_last)
            if name == "classifier":
                self.classifier = model
            else:
                self.models[name] = model
        if self._hub_fallbacks:
            names = ", ".join(n for n, _ in self._hub_fallbacks)
            # one line, cut at a word (it ended mid-word: "a relative path starts f")
            first_error = textwrap.shorten(self._hub_fallbacks[0][1].splitlines()[0], 300, placeholder=" …")
            self.notices.append(
                f"Could not load from the Hub repo `{self.hub_repo}` ({first_error}); "
                f"using the local checkpoints for: {names}."
            )

    # --- looking models up --------------------------------------------------------------------------------
    def get(self, name: str | None, session_models: dict | None = None) -> Autoencoder:
        """The model called `name`: one trained in this browser session first, then a shipped one."""
        if not name:
            raise ModelUnavailable("Choose a model first.")
        if not isinstance(name, str):  # an API call can send anything where a dropdown sends a name
            raise ModelUnavailable(f"A model is named by a string, not {type(name).__name__} {quoted(name)}.")
        if session_models and name in session_models:
            if let_go(session_models[name]):
                raise ModelUnavailable(f"{name} was let go to free memory (the Space keeps the {MAX_TRAINED_IN_MEMORY} "
                                       "models trained last, by all visitors); train it again.")
            mark_used(session_models[name])
            return session_models[name]
        if name in self.models:
            return self.models[name]
        if name in self.errors:
            raise ModelUnavailable(f"{display_name(name)} is unavailable: {self.errors[name]}")
        raise ModelUnavailable(f"Unknown model {quoted(name)}; available: {', '.join(self.models) or 'none'}.")

    def get_for_digit(
        self, name: str | None, session_models: dict | None, label: int | None
    ) -> tuple[Autoencoder, torch.Tensor | None]:
        """The model and the labels it needs for one digit of class `label` (the CVAE draws that class).

        Raises ModelUnavailable, with the reason for the visitor, when the model is missing or needs a class
        that is not known.
        """
        model = self.get(name, session_models)
        if not model.conditional:
            return model, None
        if label is None:
            raise ModelUnavailable(f"{display_name(name)} needs the digit's class, and the classifier is unavailable.")
        return model, torch.tensor([label], device=model.device)

    def choices(self, session_models: dict | None = None, *, generative: bool | None = None,
                conditional: bool | None = None) -> list[tuple[str, str]]:
        """(label, value) pairs for a dropdown: the shipped models, then this session's trained ones."""
        def keep(m: Autoencoder) -> bool:
            return (generative is None or m.generative == generative) and (
                conditional is None or m.conditional == conditional
            )

        out = [(display_name(n), n) for n, m in self.models.items() if keep(m)]
        for name, m in (session_models or {}).items():
            if isinstance(m, Autoencoder) and keep(m):
                out.append((f"{name} (trained in this session)", name))
        return out

    def test_figures(self, name: str) -> dict[str, float]:
        """A shipped model's test-set figures, as its metrics.json records them ({} when it has none, or came
        from the Hub)."""
        source = self.sources.get(name, "")
        if not source or source.startswith("hub:"):
            return {}
        try:
            figures = read_metrics(source).get("test")
        except CheckpointError:
            return {}
        return dict(figures) if isinstance(figures, dict) else {}

    def status_markdown(self) -> str:
        """One short paragraph: what is loaded, what is not and why."""
        lines = []
        if self.models:
            where = f"the Hub repo `{self.hub_repo}`" if self.hub_repo and not self._hub_fallbacks else f"`{self.root}`"
            lines.append(f"Loaded {len(self.models)} models from {where}: "
                         + ", ".join(display_name(n) for n in self.models) + ".")
        for name, error in self.errors.items():
            lines.append(f"**{display_name(name)} unavailable**: {error}")
        lines.extend(self.notices)
        return "\n\n".join(lines)

    def models_markdown(self) -> str:
        """A table of the shipped models for visitors: the size of each one's code, what it is built from, what it
        is, and the paper it comes from."""
        rows = ["| Model | Code size | Built from | What it is |", "|---|---:|---|---|"]
        for name, model in self.models.items():
            what = type(model).description
            paper = type(model).reference
            what = (f"{what[:1].upper()}{what[1:]}" + (f" ({paper})" if paper else "")).replace("|", "\\|")
            full, short = display_name(name), short_name(name)
            named = full if full.startswith(short) else f"{full} ({short})"  # the captions' "DAE", spelled out once
            rows.append(f"| **{named}** | {model.latent_dim} | {built_from(model)} | {what} |")
        return "\n".join(rows)

    def warm_up(self) -> None:
        """Compute the caches the first visitors would otherwise wait for (call it once the server is up).

        The VAE's first: a page's first view ranks its digit by the VAE's errors (the Draw tab's default focus) and
        maps the VAE's codes (the Latent tab's default), and a visitor's event waits for whatever this is computing
        (one lock guards the caches), so the other models' errors, which only a later choice needs, come after."""
        vae = self.models.get("vae")
        if vae is not None:
            self.reconstruction_errors(vae)
            self.test_codes(vae)
        for model in list(self.models.values()):
            self.reconstruction_errors(model)

    # --- the test set and what is derived from it ----------------------------------------------------------
    @property
    def test_set(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The bundled 10k test digits: uint8 [N,28,28], float [N,1,28,28] in [0,1], int64 labels [N]."""
        if self._test is None:
            with self._lock:
                if self._test is None:
                    images, labels = load_mnist("test", download=False)  # never a download at run time
                    self._test = (images, to_float(images), labels)
        return self._test

    def test_digit(self, index: Any) -> tuple[torch.Tensor, int]:
        """Test digit `index` as float [1,1,28,28] and its label; an index that is no whole number from 0 to the last
        is a UserInputError saying so."""
        _, x, y = self.test_set
        index = parse_int(index, "The test digit index", 0, len(y) - 1)
        return x[index : index + 1], int(y[index])

    @torch.no_grad()
    def classify(self, x: torch.Tensor) -> torch.Tensor | None:
        """Class probabilities [B,10] from the shipped classifier, or None without one."""
        if self.classifier is None:
            return None
        return self.classifier.predict_proba(x.to(self.device))

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor | None:
        """Class ids int64 [B] from the shipped classifier, or None without one."""
        if self.classifier is None:
            return None
        return self.classifier.predict(x.to(self.device))

    def predicted_label(self, x: torch.Tensor) -> int | None:
        """The classifier's reading of one digit [1,1,28,28], or None without a classifier."""
        predicted = self.predict(x)
        return None if predicted is None else int(predicted[0])

    def _cached(
        self, cache: weakref.WeakKeyDictionary, model: Autoencoder, compute: Callable[[Autoencoder], Any]
    ) -> Any:
        """cache[model], computed once by compute(model) however many visitors ask for it at the same time."""
        cached = cache.get(model)
        if cached is None:
            with self._cache_lock:
                cached = cache.get(model)
                if cached is None:
                    cached = cache[model] = compute(model)
        return cached

    @torch.no_grad()
    def reconstruction_errors(self, model: Autoencoder) -> np.ndarray:
        """Sorted per-image MSE of `model` on the first PERCENTILE_DIGITS test digits (computed once per model)."""

        def compute(model: Autoencoder) -> np.ndarray:
            _, x, y = self.test_set
            x, y = x[:PERCENTILE_DIGITS].to(model.device), y[:PERCENTILE_DIGITS].to(model.device)
            labels = y if model.conditional else None
            if has_posterior(model):  # its code is the posterior mean; which dimensions sit at the prior comes free
                mu, logvar = model.posterior(x, labels)
                out = model.decode(mu, labels)
                self._collapsed_cache[model] = at_prior(model, mu, logvar, labels).all(0).cpu()
            else:
                out = model.reconstruct(x, labels)
            return np.sort(mse_per_image(out, x).cpu().numpy())

        return self._cached(self._errors_cache, model, compute)

    def collapsed_dims(self, model: Autoencoder) -> torch.Tensor | None:
        """Which code dimensions of a model with a posterior (VAE, CVAE) sit at the prior for each of the first
        PERCENTILE_DIGITS test digits, bool [latent_dim] (posterior collapse); None for a model without one. Found in
        reconstruction_errors' pass over those digits, not in one of its own."""
        if not has_posterior(model):
            return None
        self.reconstruction_errors(model)
        return self._collapsed_cache.get(model)

    def reconstruction_rank(self, model: Autoencoder, error: float) -> float:
        """Percentage of test digits that `model` reconstructs worse than an image with this error."""
        errors = self.reconstruction_errors(model)
        return 100.0 * (1.0 - np.searchsorted(errors, error, side="left") / len(errors))

    @torch.no_grad()
    def test_codes(self, model: Autoencoder) -> tuple[torch.Tensor, Projection]:
        """Codes of the first LATENT_DIGITS test digits [N, latent_dim] and the projection used to plot them."""

        def compute(model: Autoencoder) -> tuple[torch.Tensor, Projection]:
            _, x, y = self.test_set
            x, y = x[:LATENT_DIGITS].to(model.device), y[:LATENT_DIGITS].to(model.device)
            codes = torch.cat([
                model.encode(xb, yb if model.conditional else None)
                for xb, yb in batches(x, y, EVAL_BATCH, shuffle=False)
            ]).float().cpu()
            return codes, _projection(codes)

        return self._cached(self._codes_cache, model, compute)

    @torch.no_grad()
    def nearest_test_digits(self, model: Autoencoder, x: torch.Tensor, z: torch.Tensor, k: int) -> torch.Tensor:
        """Indices [B, k] of the test digits, among test_codes', whose codes lie nearest to `z`, the codes [B,
        latent_dim] `model` gives digits x [B,1,28,28], nearest first. A digit of x that is one of those test digits
        is not its own neighbour (found by its pixels: its code, encoded in another batch, differs from the cached
        one by up to 1e-2)."""
        codes, _ = self.test_codes(model)
        distance = torch.cdist(z.float().cpu(), codes)
        _, pixels, _ = self.test_set
        for i, j in (distance < SAME_CODE).nonzero().tolist():  # the few pairs whose pixels can be the same
            if torch.equal(x[i].cpu(), pixels[j]):
                distance[i, j] = torch.inf
        return distance.topk(min(k, len(codes)), largest=False).indices

    @torch.no_grad()
    def random_codes_decoded(
        self, model: Autoencoder, n: int, generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> torch.Tensor:
        """random_codes(), decoded: a model without a prior at its best random draw short of a fitted mixture. Its
        codes do not fill that Gaussian, so many draws land between the codes of real digits."""
        return model.decode(self.random_codes(model, n, generator, temperature).to(model.device)).cpu()

    def random_codes(
        self, model: Autoencoder, n: int, generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> torch.Tensor:
        """n codes drawn from a Gaussian fitted to the model's test codes: their mean and full covariance, the
        spread scaled by `temperature`. The covariance matters: dimensions drawn independently read as digits less
        often (README, "What a prior buys"), which overstated what a prior buys."""

        codes, _ = self.test_codes(model)  # outside fit: _cached holds its lock while fit runs

        def fit(model: Autoencoder) -> tuple[torch.Tensor, torch.Tensor]:
            # the covariance's square root from the SVD of the centred codes: no Cholesky to fail on the flat
            # directions of a sparse or saturated code
            mean, s, vh = _centred_svd(codes)
            return mean, (s / max(len(codes) - 1, 1) ** 0.5).unsqueeze(1).float() * vh.float()

        mean, root = self._cached(self._gaussian_cache, model, fit)
        return mean + temperature * torch.randn(n, len(root), generator=generator) @ root


def _centred_svd(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The codes' mean, and the singular values and principal axes (rows of vh, float64) of the centred codes."""
    mean = codes.mean(0)
    _, s, vh = torch.linalg.svd((codes - mean).double(), full_matrices=False)
    return mean, s, vh


def _projection(codes: torch.Tensor) -> Projection:
    """The codes as they are when there are at most 3 dimensions, else their top-3 principal axes."""
    d = codes.shape[1]
    if d <= 3:
        return Projection(torch.zeros(d), torch.eye(d), [1.0] * d, direct=True)
    mean, s, vh = _centred_svd(codes)
    var = s.pow(2)
    # codes that all came out the same (a run trained at too high a rate) have no variance to share: 0 %, not 0/0
    explained = (var[:3] / var.sum()).nan_to_num(0.0).tolist()
    return Projection(mean, vh[:3].float(), explained, direct=False)
