"""Declared, validated parameters: one pydantic model per process, plus run settings.

Every parameter has a type, a range and a one-line description. Unknown keys, wrong types, NaN and
out-of-range values are rejected with a one-line :class:`~clusterup.errors.ConfigError` that names
the dotted key and what is allowed, e.g. ``spillover.social must be in [0, 1]; got 1.7``.

Parameters travel as TOML: a scenario file may ``extends = "baseline"`` (a preset name or a path
relative to the file) and override any key; ``--set section.key=value`` overrides on top.
"""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import annotated_types as at
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ConfigError

_CONFIG = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, validate_assignment=True)


class Section(BaseModel):
    """Base of every parameter section: strict, finite, no unknown keys."""

    model_config = _CONFIG


def _f(default: float, lo: float | None = None, hi: float | None = None, desc: str = "", *, gt: bool = False) -> Any:
    """A float field in [lo, hi] (or (lo, hi] with ``gt``)."""
    kw: dict[str, Any] = {"description": desc}
    if lo is not None:
        kw["gt" if gt else "ge"] = lo
    if hi is not None:
        kw["le"] = hi
    return Field(default, **kw)


def _i(default: int, lo: int | None = None, hi: int | None = None, desc: str = "") -> Any:
    kw: dict[str, Any] = {"description": desc}
    if lo is not None:
        kw["ge"] = lo
    if hi is not None:
        kw["le"] = hi
    return Field(default, **kw)


def _on(desc: str = "Run this process each step.") -> Any:
    return Field(True, description=desc)


class RunParams(Section):
    steps: int = _i(200, 1, 1_000_000, "Number of steps to simulate (one step = one quarter).")
    firms: int = _i(300, 2, 50_000_000, "Initial number of firms; demand scales with it.")
    seed: int = _i(1, 0, None, "Root random seed (>= 0); one seed gives bit-identical results.")
    network_every: int = _i(1, 1, 1_000_000, "Compute the layers' clustering and giant component every K steps (NaN between).")


class TechnologyParams(Section):
    ceiling_base: float = _f(1.0, 0.001, 1e6, "Capability ceiling of generation 0.")
    ceiling_growth: float = _f(2.0, 1.0, 100.0, "Factor by which the ceiling grows per generation.", gt=True)
    appropriability: float = _f(0.5, 0.0, 1.0, "How hard knowledge is to copy or leak (0: free, 1: fully private).")


class FrontierParams(Section):
    enabled: bool = _on("Advance the outside technology frontier each step.")
    initial: float = _f(0.3, 0.001, 1e6, "Frontier capability A* at step 0.")
    growth: float = _f(0.016, 0.0, 1.0, "Growth rate of the frontier per step.")
    knowledge_drift: float = _f(0.05, 0.0, 1.0, "Per-step pull of the world's knowledge toward its current hot field.")
    field_change: float = _f(0.02, 0.0, 1.0, "Chance per step that the world's hot field moves to another domain.")
    organisation_renewal: float = _f(0.02, 0.0, 1.0, "Per-step pull of organisations' knowledge toward the world's.")


class InitParams(Section):
    mastery: float = _f(0.15, 0.001, 0.95, "Mean initial capability as a share of the generation-0 ceiling.")
    capability_sigma: float = _f(0.5, 0.0, 3.0, "Log-normal dispersion of initial capability.")
    segments: int = _i(5, 1, 1000, "Number of value-chain segments.")
    domains: int = _i(10, 2, 1000, "Number of knowledge domains.")
    home_domains: int = _i(4, 1, 1000, "Domains the cluster starts with; the rest must come from outside.")
    knowledge_concentration: float = _f(0.5, 0.001, 100.0, "Dirichlet concentration of initial profiles.")
    wealth: float = _f(2.0, 0.0, 1e9, "Initial cash of each firm (in units of mean initial revenue).")
    rd: float = _f(0.5, 0.0, 1.0, "Mean initial R&D propensity.")
    rd_sigma: float = _f(0.1, 0.0, 1.0, "Dispersion of initial R&D propensity.")
    towns: int = _i(6, 1, 1_000_000, "Number of places (kinship and location clusters) firms start in.")
    town_spread: float = _f(0.06, 0.001, 1.0, "Spatial spread of firms around their town.")
    social_degree: float = _f(4.0, 0.0, 1000.0, "Mean number of initial social ties per firm.")
    early_technology_firms: int = _i(0, 0, 1_000_000, "Firms that start one generation ahead (path 2).")
    early_technology_capability: float = _f(0.7, 0.001, 10.0, "Their capability relative to a typical firm's.")
    early_technology_wealth: float = _f(1.0, 0.0, 1e6, "Their starting cash relative to their own (backing for a radical venture).")

    @model_validator(mode="after")
    def _home_within_domains(self) -> InitParams:
        if self.home_domains > self.domains:
            raise ValueError(f"init.home_domains must be <= init.domains ({self.domains}); got {self.home_domains}")
        return self


