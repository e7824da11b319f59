import json

import numpy as np
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
    pd.testing.assert_frame_equal(back.firms, result.firms)
    # kind and mode are named categories in the file, not the state's integer codes
    assert set(back.firms["kind"].cat.categories) == {"firm", "university", "institute", "platform", "association"}
    assert set(back.firms["mode"].astype(str)) <= {"none", "imitation", "local", "integrated"}
    assert {"clusterup_version", "platform", "python"} <= set(json.loads((d / "metadata.json").read_text()))


def test_final_state_matches_last_row(result):
    firms = result.firms[result.firms.kind == "firm"]
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


def test_generation_counts_are_saved_and_give_adoption_curves(tmp_path):
    from clusterup import simulate
    from clusterup.plots.adoption import adoption_shares
    from clusterup.result import Result

    res = simulate("baseline", seed=1, steps=120, firms=120)
    g = res.generations
    per_step = g.groupby("step")["firms"].sum()
    assert per_step.tolist() == res.timeseries["n_firms"].tolist()  # every firm counted once per step
    top = g[g.firms > 0].groupby("step")["generation"].max()
    assert top.tolist() == res.timeseries["gen_max"].tolist()
    res.save(tmp_path / "r")
    assert Result.load(tmp_path / "r").generations.equals(g)
    shares = adoption_shares(g)
    if len(shares.columns):
        np.testing.assert_allclose(shares[1].to_numpy(), res.timeseries["gen_adopted"].to_numpy())
        assert (shares.diff(axis=1).iloc[:, 1:] <= 1e-12).all().all()  # at-or-above shares fall with g


def test_adoption_shares_on_a_hand_made_table():
    import pandas as pd

    from clusterup.plots.adoption import adoption_shares

    g = pd.DataFrame({"step": [0, 0, 1, 1, 1], "generation": [0, 1, 0, 1, 2], "firms": [3, 1, 1, 2, 1]})
    s = adoption_shares(g)
    assert list(s.columns) == [1, 2]
    assert s.loc[0, 1] == 0.25 and s.loc[0, 2] == 0.0 and s.loc[1, 1] == 0.75 and s.loc[1, 2] == 0.25
