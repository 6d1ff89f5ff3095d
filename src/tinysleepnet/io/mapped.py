"""Memory-mapped signals: giving their pages back once they have been read."""

from __future__ import annotations

import mmap

import numpy as np


def release_pages(signal: np.ndarray) -> None:
    """Drop the pages of a read-only memory-mapped signal from this process's resident memory.

    The pages stay in the operating system's file cache, so reading them again costs a page
    fault, not a disk read. Without this, every page a pass touched would count in the
    process's resident memory (and in a batch system's accounting of it) until the end.
    Arrays in memory, and writable maps (whose pages may hold changes), are left alone.
    """
    base: object = signal
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    if base is not None and not signal.flags.writeable and hasattr(mmap, "MADV_DONTNEED"):
        base.madvise(mmap.MADV_DONTNEED)
