"""Each process on a tiny hand-built state."""

import numpy as np
import pytest

from clusterup.params import Params
from clusterup.processes import (
    Demography,
    EconomicTies,
    Frontier,
    Imitation,
    IntegratedInnovation,
    KnowledgeDrift,
    KnowledgeTies,
    LocalInnovation,
    Market,
    ModeChoice,
    Obsolescence,
    Patents,
    Pipelines,
    RDLearning,
    SocialTies,
    Spillover,
)
from clusterup.state import ORG_KINDS
from conftest import ctx_of, fresh_ctx, make_state


def params(**sections) -> Params:
    return Params().with_overrides({f"{s}.{k}": v for s, kv in sections.items() for k, v in kv.items()})


# -- imitation ---------------------------------------------------------------------------------


def test_imitation_moves_toward_better_neighbour_and_never_past(rng):
    p = params(imitation={"success": 1.0, "rate": 1.0}, technology={"appropriability": 0.0})
    state = make_state([0.2, 0.6, 0.9], ties={"social": [(0, 1, 1.0), (1, 2, 1.0)]}, params=p)
    state.pop.mode[:3] = 1
    before = state.pop.capability[:3].copy()
    Imitation(p).step(state, ctx_of(state), rng)
    after = state.pop.capability[:3]
    assert after[0] > before[0] and after[0] <= before[1] + 1e-12  # toward 1, not past it
    assert after[1] > before[1] and after[1] <= before[2] + 1e-12
    assert after[2] == before[2]  # the best firm has no model
    assert ctx_of(state).successes[1] == 2


def test_imitation_picks_the_best_model_and_ignores_weaker(rng):
    p = params(imitation={"success": 1.0})
    state = make_state([0.5, 0.3, 0.8, 0.9], ties={"social": [(0, 1, 1.0), (0, 2, 1.0), (0, 3, 0.1)]}, params=p)
    imit = Imitation(p)
    model, phi, _ = imit._models(state, ctx_of(state))
    # w * gap: to 2 is 1.0 * 0.3, to 3 is 0.1 * 0.4 -> model 2; never the weaker firm 1
    assert model[0] == 2
    assert model[3] == -1


def test_appropriability_one_stops_imitation(rng):
    p = params(imitation={"success": 1.0}, technology={"appropriability": 1.0})
    state = make_state([0.2, 0.9], ties={"social": [(0, 1, 1.0)]}, params=p)
    state.pop.mode[:2] = 1
    Imitation(p).step(state, ctx_of(state), rng)
    assert state.pop.capability[0] == 0.2


def test_imitation_passes_on_a_higher_generation_with_a_dip(rng):
    p = params(
        imitation={"success": 1.0, "generation_transfer": 1.0, "switch_dip": 0.7, "absorptive_exponent": 0.0},
        technology={"appropriability": 0.0},
    )
    state = make_state([0.8, 1.2], generation=[0, 1], ties={"economic": [(0, 1, 1.0)]}, params=p)
    state.pop.mode[0] = 1
    Imitation(p).step(state, ctx_of(state), rng)
    assert state.pop.generation[0] == 1
    assert state.pop.capability[0] == pytest.approx(0.56)


def test_imitation_never_exceeds_own_generation_ceiling(rng):
    p = params(imitation={"success": 1.0, "rate": 1.0, "generation_transfer": 0.0}, technology={"appropriability": 0.0})
    state = make_state([0.9, 1.8], generation=[0, 1], ties={"social": [(0, 1, 1.0)]}, params=p)
    state.pop.mode[0] = 1
    Imitation(p).step(state, ctx_of(state), rng)
    assert state.pop.generation[0] == 0 and state.pop.capability[0] < 1.0


# -- local and integrated innovation ----------------------------------------------------------