class OrganisationParams(Section):
    universities: int = _i(1, 0, 10_000, "Number of universities.")
    institutes: int = _i(1, 0, 10_000, "Number of research institutes.")
    platforms: int = _i(2, 0, 10_000, "Number of public technology-service platforms.")
    associations: int = _i(1, 0, 10_000, "Number of business associations.")
    capacity: int = _i(15, 1, 10_000_000, "Ties one organisation can serve (scaled by firms/300).")
    novelty: float = _f(0.6, 0.0, 1.0, "Share of an organisation's knowledge in domains the cluster lacks.")


class MarketParams(Section):
    enabled: bool = _on()
    demand: float = _f(1.0, 0.001, 1e9, "Demand per initial firm at parity with the frontier.")
    elasticity: float = _f(1.0, 0.0, 10.0, "Elasticity of cluster demand to capability relative to the frontier.")
    saturation: float = _f(2.0, 1.0, 1000.0, "Most the cluster's demand can grow above parity (multiple).")
    share_exponent: float = _f(1.5, 0.0, 10.0, "Exponent gamma of capability in market shares.")
    fixed_cost: float = _f(0.35, 0.0, 1e9, "Fixed cost per firm per step.")
    rd_cost: float = _f(0.3, 0.0, 1.0, "Share of revenue spent on R&D at R&D propensity 1.")
    rent_premium: float = _f(1.0, 0.0, 100.0, "Market-share premium per unit of innovation rent (0: no rents).")
    payout: float = _f(0.5, 0.0, 1.0, "Share of a positive profit paid out to owners rather than kept as cash.")
    rent_decay: float = _f(0.1, 0.0, 1.0, "Per-step decay of innovation rents (competition erodes them).")


class ChoiceParams(Section):
    enabled: bool = _on("Firms choose an innovation mode each step.")
    intensity: float = _f(4.0, 0.0, 1000.0, "Intensity of choice of the multinomial logit.")
    horizon: float = _f(20.0, 0.0, 10_000.0, "Steps over which a capability gain is valued.")
    always_try: bool = Field(False, description="Every firm attempts one open mode each step, each equally likely (benchmarks).")


class ImitationParams(Section):
    enabled: bool = _on("Imitation is an open mode.")
    cost: float = _f(0.05, 0.0, 1e9, "Cost of an imitation attempt.")
    success: float = _f(0.7, 0.0, 1.0, "Probability an imitation attempt succeeds.")
    rate: float = _f(0.4, 0.0, 1.0, "Share of the gap to the model closed on success (before appropriability).")
    absorptive_exponent: float = _f(0.5, 0.0, 10.0, "How strongly absorption falls with relative backwardness.")
    generation_transfer: float = _f(0.5, 0.0, 1.0, "Chance a successful imitator adopts the model's higher generation.")
    switch_dip: float = _f(0.7, 0.001, 1.0, "Capability kept (share) when switching to a higher generation.")
    knowledge_pull: float = _f(0.2, 0.0, 1.0, "How far the imitator's knowledge moves toward the model's.")
    mixing: bool = Field(
        False, description="Imitate a uniformly random firm (a well-mixed population) instead of the best tie partner."
    )


