"""Scenario discovery (clusterup.analysis.discovery, `clusterup discover`): PRIM recovers a planted box,
CART its rules; the command runs on a sweep in the store and refuses bad input in one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from clusterup.analysis.discovery import discover
from clusterup.cli import main

pytest.importorskip("ema_workbench")
pytest.importorskip("sklearn")


def _planted(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.uniform(0, 1, n), "b": rng.uniform(0, 1, n), "c": rng.uniform(0, 1, n)})
    return x, ((x["a"] > 0.6) & (x["b"] < 0.3)).to_numpy()


def test_prim_recovers_a_planted_box():
    x, y = _planted()
    d = discover(x, y, "planted", density=0.95)
    lim = {r["parameter"]: r for r in d.restrictions}
    assert set(lim) == {"a", "b"}  # c plays no part and is not restricted
    assert abs(lim["a"]["min"] - 0.6) < 0.05 and lim["a"]["max"] == pytest.approx(x["a"].max())
    assert abs(lim["b"]["max"] - 0.3) < 0.05 and lim["b"]["min"] == pytest.approx(x["b"].min())
    assert d.box["density"] >= 0.95 and d.box["coverage"] >= 0.9
    # the trajectory trades coverage for density: from all runs (coverage 1) to denser, smaller boxes
    t = d.trajectory
    assert t["coverage"].iloc[0] == 1.0 and t["density"].iloc[0] == pytest.approx(y.mean())
    assert t["density"].iloc[-1] > t["density"].iloc[0] and (np.diff(t["mass"]) <= 0).all()
    assert d.tree_accuracy == 1.0 and "a >" in d.tree and "b <=" in d.tree
    assert json.loads(json.dumps(d.payload()))["restrictions"][0]["parameter"] in {"a", "b"}


def test_a_second_box_is_found_among_the_runs_outside_the_first():
    rng = np.random.default_rng(0)
    n = 1000
    x = pd.DataFrame({"a": rng.uniform(0, 1, n), "b": rng.uniform(0, 1, n), "c": rng.uniform(0, 1, n)})
    y = (((x["a"] > 0.5) & (x["b"] < 0.4)) | ((x["c"] > 0.75) & (x["a"] < 0.5))).to_numpy()  # two planted boxes
    d = discover(x, y, "two", density=0.9, boxes=3)
    first = {r["parameter"]: r for r in d.restrictions}
    assert set(first) == {"a", "b"} and abs(first["a"]["min"] - 0.5) < 0.06 and abs(first["b"]["max"] - 0.4) < 0.06
    assert len(d.more) == 1  # a third box would not reach the density goal
    second = {r["parameter"]: r for r in d.more[0]["restrictions"]}
    assert set(second) == {"a", "c"} and abs(second["a"]["max"] - 0.5) < 0.06 and abs(second["c"]["min"] - 0.75) < 0.06
    assert d.box["coverage"] + d.more[0]["coverage"] > 0.9  # coverage is of all the outcome's runs
    assert discover(x, y, "two", density=0.9).more == []  # one box unless asked


def test_prim_restricts_a_categorical_parameter():
    rng = np.random.default_rng(1)
    n = 300
    x = pd.DataFrame({"scenario": pd.Categorical(rng.choice(["lock-in", "baseline", "opportunism"], n)),
                      "a": rng.uniform(0, 1, n)})  # fmt: skip
    y = ((x["scenario"] == "lock-in") & (x["a"] < 0.5)).to_numpy()
    d = discover(x, y, "planted", density=0.9)
    lim = {r["parameter"]: r for r in d.restrictions}
    assert lim["scenario"]["values"] == ["lock-in"]
    assert abs(lim["a"]["max"] - 0.5) < 0.08


def test_an_outcome_without_contrast_is_refused():
    x, y = _planted()
    from clusterup.errors import ConfigError

    with pytest.raises(ConfigError, match="false in every run"):
        discover(x, np.zeros_like(y), "never")


SWEEP = """scenario = "baseline"
replicates = 1
seed = 99
steps = 40
firms = 40
[design]
kind = "lhs"
samples = 30
[design.parameters]
"technology.appropriability" = [0.0, 0.8]
"spillover.rate" = [0.05, 0.4]
"""


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("disc")
    f = d / "sw.toml"
    f.write_text(SWEEP)
    assert main(["sweep", str(f), "--out", str(d / "exp"), "--executor", "serial", "--quiet"]) == 0
    return d / "exp"


def test_discover_on_a_sweep_writes_its_box_and_trade_off(sweep_dir, capsys):
    outcome = "final_cap_total < (SELECT median(final_cap_total) FROM runs)"
    out = sweep_dir / "disc-low"
    assert main(["discover", str(sweep_dir), "--outcome", outcome, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "15 of 30 runs have the outcome" in text and "CART tree" in text
    d = json.loads((out / "discovery.json").read_text())
    assert d["runs"] == 30 and d["with_outcome"] == 15 and d["trajectory"][0]["coverage"] == 1.0
    assert (out / "tradeoff.png").stat().st_size > 0
    before = (out / "discovery.json").read_bytes()
    assert main(["discover", str(sweep_dir), "--outcome", outcome, "--out", str(out)]) == 2  # never silently replaced
    assert (out / "discovery.json").read_bytes() == before
    assert main(["discover", str(sweep_dir), "--outcome", outcome, "--out", str(out), "--overwrite", "--boxes", "2"]) == 0
    # the experiment's HTML report shows the box found, and every run's warning score
    assert main(["report", str(sweep_dir), "--out", str(sweep_dir.parent / "r.html")]) == 0
    html = (sweep_dir.parent / "r.html").read_text()
    assert "<h3>Scenario discovery: final_cap_total &lt; (SELECT" in html and "PRIM box (peeling step" in html
    assert "<h2>Early warning</h2>" in html and html.count("<tr>") >= 30


def test_discover_computes_named_outcomes_from_the_series(sweep_dir, capsys):
    code = main(["discover", str(sweep_dir), "--outcome", "new_generation", "--out", str(sweep_dir / "gen")])
    err = capsys.readouterr().err
    # 40 steps at 40 firms: either some runs reach a new generation (a box) or none do (refused in one line)
    assert code == 0 or (code == 2 and "in every run" in err and err.count("\n") == 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}"], "is not an experiment directory"),
        (["{exp}", "--density", "0"], "--density must lie in (0, 1]"),
        (["{exp}", "--peel-alpha", "0.9"], "--peel-alpha must lie in (0, 0.5]"),
        (["{exp}", "--depth", "0"], "--depth must lie in 1-10"),
        (["{exp}", "--boxes", "0"], "--boxes must lie in 1-10"),
        (["{exp}", "--outcome", "nope > 1"], "query"),
        (["{exp}", "--outcome", "final_cap_total + 1"], "nor a true/false SQL expression"),
        (["{exp}", "--outcome", "1 = 0"], "false in every run"),
    ],
)
def test_bad_discover_input_exits_2_with_one_line(sweep_dir, tmp_path, capsys, args, message):
    argv = ["discover", *(a.format(tmp=tmp_path, exp=sweep_dir) for a in args), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "o").exists()


def test_the_documented_example_is_the_stored_result():
    """docs/decision.md quotes docs/discovery-example.json, which `clusterup discover` wrote for its example."""
    from pathlib import Path

    root = Path(__file__).parents[1]
    d = json.loads((root / "docs" / "discovery-example.json").read_text())
    doc = (root / "docs" / "decision.md").read_text()
    assert f"coverage **{d['coverage']:.2f}** and density **{d['density']:.2f}**" in doc
    assert f"{d['with_outcome']} of the {d['runs']} runs decline" in doc
    for r in d["restrictions"]:
        assert f"| `{r['parameter']}` | {r['min']:.3g} .. {r['max']:.3g} |" in doc
