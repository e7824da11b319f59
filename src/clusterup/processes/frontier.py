"""The outside technology frontier A*: what the cluster sells against. Grows at a set rate."""

from __future__ import annotations

import numpy as np

from ..state import State
from .base import Process


class Frontier(Process):
    name = "frontier"
    section = "frontier"

    def step(self, state: State, rng: np.random.Generator) -> None:
        state.frontier *= 1.0 + self.p.growth