class LocalParams(Section):
    enabled: bool = _on("Local innovation is an open mode.")
    cost: float = _f(0.1, 0.0, 1e9, "Cost of a local-innovation attempt.")
    success: float = _f(1.0, 0.0, 1.0, "Success probability at full R&D and full support.")
    rate: float = _f(0.25, 0.0, 10.0, "Logistic growth rate lambda of capability on success.")
    rd_half: float = _f(0.5, 0.001, 100.0, "R&D propensity at which R&D gives half its effect.")
    rd_exponent: float = _f(1.0, 0.001, 10.0, "Steepness of the R&D effect (Hill exponent).")
    support_base: float = _f(0.3, 0.0, 1.0, "Support a firm has with no economic ties or platforms.")
    support_half: float = _f(0.5, 0.001, 1e6, "Tie strength at which support is halfway to full.")
    knowledge_support: float = _f(0.5, 0.0, 100.0, "Support per unit knowledge-tie strength, relative to economic.")
    novelty_weight: float = _f(0.5, 0.0, 1.0, "How much success depends on reachable novelty (rigidity).")
    specialisation: float = _f(0.02, 0.0, 1.0, "How far a success moves knowledge toward the segment's domain.")


class IntegratedParams(Section):
    enabled: bool = _on("Integrated innovation is an open mode.")
    cost: float = _f(0.3, 0.0, 1e9, "Cost of an integrated-innovation attempt.")
    success: float = _f(0.3, 0.0, 1.0, "Success probability at full mastery, R&D and novelty.")
    mastery_power: float = _f(16.0, 0.0, 100.0, "Steepness of success in mastery (capability over ceiling).")
    follower_power: float = _f(
        2.0,
        0.0,
        100.0,
        "Steepness in mastery where a knowledge partner already holds a higher generation (integrating "
        "knowledge that exists next door).",
    )
    rd_half: float = _f(0.35, 0.001, 100.0, "R&D propensity at which R&D gives half its effect on integration.")
    rd_exponent: float = _f(2.0, 0.001, 10.0, "Steepness of the R&D effect on integration (Hill exponent).")
    novelty_ref: float = _f(0.15, 0.001, 2.0, "Reachable novelty at which novelty stops limiting success.")
    network_half: float = _f(2.0, 0.0, 1000.0, "Knowledge-tie strength at which the network factor is one half (0: off).")
    capability_half: float = _f(2.0, 0.0, 1e6, "Capability at which the absorptive factor is one half (0: off).")
    dip: float = _f(0.8, 0.001, 1.0, "Capability kept (share) on moving to the next generation.")
    novelty_gain: float = _f(0.3, 0.0, 1.0, "How far a success moves knowledge toward the reachable pool.")
    neighbour_reach: float = _f(0.3, 0.0, 10.0, "Weight of social and economic neighbours' knowledge in the pool.")


class SpilloverParams(Section):
    enabled: bool = _on()
    rate: float = _f(1.0, 0.0, 10.0, "Overall spillover intensity: multiplies every layer's leakage rate.")
    social: float = _f(0.004, 0.0, 1.0, "Leakage rate along social ties.")
    economic: float = _f(0.01, 0.0, 1.0, "Leakage rate along economic ties.")
    knowledge: float = _f(0.02, 0.0, 1.0, "Leakage rate along knowledge ties.")
    cross_generation: float = _f(0.3, 0.0, 1.0, "Leakage from a higher generation, relative to the same one.")


class RDLearningParams(Section):
    enabled: bool = _on()
    review: float = _f(1.0, 0.0, 1.0, "Chance per step that a firm reviews its R&D propensity.")
    peers: int = _i(3, 1, 100, "Tie partners a reviewing firm compares itself with (it copies the most profitable).")
    imitation: float = _f(1.0, 0.0, 1.0, "How far a reviewing firm moves toward a more profitable peer's R&D.")
    mutation: float = _f(0.01, 0.0, 1.0, "Standard deviation of random experimentation with R&D.")
    minimum: float = _f(0.0, 0.0, 1.0, "Lowest R&D propensity.")
    memory: float = _f(0.2, 0.001, 1.0, "Weight of the newest profit in the profit average.")


class KnowledgeParams(Section):
    enabled: bool = _on()
    drift: float = _f(0.05, 0.0, 1.0, "Pull of knowledge profiles toward knowledge-tie partners'.")
    pipeline_injection: float = _f(0.05, 0.0, 1.0, "Pull toward outside knowledge per unit pipeline strength.")


class ObsolescenceParams(Section):
    enabled: bool = _on()
    rate: float = _f(0.005, 0.0, 1.0, "Capability depreciation per step.")
    generation_lag: float = _f(1.5, 0.0, 100.0, "Extra depreciation per share of firms in higher generations.")


