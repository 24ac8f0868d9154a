"""Keep freed memory in the process (glibc only).

Each monthly step at full scale allocates temporaries of hundreds of
megabytes.  By default glibc hands every allocation above 32 MB to its own
mmap and returns it to the kernel on free, so the next step's temporaries
page-fault back in: at 65 million people that was about a third of the run
time, spent in the kernel.  Raising the mmap and trim thresholds keeps freed
blocks in the heap for reuse.  Peak memory is unchanged; the resident size just
does not shrink between steps.
"""

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
_LARGEST = 2**31 - 1  # mallopt takes an int


def _glibc_function(name: str):
    """The C library's function `name`, or None off Linux or where the C
    library lacks it (musl has no mallopt)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):
        return None


def keep_freed_memory() -> bool:
    """Ask glibc to reuse freed large blocks; True when it agreed."""
    mallopt = _glibc_function("mallopt")
    if mallopt is None:
        return False
    return all(
        mallopt(option, value) == 1
        for option, value in ((M_MMAP_THRESHOLD, _LARGEST), (M_TRIM_THRESHOLD, _LARGEST), (M_TOP_PAD, 256 << 20))
    )


def return_freed_memory() -> bool:
    """Give the heap's free pages back to the kernel (glibc's malloc_trim);
    True when some were.  Called once the population is built: the build's
    temporaries leave holes in the heap that the kept memory would otherwise
    hold for the whole run, while the monthly temporaries that follow are
    smaller and settle in within a month."""
    malloc_trim = _glibc_function("malloc_trim")
    return malloc_trim is not None and bool(malloc_trim(0))
