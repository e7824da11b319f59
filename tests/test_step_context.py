"""The per-step context (clusterup.state.context.StepContext): declared fields only, typed, fresh each step,
copied whole; one class per set of declarations, so that reads are plain attribute reads."""

import copy

import numpy as np
import pytest

from clusterup.params import Params
from clusterup.schedule import Schedule
from clusterup.state.context import ContextField, StepContext

A = ContextField("count", int, "a count", int)
B = ContextField("values", np.ndarray, "an array", lambda: np.zeros(3))
C = ContextField("later", tuple, "unset until written")


def test_fields_start_at_their_defaults_and_take_only_their_type():
    ctx = StepContext([A, B, C])
    assert ctx.count == 0 and ctx.values.tolist() == [0.0, 0.0, 0.0] and ctx.later is None
    assert ctx.names == ("count", "values", "later")
    ctx.count = 3
    assert ctx.count == 3
    with pytest.raises(TypeError, match="'count' takes"):
        ctx.count = "three"
    with pytest.raises(AttributeError, match="no field 'other'; declared: count, values, later"):
        _ = ctx.other
    with pytest.raises(AttributeError, match="must declare it"):
        ctx.other = 1
    assert not hasattr(ctx, "__dict__")


def test_each_context_is_fresh_and_one_class_serves_each_set_of_fields():
    first, second = StepContext([A, B]), StepContext([A, B])
    first.values[0] = 1.0
    first.count = 5
    assert second.count == 0 and second.values[0] == 0.0
    assert type(first) is type(second)
    assert type(StepContext([A])) is not type(first)


def test_a_copy_has_the_same_fields_and_values_and_is_independent():
    ctx = StepContext([A, B, C])
    ctx.count, ctx.later = 2, (1, 2)
    dup = copy.deepcopy(ctx)
    assert dup.names == ctx.names and dup.count == 2 and dup.later == (1, 2)
    dup.values[1] = 7.0
    assert ctx.values[1] == 0.0


def test_a_field_may_not_take_a_name_the_context_uses():
    with pytest.raises(ValueError, match="'names'"):
        StepContext([ContextField("names", int, "clashes", int)])


def test_the_schedule_merges_its_declarations_once_and_again_after_a_change():
    from clusterup.processes import Process

    class Extra(Process):
        name = "extra"
        context = (ContextField("extra_value", float, "a plugin's hand-over", float),)

        def step(self, state, ctx, rng):
            pass

    schedule = Schedule.default(Params())
    fields = schedule.context_fields()
    assert schedule.context_fields() is fields
    schedule.insert(Extra(Params()), after="frontier")
    assert [f.name for f in schedule.context_fields()] == [f.name for f in fields] + ["extra_value"]
    assert schedule.start_step().extra_value == 0.0