def test_local_innovation_grows_logistically_below_the_ceiling(rng):
    p = params(local={"success": 1.0, "support_base": 1.0, "novelty_weight": 0.0, "rate": 0.5})
    state = make_state([0.5, 0.999], rd=[1.0, 1.0], params=p)
    state.pop.mode[:2] = 2
    local = LocalInnovation(p)
    chance = local.success_chance(state)
    assert chance[0] == pytest.approx(1.0 / (1.0 + p.local.rd_half))  # rd / (rd + rd_half)
    for _ in range(50):
        state.pop.mode[:2] = 2
        fresh_ctx(state)
        local.step(state, ctx_of(state), rng)
    a = state.pop.capability[:2]
    assert (a <= 1.0).all() and a[0] > 0.9


def test_local_support_grows_with_economic_ties():
    p = params(local={"novelty_weight": 0.0})
    state = make_state([0.5, 0.5, 0.5], segment=[0, 1, 1], ties={"economic": [(0, 1, 1.0)]}, params=p)
    chance = LocalInnovation(p).success_chance(state)
    assert chance[0] > chance[2]


def test_integrated_success_needs_mastery_and_novelty():
    p = params()
    k = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0]], dtype=float)
    state = make_state([0.95, 0.9, 0.3, 0.95], knowledge=k, ties={"knowledge": [(0, 1, 1.0), (2, 1, 1.0)]}, params=p)
    chance = IntegratedInnovation(p).success_chance(state)
    assert chance[0] > chance[2] > 0  # same novelty, more mastery
    assert chance[3] == 0  # reaches nothing new


def test_integrated_success_moves_to_next_generation_with_a_dip(rng):
    p = params(integrated={"success": 1.0, "dip": 0.8, "novelty_ref": 0.01, "network_half": 0.0, "capability_half": 0.0})
    k = np.array([[1, 0, 0, 0], [0, 0, 1, 0]], dtype=float)
    state = make_state([0.99, 0.99], rd=[1.0, 1.0], knowledge=k, ties={"knowledge": [(0, 1, 1.0)]}, params=p)
    state.pop.mode[0] = 3
    for _ in range(20):  # success chance ~0.8 per attempt
        if state.pop.generation[0] == 1:
            break
        IntegratedInnovation(p).step(state, ctx_of(state), rng)
    assert state.pop.generation[0] == 1
    assert state.pop.capability[0] == pytest.approx(0.792)
    assert state.pop.knowledge[0, 2] > 0  # new domain from the partner


def test_a_generation_new_to_the_world_is_harder_and_two_beyond_its_reach_impossible():
    """Pioneering: where the next generation is new to the cluster and its ceiling C(g+1) exceeds pioneer_lead x
    A*, the chance is multiplied by (pioneer_lead A* / C(g+1)) ** pioneer_power; beyond ceiling_growth x
    pioneer_lead x A* it is 0 (ceiling_base 1, growth 2, lead 4: C(1) = 2, C(2) = 4, C(3) = 8)."""
    p = params(integrated={"pioneer_lead": 4.0, "pioneer_power": 12.0})
    state = make_state([0.9, 0.9, 0.9], generation=[0, 1, 2], params=p)
    process = IntegratedInnovation(p)
    # reach 4 A*: C(3) = 8 is new to the world below A* = 2, and more than one generation past the reach below 1
    for frontier, expected in ((2.0, 1.0), (1.5, (6.0 / 8.0) ** 12), (1.0, (4.0 / 8.0) ** 12), (0.99, 0.0)):
        state.frontier = frontier
        out = process._pioneering(state)
        assert out[2] == pytest.approx(expected, rel=1e-12, abs=0.0)
        assert out[0] == out[1] == 1.0  # generations 1 and 2 exist in the cluster: following is no pioneering


