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
    rd = np.where(T < 100, 0.5, 0.5 - 0.004 * (T - 100))
    df = frame(cap, rd=rd)
    pts = an.path_points(df)
    assert "D" in pts and pts["K"] == 200 and "E" not in pts
    labels = an.stages(df)
    assert labels[-1] == "decline" and labels[100] == "maturity"
    assert an.path_class(df, pts) == "decline-opportunism"
    homog = frame(cap, diversity=np.linspace(0.4, 0.1, 201))
    assert an.path_class(homog) == "decline-lock-in"


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
