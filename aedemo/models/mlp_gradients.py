"""A ReLU MLP's forward and backward pass with the gradients written out, for training steps that skip autograd.

Autograd records each operation of a step and replays it backwards, node by node; with autocast it also inserts a
cast for every weight, activation and gradient. For a model as small as pytorch/examples' 784-400-20 VAE on a
2-core CPU that bookkeeping is a fixed cost per operation of the order of the arithmetic itself: the VAE's step with
its gradients written out (aedemo.models.vae.VAE._loss_and_gradients) took 0.91-0.93 of autograd's time
(docs/performance.md). The products are the ones autograd runs, in the same precision; where a model's step
differs from autograd's under autocast, its _loss_and_gradients says so. Tests check the gradients against
autograd's (tests/test_mlp_gradients.py).

The same holds for the rest of such a step: casting ten weights and ten gradients one by one, and torch's fused Adam
over ten tensors, cost per tensor. So the parameters train as views of one flat buffer (FlatParameters), loaded for
the products in one cast, their gradients handed back in one, all stepped by one Adam call (FlatAdam).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.optim.adam import adam as functional_adam  # what torch's Adam.step calls, without its wrapper


@dataclass
class Layer:
    """One nn.Linear of an MLP, as the forward pass ran it: what the backward pass needs of it."""

    linear: nn.Linear
    relu: bool  # followed by a ReLU
    input: torch.Tensor
    output: torch.Tensor  # after the ReLU where there is one


class FlatParameters:
    """A model's parameters moved into one flat buffer for training with written-out gradients: each parameter
    becomes a view of `flat`, in the order the model gives (the VAE's two heads adjacent, so that they are one
    product), with one buffer beside it for the weights as the products read them and one for the gradients as the
    products write them.

    One cast loads every weight for a step's products, one cast hands back every gradient, and one Adam step
    (FlatAdam) updates every parameter: on the CPU each cast and torch's fused Adam pay a fixed cost per tensor, and
    with ten of each the 784-400-20 VAE's step under bf16 autocast took 1/0.90 of what it takes flat (with FlatAdam's
    direct call; docs/performance.md).

    Nothing changes for a caller: the parameters are the same nn.Parameter objects with the same values, and the
    state dict saves as before (aedemo.checkpoint copies each tensor out). A model moved to another device or
    dtype gets its parameters back as tensors of their own (see intact)."""

    def __init__(self, params: list[nn.Parameter]) -> None:
        self.params = params
        sizes = [p.numel() for p in params]
        with torch.no_grad():
            self.flat = nn.Parameter(torch.cat([p.detach().flatten() for p in params]))
            for p, view in zip(params, self.flat.data.split(sizes), strict=True):
                p.data = view.view(p.shape)
        self._sizes = sizes
        self._index = {id(p): i for i, p in enumerate(params)}
        self._pointers = [p.data_ptr() for p in params]
        # the gradients in the parameters' dtype, as the optimiser takes them: rewritten by every step
        self._flat_grad = torch.empty_like(self.flat.data)
        self._grads_given = [chunk.view(p.shape) for chunk, p in zip(self._flat_grad.split(sizes), params, strict=True)]
        self.dtype: torch.dtype | None = None  # of the products' buffers, made by load_weights
        self.weights = self.grads = torch.empty(0)  # made by the first load_weights
        self._weights: list[torch.Tensor] = []
        self._grads: list[torch.Tensor] = []
        self._stacked: dict[tuple, torch.Tensor] = {}

    def intact(self, params: list[nn.Parameter] | None = None) -> bool:
        """Whether the parameters (`params`, when given, must be the same ones in the same order) are still views of
        `flat`: not moved to another device or dtype, nor replaced, since it was made."""
        if params is not None and (len(params) != len(self.params) or any(
                p is not q for p, q in zip(params, self.params, strict=True))):
            return False
        return all(p.data_ptr() == ptr for p, ptr in zip(self.params, self._pointers, strict=True))

    @torch.no_grad()
    def load_weights(self, dtype: torch.dtype) -> None:
        """Copy the weights, as they are now, into the buffer the products read, in `dtype` (see products_dtype):
        once a step, before its first product."""
        if dtype != self.dtype:
            self.weights, self.grads = (torch.empty(self.flat.shape, dtype=dtype, device=self.flat.device)
                                        for _ in range(2))
            self._weights, self._grads = ([chunk.view(p.shape) for chunk, p in
                                           zip(flat.split(self._sizes), self.params, strict=True)]
                                          for flat in (self.weights, self.grads))
            self.dtype = dtype
            self._stacked = {}
        self.weights.copy_(self.flat)

    def weight(self, param: nn.Parameter) -> torch.Tensor:
        """`param` as the products multiply it."""
        return self._weights[self._index[id(param)]]

    def grad(self, param: nn.Parameter) -> torch.Tensor:
        """Where the products write `param`'s gradient (see write_gradients)."""
        return self._grads[self._index[id(param)]]

    def stacked(self, first: nn.Parameter, second: nn.Parameter, grad: bool = False) -> torch.Tensor:
        """Two parameters adjacent in the buffer (the VAE's mean and log-variance heads) as one tensor, stacked along
        their first dimension: the weights as multiplied, or (`grad`) where their gradients go."""
        key = (id(first), id(second), grad)
        if key not in self._stacked:  # made once per buffer: a step asks for each four times
            start, next_start = (self._grads_given[self._index[id(p)]].storage_offset() for p in (first, second))
            if next_start != start + first.numel() or first.shape[1:] != second.shape[1:]:
                raise ValueError("stacked() takes two parameters of the same trailing shape, adjacent in the flat "
                                 "buffer")
            flat = self.grads if grad else self.weights
            self._stacked[key] = flat[start:start + first.numel() + second.numel()].view(-1, *first.shape[1:])
        return self._stacked[key]

    @torch.no_grad()
    def write_gradients(self) -> None:
        """Hand the step's gradients to the parameters as autograd would: in the parameters' dtype, added to any
        `.grad` already there, none to a frozen parameter (whose grad stays None, so an optimiser leaves it). As
        every training step has it, after zero_grad: `flat.grad` takes them all in one cast and each parameter's
        `.grad` is its view of that, a buffer the next step writes again (the optimiser has taken it by then; a
        caller keeping a gradient across steps takes a copy)."""
        if all(p.grad is None for p in self.params):  # whoever cleared them: FlatAdam, the model, another optimiser
            self._flat_grad.copy_(self.grads)
            self.flat.grad = self._flat_grad
            for param, grad in zip(self.params, self._grads_given, strict=True):
                if param.requires_grad:
                    param.grad = grad
                else:  # frozen: no gradient for FlatAdam either
                    grad.zero_()
        else:
            for param, grad in zip(self.params, self._grads, strict=True):
                accumulate_grad(param, grad)

    @torch.no_grad()
    def gather_gradients(self) -> None:
        """Make `flat.grad` hold every parameter's `.grad` (zero for one without), where they are not already its
        views: as autograd leaves them, each a tensor of its own."""
        grads = [p.grad for p in self.params]
        if self.flat.grad is not None and all(g is v for g, v in zip(grads, self._grads_given, strict=True)):
            return
        self.flat.grad = torch.cat([(torch.zeros_like(p) if g is None else g).flatten()
                                    for p, g in zip(self.params, grads, strict=True)])

    def zero_grad(self) -> None:
        """Drop every gradient, the flat one and the parameters' own (set to None, as torch's zero_grad does)."""
        self.flat.grad = None
        for p in self.params:
            p.grad = None


