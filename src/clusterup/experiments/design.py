"""Experiment designs: what to run. A sweep file (TOML) becomes a plan of runs.

A plan is a list of arms (one set of parameter values each) crossed with replicates. Replicate
``r`` uses the same seed in every arm (common random numbers), spawned from the sweep's ``seed``
with ``SeedSequence``, so arms differ only by their parameters.

Sweep file::

    scenario = "baseline"      # a preset or a TOML file (relative to the sweep file)
    replicates = 3
    seed = 777
    steps = 80                 # optional; default: the scenario's
    firms = 300                # optional
    [set]                      # optional: fixed overrides for every arm
    "market.rd_cost" = 0.2
    [design]
    kind = "grid"              # grid | lhs | sobol
    samples = 16               # lhs and sobol only
    [design.parameters]
    "spillover.rate" = [0.1, 0.3]   # grid: values; lhs/sobol: [low, high]

In a grid, the key ``scenario`` may list presets (arms that compare scenarios).
"""

from __future__ import annotations

import itertools
import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError
from ..params import field_bounds, field_info, load_scenario, parse_toml, read_text_file
from ..rng import replicate_seeds


class StrictSpec(BaseModel):
    """Base of the experiment spec files: unknown keys and loose types are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class DesignSpec(StrictSpec):
    kind: Literal["grid", "lhs", "sobol", "none"] = Field("none", description="grid, lhs, sobol (none: one arm)")
    samples: int | None = Field(None, ge=1, le=1_000_000, description="points drawn by lhs or sobol")
    parameters: dict[str, list[Any]] = Field(default_factory=dict, description="dotted key -> values or [low, high]")


class SweepSpec(StrictSpec):
    scenario: str = Field("baseline", description="a preset name or a TOML file")
    replicates: int = Field(1, ge=1, le=100_000, description="replicates per arm")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="root seed of the replicate seeds")
    steps: int | None = Field(None, ge=1, le=1_000_000, description="steps per run")
    firms: int | None = Field(None, ge=2, le=100_000_000, description="initial firms per run")
    set: dict[str, Any] = Field(default_factory=dict, description="fixed overrides for every arm")
    design: DesignSpec = Field(default_factory=DesignSpec)


@dataclass(frozen=True)
class RunSpec:
    """One run of a plan: everything a worker needs, and nothing that is not plain data."""

    run_id: int
    arm: int
    replicate: int
    seed: int
    scenario: str
    overrides: dict[str, Any]
    steps: int | None
    firms: int | None


@dataclass
class Plan:
    """Arms x replicates. ``varied`` are the keys whose values differ between arms (columns of ``runs``)."""

    spec: dict[str, Any]
    arms: list[dict[str, Any]]
    seeds: list[int]
    varied: list[str]
    runs: list[RunSpec] = field(default_factory=list)

    def arm_label(self, arm: int) -> str:
        values = self.arms[arm]
        if not self.varied:
            return str(values.get("scenario", self.spec["scenario"]))
        return ", ".join(f"{k}={_short(values[k])}" for k in self.varied)

    def to_json(self) -> str:
        payload = {"spec": self.spec, "arms": self.arms, "seeds": self.seeds, "varied": self.varied,
                   "runs": [asdict(r) for r in self.runs]}  # fmt: skip
        return json.dumps(payload, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        d = json.loads(text)
        return cls(d["spec"], d["arms"], d["seeds"], d["varied"], [RunSpec(**r) for r in d["runs"]])


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def describe_validation(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"{source}: {loc}: {err['msg']}" if loc else f"{source}: {err['msg']}"


def load_spec(path: str | Path, model: type[BaseModel], kind: str) -> tuple[Any, Path]:
    """Read a TOML file and validate it against ``model``; every problem is one ConfigError line."""
    p = Path(path)
    data = parse_toml(read_text_file(p, kind), str(p))
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation(exc, str(p))) from None
    return spec, p.parent


def load_sweep(path: str | Path) -> tuple[SweepSpec, Path]:
    """Read and validate a sweep file; the scenario path is made relative to the file."""
    return load_spec(path, SweepSpec, "sweep")


def scenario_path(name: str, base: Path | None) -> str:
    """A scenario named in a spec file: a preset as is, a relative ``.toml`` path relative to the file."""
    if base is not None and name.endswith(".toml") and not Path(name).is_absolute():
        return str((base / name).resolve())
    return name


def parameter_field(key: str) -> Any:
    """The declared field of a parameter a design varies; an unknown key is one ConfigError line."""
    try:
        return field_info(key)
    except ConfigError:
        raise ConfigError(f"design.parameters: unknown parameter {key!r} (see `clusterup parameters`)") from None


def typed_values(keys: list[str], values) -> dict[str, int | float]:
    """Dotted key -> value as its parameter's type: integer parameters rounded, the rest as floats
    (sampled designs, sensitivity samples and calibration particles are real-valued)."""
    return {k: int(round(v)) if parameter_field(k).annotation is int else float(v) for k, v in zip(keys, values, strict=True)}


def _sample_unit(kind: str, n: int, d: int, seed: int) -> Any:
    from scipy.stats import qmc

    if kind == "lhs":
        return qmc.LatinHypercube(d=d, seed=seed).random(n)
    with warnings.catch_warnings():  # Sobol' balance needs 2^m points; any n is still a valid design
        warnings.simplefilter("ignore")
        return qmc.Sobol(d=d, scramble=True, seed=seed).random(n)


def design_arms(spec: SweepSpec) -> tuple[list[dict[str, Any]], list[str]]:
    """The arms of a design (dicts of dotted key -> value) and the keys that vary."""
    d = spec.design
    params = d.parameters
    if d.kind == "none":
        if params:
            raise ConfigError("design.parameters needs design.kind = grid, lhs or sobol")
        return [{}], []
    if not params:
        raise ConfigError(f"design.parameters: a {d.kind} design needs at least one parameter")
    keys = list(params)
    if d.kind == "grid":
        if d.samples is not None:
            raise ConfigError("design.samples applies to lhs and sobol designs only; a grid takes lists of values")
        for k, values in params.items():
            if k != "scenario":
                parameter_field(k)
            if not values:
                raise ConfigError(f"design.parameters.{k}: give at least one value")
        arms = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(params[k] for k in keys))]
        return arms, keys
    if d.samples is None:
        raise ConfigError(f"design.samples: a {d.kind} design needs a sample count (an integer >= 1)")
    lows, highs = [], []
    for k, rng in params.items():
        info = parameter_field(k)
        if info.annotation is bool:
            raise ConfigError(f"design.parameters.{k}: a switch cannot be sampled; use a grid")
        if len(rng) != 2 or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in rng) or not rng[0] < rng[1]:
            raise ConfigError(f"design.parameters.{k}: give a range [low, high] of two numbers with low < high")
        lo, _, hi, _ = field_bounds(info)
        if (lo is not None and rng[0] < lo) or (hi is not None and rng[1] > hi):
            raise ConfigError(f"design.parameters.{k}: range {rng} leaves the allowed interval [{lo}, {hi}]")
        lows.append(float(rng[0]))
        highs.append(float(rng[1]))
    unit = _sample_unit(d.kind, d.samples, len(keys), spec.seed)
    arms = [typed_values(keys, [lows[j] + row[j] * (highs[j] - lows[j]) for j in range(len(keys))]) for row in unit]
    return arms, keys


def make_plan(spec: SweepSpec, base: Path | None = None) -> Plan:
    """Arms x replicates, each arm checked against the parameter model before anything runs."""
    arms, varied = design_arms(spec)
    return plan_from_arms(spec.model_dump(), scenario_path(spec.scenario, base), arms, varied,
                          replicate_seeds(spec.seed, spec.replicates), spec.set, spec.steps, spec.firms, base)  # fmt: skip


def plan_from_arms(
    spec: dict[str, Any],
    scenario: str,
    arms: list[dict[str, Any]],
    varied: list[str],
    seeds: list[int],
    fixed: dict[str, Any] | None = None,
    steps: int | None = None,
    firms: int | None = None,
    base: Path | None = None,
) -> Plan:
    """A plan from explicit arms (each a dict of dotted key -> value; ``scenario`` may name a preset)."""
    runs: list[RunSpec] = []
    sizes = {k: v for k, v in (("run.steps", steps), ("run.firms", firms)) if v is not None}
    for a, arm in enumerate(arms):
        scen = scenario_path(str(arm["scenario"]), base) if "scenario" in arm else scenario
        overrides = {**(fixed or {}), **{k: v for k, v in arm.items() if k != "scenario"}}
        try:
            load_scenario(scen, {**overrides, **sizes})  # every arm is valid before the first run starts
        except ConfigError as exc:
            raise ConfigError(f"arm {a} ({', '.join(f'{k}={v}' for k, v in arm.items()) or scen}): {exc}") from None
        for r, s in enumerate(seeds):
            runs.append(RunSpec(len(runs), a, r, s, scen, overrides, steps, firms))
    return Plan(spec, arms, seeds, varied, runs)


def ensemble_plan(scenarios: list[str], runs: int, seed: int, steps: int | None, firms: int | None,
                  overrides: dict[str, Any] | None = None) -> Plan:  # fmt: skip
    """Replicates of one or more scenarios (one arm each, common random numbers across them)."""
    design: dict[str, Any] = {"kind": "none"}
    if len(scenarios) > 1:
        design = {"kind": "grid", "parameters": {"scenario": list(scenarios)}}
    spec = SweepSpec.model_validate(
        {
            "scenario": scenarios[0],
            "replicates": runs,
            "seed": seed,
            "steps": steps,
            "firms": firms,
            "set": dict(overrides or {}),
            "design": design,
        }  # fmt: skip
    )
    return make_plan(spec)


__all__ = [
    "DesignSpec",
    "Plan",
    "RunSpec",
    "SweepSpec",
    "design_arms",
    "ensemble_plan",
    "load_sweep",
    "make_plan",
    "plan_from_arms",
]
