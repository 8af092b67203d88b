"""A ReLU MLP's forward and backward pass with the gradients written out, for training steps that skip autograd.

Autograd records each operation of a step and replays it backwards, node by node; with autocast it also inserts a
cast for every weight, activation and gradient. For a model as small as pytorch/examples' 784-400-20 VAE on a
2-core CPU that bookkeeping is a fixed cost per operation of the order of the arithmetic itself: the VAE's step with
its gradients written out (aedemo.models.vae.VAE.loss_and_gradients) took 0.91-0.93 of autograd's time
(docs/performance.md). The products are the ones autograd runs, in the same precision; tests check the gradients
against autograd's (tests/test_mlp_gradients.py).
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
    """`seq`'s layers as (linear, followed by a ReLU) when it is nothing but nn.Linear layers, each followed by at
    most one nn.ReLU (as aedemo.models.base.mlp builds them); None for anything else, which this module cannot
    differentiate."""
    if not isinstance(seq, nn.Sequential):
        return None
    layers: list[tuple[nn.Linear, bool]] = []
    for module in seq:
        if isinstance(module, nn.Linear):
            layers.append((module, False))
        elif type(module) is nn.ReLU and layers and not layers[-1][1]:
            layers[-1] = (layers[-1][0], True)
        else:
            return None
    return layers or None


def products_dtype(x: torch.Tensor, weights_dtype: torch.dtype) -> torch.dtype:
    """The dtype the products of a step on `x` run in: autocast's where it is on for x's device, as autograd's
    would under it, else the weights' own."""
    device = x.device.type
    return torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else weights_dtype


@torch.no_grad()
def forward(layers: list[tuple[nn.Linear, bool]], x: torch.Tensor, dtype: torch.dtype) -> list[Layer]:
    """Run the MLP on `x` [B, in] with its products in `dtype` (bf16 under CPU autocast, else float32); the last
    layer's output is the result, `[-1].output`."""
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
