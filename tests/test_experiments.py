"""Experiments: designs, storage and DuckDB views, executors, resume, failures, bands, sensitivity, calibration."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clusterup import experiments as ex
from clusterup.cli import main
from clusterup.errors import ConfigError


def sweep_file(tmp_path: Path, body: str, name: str = "sw.toml") -> Path:
    p = tmp_path / name
    p.write_text(body)
    return p


GRID = """scenario = "baseline"
replicates = 2
seed = 777
steps = 12
firms = 40
[design]
kind = "grid"
[design.parameters]
"spillover.rate" = [0.1, 0.3]
"imitation.rate" = [0.2, 0.4, 0.6]
"""


# ------------------------------------------------------------------------------------------------
# designs


def test_grid_is_the_product_and_replicates_share_seeds(tmp_path):
    spec, base = ex.load_sweep(sweep_file(tmp_path, GRID))
    plan = ex.make_plan(spec, base)
    assert len(plan.arms) == 6 and len(plan.runs) == 12
    assert {(a["spillover.rate"], a["imitation.rate"]) for a in plan.arms} == {(s, i) for s in (0.1, 0.3) for i in (0.2, 0.4, 0.6)}
    assert plan.varied == ["spillover.rate", "imitation.rate"]
    for r in plan.runs:  # common random numbers: replicate r has the same seed in every arm
        assert r.seed == plan.seeds[r.replicate]
    assert plan.seeds[0] != plan.seeds[1]
    assert plan.arm_label(0) == "spillover.rate=0.1, imitation.rate=0.2"


@pytest.mark.parametrize("kind", ["lhs", "sobol"])
def test_sampled_designs_stay_in_range_and_round_integers(tmp_path, kind):
    body = f"""scenario = "baseline"
