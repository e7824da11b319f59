"""Which figures ``clusterup plot`` draws for a directory: a run's overview, Figure 2, adoption curves and
(with snapshots) Figure 1; an experiment's arms with their bands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from ..errors import ConfigError


def figures_of(directory: Path, indicators: list[str] | None = None, level: float = 0.95) -> dict[str, Callable[[], Figure]]:
    """File stem -> a function drawing that figure, for a run or an experiment directory."""
    from ..experiments import ExperimentStore, experiment_bands, is_experiment_dir
    from ..experiments.calibrate import calibration_figure, is_calibration_dir, posterior_figure
    from ..result import Result
    from .ensemble import ARM_INDICATORS, arms_figure
    from .figure1 import figure1
    from .figure2 import figure2
    from .overview import overview

    if is_calibration_dir(directory):
        if indicators:
            raise ConfigError("--indicator applies to ensembles and sweeps; a calibration draws its fit and posterior")
        return {"calibration-fit": lambda: calibration_figure(directory), "posterior": lambda: posterior_figure(directory)}
    if is_experiment_dir(directory):
        store = ExperimentStore.open(directory)
        if (directory / "sensitivity.csv").is_file() and not indicators:  # the indices, not 32 sample points' bands
            import pandas as pd

            from ..experiments.sensitivity import figure as sensitivity_figure

            table = pd.read_csv(directory / "sensitivity.csv")
            method = "morris" if "mu_star" in table else "sobol"
            return {"sensitivity": lambda: sensitivity_figure(table, method)}
        names = indicators or list(ARM_INDICATORS)
        bands = {name: experiment_bands(store, name, level) for name in names}  # checked before anything is drawn
        return {"bands": lambda: arms_figure(bands, level)}
    if indicators:
        raise ConfigError("--indicator applies to experiment directories only")
    result = Result.load(directory)
    title = f"{result.params.name}, seed {result.metadata.get('seed')}, {result.params.run.firms} firms"
    from .style import intervention_marks

    marks = intervention_marks(result.params)
    figures: dict[str, Callable[[], Figure]] = {
        "overview": lambda: overview(result.timeseries, title, marks),
        "figure2": lambda: figure2([result.timeseries], marks=marks),
    }
    from .adoption import has_new_generation

    if has_new_generation(result.generations):
        from .adoption import adoption_curves

        figures["adoption"] = lambda: adoption_curves(result.generations, f"Generation adoption curves: {title}")
    if result.snapshots:
        figures["figure1"] = lambda: figure1(result.timeseries, result.snapshots)
    return figures