class SocialParams(Section):
    enabled: bool = _on()
    decay: float = _f(0.004, 0.0, 1.0, "Decay of social tie strength per step.")
    floor: float = _f(0.05, 0.0, 1.0, "Ties weaker than this are dropped.")
    proximity: float = _f(0.01, 0.0, 1.0, "Chance per step a firm forms a tie with a nearby firm.")
    radius: float = _f(0.1, 0.001, 2.0, "Distance within which firms count as nearby.")
    triadic: float = _f(0.002, 0.0, 1.0, "Chance per step a firm closes a triad.")
    association: float = _f(0.02, 0.0, 1.0, "Chance per step an association links a pair of its members.")


class EconomicParams(Section):
    enabled: bool = _on()
    ties_per_mastery: float = _f(4.0, 0.0, 1000.0, "Supplier-customer ties a firm seeks at full mastery.")
    formation: float = _f(0.3, 0.0, 1.0, "Chance per step a firm below its target seeks a partner.")
    candidates: int = _i(5, 1, 1000, "Partners a firm considers when it seeks one.")
    embeddedness: float = _f(2.0, 0.0, 1000.0, "Preference for partners who are social neighbours.")
    adjustment: float = _f(0.1, 0.0, 1.0, "Speed at which tie strength tracks the partners' trade (mastery).")
    floor: float = _f(0.05, 0.0, 1.0, "Ties weaker than this are dropped.")


class KnowledgeTieParams(Section):
    enabled: bool = _on()
    partners: int = _i(3, 0, 1000, "Partners sought per integrated-innovation attempt.")
    candidates: int = _i(8, 1, 1000, "Candidates considered per attempt.")
    local_rate: float = _f(0.03, 0.0, 1.0, "Chance a local-innovation attempt forms one knowledge tie.")
    initial: float = _f(0.3, 0.001, 1.0, "Strength of a new knowledge tie.")
    reinforcement: float = _f(0.3, 0.0, 1.0, "Strength added to a firm's ties when its integrated attempt succeeds.")
    local_reinforcement: float = _f(0.05, 0.0, 1.0, "Strength added to a firm's ties when its local attempt succeeds.")
    decay: float = _f(0.005, 0.0, 1.0, "Decay of unused knowledge ties per step.")
    floor: float = _f(0.05, 0.0, 1.0, "Ties weaker than this are dropped.")


class PipelineParams(Section):
    enabled: bool = _on()
    rate: float = _f(0.01, 0.0, 1.0, "Chance per step a fully capable firm opens a pipeline.")
    capability_power: float = _f(2.0, 0.0, 100.0, "How strongly pipelines favour capable (mastering) firms.")
    subsidy: float = _f(0.0, 0.0, 1000.0, "Policy subsidy: multiplies the chance by 1 + subsidy.")
    decay: float = _f(0.02, 0.0, 1.0, "Decay of pipeline strength per step.")
    floor: float = _f(0.05, 0.0, 1.0, "Pipelines weaker than this close.")


class DemographyParams(Section):
    enabled: bool = _on()
    exit_wealth: float = _f(0.0, -1e9, 1e9, "A firm whose cash falls below this exits.")
    exit_gap: float = _f(0.2, 0.0, 1.0, "A firm whose capability falls below this share of the mean exits.")
    entry_rate: float = _f(0.05, 0.0, 100.0, "Entrants per firm per unit of cluster profit margin.")
    newcomer_rate: float = _f(0.001, 0.0, 1.0, "Entrants per firm per step regardless of margins.")
    spinoff_share: float = _f(0.6, 0.0, 1.0, "Share of entrants that are spin-offs of an incumbent.")
    entrant_capability: float = _f(0.6, 0.001, 1.0, "Entrant's capability as a share of the incumbent it copies.")
    entrant_wealth: float = _f(1.0, 0.0, 1e9, "Entrant's initial cash.")
    entrant_ties: int = _i(3, 0, 1000, "Social ties an entrant inherits.")


