"""The whole state of a run: population, network and the outside world."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..compiled import lookup, over_ceiling
from .firms import Population
from .multiplex import Multiplex

if TYPE_CHECKING:
    from ..params import Params


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
    _ceilings: tuple | None = field(default=None, repr=False, compare=False)  # (base, growth), powers (derived)
    _reach: tuple | None = field(default=None, repr=False, compare=False)  # processes.reach's last pool (derived)

    @property
    def n(self) -> int:
        return self.pop.n

    def ceiling(self, generation: np.ndarray) -> np.ndarray:
        """``ceiling_base * ceiling_growth ** g`` per entry. For integer generations, a lookup in a table of the
        powers (one gather instead of one ``pow`` per firm: a tenth of a step at 10^5 firms); for the default
        growth of 2 every power is exact, so the table gives the very numbers the powers give."""
        t = self.params.technology
        g = np.asarray(generation)
        key = (t.ceiling_base, t.ceiling_growth)
        table = self._ceilings
        if g.dtype.kind in "iu" and table is not None and table[0] == key:
            found = lookup(table[1], g)  # None where a generation is outside the table
            if found is not None:
                return found
        if g.dtype.kind not in "iu" or g.size == 0 or int(g.min()) < 0:
            return t.ceiling_base * t.ceiling_growth ** np.asarray(g, dtype=np.float64)
        top = int(g.max())
        if table is None or table[0] != key or table[1].size <= top:
            powers = t.ceiling_base * t.ceiling_growth ** np.arange(max(64, 2 * (top + 1)), dtype=np.float64)
            table = self._ceilings = (key, powers)
        return table[1][g]

    def mastery(self, clipped: bool = False) -> np.ndarray:
        """Capability over the ceiling of the firm's generation, per slot (0 for organisations); with ``clipped``,
        clipped to [0, 1] (``np.clip``) in the same pass."""
        pop = self.pop
        return over_ceiling(pop.view("capability"), self.ceiling(pop.view("generation")), pop.is_firm, clipped)

    def compact(self) -> bool:
        """Drop the population's inactive slots and let the network follow; True if anything moved."""
        mapping = self.pop.compact()
        if mapping is None:
            return False
        self.net.remap(mapping)
        return True

    # -- save and restore ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The population, the network and the world (the parameters travel separately)."""
        return {
            "pop": self.pop.state_dict(),
            "net": self.net.state_dict(),
            "world": {"step": self.step, "frontier": self.frontier, "hot_field": self.hot_field,
                      "initial_firms": self.initial_firms, "external_knowledge": self.external_knowledge.copy()},
        }  # fmt: skip

    @classmethod
    def from_state_dict(cls, params: Params, d: dict[str, Any], fields=()) -> State:
        world = d["world"]
        net = Multiplex()
        net.load_state_dict(d["net"])
        return cls(
            params=params,
            pop=Population.from_state_dict(d["pop"], fields),
            net=net,
            frontier=float(world["frontier"]),
            initial_firms=int(world["initial_firms"]),
            step=int(world["step"]),
            external_knowledge=np.asarray(world["external_knowledge"], dtype=np.float64),
            hot_field=int(world["hot_field"]),
        )
