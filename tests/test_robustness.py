"""The robustness command: which keys move and how, and that each verdict keeps its evidence."""

from __future__ import annotations

import json

import pytest

from clusterup import robustness
from clusterup import validation as v
from clusterup.errors import ConfigError
from clusterup.robustness import (
    Perturbation,
    Robustness,
    cell,
    check_sweep,
    morris_screen,
    moved,
    preset_perturbations,
    run_robustness,
)


def test_moved_respects_bounds_zero_and_integers():
    assert moved("local.rate", 0.25, 1.2) == pytest.approx(0.3)
    assert moved("technology.appropriability", 0.0, 1.2, 0.5) == pytest.approx(0.1)  # 0 moves by 20% of the baseline's
    assert moved("technology.appropriability", 0.9, 1.2) == pytest.approx(1.0)  # clipped to the declared upper bound
    assert moved("knowledge_ties.partners", 3, 1.1) is None  # rounding leaves an integer unchanged: no move
    assert moved("knowledge_ties.partners", 3, 1.2) == 4
    assert moved("choice.enabled", True, 1.2) is None  # switches are not moved


def test_preset_perturbations_move_opportunisms_appropriability_from_zero():
    labels = {p.label: p for p in preset_perturbations()}
    assert "technology.appropriability +20%" in labels
    assert labels["technology.appropriability +20%"].source == "opportunism"
    assert not any(p.source in ("baseline", "bass") for p in labels.values())
    assert Perturbation("local.rate", 0.95, "given").label == "local.rate -5%"


@pytest.mark.parametrize(
    ("keys", "factors", "message"),
    [
        (["local.bogus"], (1.2,), "unknown parameter 'local.bogus'"),
        (["choice.enabled"], (1.2,), "not numeric"),
        (["run.steps"], (1.2,), "cannot be swept"),
        (None, (1.0,), "other than 1"),
        (None, (-0.5,), "in (0, 10]"),
        (None, (), "--factors"),
    ],
)
def test_check_sweep_refuses_what_cannot_be_swept(keys, factors, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        check_sweep(keys, factors)


def test_cells_show_the_evidence():
    assert cell(True, {"passes": 15, "n": 16}) == "pass 15/16"
    assert cell(False, {"p": 0.034}) == "**FAIL** p 0.034"
    assert cell(True, None) == "pass"


def test_a_sweep_keeps_passes_and_p_values_consistent_with_its_verdicts():
    """Two seeds of 40 firms x 30 steps: too short for the statements to hold, which is the point here; what is
    tested is that each verdict follows from the evidence stored with it (rate floor 80%, p < 0.01)."""
    report = run_robustness(2, 7, workers=2, steps=30, firms=40, keys=["local.rate"], factors=(0.5, 1.5))
    assert report.screened == []
    assert [r["label"] for r in report.rows] == ["local.rate -50%", "local.rate +50%"]
    for row in report.rows:
        assert set(row["evidence"]) == set(row["statements"]) == {p.id for p in v.PHENOMENA if p.kind != "benchmark"}
        assert row["values"]["baseline"] == pytest.approx(0.25 * row["factor"])
        for sid, ev in row["evidence"].items():
            if "passes" in ev:
                assert ev["n"] == 2 and 0 <= ev["passes"] <= 2
                assert row["statements"][sid] == (ev["passes"] / ev["n"] >= v.ROBUST_RATE)
            else:
                assert row["statements"][sid] == (ev["p"] < v.P_MAX)
    text = report.markdown()
    assert "/2" in text and "| local.rate +50% | given |" in text
    json.dumps(report.payload())  # the payload is plain JSON


def _replicate():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "replicate.py"
    spec = importlib.util.spec_from_file_location("replicate", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bases", "1", "--statements", "7"], "per-seed statements are"),
        (["--bases", "x", "--statements", "2"], "--bases must be comma-separated integers"),
        (["--bases", "1", "--statements", "2", "--seeds", "0"], "--seeds and --workers must be >= 1"),
    ],
)
def test_replicate_script_refuses_bad_arguments(capsys, argv, message):
    assert _replicate().main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_replicate_script_counts_what_validation_counts(capsys):
    argv = ["--bases", "11,12", "--statements", "1,4", "--seeds", "2", "--firms", "40", "--steps", "30", "--workers", "1"]
    assert _replicate().main(argv) == 0
    out = capsys.readouterr().out
    phen = tuple(p for p in v.PHENOMENA if p.id in ("1", "4"))
    for base in (11, 12):
        ens = v.run_ensemble(2, base, steps=30, firms=40, only={"baseline", "no-integrated"}, bass=False)
        want = {r["id"]: r["passes"] for r in v.evaluate(ens, phen, seed=base)}
        assert f"| {base} | {want['1']}/2 | {want['4']}/2 |" in out
    assert "| pooled |" in out


def test_replicate_script_names_each_failing_seed_with_its_numbers(capsys):
    """--failures lists exactly the seeds where a statement fails, with the numbers of its measure (a one-arm
    statement) or the seed alone (jump reads two arms)."""
    argv = ["--bases", "11", "--statements", "4,5a", "--seeds", "3", "--firms", "40", "--steps", "30", "--workers", "1",
            "--failures"]  # fmt: skip
    assert _replicate().main(argv) == 0
    out = capsys.readouterr().out
    phen = {p.id: p for p in v.PHENOMENA if p.id in ("4", "5a")}
    ens = v.run_ensemble(3, 11, steps=30, firms=40, only={"baseline", "no-integrated"}, bass=False)
    for pid, p in phen.items():
        for s in ens.seeds:
            line = f"  {pid} fails on seed {s}: "
            assert (line in out) == (not p.test(ens, s)), (pid, s)
            if not p.test(ens, s):
                shown = out.split(line, 1)[1].splitlines()[0]
                assert ("last_fifth_change" in shown) if pid == "4" else shown == "{}"
    assert "fails on seed" in out  # 30 steps are too short for a jump: the listing is exercised


class _Inline:
    """An executor that maps in this process (the synthetic screening job below is not picklable)."""

    def map(self, fn, jobs):
        return [fn(j) for j in jobs]


def _synthetic(calls):
    """A stand-in for the model: log capability = 3 x local.success + 1 x local.rate (relative to their ranges)
    plus noise that differs between design points and seeds, as a stochastic model's does."""
    import zlib

    def job(j):
        overrides, seed, _steps, _firms = j
        calls.append((tuple(sorted(overrides.items())), seed))
        x = 3.0 * overrides["local.success"] / 0.7 + 1.0 * overrides["local.rate"] / 0.25
        u = zlib.crc32(repr((sorted(overrides.items()), seed)).encode()) / 2**32
        return x + 1.5 * (u - 0.5)

    return job


def test_each_screening_point_runs_the_same_seeds_and_averages_them(monkeypatch):
    calls = []
    monkeypatch.setattr(robustness, "_screen_job", _synthetic(calls))
    screen = morris_screen(_Inline(), trajectories=2, replicates=3, seed=5)
    points = {}
    for point, seed in calls:
        points.setdefault(point, []).append(seed)
    assert len({tuple(s) for s in points.values()}) == 1  # common random numbers: one seed list for every point
    assert len(next(iter(points.values()))) == 3 and len(calls) == 3 * len(points)
    mus = [mu for _k, mu, _c in screen.ranking]
    assert mus == sorted(mus, reverse=True) and all(c >= 0 for _k, _mu, c in screen.ranking)
    assert (screen.trajectories, screen.replicates) == (2, 3)
    assert screen.top(2) == [(k, mu) for k, mu, _c in screen.ranking[:2]]


def test_averaging_seeds_lets_the_screen_find_the_influential_parameters(monkeypatch):
    """With one seed per point the synthetic noise (1.5 wide) swamps local.rate's effect (0.2 over the
    +-20% range); averaged over 64 seeds it is 1.5/sqrt(64)-wide and the two true effects lead the ranking."""
    monkeypatch.setattr(robustness, "_screen_job", _synthetic([]))
    averaged = morris_screen(_Inline(), trajectories=4, replicates=64, seed=5)
    assert [k for k, _mu, _c in averaged.ranking[:2]] == ["local.success", "local.rate"]
    single = morris_screen(_Inline(), trajectories=4, replicates=1, seed=5)
    assert "local.rate" not in [k for k, _mu, _c in single.ranking[:2]]


def test_the_whole_screening_is_kept_in_the_payload():
    screen = robustness.Screen([("local.success", 2.0, 0.5), ("local.rate", 1.0, 0.25)], 4, 8)
    report = Robustness(300, 200, [1, 2], screen.top(1), [], screen)
    payload = json.loads(json.dumps(report.payload()))
    assert payload["morris"] == [["local.success", 2.0]]
    assert payload["screening"]["seeds_per_point"] == 8
    assert Robustness.from_payload(payload).screen == screen
    old = {k: v for k, v in payload.items() if k != "screening"}  # files written before the screening was stored
    assert Robustness.from_payload(old).screen is None


def test_the_cli_shows_the_screenings_default_seeds():
    """The help text cannot import the robustness module (the CLI loads it lazily), so it names the number."""
    import inspect

    from clusterup import cli

    text = inspect.getsource(cli.validate)
    assert f'show_default="{robustness.REPLICATES}"' in text
