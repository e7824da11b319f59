"""The population: firms and supporting organisations as parallel arrays (one owner of size).

Firms and organisations share one node index, so the network layers need no second index space.
``kind`` tells them apart: 0 is a firm, 1..4 an organisation (see :data:`ORG_KINDS`). Slots of exited
firms stay inactive until :meth:`Population.compact` removes them and returns the index map that
the network uses to follow.

Who is a firm and who is active (``kind`` and ``active``) changes only through the population's own methods
(:meth:`~Population.add`, :meth:`~Population.deactivate`, :meth:`~Population.set_kind`,
:meth:`~Population.compact`); the two arrays are read-only otherwise. So the masks and slot lists of firms and
organisations, which a step asks for some thirty times, are computed once per change and handed out
read-only.

The population holds the core fields below and every field a process declares (its
:attr:`~clusterup.processes.Process.fields`); one object grows and compacts all of them together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FIRM = 0
ORG_KINDS = {"university": 1, "institute": 2, "platform": 3, "association": 4}
KIND_NAMES = {FIRM: "firm", **{v: k for k, v in ORG_KINDS.items()}}


@dataclass(frozen=True)
class FieldSpec:
    """A per-slot field: name, NumPy dtype, the value a new slot starts with, and its meaning."""

    name: str
    dtype: str
    fill: float
    description: str = ""


CORE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", "i8", -1, "stable node id (never reused)"),
    FieldSpec("kind", "i1", 0, "0 firm, 1 university, 2 research institute, 3 service platform, 4 business association"),
    FieldSpec("active", "?", 0, "the slot holds a live node"),
    FieldSpec("capability", "f8", 0.0, "technology level"),
    FieldSpec("generation", "i4", 0, "technology generation"),
    FieldSpec("segment", "i4", 0, "value-chain segment"),
    FieldSpec("rd", "f8", 0.0, "R&D propensity"),
    FieldSpec("wealth", "f8", 0.0, "cash"),
    FieldSpec("age", "i4", 0, "age in steps"),
    FieldSpec("parent", "i8", -1, "id of the parent of a spin-off, -1 otherwise"),
    FieldSpec("x", "f8", 0.0, "location (unit square)"),
    FieldSpec("y", "f8", 0.0, "location (unit square)"),
    FieldSpec("mode", "i1", 0, "innovation mode chosen this step"),
    FieldSpec("capacity", "i8", 0, "ties an organisation can serve"),
    FieldSpec("protection", "f8", 0.0, "share of the leakage from this firm that its intellectual property blocks"),
    FieldSpec("licence_fee", "f8", 0.0, "what another firm pays this one for a licence to imitate it"),
)


def merge_fields(groups: Sequence[Sequence[FieldSpec]]) -> list[FieldSpec]:
    """Field declarations of several owners, each once; one name declared differently twice is an error."""
    out: dict[str, FieldSpec] = {}
    for group in groups:
        for f in group:
            if f.name == "knowledge" or (f.name in out and out[f.name] != f):
                raise ValueError(f"population field {f.name!r} is declared twice, differently")
            out.setdefault(f.name, f)
    return list(out.values())


class _ChangingMembers:
    """:meth:`Population._changing_members`: ``kind`` and ``active`` writeable inside, the members found again
    after, whatever happens inside."""

    __slots__ = ("pop",)

    def __init__(self, pop: Population) -> None:
        self.pop = pop

    def __enter__(self) -> None:
        self.pop.kind.flags.writeable = True
        self.pop.active.flags.writeable = True

    def __exit__(self, *exc: object) -> None:
        self.pop._members_changed()


class Population:
    """Parallel arrays over node slots ``0..n-1`` (capacity may be larger)."""

    def __init__(self, domains: int, capacity: int = 16, fields: Sequence[FieldSpec] = ()) -> None:
        self.domains = domains
        self.specs = merge_fields([CORE_FIELDS, fields])
        self.fields = tuple(f.name for f in self.specs) + ("knowledge",)
        self.n = 0
        self.next_id = 0
        self._allocate(max(capacity, 1))

    def _allocate(self, capacity: int) -> None:
        old = {name: getattr(self, name) for name in self.fields} if self.n else {}
        for spec in self.specs:
            arr = np.full(capacity, spec.fill, dtype=spec.dtype)
            if spec.name in old:
                arr[: self.n] = old[spec.name][: self.n]
            setattr(self, spec.name, arr)
        k = np.zeros((capacity, self.domains))
        if "knowledge" in old:
            k[: self.n] = old["knowledge"][: self.n]
        self.knowledge = k
        self.capacity_slots = capacity
        self._members_changed()

    def __setstate__(self, state: dict[str, Any]) -> None:  # a copy or an unpickled one: arrays come back writeable
        self.__dict__.update(state)
        self._members_changed()

    def _members_changed(self) -> None:
        self.kind.flags.writeable = False
        self.active.flags.writeable = False
        self._members: dict[str, np.ndarray] = {}

    def _changing_members(self) -> _ChangingMembers:
        """Write access to ``kind`` and ``active`` inside; the members are found again after (a plain context
        manager, not a generator's: entrants and exits use it every step)."""
        return _ChangingMembers(self)

    def _member(self, what: str) -> np.ndarray:
        found = self._members.get(what)
        if found is None:
            n = self.n
            if what == "firm":
                found = (self.kind[:n] == FIRM) & self.active[:n]
            elif what == "org":
                found = (self.kind[:n] != FIRM) & self.active[:n]
            elif what == "node":
                found = self.active[:n]
            else:  # "firms", "orgs" or "nodes": the slots of the mask, as np.flatnonzero gives them
                found = self._member(what[:-1]).nonzero()[0]
            found.flags.writeable = False
            self._members[what] = found
        return found

    def __len__(self) -> int:
        return self.n

    def add(self, count: int, kind: int = FIRM) -> np.ndarray:
        """Append ``count`` active nodes of ``kind``; return their slot indices."""
        if self.n + count > self.capacity_slots:
            self._allocate(max(2 * self.capacity_slots, self.n + count))
        new = slice(self.n, self.n + count)
        with self._changing_members():
            for spec in self.specs:
                getattr(self, spec.name)[new] = spec.fill
            self.knowledge[new] = 0.0
            self.id[new] = np.arange(self.next_id, self.next_id + count)
            self.kind[new] = kind
            self.active[new] = True
            self.next_id += count
            self.n += count
        return np.arange(new.start, new.stop)

    def deactivate(self, slots: np.ndarray) -> None:
        """The nodes in ``slots`` leave (their slots stay, inactive, until :meth:`compact`)."""
        with self._changing_members():
            self.active[slots] = False

    def set_kind(self, slots: np.ndarray, kind: np.ndarray | int) -> None:
        """Make the nodes in ``slots`` of ``kind`` (codes as in :data:`KIND_NAMES`)."""
        with self._changing_members():
            self.kind[slots] = kind

    def view(self, name: str) -> np.ndarray:
        """The used part of a field (slots ``0..n-1``)."""
        return getattr(self, name)[: self.n]

    @property
    def is_firm(self) -> np.ndarray:
        """Per slot: an active firm (read-only)."""
        return self._member("firm")

    @property
    def is_org(self) -> np.ndarray:
        """Per slot: an active organisation (read-only)."""
        return self._member("org")

    def firms(self) -> np.ndarray:
        """Slot indices of active firms (read-only)."""
        return self._member("firms")

    def orgs(self) -> np.ndarray:
        """Slot indices of active organisations (read-only)."""
        return self._member("orgs")

    def nodes(self) -> np.ndarray:
        """Slot indices of active nodes, firms and organisations (read-only). The same array object until
        the members change: a caller may key a cache on it."""
        return self._member("nodes")

    def compact(self) -> np.ndarray | None:
        """Drop inactive slots. Returns the old->new slot map (-1 for dropped), or None if nothing moved."""
        keep = self.active[: self.n]
        if keep.all():
            return None
        mapping = np.full(self.n, -1, dtype=np.int64)
        kept = np.flatnonzero(keep)
        mapping[kept] = np.arange(kept.size)
        with self._changing_members():
            for name in self.fields:
                arr = getattr(self, name)
                arr[: kept.size] = arr[kept]
            self.n = int(kept.size)
            for spec in self.specs:
                getattr(self, spec.name)[self.n :] = spec.fill
        return mapping

    def items(self) -> Iterator[tuple[str, np.ndarray]]:
        for name in self.fields:
            yield name, self.view(name)

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self.fields)

    # -- save and restore ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild this population: sizes and the used part of every field."""
        return {"n": self.n, "next_id": self.next_id, "domains": self.domains,
                "fields": {name: arr.copy() for name, arr in self.items()}}  # fmt: skip

    @classmethod
    def from_state_dict(cls, d: dict[str, Any], fields: Sequence[FieldSpec] = ()) -> Population:
        """The population a :meth:`state_dict` describes (with room to grow), declared ``fields`` included."""
        n = int(d["n"])
        pop = cls(int(d["domains"]), capacity=max(n, 1), fields=fields)
        stored = d["fields"]
        missing = [name for name in pop.fields if name not in stored]
        if missing:
            raise ValueError(f"the saved population lacks the field(s) {', '.join(missing)}")
        with pop._changing_members():
            pop.n = n
            pop.next_id = int(d["next_id"])
            for name in pop.fields:
                getattr(pop, name)[:n] = stored[name]
        return pop


def bytes_per_slot(domains: int, fields: Sequence[FieldSpec] = ()) -> int:
    """Bytes one slot takes with the core fields, ``fields`` and ``domains`` knowledge shares."""
    specs = merge_fields([CORE_FIELDS, fields])
    return sum(np.dtype(f.dtype).itemsize for f in specs) + 8 * domains
