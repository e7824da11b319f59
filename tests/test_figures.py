"""Every figure the package draws keeps the house style (clusterup.plots.style): drawn on a short run of
every preset and on small experiments, each must have no text over data, no text cut off, no legend over
another panel, no axis range collapsed around constant data and no empty panel that does not say why.
The checker itself is tested on figures that break each rule, so this test can fail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from clusterup import Simulation
from clusterup.params import example_names, preset_names
from clusterup.plots.style import figure_problems, new_figure

PRESETS = preset_names()
EXAMPLES = example_names()  # with interventions: their marks on the figures


@pytest.fixture(scope="module")
def runs():
    """One short run of every preset, with network snapshots (80 quarters of 80 firms)."""
    out = {}
    for name in PRESETS + EXAMPLES:
        sim = Simulation(name, seed=3, steps=130, firms=80, snapshot_every=20) if name in EXAMPLES else \
            Simulation(name, seed=3, steps=80, firms=80, snapshot_every=20)  # fmt: skip
        out[name] = sim.run()
    return out


def _check(fig: Figure, what: str) -> None:
    problems = figure_problems(fig)
    assert not problems, f"{what}: " + "; ".join(problems)


@pytest.mark.parametrize("preset", PRESETS + EXAMPLES)
def test_run_figures_keep_the_house_style(runs, preset):
    from clusterup.explorer import model
    from clusterup.plots import figure1, figure2, overview
    from clusterup.plots.adoption import adoption_curves
    from clusterup.plots.style import intervention_marks

    res = runs[preset]
    marks = intervention_marks(res.params)
    assert bool(marks) == (preset in EXAMPLES)
    _check(overview(res.timeseries, preset, marks), f"{preset} overview")
    _check(figure2([res.timeseries], marks=marks), f"{preset} figure2")
    _check(adoption_curves(res.generations), f"{preset} adoption")
    _check(figure1(res.timeseries, res.snapshots), f"{preset} figure1")
    _check(model.live_figure(res.timeseries.iloc[:30], 80), f"{preset} explorer live")
    _check(model.network_figure(res, max(res.snapshots)), f"{preset} explorer network")


def test_experiment_figures_keep_the_house_style(runs):
    from clusterup.experiments.summary import bands
    from clusterup.plots.ensemble import ARM_INDICATORS, arms_figure, validation_figure
    from clusterup.plots.facts import facts_figure
    from clusterup.plots.figure2 import figure2

    # three arms, n = 1 (no band), n = 2 and n = 3 replicates: bands are cut to each quantity's range
    frames = []
    for arm, (preset, n) in enumerate((("lock-in", 1), ("baseline", 2), ("policy-pipelines", 3))):
        for r in range(n):
            ts = runs[preset].timeseries.copy()
            ts[list(ARM_INDICATORS)] *= 1 + 0.3 * r
            frames.append(ts.assign(arm=arm, replicate=r))
    ts = pd.concat(frames)
    b = {name: bands(ts, name).assign(arm_label=lambda d: d["arm"].map({0: "lock-in", 1: "baseline", 2: "pipelines"}))
         for name in ARM_INDICATORS}  # fmt: skip
    for name, frame in b.items():
        if name in ("share_integrated", "knowledge_share"):
            assert frame["lo"].min() >= 0 and frame["hi"].max() <= 1, name
        else:
            assert frame["lo"].min() >= 0, name
    _check(arms_figure(b), "arms")
    many = {k: pd.concat([v.assign(arm=v["arm"] + 3 * j, arm_label=v["arm_label"] + f" {j}") for j in range(4)])
            for k, v in list(b.items())[:3]}  # fmt: skip
    _check(arms_figure(many), "arms (12 arms)")
    arms = {p: [runs[p].timeseries] * 3 for p in PRESETS}
    curve = {a: np.array([1.0, 2.0, 3.0]) * (1 + a) for a in (0.1, 0.3, 0.5, 0.7, 0.9)}
    _check(validation_figure(arms, curve), "validation")
    _check(figure2([runs["baseline"].timeseries, runs["policy-pipelines"].timeseries]), "figure2 of an ensemble")
    rng = np.random.default_rng(1)
    _check(facts_figure([rng.pareto(1.2, 300) + 1 for _ in range(3)], rng.laplace(0, 0.1, 3000)), "facts")


def test_sensitivity_and_calibration_figures_keep_the_house_style(runs):
    from clusterup.experiments.calibrate import fit_figure
    from clusterup.experiments.sensitivity import figure

    params = ["spillover.rate", "technology.appropriability", "imitation.rate"]
    morris = pd.DataFrame({"output": ["final.cap_total"] * 3 + ["first_new_generation"] * 3, "parameter": params * 2,
                           "mu": [1, -2, 0.5] * 2, "mu_star": [3.0, 0.2, 0.0] * 2, "sigma": [1, 1, 1] * 2,
                           "mu_star_conf": [1.0, 0.5, 0.3] * 2})  # fmt: skip
    fig = figure(morris, "morris")
    _check(fig, "morris")
    assert all(ax.get_xlim()[0] >= 0 for ax in fig.axes)  # no bar or interval below zero
    sobol = pd.DataFrame({"output": ["final.cap_total"] * 3, "parameter": params, "S1": [0.5, -0.05, 0.1],
                          "S1_conf": [0.1, 0.2, 0.05], "ST": [0.7, 0.1, 0.2], "ST_conf": [0.1, 0.1, 0.1]})  # fmt: skip
    _check(figure(sobol, "sobol"), "sobol")
    ts = runs["bass"].timeseries
    obs = pd.DataFrame({"step": ts["step"][::8], "value": ts["share_integrated"][::8]})
    _check(fit_figure(obs, [ts, ts], ts, "share_integrated", "bass fit"), "calibration fit")


# ---------------------------------------------------------------- the checker can fail


def test_checker_reports_a_legend_over_data():
    fig, ax = new_figure(figsize=(4, 3))
    x = np.linspace(0, 1, 50)
    ax.plot(x, np.ones_like(x) * 0.95, label="a line along the top")
    ax.plot(x, x, label="diagonal")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    assert any("legend" in p and "covers data" in p for p in figure_problems(fig))


def test_checker_reports_a_collapsed_range_an_empty_panel_and_cut_text():
    fig, (a, b) = new_figure(1, 2, figsize=(4, 3))
    a.plot([0, 1, 2], [0, 0, 0])
    fig.text(0.9, 0.5, "a note that runs far beyond the right edge of the figure")
    problems = figure_problems(fig)
    assert any("constant data at 0" in p for p in problems)
    assert any("empty" in p for p in problems)
    assert any("cut off" in p for p in problems)


def test_checker_reports_overlapping_titles():
    fig, (a, b) = new_figure(1, 2, figsize=(4, 3))
    a.plot([0, 1], [0, 1])
    b.plot([0, 1], [1, 0])
    a.set_title("a title far too long for its own panel, running into the next", loc="left")
    b.set_title("the next title", loc="left")
    assert any("overlap" in p for p in figure_problems(fig))


def test_checker_reports_a_legend_over_another_panel():
    fig = Figure(figsize=(5, 3))
    a, b = fig.subplots(1, 2)
    a.plot([0, 1], [0, 1], label="a long label that reaches into the next panel")
    b.plot([0, 1], [1, 0])
    a.legend(loc="center left", bbox_to_anchor=(0.9, 0.5))
    assert any("lies over axes" in p for p in figure_problems(fig))
