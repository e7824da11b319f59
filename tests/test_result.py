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
