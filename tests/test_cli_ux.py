"""What a researcher meets at the keyboard (issue 18): tables that fit any terminal, default output names
that do not collide, one overwrite rule, messages that say what is wrong, help with defaults."""

import json
import os

import pandas as pd
import pytest

from clusterup.cli import _print_frame, main

FAST = ["--steps", "12", "--firms", "40"]


@pytest.fixture(scope="module")
def levers(tmp_path_factory):
    """A tiny two-arm ensemble (its runs table has about 40 columns, some of them long seeds)."""
    d = tmp_path_factory.mktemp("exp") / "levers"
    assert main(["ensemble", "lock-in", "baseline", "--runs", "2", "--workers", "1", "--executor", "serial",
                 *FAST, "--out", str(d), "--quiet"]) == 0  # fmt: skip
    return d


@pytest.mark.parametrize("width", [80, 250])
def test_query_table_shows_every_cell_whole_at_any_width(levers, capsys, width, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(width))
    from clusterup.experiments import ExperimentStore

    df = ExperimentStore.open(levers).query("SELECT * FROM runs LIMIT 2")
    _print_frame(df, ".6g", width=width)
    text = capsys.readouterr().out
    assert text.strip(), "blank output"
    for seed in df["seed"]:
        assert str(seed) in text, "a seed was cut"
    for c in df.columns:
        assert c in text
    assert "…" not in text and "r..." not in text
    lines = text.splitlines()
    assert "-[ row 2 ]" in text  # too wide for either terminal: one block per row, nothing cut
    assert max(len(x) for x in lines if not x.startswith(tuple(df.columns))) <= width


def test_a_long_last_text_column_wraps_under_itself(capsys):
    import pandas as pd

    df = pd.DataFrame({"point": ["A", "F"], "step": [0, 46],
                       "marks": ["start", "a higher generation appears before the first S-curve saturates (path 2)"]})  # fmt: skip
    _print_frame(df, ".6g", width=60)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["point", "step", "marks"] and max(len(x) for x in lines) <= 60
    assert lines[3].split()[:2] == ["F", "46"] and lines[4].startswith(" " * 13)  # the rest under the column
    assert lines[3].split()[2:] + lines[4].split() == df["marks"][1].split()  # every word, in order
    _print_frame(df, ".6g", width=30)  # not even 24 characters left for it: one block per row
    assert "-[ row 2 ]" in capsys.readouterr().out


