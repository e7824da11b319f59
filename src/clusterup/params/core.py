"""The sections that belong to no single process: run settings, the technology, the outside world and
the initial state (firms and organisations). Each process declares its own section in its own module."""

from __future__ import annotations

from pydantic import model_validator

from .base import Section, integer, number, switch


class RunParams(Section):
    steps: int = integer(200, 1, 1_000_000, "Number of steps to simulate (one step = one quarter).")
    firms: int = integer(300, 2, 50_000_000, "Initial number of firms; demand scales with it.")
    seed: int = integer(1, 0, None, "Root random seed (>= 0); one seed gives bit-identical results.")
    network_every: int = integer(1, 1, 1_000_000, "Compute the layers' clustering and giant component every K steps (NaN between).")


class TechnologyParams(Section):
    ceiling_base: float = number(1.0, 0.001, 1e6, "Capability ceiling of generation 0.")
    ceiling_growth: float = number(2.0, 1.0, 100.0, "Factor by which the ceiling grows per generation.", gt=True)
    appropriability: float = number(0.5, 0.0, 1.0, "How hard knowledge is to copy or leak (0: free, 1: fully private).")


class FrontierParams(Section):
    """The outside world: its level is state the builder starts and the ``frontier`` process advances."""

    enabled: bool = switch(desc="Advance the outside technology frontier each step.")
    initial: float = number(0.3, 0.001, 1e6, "Frontier capability A* at step 0.")
    growth: float = number(0.016, 0.0, 1.0, "Growth rate of the frontier per step.")
    knowledge_drift: float = number(0.05, 0.0, 1.0, "Per-step pull of the world's knowledge toward its current hot field.")
    field_change: float = number(0.02, 0.0, 1.0, "Chance per step that the world's hot field moves to another domain.")
    organisation_renewal: float = number(0.02, 0.0, 1.0, "Per-step pull of organisations' knowledge toward the world's.")


class InitParams(Section):
    mastery: float = number(0.15, 0.001, 0.95, "Mean initial capability as a share of the generation-0 ceiling.")
    capability_sigma: float = number(0.5, 0.0, 3.0, "Log-normal dispersion of initial capability.")
    segments: int = integer(5, 1, 1000, "Number of value-chain segments.")
    domains: int = integer(10, 2, 1000, "Number of knowledge domains.")
    home_domains: int = integer(4, 1, 1000, "Domains the cluster starts with; the rest must come from outside.")
    knowledge_concentration: float = number(0.5, 0.001, 100.0, "Dirichlet concentration of initial profiles.")
    wealth: float = number(2.0, 0.0, 1e9, "Initial cash of each firm (in units of mean initial revenue).")
    rd: float = number(0.5, 0.0, 1.0, "Mean initial R&D propensity.")
    rd_sigma: float = number(0.1, 0.0, 1.0, "Dispersion of initial R&D propensity.")
    towns: int = integer(6, 1, 1_000_000, "Number of places (kinship and location clusters) firms start in.")
    town_spread: float = number(0.06, 0.001, 1.0, "Spatial spread of firms around their town.")
    social_degree: float = number(4.0, 0.0, 1000.0, "Mean number of initial social ties per firm.")
    early_technology_firms: int = integer(0, 0, 1_000_000, "Firms that start one generation ahead (path 2).")
    early_technology_capability: float = number(0.7, 0.001, 10.0, "Their capability relative to a typical firm's.")
    early_technology_wealth: float = number(
        1.0, 0.0, 1e6, "Their starting cash relative to their own (backing for a radical venture)."
    )

    @model_validator(mode="after")
    def _home_within_domains(self) -> InitParams:
        if self.home_domains > self.domains:
            raise ValueError(f"init.home_domains must be <= init.domains ({self.domains}); got {self.home_domains}")
        return self


class OrganisationParams(Section):
    universities: int = integer(1, 0, 10_000, "Number of universities.")
    institutes: int = integer(1, 0, 10_000, "Number of research institutes.")
    platforms: int = integer(2, 0, 10_000, "Number of public technology-service platforms.")
    associations: int = integer(1, 0, 10_000, "Number of business associations.")
    capacity: int = integer(15, 1, 10_000_000, "Ties one organisation can serve (scaled by firms/300).")
    novelty: float = number(0.6, 0.0, 1.0, "Share of an organisation's knowledge in domains the cluster lacks.")


# section name -> model, in the order a configuration file lists them (before the processes' sections)
CORE_SECTIONS: dict[str, type[Section]] = {
    "run": RunParams,
    "technology": TechnologyParams,
    "frontier": FrontierParams,
    "init": InitParams,
    "organisations": OrganisationParams,
}
