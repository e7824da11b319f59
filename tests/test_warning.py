"""Early warning of decline (clusterup.analysis.warning, `clusterup warn`).

The indicators are checked against ewstools and scipy, on synthetic series with known slowing down, and for
causality (an indicator at step t reads nothing after t); the forecaster's pieces (AUC, ROC, threshold, fit)
on toy data with known answers; the command on real runs and on bad input.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

from clusterup.analysis import warning as W
from clusterup.cli import main


def _ar1(phis: np.ndarray, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros(phis.size)
    for t in range(1, phis.size):
        x[t] = phis[t] * x[t - 1] + rng.normal(0, 0.01)
    return x


def _series(growth: np.ndarray) -> pd.DataFrame:
    """A time series whose mean capability grows by ``growth`` per step (the theory signals flat)."""
    n = growth.size
    cap = np.exp(np.r_[0.0, np.cumsum(growth[1:])])
    return pd.DataFrame({"step": np.arange(n), "cap_mean": cap, "cap_total": cap * 100, "knowledge_diversity": 1.0,
                         "knowledge_clustering": 0.2, "knowledge_embeddedness": 0.3, "rd_mean": 0.5,
                         "share_imitation": 0.5})  # fmt: skip


def test_kendall_trend_is_scipys_tau_b():
    rng = np.random.default_rng(1)
    for _ in range(20):
        y = rng.integers(0, 6, rng.integers(10, 60)).astype(float)  # many ties
        assert W.kendall_trend(y) == pytest.approx(kendalltau(np.arange(y.size), y).statistic, abs=1e-12)
    assert np.isnan(W.kendall_trend(np.ones(30)))
    assert np.isnan(W.kendall_trend(np.arange(W.MIN_POINTS - 1.0)))


def test_detrending_and_rolling_statistics_agree_with_ewstools():
    ewstools = pytest.importorskip("ewstools")
    x = _ar1(np.linspace(0.2, 0.9, 160)) + np.linspace(0, 0.05, 160)
    ts = ewstools.TimeSeries(pd.Series(x))
    ts.detrend(method="Gaussian", bandwidth=40)
    ts.compute_var(rolling_window=50)
    ts.compute_auto(rolling_window=50, lag=1)
    ts.compute_ktau()
    r = W.detrended(x, 40)
    np.testing.assert_allclose(r, ts.state["residuals"].to_numpy(), atol=1e-12)
    np.testing.assert_allclose(W.rolling_variance(r, 50), ts.ews["variance"].to_numpy(), atol=1e-15, equal_nan=True)
    np.testing.assert_allclose(W.rolling_autocorrelation(r, 50), ts.ews["ac1"].to_numpy(), atol=1e-10, equal_nan=True)
    var_t, ac_t = W.csd_trends(x, W.Settings())  # the indicator at the last step is ewstools' Kendall tau
    assert var_t[-1] == pytest.approx(ts.ktau["variance"], abs=1e-12)
    assert ac_t[-1] == pytest.approx(ts.ktau["ac1"], abs=1e-12)


def test_critical_slowing_down_is_seen_where_it_is_planted():
    """Growth follows an AR(1) whose coefficient rises from 0 to 0.9 (slowing down) or stays at 0.3; over 10
    seeds (fixed) the final Kendall tau of the autocorrelation is higher under slowing down in at least 9,
    and its mean is above 0.5 there and within 0.2 of 0 otherwise (measured: 0.69 and -0.03; variance,
    a noisier indicator: 0.47 and 0.07)."""
    n = 200
    csd = W.Settings(indicators=("variance_trend", "autocorrelation_trend"))
    slowing = [W.indicators(_series(_ar1(np.linspace(0.0, 0.9, n), seed=s)), csd).iloc[-1] for s in range(10)]
    steady = [W.indicators(_series(_ar1(np.full(n, 0.3), seed=s)), csd).iloc[-1] for s in range(10)]
    ac_up = np.array([f["autocorrelation_trend"] for f in slowing])
    ac_flat = np.array([f["autocorrelation_trend"] for f in steady])
    var_up = np.array([f["variance_trend"] for f in slowing])
    var_flat = np.array([f["variance_trend"] for f in steady])
    assert (ac_up > ac_flat).sum() >= 9
    assert ac_up.mean() > 0.5 and abs(ac_flat.mean()) < 0.2
    assert var_up.mean() > var_flat.mean() + 0.2
    steady = W.indicators(_series(_ar1(np.full(n, 0.3))))
    # flat theory signals give no warning
    assert (steady["knowledge_diversity_from_best"] == 0).all()
    assert (steady["rd_change"].dropna() == 0).all()


def test_theory_signals_are_oriented_so_that_larger_warns():
    ts = _series(np.full(100, 0.01))
    ts["knowledge_diversity"] = np.linspace(1.0, 0.5, 100)  # falls: warns
    ts["share_imitation"] = np.linspace(0.2, 0.6, 100)  # rises: warns
    f = W.indicators(ts)
    assert f["knowledge_diversity_from_best"].iloc[-1] == pytest.approx(0.5)
    assert f["imitation_share_from_best"].iloc[-1] == pytest.approx(1.0)
    assert f["knowledge_diversity_change"].iloc[-1] > 0 and f["imitation_share_change"].iloc[-1] > 0


def test_an_indicator_at_step_t_reads_nothing_after_t():
    import clusterup

    ts = clusterup.simulate("lock-in", seed=11, firms=80, steps=120).timeseries
    full = W.indicators(ts)
    for t in (30, 64, 90, 119):
        cut = W.indicators(ts.iloc[: t + 1])
        pd.testing.assert_series_equal(full.iloc[t], cut.iloc[t], check_names=False)


def test_auc_roc_and_threshold_on_known_cases():
    label = np.array([0, 0, 0, 0, 1, 1])
    assert W.auc(np.array([1, 2, 3, 4, 5, 6.0]), label) == 1.0
    assert W.auc(-np.array([1, 2, 3, 4, 5, 6.0]), label) == 0.0
    assert W.auc(np.ones(6), label) == 0.5
    assert W.auc(np.array([1, 2, np.nan, 4, 5, 6.0]), label) == 1.0  # a missing score is left out
    fpr, tpr = W.roc_curve(np.array([1, 2, 3, 4, 5, 6.0]), label)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.trapezoid(tpr, fpr) == pytest.approx(1.0)
    neg = np.arange(100.0)
    thr = W.threshold_at(neg, np.zeros(100, int), 0.1)
    assert (neg > thr).mean() == pytest.approx(0.1, abs=0.011)


def _fake_run(onset: int | None, seed: int, n: int = 120) -> W.RunWarning:
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    signal = np.zeros(n) if onset is None else np.clip((steps - (onset - 40)) / 40, 0, None)  # rises 40 steps early
    frame = pd.DataFrame({"step": steps, **{k: rng.normal(0, 0.1, n) for k in W.INDICATORS}})
    frame["knowledge_diversity_change"] += signal
    return W.RunWarning("fake", seed, frame, onset, n - 1)


def test_the_fitted_score_finds_a_planted_leading_signal():
    train = [_fake_run(80 if k % 2 else None, k) for k in range(20)]
    test = [_fake_run(80 if k % 2 else None, 100 + k) for k in range(20)]
    ev = W.evaluate(train, test, W.Settings())
    assert ev.test["auc"] > 0.9  # the signal is 0 at the horizon's first step, so not every positive outranks every negative
    assert max(ev.model.coef, key=lambda k: abs(ev.model.coef[k])) == "knowledge_diversity_change"
    assert ev.test["false_alarm_rate"] <= 0.15
    assert ev.test["declining_runs_alarmed_before_onset"] == 10
    assert ev.test["median_lead_steps"] >= 20  # the signal starts 40 steps before the onset (noise can alarm earlier)
    again = W.WarningModel.from_json(ev.model.to_json())
    np.testing.assert_allclose(again.score(test[1].frame), ev.model.score(test[1].frame))


def test_the_shipped_model_is_the_documented_one():
    """docs/decision.md quotes the shipped model's evaluation; both come from `clusterup warn --evaluate`."""
    from pathlib import Path

    model = W.default_model()
    assert set(model.coef) == set(W.INDICATORS) and 0 < model.threshold < 1
    evaluation = json.loads((Path(__file__).parents[1] / "docs" / "warning-evaluation.json").read_text())
    assert evaluation["threshold"] == pytest.approx(model.threshold)
    assert evaluation["coef"] == pytest.approx(model.coef)
    t = evaluation["test"]
    doc = (Path(__file__).parents[1] / "docs" / "decision.md").read_text()
    assert f"AUC of the combined score on the test runs is **{t['auc']:.2f}**" in doc
    assert f"median lead time is **{t['median_lead_steps']:.0f} steps**" in doc


