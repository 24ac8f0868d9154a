"""Freed memory is kept in the process during a run and given back once after the build (sim.memory)."""

import subprocess
import sys

import pytest

CODE = """
import numpy as np
from sim.memory import keep_freed_memory, return_freed_memory

def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096

assert keep_freed_memory()
block = np.ones(25_000_000)  # 200 MB
before_free = resident()
del block
kept = resident()
assert return_freed_memory()
print(before_free - kept, kept - resident())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc options")
def test_freed_memory_is_kept_until_given_back():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    released_on_free, released_on_return = (int(x) for x in done.stdout.split())
    assert released_on_free < 50e6  # the 200 MB stay in the process when freed
    assert released_on_return > 150e6  # and go back to the system when asked