def test_integration_is_easier_in_a_knowledge_network_and_for_capable_firms():
    k = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0]], dtype=float)
    ties = {"knowledge": [(0, 1, 1.0), (2, 3, 0.2)]}
    p = params(integrated={"network_half": 1.0, "capability_half": 0.0, "novelty_ref": 0.01})
    chance = IntegratedInnovation(p).success_chance(make_state([0.9, 0.9, 0.9, 0.9], knowledge=k, ties=ties, params=p))
    assert chance[0] == pytest.approx(chance[2] * (1.0 / 2.0) / (0.2 / 1.2))  # K/(K+h): 1/2 against 1/6
    p = params(integrated={"network_half": 0.0, "capability_half": 2.0, "novelty_ref": 0.01, "follower_power": 16.0})
    state = make_state([0.9, 1.8], generation=[0, 1], knowledge=k[:2], ties={"knowledge": [(0, 1, 1.0)]}, params=p)
    chance = IntegratedInnovation(p).success_chance(state)
    assert chance[1] / chance[0] == pytest.approx((1.8 / 3.8) / (0.9 / 2.9))  # same mastery, more capability


def test_integrating_knowledge_a_partner_already_holds_needs_less_mastery():
    # firms 0 and 2 alike (generation 0, mastery 0.6, same novelty); only 0's knowledge partner is ahead
    k = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0]], dtype=float)
    ties = {"knowledge": [(0, 1, 1.0), (2, 3, 1.0)]}
    p = params(integrated={"network_half": 0.0, "capability_half": 0.0, "mastery_power": 16.0, "follower_power": 2.0})
    state = make_state([0.6, 1.2, 0.6, 0.6], generation=[0, 1, 0, 0], knowledge=k, ties=ties, params=p)
    chance = IntegratedInnovation(p).success_chance(state)
    assert chance[2] > 0
    assert chance[0] / chance[2] == pytest.approx(0.6**2 / 0.6**16)
    # follower_power = mastery_power switches the rule off
    p = params(integrated={"network_half": 0.0, "capability_half": 0.0, "mastery_power": 16.0, "follower_power": 16.0})
    state = make_state([0.6, 1.2, 0.6, 0.6], generation=[0, 1, 0, 0], knowledge=k, ties=ties, params=p)
    chance = IntegratedInnovation(p).success_chance(state)
    assert chance[0] == pytest.approx(chance[2])


def hill_rent(app: float, share: float = 0.25, n: float = 6.0, h: float = 0.3) -> float:
    """The documented rent curve, written out: share x H(app) / H(0.5), H(a) = a^n / (a^n + h^n)."""
    return share * (app**n / (app**n + h**n)) / (0.5**n / (0.5**n + h**n))


@pytest.mark.parametrize(("n", "h"), [(6.0, 0.3), (2.0, 0.5)])
def test_own_innovation_earns_the_rent_curve_of_appropriability(rng, n, h):
    """The innovator keeps rent_share x H(app) / H(0.5) of its innovation (a Hill curve in appropriability with
    steepness market.rent_power and half-point market.rent_half); its market weight gains rent_premium x that rent."""
    out = []
    for app in (0.2, 0.8):
        p = params(
            technology={"appropriability": app},
            market={"rent_premium": 1.0, "rent_power": n, "rent_half": h, "rent_decay": 0.0, "elasticity": 0.0},
            local={"success": 1.0, "support_base": 1.0, "novelty_weight": 0.0, "rd_half": 0.001, "rd_exponent": 8.0},
        )
        state = make_state([0.5, 0.5], rd=[1.0, 1.0], params=p)
        state.pop.mode[0] = 2
        LocalInnovation(p).step(state, ctx_of(state), rng)
        assert state.pop.rent[0] == pytest.approx(hill_rent(app, n=n, h=h)) and state.pop.rent[1] == 0.0
        state.pop.capability[:2] = 0.5  # same capability: only the rent differs
        Market(p).step(state, ctx_of(state), rng)
        out.append(state.pop.revenue[0] / state.pop.revenue[1])
    assert out == pytest.approx([1 + hill_rent(0.2, n=n, h=h), 1 + hill_rent(0.8, n=n, h=h)])


