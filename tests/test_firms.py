import numpy as np
import pytest

from clusterup.state import FIRM, ORG_KINDS, Population


def test_add_grows_capacity_and_keeps_values():
    pop = Population(3, capacity=2)
    a = pop.add(2)
    pop.capability[a] = [1.0, 2.0]
    pop.knowledge[a] = [[1, 0, 0], [0, 1, 0]]
    b = pop.add(5, ORG_KINDS["university"])
    assert pop.n == 7 and pop.capacity_slots >= 7
    assert pop.capability[:2].tolist() == [1.0, 2.0]
    assert pop.knowledge[1].tolist() == [0, 1, 0]
    assert pop.view("id").tolist() == list(range(7))
    assert (pop.kind[b] == ORG_KINDS["university"]).all() and pop.is_firm.sum() == 2
    assert pop.firms().tolist() == [0, 1] and pop.orgs().tolist() == [2, 3, 4, 5, 6]


def test_compact_drops_inactive_and_keeps_ids():
    pop = Population(2)
    idx = pop.add(5, FIRM)
    pop.capability[idx] = np.arange(5.0)
    pop.deactivate([0, 3])
    mapping = pop.compact()
    assert mapping.tolist() == [-1, 0, 1, -1, 2]
    assert pop.view("capability").tolist() == [1.0, 2.0, 4.0]
    assert pop.view("id").tolist() == [1, 2, 4]
    assert pop.compact() is None
    new = pop.add(1)
    assert pop.id[new][0] == 5  # ids are never reused


def test_population_add_returns_the_new_slots_filled_with_defaults():
    pop = Population(2, capacity=4)
    first = pop.add(3)
    pop.capability[first] = 5.0
    pop.parent[first] = 9
    pop.deactivate(first[1])
    pop.compact()
    new = pop.add(4, ORG_KINDS["platform"])
    assert new.dtype == np.int64 and new.tolist() == [2, 3, 4, 5]
    assert pop.capability[new].tolist() == [0.0] * 4 and pop.parent[new].tolist() == [-1] * 4
    assert pop.active[new].all() and (pop.kind[new] == ORG_KINDS["platform"]).all()
    assert pop.view("id").tolist() == [0, 2, 3, 4, 5, 6] and pop.knowledge[new].sum() == 0.0


def test_members_are_found_once_per_change_and_handed_out_read_only():
    pop = Population(2, capacity=4)
    pop.add(3)
    pop.add(2, ORG_KINDS["university"])
    firms, nodes = pop.firms(), pop.nodes()
    assert pop.firms() is firms and pop.is_firm is pop.is_firm  # nothing changed: not computed again
    assert pop.nodes() is nodes and nodes.tolist() == [0, 1, 2, 3, 4]  # firms and organisations
    for a in (firms, nodes, pop.orgs(), pop.is_firm, pop.is_org):
        assert not a.flags.writeable
    with pytest.raises(ValueError):  # membership changes only through the methods below
        pop.active[0] = False
    with pytest.raises(ValueError):
        pop.view("kind")[0] = 2
    pop.deactivate(np.array([1]))
    assert pop.firms().tolist() == [0, 2] and pop.is_firm.tolist() == [True, False, True, False, False]
    assert pop.nodes() is not nodes and pop.nodes().tolist() == [0, 2, 3, 4]
    pop.set_kind(np.array([0]), ORG_KINDS["platform"])
    assert pop.firms().tolist() == [2] and pop.orgs().tolist() == [0, 3, 4]
    new = pop.add(2)
    assert pop.firms().tolist() == [2, *new.tolist()]
    pop.compact()
    assert pop.firms().tolist() == [1, 4, 5] and pop.orgs().tolist() == [0, 2, 3]
    back = Population.from_state_dict(pop.state_dict())
    assert back.firms().tolist() == [1, 4, 5] and not back.active.flags.writeable
    assert np.array_equal(back.is_org, pop.is_org)


def test_a_copied_or_unpickled_population_keeps_its_members_read_only():
    import copy
    import pickle

    pop = Population(2)
    pop.add(3)
    pop.deactivate(np.array([0]))
    for other in (copy.deepcopy(pop), pickle.loads(pickle.dumps(pop))):
        assert other.firms().tolist() == [1, 2] and not other.active.flags.writeable
        other.deactivate(np.array([1]))
        assert other.firms().tolist() == [2] and pop.firms().tolist() == [1, 2]
