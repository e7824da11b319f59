"""The current model against the stored reference ensemble (benchmarks/reference/): the statistical guard
that an optimisation changing numbers must pass (issue: speed without the bit-identity handcuff).

CI: three presets (baseline, lock-in, opportunism: upgrading, rigidity and free-riding dynamics), 16 fresh
seeds each against the reference's 64, 11 indicators each: 33 two-sample KS tests, Holm-corrected,
family-wise error 1% (the chance that an unchanged model fails is below 1%). The full check (every preset,
64 fresh seeds) runs under ``-m slow``. The test has power: a model with one parameter moved as a careless
optimisation might is rejected, local innovation's growth rate 20% higher (``local.rate`` 0.25 -> 0.3; 7 of
the 33 tests reject) or depreciation 30% faster (``obsolescence.rate`` 0.015 -> 0.0195; 2 reject). Depreciation
20% faster is at the edge of this 16-seed subset's power (1 rejects on the model of 2026-12-04, none on that of
2026-12-03), stated in docs/performance.md.
"""

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "reference"))
import ensemble  # noqa: E402

CI_PRESETS = ("baseline", "lock-in", "opportunism")


@pytest.fixture(scope="module")
def reference():
    return pd.read_parquet(ensemble.REFERENCE)


def test_reference_is_complete(reference):
    assert set(reference["preset"]) == set(ensemble.PRESETS)
    assert reference.groupby("preset").size().eq(64).all()
    assert reference.drop(columns=["preset", "seed"]).notna().all().all()


def test_current_model_matches_the_reference(reference):
    res = ensemble.compare(reference, ensemble.run(CI_PRESETS, 16, ensemble.CHECK_SEED))
    assert len(res) == 33
    assert not res["rejected"].any(), res.head()


@pytest.mark.parametrize("override", [{"local.rate": 0.3}, {"obsolescence.rate": 0.0195}], ids=str)
def test_the_comparison_rejects_a_perturbed_model(reference, override):
    perturbed = ensemble.run(CI_PRESETS, 16, ensemble.CHECK_SEED, overrides=override)
    res = ensemble.compare(reference, perturbed)
    assert res["rejected"].any(), res.head()


@pytest.mark.slow
def test_full_reference_check(reference):
    res = ensemble.compare(reference, ensemble.run(ensemble.PRESETS, 64, ensemble.CHECK_SEED))
    assert not res["rejected"].any(), res.head()
