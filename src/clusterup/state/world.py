"""The whole state of a run: population, network, the outside world and this step's flows."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..params import Params
from .firms import Population
from .multiplex import Multiplex


@dataclass
class Flows:
    """What happened during the current step (reset at its start); the recorder reads it."""

    attempts: np.ndarray = field(default_factory=lambda: np.zeros(4, dtype=np.int64))
    successes: np.ndarray = field(default_factory=lambda: np.zeros(4, dtype=np.int64))
    entries: int = 0
    exits: int = 0
    spillover_volume: float = 0.0
    succeeded: dict[int, np.ndarray] = field(default_factory=dict)  # mode code -> slots that succeeded

    def reset(self) -> None:
        self.attempts[:] = 0
        self.successes[:] = 0
        self.entries = self.exits = 0
        self.spillover_volume = 0.0
        self.succeeded = {}


@dataclass
class State:
    params: Params
    pop: Population
    net: Multiplex
    frontier: float
    initial_firms: int
    step: int = 0
    external_knowledge: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hot_field: int = 0  # the domain the outside world's knowledge is moving toward
    flows: Flows = field(default_factory=Flows)
    scratch: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.pop.n

    def ceiling(self, generation: np.ndarray) -> np.ndarray:
        t = self.params.technology
        return t.ceiling_base * t.ceiling_growth ** np.asarray(generation, dtype=np.float64)

    def mastery(self) -> np.ndarray:
        """Capability over the ceiling of the firm's generation, per slot (0 for organisations)."""
        pop = self.pop
        m = pop.view("capability") / self.ceiling(pop.view("generation"))
        m[~pop.is_firm] = 0.0
        return m

    def apply_compaction(self, mapping: np.ndarray | None) -> None:
        if mapping is None:
            return
        self.net.remap(mapping)
        self.scratch.clear()
