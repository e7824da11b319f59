import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from clusterup.errors import ConfigError
from clusterup.params import Params, describe_parameters, field_bounds, load_scenario, parse_toml, preset_names

PRESETS = {
    "baseline", "no-integrated", "lock-in", "opportunism", "path2-early-technology",
    "policy-institutions", "policy-pipelines", "policy-ip-protection", "bass",
}  # fmt: skip


def declared_fields():
    """(section, key, FieldInfo) for every parameter."""
    for sec, info in Params.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            for key, sub in ann.model_fields.items():
                yield sec, key, sub


def bounds(info):
    lo, lo_open, hi, _ = field_bounds(info)
    return (None if lo is None else (lo, lo_open)), hi


def test_presets_are_shipped_and_valid():
    assert set(preset_names()) == PRESETS
    for name in PRESETS:
        p = load_scenario(name)
        assert p.name == name and p.description


def test_policy_presets_extend_their_base():
    lock = load_scenario("lock-in")
    inst = load_scenario("policy-institutions")
    assert lock.organisations.universities == 0 and inst.organisations.universities > 0
    assert inst.social.triadic == lock.social.triadic  # inherited through extends
    assert load_scenario("policy-pipelines").pipelines.enabled and not lock.pipelines.enabled
    ip, opp, base = load_scenario("policy-ip-protection"), load_scenario("opportunism"), load_scenario("baseline")
    assert ip.patents.enabled and not opp.patents.enabled and not base.patents.enabled  # an instrument, added
    assert ip.technology.appropriability == opp.technology.appropriability  # the informal appropriability stays weak
    differ = {k: v for k, v in ip.to_dict().items() if k not in ("name", "description") and base.to_dict()[k] != v}
    assert set(differ) == {"technology", "patents"}  # not the baseline under another name
    assert not load_scenario("no-integrated").integrated.enabled


def test_every_parameter_is_declared_with_a_description():
    rows = describe_parameters()
    assert len(rows) > 80
    for key, typ, _, desc in rows:
        assert desc, key
        assert typ in {"true or false", "an integer", "a number"}, key


def _invalid_values(info):
    """Values the declaration must reject: out of range, wrong type, non-finite."""
    ann = info.annotation
    lo, hi = bounds(info)
    bad = []
    if ann is bool:
        return [1, "yes", 0.5]
    if lo is not None:
        bad.append(lo[0] if lo[1] else lo[0] - (1 if ann is int else 1e-6 * max(1, abs(lo[0])) + 1e-9))
    if hi is not None:
        bad.append(hi + (1 if ann is int else 1e-6 * max(1, abs(hi)) + 1e-9))
    bad.append("1")  # a string is never a number
    bad.append(True)  # nor is a boolean
    if ann is float:
        bad += [math.nan, math.inf]
    else:
        bad.append(1.5)
    return bad


@pytest.mark.parametrize("sec,key,info", list(declared_fields()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_declared_constraint_rejects_invalid_values(sec, key, info):
    for value in _invalid_values(info):
        with pytest.raises(ConfigError) as err:
            Params().with_overrides({f"{sec}.{key}": value})
        msg = str(err.value)
        assert msg.startswith(f"{sec}.{key} must be"), msg
        assert "\n" not in msg


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_values_inside_declared_ranges_are_accepted(data):
    sec, key, info = data.draw(st.sampled_from(list(declared_fields())))
    lo, hi = bounds(info)
    ann = info.annotation
    if ann is bool:
        value = data.draw(st.booleans())
    elif ann is int:
        value = data.draw(st.integers(min_value=lo[0] if lo else -100, max_value=min(hi if hi is not None else 10**6, 10**6)))
    else:
        value = data.draw(
            st.floats(
                min_value=lo[0] if lo else -1e6,
                max_value=hi if hi is not None else 1e6,
                exclude_min=bool(lo and lo[1]),
                allow_nan=False,
            )
        )
    try:
        p = Params().with_overrides({f"{sec}.{key}": value})
    except ConfigError as exc:  # only a rule across fields may refuse a value inside its own range
        assert "init.home_domains must be <= init.domains" in str(exc)
        return
    assert getattr(getattr(p, sec), key) == value


def test_unknown_keys_name_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"unknown key spillover.rte; allowed keys in \[spillover\]: enabled, rate, social"):
        Params().with_overrides({"spillover.rte": 0.1})
    with pytest.raises(ConfigError, match="unknown key nosuchsection"):
        Params().with_overrides({"nosuchsection.x": 1})


def test_toml_round_trip_is_exact(tmp_path):
    for name in PRESETS:
        p = load_scenario(name)
        f = tmp_path / f"{name}.toml"
        f.write_text(p.to_toml())
        assert load_scenario(f) == p.model_copy(update={"name": p.name})


def test_user_file_extends_a_preset_and_overrides(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('extends = "lock-in"\nname = "mine"\n[technology]\nappropriability = 0.3\n')
    p = load_scenario(f, {"run.steps": 7})
    assert p.name == "mine" and p.technology.appropriability == 0.3 and p.run.steps == 7
    assert p.organisations.universities == 0  # from lock-in
    g = tmp_path / "child.toml"
    g.write_text('extends = "mine.toml"\n[run]\nseed = 9\n')
    assert load_scenario(g).technology.appropriability == 0.3


def test_circular_extends_is_an_error(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ConfigError, match="circular"):
        load_scenario(tmp_path / "a.toml")


def test_malformed_toml_names_the_line(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[run]\nsteps = 10\nseed = = 3\n")
    with pytest.raises(ConfigError, match=r"line 3"):
        load_scenario(f)
    with pytest.raises(ConfigError, match="malformed TOML"):
        parse_toml("x = [", "inline")


def test_unknown_preset_lists_presets():
    with pytest.raises(ConfigError, match="unknown scenario 'nope'; presets: baseline"):
        load_scenario("nope")


def test_rules_across_fields_name_both_keys():
    with pytest.raises(ConfigError, match=r"init.home_domains must be <= init.domains \(10\); got 11"):
        Params().with_overrides({"init.home_domains": 11})
    assert Params().with_overrides({"init.home_domains": 12, "init.domains": 12}).init.home_domains == 12
