"""Property-based tests: every input is accepted and runs, or is rejected with exit code 2 and one
clear line; never a traceback, a hang or partial output. 1,280 generated cases in all."""

import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from clusterup.cli import main
from clusterup.errors import ConfigError
from clusterup.params import Params, field_bounds

FIELDS = []
for sec, info in Params.model_fields.items():
    ann = info.annotation
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        for key, sub in ann.model_fields.items():
            FIELDS.append((f"{sec}.{key}", sub))


def _value_text(draw, info) -> str:
    """A --set value: sometimes inside the declared range, sometimes not, sometimes not a number."""
    lo, _, hi, _ = field_bounds(info)
    kind = draw(st.sampled_from(["inside", "outside", "junk"]))
    if kind == "junk":
        return draw(st.sampled_from(["nan", "inf", "-inf", '"text"', "[1, 2]", "true", "", "1e400", "{a = 1}", "0x10"]))
    if info.annotation is bool:
        return draw(st.sampled_from(["true", "false", "1", '"yes"']))
    span_lo = lo if lo is not None else -1e3
    span_hi = min(hi if hi is not None else 1e3, 1e3)
    if kind == "inside":
        x = draw(st.floats(min_value=span_lo, max_value=max(span_lo, span_hi), allow_nan=False))
    else:
        x = draw(st.sampled_from([span_lo - 1, span_hi + 1, -1e9, 1e12]))
    if info.annotation is int:
        return str(int(math.floor(x)))
    return repr(float(x))


def _check(code: int, err: str) -> None:
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_set_values_validate_with_one_line_or_pass(data, capsys):
    key, info = data.draw(st.sampled_from(FIELDS))
    text = _value_text(data.draw, info)
    code = main(["show-config", "--set", f"{key}={text}"])
    out, err = capsys.readouterr()
    _check(code, err)
    if code == 0:
        assert "[run]" in out
    else:
        assert out == ""


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_runs_either_run_or_refuse_and_write_nothing(data, capsys, tmp_path_factory):
    key, info = data.draw(st.sampled_from([f for f in FIELDS if not f[0].startswith("run.")]))
    text = _value_text(data.draw, info)
    out = tmp_path_factory.mktemp("p") / "out"
    argv = ["run", "--steps", "3", "--firms", "12", "--set", f"{key}={text}", "--out", str(out), "--quiet"]
    code = main(argv)
    _, err = capsys.readouterr()
    _check(code, err)
    if code == 0:
        assert (out / "metadata.json").exists()
    else:
        assert not out.exists()


FLAG_VALUES = st.sampled_from(["-5", "0", "1", "3", "abc", "", "2.5", "99999999999999999999", "-0"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=FLAG_VALUES, steps=FLAG_VALUES, firms=FLAG_VALUES, preset=st.sampled_from(["baseline", "lock-in", "nope", ""]))
def test_generated_cli_flags(seed, steps, firms, preset, capsys, tmp_path_factory):
    out = tmp_path_factory.mktemp("f") / "out"
    small_enough = steps.lstrip("-").isdigit() and int(steps) <= 3 and firms.lstrip("-").isdigit() and int(firms) <= 30
    if not small_enough:  # keep accepted runs tiny; big values are still parsed and range-checked by show-config
        code = main(["show-config", *([preset] if preset else []), "--set", f"run.seed={seed or 0}"])
        _, err = capsys.readouterr()
        _check(code, err)
        return
    argv = ["run", *([preset] if preset else []), "--seed", seed, "--steps", steps, "--firms", firms, "--out", str(out), "--quiet"]
    code = main(argv)
    _, err = capsys.readouterr()
    _check(code, err)
    assert out.exists() == (code == 0)


TOML_PIECES = st.sampled_from([
    "[run]\n", "steps = 3\n", "firms = 12\n", "seed = 1\n", "[market]\n", "demand = -1\n", "demand = 2.0\n",
    "[nosuch]\n", "x = 1\n", 'extends = "baseline"\n', 'extends = "nope"\n', 'extends = 3\n', "= = =\n",
    "[technology]\n", "appropriability = 0.3\n", "appropriability = nan\n", "[run\n", "steps = \"3\"\n",
    'name = "fuzz"\n', "[integrated]\n", "enabled = false\n", "enabled = 0\n",
])  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(TOML_PIECES, max_size=8))
def test_generated_scenario_files(pieces, capsys, tmp_path_factory):
    d = tmp_path_factory.mktemp("t")
    f = d / "s.toml"
    f.write_text("".join(pieces))
    out = d / "out"
    code = main(["run", str(f), "--steps", "3", "--firms", "12", "--out", str(out), "--quiet"])
    _, err = capsys.readouterr()
    _check(code, err)
    assert out.exists() == (code == 0)


