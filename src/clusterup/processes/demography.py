"""Demography: exit after losses or when too far behind; entry driven by the cluster's margin.

Exit: cash below ``exit_wealth`` or capability below ``exit_gap`` of the mean; the firm's ties and
pipeline go with it. Entry: ``Poisson(N * (entry_rate * max(0, margin) + newcomer_rate))`` where the
margin is the cluster's profit over revenue (so it falls as the cluster loses ground to the
frontier). A share of entrants are spin-offs of a profitable incumbent (located beside it, tied to
it and its friends); the rest are newcomers that imitate a random incumbent. Entrants start with
part of their model's capability, its generation, knowledge and R&D propensity. (Exited firms' slots are
reclaimed by the end-of-step compaction, a phase of the schedule.)
"""

from __future__ import annotations

import numpy as np

from ..compiled import entries, exits, two_sums
from ..kernels import random_neighbour
from ..params.base import Section, integer, number, switch
from ..rng import weighted_draws
from ..state import EXITED, FIRM, LAYERS, ContextField, State, StepContext
from ..state.multiplex import KEY_BITS
from .base import Column, Process


class DemographyParams(Section):
    enabled: bool = switch()
    exit_wealth: float = number(0.0, -1e9, 1e9, "A firm whose cash falls below this exits.")
    exit_gap: float = number(0.2, 0.0, 1.0, "A firm whose capability falls below this share of the mean exits.")
    entry_rate: float = number(0.05, 0.0, 100.0, "Entrants per firm per unit of cluster profit margin.")
    newcomer_rate: float = number(0.001, 0.0, 1.0, "Entrants per firm per step regardless of margins.")
    spinoff_share: float = number(0.6, 0.0, 1.0, "Share of entrants that are spin-offs of an incumbent.")
    entrant_capability: float = number(0.6, 0.001, 1.0, "Entrant's capability as a share of the incumbent it copies.")
    entrant_wealth: float = number(1.0, 0.0, 1e9, "Entrant's initial cash.")
    entrant_ties: int = integer(3, 0, 1000, "Social ties an entrant inherits.")


ENTRIES = ContextField("entries", int, "firms that entered this step", int)
EXITS = ContextField("exits", int, "firms that exited this step", int)


class Demography(Process):
    name = "demography"
    section = "demography"
    Params = DemographyParams
    columns = (Column("n_entries", "int", "firms that entered during the step", "population"),
               Column("n_exits", "int", "firms that exited during the step", "population"))  # fmt: skip
    context = (ENTRIES, EXITS, EXITED)

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        self._exits(state, ctx)
        self._entries(state, ctx, rng)

    def step_numpy(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        """:meth:`step` with the exit test, the ties removed, the entrants' models, fields and inherited ties in
        NumPy, one expression per line: the definition of its compiled calls (``exits``: the exit test, the
        pipelines and the ties; ``entries``: the entrants' models, fields and ties, with ``entrant_models``,
        ``entrants`` and ``entrant_friends``) and their oracle in the tests (the same numbers and draws, bit for
        bit)."""
        self._exits(state, ctx, compiled=False)
        self._entries(state, ctx, rng, compiled=False)

    def record(self, state: State, ctx: StepContext) -> dict[str, float]:
        return {"n_entries": ctx.entries, "n_exits": ctx.exits}

    def _exits(self, state: State, ctx: StepContext, compiled: bool = True) -> None:
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        layers = [state.net[name] for name in LAYERS]
        if compiled:  # who exits (losses, else lagging behind the mean), their pipelines and ties: one compiled call
            gone, ids, cause, ties = exits(firms, pop, layers, self.p.exit_wealth, self.p.exit_gap, KEY_BITS)
        else:  # the NumPy form: the definition of compiled.exits and its oracle (the ties below)
            a = pop.capability[firms]
            losses = pop.wealth[firms] < self.p.exit_wealth
            lagging = a < self.p.exit_gap * a.mean()
            out = losses | lagging
            gone = firms[out]
            ids, cause = pop.id[gone].copy(), np.where(losses[out], 0, 1).astype(np.int8)
        ctx.exits = int(gone.size)
        ctx.exited = (ids, cause)
        if gone.size == 0:
            return
        pop.deactivate(gone)
        if compiled:
            for layer, new in zip(layers, ties, strict=True):
                if new is not None:
                    layer.set_ties(*new)
            return
        pop.pipeline[gone] = 0.0
        mask = np.zeros(pop.n, bool)
        mask[gone] = True
        state.net.remove_nodes(mask)

    def _entries(self, state: State, ctx: StepContext, rng: np.random.Generator, compiled: bool = True) -> None:
        p = self.p
        pop = state.pop
        firms = pop.firms()
        if firms.size == 0:
            return
        if compiled:  # pop.revenue[firms].sum() and pop.profit[firms].sum() in one pass (NumPy's sums)
            revenue, profit = two_sums(firms, pop.revenue, pop.profit)
        else:
            revenue, profit = pop.revenue[firms].sum(), pop.profit[firms].sum()
        margin = profit / revenue if revenue > 0 else 0.0
        count = int(rng.poisson(firms.size * (p.entry_rate * max(margin, 0.0) + p.newcomer_rate)))
        ctx.entries = count
        if count == 0:
            return
        if compiled:  # the entrants' draws, models, fields and inherited ties in one compiled call (compiled.entries)
            new = pop.add(count, FIRM)
            init = state.params.init
            social = state.net["social"]
            ties = entries(rng, pop, firms, new, social.keys, social.w, spinoff_share=p.spinoff_share,
                           segments=init.segments, entrant_capability=p.entrant_capability,
                           entrant_wealth=p.entrant_wealth, town_spread=init.town_spread,
                           entrant_ties=p.entrant_ties, bits=KEY_BITS)  # fmt: skip
            if ties is not None:
                social.set_ties(*ties)
            return
        # the NumPy form, one expression per line: the definition of compiled.entries and its oracle
        spin = rng.random(count) < p.spinoff_share
        merit = np.maximum(pop.profit_avg[firms], 0.0) + 1e-12
        parent = np.where(
            spin,
            firms[weighted_draws(rng, merit, count)],
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
            adj = social.neighbours_csr(pop.n, parent)  # the parents' rows only: the layer changes right after
            per = p.entrant_ties - 1
            rows = np.repeat(parent, per)
            friends = random_neighbour(adj, rows, rng.random(rows.size))
            src = np.repeat(new, per)
            ok = (friends >= 0) & (friends != src)
            social.add(src[ok], friends[ok], 0.5)
