"""Integrated innovation: combine diverse knowledge into the next technology generation.

Success chance = ``success * R_int(rd) * mastery ** mastery_power * min(1, novelty / novelty_ref)``:
steep in mastery of the current generation (so a generation saturates before the next arrives),
and impossible without knowledge the firm lacks (reached through knowledge ties, organisations and
pipelines). A generation nobody has yet, in the cluster or in the world (its ceiling beyond
``pioneer_lead`` x the frontier A*), is harder still: success x ``(pioneer_lead A* / C(g+1)) ** pioneer_power``,
and one whose ceiling is beyond ``ceiling_growth x pioneer_lead`` x A* cannot be created, so the cluster
cannot run ahead of the world without bound. On success the firm moves to generation g+1
(creating it if nobody has it), restarts at
``dip`` of its capability (a learning dip) under a ceiling ``ceiling_growth`` times higher, and its
knowledge moves toward the reachable pool (new domains). Costly and risky.
"""

from __future__ import annotations

import numpy as np

from ..compiled import integrated_chance, integrated_gains, neighbour_above, successes
from ..kernels import rd_effect
from ..params.base import Section, number, switch
from ..state import Mode, State, StepContext
from .base import InnovationMode
from .market import innovation_rent
from .reach import REACH, reachable


class IntegratedParams(Section):
    enabled: bool = switch(desc="Integrated innovation is an open mode.")
    cost: float = number(0.3, 0.0, 1e9, "Cost of an integrated-innovation attempt.")
    success: float = number(0.3, 0.0, 1.0, "Success probability at full mastery, R&D and novelty.")
    mastery_power: float = number(16.0, 0.0, 100.0, "Steepness of success in mastery (capability over ceiling).")
    follower_power: float = number(
        2.0,
        0.0,
        100.0,
        "Steepness in mastery where a knowledge partner already holds a higher generation (integrating "
        "knowledge that exists next door).",
    )
    rd_half: float = number(0.35, 0.001, 100.0, "R&D propensity at which R&D gives half its effect on integration.")
    rd_exponent: float = number(2.0, 0.001, 10.0, "Steepness of the R&D effect on integration (Hill exponent).")
    novelty_ref: float = number(0.15, 0.001, 2.0, "Reachable novelty at which novelty stops limiting success.")
    network_half: float = number(2.0, 0.0, 1000.0, "Knowledge-tie strength at which the network factor is one half (0: off).")
    capability_half: float = number(2.0, 0.0, 1e6, "Capability at which the absorptive factor is one half (0: off).")
    dip: float = number(0.8, 0.001, 1.0, "Capability kept (share) on moving to the next generation.")
    novelty_gain: float = number(0.3, 0.0, 1.0, "How far a success moves knowledge toward the reachable pool.")
    neighbour_reach: float = number(0.3, 0.0, 10.0, "Weight of social and economic neighbours' knowledge in the pool.")
    pioneer_lead: float = number(
        4.0, 0.001, 1e6, "A generation is new to the world when its ceiling exceeds this multiple of the frontier A*."
    )
    pioneer_power: float = number(
        12.0, 0.0, 100.0, "How much harder creating a generation new to the world is: (lead x A* / ceiling) ** power (0: off)."
    )


