"""CLI success and error paths, through ``main(argv)`` (exit codes, one-line errors, no output)."""

import os
import subprocess
import sys

import pandas as pd
import pytest

from clusterup.cli import main
from clusterup.result import RUN_FILES

FAST = ["--steps", "15", "--firms", "50"]


def test_run_writes_a_complete_rerunnable_run(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "baseline", "--seed", "3", *FAST, "--set", "spillover.social=0.01", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "generations reached" in printed and "firms at the end" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 16 and ts.step.tolist() == list(range(16))
    pd.testing.assert_frame_equal(ts, pd.read_csv(out / "timeseries.csv"), check_dtype=False)
    again = tmp_path / "again"
    assert main(["run", str(out / "config.toml"), "--out", str(again), "--quiet"]) == 0
    pd.testing.assert_frame_equal(ts, pd.read_parquet(again / "timeseries.parquet"))


def test_existing_run_needs_overwrite(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", *FAST, "--out", str(out), "--quiet"]) == 0
    assert main(["run", *FAST, "--out", str(out), "--quiet"]) == 2
    assert "already holds a run; pass --overwrite" in capsys.readouterr().err
    assert main(["run", *FAST, "--seed", "9", "--out", str(out), "--overwrite", "--quiet"]) == 0
    assert '"seed": 9' in (out / "metadata.json").read_text()


BAD = [
    (["run", "--set", "spillover.social=1.7"], "spillover.social must be a number in [0, 1]; got 1.7"),
    (["run", "--set", "spillover.bogus=1"], "unknown key spillover.bogus"),
    (["run", "--set", "market.demand=nan"], "market.demand must be a finite number"),
    (["run", "--set", "run.steps=ten"], "run.steps must be an integer"),
    (["run", "--set", "novalue"], "--set takes key.path=value"),
    (["run", "nosuchpreset"], "unknown scenario 'nosuchpreset'; presets: baseline"),
    (["run", "--seed", "-1"], "run.seed must be an integer >= 0; got -1"),
    (["run", "--steps", "0"], "run.steps must be an integer in [1, 1000000]; got 0"),
    (["run", "--firms", "0"], "run.firms must be an integer in [2, 50000000]; got 0"),
    (["run", "--firms", "40000000"], "needs about"),
    (["run", "--steps", "abc"], "'--steps'"),
    (["run", "--bogus"], "No such option"),
    (["show-config", "nope"], "unknown scenario"),
]


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    code = main([*argv, "--out", str(out)] if argv[0] == "run" else argv)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_malformed_toml_file(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text("[run]\nsteps = \n")
    assert main(["run", str(f), "--out", str(tmp_path / "o")]) == 2
    assert "malformed TOML" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_show_config_prints_rerunnable_toml(tmp_path, capsys):
    assert main(["show-config", "lock-in", "--set", "run.steps=12"]) == 0
    text = capsys.readouterr().out
    assert "[organisations]" in text and "steps = 12" in text
    f = tmp_path / "c.toml"
    f.write_text(text)
    assert main(["run", str(f), "--firms", "40", "--out", str(tmp_path / "o"), "--quiet"]) == 0


def test_scenarios_and_parameters_list(capsys):
    assert main(["scenarios"]) == 0
    text = capsys.readouterr().out
    for name in ("baseline", "lock-in", "policy-pipelines", "path2-early-technology"):
        assert name in text
    assert main(["parameters"]) == 0
    assert "technology.appropriability" in capsys.readouterr().out


def test_console_script_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "clusterup", "run", "--steps", "0"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().startswith("error: run.steps")


def test_plot_writes_figures(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", *FAST, "--out", str(out), "--quiet"]) == 0
    assert main(["plot", str(out)]) == 0
    assert (out / "overview.png").stat().st_size > 10_000 and (out / "overview.svg").read_text().startswith("<?xml")
    assert (out / "figure2.png").stat().st_size > 10_000 and "<svg" in (out / "figure2.svg").read_text()
    assert main(["plot", str(out), "--format", "gif"]) == 2
    assert main(["plot", str(tmp_path)]) == 2
    assert "not a clusterup run" in capsys.readouterr().err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("clusterup ")


_COLLECTOR = """
import gc, sys
import clusterup.entry as entry
from clusterup import Simulation
default = gc.get_threshold()
if sys.argv[1] == "console":
    entry._tune_collector()
    assert gc.get_threshold()[0] == entry._STARTUP_GEN0, gc.get_threshold()
Simulation("baseline", steps=2, firms=40).run()
assert gc.get_threshold() == default, (gc.get_threshold(), default)
print(gc.get_freeze_count() > 0)
"""


@pytest.mark.parametrize("caller, frozen", [("console", "True"), ("library", "False")])
def test_collector_is_tuned_only_for_the_console_script(caller, frozen):
    """The console script collects rarely while importing and freezes start-up's objects when a run begins
    (docs/performance.md, "Start-up"); a library user's collector is left as it was."""
    done = subprocess.run([sys.executable, "-c", _COLLECTOR, caller], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == frozen


_PLUGINS = """
import os, sys
import clusterup.entry as entry
sys.argv = ["clusterup", "scenarios"]
try:
    entry.run()
except SystemExit as stop:
    assert stop.code == 0, stop.code
import pydantic.plugin._loader as loader
print(repr(os.environ.get("PYDANTIC_DISABLE_PLUGINS")), loader._plugins is None)
"""


@pytest.mark.parametrize("preset, seen", [(None, "'__all__' True"), ("", "'' False"), ("logfire", "'logfire' False")])
def test_the_console_script_skips_the_search_for_pydantic_plugins(preset, seen):
    """The console script tells pydantic not to look for plugins (docs/performance.md): the entry points of every
    installed distribution are not read. A variable the user set stands (the empty string brings the search
    back)."""
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if preset is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = preset
    done = subprocess.run([sys.executable, "-c", _PLUGINS], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == seen


def test_analyze_writes_analysis_json(tmp_path, capsys):
    import json

    out = tmp_path / "r"
    assert main(["run", "--steps", "80", "--firms", "80", "--out", str(out), "--quiet"]) == 0
    assert main(["analyze", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "path class:" in printed and "stage" in printed
    report = json.loads((out / "analysis.json").read_text())
    assert report["path_class"] in {"saturation", "upgrade", "path2", "decline-lock-in", "decline-opportunism"}
    assert len(report["stage_per_step"]) == 81 and report["path_points"]["A"] == 0
    assert main(["analyze", str(tmp_path)]) == 2


def test_validate_rejects_bad_flags(tmp_path, capsys):
    assert main(["validate", "--seeds", "0"]) == 2
    assert "--seeds must be an integer >= 1; got 0" in capsys.readouterr().err
    existing = tmp_path / "v.json"
    existing.write_text("{}")
    assert main(["validate", "--seeds", "1", "--out", str(existing)]) == 2
    assert existing.read_text() == "{}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--keys", "local.rate"], "--keys, --factors and --screen-seeds go with --robustness"),
        (["--screen-seeds", "4"], "--keys, --factors and --screen-seeds go with --robustness"),
        (["--robustness", "--screen-seeds", "0"], "--screen-seeds must be an integer >= 1; got 0"),
        (["--robustness", "--keys", "local.rate", "--screen-seeds", "4"], "--screen-seeds sets the Morris screening"),
        (["--robustness", "--keys", "local.bogus"], "--keys: unknown parameter 'local.bogus'"),
        (["--robustness", "--keys", "local.rate", "--factors", "0.8,x"], "--factors must be comma-separated numbers"),
        (["--robustness", "--factors", "1"], "--factors must be numbers in (0, 10] other than 1"),
    ],
)
def test_validate_robustness_sweep_refuses_bad_keys_and_factors(tmp_path, capsys, argv, message):
    out = tmp_path / "r.json"
    assert main(["validate", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_validate_runs_a_tiny_ensemble(tmp_path, capsys):
    import json

    out = tmp_path / "v.json"
    code = main(["validate", "--seeds", "1", "--workers", "1", "--steps", "40", "--firms", "60", "--out", str(out)])
    rows = json.loads(out.read_text())["rows"]
    assert {r["id"] for r in rows} == {"1", "2", "3a", "3b", "4", "5a", "5b", "5c", "6", "7", "8a", "8b", "8c", "4a"}
    assert all(isinstance(r["holds"], bool) for r in rows)
    # one seed cannot reach a Wilson lower bound of 0.7: the command says so and exits 1, having written its results
    assert code == 1 and "do not hold" in capsys.readouterr().err


def test_snapshots_flag_and_figure1(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--steps", "30", "--firms", "60", "--snapshots", "10", "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in (out / "nodes").iterdir())[-1] == "step-000030.parquet"
    assert main(["plot", str(out), "--format", "png"]) == 0
    assert (out / "figure1.png").stat().st_size > 10_000
    assert main(["run", "--snapshots", "-1", "--out", str(tmp_path / "x")]) == 2
    assert "--snapshots must be an integer >= 0" in capsys.readouterr().err and not (tmp_path / "x").exists()
