"""Cluster data in (validation, building, the round trip) and networks out (GEXF, GraphML)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clusterup
from clusterup.cli import main
from clusterup.data import example_dir, load_data
from clusterup.result import Result


def write_tables(d, **tables):
    d.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if df is not None:
            df.to_csv(d / f"{name}.csv", index=False)
    return d


def small_cluster():
    firms = pd.DataFrame({"id": [1, 2, 3, 4, 5, 6], "capability": [0.1, 0.2, 0.15, 0.3, 0.05, 0.12],
                          "segment": [0, 1, 1, 2, 2, 3], "region": ["a", "a", "b", "b", "b", "a"]})  # fmt: skip
    orgs = pd.DataFrame({"id": [100, 101], "kind": ["university", "association"]})
    ties = pd.DataFrame({"source": [1, 2, 3, 4, 100], "target": [2, 3, 4, 5, 1],
                         "layer": ["social", "economic", "economic", "social", "knowledge"],
                         "weight": [1.0, 0.5, 0.4, 0.9, 0.7]})  # fmt: skip
    pipes = pd.DataFrame({"id": [4], "strength": [0.6]})
    return {"firms": firms, "organisations": orgs, "ties": ties, "pipelines": pipes}


# ------------------------------------------------------------------------------------------------
# building from data


def test_small_cluster_is_built_as_given(tmp_path):
    d = write_tables(tmp_path / "d", **small_cluster())
    sim = clusterup.Simulation("baseline", seed=1, steps=5, data=d)
    pop, net = sim.state.pop, sim.state.net
    assert sim.params.run.firms == 6 and int(pop.is_firm.sum()) == 6
    ids = pop.view("id")
    slot = {int(v): i for i, v in enumerate(ids)}
    assert pop.capability[slot[4]] == 0.3 and pop.segment[slot[6]] == 3 and pop.pipeline[slot[4]] == 0.6
    assert pop.kind[slot[100]] == 1 and pop.kind[slot[101]] == 4  # university, association
    assert net["economic"].has(np.array([slot[2]]), np.array([slot[3]]))[0]
    assert net["knowledge"].has(np.array([slot[1]]), np.array([slot[100]]))[0]
    assert len(net["social"]) == 2 and len(net["economic"]) == 2 and len(net["knowledge"]) == 1  # no ties drawn
    res = sim.run()
    assert res.metadata["data"] == str(d) and res.data_ids is None  # integer ids are kept as the run's ids


def test_the_example_dataset_runs_from_the_cli(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "baseline", "--from-data", "example", "--steps", "20", "--out", str(out), "--quiet"]) == 0
    res = Result.load(out)
    example = pd.read_csv(example_dir() / "firms.csv")
    assert res.timeseries["n_firms"].iloc[0] == len(example) == 150
    assert set(example["id"]) <= set(res.data_ids["data_id"])  # text ids: the run keeps a map
    assert res.params.init.segments == 4  # four value-chain stages in the data


def test_size_proxy_sets_the_median_firm_at_the_scenarios_mastery(tmp_path):
    firms = pd.DataFrame({"id": range(5), "size": [1, 10, 100, 1000, 100000]})
    sim = clusterup.Simulation("baseline", seed=1, steps=2, data=write_tables(tmp_path / "d", firms=firms))
    p = sim.params
    a = np.sort(sim.state.pop.view("capability")[sim.state.pop.is_firm])
    assert a[2] == pytest.approx(p.technology.ceiling_base * p.init.mastery)
    assert a[-1] == pytest.approx(0.9 * p.technology.ceiling_base)  # clipped below the ceiling


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_reproduces_the_run(tmp_path, fmt):
    """Export a scenario's initial state as data, start from it: the same run, to the last bit."""
    d = tmp_path / "init"
    args = ["--seed", "7", "--firms", "120", "--set", "organisations.universities=2"]
    assert main(["export-initial", "lock-in", *args, "--out", str(d), "--format", fmt]) == 0
    assert sorted(p.name for p in d.iterdir()) == sorted(f"{t}.{fmt}" for t in ("firms", "organisations", "ties", "pipelines"))
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", "lock-in", *args, "--steps", "80", "--out", str(a), "--quiet"]) == 0
    rest = ["--seed", "7", "--set", "organisations.universities=2", "--steps", "80"]
    assert main(["run", "lock-in", *rest, "--from-data", str(d), "--out", str(b), "--quiet"]) == 0
    pd.testing.assert_frame_equal(Result.load(a).timeseries, Result.load(b).timeseries)
    pd.testing.assert_frame_equal(Result.load(a).ties, Result.load(b).ties)


