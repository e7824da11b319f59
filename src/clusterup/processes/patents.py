"""Intellectual-property protection (patents), a policy instrument: an own innovation is protected for a term.

Every successful integrated innovation (and, with ``patents.local``, every successful local one) grants
its firm a patent for ``patents.term`` steps (a new success renews it). While the patent runs:

- leakage from the firm is blocked by ``patents.strength`` (its ``protection``; spillovers read it);
- another firm may imitate it only under licence: the imitator pays ``patents.royalty`` x the mean firm
  revenue on each successful imitation (the firm's ``licence_fee``; imitation and the mode choice read it);
- the innovation earns the firm a larger rent: ``patents.strength`` of the value that informal
  appropriability alone leaves to others, added to the market's rent stock.

So innovating pays even where informal appropriability is weak (licence income, rents), which is what
lets R&D hold under opportunism; the price is slower diffusion while the patents run. Off by default;
the ``policy-ip-protection`` scenario switches it on.
"""

from __future__ import annotations

import numpy as np

from ..compiled import count_firms
from ..params.base import Section, integer, number, switch
from ..state import FieldSpec, Mode, State, StepContext
from .base import SUCCEEDED, Column, Process
from .imitation import LICENCES
from .market import innovation_rent


class PatentParams(Section):
    enabled: bool = switch(False, "Grant patents on own innovations (a policy instrument).")
    term: int = integer(20, 1, 1_000_000, "Steps a patent protects the innovation.")
    strength: float = number(0.9, 0.0, 1.0, "Share of the holder's leakage and of others' share of its rent that a patent blocks.")
    royalty: float = number(
        0.3, 0.0, 1000.0, "Licence fee per successful imitation of a holder, in units of the mean firm revenue."
    )
    local: bool = switch(True, "Patent successful local (incremental) innovations too, not only integrated ones.")


class Patents(Process):
    name = "patents"
    section = "patents"
    Params = PatentParams
    fields = (FieldSpec("patent_until", "i4", -1, "last step of the firm's running patent (-1: none)"),)
    columns = (
        Column("n_patents", "int", "firms holding a running patent", "learning"),
        Column("licence_fees", "float", "licence fees paid to patent holders in the step", "learning"),
    )
    context = (SUCCEEDED, LICENCES)

    def step(self, state: State, ctx: StepContext, rng: np.random.Generator) -> None:
        p = self.p
        pop = state.pop
        modes = (Mode.INTEGRATED, Mode.LOCAL) if p.local else (Mode.INTEGRATED,)
        kept = innovation_rent(state.params)  # what informal appropriability alone keeps
        for mode in modes:
            who = ctx.succeeded.get(mode)
            if who is not None and who.size:
                pop.patent_until[who] = state.step + p.term
                pop.rent[who] += p.strength * (1.0 - kept)
        n = state.n
        running = (pop.patent_until[:n] >= state.step) & pop.is_firm
        firms = pop.firms()
        mean_revenue = float(pop.revenue[firms].mean()) if firms.size else 0.0
        pop.protection[:n] = np.where(running, p.strength, 0.0)
        pop.licence_fee[:n] = np.where(running, p.royalty * mean_revenue, 0.0)

    def record(self, state: State, ctx: StepContext) -> dict[str, float]:
        # ((patent_until >= step - 1) & is_firm).sum(), the step just done, in one pass
        running = count_firms(state.pop.patent_until, state.pop.firms(), state.step - 1, False)
        return {"n_patents": int(running), "licence_fees": ctx.licence_fees}
