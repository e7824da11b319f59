"""The validation's ensembles record the layers' clustering and giant component only at the first and last
step (``validation.UNREAD_NETWORK``: no statement reads them, and they cost a small run's recorder most). The
recorder changes no dynamics, so every statement must come out the same as with every indicator recorded
every step: checked on every arm, 3 seeds, 60 firms x 60 steps (the bass arm at its own size), exactly."""

from clusterup import validation


def test_statements_are_the_same_without_the_unread_network_indicators():
    lean = validation.run_ensemble(3, validation.BASE_SEED, steps=60, firms=60)
    full = validation.run_ensemble(3, validation.BASE_SEED, steps=60, firms=60,
                                   overrides=lambda arm, preset: {"run.network_every": 1})  # fmt: skip
    some = next(iter(lean.runs.values()))
    assert some["social_clustering"].isna().sum() == len(some) - 2  # recorded at the first and last step only
    assert full.runs[next(iter(full.runs))]["social_clustering"].notna().all()
    assert validation.evaluate(lean, seed=1) == validation.evaluate(full, seed=1)
