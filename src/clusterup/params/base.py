"""Declaring parameters: the strict section base, field helpers, one-line error messages, TOML in and out.

Every parameter is a field of a :class:`Section` with a type, a range and a one-line description.
Unknown keys, wrong types, NaN and out-of-range values are rejected with a one-line
:class:`~clusterup.errors.ConfigError` that names the dotted key and what is allowed, e.g.
``spillover.social must be in [0, 1]; got 1.7``. A process declares its own section in its own module
with these helpers (see docs/extending.md).
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

import annotated_types as at
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError

_CONFIG = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, validate_assignment=True)


class Section(BaseModel):
    """Base of every parameter section: strict, finite, no unknown keys."""

    model_config = _CONFIG


def number(default: float, lo: float | None = None, hi: float | None = None, desc: str = "", *, gt: bool = False) -> Any:
    """A float field in [lo, hi] (or (lo, hi] with ``gt``)."""
    kw: dict[str, Any] = {"description": desc}
    if lo is not None:
        kw["gt" if gt else "ge"] = lo
    if hi is not None:
        kw["le"] = hi
    return Field(default, **kw)


def integer(default: int, lo: int | None = None, hi: int | None = None, desc: str = "") -> Any:
    """An integer field in [lo, hi]."""
    kw: dict[str, Any] = {"description": desc}
    if lo is not None:
        kw["ge"] = lo
    if hi is not None:
        kw["le"] = hi
    return Field(default, **kw)


def switch(default: bool = True, desc: str = "Run this process each step.") -> Any:
    """A true/false field (``enabled`` switches a process on and off)."""
    return Field(default, description=desc)


# --------------------------------------------------------------------------------------------
# Error messages


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def field_bounds(field_info: Any) -> tuple[float | None, bool, float | None, bool]:
    """(lower, lower is open, upper, upper is open) of a declared field; None where unbounded."""
    lo = hi = None
    lo_open = hi_open = False
    for m in field_info.metadata:
        if isinstance(m, at.Ge):
            lo = m.ge
        elif isinstance(m, at.Gt):
            lo, lo_open = m.gt, True
        elif isinstance(m, at.Le):
            hi = m.le
        elif isinstance(m, at.Lt):
            hi, hi_open = m.lt, True
    return lo, lo_open, hi, hi_open


def bounds_text(field_info: Any) -> str:
    """The allowed range in words: ``in [0, 1]``, ``>= 0``, or empty."""
    lo, lo_open, hi, hi_open = field_bounds(field_info)
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{_num(lo)}, {_num(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {_num(lo)}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {_num(hi)}"
    return ""


def _field(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    info = None
    for part in loc:
        info = model.model_fields.get(str(part)) if model is not None else None
        if info is None:
            return None
        ann = info.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None  # type: ignore[assignment]
    return info


def type_name(info: Any) -> str:
    ann = info.annotation
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "a table"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(ann, str(ann))


def describe_error(err: dict[str, Any], model: type[BaseModel]) -> str:
    """One line for one pydantic error, naming the dotted key and what is allowed."""
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc)
    got = err.get("input")
    if err["type"] == "extra_forbidden":
        parent = _field(model, loc[:-1]) if len(loc) > 1 else None
        sub = parent.annotation if parent is not None else model
        allowed = ", ".join(sub.model_fields)
        return f"unknown key {key}; allowed keys{' in [' + '.'.join(map(str, loc[:-1])) + ']' if len(loc) > 1 else ''}: {allowed}"
    if err["type"] == "value_error":  # a rule across fields; the message names them
        return str(err["msg"]).removeprefix("Value error, ")
    info = _field(model, loc)
    if info is None:
        return f"{key}: {err['msg']}"
    bounds = bounds_text(info)
    want = type_name(info) + (f" {bounds}" if bounds else "")
    if isinstance(got, float) and not math.isfinite(got):
        return f"{key} must be a finite number {bounds}; got {got}".replace("  ", " ")
    return f"{key} must be {want}; got {got!r}"


def validate_model(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """Validate a nested dict into ``model``, raising a one-line ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_error(exc.errors()[0], model)) from None


# --------------------------------------------------------------------------------------------
# TOML in and out, overrides


