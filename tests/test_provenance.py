"""Provenance: every run and experiment directory carries an RO-Crate (Process Run Crate profile) that the
rocrate package reads, with every file's SHA-256; `clusterup verify` finds a changed or missing file and
reruns runs to confirm they reproduce bit for bit."""

from __future__ import annotations

import hashlib
import json

import pytest

from clusterup import provenance
from clusterup.cli import main
from clusterup.provenance import CRATE, PROFILE

FAST = ["--steps", "15", "--firms", "40"]


def _graph(d):
    return {e["@id"]: e for e in json.loads((d / CRATE).read_text())["@graph"]}


def test_a_run_carries_a_crate_that_rocrate_reads(tmp_path):
    from rocrate.rocrate import ROCrate

    run = tmp_path / "r"
    assert main(["run", "baseline", "--seed", "4", *FAST, "--set", "spillover.rate=0.5", "--out", str(run), "--quiet"]) == 0
    crate = ROCrate(run)  # the maintained reader accepts it
    assert {e.id for e in crate.data_entities} >= {"config.toml", "timeseries.parquet", "metadata.json", "firms.parquet"}
    g = _graph(run)
    assert {"@id": PROFILE} in g["./"]["conformsTo"]
    for rel in ("config.toml", "timeseries.parquet", "metadata.json"):
        assert g[rel]["sha256"] == hashlib.sha256((run / rel).read_bytes()).hexdigest()
        assert g[rel]["contentSize"] == (run / rel).stat().st_size
    action = g["#run"]
    assert action["@type"] == "CreateAction" and action["startTime"] <= action["endTime"]
    assert json.loads(g["#seeds"]["value"]) == [4]
    assert {"@id": "config.toml"} in action["object"]
    software = g[action["instrument"]["@id"]]
    assert software["name"] == "clusterup" and software["version"]
    names = {g[r["@id"]]["name"] for r in software["softwareRequirements"]}
    assert {"python", "numpy", "pandas", "numba"} <= names
    assert "#machine" in g and "cores" in g["#machine"]["description"]


def test_verify_checks_files_and_reruns(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["run", *FAST, "--out", str(run), "--quiet"]) == 0
    assert main(["verify", str(run)]) == 0
    text = capsys.readouterr().out
    assert "match their SHA-256" in text and "reproduced bit for bit" in text
    (run / "timeseries.csv").write_text((run / "timeseries.csv").read_text() + "0\n")
    assert main(["verify", str(run), "--rerun", "0"]) == 1
    assert "changed: timeseries.csv" in capsys.readouterr().out
    (run / "ties.parquet").unlink()
    assert main(["verify", str(run), "--rerun", "0"]) == 1
    assert "missing: ties.parquet" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "nope")]) == 2


def test_a_changed_result_does_not_reproduce(tmp_path, capsys):
    """A stored time series edited after the run: the checksum says so, and the rerun does not match it."""
    import pandas as pd

    run = tmp_path / "r"
    assert main(["run", *FAST, "--out", str(run), "--quiet"]) == 0
    ts = pd.read_parquet(run / "timeseries.parquet")
    ts.loc[5, "cap_total"] *= 1.0000001
    ts.to_parquet(run / "timeseries.parquet", index=False)
    assert main(["verify", str(run)]) == 1
    out = capsys.readouterr().out
    assert "changed: timeseries.parquet" in out and "does not reproduce" in out


def test_an_experiment_carries_a_crate_and_its_sample_reproduces(tmp_path, capsys):
    from rocrate.rocrate import ROCrate

    d = tmp_path / "e"
    assert main(["ensemble", "lock-in", "baseline", "--runs", "2", *FAST, "--executor", "serial", "--out", str(d),
                 "--quiet"]) == 0  # fmt: skip
    ROCrate(d)
    g = _graph(d)
    assert "experiment.json" in g and "runs.parquet" in g and "results.duckdb" not in g  # derived views: not a record
    assert len(json.loads(g["#seeds"]["value"])) == 2
    assert main(["verify", str(d), "--rerun", "2"]) == 0
    assert capsys.readouterr().out.count("reproduced bit for bit") == 2


@pytest.mark.parametrize("bad", [["--rerun", "-1"], ["--seed", "-3"]])
def test_verify_rejects_bad_flags(tmp_path, capsys, bad):
    assert main(["verify", str(tmp_path), *bad]) == 2


def test_package_versions_are_those_importlib_metadata_gives(monkeypatch):
    """The crate's versions come from the dist-info names on sys.path (fast); importlib.metadata is the reference,
    and the fallback for a package found no other way (here: all of them)."""
    from importlib.metadata import PackageNotFoundError, version

    def reference() -> dict[str, str]:
        out = {}
        for name in provenance.PACKAGES:
            try:
                out[name] = version(name)
            except PackageNotFoundError:
                pass
        return out

    expected = reference()
    assert {"numpy", "numba", "pandas", "pyarrow", "pydantic"} <= set(expected)
    provenance._versions.cache_clear()
    try:
        assert provenance._versions() == expected
        provenance._versions.cache_clear()
        monkeypatch.setattr(provenance, "_dist_info_versions", lambda packages: {})
        assert provenance._versions() == expected
    finally:
        provenance._versions.cache_clear()
