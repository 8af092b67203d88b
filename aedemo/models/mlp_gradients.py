"""A ReLU MLP's forward and backward pass with the gradients written out, for training steps that skip autograd.

Autograd records each operation of a step and replays it backwards, node by node; with autocast it also inserts a
cast for every weight, activation and gradient. For a model as small as pytorch/examples' 784-400-20 VAE on a
2-core CPU that bookkeeping is a fixed cost per operation of the order of the arithmetic itself: the VAE's step with
its gradients written out (aedemo.models.vae.VAE.loss_and_gradients) took 0.91-0.93 of autograd's time
(docs/performance.md). The products are the ones autograd runs, in the same precision; where a model's step
differs from autograd's under autocast, its loss_and_gradients says so. Tests check the gradients against
autograd's (tests/test_mlp_gradients.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Layer:
    """One nn.Linear of an MLP, as the forward pass ran it: what the backward pass needs of it."""

    linear: nn.Linear
    relu: bool  # followed by a ReLU
    weight: torch.Tensor  # the weight as multiplied (cast to the products' dtype)
    input: torch.Tensor
    output: torch.Tensor  # after the ReLU where there is one


def relu_mlp(seq: nn.Module) -> list[tuple[nn.Linear, bool]] | None:
    """`seq`'s layers as (linear, followed by a ReLU) when it is nothing but plain nn.Linear layers (see
    plain_linear), each followed by at most one nn.ReLU, as aedemo.models.base.mlp builds them; None for anything
    else, which this module cannot differentiate."""
    if type(seq) is not nn.Sequential or _hooked(seq):
        return None
    layers: list[tuple[nn.Linear, bool]] = []
    for module in seq:
        if plain_linear(module):
            layers.append((module, False))
        elif type(module) is nn.ReLU and not _hooked(module) and layers and not layers[-1][1]:
            layers[-1] = (layers[-1][0], True)
        else:
            return None
    return layers or None


def plain_linear(module: nn.Module) -> bool:
    """Whether `module` computes x @ weight.T + bias and nothing more, from its own two parameters: an nn.Linear
    itself (not a subclass: a parametrization such as weight_norm, whose weight is computed from others, makes
    one), with a bias and no hooks, which the written-out passes would skip."""
    return type(module) is nn.Linear and module.bias is not None and not _hooked(module)


def _hooked(module: nn.Module) -> bool:
    """Whether `module` or one of its own parameters has a hook (torch keeps them in private fields, read with a
    default in case a later torch renames one)."""
    fields = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
    if any(getattr(module, name, None) for name in fields):
        return True
    params = module._parameters.values()
    return any(getattr(p, "_backward_hooks", None) or getattr(p, "_post_accumulate_grad_hooks", None) for p in params)


def checked(mlps: tuple[list, list] | None, takes: str) -> tuple[list, list]:
    """A model's (encoder, decoder) layers for its loss_and_gradients, or a ValueError saying what it `takes`."""
    if mlps is None:
        raise ValueError(f"loss_and_gradients takes {takes}; train the others through loss_terms and autograd")
    return mlps


def products_dtype(x: torch.Tensor, weights_dtype: torch.dtype) -> torch.dtype:
    """The dtype the products of a step on `x` run in, as autograd's would: autocast's where it is on for x's device
    and the weights are float32 (autocast leaves float64 alone), else the weights' own."""
    device = x.device.type
    if weights_dtype == torch.float32 and torch.is_autocast_enabled(device):
        return torch.get_autocast_dtype(device)
    return weights_dtype


@torch.no_grad()
def forward(layers: list[tuple[nn.Linear, bool]], x: torch.Tensor, dtype: torch.dtype) -> list[Layer]:
    """Run the MLP on `x` [B, in] with its products in `dtype` (see products_dtype); the last layer's output is the
    result, `[-1].output`."""
    ran = []
    h = x.to(dtype)
    for linear, relu in layers:
        weight = linear.weight.to(dtype)
        out = torch.addmm(linear.bias.to(dtype), h, weight.t())
        if relu:
            out.relu_()
        ran.append(Layer(linear, relu, weight, h, out))
        h = out
    return ran


@torch.no_grad()
def backward(ran: list[Layer], grad: torch.Tensor, input_grad: bool = True) -> torch.Tensor | None:
    """Given the loss's gradient with respect to the MLP's output, add each layer's weight and bias gradients to
    their `.grad` (in the parameters' own dtype, as autograd does) and return the gradient with respect to its
    input (None when `input_grad` is False: the first layer's input product is skipped)."""
    grad = grad.to(ran[-1].output.dtype)
    for i in reversed(range(len(ran))):
        layer = ran[i]
        if layer.relu:  # the ReLU passes the gradient where its output is positive
            grad = torch.ops.aten.threshold_backward(grad, layer.output, 0)
        weight, bias = layer.linear.weight, layer.linear.bias
        accumulate_grad(weight, grad.t() @ layer.input)
        accumulate_grad(bias, grad.sum(0, dtype=bias.dtype))
        if i == 0 and not input_grad:
            return None
        grad = grad @ layer.weight
    return grad


def accumulate_grad(param: nn.Parameter, grad: torch.Tensor) -> None:
    """Add `grad` to `param.grad` as autograd would: in the parameter's dtype, and not at all to a frozen one (whose
    grad stays None, so the optimiser leaves it as it is)."""
    if not param.requires_grad:
        return
    grad = grad.to(param.dtype)
    if param.grad is None:
        param.grad = grad
    else:
        param.grad.add_(grad)
