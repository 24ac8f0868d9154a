"""Named random streams derived from one root seed (common random numbers).

Every random draw in a run comes from `Streams.generator(process, month,
purpose)`: a fresh `numpy.random.Generator` whose seed is the run's
`SeedSequence` extended by a stable key of the process name, the purpose and
the month.  Consequences:

* the same seed gives the same numbers in any process, on any executor;
* a process's draws in month t do not depend on how many draws it or any other
  process made before, so switching a lever in one process does not reshuffle
  another process's draws;
* `uniform_per_row` returns one number per table row, indexed by the row's
  stable id: person i gets the same draw for (process, purpose, month) however
  many other people exist, since the streams are prefix-stable.

The bit generator is SFC64: a full-province month draws hundreds of millions
of uniforms, and SFC64 makes float32 uniforms about five times faster than
PCG64 on this hardware (0.14 s against 0.78 s for 74 million).
"""

import zlib

import numpy as np


def stable_key(name: str) -> int:
    """A 32-bit key for a name that does not change between Python sessions."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    def __init__(self, seed: np.random.SeedSequence | int):
        self.root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)

    def generator(self, process: str, month: int, purpose: str = "") -> np.random.Generator:
        key = (stable_key(process), stable_key(purpose), int(month))
        child = np.random.SeedSequence(self.root.entropy, spawn_key=tuple(self.root.spawn_key) + key)
        return np.random.Generator(np.random.SFC64(child))

    def uniform_per_row(self, process: str, month: int, purpose: str, rows: int) -> np.ndarray:
        """float32 uniforms in [0, 1), one per row id 0..rows-1."""
        return self.generator(process, month, purpose).random(rows, dtype=np.float32)


def replicate_seeds(root_seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """Child seed of each replicate; replicate r gets the same child in every scenario."""
    return np.random.SeedSequence(root_seed).spawn(replicates)
