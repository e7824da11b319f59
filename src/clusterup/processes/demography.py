"""Demography: exit after losses or when too far behind; entry driven by the cluster's margin.

Exit: cash below ``exit_wealth`` or capability below ``exit_gap`` of the mean; the firm's ties and
pipeline go with it. Entry: ``Poisson(N * (entry_rate * max(0, margin) + newcomer_rate))`` where the
margin is the cluster's profit over revenue (so it falls as the cluster loses ground to the
frontier). A share of entrants are spin-offs of a profitable incumbent (located beside it, tied to
it and its friends); the rest are newcomers that imitate a random incumbent. Entrants start with
part of their model's capability, its generation, knowledge and R&D propensity.
"""

from __future__ import annotations

import numpy as np

from ..state import FIRM, State
from .base import Process
from .kernels import random_neighbour

COMPACT_WHEN_INACTIVE = 0.2


class Demography(Process):
    name = "demography"
    section = "demography"

    def step(self, state: State, rng: np.random.Generator) -> None:
        self._exits(state)
        self._entries(state, rng)
        pop = state.pop
        if pop.n and (pop.n - pop.active[: pop.n].sum()) > COMPACT_WHEN_INACTIVE * pop.n:
            state.apply_compaction(pop.compact())

    def _exits(self, state: State) -> None:
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        a = pop.capability[firms]
        out = (pop.wealth[firms] < self.p.exit_wealth) | (a < self.p.exit_gap * a.mean())
        gone = firms[out]
        state.flows.exits = int(gone.size)
        if gone.size == 0:
            return
        pop.active[gone] = False
        pop.pipeline[gone] = 0.0
        mask = np.zeros(pop.n, bool)
        mask[gone] = True
        state.net.remove_nodes(mask)

    def _entries(self, state: State, rng: np.random.Generator) -> None:
        p = self.p
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        revenue = pop.revenue[firms].sum()
        margin = pop.profit[firms].sum() / revenue if revenue > 0 else 0.0
        count = int(rng.poisson(firms.size * (p.entry_rate * max(margin, 0.0) + p.newcomer_rate)))
        state.flows.entries = count
        if count == 0:
            return
        spin = rng.random(count) < p.spinoff_share
        merit = np.maximum(pop.profit_avg[firms], 0.0) + 1e-12
        parent = np.where(
            spin,
            firms[rng.choice(firms.size, count, p=merit / merit.sum())],
            firms[rng.integers(0, firms.size, count)],
        )
        noise = rng.standard_normal((count, 2))
        new = pop.add(count, FIRM)
        init = state.params.init
        pop.capability[new] = p.entrant_capability * pop.capability[parent]
        pop.generation[new] = pop.generation[parent]
        pop.knowledge[new] = pop.knowledge[parent]
        pop.rd[new] = pop.rd[parent]
        pop.wealth[new] = p.entrant_wealth
        pop.parent[new] = np.where(spin, pop.id[parent], -1)
        pop.segment[new] = np.where(spin, pop.segment[parent], rng.integers(0, init.segments, count))
        spread = np.where(spin, init.town_spread, 0.3)
        pop.x[new] = np.clip(pop.x[parent] + spread * noise[:, 0], 0.0, 1.0)
        pop.y[new] = np.clip(pop.y[parent] + spread * noise[:, 1], 0.0, 1.0)
        social = state.net["social"]
        social.add(new, parent, np.where(spin, 1.0, 0.5))
        if p.entrant_ties > 1:
            adj = social.csr(pop.n)
            rows = np.repeat(parent, p.entrant_ties - 1)
            friends = random_neighbour(adj, rows, rng.random(rows.size))
            src = np.repeat(new, p.entrant_ties - 1)
            ok = (friends >= 0) & (friends != src)
            social.add(src[ok], friends[ok], 0.5)
