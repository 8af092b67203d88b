"""The one interface every model implements, and the small building blocks they share."""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar, NamedTuple, overload

import torch
import torch.nn.functional as F
from torch import nn

from ..wording import quoted
from . import mlp_gradients
from .pretrained import Pretrained

IMAGE_SHAPE = (1, 28, 28)
N_PIXELS = 28 * 28
N_CLASSES = 10
# a conditional model's classes: an int64 tensor [B], a list of ints, or one int for the whole batch
Labels = torch.Tensor | Sequence[int] | int | None
# Output probabilities are kept within [PROB_EPS, 1 - PROB_EPS] wherever a BCE is taken of them: a pixel predicted
# as exactly 0 or 1 (PCA's linear output, clipped) would otherwise cost infinite nats. One bound, so the BCE of
# evaluation and PCA's own loss are one figure.
PROB_EPS = 1e-6


def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU, last_activation: bool = False) -> nn.Sequential:
    """Linear layers of the given sizes with `activation` between them (and after the last if asked)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or last_activation:
            layers.append(activation())
    return nn.Sequential(*layers)


def one_hot(labels: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return F.one_hot(labels.long(), N_CLASSES).to(dtype)


@overload
def check_sizes(
    name: str, sizes: object, minimum: int = 1, maximum: int | None = None, *,
    min_count: None = None, max_count: int | None = None,
) -> int: ...


@overload
def check_sizes(
    name: str, sizes: object, minimum: int = 1, maximum: int | None = None, *,
    min_count: int, max_count: int | None = None,
) -> list[int]: ...


def check_sizes(
    name: str, sizes: object, minimum: int = 1, maximum: int | None = None, *,
    min_count: int | None = None, max_count: int | None = None,
) -> int | list[int]:
    """A size (of a layer, a code, a batch) is a whole number of at least `minimum` (and at most `maximum`): torch
    builds a layer of 0 units (a model that cannot learn) and fails on "2" only deep inside, in words about strings.

    With `min_count`, `sizes` is a list of that many or more (at most `max_count`), as layer sizes are: a plain 512
    or a missing layer would otherwise fail deep in torch or in an unpacking. Without it, `sizes` is one number.
    Returns them as plain ints (a numpy integer is taken, and config.json could not store it).
    """
    single = min_count is None
    if not single and not (
        isinstance(sizes, list | tuple) and min_count <= len(sizes) and (max_count is None or len(sizes) <= max_count)
    ):
        many = f"{min_count} " if max_count == min_count else f"{min_count} or more " if min_count else ""
        raise ValueError(f"{name} must be a list of {many}whole numbers of at least {minimum}, got {sizes!r}")
    for size in [sizes] if single else sizes:
        whole = isinstance(size, numbers.Integral) and not isinstance(size, bool)
        if not (whole and size >= minimum and (maximum is None or size <= maximum)):
            what = "a whole number" if single else "whole numbers"
            bound = f"of at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            raise ValueError(f"{name} must be {what} {bound}, got {size!r}")
    return int(sizes) if single else [int(size) for size in sizes]


def check_class_ids(labels: torch.Tensor, name: str) -> None:
    """Raise unless `labels` are integer class ids 0-9 (TypeError for floats or bools: 1.7 would be read as class
    1; ValueError naming the ids out of range). `name` says whose they are: "cvae's labels", "the train labels"."""
    # empty, any dtype holds no wrong ids: torch.as_tensor([]) is float32
    if labels.numel() and (labels.dtype == torch.bool or labels.is_floating_point() or labels.is_complex()):
        raise TypeError(f"{name} must be integer class ids 0-9, got {labels.dtype}")
    if labels.dtype in (torch.uint16, torch.uint32, torch.uint64):  # torch compares none of these: read as int64
        labels = labels.to(torch.int64)
    if labels.numel() and (labels.min() < 0 or labels.max() >= N_CLASSES):
        bad = labels[(labels < 0) | (labels >= N_CLASSES)].unique()
        raise ValueError(f"{name} must be class ids 0-9, got {bad[:10].tolist()}")


def as_class_ids(labels: object, name: str, device: str | torch.device | None = None) -> torch.Tensor:
    """`labels` (a tensor, a list of ints, a numpy array, one int) as an int64 tensor of class ids, checked by
    check_class_ids; a TypeError names `name` for anything torch cannot read as numbers."""
    try:
        ids = torch.as_tensor(labels, device=device)
    except (TypeError, ValueError, RuntimeError):  # "3", [1, "2"], None inside: torch's own words are cryptic
        raise TypeError(f"{name} must be integer class ids 0-9 (an int64 tensor, a list of ints or one int), got "
                        f"{quoted(labels, 60)}") from None
    check_class_ids(ids, name)
    return ids.to(torch.int64)


def check_range(name: str, value: object, low: float, high: float | None = None, *, open_low: bool = False) -> float:
    """A weight or a target of a loss (or a sampling temperature) lies in its range, and is finite: out of it the
    loss is NaN from the first step, or rewards the opposite of what the model is for. Returns it as a plain float
    (for config.json)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if open_low else value >= low) and (high is None or value < high)
    if not ok:
        bound = f"above {low:g}" if open_low else f"at least {low:g}"
        bound += f" and below {high:g}" if high is not None else " (finite)"
        raise ValueError(f"{name} must be a number {bound}, got {value!r}")
    return float(value)


