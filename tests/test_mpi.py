"""`--executor mpi`: mpi4py.futures' MPIPoolExecutor under Debian's Open MPI with two ranks (rank 0 runs
the command, rank 1 the runs) gives the local pool's results bit for bit. Skipped without mpiexec and
mpi4py, except where CLUSTERUP_MPI=1 (.ci/run): there it fails."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from clusterup.cli import main

HAVE = shutil.which("mpiexec") is not None and importlib.util.find_spec("mpi4py") is not None
pytestmark = pytest.mark.skipif(not HAVE and not os.environ.get("CLUSTERUP_MPI"), reason="no MPI here")
ENSEMBLE = ["ensemble", "lock-in", "baseline", "--runs", "2", "--steps", "40", "--firms", "80"]


def test_mpi_ranks_give_the_local_pools_results(tmp_path):
    assert HAVE, "mpiexec or mpi4py missing (.ci/run installs Debian's openmpi-bin; the test extra brings mpi4py)"
    root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    cmd = ["mpiexec", *root, "--oversubscribe", "-n", "2", sys.executable, "-m", "mpi4py.futures", "-m", "clusterup",
           *ENSEMBLE, "--executor", "mpi", "--out", str(tmp_path / "mpi"), "--quiet"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert main([*ENSEMBLE, "--executor", "local", "--out", str(tmp_path / "local"), "--quiet"]) == 0
    names = sorted(p.name for p in (tmp_path / "local" / "runs").glob("run-*.parquet"))
    assert len(names) == 4 and names == sorted(p.name for p in (tmp_path / "mpi" / "runs").glob("run-*.parquet"))
    for name in names:
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "mpi" / "runs" / name),
                                      pd.read_parquet(tmp_path / "local" / "runs" / name))  # fmt: skip


def test_mpi_outside_mpiexec_says_how_to_start_it(tmp_path, capsys):
    assert HAVE
    assert main([*ENSEMBLE, "--executor", "mpi", "--out", str(tmp_path / "x")]) == 2
    assert "mpiexec -n N python -m mpi4py.futures -m clusterup" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
