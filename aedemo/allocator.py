"""glibc's malloc, where PyTorch's CPU tensors come from: kept from returning memory that a training loop reuses at
once, and asked to return it when a run is over.

By default glibc gives free memory back to the OS as soon as a few MB of it gather at the top of a heap, and it
unmaps a thread's extra heap as soon as that heap is empty. A training step frees its activations and allocates
them again in the next step, so the same pages go back and are faulted in again, zeroed by the kernel, every step.
Measured on the AMD EPYC here (`python benchmarks/train_steps.py`), the conv AE at batch 128 took 7,900 page faults
and 17 ms of system time per 33 ms step; with the settings below, 15 faults and 18 ms per step (docs/performance.md
has more).
"""

from __future__ import annotations

import ctypes
import platform

# mallopt's parameter numbers, from glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
# glibc adjusts its thresholds itself until any of them is set; then all stay where they are set. Blocks up to
# 32 MB (the most mallopt allows, and where glibc's own adjustment tops out) come from the heaps, not from mmap.
MMAP_THRESHOLD = 32 << 20
# Up to 64 MB of free memory stay at the top of each heap. A training thread's arena (the Space trains in a thread)
# is made of 64 MB heaps, and glibc unmaps one that empties unless the top pad covers it: there the pad, not the
# trim threshold, is what stops the faults.
TOP_PAD = 64 << 20
TRIM_THRESHOLD = 64 << 20


def _glibc() -> ctypes.CDLL | None:
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def keep_freed_memory() -> bool:
    """Keep freed memory in the process for reuse (process-wide, for good). False where malloc is not glibc's."""
    libc = _glibc()
    if libc is None:
        return False
    settings = ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_TOP_PAD, TOP_PAD))
    return all([libc.mallopt(param, value) for param, value in settings])  # a list: each is set even if one fails


def return_freed_memory() -> None:
    """Hand freed memory back to the OS now, e.g. after a training run in a long-lived server process."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]


def heap_in_use() -> int | None:
    """Bytes malloc has handed out and not had back, over all its heaps and mmapped blocks (glibc's mallinfo2):
    unlike resident memory, this leaves out the freed memory glibc keeps. None where malloc is not glibc's."""
    libc = _glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):  # glibc < 2.33
        return None
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd
