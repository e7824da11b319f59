"""The phenomena of the model brief (section 6) on a CI-sized ensemble.

Ensemble: 6 seeds spawned from base seed 2026 (the full validation, `clusterup validate --seeds 16`,
uses 16 seeds; see docs/validation.md). Every arm of a comparison runs the same seeds.

Tolerance: a per-seed phenomenon must hold in at least 5 of the 6 seeds (83%, the brief asks for 80%);
ensemble statements (the appropriability optimum, the levers) compare ensemble means. Every phenomenon
of section 6 is asserted (all hold in the full validation, docs/validation.md).
"""

from concurrent.futures import ProcessPoolExecutor

import pytest

from clusterup import validation

SEEDS = 6


@pytest.fixture(scope="module")
def rows():
    with ProcessPoolExecutor(2) as ex:
        ens = validation.run_ensemble(SEEDS, 2026, executor=ex)
    return {(r["id"], r["statement"]): r for r in validation.evaluate(ens)}


def _row(rows, pid, contains=""):
    found = [r for (i, st), r in rows.items() if i == pid and contains in st]
    assert len(found) == 1, (pid, contains)
    return found[0]


@pytest.mark.parametrize("pid", ["1", "2", "3a", "3b", "4", "5a", "5b", "5c", "6"])
def test_per_seed_phenomena_hold_in_five_of_six_seeds(rows, pid):
    r = _row(rows, pid)
    assert r["n"] == SEEDS
    assert r["result"] >= 5 / 6, r


def test_opportunism_loses_rnd(rows):
    r = _row(rows, "5c-rd")
    assert r["result"] >= 5 / 6, r


def test_appropriability_has_an_interior_optimum(rows):
    r = _row(rows, "7")
    curve = r["result"]
    assert r["holds"], curve
    assert max(curve[1:-1]) >= 1.1 * max(curve[0], curve[-1])


@pytest.mark.parametrize("lever", ["policy-institutions", "policy-pipelines", "policy-ip-protection"])
def test_levers_beat_their_base(rows, lever):
    r = _row(rows, "8", lever)
    assert r["holds"], r


def test_bass_row_of_the_validation(rows):
    r = _row(rows, "4a")
    assert r["holds"], r
    assert r["result"]["max_abs_vs_closed_form"] < 0.02 and r["result"]["max_abs_vs_discrete"] < 0.02