# ------------------------------------------------------------------------------------------------
# validation: file, row and column named; exit 2; nothing written


def _bad(mutate):
    t = small_cluster()
    mutate(t)
    return t


BAD = [
    (lambda t: t["ties"].loc.__setitem__((2, "target"), 99), "ties.csv: row 3, column 'target': unknown id 99"),
    (lambda t: t["ties"].loc.__setitem__((1, "target"), 2), "ties.csv: row 2, column 'target': a tie from a node to itself"),
    (
        lambda t: t.__setitem__(
            "ties", pd.concat([t["ties"], pd.DataFrame({"source": [3], "target": [2], "layer": ["economic"], "weight": [0.2]})])
        ),  # fmt: skip
        "ties.csv: row 6, column 'target': duplicate economic tie 3-2 (also row 2; ties are undirected)",
    ),
    (lambda t: t["ties"].loc.__setitem__((0, "weight"), -1.0), "ties.csv: row 1, column 'weight': must be > 0; got -1"),
    (lambda t: t["ties"].loc.__setitem__((3, "weight"), np.nan), "ties.csv: row 4, column 'weight': missing value"),
    (lambda t: t["ties"].loc.__setitem__((4, "layer"), "family"), "ties.csv: row 5, column 'layer': unknown layer 'family'"),
    (
        lambda t: t["firms"].__setitem__("capability", ["0.1", "x", "0.2", "0.3", "0.1", "0.1"]),
        "firms.csv: row 2, column 'capability': not a number: 'x'",
    ),
    (lambda t: t["firms"].loc.__setitem__((3, "id"), 1), "firms.csv: row 4, column 'id': duplicate id 1"),
    (
        lambda t: t["organisations"].loc.__setitem__((1, "kind"), "bank"),
        "organisations.csv: row 2, column 'kind': unknown kind 'bank'",
    ),
    (lambda t: t["organisations"].loc.__setitem__((0, "id"), 3), "organisations.csv: row 1, column 'id': id 3 is also a firm's id"),
    (lambda t: t["firms"].__setitem__("colour", "red"), "firms.csv: unknown column 'colour'"),
    (
        lambda t: t["firms"].__setitem__("capability", 50.0),
        "firms.csv: row 1, column 'capability': 50 exceeds its generation's ceiling",
    ),
    (lambda t: t["firms"].__setitem__("rd", 1.5), "firms.csv: row 1, column 'rd': must be >= 0 and <= 1; got 1.5"),
    (lambda t: t["firms"].__setitem__("knowledge_0", 1.0), "firms.csv: knowledge columns must be knowledge_0..knowledge_9"),
    (lambda t: t["pipelines"].loc.__setitem__((0, "id"), 100), "pipelines.csv: row 1, column 'id': unknown firm id 100"),
    (lambda t: t.__setitem__("ties", t["ties"].drop(columns="weight")), "ties.csv: missing column 'weight'"),
    (lambda t: t.__setitem__("firms", t["firms"].drop(columns="capability")), "firms.csv: missing column 'capability'"),
]