class IntegratedInnovation(InnovationMode):
    name = "integrated"
    section = "integrated"
    Params = IntegratedParams
    code = Mode.INTEGRATED
    context = InnovationMode.context + (REACH,)

    def success_chance(self, state: State, ctx: StepContext | None = None) -> np.ndarray:
        """Per slot, in one compiled pass (:func:`~clusterup.compiled.integrated_chance`); the definition is
        :meth:`success_chance_numpy`."""
        pop = state.pop
        _, novelty = reachable(state, ctx)
        g = pop.view("generation")
        p = self.p
        follows = p.follower_power != p.mastery_power
        knowledge = state.net["knowledge"]
        reach = p.pioneer_lead * state.frontier
        return integrated_chance(
            novelty, pop.view("rd"), pop.view("capability"), g, state.ceiling(g), state.ceiling(g + 1),
            pop.view("kind"), pop.view("active"), knowledge.csr(state.n) if follows else None,
            knowledge.strength(state.n) if p.network_half > 0 else None, success=p.success, rd_half=p.rd_half,
            rd_exponent=p.rd_exponent, power=p.mastery_power, follower=p.follower_power, novelty_ref=p.novelty_ref,
            capability_half=p.capability_half, network_half=p.network_half, pioneer_power=p.pioneer_power,
            reach=reach, beyond=state.params.technology.ceiling_growth * reach,
        )  # fmt: skip

    def success_chance_numpy(self, state: State, ctx: StepContext | None = None) -> np.ndarray:
        """The success chance in NumPy: the readable definition, and the oracle of the compiled pass."""
        pop = state.pop
        _, novelty = reachable(state, ctx)
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
        if self.p.pioneer_power > 0:
            chance *= self._pioneering(state)
        return chance

    def _pioneering(self, state: State) -> np.ndarray:
        """1, or ``(pioneer_lead x A* / C(g + 1)) ** pioneer_power`` for a firm whose next generation nobody has
        yet, neither in the cluster nor in the world (its ceiling is beyond ``pioneer_lead`` x the frontier):
        a generation the world does not know is far harder to create than one it has; and 0 where that
        ceiling is beyond ``ceiling_growth x pioneer_lead`` x the frontier (more than one generation past the
        pioneering reach)."""
        pop = state.pop
        g = pop.view("generation")
        firms = pop.is_firm
        top = int(g[firms].max()) if firms.any() else 0
        reach = self.p.pioneer_lead * state.frontier
        nxt = state.ceiling(g + 1)
        new = firms & (g + 1 > top) & (nxt > reach)
        out = np.ones(state.n)
        out[new] = (reach / nxt[new]) ** self.p.pioneer_power
        # the world's technology is a bound, not only a hurdle: a generation more than one step beyond the
        # pioneering reach cannot be created (with thousands of firms trying, a small chance is a certainty)
        out[new & (nxt > state.params.technology.ceiling_growth * reach)] = 0.0
        return out

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

    def expected(self, state: State, ctx: StepContext) -> tuple[np.ndarray, np.ndarray]:
        growth = state.params.technology.ceiling_growth
        return self.success_chance(state, ctx) * (growth - 1.0), np.full(state.n, self.p.cost)

    def expected_numpy(self, state: State, ctx: StepContext) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`expected` from :meth:`success_chance_numpy` (the oracle of the compiled pass)."""
        growth = state.params.technology.ceiling_growth
        return self.success_chance_numpy(state, ctx) * (growth - 1.0), np.full(state.n, self.p.cost)

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        # the successes with their rents, then the new generations: two compiled passes (compiled.successes,
        # compiled.integrated_gains); step_numpy is their definition and their oracle in the tests
        who = self.attempting(state)
        if who.size == 0:
            return
        pop = state.pop
        u = rng.random(who.size)
        i = successes(who, self.success_chance(state, ctx), u, pop.rent, innovation_rent(state.params))
        ctx.successes[self.code] += i.size
        ctx.succeeded[self.code] = i
        if i.size == 0:
            return
        pool, _ = reachable(state, ctx)
        integrated_gains(i, pool, pop.generation, pop.capability, pop.knowledge, dip=self.p.dip,
                         novelty_gain=self.p.novelty_gain)  # fmt: skip

    def step_numpy(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        """:meth:`step` in NumPy, one expression per line: the definition of its compiled passes."""
        who = self.attempting(state)
        if who.size == 0:
            return
        ok = rng.random(who.size) < self.success_chance(state, ctx)[who]
        i = who[ok]
        ctx.successes[self.code] += i.size
        ctx.succeeded[self.code] = i
        state.pop.rent[i] += innovation_rent(state.params)
        if i.size == 0:
            return
        pop = state.pop
        pool, _ = reachable(state, ctx)
        pop.generation[i] += 1
        pop.capability[i] *= self.p.dip
        nu = self.p.novelty_gain
        pop.knowledge[i] = (1 - nu) * pop.knowledge[i] + nu * pool[i]
