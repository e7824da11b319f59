"""Interventions in time (issue 19, part 1): a policy starts, changes or stops at a given step. A run with
an intervention equals the run without it, bit for bit, up to the step before; from that step on the
parameters say what the intervention sets; `until` brings the earlier values back; organisations are
founded with their own random stream; bad interventions exit 2 with one line; checkpoints resume across them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clusterup import Simulation
from clusterup.cli import main
from clusterup.errors import ConfigError
from clusterup.params import example_names, from_dict, load_scenario

SMALL = {"run.steps": 90, "run.firms": 120}


def _with(preset: str, interventions: list[dict]) -> object:
    d = load_scenario(preset, SMALL).to_dict()
    d["interventions"] = interventions
    return from_dict(d)


def _rows(ts) -> np.ndarray:
    return ts.to_numpy(dtype=float, na_value=-999.0)


@pytest.mark.parametrize("iv", [
    {"step": 30, "set": {"organisations.universities": 1}},
    {"step": 25, "until": 60, "set": {"pipelines.enabled": True, "pipelines.subsidy": 5.0}},
    {"step": 45, "set": {"technology.appropriability": 0.8, "spillover.rate": 2.0}},
])  # fmt: skip
def test_a_run_equals_the_run_without_it_up_to_the_step(iv):
    base = Simulation(load_scenario("lock-in", SMALL)).run().timeseries
    with_iv = Simulation(_with("lock-in", [iv])).run().timeseries
    a, b = _rows(base), _rows(with_iv)
    differ = np.flatnonzero((a != b).any(axis=1))
    assert differ.size and differ[0] == iv["step"], differ[:3]  # identical through step - 1, different at step


def test_parameters_in_force_follow_the_interventions():
    p = _with("lock-in", [{"step": 20, "until": 40, "set": {"pipelines.subsidy": 5.0}},
                          {"step": 30, "set": {"pipelines.subsidy": 9.0, "organisations.universities": 2}}])  # fmt: skip
    assert p.at_step(19).pipelines.subsidy == 0.0 and p.at_step(20).pipelines.subsidy == 5.0
    assert p.at_step(35).pipelines.subsidy == 9.0  # the later one wins while both hold
    assert p.at_step(41).pipelines.subsidy == 9.0 and p.at_step(41).organisations.universities == 2
    assert p.change_steps() == [20, 30, 41]
    q = _with("lock-in", [{"step": 20, "until": 40, "set": {"pipelines.subsidy": 5.0}}])
    assert q.at_step(41) is q and q.at_step(19) is q  # outside the intervention: the scenario's own values


def test_a_founded_university_joins_the_cluster(tmp_path):
    run = tmp_path / "r"
    assert main(["run", "lock-in-university-at-40", "--firms", "120", "--steps", "80", "--out", str(run), "--quiet"]) == 0
    meta = json.loads((run / "metadata.json").read_text())
    assert meta["organisations_founded"] == [{"step": 40, "founded": {"university": 1}}]
    assert meta["interventions"][0]["step"] == 40
    import pandas as pd

    firms = pd.read_parquet(run / "firms.parquet")
    assert (firms["kind"] == "university").sum() == 1
    again = tmp_path / "again"  # the run's config.toml holds the interventions: it reruns the run exactly
    assert main(["run", str(run / "config.toml"), "--out", str(again), "--quiet"]) == 0
    assert pd.read_parquet(again / "timeseries.parquet").equals(pd.read_parquet(run / "timeseries.parquet"))


@pytest.mark.parametrize("cut", [20, 40, 61])
def test_a_checkpoint_resumes_across_interventions(cut):
    p = _with("lock-in", [{"step": 30, "set": {"organisations.universities": 2}},
                          {"step": 40, "until": 60, "set": {"pipelines.enabled": True}}])  # fmt: skip
    whole = Simulation(p).run().timeseries
    sim = Simulation(p)
    for _ in range(cut):
        sim.step()
    again = Simulation.from_state_dict(sim.state_dict()).run().timeseries
    assert np.array_equal(_rows(again), _rows(whole))


@pytest.mark.parametrize(("iv", "message"), [
    ({"step": 500, "set": {"pipelines.subsidy": 1.0}}, "interventions[0].step must be <= run.steps (90); got 500"),
    ({"step": 5, "set": {"bogus.rate": 1}}, "interventions[0].set: unknown parameter 'bogus.rate'"),
    ({"step": 5, "set": {"init.wealth": 1.0}}, "run.* and init.* cannot change during it"),
    ({"step": 5, "set": {"pipelines.subsidy": -1.0}}, "pipelines.subsidy must be a number in [0, 1000]; got -1.0"),
    ({"step": 5, "until": 3, "set": {"pipelines.subsidy": 1.0}}, "interventions[0].until must be in [step, run.steps]"),
    ({"step": 5, "set": {"organisations.platforms": 0}}, "organisations.platforms can only grow"),
])  # fmt: skip
def test_bad_interventions_are_one_line_and_write_nothing(tmp_path, capsys, iv, message):
    d = load_scenario("baseline", SMALL).to_dict()
    d["interventions"] = [iv]
    with pytest.raises(ConfigError, match=None):
        from_dict(d)
    toml = tmp_path / "s.toml"
    set_ = ", ".join(f'"{k}" = {json.dumps(v)}' for k, v in iv["set"].items())
    until = f"until = {iv['until']}\n" if "until" in iv else ""
    head = 'extends = "baseline"\n[run]\nsteps = 90\n\n[[interventions]]\n'
    toml.write_text(f'{head}step = {iv["step"]}\n{until}set = {{ {set_} }}\n')
    assert main(["run", str(toml), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out").exists()


def test_examples_are_listed_and_run_in_an_ensemble(tmp_path, capsys):
    assert set(example_names()) >= {"lock-in-university-at-40", "lock-in-pipeline-subsidy"}
    assert main(["scenarios"]) == 0
    assert "lock-in-pipeline-subsidy" in capsys.readouterr().out
    d = tmp_path / "e"
    assert main(["ensemble", "lock-in", "lock-in-pipeline-subsidy", "--runs", "2", "--steps", "130", "--firms", "80",
                 "--executor", "serial", "--out", str(d), "--quiet"]) == 0  # fmt: skip
    import pandas as pd

    runs = pd.read_parquet(d / "runs.parquet")
    a = runs[runs["scenario"] == "lock-in"].sort_values("seed")
    b = runs[runs["scenario"] == "lock-in-pipeline-subsidy"].sort_values("seed")
    assert (a["seed"].to_numpy() == b["seed"].to_numpy()).all()  # common random numbers: same seeds per replicate


def test_the_scenario_in_the_docs_loads(tmp_path):
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "decision.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    assert blocks
    for k, block in enumerate(blocks):
        f = tmp_path / f"s{k}.toml"
        f.write_text(block)
        if "[levers." in block:  # the policy-mix spec
            from clusterup.experiments.optimise import load_optimise

            assert len(load_optimise(f)[0].levers) == 3
            continue
        if "[design]" in block:  # a sweep over an intervention's timing and size, or the discovery example
            from clusterup.experiments import load_sweep, make_plan

            assert len(make_plan(*load_sweep(f)).arms) == (12 if "interventions[0]" in block else 200)
            continue
        p = load_scenario(f)
        assert len(p.interventions) == 2 and p.at_step(40).organisations.universities == 1
        assert p.at_step(100).pipelines.enabled and not p.at_step(121).pipelines.enabled


def test_an_interventions_step_and_size_are_sweep_factors(tmp_path, capsys):
    """`interventions[K].step` and `interventions[K].set.KEY` are parameters like any other: --set takes them
    and a sweep varies them (grid over the founding step and the number of universities)."""
    import pandas as pd

    sweep = tmp_path / "timing.toml"
    sweep.write_text('scenario = "lock-in-university-at-40"\nreplicates = 1\nseed = 3\nsteps = 70\nfirms = 80\n'
                     '[design]\nkind = "grid"\n[design.parameters]\n"interventions[0].step" = [20, 50]\n'
                     '"interventions[0].set.organisations.universities" = [1, 2]\n')  # fmt: skip
    d = tmp_path / "e"
    assert main(["sweep", str(sweep), "--executor", "serial", "--out", str(d), "--quiet"]) == 0
    runs = pd.read_parquet(d / "runs.parquet")
    assert sorted(zip(runs["interventions[0].step"], runs["interventions[0].set.organisations.universities"],
                      strict=True)) == [(20, 1), (20, 2), (50, 1), (50, 2)]  # fmt: skip
    ts = {(r.step, r.n): pd.read_parquet(d / "runs" / f"run-{r.run_id:06d}.parquet")
          for r in runs.rename(columns={"interventions[0].step": "step",
                                        "interventions[0].set.organisations.universities": "n"}).itertuples()}  # fmt: skip
    a, b = (ts[k].drop(columns="run_id").to_numpy(float, na_value=-999.0) for k in ((20, 1), (50, 1)))
    assert (a[:20] == b[:20]).all() and not (a[20] == b[20]).all()  # the same seed until the earlier founding
    assert main(["run", "lock-in-university-at-40", "--set", "interventions[2].step=5", "--out", str(tmp_path / "x")]) == 2
    assert "the scenario has 1 intervention(s)" in capsys.readouterr().err


def test_a_ramp_moves_linearly_to_its_values_and_keeps_them():
    p = _with("lock-in", [{"step": 10, "until": 19, "ramp": True, "set": {"pipelines.subsidy": 2.0}},
                          {"step": 30, "until": 32, "ramp": True, "set": {"organisations.universities": 3}}])  # fmt: skip
    assert p.at_step(9).pipelines.subsidy == 0.0
    assert [round(p.at_step(t).pipelines.subsidy, 12) for t in (10, 14, 19, 60)] == [0.2, 1.0, 2.0, 2.0]
    assert [p.at_step(t).organisations.universities for t in (29, 30, 31, 32, 80)] == [0, 1, 2, 3, 3]
    assert p.change_steps() == [*range(10, 20), 30, 31, 32]
    base = Simulation(load_scenario("lock-in", SMALL)).run().timeseries
    sim = Simulation(p)
    ts = sim.run().timeseries
    differ = np.flatnonzero((_rows(base) != _rows(ts)).any(axis=1))
    assert differ[0] >= 10  # nothing changes before the ramp starts
    meta = sim.result().metadata
    assert [e["step"] for e in meta["organisations_founded"] if e["founded"]] == [30, 31, 32]  # one university a step
    assert "ramp = true" in p.to_toml() and "ramp" not in load_scenario("lock-in-university-at-40").to_toml()


@pytest.mark.parametrize(("iv", "message"), [
    ({"step": 5, "ramp": True, "set": {"pipelines.subsidy": 1.0}}, "a ramp needs until"),
    ({"step": 5, "until": 9, "ramp": True, "set": {"pipelines.enabled": True}}, "a ramp moves numbers; pipelines.enabled"),
])  # fmt: skip
def test_bad_ramps_are_refused(iv, message):
    d = load_scenario("baseline", SMALL).to_dict()
    d["interventions"] = [iv]
    with pytest.raises(ConfigError, match=message):
        from_dict(d)
