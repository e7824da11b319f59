"""The explorer's model and command (without a browser), and the HTML report's checks."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from clusterup.cli import main
from clusterup.explorer import model
from clusterup.explorer.server import explore_command
from clusterup.params import load_scenario


def test_every_slider_is_a_real_parameter_within_its_allowed_range():
    sl = model.sliders()
    assert len(sl) >= 12 and len({s.section for s in sl}) >= 8  # grouped by process
    base = model.values_of(load_scenario("baseline"))
    for s in sl:
        assert s.lo < s.hi and s.description
        assert s.lo <= base[s.key] <= s.hi, s.key  # the preset's value is reachable
        model.configure("baseline", {s.key: s.lo})  # both ends validate
        model.configure("baseline", {s.key: s.hi})


def test_model_run_matches_the_library_and_can_stop():
    params = model.configure("lock-in", {"run.steps": 30, "run.firms": 40, "run.seed": 3})
    seen = []
    res = model.run(params, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (30, 30) and sorted(res.snapshots)[-1] == 30 and len(res.snapshots) >= 4
    from clusterup import simulate

    assert res.timeseries.equals(simulate(params).timeseries)
    assert model.run(params, should_stop=lambda: True) is None
    other = model.configure("lock-in", {"run.steps": 30, "run.firms": 40, "run.seed": 4})
    assert model.differences(params, other) == [("run.seed", 3, 4)]
    assert "final overall capability" in model.summary_line(res)
    for fig in (model.capability_figure(res.timeseries), model.overview_figure(res.timeseries), model.network_figure(res, 30)):
        assert fig.axes


def test_explorer_binds_loopback_by_default_and_checks_its_port(capsys):
    cmd = explore_command("127.0.0.1", 8765, browser=False)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--no-open" in cmd
    import inspect

    from clusterup import cli

    assert inspect.signature(cli.explore).parameters["host"].default == "127.0.0.1"
    assert main(["explore", "--port", "70000"]) == 2
    assert "--port must be an integer in [0, 65535]" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["explore", "--port", str(port), "--no-browser"]) == 2
        assert "cannot listen there" in capsys.readouterr().err


def test_report_refuses_bad_targets(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", "--steps", "10", "--firms", "30", "--out", str(run), "--quiet"]) == 0
    assert main(["report", str(run), "--out", str(tmp_path / "r.pdf")]) == 2
    assert "--out must name an .html file" in capsys.readouterr().err
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    assert "neither a clusterup run nor an experiment" in capsys.readouterr().err
    assert main(["report", str(run)]) == 0 and (run / "report.html").is_file()
    assert main(["report", str(run)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    text = (run / "report.html").read_text()
    assert "<script" not in text and "http://" not in text and "https://" not in text  # nothing remote, nothing run
    assert main(["report", str(run), "--overwrite"]) == 0


@pytest.mark.parametrize("name", ["model", "app"])
def test_explorer_modules_import(name):
    import importlib

    importlib.import_module(f"clusterup.explorer.{name}")


def _children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found += [int(x) for x in text.split()]
    return found


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0]
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", ["SIGTERM", "SIGKILL"])
def test_killing_the_explorer_stops_its_server(signum):
    """`kill PID` (and even `kill -9 PID`) of `clusterup explore` leaves no Solara server behind."""
    import signal
    import subprocess
    import time

    proc = subprocess.Popen([sys.executable, "-m", "clusterup", "explore", "--port", "0", "--no-browser"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    kids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not (kids := _children(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert kids, "the explorer started no server"
        time.sleep(1.0)
        proc.send_signal(getattr(signal, signum))
        proc.wait(30)
        deadline = time.monotonic() + 20
        while any(_alive(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(k) for k in kids), f"the server outlived the explorer ({signum})"
    finally:
        for pid in [proc.pid, *kids]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def test_explorer_reaches_every_parameter_and_shows_firms():
    from clusterup.errors import ConfigError
    from clusterup.params import describe_parameters

    assert [e.key for e in model.entries()] == [r[0] for r in describe_parameters()]  # every parameter, none left out
    assert {e.section for e in model.entries(search="appropriab")} >= {"technology"}
    assert all(e.section == "spillover" for e in model.entries(section="spillover"))
    entry = model.entries(search="obsolescence.rate")[0]
    assert model.parse_entry(entry, " 0.05 ") == 0.05
    with pytest.raises(ConfigError, match="obsolescence.rate must be a number"):
        model.parse_entry(entry, "fast")
    params = model.configure("baseline", {"run.steps": 20, "run.firms": 30}, {"obsolescence.rate": 0.05})
    assert params.obsolescence.rate == 0.05
    result = model.run(params)
    table = model.firms_table(result)
    assert table["capability"].is_monotonic_decreasing and {"social ties", "kind"} <= set(table.columns)
    fid = int(table[table["kind"] == "firm"]["id"].iloc[0])
    ties = model.firm_ties(result, fid)
    assert len(ties) == int(table.loc[table["id"] == fid, ["social ties", "economic ties", "knowledge ties"]].sum(axis=1).iloc[0])
    from clusterup.plots.style import figure_problems

    assert figure_problems(model.firm_figure(result, fid)) == []


def test_explorer_interventions_and_warning_score():
    from clusterup.errors import ConfigError
    from clusterup.explorer import model as m

    iv = m.intervention("40", "organisations.universities", "2")
    assert iv == {"step": 40, "set": {"organisations.universities": 2}}
    p = m.configure("lock-in", {}, None, [iv])
    assert [(x.step, x.set) for x in p.interventions] == [(40, {"organisations.universities": 2})]
    for args, message in [(("x", "organisations.universities", "2"), "whole number"),
                          (("40", "organisations.nope", "2"), "unknown parameter"),
                          (("40", "organisations.universities", "two"), "organisations.universities must be")]:  # fmt: skip
        with pytest.raises(ConfigError, match=message):
            m.intervention(*args)
    with pytest.raises(ConfigError, match="must be <= run.steps"):
        m.configure("lock-in", {}, None, [m.intervention("9999", "organisations.universities", "2")])
    r = m.run(m.configure("lock-in", {"run.steps": 60, "run.firms": 60}, None, [iv]))
    score, alarm, threshold = m.warning_now(r.timeseries)
    assert 0 <= score <= 1 and 0 < threshold < 1 and (alarm is None or 20 <= alarm <= 60)
    assert m.live_figure(r.timeseries, 60).axes[1].get_ylabel().startswith("warning score")
