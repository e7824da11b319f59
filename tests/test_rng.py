"""The random-stream helpers."""

import numpy as np
import pytest

from clusterup.rng import stream, weighted_draws


@pytest.mark.parametrize("size", [0, 1, 7, 500])
@pytest.mark.parametrize("kind", ["uneven", "one heavy", "ties", "tiny"])
def test_weighted_draws_are_rng_choice_draws_from_the_same_stream(size, kind):
    # the demography's parent draw: the same indices as Generator.choice with p, and the stream left in the same
    # state (the next draw equal too)
    w = {"uneven": stream(1, "w").random(300) + 1e-12, "one heavy": np.r_[np.full(40, 1e-12), 5.0, np.full(9, 1e-12)],
         "ties": np.ones(64), "tiny": np.array([3.0])}[kind]  # fmt: skip
    a, b = stream(5, kind), stream(5, kind)
    want = a.choice(w.size, size, p=w / w.sum())
    got = weighted_draws(b, w, size)
    assert got.dtype == want.dtype == np.int64
    assert np.array_equal(got, want)
    assert a.random() == b.random()


def test_weighted_draws_follow_the_weights():
    # 20,000 draws over weights 1:2:7: each share within 0.01 of its probability (binomial sd at most 0.0033)
    got = weighted_draws(stream(3, "shares"), np.array([1.0, 2.0, 7.0]), 20_000)
    assert np.allclose(np.bincount(got, minlength=3) / got.size, [0.1, 0.2, 0.7], atol=0.01)