def read_text_file(path: str | Path, kind: str) -> str:
    """A user's file as UTF-8 text; a missing or unreadable file is one ConfigError line."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{kind} file {p} does not exist")
    try:
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{kind} file {p}: cannot read it ({exc})") from None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: malformed TOML: {exc}") from None


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def parse_value(text: str) -> Any:
    """A ``--set`` value: read as a TOML value (number, bool, string, list), else a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["a.b=1", ...]`` -> ``{"a.b": 1}``; a malformed item is a ConfigError."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set takes key.path=value; got {item!r}")
        out[key] = parse_value(value.strip())
    return out


INTERVENTION_KEY = re.compile(r"^interventions\[(\d+)\]\.(step|until|set\.(.+))$")


def intervention_key(dotted: str) -> tuple[int, str, str | None] | None:
    """``interventions[K].step``, ``.until`` or ``.set.SECTION.KEY`` -> (K, field, parameter key); else None."""
    m = INTERVENTION_KEY.match(dotted)
    if m is None:
        return None
    return int(m[1]), "set" if m[3] else m[2], m[3]


def _set_intervention(out: dict[str, Any], dotted: str, value: Any) -> None:
    k, field, key = intervention_key(dotted)  # type: ignore[misc]
    items = list(out.get("interventions") or [])
    if k >= len(items):
        raise ConfigError(f"{dotted}: the scenario has {len(items)} intervention(s) (interventions[0] is the first)")
    item = dict(items[k])
    if field == "set":
        item["set"] = {**dict(item.get("set") or {}), key: value}
    else:
        item[field] = value
    items[k] = item
    out["interventions"] = items


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys in a nested dict (a copy); ``interventions[K].step`` / ``.until`` / ``.set.KEY`` set a
    field of the scenario's K-th intervention. Unknown keys are left for validation to reject."""
    out = deep_merge(data, {})
    for dotted, value in overrides.items():
        if dotted.startswith("interventions["):
            if intervention_key(dotted) is None:
                raise ConfigError(f"{dotted}: write interventions[K].step, interventions[K].until or "
                                  "interventions[K].set.SECTION.KEY")  # fmt: skip
            _set_intervention(out, dotted, value)
            continue
        parts = dotted.split(".")
        node = out
        for p in parts[:-1]:
            child = node.get(p)
            if not isinstance(child, dict):
                child = {} if child is None else child
                if not isinstance(child, dict):
                    raise ConfigError(f"{dotted}: {p} is not a table")
                node[p] = child
            node[p] = dict(child)
            node = node[p]
        node[parts[-1]] = value
    return out


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):  # an inline table; dotted keys quoted
        return "{ " + ", ".join(f"{toml_value(str(k)) if not str(k).isidentifier() else k} = {toml_value(x)}"
                                for k, x in v.items()) + " }"  # fmt: skip
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps_toml(data: dict[str, Any], comments: dict[str, str] | None = None) -> str:
    """Write a nested dict of scalars and lists as TOML (top-level scalars first, then tables); ``comments``
    (dotted key -> text) puts a ``# text`` line above each key it names."""
    comments = comments or {}

    def entry(key: str, value: Any) -> list[str]:
        name = key.rsplit(".", 1)[-1]
        note = comments.get(key)
        return ([f"# {note}"] if note else []) + [f"{name} = {toml_value(value)}"]

    def array_of_tables(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)

    lines = [x for k, v in data.items() if not isinstance(v, dict) and not array_of_tables(v) for x in entry(k, v)]

    def table(prefix: str, d: dict[str, Any]) -> None:
        lines.append("")
        lines.append(f"[{prefix}]")
        lines.extend(x for k, v in d.items() if not isinstance(v, dict) for x in entry(f"{prefix}.{k}", v))
        for k, v in d.items():
            if isinstance(v, dict):
                table(f"{prefix}.{k}", v)

    for k, v in data.items():
        if isinstance(v, dict):
            table(k, v)
    for k, v in data.items():
        if array_of_tables(v):
            for item in v:
                lines += ["", f"[[{k}]]", *(f"{name} = {toml_value(x)}" for name, x in item.items())]
    return "\n".join(lines) + "\n"