@functools.cache
def architecture_arguments(cls: type) -> frozenset[str]:
    """The keyword arguments a model class's constructor takes, its base classes' included."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return frozenset(
        name
        for klass in cls.__mro__
        if "__init__" in vars(klass) and issubclass(klass, Autoencoder)
        for name, param in inspect.signature(klass.__init__).parameters.items()
        if param.kind in kinds and name != "self"
    )


def mean_bce_per_image(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy summed over pixels, averaged over the batch: nats per image, a scalar.

    One reduction over the whole batch: a [B, 784] loss map and a per-image sum would be two more kernels (and
    their backward) in every training step.

    Written out as softplus(l) - x*l = relu(l) - x*l - log(sigmoid(|l|)) rather than with
    F.binary_cross_entropy_with_logits: torch's CPU log1p, which that function and F.softplus use, was ~10x
    slower than log here (AMD EPYC, Zen 5), so theirs took 0.69 ms of forward and backward per batch of 128
    against 0.22 ms for this form. sigmoid(|l|) lies in [1/2, 1), so the log is well conditioned; where it
    rounds to 1 (|l| > 17) the term it drops is under 1e-7 nats per pixel; in bf16 (training under autocast) it
    rounds to 1 from |l| ~ 6, and the training loss then reads ~0.02-0.03 nats per image low (the test figures are
    float32's). Its gradient is the textbook one, (sigmoid(l) - x) / B (see _BCEWithLogits).
    """
    if logits.shape != x.shape:  # broadcasting would silently sum a loss over the wrong pairs of pixels
        raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(x.shape)} must have the same shape")
    return _BCEWithLogits.apply(logits, x)


