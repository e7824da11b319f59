"""The firm-level panel and the lifecycles table: schema and invariants (docs/output-schema.md)."""

import numpy as np
import pandas as pd
import pytest

from clusterup import Simulation, load_scenario
from clusterup.result import Result
from clusterup.runs import run_to_directory

PANEL_COLUMNS = {"step", "id", "parent", "capability", "revenue", "generation", "mode", "rd", "age"}


@pytest.fixture(scope="module")
def result():
    # lock-in: many exits and entries (spin-offs and newcomers) in a short run
    sim = Simulation(load_scenario("lock-in").with_overrides({"run.steps": 80, "run.firms": 120, "run.seed": 3}), panel_every=1)
    sim.run()
    return sim.result()


def test_panel_schema(result):
    panel = result.panel
    assert PANEL_COLUMNS <= set(panel.columns)
    assert sorted(panel["step"].unique()) == list(range(81))
    assert set(panel["mode"].cat.categories) == {"none", "imitation", "local", "integrated"}
    assert not panel.duplicated(["step", "id"]).any()
    # one row per active firm per step
    counts = panel.groupby("step").size().to_numpy()
    assert (counts == result.timeseries["n_firms"].to_numpy()).all()


def test_ages_grow_by_one_per_step(result):
    p = result.panel.sort_values(["id", "step"])
    same = p["id"].to_numpy()[1:] == p["id"].to_numpy()[:-1]
    consecutive = np.diff(p["step"].to_numpy()) == 1
    d_age = np.diff(p["age"].to_numpy())
    assert (same & consecutive).sum() > 1000
    assert (d_age[same & consecutive] == 1).all()
    first = p.groupby("id").first()
    life = result.lifecycles.set_index("id")
    assert (first["age"] == first["step"] - life.loc[first.index, "born"]).all()  # age counts steps since entry


def test_lifecycles_record_every_firm(result):
    life = result.lifecycles
    assert life["id"].is_unique
    assert set(result.panel["id"]) == set(life["id"])  # every firm that was ever active has a row
    alive = set(result.firms.loc[result.firms["kind"] == "firm", "id"])
    assert set(life.loc[life["exited"].isna(), "id"]) == alive
    gone = life[life["exited"].notna()]
    assert len(gone) > 20 and gone["cause"].notna().all()
    assert (gone["exited"] >= gone["born"]).all()
    last = result.panel.groupby("id")["step"].max()
    # an exited firm's last panel row is the step before it exited, or its exit step if it entered then
    assert (last.loc[gone["id"]].to_numpy() <= gone["exited"].to_numpy()).all()
    assert (int(result.timeseries["n_exits"].sum()) == len(gone))


def test_a_spinoffs_parent_existed_when_it_was_born(result):
    life = result.lifecycles.set_index("id")
    spin = life[life["origin"] == "spin-off"]
    assert len(spin) > 5
    assert (spin["parent"] >= 0).all()
    parents = life.loc[spin["parent"]]
    assert (parents["born"].to_numpy() <= spin["born"].to_numpy()).all()
    ex = parents["exited"].astype("Float64").fillna(np.inf).to_numpy(dtype=float)
    assert (ex >= spin["born"].to_numpy()).all()
    assert spin["parent_capability"].notna().all()
    newcomers = life[life["origin"] == "newcomer"]
    assert (newcomers["parent"] == -1).all() and newcomers["parent_capability"].isna().all()


def test_run_directory_holds_both_tables(tmp_path):
    out = tmp_path / "run"
    run_to_directory("baseline", seed=1, steps=12, firms=40, out=out, panel=5)
    back = Result.load(out)
    assert (out / "lifecycles.parquet").exists() and (out / "panel.parquet").exists()
    assert sorted(back.panel["step"].unique()) == [0, 5, 10, 12]
    assert isinstance(back.lifecycles, pd.DataFrame) and len(back.lifecycles) >= 40


@pytest.mark.parametrize("preset,firms,steps", [("baseline", 300, 120), ("opportunism", 400, 80), ("bass", 500, 30)])
def test_lifecycles_compiled_passes_equal_the_numpy_form(preset, firms, steps):
    """The lifecycles' compiled passes (new rows, exits) against :meth:`Lifecycles.update_numpy`, fed the same
    steps side by side from the first (every column grown from empty), bit for bit: ids, parents, steps, causes,
    origins and the parents' capabilities (NaN where the parent has no slot left)."""
    from clusterup.recorder import Lifecycles

    sim = Simulation(preset, seed=21, firms=firms, steps=steps)
    oracle = Lifecycles()
    oracle.update_numpy(sim.state, sim.schedule.start_step())  # the first record, before any step
    own = sim.recorder.lifecycles.update

    def both(state, ctx):
        own(state, ctx)
        oracle.update_numpy(state, ctx)

    sim.recorder.lifecycles.update = both
    sim.run()
    got, want = sim.recorder.lifecycles.data, oracle.data
    assert got.keys() == want.keys() and sim.recorder.lifecycles.size == oracle.size >= firms
    for c in got:
        assert got[c].dtype == want[c].dtype and got[c].tobytes() == want[c].tobytes(), c
    assert (got["exited"] >= 0).sum() > 0 or preset == "bass"