class Params(Section):
    """All parameters of a run: one section per process plus run settings."""

    name: str = Field("custom", description="Scenario name.")
    description: str = Field("", description="One-line description of the scenario.")
    run: RunParams = RunParams()
    technology: TechnologyParams = TechnologyParams()
    frontier: FrontierParams = FrontierParams()
    init: InitParams = InitParams()
    organisations: OrganisationParams = OrganisationParams()
    market: MarketParams = MarketParams()
    choice: ChoiceParams = ChoiceParams()
    imitation: ImitationParams = ImitationParams()
    local: LocalParams = LocalParams()
    integrated: IntegratedParams = IntegratedParams()
    spillover: SpilloverParams = SpilloverParams()
    rd_learning: RDLearningParams = RDLearningParams()
    knowledge: KnowledgeParams = KnowledgeParams()
    obsolescence: ObsolescenceParams = ObsolescenceParams()
    social: SocialParams = SocialParams()
    economic: EconomicParams = EconomicParams()
    knowledge_ties: KnowledgeTieParams = KnowledgeTieParams()
    pipelines: PipelineParams = PipelineParams()
    demography: DemographyParams = DemographyParams()

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()

    def to_toml(self) -> str:
        return dumps_toml(self.to_dict())

    def with_overrides(self, overrides: dict[str, Any]) -> Params:
        return from_dict(apply_overrides(self.to_dict(), overrides))


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


def _bounds(field_info: Any) -> str:
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


def _type_name(info: Any) -> str:
    ann = info.annotation
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "a table"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(ann, str(ann))


def describe_error(err: dict[str, Any], model: type[BaseModel] = Params) -> str:
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
    bounds = _bounds(info)
    want = _type_name(info) + (f" {bounds}" if bounds else "")
    if isinstance(got, float) and not math.isfinite(got):
        return f"{key} must be a finite number {bounds}; got {got}".replace("  ", " ")
    return f"{key} must be {want}; got {got!r}"


def from_dict(data: dict[str, Any]) -> Params:
    """Validate a nested dict into :class:`Params`, raising a one-line ConfigError."""
    try:
        return Params.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_error(exc.errors()[0])) from None


# --------------------------------------------------------------------------------------------
# TOML in and out, presets, overrides


def _scenario_dir() -> Any:
    return resources.files("clusterup") / "scenarios"


def preset_names() -> list[str]:
    return sorted(p.name[:-5] for p in _scenario_dir().iterdir() if p.name.endswith(".toml"))


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
    elif path.suffix == ".toml" or path.exists():
        text = read_text_file(path, "scenario")
        source, base_dir = ref, path.parent
    else:
        raise ConfigError(f"unknown scenario {ref!r}; presets: {', '.join(preset_names())} (or a .toml file)")
    data = parse_toml(text, source)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(f"extends must be a preset name or a path; got {parent!r}")
    if parent not in preset_names() and base_dir is not None:
        parent = str(base_dir / parent)
    merged = _load_raw(parent, seen + (ref,))
    merged.pop("name", None)
    merged.pop("description", None)
    return deep_merge(merged, data)


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def load_scenario(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> Params:
    """A preset name or TOML path, resolved (``extends``) and validated, with dotted overrides."""
    data = _load_raw(name_or_path)
    if "name" not in data:
        data["name"] = Path(str(name_or_path)).stem
    return from_dict(apply_overrides(data, overrides or {}))


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


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys in a nested dict (a copy). Unknown keys are left for validation to reject."""
    out = deep_merge(data, {})
    for dotted, value in overrides.items():
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


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps_toml(data: dict[str, Any]) -> str:
    """Write a nested dict of scalars and lists as TOML (top-level scalars first, then tables)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]

    def table(prefix: str, d: dict[str, Any]) -> None:
        lines.append("")
        lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in d.items() if not isinstance(v, dict))
        for k, v in d.items():
            if isinstance(v, dict):
                table(f"{prefix}.{k}", v)

    for k, v in data.items():
        if isinstance(v, dict):
            table(k, v)
    return "\n".join(lines) + "\n"


def describe_parameters() -> list[tuple[str, str, str, str]]:
    """(dotted key, type, allowed range, description) for every parameter: the reference table."""
    rows = []
    for sec, info in Params.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            for k, sub in ann.model_fields.items():
                rows.append((f"{sec}.{k}", _type_name(sub), _bounds(sub), sub.description or ""))
    return rows
