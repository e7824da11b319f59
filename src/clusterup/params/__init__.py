"""Declared, validated parameters: the core sections plus one section per registered process.

Every parameter has a type, a range and a one-line description, declared next to the code that uses it
(a process declares its own section in its own module; :mod:`clusterup.params.core` holds the sections
no single process owns). :class:`Params` is assembled from them. Unknown keys, wrong types, NaN and
out-of-range values are rejected with a one-line :class:`~clusterup.errors.ConfigError` that names the
dotted key and what is allowed, e.g. ``spillover.social must be in [0, 1]; got 1.7``.

Parameters travel as TOML: a scenario file may ``extends = "baseline"`` (a preset name or a path
relative to the file) and override any key; ``--set section.key=value`` overrides on top. A scenario may
also add processes of its own with ``plugins = ["my_process.py:MyProcess"]`` (docs/extending.md).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from ..errors import ConfigError
from .base import (
    Section,
    apply_overrides,
    bounds_text,
    deep_merge,
    describe_error,
    dumps_toml,
    field_bounds,
    integer,
    number,
    parse_assignments,
    parse_toml,
    parse_value,
    read_text_file,
    switch,
    type_name,
    validate_model,
)
from .core import CORE_SECTIONS, FrontierParams, InitParams, OrganisationParams, RunParams, TechnologyParams

if TYPE_CHECKING:
    from ..processes import Process


class Intervention(BaseModel):
    """A policy the user starts, changes or stops during a run: from step ``step`` on, the parameters in
    ``set`` take these values; with ``until``, the values in force before come back after step ``until``.
    An exogenous choice of the user, applied by the engine between steps (docs/ODD.md, 7 Submodels)."""

    model_config = ConfigDict(extra="forbid")
    step: int = Field(ge=1, le=1_000_000, description="First step the values hold for (the run's row `step` shows them).")
    until: int | None = Field(None, ge=1, le=1_000_000, description="Last step they hold for; then the earlier values return.")
    set: dict[str, Any] = Field(min_length=1, description="Dotted parameter keys and their values.")
    label: str = Field("", description="A name for figures and the metadata (default: the keys).")
    ramp: bool = Field(False, description="Move linearly from the values in force before to these, reaching them "
                       "at step `until` (required), and keep them after.")  # fmt: skip

    def describe(self) -> str:
        return self.label or ", ".join(f"{k} = {v}" for k, v in self.set.items())


def _ramped(base: dict[str, Any], iv: Intervention, step: int) -> dict[str, Any]:
    """A ramp's values at ``step``: the share ``(step - iv.step + 1) / (iv.until - iv.step + 1)`` (at most 1)
    of the way from the values in ``base`` to its own (integers rounded)."""
    share = min(1.0, (step - iv.step + 1) / (iv.until - iv.step + 1))
    out = {}
    for key, target in iv.set.items():
        section, _, name = key.partition(".")
        old = base[section][name]
        value = old + (target - old) * share
        out[key] = int(round(value)) if isinstance(old, int) and not isinstance(old, bool) else float(value)
    return out


FROZEN_SECTIONS = ("run", "init")  # the start of a run: an intervention cannot change them
GROWING = ("organisations.universities", "organisations.institutes", "organisations.platforms", "organisations.associations")


class ParamsBase(Section):
    """All parameters of a run: the scenario's name, its plugins, its interventions in time, and one section
    per core part and process."""

    name: str = Field("custom", description="Scenario name.")
    description: str = Field("", description="One-line description of the scenario.")
    plugins: list[str] = Field(
        default_factory=list, description="Processes added by the scenario: 'file.py:Class' or 'module:Class'."
    )
    interventions: list[Intervention] = Field(
        default_factory=list, description="Policies started, changed or stopped during the run."
    )

    @model_validator(mode="after")
    def _check_interventions(self) -> ParamsBase:
        steps = self.run.steps  # type: ignore[attr-defined]
        for k, iv in enumerate(self.interventions):
            where = f"interventions[{k}]"
            if iv.step > steps:
                raise ValueError(f"{where}.step must be <= run.steps ({steps}); got {iv.step}")
            if iv.until is not None and not iv.step <= iv.until <= steps:
                raise ValueError(f"{where}.until must be in [step, run.steps] = [{iv.step}, {steps}]; got {iv.until}")
            for key in iv.set:
                section, _, name = key.partition(".")
                info = type(self).model_fields.get(section)
                ann = info.annotation if info is not None else None
                if not (isinstance(ann, type) and issubclass(ann, Section)) or name not in ann.model_fields:
                    raise ValueError(f"{where}.set: unknown parameter {key!r} (see `clusterup parameters`)")
                if section in FROZEN_SECTIONS:
                    raise ValueError(f"{where}.set: {key} describes the start of the run; run.* and init.* cannot change during it")
            try:  # the values themselves, checked like any parameter
                validate_model(type(self), apply_overrides({**self.model_dump(), "interventions": []}, iv.set))
            except ConfigError as exc:
                raise ValueError(f"{where}.set: {exc}") from None
            if iv.ramp:
                if iv.until is None:
                    raise ValueError(f"{where}: a ramp needs until, the step at which it reaches its values")
                flags = [k for k, v in iv.set.items() if isinstance(v, bool) or not isinstance(v, int | float)]
                if flags:
                    raise ValueError(f"{where}.set: a ramp moves numbers; {flags[0]} is not a number")
            before = self.at_step(iv.step - 1)
            for key in set(iv.set) & set(GROWING):
                section, _, name = key.partition(".")
                if iv.set[key] < getattr(getattr(before, section), name) or (iv.until is not None and not iv.ramp):
                    raise ValueError(f"{where}.set: {key} can only grow, for good (organisations are founded, "
                                     f"not closed); got {iv.set[key]}{' with until' if iv.until is not None else ''}")  # fmt: skip
        return self

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump()
        if not d["plugins"]:
            del d["plugins"]  # configuration files of runs without plugins do not mention them
        if not d["interventions"]:
            del d["interventions"]
        else:
            d["interventions"] = [{k: v for k, v in iv.items() if v not in (None, "") and not (k == "ramp" and v is False)}
                                  for iv in d["interventions"]]  # fmt: skip
        return d

    def at_step(self, step: int) -> ParamsBase:
        """The parameters in force at ``step``: the scenario's, with every intervention that holds then applied
        in the order given (no interventions: this object itself)."""
        active = [iv for iv in self.interventions
                  if iv.step <= step and (iv.until is None or iv.ramp or step <= iv.until)]  # fmt: skip
        if not active:
            return self
        base = {**self.model_dump(), "interventions": []}
        for iv in active:
            base = apply_overrides(base, _ramped(base, iv, step) if iv.ramp else iv.set)
        return validate_model(type(self), base)

    def change_steps(self) -> list[int]:
        """The steps at whose start the parameters in force change (an intervention begins or ends; every
        step of a ramp)."""
        steps = {iv.step for iv in self.interventions}
        steps |= {iv.until + 1 for iv in self.interventions
                  if iv.until is not None and not iv.ramp and iv.until < self.run.steps}  # type: ignore[attr-defined]  # fmt: skip
        for iv in self.interventions:
            if iv.ramp and iv.until is not None:
                steps |= set(range(iv.step, iv.until + 1))
        return sorted(steps)

    def to_toml(self, commented: bool = False) -> str:
        """The configuration as TOML; ``commented`` puts each parameter's description and allowed values
        above it as a comment (what ``clusterup show-config`` prints)."""
        if not commented:
            return dumps_toml(self.to_dict())
        notes = {}
        for key, typ, rng, desc in describe_parameters(type(self)):
            allowed = f"{typ}, {rng}" if rng else typ
            notes[key] = f"{desc} [{allowed}]" if desc else allowed
        return dumps_toml(self.to_dict(), notes)

    def with_overrides(self, overrides: dict[str, Any]) -> ParamsBase:
        return from_dict(apply_overrides(self.to_dict(), overrides))

    def __reduce__(self):  # a model with plugins is built at run time: pickle by value, rebuild on load
        return (from_dict, (self.to_dict(),))


def _sections(processes: tuple[type[Process], ...]) -> dict[str, type[Section]]:
    out: dict[str, type[Section]] = dict(CORE_SECTIONS)
    for cls in processes:
        if cls.Params is None:
            if cls.section is not None and cls.section not in out:
                raise ConfigError(f"process {cls.name}: section {cls.section!r} has no parameter model (declare Params)")
            continue
        if cls.section is None:
            raise ConfigError(f"process {cls.name}: declares Params but no section name")
        if cls.section in out and out[cls.section] is not cls.Params:
            raise ConfigError(f"process {cls.name}: section {cls.section!r} is declared twice")
        out[cls.section] = cls.Params
    return out


def params_model(processes: tuple[type[Process], ...], base: type[ParamsBase] = ParamsBase) -> type[ParamsBase]:
    """A :class:`Params` model with the core sections and the sections of ``processes`` (in their order)."""
    fields: dict[str, Any] = {name: (model, Field(default_factory=model)) for name, model in _sections(processes).items()}
    if base is not ParamsBase:
        fields = {k: v for k, v in fields.items() if k not in base.model_fields}
    return create_model("Params", __base__=base, __module__=__name__, **fields)


def _registry() -> tuple[type[Process], ...]:
    from ..processes import REGISTRY

    return REGISTRY


_MODEL_LOCK = threading.Lock()


def default_model() -> type[ParamsBase]:
    """:class:`Params`, the model of the registered processes, built at its first use.

    Built lazily so that importing this package does not import the processes: a process module imports
    :mod:`clusterup.params.base` (which runs this package first), so building the model here at import
    time made ``import clusterup.processes`` (and ``clusterup schedule``) fail on a circular import."""
    model = globals().get("Params")
    if model is None:
        with _MODEL_LOCK:
            model = globals().get("Params")
            if model is None:
                model = params_model(_registry())
                model.__doc__ = ParamsBase.__doc__
                globals()["Params"] = model
    return model


def __getattr__(name: str) -> Any:
    if name == "Params":
        return default_model()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------
# Plugins: processes a scenario adds


@cache
def load_plugin(spec: str) -> type[Process]:
    """The process class named by ``'path/to/file.py:Class'`` or ``'package.module:Class'``."""
    from ..processes import Process

    where, sep, cls_name = spec.rpartition(":")
    if not sep or not where or not cls_name:
        raise ConfigError(f"plugins: {spec!r} must be 'file.py:Class' or 'module:Class'")
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise ConfigError(f"plugins: {where} does not exist")
            mod_name = "clusterup_plugin_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
            module = sys.modules.get(mod_name)
            if module is None:
                loader = importlib.util.spec_from_file_location(mod_name, path)
                module = importlib.util.module_from_spec(loader)  # type: ignore[arg-type]
                sys.modules[mod_name] = module
                loader.loader.exec_module(module)  # type: ignore[union-attr]
        else:
            module = importlib.import_module(where)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken plugin is the user's input: one line
        raise ConfigError(f"plugins: cannot load {spec!r}: {type(exc).__name__}: {exc}") from None
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Process)):
        raise ConfigError(f"plugins: {spec!r} names no Process subclass")
    return cls


def plugin_processes(plugins: list[str] | tuple[str, ...]) -> tuple[type[Process], ...]:
    return tuple(load_plugin(s) for s in plugins)


@cache
def _model_for(plugins: tuple[str, ...]) -> type[ParamsBase]:
    model = default_model()
    return params_model(plugin_processes(plugins), base=model) if plugins else model


def from_dict(data: dict[str, Any]) -> Any:
    """Validate a nested dict into :class:`Params` (with the sections of its plugins), raising a one-line ConfigError."""
    plugins = data.get("plugins") or []
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise ConfigError("plugins must be a list of strings ('file.py:Class' or 'module:Class')")
    return validate_model(_model_for(tuple(plugins)), data)


def field_info(key: str, model: type[ParamsBase] | None = None) -> Any:
    """The declared field of a dotted parameter key (``interventions[K].step`` and ``.until``: the
    intervention's step fields; ``interventions[K].set.KEY``: KEY's field); an unknown key is a ConfigError."""
    from .base import intervention_key

    model = model or default_model()

    iv = intervention_key(key)
    if iv is not None:
        return Intervention.model_fields["step"] if iv[1] in ("step", "until") else field_info(str(iv[2]), model)
    section, _, name = key.partition(".")
    sec = model.model_fields.get(section)
    ann = sec.annotation if sec is not None else None
    if not (isinstance(ann, type) and issubclass(ann, Section)) or name not in ann.model_fields:
        raise ConfigError(f"unknown parameter {key!r} (see `clusterup parameters`)")
    return ann.model_fields[name]


# --------------------------------------------------------------------------------------------
# Presets and scenario files


def _scenario_dir() -> Any:
    return resources.files("clusterup") / "scenarios"


def preset_names() -> list[str]:
    return sorted(p.name[:-5] for p in _scenario_dir().iterdir() if p.name.endswith(".toml"))


def example_names() -> list[str]:
    """Shipped example scenarios (interventions in time), run by name like presets but not presets."""
    d = _scenario_dir() / "examples"
    return sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".toml")) if d.is_dir() else []


def _plugin_paths(data: dict[str, Any], base_dir: Path | None, source: str) -> list[str]:
    plugins = data.pop("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise ConfigError(f"{source}: plugins must be a list of strings ('file.py:Class' or 'module:Class')")
    out = []
    for spec in plugins:
        where, sep, cls = spec.rpartition(":")
        if sep and where.endswith(".py") and base_dir is not None and not Path(where).is_absolute():
            spec = f"{(base_dir / where).resolve()}:{cls}"
        out.append(spec)
    return out


def _load_raw(name_or_path: str | Path, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """Read a preset or file and resolve its ``extends`` chain into one nested dict."""
    text: str
    base_dir: Path | None = None
    ref = str(name_or_path)
    if ref in seen:
        raise ConfigError(f"extends: circular reference through {ref}")
    path = Path(ref)
    if ref in preset_names():
        text = (_scenario_dir() / f"{ref}.toml").read_text(encoding="utf-8")
        source = f"preset {ref}"
    elif ref in example_names():
        text = (_scenario_dir() / "examples" / f"{ref}.toml").read_text(encoding="utf-8")
        source = f"example {ref}"
    elif path.suffix == ".toml" or path.exists():
        text = read_text_file(path, "scenario")
        source, base_dir = ref, path.parent
    else:
        raise ConfigError(f"unknown scenario {ref!r}; presets: {', '.join(preset_names())}; examples: "
                          f"{', '.join(example_names())} (or a .toml file)")  # fmt: skip
    data = parse_toml(text, source)
    plugins = _plugin_paths(data, base_dir, source)
    parent = data.pop("extends", None)
    if parent is None:
        merged = data
    else:
        if not isinstance(parent, str):
            raise ConfigError(f"extends must be a preset name or a path; got {parent!r}")
        if parent not in preset_names() and base_dir is not None:
            parent = str(base_dir / parent)
        merged = _load_raw(parent, seen + (ref,))
        plugins = list(dict.fromkeys(merged.pop("plugins", []) + plugins))  # a file adds to its parent's plugins
        merged.pop("name", None)
        merged.pop("description", None)
        merged = deep_merge(merged, data)
    if plugins:
        merged["plugins"] = plugins
    return merged


def load_scenario(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> Any:
    """A preset name or TOML path, resolved (``extends``) and validated, with dotted overrides."""
    data = _load_raw(name_or_path)
    if "name" not in data:
        data["name"] = Path(str(name_or_path)).stem
    return from_dict(apply_overrides(data, overrides or {}))


def describe_parameters(model: type[ParamsBase] | None = None) -> list[tuple[str, str, str, str]]:
    """(dotted key, type, allowed range, description) for every parameter: the reference table."""
    model = model or default_model()
    rows = []
    for sec, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, Section):
            for k, sub in ann.model_fields.items():
                rows.append((f"{sec}.{k}", type_name(sub), bounds_text(sub), sub.description or ""))
    return rows


def parameter_rows(search: str | None = None) -> list[dict[str, Any]]:
    """The reference as dicts (key, type, range, baseline, description); ``search`` keeps a whole section
    when it names one, else the parameters whose key or description contains it (case-insensitive)."""
    base = load_scenario("baseline").to_dict()
    rows = [{"key": k, "type": t, "range": r, "baseline": base[k.split(".")[0]][k.split(".")[1]], "description": d}
            for k, t, r, d in describe_parameters()]  # fmt: skip
    if not search:
        return rows
    word = search.lower()
    section = [r for r in rows if r["key"].split(".")[0] == word]
    return section or [r for r in rows if word in r["key"].lower() or word in r["description"].lower()]


def parameters_markdown() -> str:
    """The parameter reference (docs/parameters.md): key, type, range, baseline value, description."""
    base = load_scenario("baseline").to_dict()
    lines = [
        "# Parameter reference",
        "",
        "Generated by `clusterup parameters --markdown` (a test keeps this file in step with the code).",
        "Values are those of the `baseline` preset; every other preset overrides a few of them.",
        "",
        "| key | type | allowed | baseline | description |",
        "|---|---|---|---|---|",
    ]
    for key, typ, rng, desc in describe_parameters():
        sec, name = key.split(".")
        lines.append(f"| `{key}` | {typ} | {rng} | {base[sec][name]} | {desc} |")
    return "\n".join(lines) + "\n"


__all__ = [
    "FrontierParams",
    "InitParams",
    "OrganisationParams",
    "Params",
    "ParamsBase",
    "RunParams",
    "Section",
    "TechnologyParams",
    "apply_overrides",
    "bounds_text",
    "deep_merge",
    "describe_error",
    "describe_parameters",
    "dumps_toml",
    "field_bounds",
    "field_info",
    "from_dict",
    "integer",
    "load_plugin",
    "load_scenario",
    "number",
    "Intervention",
    "example_names",
    "parameter_rows",
    "parameters_markdown",
    "params_model",
    "parse_assignments",
    "parse_toml",
    "parse_value",
    "plugin_processes",
    "preset_keys",
    "preset_names",
    "read_text_file",
    "switch",
]


def preset_keys(name: str) -> tuple[str | None, dict[str, Any]]:
    """What a preset file itself sets: the preset it extends and its own keys, dotted (``section.key``),
    without its parent's (the keys that define the scenario)."""
    data = parse_toml((_scenario_dir() / f"{name}.toml").read_text(encoding="utf-8"), f"preset {name}")
    parent = data.pop("extends", None)
    own = {f"{s}.{k}": v for s, sec in data.items() if isinstance(sec, dict) for k, v in sec.items()}
    return parent, own