def test_rent_curve_is_anchored_at_half_appropriability_and_has_a_threshold():
    """At appropriability 0.5 the share is exactly rent_share whatever the curve's shape (so the shape moves no
    run at 0.5); nothing at 0; rising in appropriability; small below rent_half; never above 1."""
    from clusterup.processes.market import innovation_rent

    for n, h in [(6.0, 0.3), (2.0, 0.5), (12.0, 0.45), (1.0, 0.001)]:
        assert innovation_rent(params(market={"rent_power": n, "rent_half": h})) == 0.25  # exact, not approximate
    rents = [innovation_rent(params(technology={"appropriability": a})) for a in np.linspace(0, 1, 21)]
    assert rents[0] == 0.0 and np.all(np.diff(rents) > 0)
    assert innovation_rent(params(technology={"appropriability": 0.1})) < 0.01 * 0.25  # below the threshold
    assert innovation_rent(params(technology={"appropriability": 0.6})) == pytest.approx(0.2577, abs=1e-4)  # plateau
    assert innovation_rent(params(technology={"appropriability": 1.0}, market={"rent_share": 1.0})) == 1.0


def test_a_patent_adds_the_rent_informal_appropriability_leaves_to_others(rng):
    """A patented success gains ``patents.strength x (1 - kept)`` on top of the rent ``kept`` it keeps informally,
    and its patent runs for ``patents.term`` steps."""
    p = params(
        technology={"appropriability": 0.4},
        patents={"enabled": True, "strength": 0.9, "term": 7},
        local={"success": 1.0, "support_base": 1.0, "novelty_weight": 0.0, "rd_half": 0.001, "rd_exponent": 8.0},
    )
    state = make_state([0.5, 0.5], rd=[1.0, 1.0], params=p)
    state.pop.mode[0] = 2
    LocalInnovation(p).step(state, ctx_of(state), rng)
    Patents(p).step(state, ctx_of(state), rng)
    kept = hill_rent(0.4)
    assert state.pop.rent[0] == pytest.approx(kept + 0.9 * (1 - kept)) and state.pop.rent[1] == 0.0
    assert state.pop.patent_until[0] == state.step + 7 and state.pop.patent_until[1] == -1


# -- spillovers ----------------------------------------------------------------------------------


def test_spillover_never_flows_from_weaker_to_stronger(rng):
    p = params(spillover={"social": 0.5, "economic": 0.5, "knowledge": 0.5})
    state = make_state([0.2, 0.5, 0.8], ties={"social": [(0, 1, 1.0), (1, 2, 1.0)], "economic": [(0, 2, 1.0)]}, params=p)
    Spillover(p).step(state, ctx_of(state), rng)
    a = state.pop.capability[:3]
    assert a[2] == 0.8
    assert a[0] > 0.2 and a[0] <= 0.8 and a[1] > 0.5 and a[1] <= 0.8
    assert ctx_of(state).spillover_volume == pytest.approx(a[0] - 0.2 + a[1] - 0.5)


def test_spillover_scales_with_openness(rng):
    out = []
    for app in (0.2, 0.8):
        p = params(technology={"appropriability": app})
        state = make_state([0.2, 0.8], ties={"knowledge": [(0, 1, 1.0)]}, params=p)
        Spillover(p).step(state, ctx_of(state), rng)
        out.append(state.pop.capability[0] - 0.2)
    assert out[0] == pytest.approx(4 * out[1])


# -- market, mode choice, learning ---------------------------------------------------------------


def test_market_shares_follow_capability_and_sum_to_demand(rng):
    p = params(market={"elasticity": 0.0, "demand": 1.0, "payout": 0.0})
    state = make_state([0.5, 1.0], params=p)
    Market(p).step(state, ctx_of(state), rng)
    rev = state.pop.revenue[:2]
    assert rev.sum() == pytest.approx(2.0)  # demand * N0 at any competitiveness with elasticity 0
    assert rev[1] / rev[0] == pytest.approx(2**1.5)
    assert state.pop.wealth[0] == pytest.approx(10 + state.pop.profit[0])


