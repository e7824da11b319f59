import json

import pandas as pd
import pytest

from clusterup import Result, simulate
from clusterup.errors import ConfigError, OutputExistsError
from clusterup.result import RUN_FILES


@pytest.fixture(scope="module")
def result():
    return simulate("baseline", seed=8, steps=25, firms=60)


def test_save_load_round_trip(tmp_path, result):
    d = result.save(tmp_path / "run")
    assert sorted(p.name for p in d.iterdir()) == sorted(RUN_FILES)
    back = Result.load(d)
    pd.testing.assert_frame_equal(back.timeseries, result.timeseries)
    assert back.params == result.params
    assert back.metadata["seed"] == 8
    assert set(back.ties.layer.unique()) <= {"social", "economic", "knowledge"}
    assert len(back.firms) == (result.firms.kind >= 0).sum()
    assert {"clusterup_version", "platform", "python"} <= set(json.loads((d / "metadata.json").read_text()))


def test_final_state_matches_last_row(result):
    firms = result.firms[result.firms.kind == 0]
    assert len(firms) == result.final.n_firms
    assert firms.capability.sum() == pytest.approx(result.final.cap_total)
    assert len(result.ties[result.ties.layer == "social"]) == result.final.social_ties


def test_existing_run_is_refused_then_overwritten_atomically(tmp_path, result):
    d = tmp_path / "run"
    result.save(d)
    with pytest.raises(OutputExistsError):
        result.save(d)
    result.save(d, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary directories left


def test_a_users_directory_is_never_replaced(tmp_path, result):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "notes.txt").write_text("precious")
    with pytest.raises(ConfigError, match="not a clusterup run"):
        result.save(d, overwrite=True)
    assert (d / "notes.txt").read_text() == "precious"


def test_load_rejects_a_non_run(tmp_path):
    with pytest.raises(ConfigError, match="not a clusterup run"):
        Result.load(tmp_path)


def test_snapshots_every_k_steps_and_at_the_end_round_trip(tmp_path):
    from clusterup import Simulation

    res = Simulation("baseline", seed=4, steps=25, firms=60, snapshot_every=10).run()
    assert sorted(res.snapshots) == [0, 10, 20, 25]
    nodes, ties = res.snapshots[25]
    pd.testing.assert_frame_equal(ties, res.ties)  # the last snapshot is the final network
    assert set(nodes.columns) == {"id", "kind", "capability", "generation", "segment", "mode", "x", "y"}
    assert ties.source.isin(nodes.id).all() and ties.target.isin(nodes.id).all()
    assert (
        len(res.snapshots[20][1])
        == res.timeseries.set_index("step").loc[20, ["social_ties", "economic_ties", "knowledge_ties"]].sum()
    )
    d = res.save(tmp_path / "run")
    assert sorted(p.name for p in (d / "networks").iterdir()) == [f"step-{s:06d}.parquet" for s in (0, 10, 20, 25)]
    back = Result.load(d)
    for step in res.snapshots:
        pd.testing.assert_frame_equal(back.snapshots[step][1], res.snapshots[step][1])
        pd.testing.assert_frame_equal(back.snapshots[step][0], res.snapshots[step][0])