KEPT = "_kept_flat_parameters"  # where a model keeps its FlatParameters, outside its state dict


def flat_parameters(model: nn.Module, params: list[nn.Parameter]) -> FlatParameters:
    """`model`'s FlatParameters over `params`: the one its parameters are views of, else new ones (the first step,
    or after the model moved to another device or dtype)."""
    kept = model.__dict__.get(KEPT)
    if kept is not None and kept.intact(params):
        return kept
    model.__dict__[KEPT] = made = FlatParameters(params)
    return made


class FlatAdam(torch.optim.Adam):
    """torch's Adam over a model's FlatParameters: one tensor, so one fused step for every parameter.

    It steps whatever gradients the parameters hold: the written-out ones are already `flat.grad`, autograd's are
    gathered into it (a parameter without one counts as a zero gradient, where torch's Adam would skip it). It
    refuses to step parameters that are no longer its flat buffer, which it would no longer move, and any that was
    frozen since it was made, which its one step would still move."""

    def __init__(self, params: FlatParameters, lr: float, **kwargs: Any) -> None:
        fused = params.flat.device.type in ("cpu", "cuda")  # as aedemo.models.base.adam
        super().__init__([params.flat], lr=lr, fused=fused or None, **kwargs)
        self.flat_parameters = params

    def zero_grad(self, set_to_none: bool = True) -> None:
        if set_to_none:
            self.flat_parameters.zero_grad()
        else:
            super().zero_grad(set_to_none=False)
            for p in self.flat_parameters.params:
                if p.grad is not None:
                    p.grad.zero_()

    def step(self, closure: Any = None) -> Any:
        params = self.flat_parameters
        if not params.intact():
            raise RuntimeError("the model's parameters are no longer views of the flat buffer this optimiser steps "
                               "(the model was moved to another device or dtype, or a parameter given storage of its "
                               "own, after configure_optimizers); call configure_optimizers again")
        if any(not p.requires_grad for p in params.params):
            raise RuntimeError("a parameter was frozen after configure_optimizers: this optimiser's one Adam step "
                               "would still move it; call configure_optimizers again (a model with a frozen parameter "
                               "gets torch's own Adam, which leaves it alone)")
        loss = None
        if closure is not None:  # its gradients first, then the step over them
            with torch.enable_grad():
                loss = closure()
        params.gather_gradients()
        if self._takes_the_short_way():
            try:
                self._adam_step()
                return loss
            except TypeError:  # a torch whose functional adam() takes other arguments: its own step from here on
                self._short_way = False
        super().step()
        return loss

    _short_way = True  # until a call to torch's functional adam() fails

    def _takes_the_short_way(self) -> bool:
        """Whether this step may call torch's functional Adam directly: the plain fused Adam this class makes, its
        state made by a first step through torch's own. torch's Adam.step (grad mode, state checks, grouping by
        device, and a second run of the step hooks, which torch's wrapper of this step runs already) took ~0.1 ms
        of the ~0.27 ms of the 784-400-20 VAE's Adam step; the direct call, 0.95 of the training step
        (docs/performance.md)."""
        group = self.param_groups[0]
        plain = group["fused"] and not any(group.get(k) for k in (
            "amsgrad", "maximize", "capturable", "differentiable", "decoupled_weight_decay"))
        return self._short_way and plain and bool(self.state.get(self.flat_parameters.flat))

    @torch.no_grad()
    def _adam_step(self) -> None:
        group, flat = self.param_groups[0], self.flat_parameters.flat
        if flat.grad is None:  # as torch's step: nothing to do without a gradient
            return
        state = self.state[flat]
        beta1, beta2 = group["betas"]
        functional_adam(
            [flat], [flat.grad], [state["exp_avg"]], [state["exp_avg_sq"]], [], [state["step"]], fused=True,
            amsgrad=False, beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
            eps=group["eps"], maximize=False)


