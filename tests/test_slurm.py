"""A sweep on a real SLURM cluster (issue 20): .ci/slurm-up starts a one-node cluster (munge, slurmctld,
slurmd on localhost); `--executor slurm` submits the Dask workers as batch jobs with sbatch through
dask-jobqueue. The results equal the local pool's bit for bit, and a worker job cancelled mid-sweep with
scancel loses no run once the sweep is resumed.

Without SLURM these tests are skipped, except where CLUSTERUP_SLURM=1 (set by .ci/run after it started
the cluster): there they fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from clusterup.cli import main


def _slurm_up() -> bool:
    if shutil.which("sinfo") is None:
        return False
    done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
    return done.returncode == 0 and any(s.strip() in ("idle", "mixed", "allocated") for s in done.stdout.split())


pytestmark = pytest.mark.skipif(not _slurm_up() and not os.environ.get("CLUSTERUP_SLURM"),
                                reason="no SLURM cluster here (.ci/slurm-up starts one)")  # fmt: skip


@pytest.fixture
def cluster_config(tmp_path):
    assert _slurm_up(), "SLURM is not running (.ci/slurm-up)"
    path = tmp_path / "slurm.toml"
    path.write_text('queue = "debug"\ncores = 1\nmemory = "1GB"\nwalltime = "00:30:00"\n'
                    f'log_directory = "{tmp_path / "slurm-logs"}"\n')  # fmt: skip
    return path


def _jobs() -> set[str]:
    done = subprocess.run(["squeue", "-h", "-o", "%i %T"], capture_output=True, text=True, timeout=30)
    return {line.split()[0] for line in done.stdout.splitlines() if line.split()[1:] == ["RUNNING"]}


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "clusterup", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def _same_runs(a: Path, b: Path) -> int:
    files = sorted(p.name for p in (a / "runs").glob("run-*.parquet"))
    assert files == sorted(p.name for p in (b / "runs").glob("run-*.parquet"))
    for name in files:
        pd.testing.assert_frame_equal(pd.read_parquet(a / "runs" / name), pd.read_parquet(b / "runs" / name))
    return len(files)


ENSEMBLE = ["ensemble", "lock-in", "baseline", "--steps", "60", "--firms", "120"]


def test_a_sweep_on_slurm_equals_the_local_pool(tmp_path, cluster_config):
    proc = _start([*ENSEMBLE, "--runs", "4", "--executor", "slurm", "--workers", "2", "--cluster-config",
                   str(cluster_config), "--out", "slurm", "--quiet"], tmp_path)  # fmt: skip
    seen: set[str] = set()
    while proc.poll() is None:
        seen |= _jobs()
        time.sleep(0.3)
    assert proc.returncode == 0, proc.stderr.read()
    assert len(seen) >= 2, f"worker jobs seen running: {seen}"  # two batch jobs, submitted with sbatch
    assert main([*ENSEMBLE, "--runs", "4", "--executor", "local", "--out", str(tmp_path / "local"), "--quiet"]) == 0
    assert _same_runs(tmp_path / "slurm", tmp_path / "local") == 8
    assert not _jobs(), "the worker jobs outlived the sweep"


def test_a_cancelled_worker_job_loses_no_run_after_resume(tmp_path, cluster_config):
    args = [*ENSEMBLE, "--runs", "10", "--executor", "slurm", "--workers", "2", "--cluster-config", str(cluster_config),
            "--out", "slurm", "--quiet"]  # fmt: skip
    proc = _start(args, tmp_path)
    runs = tmp_path / "slurm" / "runs"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if len(_jobs()) >= 2 and len(list(runs.glob("run-*.parquet"))) >= 2:
            break
        time.sleep(0.2)
    victim = sorted(_jobs())[0]
    subprocess.run(["scancel", victim], check=True, timeout=30)  # a worker job ends mid-sweep
    proc.wait(600)
    done_before = len(list(runs.glob("run-*.parquet")))
    assert main([*args[:-3], "--out", str(tmp_path / "slurm"), "--resume", "--quiet"]) == 0
    assert main([*ENSEMBLE, "--runs", "10", "--executor", "local", "--out", str(tmp_path / "local"), "--quiet"]) == 0
    assert _same_runs(tmp_path / "slurm", tmp_path / "local") == 20, done_before


def test_bad_cluster_config_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('queue = "debug"\nmemroy = "1GB"\n')
    assert main([*ENSEMBLE, "--runs", "1", "--executor", "slurm", "--cluster-config", str(bad), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "memroy: unknown key; allowed: queue, account" in err
    assert not (tmp_path / "x").exists()