@pytest.mark.parametrize("shield", [0.4, 2.0])
def test_a_rent_keeps_part_of_the_demand_a_lagging_cluster_loses(rng, shield):
    """When the cluster lags the frontier (demand level L < 1) a firm keeps k = min(1, rent_shield x rent) of the
    demand the lag takes from it: revenue x (1 + k (1 - L) / L); a firm without rent keeps none of it."""
    p = params(market={"elasticity": 1.0, "demand": 1.0, "payout": 0.0, "rent_decay": 0.0, "rent_premium": 0.0,
                       "scale_shock": 0.0, "entrant_scale": 1.0, "rent_shield": shield})  # fmt: skip
    state = make_state([0.5, 0.5, 0.5], params=p)
    state.frontier = 2.0  # mean capability 0.5: L = 0.25
    state.pop.rent[:3] = [0.0, 1.0, 3.0]
    Market(p).step(state, ctx_of(state), rng)
    lagging = 3 * 0.25 / 3  # each firm's share of a demand that the lag cut to a quarter
    k = np.minimum(1.0, shield * np.array([0.0, 1.0, 3.0]))
    assert state.pop.revenue[:3] == pytest.approx(lagging * (1 + k * 0.75 / 0.25))
    assert state.pop.revenue[2] <= 1.0 + 1e-12  # at most the demand it had at parity


def test_a_rent_shields_nothing_at_parity_or_when_switched_off(rng):
    for frontier, shield in ((0.5, 0.4), (0.25, 0.4), (2.0, 0.0)):  # at parity, ahead of the world, no shield
        p = params(market={"elasticity": 1.0, "demand": 1.0, "rent_premium": 0.0, "rent_decay": 0.0,
                           "scale_shock": 0.0, "entrant_scale": 1.0, "rent_shield": shield})  # fmt: skip
        state = make_state([0.5, 0.5], params=p)
        state.frontier = frontier
        state.pop.rent[:2] = [0.0, 2.0]
        Market(p).step(state, ctx_of(state), rng)
        assert state.pop.revenue[0] == state.pop.revenue[1]


def test_owners_take_a_share_of_profits_but_losses_hit_cash_in_full(rng):
    p = params(market={"elasticity": 0.0, "demand": 1.0, "payout": 0.25, "fixed_cost": 0.5})
    state = make_state([0.2, 1.0], params=p)
    Market(p).step(state, ctx_of(state), rng)
    profit = state.pop.profit[:2]
    assert profit[0] < 0 < profit[1]
    assert state.pop.wealth[0] == pytest.approx(10 + profit[0])
    assert state.pop.wealth[1] == pytest.approx(10 + 0.75 * profit[1])


def test_unaffordable_and_disabled_modes_are_never_chosen(rng):
    p = params(integrated={"cost": 5.0}, imitation={"enabled": False})
    state = make_state([0.99] * 50, wealth=[1.0] * 50, params=p)
    state.pop.revenue[:50] = 1.0
    procs = [ModeChoice(p), Imitation(p), LocalInnovation(p), IntegratedInnovation(p)]
    procs[0].init(procs)
    procs[0].step(state, ctx_of(state), rng)
    modes = state.pop.mode[:50]
    assert not np.isin(modes, [1, 3]).any()
    assert ctx_of(state).attempts.sum() == 50


def test_rd_learning_copies_a_more_profitable_peer(rng):
    p = params(rd_learning={"review": 1.0, "imitation": 1.0, "mutation": 0.0, "memory": 1.0})
    state = make_state([0.5, 0.5], rd=[0.1, 0.9], ties={"social": [(0, 1, 1.0)]}, params=p)
    state.pop.profit[:2] = [1.0, 0.0]
    RDLearning(p).step(state, ctx_of(state), rng)
    assert state.pop.rd[1] == pytest.approx(0.1)  # the loser copies the winner
    assert state.pop.rd[0] == pytest.approx(0.1)  # the winner keeps its own