def test_query_narrow_result_is_a_table(levers, capsys):
    assert main(["query", str(levers), "SELECT scenario, count(*) AS n FROM runs GROUP BY 1 ORDER BY 1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["scenario", "n"]
    assert lines[2].split() == ["baseline", "2"] and lines[3].split() == ["lock-in", "2"]
    assert lines[-1] == "(2 rows)"


def test_query_names_the_quoting_of_dotted_columns(levers, capsys):
    assert main(["query", str(levers), "SELECT spillover.rate FROM runs"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and '"spillover.rate"' in err and "Binder" not in err


def test_messages_name_the_real_problem(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", "runs/nope"]) == 2
    assert capsys.readouterr().err.strip() == "error: runs/nope does not exist"
    assert main(["query", "nope", "SELECT 1"]) == 2
    assert capsys.readouterr().err.strip() == "error: nope does not exist"
    assert main(["run", *FAST, "--out", "r", "--quiet"]) == 0
    assert main(["run", "--resume", "r"]) == 2
    assert "that run has finished, there is nothing to resume" in capsys.readouterr().err
    data = tmp_path / "data"
    data.mkdir()
    (data / "firms.csv").write_text("id;size;segment;region\n1;2;0;0\n")
    assert main(["run", "--from-data", str(data), *FAST, "--out", "d"]) == 2
    err = capsys.readouterr().err
    assert "separated by semicolons" in err and err.count("\n") == 1 and not (tmp_path / "d").exists()


def test_default_out_names_what_was_changed_and_never_collides(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "mine.toml"
    scenario.write_text('extends = "baseline"\n')
    assert main(["run", *FAST, "--quiet"]) == 0
    assert main(["run", *FAST, "--quiet"]) == 0  # the same again: a new directory beside it, nothing refused
    assert main(["run", *FAST, "--set", "spillover.rate=0.5", "--quiet"]) == 0
    assert main(["run", str(scenario), *FAST, "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "baseline-firms40-steps12-seed1", "baseline-firms40-steps12-seed1-2",
        "baseline-firms40-steps12-spillover.rate=0.5-seed1", "mine-firms40-steps12-seed1"]  # fmt: skip
    assert main(["run", *FAST, "--overwrite", "--quiet"]) == 0  # --overwrite replaces the name itself
    assert len(list((tmp_path / "runs").iterdir())) == 4


def test_one_overwrite_rule_for_every_command_that_writes(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["run", *FAST, "--snapshots", "6", "--out", str(run), "--quiet"]) == 0
    for argv in (["plot", str(run), "--format", "png"], ["export", str(run)], ["analyze", str(run)],
                 ["report", str(run)]):  # fmt: skip
        assert main(argv) == 0, argv
        written = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "exists" in err and "pass --overwrite to replace it" in err, (argv, err)
        assert {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()} == written  # nothing touched
        assert main([*argv, "--overwrite"]) == 0, argv


def test_analyze_explains_the_path_points(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["run", "--steps", "60", "--firms", "60", "--out", str(run), "--quiet"]) == 0
    assert main(["analyze", str(run)]) == 0
    text = capsys.readouterr().out
    points = json.loads((run / "analysis.json").read_text())["path_points"]
    assert "start" in text and "take-off of the first S-curve" in text
    for name, step in points.items():
        assert any(line.split()[:2] == [name, str(step)] for line in text.splitlines()), name


def test_parameters_filter_layout_and_baseline(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["parameters", "spillover"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("[spillover]\n") and "spillover.rate = 1.0" in text and "[imitation]" not in text
    assert max(len(x) for x in text.splitlines()) <= 80
    assert main(["parameters", "appropriab"]) == 0
    text = capsys.readouterr().out
    assert "technology.appropriability = 0.5" in text
    assert main(["parameters", "--json", "spillover"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"key", "type", "range", "baseline", "description"} == set(rows[0]) and all(
        r["key"].startswith("spillover.") for r in rows)  # fmt: skip
    assert main(["parameters", "zzzz"]) == 2
    assert "no parameter matches 'zzzz'" in capsys.readouterr().err


def test_show_config_comments_every_parameter_and_still_runs(tmp_path, capsys):
    import tomllib

    assert main(["show-config", "lock-in"]) == 0
    text = capsys.readouterr().out
    assert "# How hard knowledge is to copy or leak (0: free, 1: fully private). [a number, in [0, 1]]" in text
    assert main(["show-config", "lock-in", "--plain"]) == 0
    assert tomllib.loads(text) == tomllib.loads(capsys.readouterr().out)
    (tmp_path / "c.toml").write_text(text)
    assert main(["run", str(tmp_path / "c.toml"), *FAST, "--out", str(tmp_path / "r"), "--quiet"]) == 0


def test_help_shows_defaults_and_examples_and_no_type_on_flags(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["run", "--help"]) == 0
    text = capsys.readouterr().out
    assert "<bool>" not in text and "--no-overwrite" not in text
    assert "[default: (the scenario's)]" in text and "Examples:" in text and "clusterup run lock-in --seed 7" in text
    assert "[default: 0]" in text  # --snapshots


def test_completion_is_offered_and_completes(capsys):
    import subprocess
    import sys

    assert main(["--help"]) == 0
    assert "--install-completion" in capsys.readouterr().out
    env = {**os.environ, "_CLUSTERUP_COMPLETE": "complete_bash", "COMP_WORDS": "clusterup ensem", "COMP_CWORD": "1"}
    done = subprocess.run([sys.executable, "-m", "clusterup"], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["ensemble"]


def test_firms_table_names_kinds_and_modes(tmp_path):
    run = tmp_path / "r"
    assert main(["run", *FAST, "--out", str(run), "--quiet"]) == 0
    firms = pd.read_parquet(run / "firms.parquet")
    assert set(firms["kind"].astype(str)) <= {"firm", "university", "institute", "platform", "association"}
    assert "firm" in set(firms["kind"].astype(str)) and "university" in set(firms["kind"].astype(str))
    assert set(firms["mode"].astype(str)) <= {"none", "imitation", "local", "integrated"}
    assert os.path.getsize(run / "firms.parquet") > 0


def test_export_initial_follows_the_overwrite_rule(tmp_path, capsys):
    d = tmp_path / "data"
    assert main(["export-initial", "--firms", "30", "--out", str(d)]) == 0
    assert main(["export-initial", "--firms", "30", "--out", str(d)]) == 2
    assert "holds cluster data; pass --overwrite to replace it" in capsys.readouterr().err
    assert main(["export-initial", "--firms", "40", "--out", str(d), "--overwrite"]) == 0
    assert len(pd.read_parquet(d / "firms.parquet")) == 40
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert main(["export-initial", "--firms", "30", "--out", str(other), "--overwrite"]) == 2
    assert (other / "notes.txt").read_text() == "mine"  # a directory of anything else is never replaced


@pytest.mark.parametrize(("argv", "module", "extra"), [
    (["explore", "--no-browser", "--port", "0"], "solara", "explore"),
    (["ensemble", "baseline", "--runs", "1", "--steps", "5", "--firms", "20", "--executor", "dask-local"], "distributed", "dask"),
])  # fmt: skip
def test_a_missing_extra_is_named_in_one_line(tmp_path, capsys, monkeypatch, argv, module, extra):
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed: importing it raises ImportError
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"pip install 'clusterup[{extra}]'" in err
    assert not (tmp_path / "experiments").exists()


def test_the_core_imports_no_optional_stack():
    import subprocess
    import sys

    optional = ("solara", "dask", "distributed", "dask_jobqueue", "requests", "rocrate")
    code = ("import sys, clusterup, clusterup.cli, clusterup.experiments, clusterup.report, clusterup.plots; "
            f"print(sorted(m for m in {optional!r} if m in sys.modules))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
