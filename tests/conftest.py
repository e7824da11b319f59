"""Shared helpers: hand-built tiny states for process tests."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import settings

from clusterup.params import Params
from clusterup.processes import REGISTRY
from clusterup.schedule import Schedule
from clusterup.state import FIRM, Multiplex, Population, State, StepContext

# CI runs the generated cases from a fixed derandomised stream (no flaky red runs); locally they vary.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def make_state(
    capability,
    *,
    generation=None,
    segment=None,
    rd=None,
    wealth=None,
    knowledge=None,
    ties=None,
    orgs=(),
    params: Params | None = None,
    domains: int = 4,
) -> State:
    """A state with the given firms (slots 0..n-1), then organisations of the given kinds, and ties.

    ``ties`` maps a layer name to a list of ``(i, j, w)``.
    """
    params = params or Params()
    n = len(capability)
    pop = Population(domains, capacity=n + len(orgs) + 4, fields=FIELDS)
    idx = pop.add(n, FIRM)
    pop.capability[idx] = capability
    pop.generation[idx] = generation if generation is not None else 0
    pop.segment[idx] = segment if segment is not None else 0
    pop.rd[idx] = rd if rd is not None else 0.5
    pop.wealth[idx] = wealth if wealth is not None else 10.0
    if knowledge is None:
        knowledge = np.zeros((n, domains))
        knowledge[:, 0] = 1.0
    pop.knowledge[idx] = knowledge
    for kind in orgs:
        o = pop.add(1, kind)
        pop.knowledge[o] = np.full(domains, 1.0 / domains)
        pop.capacity[o] = 2
    state = State(params=params, pop=pop, net=Multiplex(), frontier=1.0, initial_firms=n)
    state.external_knowledge = np.full(domains, 1.0 / domains)
    for layer, edges in (ties or {}).items():
        if edges:
            i, j, w = zip(*edges, strict=True)
            state.net[layer].add(np.array(i), np.array(j), np.array(w, dtype=float))
    fresh_ctx(state)
    return state


FIELDS = Schedule([cls(Params()) for cls in REGISTRY]).fields()  # every field the registered processes declare
_CONTEXTS: dict[int, StepContext] = {}


def copy_ctx(ctx: StepContext) -> StepContext:
    """A deep copy of a step context (its declared fields and their values)."""
    return copy.deepcopy(ctx)


def before_process(sim, name: str):
    """Step ``sim`` once and return the process ``name`` with copies of the state and the step's context as the
    process found them."""
    proc = next(p for p in sim.schedule if p.name == name)
    own, got = proc.step, {}

    def spy(state, ctx, rng):
        got["state"], got["ctx"] = copy.deepcopy(state), copy_ctx(ctx)
        return own(state, ctx, rng)

    proc.step = spy
    try:
        sim.step()
    finally:
        proc.step = own
    return proc, got["state"], got["ctx"]


def fresh_ctx(state: State) -> StepContext:
    """A new step context for ``state`` (every field the registered processes declare), as a step starts."""
    ctx = _CONTEXTS[id(state)] = Schedule([cls(state.params) for cls in REGISTRY]).start_step()
    return ctx


def ctx_of(state: State) -> StepContext:
    """The current step context of a test state."""
    return _CONTEXTS[id(state)] if id(state) in _CONTEXTS else fresh_ctx(state)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """``clusterup compile`` into a directory of its own, as a user runs it (about a minute), once for the tests
    that use kernels compiled ahead of time (tests/test_aot.py, the start-up benchmark's ``--aot``)."""
    from clusterup import aot

    place = tmp_path_factory.mktemp("aot")
    env = {**os.environ, aot.PLACE: str(place)}
    env.pop(aot.SWITCH, None)
    done = subprocess.run([sys.executable, "-m", "clusterup", "compile"], env=env, capture_output=True, text=True,
                          timeout=1800)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "kernel signatures compiled ahead of time" in done.stdout
    return place