# -- knowledge and obsolescence --------------------------------------------------------------------


def test_knowledge_drifts_toward_partners_and_stays_a_distribution(rng):
    p = params(knowledge={"drift": 0.5})
    k = np.array([[1, 0, 0, 0], [0, 1, 0, 0]], dtype=float)
    state = make_state([0.5, 0.5], knowledge=k, ties={"knowledge": [(0, 1, 1.0)]}, params=p)
    KnowledgeDrift(p).step(state, ctx_of(state), rng)
    q = state.pop.knowledge[:2]
    assert np.allclose(q.sum(axis=1), 1.0)
    assert q[0, 1] == pytest.approx(0.5) and q[1, 0] == pytest.approx(0.5)


def test_obsolescence_hits_older_generations_harder(rng):
    p = params(obsolescence={"rate": 0.01, "generation_lag": 1.0, "rd_maintenance": 0.0})
    state = make_state([1.0, 1.0], generation=[0, 1], params=p)
    Obsolescence(p).step(state, ctx_of(state), rng)
    assert state.pop.capability[0] == pytest.approx(1 - 0.015)
    assert state.pop.capability[1] == pytest.approx(0.99)


def test_rd_keeps_capability_up_to_date(rng):
    p = params(obsolescence={"rate": 0.02, "generation_lag": 0.0, "rd_maintenance": 1.0, "rd_half": 0.3, "rd_exponent": 2.0})
    state = make_state([1.0, 1.0, 1.0], rd=[0.0, 0.3, 1.0], params=p)
    Obsolescence(p).step(state, ctx_of(state), rng)
    a = state.pop.capability[:3]
    assert a[0] == pytest.approx(0.98)  # no R&D: the full depreciation
    assert a[1] == pytest.approx(1 - 0.02 * 0.5)  # R&D at its half value offsets half of it
    assert a[0] < a[1] < a[2] < 1.0


# -- network evolution --------------------------------------------------------------------------------


def test_social_ties_decay_and_drop_below_floor(rng):
    p = params(social={"decay": 0.5, "floor": 0.3, "proximity": 0.0, "triadic": 0.0})
    state = make_state([0.5, 0.5, 0.5], ties={"social": [(0, 1, 1.0), (1, 2, 0.5)]}, params=p)
    SocialTies(p).step(state, ctx_of(state), rng)
    layer = state.net["social"]
    assert len(layer) == 1 and layer.w[0] == pytest.approx(0.5)


def test_trade_crowds_out_a_firms_social_ties_but_not_those_it_trades_along(rng):
    """A social tie decays faster by ``crowding`` x the mean economic strength of its two ends, unless the
    pair also trades (the trade is embedded in the social tie and keeps it up)."""
    ties = {"social": [(0, 1, 1.0), (2, 3, 1.0), (4, 5, 1.0)], "economic": [(0, 6, 1.0), (1, 6, 0.5), (4, 5, 0.8)]}
    for crowding, expected in ((1.0, 1 - 0.1 * (1 + 1.0 * (1.0 + 0.5) / 2)), (3.0, 1 - 0.1 * (1 + 3.0 * 0.75)), (0.0, 0.9)):
        p = params(social={"decay": 0.1, "crowding": crowding, "floor": 0.0, "proximity": 0.0, "triadic": 0.0})
        state = make_state([0.5] * 7, ties={k: list(v) for k, v in ties.items()}, params=p)
        SocialTies(p).step(state, ctx_of(state), rng)
        layer = state.net["social"]
        kept = {(int(min(i, j)), int(max(i, j))): float(w) for i, j, w in zip(layer.i, layer.j, layer.w, strict=True)}
        assert kept[(0, 1)] == pytest.approx(expected)
        assert kept[(2, 3)] == pytest.approx(0.9)  # no trade at either end: the plain decay
        assert kept[(4, 5)] == pytest.approx(0.9)  # the pair trades with each other: the plain decay