def _draw_valid(draw, info):
    lo, lo_open, hi, _ = field_bounds(info)
    if info.annotation is bool:
        return draw(st.booleans())
    top = min(hi if hi is not None else 50.0, 50.0)
    if info.annotation is int:
        return draw(st.integers(min_value=int(lo or 0), max_value=int(max(lo or 0, min(top, 20)))))
    return draw(st.floats(min_value=lo or 0.0, max_value=max(lo or 0.0, top), exclude_min=lo_open, allow_nan=False))


@settings(max_examples=int(os.environ.get("CLUSTERUP_ROBUSTNESS_EXAMPLES", "60")), deadline=None)
@given(data=st.data())
def test_random_valid_parameters_keep_the_state_sound(data):
    """Any parameters inside their declared ranges: no NaN or inf, no negative capability, no ties to
    exited firms, knowledge stays a distribution; extinction ends the run cleanly."""
    import numpy as np

    from clusterup import Simulation

    keys = data.draw(
        st.lists(
            st.sampled_from([f for f in FIELDS if not f[0].startswith("run.")]), min_size=1, max_size=6, unique_by=lambda f: f[0]
        )
    )
    overrides = {key: _draw_valid(data.draw, info) for key, info in keys}
    try:
        sim = Simulation("baseline", seed=data.draw(st.integers(0, 1000)), steps=25, firms=40, overrides=overrides)
    except ConfigError as exc:  # a rule across fields (each value is inside its own range)
        assert "\n" not in str(exc) and " must be " in str(exc)
        return
    while not sim.finished:
        sim.step()
        pop = sim.state.pop
        firms = pop.firms()
        a = pop.capability[firms]
        assert np.isfinite(a).all() and (a > 0).all()
        assert np.isfinite(pop.wealth[firms]).all() and np.isfinite(pop.rd[firms]).all()
        q = pop.knowledge[firms]
        assert np.isfinite(q).all() and np.allclose(q.sum(axis=1), 1.0)
        active = pop.view("active")
        for layer in sim.state.net:
            assert active[layer.i].all() and active[layer.j].all() and np.isfinite(layer.w).all()
    res = sim.result()
    assert np.isfinite(res.timeseries.to_numpy(dtype=float)).all()
    if res.metadata["extinct"]:
        assert res.timeseries.n_firms.iloc[-1] == 0 and "every firm exited" in res.metadata["message"]


SWEEP_TOP = st.sampled_from([
    'scenario = "baseline"\n', 'scenario = "nope"\n', 'scenario = 3\n', "replicates = 2\n", "replicates = 0\n",
    "replicates = -1\n", "seed = 4\n", "seed = -4\n", "seed = 1.5\n", "steps = 2\n", "steps = 0\n", 'steps = "2"\n',
    "firms = 8\n", "firms = 1\n", "bogus = 1\n", "= = =\n",
])  # fmt: skip
SWEEP_DESIGN = st.sampled_from([
    'kind = "grid"\n', 'kind = "lhs"\n', 'kind = "sobol"\n', 'kind = "none"\n', 'kind = "cube"\n', "kind = 1\n",
    "samples = 2\n", "samples = 0\n", 'samples = "3"\n', "extra = 1\n",
])  # fmt: skip
SWEEP_PARAMS = st.sampled_from([
    '"spillover.rate" = [0.1, 0.3]\n', '"spillover.rate" = [0.3, 0.1]\n', '"spillover.rate" = []\n',
    '"spillover.rate" = [0.1, 50.0]\n', '"local.rate" = [0.1, 0.5]\n', '"rd_learning.peers" = [1, 4]\n',
    '"spillover.enabled" = [true, false]\n', '"nosuch.key" = [1, 2]\n', '"scenario" = ["lock-in", "baseline"]\n',
    '"scenario" = ["nope"]\n', '"technology.appropriability" = ["a", "b"]\n', '"local.rate" = [0.1, 0.2, 0.3]\n',
    '"spillover.rate" = 0.2\n',
])  # fmt: skip


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(top=st.lists(SWEEP_TOP, max_size=5), design=st.lists(SWEEP_DESIGN, max_size=3), params=st.lists(SWEEP_PARAMS, max_size=3))
def test_generated_sweep_files(top, design, params, capsys, tmp_path_factory):
    """Generated sweep files either run (tiny sizes, serial) or exit 2 with one line and write nothing."""
    d = tmp_path_factory.mktemp("sw")
    body = "".join(top) + "[design]\n" + "".join(design) + "[design.parameters]\n" + "".join(params)
    body = body if "steps =" in body else "steps = 2\n" + body
    body = body if "firms =" in body else "firms = 8\n" + body
    f = d / "s.toml"
    f.write_text(body)
    out = d / "out"
    code = main(["sweep", str(f), "--out", str(out), "--executor", "serial", "--quiet"])
    _, err = capsys.readouterr()
    _check(code, err)
    assert out.exists() == (code == 0)
    if code == 0:  # every planned run finished and is in the runs view
        from clusterup.experiments import ExperimentStore

        store = ExperimentStore.open(out)
        assert len(store.records()) == len(store.plan().runs) > 0
