"""The small base class every process of the model derives from.

A process declares in one place the parameters it reads (a section of
`calibration/params.toml`), the person and firm state columns it owns, and the
indicator flows it feeds; its `step(month)` works on whole arrays.  Its random
draws come from streams named after it, so a change in one process leaves the
draws of the others untouched.
"""

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..table import Column

if TYPE_CHECKING:
    from ..model import LabourModel


class Process:
    name: ClassVar[str]
    person_columns: ClassVar[dict[str, Column]] = {}
    firm_columns: ClassVar[dict[str, Column]] = {}
    flows: ClassVar[dict[str, str]] = {}  # flow counter -> meaning, recorded each month

    def __init__(self, model: "LabourModel"):
        self.model = model

    def param(self, key: str):
        return self.model.calibration.params(f"{self.name}.{key}")

    def rng(self, month: int, purpose: str = "") -> np.random.Generator:
        return self.model.streams.generator(self.name, month, purpose)

    def uniform(self, month: int, purpose: str) -> np.ndarray:
        """One uniform per person row (stable per-person common random numbers)."""
        return self.model.streams.uniform_per_row(self.name, month, purpose, self.model.people.n)

    def step(self, month: int) -> None:  # pragma: no cover - interface
        raise NotImplementedError
