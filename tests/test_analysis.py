"""Analysis on synthetic curves with known answers, and on runs."""

import numpy as np
import pandas as pd
import pytest

import clusterup
from clusterup import analysis as an

T = np.arange(201)


def logistic(t, t0, k=0.08, top=1.0):
    return top / (1 + np.exp(-k * (t - t0)))


def frame(cap, *, gen=None, rd=None, diversity=None, rel=None):
    n = len(cap)
    df = pd.DataFrame(
        {
            "step": np.arange(n),
            "cap_total": cap,
            "cap_mean": cap / 100,
            "cap_rel_frontier": rel if rel is not None else cap / cap.max(),
            "gen_max": gen if gen is not None else np.zeros(n, int),
            "gen_top_share": np.ones(n),
            "rd_mean": rd if rd is not None else np.full(n, 0.5),
            "knowledge_diversity": diversity if diversity is not None else np.full(n, 0.3),
        }
    )
    return df


def test_logistic_has_one_s_with_inflection_at_its_midpoint():
    cap = 10 + 100 * logistic(T, 80)
    pts = an.path_points(frame(cap))
    assert pts["A"] == 0 and abs(pts["C"] - 80) <= 2
    assert pts["B"] < pts["C"] < pts["D"] and pts["E"] == 200
    assert "G" not in pts and "K" not in pts
    labels = an.stages(frame(cap))
    assert labels[0] == "formation" and labels[80] == "growth" and labels[-1] == "maturity"
    assert an.path_class(frame(cap)) == "saturation"


def test_two_stacked_logistics_are_a_jump():
    cap = 10 + 100 * logistic(T, 50, k=0.15) + 200 * logistic(T, 140, k=0.15)  # a plateau between the two S
    gen = (T >= 110).astype(int)
    df = frame(cap, gen=gen)
    pts = an.path_points(df)
    assert abs(pts["C"] - 50) <= 2 and abs(pts["H"] - 140) <= 2
    assert pts["D"] < pts["G"] < pts["H"] < pts["I"] and pts["J"] == 200
    labels = an.stages(df)
    assert labels[50] == "growth" and labels[95] == "maturity" and labels[140] == "renewal"
    assert an.path_class(df, pts) == "upgrade"


def test_logistic_then_decay_is_a_decline():
    cap = 10 + 100 * logistic(T, 50)
    cap[120:] = cap[119] * np.exp(-0.01 * np.arange(81))
    rd = np.where(T < 40, 0.5, np.maximum(0.5 - 0.004 * (T - 40), 0.1))  # R&D lost before capability peaks
    df = frame(cap, rd=rd)
    pts = an.path_points(df)
    assert "D" in pts and pts["K"] == 200 and "E" not in pts
    labels = an.stages(df)
    assert labels[-1] == "decline" and labels[100] == "maturity"
    assert labels.index("decline") in range(115, 135)
    assert an.path_class(df, pts) == "decline-opportunism"
    rigid = frame(cap, diversity=np.linspace(0.4, 0.01, 201))  # R&D holds while capability erodes
    assert an.path_class(rigid) == "decline-lock-in"


def _spans(labels):
    out = []
    for t, x in enumerate(labels):
        if out and out[-1][0] == x:
            out[-1][2] = t
        else:
            out.append([x, t, t])
    return out


def test_stages_do_not_flicker_on_a_noisy_slow_decline():
    """A plateau followed by a slow, noisy fall (the lock-in case: capability from 230 to 80 over 70 steps):
    one decline span to the end, no span shorter than 5% of the run."""
    rng = np.random.default_rng(1)
    t = np.arange(301)
    cap = 10 + 220 * logistic(t, 60, k=0.12)
    fall = t >= 200
    cap[fall] = cap[199] * np.exp(-0.011 * (t[fall] - 199))
    cap = cap * (1 + 0.03 * rng.standard_normal(t.size))
    labels = an.stages(frame(cap))
    spans = _spans(labels)
    assert all(b - a + 1 >= 15 for _, a, b in spans), spans
    assert spans[-1][0] == "decline" and spans[-1][1] in range(180, 215), spans
    assert "maturity" in labels[120:190] and labels[-60:] == ["decline"] * 60


