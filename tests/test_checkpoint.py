"""Checkpoints: resume gives exactly the uninterrupted time series, also after SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

import clusterup
from clusterup import Simulation, checkpoint
from clusterup.cli import main


def test_resume_in_process_is_bit_identical(tmp_path):
    whole = clusterup.simulate("baseline", seed=5, steps=60, firms=100)
    sim = Simulation("baseline", seed=5, steps=60, firms=100)
    for _ in range(23):
        sim.step()
    checkpoint.save(sim, tmp_path / "run")
    for _ in range(10):  # the run goes on past its checkpoint, then dies
        sim.step()
    resumed = checkpoint.load(tmp_path / "run").run()
    pd.testing.assert_frame_equal(resumed.timeseries, whole.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(resumed.generations, whole.generations, check_exact=True)
    pd.testing.assert_frame_equal(resumed.lifecycles, whole.lifecycles, check_exact=True)
    assert resumed.lifecycles["exited"].notna().any()  # exits before and after the checkpoint are recorded


def test_checkpoint_file_holds_no_pickle(tmp_path):
    import numpy as np

    sim = Simulation("lock-in", seed=2, steps=10, firms=40)
    for _ in range(4):
        sim.step()
    d = checkpoint.save(sim, tmp_path / "run")
    with np.load(d / "arrays.npz", allow_pickle=False) as arrays:  # would raise on object arrays
        assert all(arrays[k].dtype != object for k in arrays.files)
    assert sorted(p.name for p in d.iterdir()) == ["arrays.npz", "config.toml", "meta.json"]


def test_cli_checkpointed_run_finishes_as_a_normal_run(tmp_path):
    out = tmp_path / "r"
    assert main(["run", "--steps", "40", "--firms", "60", "--checkpoint-every", "10", "--out", str(out), "--quiet"]) == 0
    assert not (out / "checkpoint").exists() and (out / "metadata.json").exists()
    plain = tmp_path / "p"
    assert main(["run", "--steps", "40", "--firms", "60", "--out", str(plain), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "timeseries.parquet"), pd.read_parquet(plain / "timeseries.parquet"))


def test_resume_errors(tmp_path, capsys):
    assert main(["run", "--resume", str(tmp_path)]) == 2
    assert "no checkpoint there" in capsys.readouterr().err
    sim = Simulation("baseline", seed=1, steps=20, firms=40)
    sim.step()
    checkpoint.save(sim, tmp_path / "u")
    assert main(["run", "--resume", str(tmp_path / "u"), "--seed", "4"]) == 2
    assert "drop --seed" in capsys.readouterr().err
    assert main(["run", "--out", str(tmp_path / "u"), "--steps", "5"]) == 2  # an unfinished run is not overwritten silently
    assert "holds an unfinished run" in capsys.readouterr().err
    assert (tmp_path / "u" / "checkpoint").is_dir()
    assert main(["run", "--checkpoint-every", "-2"]) == 2


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path):
    out = tmp_path / "killed"
    args = ["run", "baseline", "--seed", "9", "--steps", "400", "--firms", "150", "--checkpoint-every", "25"]
    proc = subprocess.Popen([sys.executable, "-m", "clusterup", *args, "--out", str(out), "--quiet"])
    meta = out / "checkpoint" / "meta.json"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            if json.loads(meta.read_text())["step"] >= 50:
                break
        except (FileNotFoundError, ValueError):  # not written yet, or swapped while we looked
            pass
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "metadata.json").exists()  # nothing that looks complete
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    full = tmp_path / "full"
    assert main([*args[:-2], "--out", str(full), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "timeseries.parquet"), pd.read_parquet(full / "timeseries.parquet"))