def test_warn_on_a_run_and_an_experiment(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["run", "lock-in", "--firms", "100", "--steps", "120", "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["warn", str(run)]) == 0
    text = capsys.readouterr().out
    assert "probability that a run declines" in text and "first alarm" in text
    assert main(["warn", str(run), "--step", "60"]) == 0
    assert " 60 " in capsys.readouterr().out
    assert main(["report", str(run)]) == 0  # the run's report has the score over time
    html = (run / "report.html").read_text()
    assert "<h2>Early warning</h2>" in html and "Warning score with the alarm threshold" in html
    exp = tmp_path / "e"
    assert main(["ensemble", "baseline", "lock-in", "--runs", "2", "--steps", "60", "--firms", "60", "--executor", "serial",
                 "--out", str(exp), "--quiet"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["warn", str(exp)]) == 0
    assert capsys.readouterr().out.count(" #") == 4  # one row per run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["warn"], "give a run or experiment directory"),
        (["warn", "{tmp}"], "neither a clusterup run nor an experiment"),
        (["warn", "{run}", "--step", "999"], "after the end of"),
        (["warn", "{run}", "--model", "{tmp}/nope.json"], "does not exist"),
        (["warn", "{run}", "--model", "{bad}"], "is not a warning model"),
        (["warn", "{run}", "--out", "{tmp}/x"], "--out belongs to --evaluate"),
        (["warn", "--evaluate", "{run}"], "drop the directory argument"),
        (["warn", "--evaluate", "--seeds", "1"], "--seeds must be >= 2"),
    ],
)
def test_bad_warn_input_exits_2_with_one_line(tmp_path, capsys, args, message):
    run = tmp_path / "run"
    assert main(["run", "baseline", "--firms", "40", "--steps", "30", "--out", str(run), "--quiet"]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"settings": {}}')
    capsys.readouterr()
    argv = [a.format(tmp=tmp_path, run=run, bad=bad) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
