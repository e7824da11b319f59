"""The cheapest policy mix (clusterup.experiments.optimise, `clusterup optimise`): the search finds the known
front of a toy problem, resumes an interrupted study, confirms its recommendation on fresh seeds, and refuses
bad specs in one line."""

from __future__ import annotations

import json

import pytest

from clusterup.cli import main
from clusterup.errors import ConfigError
from clusterup.experiments import optimise as O

pytest.importorskip("optuna")

TOY = """scenario = "lock-in"
replicates = 4
trials = 60
target = 0.75
confirm = 8
seed = 3
[levers.a]
key = "organisations.universities"
values = [0, 1, 2, 3, 4]
cost = 1.0
[levers.b]
key = "organisations.platforms"
values = [0, 2, 4]
cost = 2.0
"""


def _toy(mix, seeds):
    """Known answer: the probability is min(1, (a + b) / 4) whatever the seed, so b (twice as costly per
    unit of probability) is never worth buying: the front is b = 0, a = 0..4 (cost = 4 x probability)."""
    p = min(1.0, (mix["a"] + mix["b"]) / 4)
    k = round(p * len(seeds))
    return [True] * k + [False] * (len(seeds) - k)


def _spec(tmp_path, body=TOY):
    f = tmp_path / "toy.toml"
    f.write_text(body)
    return O.load_optimise(f)[0]


def test_the_search_finds_the_known_front_of_a_toy_problem(tmp_path):
    spec = _spec(tmp_path)
    calls = []
    study = O.search(spec, lambda mix, seeds: calls.append(mix) or _toy(mix, seeds), tmp_path)
    assert len(calls) == 15 and len({tuple(m.values()) for m in calls}) == 15  # a repeated mix is not run again
    table = O.front_table(study)
    front = table[table["on_front"]]
    assert set(zip(front["a"], front["b"], strict=True)) == {(0, 0), (1, 0), (2, 0), (3, 0), (4, 0)}
    assert (front["cost"] == 4 * front["probability"]).all()
    rec = O.recommend(spec, table, _toy)
    assert rec["mix"] == {"a": 3.0, "b": 0.0} and rec["cost"] == 3.0  # the cheapest with probability >= 0.75
    assert rec["fresh_seeds"] == 8 and rec["probability_fresh"] == 0.75
    lo, hi = rec["interval_fresh"]
    assert 0 <= lo < 0.75 < hi <= 1


def test_an_interrupted_search_resumes_where_it_stopped(tmp_path):
    spec = _spec(tmp_path)
    calls = []

    def counting(mix, seeds):
        calls.append(mix)
        return _toy(mix, seeds)

    O.search(spec.model_copy(update={"trials": 12}), counting, tmp_path)  # stopped after 12 trials
    first = len(calls)
    whole = O.search(spec, counting, tmp_path)  # resumed: the missing trials run, mixes already run are not rerun
    assert len(whole.trials) == 60
    assert first < len(calls) == len({tuple(m.values()) for m in calls}) <= 15  # nothing evaluated twice
    assert len(O.front_table(whole)) == len(calls)  # one row per distinct mix
    runs = []
    for k in range(2):  # the same seed, uninterrupted, gives the same sequence of proposals
        d = tmp_path / f"fresh{k}"
        d.mkdir()
        runs.append(O.front_table(O.search(spec, _toy, d)).sort_values("trial")[["a", "b"]].reset_index(drop=True))
    assert runs[0].equals(runs[1])


def test_levers_reach_the_scenario_at_their_step(tmp_path):
    spec = _spec(tmp_path, TOY.replace('scenario = "lock-in"', 'scenario = "lock-in"\nat_step = 30'))
    data = O.scenario_with(spec, {"a": 2.0, "b": 4.0})
    assert data["interventions"][-1] == {"step": 30, "set": {"organisations.universities": 2,
                                         "organisations.platforms": 4}, "label": "policy mix"}  # fmt: skip
    assert data["organisations"]["universities"] == 0  # lock-in's own value until then
    now = O.scenario_with(_spec(tmp_path), {"a": 2.0, "b": 4.0})
    assert now["organisations"]["universities"] == 2 and not now["interventions"]


