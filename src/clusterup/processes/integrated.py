"""Integrated innovation: combine diverse knowledge into the next technology generation.

Success chance = ``success * R_int(rd) * mastery ** mastery_power * min(1, novelty / novelty_ref)``:
steep in mastery of the current generation (so a generation saturates before the next arrives),
and impossible without knowledge the firm lacks (reached through knowledge ties, organisations and
pipelines). On success the firm moves to generation g+1 (creating it if nobody has it), restarts at
``dip`` of its capability (a learning dip) under a ceiling ``ceiling_growth`` times higher, and its
knowledge moves toward the reachable pool (new domains). Costly and risky.
"""

from __future__ import annotations

import numpy as np

from ..compiled import neighbour_above
from ..state import State
from .base import InnovationMode
from .kernels import rd_effect
from .reach import reachable


class IntegratedInnovation(InnovationMode):
    name = "integrated"
    section = "integrated"
    code = 3

    def success_chance(self, state: State) -> np.ndarray:
        pop = state.pop
        _, novelty = reachable(state)
        mastery = np.clip(state.mastery(), 0.0, 1.0)
        chance = (
            self.p.success
            * rd_effect(pop.view("rd"), self.p.rd_half, self.p.rd_exponent)
            * self._mastery_factor(state, mastery)
            * np.minimum(1.0, novelty / self.p.novelty_ref)
        )
        if self.p.capability_half > 0:
            a = pop.view("capability")
            chance *= a / (a + self.p.capability_half)
        if self.p.network_half > 0:
            k = state.net["knowledge"].strength(state.n)
            chance *= k / (k + self.p.network_half)
        return chance

    def _mastery_factor(self, state: State, mastery: np.ndarray) -> np.ndarray:
        """``mastery ** mastery_power``; ``mastery ** follower_power`` where a knowledge partner already
        holds a higher generation (the firm integrates knowledge that exists next to it)."""
        power = self.p.mastery_power
        follower = self.p.follower_power
        if follower == power:
            return mastery**power
        g = state.pop.view("generation")
        ahead = neighbour_above(state.net["knowledge"].csr(state.n), g)
        return np.where(ahead, mastery**follower, mastery**power)

    def expected(self, state: State) -> tuple[np.ndarray, np.ndarray]:
        growth = state.params.technology.ceiling_growth
        return self.success_chance(state) * (growth - 1.0), np.full(state.n, self.p.cost)

    def step(self, state: State, rng: np.random.Generator) -> None:
        who = self.attempting(state)
        if who.size == 0:
            return
        ok = rng.random(who.size) < self.success_chance(state)[who]
        i = who[ok]
        state.flows.successes[self.code] += i.size
        state.flows.succeeded[self.code] = i
        state.pop.rent[i] += state.params.technology.appropriability
        if i.size == 0:
            return
        pop = state.pop
        pool, _ = reachable(state)
        pop.generation[i] += 1
        pop.capability[i] *= self.p.dip
        nu = self.p.novelty_gain
        pop.knowledge[i] = (1 - nu) * pop.knowledge[i] + nu * pool[i]
