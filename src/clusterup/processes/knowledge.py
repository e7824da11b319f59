"""Knowledge drift: profiles move toward knowledge-tie partners' (homogenisation in closed groups);
pipelines pull them toward the outside world's profile (novel domains). Organisations keep theirs.
"""

from __future__ import annotations

import numpy as np

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
        adj = state.net["knowledge"].adjacency(n)
        weight = np.asarray(adj.sum(axis=1)).ravel()
        target = adj @ q
        has = weight > 0
        target[has] /= weight[has, None]
        pull = self.p.drift * np.minimum(1.0, weight)
        new = q + pull[:, None] * (target - q) * has[:, None]
        pipe = pop.view("pipeline")
        new += (self.p.pipeline_injection * pipe)[:, None] * (state.external_knowledge[None, :] - new)
        firm = pop.is_firm
        q[firm] = normalise_rows(new[firm])