def test_an_associations_member_ties_do_not_decay(rng):
    """Ties to a business association (either end) are held at weight 1; the others decay and drop."""
    p = params(social={"decay": 0.5, "floor": 0.3, "proximity": 0.0, "triadic": 0.0})
    ties = {"social": [(0, 1, 1.0), (1, 2, 0.5), (3, 0, 0.4), (2, 3, 0.2)]}  # 3 is the association
    state = make_state([0.5, 0.5, 0.5], ties=ties, orgs=[ORG_KINDS["association"]], params=p)
    for _ in range(3):
        SocialTies(p).step(state, ctx_of(state), rng)
    layer = state.net["social"]
    kept = {(int(min(i, j)), int(max(i, j))): float(w) for i, j, w in zip(layer.i, layer.j, layer.w, strict=True)}
    assert kept == {(0, 3): 1.0, (2, 3): 1.0}  # both member ties, whichever end the association is at


def test_economic_ties_link_adjacent_segments_only(rng):
    p = params(economic={"formation": 1.0, "ties_per_mastery": 3.0, "candidates": 10})
    seg = [0, 0, 1, 1, 2, 2, 3, 3]
    state = make_state([0.9] * 8, segment=seg, params=p)
    for _ in range(5):
        EconomicTies(p).step(state, ctx_of(state), rng)
    layer = state.net["economic"]
    assert len(layer) > 0
    s = np.array(seg)
    assert (np.abs(s[layer.i] - s[layer.j]) == 1).all()


def test_economic_ties_fade_when_a_partner_falls_behind(rng):
    p = params(economic={"formation": 0.0, "adjustment": 0.5, "floor": 0.1})
    state = make_state([0.9, 0.01], segment=[0, 1], ties={"economic": [(0, 1, 0.9)]}, params=p)
    for _ in range(10):
        EconomicTies(p).step(state, ctx_of(state), rng)
    assert len(state.net["economic"]) == 0


def test_knowledge_ties_form_from_integrated_attempts_and_respect_capacity(rng):
    p = params(knowledge_ties={"partners": 3, "candidates": 4})
    n = 6
    k = np.eye(4)[[0, 1, 2, 3, 0, 1]]
    ties = {"social": [(0, j, 1.0) for j in range(1, n)]}
    state = make_state([0.9] * n, knowledge=k, ties=ties, orgs=[ORG_KINDS["university"]], params=p)
    state.pop.mode[:n] = 0
    state.pop.mode[0] = 3
    KnowledgeTies(p).step(state, ctx_of(state), rng)
    layer = state.net["knowledge"]
    assert 0 < len(layer) <= 3
    assert (layer.i == 0).all()
    uni = n
    for _ in range(5):
        state.pop.mode[:n] = 3
        KnowledgeTies(p).step(state, ctx_of(state), rng)
        assert layer.degree(state.n)[uni] <= state.pop.capacity[uni]


def test_knowledge_ties_reach_knowledge_organisations_but_not_an_association(rng):
    """Universities, institutes and platforms are offered as knowledge partners; a business association is not."""
    p = params(knowledge_ties={"partners": 3, "candidates": 4})
    n = 6
    kinds = [ORG_KINDS[k] for k in ("university", "institute", "platform", "association")]
    state = make_state([0.9] * n, knowledge=np.eye(4)[[0, 1, 2, 3, 0, 1]], orgs=kinds, params=p)
    for _ in range(20):
        state.pop.mode[:n] = 3
        KnowledgeTies(p).step(state, ctx_of(state), rng)
    deg = state.net["knowledge"].degree(state.n)
    assert (deg[n : n + 3] > 0).all()  # each knowledge organisation gained ties
    assert deg[n + 3] == 0  # the association none


