"""Learning of R&D effort: firms copy the R&D propensity of more profitable peers, and experiment.

A reviewing firm looks at ``peers`` random tie partners (random firms where it has no ties) and
takes the most profitable (by average profit per unit of the firm's scale, so that firms of different
size compare what their strategy earns, not their size); if that peer earned more it moves ``imitation``
of the way toward the peer's R&D propensity; then it experiments (Gaussian noise). This is payoff-biased
learning of "what paid": where spillovers and easy copying let free riders earn as much as
innovators without the R&D bill, low R&D spreads (opportunism); where appropriability protects
innovators' rents, R&D holds.
"""

from __future__ import annotations

import numpy as np

from ..compiled import Neighbours, rd_review, where_below
from ..params.base import Section, integer, number, switch
from ..state import FieldSpec, State, StepContext
from .base import Process

_NO_TIES = Neighbours(np.zeros(1, np.int64), np.empty(0, np.int64))
_NO_DRAWS = np.empty(0)
_NO_PICKS = np.empty(0, np.int64)


class RDLearningParams(Section):
    enabled: bool = switch()
    review: float = number(1.0, 0.0, 1.0, "Chance per step that a firm reviews its R&D propensity.")
    peers: int = integer(1, 1, 100, "Tie partners a reviewing firm compares itself with (it copies the most profitable).")
    imitation: float = number(1.0, 0.0, 1.0, "How far a reviewing firm moves toward a more profitable peer's R&D.")
    mutation: float = number(0.01, 0.0, 1.0, "Standard deviation of random experimentation with R&D.")
    minimum: float = number(0.0, 0.0, 1.0, "Lowest R&D propensity.")
    memory: float = number(0.4, 0.001, 1.0, "Weight of the newest profit in the profit average.")


class RDLearning(Process):
    name = "rd_learning"
    section = "rd_learning"
    Params = RDLearningParams
    fields = (FieldSpec("profit_avg", "f8", 0.0, "moving average of profit"),)

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        # the draws in the NumPy form's order and sizes; the passes over firms and peers in one compiled call,
        # with the NumPy form's numbers (tests/test_process_kernels.py keeps it as the oracle)
        who = where_below(firms, rng.random(firms.size), float(self.p.review))  # firms[u < review]
        k = self.p.peers
        if who.size:
            adj = state.net.combined(state.n)
            u = rng.random(who.size * k)
            strangers = rng.integers(0, firms.size, who.size * k)
            z = rng.standard_normal(who.size)
        else:
            adj, u, strangers, z = _NO_TIES, _NO_DRAWS, _NO_PICKS, _NO_DRAWS
        rd_review(firms, who, pop.profit, pop.profit_avg, self.p.memory, adj, u, strangers, pop.kind, pop.scale, pop.rd,
                  z, k, self.p.imitation, self.p.mutation, self.p.minimum)  # fmt: skip
