"""Security: user files are parsed, never evaluated or unpickled; outputs stay under --out."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from clusterup.cli import main

SRC = Path(__file__).resolve().parents[1] / "src" / "clusterup"


def test_no_code_path_evaluates_or_unpickles():
    """No eval/exec/pickle/marshal/yaml.load anywhere in the package; np.load always refuses pickles."""
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                assert name not in ("eval", "exec", "compile", "pickle.load", "pickle.loads", "marshal.loads"), (path, name)
                if name in ("np.load", "numpy.load"):
                    kw = {k.arg: ast.unparse(k.value) for k in node.keywords}
                    assert kw.get("allow_pickle") == "False", (path, node.lineno)
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert "pickle" not in names and "dill" not in names, path


def test_a_checkpoint_holding_a_pickle_is_refused(tmp_path, capsys):
    # make an unfinished run whose checkpoint carries an object array (which only a pickle can hold)
    ck = tmp_path / "u"
    assert main(["run", "--steps", "20", "--firms", "30", "--out", str(ck / "x"), "--quiet"]) == 0
    (ck / "checkpoint").mkdir(parents=True)
    for name in ("config.toml",):
        (ck / "checkpoint" / name).write_text((ck / "x" / "config.toml").read_text())
    (ck / "checkpoint" / "meta.json").write_text('{"format": 1}')
    np.savez(ck / "checkpoint" / "arrays.npz", evil=np.array([object()], dtype=object))
    import shutil

    shutil.rmtree(ck / "x")
    assert main(["run", "--resume", str(ck)]) == 2
    err = capsys.readouterr().err
    assert "the checkpoint cannot be read" in err and "Traceback" not in err


def test_ids_and_names_from_data_never_become_paths(tmp_path):
    """Text ids like '../../x' are labels only; every file the run and its export write is under --out."""
    d = tmp_path / "data"
    d.mkdir()
    firms = pd.DataFrame({"id": ["../../evil", "/etc/passwd", "a\\b", "ok"], "capability": [0.1, 0.2, 0.3, 0.1]})
    firms.to_csv(d / "firms.csv", index=False)
    pd.DataFrame({"source": ["../../evil"], "target": ["ok"], "layer": ["social"], "weight": [1.0]}).to_csv(
        d / "ties.csv", index=False
    )
    out = tmp_path / "deep" / "out"
    before = set(tmp_path.rglob("*"))
    assert main(["run", "--from-data", str(d), "--steps", "5", "--snapshots", "2", "--out", str(out), "--quiet"]) == 0
    assert main(["export", str(out)]) == 0
    assert main(["export", str(out), "--format", "graphml"]) == 0
    created = set(tmp_path.rglob("*")) - before
    assert created and all(out in p.parents or p == out or p == out.parent for p in created), created - {out}
    assert "../../evil" in set(pd.read_parquet(out / "data_ids.parquet")["data_id"])
