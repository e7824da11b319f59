"""The current model against the stored reference ensemble (benchmarks/reference/): the statistical guard
that an optimisation changing numbers must pass (issue: speed without the bit-identity handcuff).

CI: three presets (baseline, lock-in, opportunism: upgrading, rigidity and free-riding dynamics), 16 fresh
seeds each against the reference's 64, 11 indicators each: 33 two-sample KS tests, Holm-corrected,
family-wise error 1% (the chance that an unchanged model fails is below 1%). The full check (every preset,
64 fresh seeds) runs under ``-m slow``. The test has power: a model whose depreciation is 20% faster
(``obsolescence.rate`` x 1.2, one parameter moved as a careless optimisation might) is rejected.
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


def test_the_comparison_rejects_a_perturbed_model(reference):
    perturbed = ensemble.run(CI_PRESETS, 16, ensemble.CHECK_SEED, overrides={"obsolescence.rate": 0.018})
    res = ensemble.compare(reference, perturbed)
    assert res["rejected"].any(), res.head()


@pytest.mark.slow
def test_full_reference_check(reference):
    res = ensemble.compare(reference, ensemble.run(ensemble.PRESETS, 64, ensemble.CHECK_SEED))
    assert not res["rejected"].any(), res.head()