def test_a_falling_span_is_never_maturity_and_a_short_bump_is_absorbed():
    t = np.arange(201)
    cap = 10 + 100 * logistic(t, 50)
    cap[150:153] *= 0.8  # a three-step dip: shorter than the minimum span
    labels = an.stages(frame(cap))
    assert labels[150:153] == ["maturity"] * 3
    slow = 10 + 100 * logistic(t, 50)
    slow[110:] = slow[109] * (1 - 0.0025 * (t[110:] - 109))  # 22% over 90 steps: slow, but no plateau
    labels = an.stages(frame(slow))
    assert labels[-1] == "decline" and "maturity" not in labels[140:]


def test_points_a_and_b_are_distinct_when_growth_starts_at_once():
    t = np.arange(201)
    cap = 10 * np.exp(0.03 * np.minimum(t, 120))  # rises from the first step
    pts = an.path_points(frame(cap))
    assert pts["B"] > pts["A"]
    labels = an.stages(frame(cap))
    assert all(b - a + 1 >= 10 for _, a, b in _spans(labels))


def test_long_exponential_run_is_judged_by_relative_growth():
    """A 2,000-step curve over ten orders of magnitude with three S-steps in its log: not one formation span."""
    t = np.arange(2001)
    logc = sum(8 * logistic(t, c, k=0.04) for c in (300, 900, 1500))
    labels = an.stages(frame(np.exp(logc)))
    kinds = [x for x, _, _ in _spans(labels)]
    assert kinds == ["formation", "growth", "maturity", "renewal", "maturity", "renewal", "maturity"], kinds


def test_early_generation_that_stays_a_niche_is_path2():
    cap = 10 + 100 * logistic(T, 50, k=0.15) + 200 * logistic(T, 150, k=0.15)
    df = frame(cap, gen=np.ones(201, int))
    df["gen_top_share"] = np.where(T < 120, 0.01, 0.9)
    pts = an.path_points(df)
    assert pts["F"] == 0
    assert an.path_class(df, pts) == "path2"


def test_gap_cycles_count_prominent_peaks():
    cv = 0.2 + 0.1 * np.sin(T / 200 * 2 * np.pi) ** 2  # two humps
    df = pd.DataFrame({"step": T, "gap_cv": cv})
    assert an.gap_cycles(df)["n_peaks"] == 2
    flat = pd.DataFrame({"step": T, "gap_cv": np.linspace(0.5, 0.1, 201)})
    assert not an.gap_cycles(flat)["holds"]


def test_gap_cycles_say_when_the_end_of_the_run_cut_a_cycle_off():
    cv = 0.2 + 0.1 * np.sin(T / 200 * 2 * np.pi) ** 2
    cv[100:] = 0.1 + 0.0005 * (T[100:] - 100)  # the second hump has only begun when the run ends
    gen = np.where(T < 40, 0, np.where(T < 150, 1, 2))
    share = np.where(T < 150, 1.0, 0.02 * (T - 149))  # generation 2 reaches 1.0 at step 199, not by 200
    df = pd.DataFrame({"step": T, "gap_cv": cv, "gen_max": gen, "gen_top_share": np.minimum(share, 1.0)})
    res = an.gap_cycles(df)
    assert res["n_peaks"] == 1 and not res["holds"]
    assert res["arrivals"] == [40, 150] and not res["open_at_end"]  # the new generation had spread by the end
    df["gen_top_share"] = np.where(T < 150, 1.0, 0.3)
    assert an.gap_cycles(df)["open_at_end"]
    df["gen_max"] = np.where(T < 40, 0, 1)  # no generation after the last peak: nothing was cut off
    assert not an.gap_cycles(df)["open_at_end"]
    assert "open_at_end" not in an.gap_cycles(df[["step", "gap_cv"]])