def bce_sum(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of `logits` against targets `x`, summed over every element (see mean_bce_per_image),
    in float32 at least: a bf16 sum of 100k terms would keep 3 significant digits."""
    terms = F.relu(logits) - logits * x - torch.log(torch.sigmoid(logits.abs()))
    return terms.sum(dtype=torch.promote_types(terms.dtype, torch.float32))


def bce_logits_gradient(logits: torch.Tensor, x: torch.Tensor, scale: float | torch.Tensor) -> torch.Tensor:
    """`scale` times the gradient of bce_sum with respect to the logits, sigmoid(l) - x, in the logits' dtype."""
    if torch.is_grad_enabled():  # differentiated again (double backward): autograd needs the sigmoid kept as it is
        return ((torch.sigmoid(logits) - x) * scale).to(logits.dtype)
    return torch.sigmoid(logits).sub_(x).mul_(scale)  # in place: one allocation where the above makes three


class _BCEWithLogits(torch.autograd.Function):
    """mean_bce_per_image with its gradient written out: d/dl = (sigmoid(l) - x) / B, d/dx = -l / B.

    Autograd's backward through the six operations of the loss ran about ten kernels, this one three: on a Zen 4
    EPYC, training under bf16 autocast, the 784-400-20 VAE's step took 0.96-0.98 of its time with it."""

    generate_vmap_rule = True  # torch.func can transform it: its steps are plain tensor operations

    @staticmethod
    def forward(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return bce_sum(logits, x) / x.shape[0]

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[torch.Tensor, torch.Tensor], output: torch.Tensor) -> None:
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        logits, x = ctx.saved_tensors
        scale = grad / x.shape[0]
        for_logits = bce_logits_gradient(logits, x, scale) if ctx.needs_input_grad[0] else None
        for_x = (-logits * scale).to(x.dtype) if ctx.needs_input_grad[1] else None
        return for_logits, for_x


def adam(params: Iterable[nn.Parameter], lr: float, **kwargs: Any) -> torch.optim.Adam:
    """Adam, with the fused kernel where torch has one: the for-loop version was ~40 % of a small model's step."""
    params = list(params)
    fused = all(p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.Adam(params, lr=lr, fused=fused or None, **kwargs)


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """`model` in eval mode for the block, then back in the mode it was in: the caller may be mid-training."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def first_weight(model: nn.Module) -> torch.Tensor:
    """A tensor of `model`'s, to read its device and dtype from: its buffers count too (PCA has no parameters)."""
    return next(itertools.chain(model.parameters(), model.buffers()))


class OnDevice:
    """`.device` and `.dtype` of a model's weights, for the autoencoders and the classifier alike:
    `x.to(model.device)`."""

    @property
    def device(self) -> torch.device:
        return first_weight(self).device

    @property
    def dtype(self) -> torch.dtype:
        return first_weight(self).dtype


def check_images(x: torch.Tensor, model: nn.Module) -> torch.Tensor:
    """x checked and shaped as every model takes it, the classifier included: float [B,1,28,28] in [0,1], on
    `model`'s device and in its dtype.

    [B,28,28] and [B,784] are taken too, for every variant alike. Out-of-range values are refused rather than
    clipped: 0-255 images would otherwise come back as confident nonsense.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"images must be a torch.Tensor, got {type(x).__name__}")
    if x.is_meta:  # torch's own words came from the range check: "Tensor.item() cannot be called on meta tensors"
        raise ValueError("images must hold data, got a tensor on the meta device")
    if not x.is_floating_point():
        hint = ""
        if x.dtype == torch.uint8:  # to_float takes load_mnist's [N,28,28] only
            hint = (" (for uint8 images: aedemo.data.to_float(x))" if x.dim() == 3 and x.shape[1:] == (28, 28)
                    else " (for uint8 images: x.float() / 255)")
        raise TypeError(f"images must be floats in [0, 1], got {x.dtype}{hint}")
    if (x.dim() == 3 and x.shape[1:] == (28, 28)) or (x.dim() == 2 and x.shape[1] == N_PIXELS):
        x = x.reshape(x.shape[0], *IMAGE_SHAPE)  # not -1: an empty batch could be any shape
    elif x.dim() != 4 or x.shape[1:] != IMAGE_SHAPE:
        hint = ""
        if x.shape in ((28, 28), (N_PIXELS,)):
            hint = " (one image: add the batch dimension, x[None])"
        elif x.dim() == 4 and x.shape[1:] == (28, 28, 1):
            hint = " (channels last: x.permute(0, 3, 1, 2))"
        raise ValueError(f"images must be shaped [B, 1, 28, 28] (or [B, 28, 28], [B, 784]), got {list(x.shape)}{hint}")
    if x.numel():
        lo, hi = torch.aminmax(x)
        if not (lo >= 0 and hi <= 1):  # also catches NaN, which fails every comparison
            raise ValueError(_out_of_range(x, lo.item(), hi.item()))
    weight = first_weight(model)
    return x.to(weight.device, weight.dtype)


# Values at most this far outside [0, 1] are a resize's or a sum's rounding, not pixels of another convention.
OVERSHOOT = 0.01


def _out_of_range(x: torch.Tensor, lo: float, hi: float) -> str:
    """What is wrong with images whose values run from lo to hi, outside [0, 1], and the likely fix."""
    if not torch.isfinite(x).all():  # a min and max of NaN or inf say nothing of the rest
        return f"image values must be finite numbers in [0, 1], got {_non_finite(x)} values"
    if lo >= -OVERSHOOT and hi <= 1 + OVERSHOOT:
        hint = " (an overshoot of resizing or rounding? x.clamp(0, 1))"
    elif lo >= 0 and hi > 1.5:
        hint = " (for 0-255 images: divide by 255)"
    elif lo < 0:  # torchvision's Normalize((0.1307,), (0.3081,)) gives -0.42 to 2.82; tanh-range images -1 to 1
        hint = " (normalised images? undo the normalisation; for [-1, 1] images: (x + 1) / 2)"
    else:  # well over 1 but not 0-255: no guess at the cause
        hint = ""
    return f"image values must lie in [0, 1], got {_pixel_value(lo)} to {_pixel_value(hi)}{hint}"


def _pixel_value(v: float) -> str:
    """v to 4 significant digits, except where they would round a value just over 1 back to 1: "1 + 1.2e-07"."""
    text = f"{v:.4g}"
    return f"1 + {v - 1:.2g}" if v > 1 and float(text) <= 1 else text  # below 0, %g keeps the minus sign


def _non_finite(x: torch.Tensor) -> str:
    """The kinds of non-finite value x holds: "NaN", "infinite" or "NaN and infinite"."""
    return " and ".join(name for name, bad in (("NaN", x.isnan()), ("infinite", x.isinf())) if bad.any())


class Trainable:
    """What the one training loop needs of a model: its loss terms, its optimisers, one step.

    The default step minimises `loss_terms(...)["loss"]` with one Adam; the AAE overrides it (its two phases take
    three optimiser steps). A model that can compute its loss's gradients without autograd (the plain AE and VAE
    with MLPs: aedemo/models/mlp_gradients.py) says so in `gradients_written_out` and does it in
    `loss_and_gradients`.
    """

    trainable: ClassVar[bool] = True  # trained by gradient steps (PCA is fitted in closed form instead)

    def loss_terms(
        self, x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Per-batch mean of each loss term; the key "loss" is the sum that is minimised."""
        raise NotImplementedError

    def configure_optimizers(self, lr: float) -> list[torch.optim.Optimizer]:
        """One Adam over every parameter: for a model trained with its gradients written out, over the one flat
        buffer its parameters become views of (mlp_gradients.FlatAdam), unless some parameter is frozen, which the
        flat step would count as having a zero gradient rather than none."""
        if self.gradients_written_out() and all(p.requires_grad for p in self.parameters()):
            return [mlp_gradients.FlatAdam(self.flat_parameters(), lr=lr)]
        return [adam(self.parameters(), lr=lr)]

    def training_step(
        self,
        x: torch.Tensor,
        labels: torch.Tensor,
        optimizers: list[torch.optim.Optimizer],
        generator: torch.Generator | None = None,
    ) -> dict[str, float]:
        """One optimisation step; returns the loss terms as floats. The AAE overrides this (two phases)."""
        (opt,) = optimizers
        opt.zero_grad(set_to_none=True)
        mlps = self._written_out_mlps()  # checked once a step: a hook added mid-run hands the model to autograd
        if mlps is not None:
            terms = self._loss_and_gradients(mlps, x, labels, generator)
        else:
            terms = self.loss_terms(x, labels, generator)
            terms["loss"].backward()
        opt.step()
        return {k: v.item() for k, v in terms.items()}

    def gradients_written_out(self) -> bool:
        """Whether training_step takes loss_and_gradients' gradients rather than autograd's."""
        return self._written_out_mlps() is not None

    def flat_parameters(self) -> mlp_gradients.FlatParameters:
        """The model's parameters as views of one flat buffer, which loss_and_gradients writes its gradients for
        (mlp_gradients.FlatParameters); only for a model whose gradients_written_out() is True."""
        return self._flat_parameters(*mlp_gradients.checked(self._written_out_mlps(), self._written_out_takes))

    def loss_and_gradients(
        self, x: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """loss_terms(x, labels), with the gradient of its "loss" added to every parameter's `.grad`, computed without
        autograd; only for a model whose gradients_written_out() is True."""
        mlps = mlp_gradients.checked(self._written_out_mlps(), self._written_out_takes)
        return self._loss_and_gradients(mlps, x, labels, generator)

    def release_training_buffers(self) -> None:
        """Free what training with written-out gradients keeps beside the parameters (the products' copies of the
        weights, the gradients, mlp_gradients.FlatParameters): train() calls it when a run ends, so that a trained
        model a Space session keeps holds no more memory than a loaded one. A later step makes them afresh, for an
        optimiser from configure_optimizers called again (one made before refuses to step)."""
        kept = self.__dict__.pop(mlp_gradients.KEPT, None)
        if kept is not None:
            kept.zero_grad()  # the parameters' .grad are views of its gradient buffer

    # What a model with written-out gradients implements (aedemo/models/ae.py and vae.py):
    _written_out_takes: ClassVar[str] = "the plain AE or VAE with MLPs"  # which models loss_and_gradients takes

    def _written_out_mlps(self) -> tuple[list, list] | None:
        """The encoder's and the decoder's layers (mlp_gradients.relu_mlp) when loss_and_gradients can train this
        model, else None: autograd trains it."""
        return None

    def _flat_parameters(self, encoder: list, decoder: list) -> mlp_gradients.FlatParameters:
        raise NotImplementedError

    def _loss_and_gradients(
        self, mlps: tuple[list, list], x: torch.Tensor, labels: torch.Tensor | None,
        generator: torch.Generator | None,
    ) -> dict[str, torch.Tensor]:
        raise NotImplementedError


class Penalty(NamedTuple):
    """A loss term that pulls against the reconstruction (a VAE's KL term), as the Train tab plots it."""

    key: str  # its name in loss_terms
    label: str  # what it measures, in a sentence
    axis: str  # its axis title


class Autoencoder(OnDevice, Trainable, Pretrained, nn.Module):
    """Base class: an encoder to a code of `latent_dim`, a decoder back to [B,1,28,28] in [0,1].

    Subclasses implement `_encode` and `decode_logits` (the public methods check their inputs, then call these), and
    `loss_terms` where training minimises more than the plain reconstruction. The constructor's keyword arguments
    are the whole architecture: they are what config.json stores, so `cls(**config)` rebuilds the module.
    """

    variant: ClassVar[str]
    display_name: ClassVar[str]  # how the app and the model cards name it: "Denoising AE"
    short_name: ClassVar[str | None] = None  # in a tile's caption, where the display name is too long: "DAE"
    description: ClassVar[str] = ""  # what it is, in a phrase that follows the name
    reference: ClassVar[str] = ""  # the paper it comes from, "Kingma & Welling 2014"
    # what training minimises per image, short enough for a phone's axis title; {fields} come from the config
    loss_words: ClassVar[str] = "BCE (nats per image)"
    # the config's loss weights, with the symbol the app shows each under: {"lam": "λ"}
    loss_weights: ClassVar[dict[str, str]] = {}
    conditional: ClassVar[bool] = False  # encode/decode need labels
    generative: ClassVar[bool] = False  # has a prior to `sample` from
    # the term of loss_terms that pulls against the reconstruction, for a plot of its own; None for a model whose
    # loss is the reconstruction alone
    penalty: ClassVar[Penalty | None] = None

    def __init__(self, latent_dim: int, **config: Any) -> None:
        super().__init__()
        # Every subclass passes its own arguments on in **config, so a misspelt one would otherwise be stored in
        # config.json and ignored.
        unknown = sorted(set(config) - architecture_arguments(type(self)))
        if unknown:
            raise TypeError(
                f"{self.variant} has no architecture argument {', '.join(map(repr, unknown))}; its arguments: "
                f"{', '.join(sorted(architecture_arguments(type(self))))}"
            )
        latent_dim = check_sizes("latent_dim", latent_dim)
        for name in ("hidden", "channels", "disc_hidden"):  # the layer sizes every family names alike
            if config.get(name) is not None:
                config[name] = check_sizes(name, config[name], min_count=0)
        self.latent_dim = latent_dim
        self.config = {"variant": self.variant, "latent_dim": latent_dim, **config}

    def loss_in_words(self) -> str:
        """What this model's training minimises per image (its loss_terms' "loss"), e.g. "BCE + KL (nats per
        image)", with its own loss weights."""
        return self.loss_words.format(**self.config)

    def build_notes(self) -> list[str]:
        """What the Draw tab's models table adds to a model's layer sizes about how it is built: ["tied decoder"]."""
        return []

    # --- the public interface: inputs are checked here, once; training calls the hooks below directly --------
    def encode(self, x: torch.Tensor, labels: Labels = None) -> torch.Tensor:
        """The code of each image: float [B,1,28,28] in [0,1] -> [B, latent_dim]."""
        return self._encode(self._images(x), self._labels(labels, x.shape[0]))

    def decode(self, z: torch.Tensor, labels: Labels = None) -> torch.Tensor:
        """Images from codes: [B, latent_dim] -> float [B,1,28,28] in [0,1]."""
        return self._decode(self._codes(z), self._labels(labels, z.shape[0]))

    def reconstruct(self, x: torch.Tensor, labels: Labels = None) -> torch.Tensor:
        x = self._images(x)  # first: x.shape of a list would fail before the message saying what x must be
        labels = self._labels(labels, x.shape[0])
        return self._decode(self._encode(x, labels), labels)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """`model(x)`: reconstruct() without its input checks (x float [B,1,28,28] in [0,1], int64 labels).

        The checks branch in Python on the data's values, which torch.compile, torch.func and export cannot follow.
        """
        if self.conditional and labels is None:  # on no value, so compilers follow it: the CVAE failed deep inside
            raise ValueError(f"{self.variant} needs labels: an int64 tensor of {x.shape[0]} class ids (0-9)")
        if self.conditional and not isinstance(labels, torch.Tensor):  # model(x, 3): an AttributeError deep inside
            raise TypeError(f"{self.variant}(x, labels) takes an int64 tensor of {x.shape[0]} class ids, not "
                            f"{type(labels).__name__}; reconstruct(x, labels=3) also takes one class id for all")
        return self._decode(self._encode(x, labels), labels)

    # --- what each model implements ----------------------------------------------------------------------
    def _encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """encode() without the input checks: x is float [B,1,28,28]."""
        raise NotImplementedError

    def _decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """decode() without the input checks."""
        return torch.sigmoid(self.decode_logits(z, labels))

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def loss_terms(
        self, x: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """The plain autoencoder's loss: the BCE of redrawing x from its own code (the AE's and the conv AE's)."""
        recon = mean_bce_per_image(self.decode_logits(self._encode(x, labels), labels), x)
        return {"loss": recon, "bce": recon}

    @torch.no_grad()
    def sample(
        self, n: int, labels: Labels = None, generator: torch.Generator | None = None,
        temperature: float = 1.0,
    ) -> torch.Tensor:
        """Decode n draws from the prior, its spread scaled by `temperature` (generative variants only).

        Runs without autograd, like any inference: the images carry no graph (to backpropagate through a draw,
        decode codes of your own).
        """
        if not self.generative:
            from . import AUTOENCODERS  # the registry imports this module

            priors = [v for v, cls in AUTOENCODERS.items() if cls.generative]
            raise TypeError(f"{self.variant} has no prior to sample from; use {', '.join(priors)}")
        n = check_sizes("n", n, minimum=0)
        temperature = check_range("temperature", temperature, 0)
        labels = self._labels(labels, n)
        return self._decode(self._codes(self._draw_codes(n, labels, generator, temperature)), labels)

    def _draw_codes(
        self, n: int, labels: torch.Tensor | None, generator: torch.Generator | None, temperature: float
    ) -> torch.Tensor:
        """sample()'s codes, [n, latent_dim]: draws from N(0, temperature^2 I); the CVAE's prior is per class."""
        return temperature * torch.randn(n, self.latent_dim, generator=generator, device="cpu").to(self.device)

    # --- helpers ------------------------------------------------------------------------------------
    def _images(self, x: torch.Tensor) -> torch.Tensor:
        return check_images(x, self)

    def _codes(self, z: torch.Tensor) -> torch.Tensor:
        shaped = isinstance(z, torch.Tensor) and z.dim() == 2 and z.shape[1] == self.latent_dim
        if not shaped or not z.is_floating_point():
            got = f"{z.dtype} {list(z.shape)}" if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"{self.variant}'s codes must be floats shaped [B, {self.latent_dim}], got {got}")
        if not torch.isfinite(z).all():  # they would decode to NaN images, drawn as blank ones without a word
            raise ValueError(f"{self.variant}'s codes must be finite numbers, got {_non_finite(z)} values")
        return z.to(self.device, self.dtype)

    def _labels(self, labels: Labels, n: int) -> torch.Tensor | None:
        if not self.conditional and labels is not None:
            # refused, not ignored: a caller asking a VAE for sample(10, labels=...) expects the classes it named
            raise TypeError(f"{self.variant} is not conditional: labels are for cvae")
        if self.conditional:
            if labels is None:
                raise ValueError(f"{self.variant} needs labels: an int64 tensor of {n} class ids (0-9), or one "
                                 "class id for all")
            labels = as_class_ids(labels, f"{self.variant}'s labels", self.device)
            if labels.dim() == 0:  # one class id for the whole batch: sample(16, labels=3)
                labels = labels.expand(n)
            if labels.shape != (n,):
                raise ValueError(f"{self.variant} needs one label per image: got shape {tuple(labels.shape)} for {n}")
        return labels

    def extra_repr(self) -> str:
        return f"variant={self.variant!r}, latent_dim={self.latent_dim}"
