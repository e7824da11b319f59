"""Knowledge ties: formed by integrated-innovation attempts (rarely by local ones), chosen for
complementary knowledge at a workable cognitive distance among social and economic neighbours and
organisations; reinforced when used in a success (strongly for integrated, weakly for local
success, since local innovation also draws on knowledge partners), decaying otherwise;
organisations serve at most their capacity.
"""

from __future__ import annotations

import numpy as np

from ..compiled import (
    choose_partners,
    knowledge_form,
    knowledge_seekers,
    knowledge_step,
    knowledge_use,
    open_organisations,
    over_capacity,
    parallel_choice,
    union_neighbours,
)
from ..compiled import one_call as _one_call
from ..params.base import Section, integer, number, switch
from ..state import ORG_KINDS, Mode, State, StepContext
from ..state.multiplex import KEY_BITS
from .base import SUCCEEDED, Process

_KNOWLEDGE_ORGS = (ORG_KINDS["university"], ORG_KINDS["institute"], ORG_KINDS["platform"])
_IS_KNOWLEDGE_ORG = np.zeros(max(ORG_KINDS.values()) + 1, bool)  # by kind; one gather per step, not np.isin
_IS_KNOWLEDGE_ORG[list(_KNOWLEDGE_ORGS)] = True
_NO_FIRMS = np.empty(0, np.int64)
_LOCAL, _INTEGRATED = int(Mode.LOCAL), int(Mode.INTEGRATED)  # plain integers: a kernel types an enum slowly


class KnowledgeTieParams(Section):
    enabled: bool = switch()
    partners: int = integer(3, 0, 1000, "Partners sought per integrated-innovation attempt.")
    candidates: int = integer(8, 1, 1000, "Candidates considered per attempt.")
    local_rate: float = number(0.03, 0.0, 1.0, "Chance a local-innovation attempt forms one knowledge tie.")
    initial: float = number(0.3, 0.001, 1.0, "Strength of a new knowledge tie.")
    reinforcement: float = number(0.3, 0.0, 1.0, "Strength added to a firm's ties when its integrated attempt succeeds.")
    local_reinforcement: float = number(0.05, 0.0, 1.0, "Strength added to a firm's ties when its local attempt succeeds.")
    decay: float = number(0.005, 0.0, 1.0, "Decay of unused knowledge ties per step.")
    floor: float = number(0.05, 0.0, 1.0, "Ties weaker than this are dropped.")