def parameters(layers: list[tuple[nn.Linear, bool]]) -> list[nn.Parameter]:
    """The weights and biases of an MLP's layers (see relu_mlp), in order."""
    return [p for linear, _ in layers for p in (linear.weight, linear.bias)]


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


def forward(layers: list[tuple[nn.Linear, bool]], x: torch.Tensor, params: FlatParameters) -> list[Layer]:
    """Run the MLP on `x` [B, in] with the weights as `params` loaded them for this step (its products in
    `params.dtype`, see products_dtype); the last layer's output is the result, `[-1].output`. Autograd records
    nothing here (those weights are copies), so no torch.no_grad is needed, nor in backward."""
    ran = []
    h = x.to(params.dtype)
    for linear, relu in layers:
        out = torch.addmm(params.weight(linear.bias), h, params.weight(linear.weight).t())
        if relu:
            out.relu_()
        ran.append(Layer(linear, relu, h, out))
        h = out
    return ran


def backward(
    ran: list[Layer], grad: torch.Tensor, params: FlatParameters, input_grad: bool = True
) -> torch.Tensor | None:
    """Given the loss's gradient with respect to the MLP's output, write each layer's weight and bias gradients into
    `params` (its write_gradients hands them to the parameters) and return the gradient with respect to its input
    (None when `input_grad` is False: the first layer's input product is skipped)."""
    grad = grad.to(params.dtype)
    for i in reversed(range(len(ran))):
        layer = ran[i]
        if layer.relu:  # the ReLU passes the gradient where its output is positive
            grad = torch.ops.aten.threshold_backward(grad, layer.output, 0)
        torch.mm(grad.t(), layer.input, out=params.grad(layer.linear.weight))
        torch.sum(grad, 0, out=params.grad(layer.linear.bias))
        if i == 0 and not input_grad:
            return None
        grad = grad @ params.weight(layer.linear.weight)
    return grad


def accumulate_grad(param: nn.Parameter, grad: torch.Tensor) -> None:
    """Add `grad` to `param.grad` as autograd would: in the parameter's dtype, and not at all to a frozen one (whose
    grad stays None, so the optimiser leaves it as it is)."""
    if not param.requires_grad:
        return
    if param.grad is None:  # a copy: `grad` may be a buffer the next step writes again
        param.grad = grad.to(param.dtype, copy=True)
    else:
        param.grad.add_(grad)
