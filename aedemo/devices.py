"""Device names: which ones aedemo takes, and the torch.device each stands for on this machine."""

from __future__ import annotations

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")  # the kinds aedemo is tested on; torch knows more (xpu, meta, ...)
DEVICE_NAMES = f"{', '.join(DEVICES)}, or cuda:N for one GPU of several"


class DeviceError(ValueError):
    """A device this machine does not have, or a name that is no device; the message says which and why."""


def is_device_name(name: object) -> bool:
    """Whether `name` is written as DEVICE_NAMES says: one of DEVICES, or cuda:N."""
    kind, colon, index = name.partition(":") if isinstance(name, str) else ("", "", "")
    return kind in DEVICES and (not colon or (kind == "cuda" and index.isdigit()))


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """The torch.device `name` stands for ("auto": a CUDA GPU, else an Apple GPU, else the CPU).

    Raises DeviceError, before any model is built or moved, for a name torch does not know and for a GPU this
    machine lacks: torch's own errors for those come late and read as driver trouble ("Found no NVIDIA driver")."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise DeviceError(f"unknown device {name!r}; known: {DEVICE_NAMES}") from None
    if device.type not in DEVICES:
        raise DeviceError(f"unknown device {name!r}; known: {DEVICE_NAMES}")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeviceError(f"device {str(device)!r} asked for, but torch sees no CUDA device (auto picks what "
                              "there is)")
        if device.index is not None and device.index >= count:
            raise DeviceError(f"device {str(device)!r} asked for, but torch numbers its CUDA devices from 0 to "
                              f"{count - 1}")
    if device.type == "mps" and not _mps_available():
        raise DeviceError("device 'mps' asked for, but torch sees no Apple GPU (auto picks what there is)")
    return device
