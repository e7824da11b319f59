"""The outside world: the technology frontier A* (what the cluster sells against) grows at a set
rate, and the world's knowledge moves on. The world's profile is pulled toward a *hot* field that
changes at random (``frontier.field_change`` per step), so that it stays concentrated on fields the
cluster has yet to learn; organisations follow the world's profile (``frontier.organisation_renewal``).
Pipelines and organisations are how that moving knowledge reaches firms.
"""

from __future__ import annotations

import numpy as np

from ..compiled import pull_toward
from ..state import State, StepContext
from .base import Process


class Frontier(Process):
    name = "frontier"
    section = "frontier"  # a core section: the outside world is state the builder starts too

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        p = self.p
        state.frontier *= 1.0 + p.growth
        world = state.external_knowledge
        if world.size == 0:
            return
        if rng.random() < p.field_change:
            state.hot_field = int(rng.integers(0, world.size))
        world *= 1.0 - p.knowledge_drift
        world[state.hot_field] += p.knowledge_drift
        orgs = state.pop.orgs()
        if p.organisation_renewal > 0 and orgs.size:
            pull_toward(state.pop.knowledge, orgs, world, p.organisation_renewal)  # q[orgs] += r * (world - q[orgs])