def test_layer_dominance_sequence_and_homeostasis():
    social = np.clip(1 - T / 100, 0, 1)
    econ = np.where(T < 150, np.clip(T / 80, 0, 1), 1 - (T - 150) / 60)
    know = np.clip((T - 100) / 60, 0, 2)
    tot = social + econ + know + 1e-9
    df = pd.DataFrame({"step": T, "social_share": social / tot, "economic_share": econ / tot, "knowledge_share": know / tot})
    switches = []
    for layer in ("social", "economic", "knowledge"):
        df[f"{layer}_turnover"] = 0.01
    res = an.network_regimes(df)
    assert [r["layer"] for r in res["regimes"]] == ["social", "economic", "knowledge"]
    switches = [r["start"] for r in res["regimes"][1:]]
    for s in switches:
        df.loc[(df.step > s - 5) & (df.step < s + 5), "economic_turnover"] = 0.2
    assert an.network_regimes(df)["holds"]  # without a multiplex column: the layers' mean
    df["turnover"] = 0.01
    assert not an.network_regimes(df)["homeostasis"]  # the multiplex column, when present, decides
    for s in switches:
        df.loc[(df.step > s - 5) & (df.step < s + 5), "turnover"] = 0.1
    assert an.network_regimes(df)["holds"]
    spans = an.regime_spans(df)
    assert any(sp["kind"] == "reconfiguration" for sp in spans) and spans[0]["kind"] == "homeostasis"


def test_analyze_a_run_is_consistent():
    ts = clusterup.simulate("baseline", seed=3, steps=120, firms=150).timeseries
    a = an.analyze(ts)
    assert a["path_class"] in {"saturation", "upgrade", "path2", "decline-lock-in", "decline-opportunism"}
    assert len(a["stage_per_step"]) == len(ts)
    assert set(a["stage_per_step"]) <= set(an.STAGES)
    spans = a["stages"]
    assert spans[0]["start"] == 0 and spans[-1]["end"] == 120
    assert all(b["start"] == a_["end"] + 1 for a_, b in zip(spans, spans[1:], strict=False))
    assert a["path_points"]["A"] == 0


@pytest.mark.parametrize("preset", ["no-integrated"])
def test_path1_run_saturates_without_new_generation(preset):
    ts = clusterup.simulate(preset, seed=1, steps=200, firms=200).timeseries
    res = an.path1_saturates(ts)
    assert not res["new_generation"]


def test_path2_fails_when_the_early_generation_dies_out():
    df = frame(10 + 100 * logistic(T, 50), gen=np.where(T < 30, 1, 0))
    df["gen_top_share"] = np.where(T < 30, 0.01, 1.0)  # the only early firm exits at step 30
    res = an.path2(df)
    assert not res["holds"] and res["died_out"] == 30 and not res["niche_ok"]


def test_the_lock_in_flicker_case_reads_as_one_decline():
    """The case that used to print 28 spans flickering every step or two (lock-in, seed 7, 1,000 firms, 300
    steps): spans of at least 5% of the run, a decline to the end where capability falls, A and B apart."""
    ts = clusterup.simulate("lock-in", seed=7, steps=300, firms=1000).timeseries
    a = an.analyze(ts)
    spans = a["stages"]
    assert len(spans) <= 5, spans
    assert all(sp["end"] - sp["start"] + 1 >= 15 for sp in spans), spans
    assert spans[-1]["stage"] == "decline" and spans[-1]["start"] <= 230, spans
    cap = ts["cap_mean"].to_numpy()
    assert cap[-1] < 0.5 * cap.max()  # ... and it does fall
    assert a["path_points"]["B"] > a["path_points"]["A"]
    assert a["path_class"] == "decline-lock-in"


@pytest.mark.parametrize("preset", ["baseline", "no-integrated", "lock-in", "opportunism", "path2-early-technology",
                                    "policy-institutions", "policy-pipelines", "policy-ip-protection"])  # fmt: skip
def test_stage_rules_hold_on_every_preset(preset):
    ts = clusterup.simulate(preset, seed=11, steps=200, firms=150).timeseries
    labels = an.stages(ts)
    spans = _spans(labels)
    assert all(b - a + 1 >= 10 for _, a, b in spans), spans
    total = ts["cap_total"].rolling(9, center=True, min_periods=1).mean().to_numpy()
    for kind, a, b in spans:
        if kind == "maturity":  # a plateau: smoothed capability does not fall by 10% or more over it
            assert total[b] >= 0.9 * total[a] or ts["cap_mean"].iloc[b] >= 0.95 * ts["cap_mean"].iloc[a], (kind, a, b)
    pts = an.path_points(ts)
    assert pts.get("B", 1) > pts["A"]