@pytest.mark.parametrize(("mutate", "message"), BAD)
def test_bad_data_exits_2_naming_file_row_and_column(tmp_path, capsys, mutate, message):
    d = write_tables(tmp_path / "d", **_bad(mutate))
    out = tmp_path / "out"
    assert main(["run", "baseline", "--from-data", str(d), "--steps", "3", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not out.exists()


def test_data_directory_problems(tmp_path, capsys):
    assert main(["run", "--from-data", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "not a directory" in capsys.readouterr().err
    d = write_tables(tmp_path / "d", ties=small_cluster()["ties"])
    assert main(["run", "--from-data", str(d), "--out", str(tmp_path / "o")]) == 2
    assert "no firms.csv or firms.parquet" in capsys.readouterr().err
    write_tables(d, firms=small_cluster()["firms"], edges=small_cluster()["ties"])
    assert main(["run", "--from-data", str(d), "--out", str(tmp_path / "o")]) == 2
    assert "unexpected table edges.csv" in capsys.readouterr().err
    (d / "edges.csv").unlink()
    (d / "ties.csv").write_bytes(b"\xff\xfe\x00garbage")
    assert main(["run", "--from-data", str(d), "--out", str(tmp_path / "o")]) == 2
    assert "ties.csv: cannot read it" in capsys.readouterr().err
    (d / "ties.csv").unlink()
    assert main(["run", "--from-data", str(d), "--firms", "50", "--out", str(tmp_path / "o")]) == 2
    assert "--firms 50 conflicts with the data (6 firms)" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# generated tables: small clusters with random corruptions, checked through the CLI
CORRUPT = st.sampled_from(["none", "nan_weight", "neg_weight", "text_cap", "self", "dup", "bad_layer", "bad_id", "inf_cap",
                           "zero_cap", "dup_id", "bad_kind", "float_gen", "empty_ties"])  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(2, 12), m=st.integers(0, 20), corrupt=CORRUPT, seed=st.integers(0, 2**16), parquet=st.booleans())
def test_generated_data_tables_run_or_refuse_cleanly(n, m, corrupt, seed, parquet, capsys, tmp_path_factory):
    rng = np.random.default_rng(seed)
    firms = pd.DataFrame({"id": np.arange(n), "capability": rng.uniform(0.01, 0.5, n), "generation": np.zeros(n, int)})
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    ties = pd.DataFrame({"source": src, "target": dst, "layer": rng.choice(["social", "economic", "knowledge"], m),
                         "weight": rng.uniform(0.1, 1.0, m)})  # fmt: skip
    ties = ties[ties.source != ties.target]
    ties = ties.assign(lo=np.minimum(ties.source, ties.target), hi=np.maximum(ties.source, ties.target))
    ties = ties.drop_duplicates(["layer", "lo", "hi"]).drop(columns=["lo", "hi"]).reset_index(drop=True)
    orgs = pd.DataFrame({"id": [1000], "kind": ["institute"]})
    if corrupt == "nan_weight" and len(ties):
        ties.loc[0, "weight"] = np.nan
    elif corrupt == "neg_weight" and len(ties):
        ties.loc[0, "weight"] = -0.5
    elif corrupt == "text_cap":
        firms["capability"] = firms["capability"].astype(object)
        firms.loc[0, "capability"] = "high"
    elif corrupt == "self" and len(ties):
        ties.loc[0, "target"] = ties.loc[0, "source"]
    elif corrupt == "dup" and len(ties):
        ties = pd.concat([ties, ties.iloc[[0]]], ignore_index=True)
    elif corrupt == "bad_layer" and len(ties):
        ties.loc[0, "layer"] = "kinship"
    elif corrupt == "bad_id" and len(ties):
        ties.loc[0, "source"] = 555
    elif corrupt == "inf_cap":
        firms.loc[0, "capability"] = np.inf
    elif corrupt == "zero_cap":
        firms.loc[0, "capability"] = 0.0
    elif corrupt == "dup_id":
        firms.loc[n - 1, "id"] = 0
    elif corrupt == "bad_kind":
        orgs.loc[0, "kind"] = "ministry"
    elif corrupt == "float_gen":
        firms["generation"] = firms["generation"].astype(float)
        firms.loc[0, "generation"] = 0.5
    elif corrupt == "empty_ties":
        ties = ties.iloc[0:0]
    d = tmp_path_factory.mktemp("data")
    for name, df in (("firms", firms), ("ties", ties), ("organisations", orgs)):
        if parquet:
            df.to_parquet(d / f"{name}.parquet", index=False) if name != "firms" or corrupt != "text_cap" else df.astype(
                {"capability": str}).to_parquet(d / f"{name}.parquet", index=False)  # fmt: skip
        else:
            df.to_csv(d / f"{name}.csv", index=False)
    out = d / "out"
    code = main(["run", "baseline", "--from-data", str(d), "--steps", "3", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err, err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("error: ") and not out.exists()
    else:
        assert out.is_dir()
    clean = corrupt == "none" or (corrupt in ("nan_weight", "neg_weight", "self", "dup", "bad_layer", "bad_id") and not len(ties))
    if clean or corrupt == "empty_ties":
        assert code == 0, err


# ------------------------------------------------------------------------------------------------
# export


@pytest.fixture(scope="module")
def snap_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("exp") / "run"
    assert main(["run", "lock-in", "--seed", "3", "--firms", "80", "--steps", "40", "--snapshots", "10", "--out", str(out),
                 "--quiet"]) == 0  # fmt: skip
    return out


def test_gexf_has_every_node_and_tie_with_spells_and_layers(snap_run, tmp_path):
    assert main(["export", str(snap_run), "--format", "gexf", "--out", str(tmp_path / "g")]) == 0
    G = nx.read_gexf(tmp_path / "g" / "network.gexf")
    res = Result.load(snap_run)
    steps = sorted(res.snapshots)
    assert steps == [0, 10, 20, 30, 40]
    all_nodes = set().union(*(set(n["id"]) for n, _ in res.snapshots.values()))
    assert {int(v) for v in G.nodes} == all_nodes
    edge_ids = set().union(
        *(set(t.layer + ":" + t.source.astype(str) + "-" + t.target.astype(str)) for _, t in res.snapshots.values())
    )
    assert {d["id"] for _, _, d in G.edges(data=True)} == edge_ids
    assert {d["layer"] for _, _, d in G.edges(data=True)} == {"social", "economic", "knowledge"}
    # spells: a node in every snapshot lives [0, 40]; one that left after step 20 ends at 29
    nodes = {s: set(n["id"]) for s, (n, _) in res.snapshots.items()}
    always = set.intersection(*nodes.values())
    nid = min(always)
    assert G.nodes[str(nid)]["spells"] == [(0, 40)]
    left = (nodes[20] - nodes[30]) & nodes[0]
    if left:
        v = min(left)
        assert G.nodes[str(v)]["spells"][-1][1] == 29
    # dynamic capability: the value at each snapshot
    cap = dict(((a, b), c) for c, a, b in G.nodes[str(nid)]["capability"])
    n30 = res.snapshots[30][0].set_index("id")
    assert cap[(30, 39)] == pytest.approx(n30.loc[nid, "capability"])


def test_graphml_one_file_per_snapshot_equal_to_the_tables(snap_run, tmp_path):
    assert main(["export", str(snap_run), "--format", "graphml", "--out", str(tmp_path / "m")]) == 0
    res = Result.load(snap_run)
    for step, (nodes, ties) in res.snapshots.items():
        H = nx.read_graphml(tmp_path / "m" / f"network-step-{step:06d}.graphml")
        assert H.number_of_nodes() == len(nodes) and H.number_of_edges() == len(ties)
        got = pd.Series([d["layer"] for _, _, d in H.edges(data=True)]).value_counts().sort_index()
        assert got.to_dict() == ties["layer"].value_counts().sort_index().to_dict()


def test_export_without_snapshots_uses_the_final_network_and_rejects_bad_formats(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--steps", "5", "--firms", "30", "--out", str(out), "--quiet"]) == 0
    assert main(["export", str(out)]) == 0
    G = nx.read_gexf(out / "export" / "network.gexf")
    assert G.number_of_edges() == len(Result.load(out).ties)
    assert main(["export", str(out), "--format", "pajek"]) == 2
    assert "--format must be gexf or graphml" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nothing")]) == 2


def test_load_data_checks_knowledge_against_domains(tmp_path):
    t = small_cluster()
    for dcol in range(3):
        t["firms"][f"knowledge_{dcol}"] = 1.0
    d = write_tables(tmp_path / "d", **t)
    data = load_data(d, domains=3)
    assert len(data.firms) == 6
    with pytest.raises(clusterup.errors.ConfigError, match="init.domains = 10"):
        load_data(d, domains=10)


def test_integer_ids_in_any_order_give_the_lifecycles_of_the_same_data_with_text_ids(tmp_path):
    """The example data with its text ids (numbered in table order) and with integer ids in a shuffled order
    (organisations first in the slots, so ids do not grow with slots): the same run, and the same lifecycles
    once the ids are mapped; every firm gone has its exit, every spin-off its parent's capability. (The
    lifecycles found rows and parents by binary search over ids assumed to ascend: with such data they
    missed most exits and parents.)"""
    src = example_dir()
    tables = {name: pd.read_csv(src / f"{name}.csv") for name in ("firms", "organisations", "ties", "pipelines")}
    text_ids = [*tables["organisations"]["id"], *tables["firms"]["id"]]
    given = dict(zip(text_ids, np.random.default_rng(5).permutation(len(text_ids)) * 3 + 7, strict=True))
    shuffled = {name: df.replace({c: given for c in ("id", "source", "target") if c in df}) for name, df in tables.items()}
    d = write_tables(tmp_path / "shuffled", **shuffled)
    a = clusterup.Simulation("baseline", seed=3, steps=60, data=src).run()
    b = clusterup.Simulation("baseline", seed=3, steps=60, data=d).run()
    assert b.data_ids is None and a.data_ids is not None
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    internal = dict(zip(a.data_ids["data_id"], a.data_ids["id"], strict=True))  # text id -> a's node id
    to_a = {int(given[t]): internal[t] for t in text_ids}
    first_entrant = max(to_a) + 1  # b's entrants are numbered from its largest id on, a's from its node count

    def as_a(ids: pd.Series) -> np.ndarray:
        x = ids.astype("Int64")
        return np.array([v if v is pd.NA or v < 0 else to_a.get(int(v), int(v) - first_entrant + len(text_ids))
                         for v in x], dtype=object)  # fmt: skip

    la, lb = a.lifecycles.copy(), b.lifecycles.copy()
    lb["id"], lb["parent"] = as_a(lb["id"]), as_a(lb["parent"])
    la["id"], la["parent"] = la["id"].astype(object), la["parent"].astype("Int64").astype(object)
    la, lb = (x.sort_values("id", key=lambda s: s.astype(int)).reset_index(drop=True) for x in (la, lb))
    pd.testing.assert_frame_equal(la, lb, check_exact=True, check_dtype=False)
    gone = lb[lb["exited"].notna()]
    assert len(gone) > 10 and len(gone) == int(b.timeseries["n_exits"].sum())
    spin = lb[lb["origin"] == "spin-off"]
    assert len(spin) > 10 and spin["parent_capability"].notna().all()


def test_integer_ids_beyond_the_node_id_range_are_mapped(tmp_path):
    """Ids above 2**30 - 1 would leave the entrants' ids no room below 2**31 in the run's tie keys (two node ids
    in 64 bits): such data is numbered in table order with a map, as text ids are; the largest id the range
    allows is kept as given."""
    tables = small_cluster()
    huge = {1: 2**30, 100: 7}
    big = {name: df.replace({c: huge for c in ("id", "source", "target") if c in df}) for name, df in tables.items()}
    res = clusterup.Simulation("baseline", seed=1, steps=3, data=write_tables(tmp_path / "big", **big)).run()
    assert res.data_ids is not None and set(res.data_ids["data_id"].astype(str)) >= {str(2**30), "7"}
    edge = {1: 2**30 - 1}
    kept = {name: df.replace({c: edge for c in ("id", "source", "target") if c in df}) for name, df in tables.items()}
    res = clusterup.Simulation("baseline", seed=1, steps=3, data=write_tables(tmp_path / "edge", **kept)).run()
    assert res.data_ids is None and 2**30 - 1 in set(res.firms["id"])