seed = 3
[design]
kind = "{kind}"
samples = 16
[design.parameters]
"local.rate" = [0.1, 0.5]
"rd_learning.peers" = [1, 6]
"""
    spec, base = ex.load_sweep(sweep_file(tmp_path, body))
    plan = ex.make_plan(spec, base)
    rates = np.array([a["local.rate"] for a in plan.arms])
    peers = [a["rd_learning.peers"] for a in plan.arms]
    assert len(plan.arms) == 16 and rates.min() >= 0.1 and rates.max() <= 0.5
    assert all(isinstance(p, int) and 1 <= p <= 6 for p in peers)
    # space-filling: every quarter of the rate range holds some points (16 points, 4 strata)
    assert set(np.floor((rates - 0.1) / 0.1).astype(int)) == {0, 1, 2, 3}
    assert ex.make_plan(spec, base).to_json() == plan.to_json()  # same seed, same design


BAD_SWEEPS = [
    ('[design]\nkind = "grid"\n[design.parameters]\n"spillover.bogus" = [1]\n', "unknown parameter 'spillover.bogus'"),
    (
        '[design]\nkind = "grid"\n[design.parameters]\n"spillover.rate" = [0.1, 99.0]\n',
        "spillover.rate must be a number in [0, 10]",
    ),
    (
        '[design]\nkind = "lhs"\n[design.parameters]\n"local.rate" = [0.1, 0.5]\n',
        "design.samples: a lhs design needs a sample count",
    ),
    ('[design]\nkind = "lhs"\nsamples = 4\n[design.parameters]\n"local.rate" = [0.5, 0.1]\n', "low < high"),
    ('[design]\nkind = "sobol"\nsamples = 4\n[design.parameters]\n"local.rate" = [0.1, 20.0]\n', "leaves the allowed interval"),
    ('[design]\nkind = "cube"\n', "design.kind"),
    ("replicates = 0\n", "replicates"),
    ("seed = 1.5\n", "seed"),
    ("bogus = 1\n", "bogus"),
    ('scenario = "nope"\n', "unknown scenario 'nope'"),
    ("replicates = \n", "malformed TOML"),
]


@pytest.mark.parametrize(("body", "message"), BAD_SWEEPS)
def test_bad_sweep_files_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, body, message):
    f = sweep_file(tmp_path, body)
    out = tmp_path / "out"
    assert main(["sweep", str(f), "--out", str(out), "--executor", "serial", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_bad_executor_flags_exit_2(tmp_path, capsys):
    f = sweep_file(tmp_path, GRID)
    for flags, message in (
        (["--executor", "pbs"], "--executor must be one of local, dask-local, dask, slurm, mpi, serial"),
        (["--workers", "0"], "--workers must be an integer >= 1"),
        (["--executor", "dask"], "--executor dask needs --address"),
        (["--address", "tcp://127.0.0.1:1"], "--address applies to --executor dask only"),
    ):
        assert main(["sweep", str(f), "--out", str(tmp_path / "o"), *flags, "--quiet"]) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------------------------
# running, storage, query


def test_sweep_writes_runs_and_duckdb_views(tmp_path, capsys):
    out = tmp_path / "exp"
    assert main(["sweep", str(sweep_file(tmp_path, GRID)), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    assert len(list((out / "runs").glob("run-*.parquet"))) == 12
    store = ex.ExperimentStore.open(out)
    runs = store.query("SELECT * FROM runs ORDER BY run_id")
    assert runs["run_id"].tolist() == list(range(12)) and (runs["status"] == "ok").all()
    assert {"spillover.rate", "imitation.rate", "seed", "final_cap_total", "first_new_generation"} <= set(runs.columns)
    n = store.query("SELECT count(*) AS n, count(DISTINCT run_id) AS r FROM timeseries")
    assert n["n"][0] == 12 * 13 and n["r"][0] == 12
    # final indicators in the runs view are the last rows of the time series
    last = store.query("SELECT run_id, cap_total FROM timeseries WHERE step = 12 ORDER BY run_id")
    np.testing.assert_allclose(last["cap_total"], runs["final_cap_total"])
    capsys.readouterr()
    assert main(["query", str(out), 'SELECT "imitation.rate", count(*) AS n FROM runs GROUP BY 1 ORDER BY 1', "--csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["imitation.rate,n", "0.2,4", "0.4,4", "0.6,4"]
    assert main(["query", str(out), "SELECT nope FROM runs"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: query:") and err.count("\n") == 1
    # an experiment directory is not replaced without asking, nor mixed with another plan
    assert main(["sweep", str(sweep_file(tmp_path, GRID)), "--out", str(out), "--executor", "serial", "--quiet"]) == 2
    assert "pass --resume to finish it or --overwrite" in capsys.readouterr().err
    other = sweep_file(tmp_path, GRID.replace("seed = 777", "seed = 778"), "other.toml")
    assert main(["sweep", str(other), "--out", str(out), "--resume", "--executor", "serial", "--quiet"]) == 2
    assert "holds a different experiment" in capsys.readouterr().err


def test_the_issue_example_runs_and_plots(tmp_path, capsys):
    body = 'scenario = "baseline"\nreplicates = 3\nseed = 777\nsteps = 20\n[design]\nkind = "grid"\n'
    body += '[design.parameters]\n"spillover.rate" = [0.1, 0.3]\n'
    out = tmp_path / "exp"
    assert main(["sweep", str(sweep_file(tmp_path, body)), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    assert main(["plot", str(out), "--format", "png", "--indicator", "cap_total", "--indicator", "gap_cv"]) == 0
    assert (out / "bands.png").stat().st_size > 10_000
    assert main(["plot", str(out), "--indicator", "nonsense"]) == 2


def _all_series(out: Path) -> pd.DataFrame:
    return ex.ExperimentStore.open(out).query("SELECT * FROM timeseries ORDER BY run_id, step")


def test_results_identical_across_executors_and_worker_counts(tmp_path):
    """serial, a process pool of 1 and of 2, a Dask LocalCluster, an existing Dask cluster by address."""
    from distributed import LocalCluster

    f = sweep_file(tmp_path, GRID)
    ref = tmp_path / "serial"
    assert main(["sweep", str(f), "--out", str(ref), "--executor", "serial", "--quiet"]) == 0
    expected = _all_series(ref)
    arms = [("local1", ["--executor", "local", "--workers", "1"]), ("local2", ["--executor", "local", "--workers", "2"]),
            ("dasklocal", ["--executor", "dask-local", "--workers", "2"])]  # fmt: skip
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", host="127.0.0.1") as cluster:
        arms.append(("dask", ["--executor", "dask", "--address", cluster.scheduler_address]))
        for name, flags in arms:
            assert main(["sweep", str(f), "--out", str(tmp_path / name), *flags, "--quiet"]) == 0
            pd.testing.assert_frame_equal(_all_series(tmp_path / name), expected, obj=name)


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    import clusterup.simulation as simulation

    real = simulation.simulate
    spec, base = ex.load_sweep(sweep_file(tmp_path, GRID))
    plan = ex.make_plan(spec, base)
    bad_seed = plan.seeds[1]

    def flaky(*args, **kwargs):
        if kwargs.get("seed") == bad_seed and kwargs["overrides"]["imitation.rate"] == 0.4:
            raise FloatingPointError("synthetic failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(simulation, "simulate", flaky)
    store = ex.ExperimentStore.create(tmp_path / "exp", plan)
    counts = ex.run_plan(store, _serial())
    assert counts == {"total": 12, "already": 0, "ran": 12, "failed": 2}
    runs = store.query("SELECT run_id, status, error, final_cap_total FROM runs ORDER BY run_id")
    failed = runs[runs.status == "failed"]
    assert len(failed) == 2 and failed["error"].str.startswith("FloatingPointError: synthetic failure").all()
    assert failed["final_cap_total"].isna().all() and runs.loc[runs.status == "ok", "final_cap_total"].notna().all()
    assert store.query("SELECT count(DISTINCT run_id) AS r FROM timeseries")["r"][0] == 10


def _serial():
    return ex.SerialExecutor()


def test_interrupt_keeps_finished_runs_and_resume_finishes(tmp_path):
    spec, base = ex.load_sweep(sweep_file(tmp_path, GRID))
    plan = ex.make_plan(spec, base)
    store = ex.ExperimentStore.create(tmp_path / "exp", plan)

    def ctrl_c(done, total):
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ex.run_plan(store, _serial(), progress=ctrl_c)
    assert len(store.finished_ids()) == 5
    assert store.query("SELECT count(*) AS n FROM runs")["n"][0] == 5  # views rebuilt on the way out
    before = {p.name: p.stat().st_mtime_ns for p in (store.runs_dir).glob("run-*")}
    store = ex.ExperimentStore.create(tmp_path / "exp", plan, resume=True)
    counts = ex.run_plan(store, _serial())
    assert counts["already"] == 5 and counts["ran"] == 7
    after = {p.name: p.stat().st_mtime_ns for p in (store.runs_dir).glob("run-*")}
    assert all(after[k] == v for k, v in before.items())  # finished runs were not written again


def test_sigkill_then_resume_equals_an_uninterrupted_sweep(tmp_path):
    """Kill -9 a real `clusterup sweep` mid-way; --resume completes it with no run lost or written twice."""
    body = GRID.replace("replicates = 2", "replicates = 4").replace("steps = 12", "steps = 40")
    f = sweep_file(tmp_path, body)
    ref = tmp_path / "ref"
    assert main(["sweep", str(f), "--out", str(ref), "--executor", "serial", "--quiet"]) == 0
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "clusterup", "sweep", str(f), "--out", str(out), "--executor", "serial", "--quiet"]
    proc = subprocess.Popen(cmd, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "runs").glob("run-*.json"))) < 6:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list((out / "runs").glob("run-*.json")))
    assert 6 <= finished < 24, "the kill should land mid-sweep"
    kept = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("run-*.json")}
    assert main(["sweep", str(f), "--out", str(out), "--resume", "--executor", "serial", "--quiet"]) == 0
    records = [json.loads(p.read_text()) for p in sorted((out / "runs").glob("run-*.json"))]
    assert sorted(r["run_id"] for r in records) == list(range(24))
    assert all((out / "runs" / k).stat().st_mtime_ns == v for k, v in kept.items())
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".")]  # no temporary files left
    pd.testing.assert_frame_equal(_all_series(out), _all_series(ref))


def test_ensemble_compares_scenarios_with_common_seeds(tmp_path, capsys):
    out = tmp_path / "ens"
    args = ["ensemble", "lock-in", "policy-pipelines", "--runs", "3", "--seed", "5", "--steps", "15", "--firms", "40"]
    assert main([*args, "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    runs = ex.ExperimentStore.open(out).query("SELECT scenario, seed, replicate FROM runs ORDER BY scenario, replicate")
    assert runs["scenario"].tolist() == ["lock-in"] * 3 + ["policy-pipelines"] * 3
    assert runs["seed"][:3].tolist() == runs["seed"][3:].tolist()
    assert main([*args, "--out", str(tmp_path / "x"), "--runs", "0"]) == 2


# ------------------------------------------------------------------------------------------------
# summaries


def test_bands_are_the_mean_and_student_t_interval():
    ts = pd.DataFrame({"arm": [0, 0, 0, 0, 1, 1], "step": [0, 0, 1, 1, 0, 1], "cap_total": [1.0, 3.0, 2.0, 2.0, 5.0, 6.0]})
    b = ex.bands(ts, "cap_total", 0.95).set_index(["arm", "step"])
    assert b.loc[(0, 0), "mean"] == 2.0
    # sd = sqrt(2), n = 2, sem = 1, t(0.975, 1) = 12.706
    assert b.loc[(0, 0), "hi"] == pytest.approx(2.0 + 12.7062, abs=1e-3)
    assert b.loc[(0, 1), "lo"] == b.loc[(0, 1), "hi"] == 2.0  # no spread
    assert b.loc[(1, 0), "lo"] == b.loc[(1, 0), "hi"] == 5.0  # one replicate: the band collapses
    with pytest.raises(ConfigError, match="not a time-series column"):
        ex.bands(ts, "bogus")


# ------------------------------------------------------------------------------------------------
# sensitivity and calibration

SA = """scenario = "baseline"
seed = 1
steps = 40
firms = 60
method = "{method}"
samples = {samples}
outputs = ["final.cap_total", "first_new_generation"]
[parameters]
"spillover.rate" = [0.2, 2.0]
"local.rate" = [0.1, 0.5]
"""


def test_morris_ranks_the_growth_rate_above_spillover_intensity(tmp_path, capsys):
    """Local innovation's growth rate drives capability far more than spillover intensity (mu* > 5x)."""
    f = sweep_file(tmp_path, SA.format(method="morris", samples=4), "sa.toml")
    out = tmp_path / "sa"
    assert main(["sensitivity", str(f), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    table = pd.read_csv(out / "sensitivity.csv")
    cap = table[table.output == "final.cap_total"].set_index("parameter")
    assert cap.loc["local.rate", "mu_star"] > 5 * cap.loc["spillover.rate", "mu_star"]
    assert (cap["mu_star_conf"] >= 0).all() and (out / "sensitivity.png").is_file()
    assert len(ex.ExperimentStore.open(out).records()) == 4 * 3  # N (D + 1) runs, all queryable


def test_sobol_indices_and_bad_sensitivity_files(tmp_path, capsys):
    f = sweep_file(tmp_path, SA.format(method="sobol", samples=4).replace("steps = 40", "steps = 25"), "s.toml")
    out = tmp_path / "s"
    assert main(["sensitivity", str(f), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    table = pd.read_csv(out / "sensitivity.csv")
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(table.columns) and len(table) == 4
    for body, message in (
        (SA.format(method="fast", samples=4), "method"),
        (SA.format(method="morris", samples=4).replace("final.cap_total", "final.bogus"), "output 'final.bogus'"),
        (SA.format(method="morris", samples=4).replace('"local.rate" = [0.1, 0.5]', ""), "at least two parameters"),
    ):
        g = sweep_file(tmp_path, body, "bad.toml")
        assert main(["sensitivity", str(g), "--out", str(tmp_path / "b"), "--quiet"]) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "b").exists()


def test_abc_smc_recovers_a_known_growth_rate(tmp_path, capsys):
    """Synthetic data from local.rate = 0.25 (seed 99, 100 firms): the posterior's 90% interval holds it
    and its mean is within 0.08. 30 particles x 3 generations; the prior is [0.05, 0.8]."""
    from clusterup import simulate

    truth = simulate("baseline", seed=99, steps=60, firms=100, overrides={"local.rate": 0.25}).timeseries
    obs = truth[["step", "cap_mean"]].rename(columns={"cap_mean": "value"}).iloc[::3]
    obs.to_csv(tmp_path / "obs.csv", index=False)
    body = 'scenario = "baseline"\nseed = 5\nfirms = 100\nobserved = "obs.csv"\nindicator = "cap_mean"\n'
    body += 'particles = 30\ngenerations = 3\n[parameters]\n"local.rate" = [0.05, 0.8]\n'
    out = tmp_path / "cal"
    assert main(["calibrate", str(sweep_file(tmp_path, body, "cal.toml")), "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "calibration.json").read_text())
    s = report["summary"]["local.rate"]
    assert s["q05"] <= 0.25 <= s["q95"] and abs(s["mean"] - 0.25) < 0.08
    assert report["tolerances"] == sorted(report["tolerances"], reverse=True)
    post = pd.read_csv(out / "posterior.csv")
    kept = post.groupby("generation").size()
    assert kept[0] == 15 and all(3 <= k <= 15 for k in kept)  # half the prior draws; later ones within the tolerance
    assert (post.groupby("generation")["distance"].max() <= np.array(report["tolerances"]) + 1e-12).all()
    assert (out / "fit.png").is_file()
    # bad observed data: one line naming the file, row and column
    (tmp_path / "obs.csv").write_text("step,value\n0,0.1\n1,abc\n")
    assert main(["calibrate", str(tmp_path / "cal.toml"), "--out", str(tmp_path / "c2")]) == 2
    assert "row 3, column 'value': not a finite number" in capsys.readouterr().err


def test_replicates_are_compared_by_their_mean_series(tmp_path, capsys):
    """With replicates, a proposal's distance is that of its replicates' mean series (never above the mean
    of their distances: the RMS is a norm); "mean_distance" keeps the mean of the distances."""
    from clusterup.experiments import calibrate as cal

    obs = pd.DataFrame({"step": [1, 2, 3, 4], "value": [1.0, 2.0, 3.0, 5.0]})
    rng = np.random.default_rng(0)
    for _ in range(50):
        runs = [obs["value"].to_numpy() + rng.normal(0, 1, 4) for _ in range(3)]
        mean_d = np.mean([cal.series_distance(r, obs) for r in runs])
        assert cal.series_distance(np.mean(runs, axis=0), obs) <= mean_d + 1e-12
    from clusterup import simulate

    truth = simulate("baseline", seed=3, steps=30, firms=40).timeseries
    truth[["step", "cap_mean"]].rename(columns={"cap_mean": "value"}).iloc[::3].to_csv(tmp_path / "obs.csv", index=False)
    head = 'scenario = "baseline"\nseed = 5\nfirms = 40\nsteps = 30\nobserved = "obs.csv"\nindicator = "cap_mean"\n'
    head += "particles = 8\ngenerations = 1\nreplicates = 3\n"
    tail = '[parameters]\n"local.rate" = [0.05, 0.8]\n'
    got = {}
    for mode in ("mean_series", "mean_distance"):
        f = sweep_file(tmp_path, head + f'replicate_distance = "{mode}"\n' + tail, f"{mode}.toml")
        assert main(["calibrate", str(f), "--out", str(tmp_path / mode), "--quiet"]) == 0
        got[mode] = pd.read_csv(tmp_path / mode / "posterior.csv").sort_values("local.rate", ignore_index=True)
    # the same proposals (one generation, same seed) at most as far by their mean series
    both = got["mean_series"].merge(got["mean_distance"], on="local.rate", suffixes=("_s", "_d"))
    assert len(both) >= 1 and (both["distance_s"] <= both["distance_d"] + 1e-12).all()
    f = sweep_file(tmp_path, head + 'replicate_distance = "median"\n' + tail, "bad.toml")
    assert main(["calibrate", str(f), "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    assert "replicate_distance" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["sweep", "sensitivity", "calibrate"])
def test_an_unreadable_experiment_file_exits_2(tmp_path, capsys, command):
    f = tmp_path / "bad.toml"
    f.write_bytes(b"\xff\xfe\x00 not utf-8")
    assert main([command, str(f), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{command if command != 'calibrate' else 'calibration'} file" in err and "cannot read it" in err
    assert err.count("\n") == 1 and not (tmp_path / "o").exists()


def test_calibration_resumes_to_the_same_posterior_and_is_plotted_reported_and_queried(tmp_path, capsys):
    """Ctrl-C in the second generation keeps the first; --resume then ends with exactly the posterior of
    a calibration that was never stopped. The directory is then drawn, reported and queried."""
    from clusterup import simulate
    from clusterup.errors import Interrupted
    from clusterup.experiments.calibrate import run_calibration

    truth = simulate("baseline", seed=9, steps=30, firms=40, overrides={"local.rate": 0.3}).timeseries
    truth[["step", "cap_mean"]].rename(columns={"cap_mean": "value"}).iloc[::3].to_csv(tmp_path / "obs.csv", index=False)
    body = 'scenario = "baseline"\nseed = 2\nfirms = 40\nobserved = "obs.csv"\nindicator = "cap_mean"\n'
    body += 'particles = 8\ngenerations = 3\n[parameters]\n"local.rate" = [0.05, 0.8]\n'
    cal = sweep_file(tmp_path, body, "cal.toml")
    whole, _ = run_calibration(cal, tmp_path / "whole", executor="serial")

    def stop(done, total):
        if done == 12:  # in the second generation
            raise KeyboardInterrupt

    with pytest.raises(Interrupted, match="1 of 3 generations kept"):
        run_calibration(cal, tmp_path / "cut", executor="serial", progress=stop)
    assert (tmp_path / "cut" / "abc-checkpoint.json").is_file() and not (tmp_path / "cut" / "calibration.json").exists()
    assert main(["calibrate", str(cal), "--out", str(tmp_path / "cut"), "--quiet"]) == 2
    assert "holds an interrupted calibration; pass --resume" in capsys.readouterr().err
    assert main(["calibrate", str(cal), "--out", str(tmp_path / "cut"), "--resume", "--executor", "serial", "--quiet"]) == 0
    read = lambda name: pd.read_csv(tmp_path / name / "posterior.csv")  # noqa: E731
    pd.testing.assert_frame_equal(read("cut"), read("whole"))
    assert not (tmp_path / "cut" / "abc-checkpoint.json").exists()
    assert main(["calibrate", str(cal), "--out", str(tmp_path / "cut"), "--resume"]) == 2
    assert "finished calibration; nothing to resume" in capsys.readouterr().err
    d = tmp_path / "cut"
    assert main(["plot", str(d), "--format", "png"]) == 0
    assert (d / "calibration-fit.png").is_file() and (d / "posterior.png").is_file()
    assert main(["report", str(d)]) == 0
    page = (d / "report.html").read_text()
    assert "posterior mean" in page and "local.rate" in page and page.count("<img") == 2
    capsys.readouterr()
    assert main(["query", str(d), "SELECT generation, count(*) AS n FROM posterior GROUP BY 1 ORDER BY 1", "--csv"]) == 0
    rows = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert rows["generation"].tolist() == [0, 1, 2]
    assert main(["query", str(d), "SELECT count(DISTINCT draw) AS n FROM predictive WHERE draw <> 'best'", "--csv"]) == 0
    assert int(capsys.readouterr().out.split()[-1]) >= 1
    from clusterup.experiments.calibrate import calibration_figure, posterior_figure
    from clusterup.plots.style import figure_problems

    assert figure_problems(calibration_figure(d)) == [] and figure_problems(posterior_figure(d)) == []