def test_optimise_command_on_the_model(tmp_path, capsys):
    spec = tmp_path / "mix.toml"
    small = TOY.replace("trials = 60", "trials = 4").replace("replicates = 4", "replicates = 2")
    small = small.replace("confirm = 8", "confirm = 2")
    spec.write_text("steps = 30\nfirms = 40\n" + small)
    out = tmp_path / "o"
    assert main(["optimise", str(spec), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    saved = json.loads((out / "optimise.json").read_text())
    assert saved["trials"] == 4 and (out / "front.png").is_file() and (out / "study.db").is_file()
    import pandas as pd

    runs = pd.read_parquet(out / "runs.parquet")
    assert {"phase", "a", "b", "seed", "success", "final_cap_total"} <= set(runs.columns)
    assert (runs["phase"] == "search").sum() >= 2 and set(runs["phase"]) <= {"search", "confirm"}
    capsys.readouterr()
    assert main(["query", str(out), "SELECT phase, count(*) AS n FROM runs GROUP BY 1 ORDER BY 1", "--csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "phase,n"
    assert main(["query", str(out), "SELECT count(*) AS n FROM front WHERE on_front", "--csv"]) == 0
    assert int(capsys.readouterr().out.splitlines()[1]) >= 1
    assert main(["optimise", str(spec), "--out", str(out), "--executor", "serial", "--quiet"]) == 2
    assert "pass --resume" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["optimise", str(spec), "--out", str(out), "--executor", "serial", "--quiet", "--resume"]) == 0
    assert capsys.readouterr().out == ""  # --quiet prints nothing but errors
    assert len(pd.read_parquet(out / "runs.parquet")) == len(runs)  # a finished study resumed adds nothing
    assert main(["report", str(out)]) == 0  # the report shows the front and the recommendation
    html = (out / "report.html").read_text()
    assert "<h2>Pareto front</h2>" in html and "Cost against probability" in html


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (TOY.replace('key = "organisations.platforms"', 'key = "organisations.nope"'), "levers.b.key: unknown parameter"),
        (TOY.replace("values = [0, 2, 4]", "low = 3\nhigh = 1"), "low must be below high"),
        (TOY.replace("values = [0, 2, 4]", ""), "give either values"),
        (TOY.replace("trials = 60", "trials = 1"), "trials"),
        (TOY.replace("target = 0.75", "target = 1.5"), "target"),
        ("colour = 1\n" + TOY, "colour"),
    ],
)
def test_bad_specs_exit_2_with_one_line(tmp_path, capsys, body, message):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(ConfigError):
        O.load_optimise(f)
    assert main(["optimise", str(f), "--out", str(tmp_path / "o"), "--executor", "serial"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "o").exists()


def test_the_documented_example_is_the_stored_result():
    """docs/decision.md quotes docs/optimise-example.json, which `clusterup optimise` wrote for its example."""
    from pathlib import Path

    root = Path(__file__).parents[1]
    d = json.loads((root / "docs" / "optimise-example.json").read_text())
    doc = (root / "docs" / "decision.md").read_text()
    rec = d["recommended"]
    assert f"on the 32 fresh seeds it is **{rec['probability_fresh']:.2f}**" in doc
    for r in d["front"]:
        assert f"| {r['cost']:g} | {r['probability']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}] |" in doc


def test_without_optuna_optimise_says_which_extra_and_writes_nothing(tmp_path, capsys, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_optuna(name, *args, **kwargs):
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError("no optuna here")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    import importlib

    monkeypatch.setattr(importlib, "import_module", lambda name, *a: no_optuna(name))
    f = tmp_path / "toy.toml"
    f.write_text(TOY)
    assert main(["optimise", str(f), "--out", str(tmp_path / "o"), "--executor", "serial"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'clusterup[decision]'" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def _small(tmp_path, trials: int = 4):
    small = TOY.replace("trials = 60", f"trials = {trials}").replace("replicates = 4", "replicates = 2")
    f = tmp_path / "mix.toml"
    f.write_text("steps = 30\nfirms = 40\n" + small.replace("confirm = 8", "confirm = 2"))
    return f


def test_ctrl_c_keeps_the_finished_trials_and_resume_finishes(tmp_path, capsys, monkeypatch):
    import pandas as pd

    spec, out = _small(tmp_path, trials=5), tmp_path / "o"
    real, calls = O.run_candidate, []

    def interrupted(job):
        calls.append(job)
        if len(calls) == 5:  # in the third trial's first run
            raise KeyboardInterrupt
        return real(job)

    monkeypatch.setattr(O, "run_candidate", interrupted)
    assert main(["optimise", str(spec), "--out", str(out), "--executor", "serial", "--quiet"]) == 130
    assert "continue with --resume" in capsys.readouterr().err
    kept = pd.read_parquet(out / "runs.parquet")
    assert len(kept) == 4 and (out / "study.db").is_file()  # the two finished trials' runs
    monkeypatch.setattr(O, "run_candidate", real)
    assert main(["optimise", str(spec), "--out", str(out), "--executor", "serial", "--quiet", "--resume"]) == 0
    assert json.loads((out / "optimise.json").read_text())["trials"] >= 2
    assert len(pd.read_parquet(out / "runs.parquet")) > len(kept)


def test_the_output_folder_follows_the_overwrite_rule(tmp_path, capsys):
    spec, out = _small(tmp_path), tmp_path / "o"
    assert main(["optimise", str(spec), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    mine = out / "notes.txt"  # something the user put there
    mine.write_text("mine")
    assert main(["optimise", str(spec), "--out", str(out), "--executor", "serial", "--quiet", "--overwrite"]) == 0
    assert mine.read_text() == "mine" and (out / "study.db").is_file()  # --overwrite replaces the study only
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.csv").write_text("x")
    for argv, message in ((["--out", str(a_file)], "exists and is not a directory"),
                          (["--out", str(other)], "is not empty and holds no optimise study"),
                          (["--out", str(other), "--overwrite"], "is not empty and holds no optimise study"),
                          (["--out", str(tmp_path / "none"), "--resume"], "holds no study to continue")):  # fmt: skip
        capsys.readouterr()
        assert main(["optimise", str(spec), *argv, "--executor", "serial", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert (other / "data.csv").read_text() == "x" and not (tmp_path / "none").exists()