class KnowledgeTies(Process):
    name = "knowledge_ties"
    section = "knowledge_ties"
    Params = KnowledgeTieParams
    context = (SUCCEEDED,)

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        # the passes over ties and firms are compiled kernels computing what NumPy computed, from the same
        # draws (tests/test_process_kernels.py keeps the NumPy form as the oracle)
        p = self.p
        pop = state.pop
        layer = state.net["knowledge"]
        if _one_call(state.n):  # the passes below and their draws in one compiled call (compiled.knowledge_step)
            keys, w, changed, integ, local, done = knowledge_step(
                layer.keys, layer.w, ctx.succeeded.get(Mode.LOCAL, _NO_FIRMS),
                ctx.succeeded.get(Mode.INTEGRATED, _NO_FIRMS), state.n, pop.firms(), pop.mode, rng,
                state.net["social"].keys, state.net["economic"].keys, pop.view("capability"),
                state.ceiling(pop.view("generation")), pop.is_firm, pop.orgs(), pop.view("kind"), pop.view("active"),
                _IS_KNOWLEDGE_ORG, pop.capacity, pop.view("knowledge"), local_boost=p.local_reinforcement,
                integrated_boost=p.reinforcement, decay=p.decay, floor=p.floor, local_rate=p.local_rate,
                local_code=_LOCAL, integrated_code=_INTEGRATED, partners=p.partners, candidates=p.candidates,
                initial=p.initial, bits=KEY_BITS)  # fmt: skip
            if changed:
                layer.set_ties(keys, w)
            if not done:  # a choice of partners takes its parallel form: the ties are formed call by call
                self._seek(state, integ, local, rng)
            return
        if len(layer):
            local, integ = ctx.succeeded.get(Mode.LOCAL, _NO_FIRMS), ctx.succeeded.get(Mode.INTEGRATED, _NO_FIRMS)
            layer.set_weights(knowledge_use(layer.i, layer.j, layer.w, state.n, local, p.local_reinforcement, integ,
                                            p.reinforcement, p.decay))  # fmt: skip
            layer.drop_below(p.floor)
        firms = pop.firms()
        integ, local = knowledge_seekers(firms, pop.mode, rng.random(firms.size), p.local_rate, _LOCAL, _INTEGRATED)
        self._seek(state, integ, local, rng)

    def _seek(self, state: State, integ: np.ndarray, local: np.ndarray, rng: np.random.Generator) -> None:
        """The seekers' new ties (integrated attempts first), then the organisations' capacity."""
        p = self.p
        # the candidates are social or economic neighbours: of each layer's neighbour lists and of their union,
        # only the rows of the firms that look for partners (the whole lists would cost several times more)
        both = mastery = None
        if integ.size or local.size:
            both = state.net.neighbours(("social", "economic"), state.n, np.concatenate((integ, local)))
            mastery = state.mastery()  # the same for both passes: forming ties changes no capability
        self._form(state, integ, p.partners, rng, both, mastery=mastery)
        self._form(state, local, 1, rng, both, mastery=mastery)
        self._enforce_capacity(state)

    def _form(self, state: State, who: np.ndarray, partners: int, rng: np.random.Generator, both,
              numpy: bool = False, mastery: np.ndarray | None = None) -> None:  # fmt: skip
        if who.size == 0 or partners == 0:
            return
        pop = state.pop
        n = state.n
        c = self.p.candidates
        mastery = state.mastery() if mastery is None else mastery
        layer = state.net["knowledge"]
        if not numpy and not parallel_choice(who.size, c, pop.knowledge.shape[1]):
            # the calls below and their draws in one compiled call (compiled.knowledge_form), where the choice
            # would take its serial form anyway
            new = knowledge_form(layer.keys, layer.w, who, rng, partners, c, *both, pop.orgs().size > 0,
                                 pop.view("kind"), pop.view("active"), _IS_KNOWLEDGE_ORG, pop.capacity,
                                 pop.view("knowledge"), mastery, self.p.initial, n, KEY_BITS)  # fmt: skip
            if new is not None:
                layer.set_ties(*new)
            return
        adj = union_neighbours(*both, who)
        u = rng.random(who.size * c)  # c neighbours per firm, drawn row by row
        extra = np.empty((who.size, 0), np.int64)  # no organisation among the candidates
        if numpy:  # the definition of the compiled pass below (and its oracle in the tests)
            orgs = (pop.is_org & _IS_KNOWLEDGE_ORG[pop.view("kind")]).nonzero()[0]
            open_orgs = orgs[state.net["knowledge"].degree(n)[orgs] < pop.capacity[orgs]] if orgs.size else orgs
        elif pop.orgs().size:  # the knowledge organisations below their capacity, in one compiled pass
            open_orgs = open_organisations(pop.view("kind"), pop.view("active"), _IS_KNOWLEDGE_ORG,
                                           state.net["knowledge"].degree(n), pop.capacity)  # fmt: skip
        else:
            open_orgs = _NO_FIRMS
        if open_orgs.size:
            extra = open_orgs[rng.integers(0, open_orgs.size, (who.size, 2))]
        src, dst = choose_partners(adj, who, u, c, extra, pop.view("knowledge"), mastery, pop.kind, partners)
        layer.add(src, dst, self.p.initial)

    @staticmethod
    def _over_capacity(state: State) -> np.ndarray:
        """The organisations with more knowledge ties than their capacity."""
        pop = state.pop
        orgs = pop.orgs()
        if orgs.size == 0 or len(state.net["knowledge"]) == 0:
            return orgs[:0]
        deg = state.net["knowledge"].degree(state.n)
        return orgs[deg[orgs] > pop.capacity[orgs]]

    def _enforce_capacity(self, state: State) -> None:
        # each drops its weakest ties (the earlier among equals) down to its capacity, in one compiled pass
        # (_enforce_capacity_numpy: the same in NumPy, one organisation at a time)
        over = self._over_capacity(state)
        if over.size:
            layer = state.net["knowledge"]
            layer.keep(over_capacity(layer.i, layer.j, layer.w, over, state.pop.capacity[over], state.n))

    def _enforce_capacity_numpy(self, state: State) -> None:
        """:meth:`_enforce_capacity` in NumPy: the definition, and the oracle of the compiled pass."""
        layer = state.net["knowledge"]
        over = self._over_capacity(state)
        if over.size == 0:
            return
        keep = np.ones(len(layer), bool)
        for org in over:
            touching = ((layer.i == org) | (layer.j == org)).nonzero()[0]
            excess = touching.size - int(state.pop.capacity[org])
            weakest = touching[np.argsort(layer.w[touching], kind="stable")[:excess]]
            keep[weakest] = False
        layer.keep(keep)