def test_knowledge_ties_are_reinforced_by_success_and_decay_otherwise(rng):
    p = params(knowledge_ties={"reinforcement": 0.3, "decay": 0.1, "partners": 0, "local_rate": 0.0})
    state = make_state([0.9, 0.9, 0.9], ties={"knowledge": [(0, 1, 0.5), (1, 2, 0.5)]}, params=p)
    ctx_of(state).succeeded[3] = np.array([0])
    KnowledgeTies(p).step(state, ctx_of(state), rng)
    layer = state.net["knowledge"]
    assert layer.w.tolist() == pytest.approx([0.8, 0.45])


def test_pipelines_open_for_masters_and_close_below_floor(rng):
    p = params(pipelines={"rate": 1.0, "capability_power": 1.0, "decay": 0.5, "floor": 0.3})
    state = make_state([0.999, 1e-9], params=p)
    Pipelines(p).step(state, ctx_of(state), rng)
    assert state.pop.pipeline[0] == 1.0 and state.pop.pipeline[1] == 0.0
    q = Params().with_overrides({"pipelines.rate": 0.0, "pipelines.decay": 0.8, "pipelines.floor": 0.3})
    Pipelines(q).step(state, ctx_of(state), rng)
    assert state.pop.pipeline[0] == 0.0


# -- demography and frontier ---------------------------------------------------------------------------


def test_exited_firm_keeps_no_ties(rng):
    p = params(demography={"entry_rate": 0.0, "newcomer_rate": 0.0})
    state = make_state(
        [0.5, 0.5, 0.5],
        wealth=[1.0, -1.0, 1.0],
        ties={"social": [(0, 1, 1.0), (1, 2, 1.0)], "economic": [(0, 2, 1.0)], "knowledge": [(1, 2, 1.0)]},
        params=p,
    )
    Demography(p).step(state, ctx_of(state), rng)
    assert ctx_of(state).exits == 1
    ids = state.pop.view("id")
    assert 1 not in ids[state.pop.view("active")]
    for layer in state.net:
        assert 1 not in ids[layer.i].tolist() + ids[layer.j].tolist()
    assert len(state.net["economic"]) == 1


def test_entrants_copy_an_incumbent_and_inherit_ties(rng):
    p = params(demography={"newcomer_rate": 1.0, "entry_rate": 0.0, "spinoff_share": 1.0, "entrant_capability": 0.5})
    state = make_state([0.4, 0.8], generation=[0, 1], ties={"social": [(0, 1, 1.0)]}, params=p)
    state.pop.profit_avg[:2] = [0.0, 1.0]  # only firm 1 is profitable: every spin-off comes from it
    Demography(p).step(state, ctx_of(state), rng)
    new = np.arange(2, state.n)
    assert new.size == ctx_of(state).entries > 0
    assert np.allclose(state.pop.capability[new], 0.4) and (state.pop.generation[new] == 1).all()
    assert (state.pop.parent[new] == 1).all()
    assert state.net["social"].has(new, np.full(new.size, 1)).all()


def test_frontier_grows_at_its_rate(rng):
    p = params(frontier={"growth": 0.01})
    state = make_state([0.5], params=p)
    Frontier(p).step(state, ctx_of(state), rng)
    assert state.frontier == pytest.approx(1.01)


def test_world_knowledge_moves_toward_its_hot_field_and_organisations_follow(rng):
    p = params(frontier={"knowledge_drift": 0.1, "field_change": 0.0, "organisation_renewal": 0.5})
    state = make_state([0.5], orgs=[ORG_KINDS["university"]], params=p)
    state.hot_field = 3
    org = state.n - 1
    before = state.pop.knowledge[org].copy()
    for _ in range(30):
        Frontier(p).step(state, ctx_of(state), rng)
    world = state.external_knowledge
    assert world.sum() == pytest.approx(1.0) and world[3] > 0.9
    assert state.pop.knowledge[org, 3] > before[3] and state.pop.knowledge[org].sum() == pytest.approx(1.0)
