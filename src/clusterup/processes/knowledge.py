"""Knowledge drift: profiles move toward knowledge-tie partners' (homogenisation in closed groups);
pipelines pull them toward the outside world's profile (novel domains). Organisations keep theirs.
"""

from __future__ import annotations

import numpy as np

from ..compiled import csr_dot, drift_rows, row_sums
from ..state import State
from .base import Process
from .kernels import normalise_rows


class KnowledgeDrift(Process):
    name = "knowledge"
    section = "knowledge"

    def step(self, state: State, rng: np.random.Generator) -> None:
        n = state.n
        pop = state.pop
        q = pop.view("knowledge")
        adj = state.net["knowledge"].csr(n)
        weight = row_sums(adj)
        target = csr_dot(adj, q)
        firms = pop.firms()
        pipe = pop.view("pipeline")
        new = drift_rows(firms, q, target, weight, self.p.drift, self.p.pipeline_injection, pipe, state.external_knowledge)
        q[firms] = normalise_rows(new)
