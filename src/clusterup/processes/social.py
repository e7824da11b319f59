"""Social ties (kinship and place): slow decay, proximity, rare triadic closure, associations.

Trade crowds social ties out: a social tie decays faster by ``crowding`` x the mean economic strength of
its two ends, unless the pair also trades (the trade is embedded in the tie and keeps it up). As the
division of labour deepens, relations move from kinship and place to the market (Ji & Hu 2011, B-C).

Spin-off ties to the parent and its friends are made by the demography process.
"""

from __future__ import annotations

import numpy as np

from ..compiled import one_call as _one_call
from ..compiled import slots_where, social_decay, social_new_ties, social_step, sorted_member
from ..params.base import Section, number, switch
from ..state import ORG_KINDS, State, StepContext
from ..state.multiplex import KEY_BITS
from .base import Process

_NONE = np.empty(0)
_NO_TIES = np.empty(0, bool)


class SocialParams(Section):
    enabled: bool = switch()
    decay: float = number(0.004, 0.0, 1.0, "Decay of social tie strength per step.")
    crowding: float = number(1.0, 0.0, 1000.0, "Extra decay of a social tie per unit of trade at its ends, unless they trade.")
    floor: float = number(0.05, 0.0, 1.0, "Ties weaker than this are dropped.")
    proximity: float = number(0.01, 0.0, 1.0, "Chance per step a firm forms a tie with a nearby firm.")
    radius: float = number(0.1, 0.001, 2.0, "Distance within which firms count as nearby.")
    triadic: float = number(0.002, 0.0, 1.0, "Chance per step a firm closes a triad.")
    association: float = number(0.02, 0.0, 1.0, "Chance per step an association links a pair of its members.")


class SocialTies(Process):
    name = "social"
    section = "social"
    Params = SocialParams
    candidates = 5

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        # each pass is one compiled kernel computing what NumPy computed, in the same order, from the same
        # draws (tests/test_process_kernels.py keeps the NumPy form as the oracle)
        p = self.p
        pop = state.pop
        layer = state.net["social"]
        if _one_call(state.n):  # the passes below and their draws in one compiled call (compiled.social_step)
            economic = state.net["economic"]
            new = social_step(layer.keys, layer.w, economic.keys, economic.w, pop.view("kind"), ORG_KINDS["association"],
                              pop.is_org, pop.firms(), rng, pop.x, pop.y, pop.capacity, crowding=p.crowding,
                              decay=p.decay, floor=p.floor, proximity=p.proximity, candidates=self.candidates,
                              radius=p.radius, triadic=p.triadic, association=p.association, n=state.n,
                              bits=KEY_BITS)  # fmt: skip
            if new is not None:
                layer.set_ties(*new)
            return
        assoc = slots_where(pop.view("kind"), ORG_KINDS["association"], pop.is_org)  # the active associations
        if len(layer):
            trade, along = _NONE, _NO_TIES
            if p.crowding > 0:  # trade crowds out the ties it does not run along
                economic = state.net["economic"]
                trade = economic.strength(state.n)
                along = sorted_member(layer.keys, economic.keys)  # ties that trade runs along (both key arrays sorted)
            member = _NO_TIES
            if assoc.size:  # membership is kept up while the association exists
                member = np.zeros(state.n, bool)
                member[assoc] = True
            layer.set_weights(social_decay(layer.i, layer.j, layer.w, trade, along, p.crowding, p.decay, member))
        layer.drop_below(p.floor)
        firms = pop.firms()
        if firms.size < 2:
            return
        # the new ties of proximity and of triadic closure, with their draws, in one compiled call
        # (compiled.social_new_ties; tests/test_process_kernels.py's social_numpy makes them in NumPy)
        new = social_new_ties(layer.keys, layer.w, firms, rng, p.proximity, self.candidates, pop.x, pop.y, p.radius,
                              p.triadic, pop.kind, state.n, KEY_BITS)  # fmt: skip
        if new is not None:
            layer.set_ties(*new)
        self._associations(state, assoc, rng)

    def _associations(self, state: State, assoc: np.ndarray, rng: np.random.Generator) -> None:
        pop = state.pop
        layer = state.net["social"]
        firms = pop.firms()
        for org in assoc:
            members = layer.neighbours(org)
            spare = int(pop.capacity[org]) - members.size
            if spare > 0:
                recruits = firms[rng.integers(0, firms.size, min(spare, 1 + rng.poisson(1.0)))]
                layer.add(np.full(recruits.size, org), recruits, 1.0)
            pairs = rng.poisson(self.p.association * members.size)
            if pairs and members.size > 1:
                a = members[rng.integers(0, members.size, pairs)]
                b = members[rng.integers(0, members.size, pairs)]
                layer.add(a, b, 0.5)
