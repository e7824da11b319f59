"""The command line: ``clusterup run | scenarios | show-config``.

``main(argv)`` returns an exit code and never calls ``sys.exit``; bad input gives exit code 2 and
one line on stderr that names the field and what is allowed.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .errors import ConfigError
from .params import describe_parameters, load_scenario, parse_assignments, preset_names
from .result import prepare_output
from .simulation import Simulation, resolve

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate industrial-cluster upgrading through innovation-network co-evolution (Ji & Hu 2011).",
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
QuietOpt = Annotated[bool, typer.Option(help="Print nothing but errors.")]


def _version(value: bool) -> None:
    if value:
        from . import __version__

        out.print(f"clusterup {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Simulate industrial-cluster upgrading through innovation-network co-evolution (Ji & Hu 2011)."""


def _resolve(scenario: str, seed: int | None, steps: int | None, firms: int | None, sets: list[str]):
    return resolve(scenario, seed=seed, steps=steps, firms=firms, overrides=parse_assignments(sets))


@app.command()
def run(
    scenario: Annotated[str | None, typer.Argument(help="A preset name (see `clusterup scenarios`) or a TOML file.")] = None,
    seed: Annotated[int | None, typer.Option(help="Root random seed (>= 0).")] = None,
    steps: Annotated[int | None, typer.Option(help="Steps to simulate (>= 1).")] = None,
    firms: Annotated[int | None, typer.Option(help="Initial number of firms (>= 2).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a parameter: section.key=value.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output directory (default runs/SCENARIO-seedN).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a run already in --out.")] = False,
    snapshots: Annotated[int, typer.Option(help="Save the network every K steps (and at the end); 0: never.")] = 0,
    checkpoint_every: Annotated[int, typer.Option(help="Save a checkpoint into --out every K steps; 0: never.")] = 0,
    resume: Annotated[Path | None, typer.Option(help="Continue the interrupted run in this directory.")] = None,
    from_data: Annotated[
        str | None, typer.Option("--from-data", help="Start from cluster data: a directory of tables, or 'example'.")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Run one simulation and write its time series, configuration and metadata to --out."""
    from . import checkpoint

    if checkpoint_every < 0:
        raise ConfigError(f"--checkpoint-every must be an integer >= 0; got {checkpoint_every}")
    if resume is not None:
        given = [
            name
            for name, v in (
                ("SCENARIO", scenario),
                ("--seed", seed),
                ("--steps", steps),
                ("--firms", firms),
                ("--set", set_),
                ("--out", out_dir),
                ("--from-data", from_data),
            )
            if v
        ]
        if given:
            raise ConfigError(f"--resume takes its configuration from the checkpoint; drop {', '.join(given)}")
        target = resume
        prepare_output(target, overwrite=overwrite, resuming=True)
        sim = checkpoint.load(target)
        params = sim.params
    else:
        params = _resolve(scenario or "baseline", seed, steps, firms, set_ or [])
        data = None
        if from_data is not None:
            from .data import load_data

            data = load_data(from_data, domains=params.init.domains)  # validated before anything is written
        stem = f"{params.name}-{Path(from_data).name}" if from_data else params.name
        target = out_dir or Path("runs") / f"{stem}-seed{params.run.seed}"
        sim = Simulation(params, snapshot_every=snapshots, data=data, firms=firms)
        prepare_output(target, overwrite=overwrite)
    started = time.perf_counter()

    def after_step(done: int, total: int) -> None:
        if checkpoint_every and done % checkpoint_every == 0 and done < total:
            checkpoint.save(sim, target)

    if sys.stdout.isatty() and not quiet:
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=out, transient=True) as bar:
            task = bar.add_task(params.name, total=params.run.steps, completed=sim.steps_done)

            def progress(done: int, total: int) -> None:
                after_step(done, total)
                bar.update(task, completed=done)

            result = sim.run(progress=progress)
    else:
        result = sim.run(progress=after_step)
    wall = time.perf_counter() - started
    extra = {"wall_seconds": round(wall, 3), "command": " ".join(sys.argv)}
    if resume is not None:
        extra["resumed"] = True
    # the run's own checkpoint is replaced by the finished run (an unfinished run found at the start was refused above)
    result.save(target, overwrite=overwrite, extra_meta=extra, resuming=resume is not None or checkpoint_every > 0)
    if not quiet:
        s = result.summary()
        if result.metadata.get("extinct"):
            out.print(f"[yellow]{result.metadata['message']}[/yellow]")
        out.print(
            f"{s['scenario']} seed {s['seed']}: {s['steps']} steps, {s['firms']} firms at the end, "
            f"generations reached {s['generations_reached']}, final capability mean {s['cap_mean']:.3f} "
            f"(total {s['cap_total']:.1f}, {s['cap_rel_frontier']:.2f} of the frontier); "
            f"{wall:.2f} s -> {target}"
        )


@app.command()
def plot(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (`clusterup run`) or an experiment directory.")],
    fmt: Annotated[list[str] | None, typer.Option("--format", help="png, svg or pdf (repeatable).")] = None,
    indicator: Annotated[
        list[str] | None, typer.Option(help="Experiments: indicators to draw (repeatable; default a standard six).")
    ] = None,
    level: Annotated[float, typer.Option(help="Experiments: confidence level of the bands.")] = 0.95,
) -> None:
    """Draw a run's overview, Figure 2 and (with snapshots) Figure 1; for an experiment, the arms' bands."""
    from .experiments import is_experiment_dir
    from .plots import figure1, figure2, overview, save_figure
    from .result import Result

    formats = fmt or ["png", "svg"]
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad:
        raise ConfigError(f"--format must be one of png, svg, pdf; got {bad[0]!r}")
    if is_experiment_dir(run_dir):
        from .experiments import ExperimentStore, experiment_bands
        from .plots.ensemble import ARM_INDICATORS, arms_figure

        store = ExperimentStore.open(run_dir)
        names = indicator or list(ARM_INDICATORS)
        bands = {name: experiment_bands(store, name, level) for name in names}
        for f in formats:
            path = save_figure(arms_figure(bands, level), run_dir / f"bands.{f}")
            out.print(f"wrote {path}")
        return
    if indicator:
        raise ConfigError("--indicator applies to experiment directories only")
    result = Result.load(run_dir)
    title = f"{result.params.name}, seed {result.metadata.get('seed')}, {result.params.run.firms} firms"
    figures = {"overview": lambda: overview(result.timeseries, title), "figure2": lambda: figure2([result.timeseries])}
    if not result.generations.empty:
        from .plots.adoption import adoption_curves

        figures["adoption"] = lambda: adoption_curves(result.generations, f"Generation adoption curves: {title}")
    if result.snapshots:
        figures["figure1"] = lambda: figure1(result.timeseries, result.snapshots)
    for f in formats:
        for name, draw in figures.items():
            path = save_figure(draw(), run_dir / f"{name}.{f}")
            out.print(f"wrote {path}")


@app.command()
def validate(
    seeds: Annotated[int, typer.Option(help="Seeds per arm (>= 1).")] = 16,
    base_seed: Annotated[int, typer.Option(help="Root seed the replicate seeds are spawned from (>= 0).")] = 2026,
    workers: Annotated[int, typer.Option(help="Worker processes (>= 1).")] = 2,
    steps: Annotated[int | None, typer.Option(help="Steps per run (default: the presets').")] = None,
    firms: Annotated[int | None, typer.Option(help="Initial firms per run (default: the presets').")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the results as JSON here.")] = None,
    figure: Annotated[Path | None, typer.Option(help="Write the validation figure here (png, svg or pdf).")] = None,
) -> None:
    """Run the phenomenon ensembles of the model brief (section 6) and report which hold."""
    from concurrent.futures import ProcessPoolExecutor

    from . import validation

    for name, value, low in (("--seeds", seeds, 1), ("--workers", workers, 1), ("--base-seed", base_seed, 0)):
        if value < low:
            raise ConfigError(f"{name} must be an integer >= {low}; got {value}")
    if steps is not None or firms is not None:
        _resolve("baseline", None, steps, firms, [])  # validates the sizes with the usual messages
    if out_file is not None and out_file.exists():
        raise ConfigError(f"--out {out_file} exists; choose another file")
    if figure is not None and figure.suffix not in (".png", ".svg", ".pdf"):
        raise ConfigError(f"--figure must end in .png, .svg or .pdf; got {figure.name!r}")
    with ProcessPoolExecutor(workers) as ex:
        if sys.stdout.isatty():
            with Progress(
                TextColumn("[bold]validate"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=out,
                transient=True,
            ) as bar:
                task = bar.add_task("runs", total=None)
                ens = validation.run_ensemble(
                    seeds,
                    base_seed,
                    steps=steps,
                    firms=firms,
                    executor=ex,
                    progress=lambda k, n: bar.update(task, completed=k, total=n),
                )
        else:
            ens = validation.run_ensemble(seeds, base_seed, steps=steps, firms=firms, executor=ex)
    rows = validation.evaluate(ens)
    table = Table(box=None)
    for col in ("id", "statement", "n", "result", "holds"):
        table.add_column(col, no_wrap=col in ("id", "n", "holds"))
    for r in rows:
        table.add_row(r["id"], r["statement"], str(r["n"]), json.dumps(r["result"]), "yes" if r["holds"] else "no")
    out.print(table)
    if out_file is not None:
        from .io_utils import write_text_atomic

        payload = {"seeds": ens.seeds, "base_seed": base_seed, "steps": steps, "firms": firms, "rows": rows}
        write_text_atomic(out_file, json.dumps(payload, indent=2))
    if figure is not None:
        from .plots import save_figure
        from .plots.ensemble import validation_figure

        arms = {p: [ens.get(p, s) for s in ens.seeds] for p in validation.PRESETS}
        curve = next(r["result"] for r in rows if r["id"] == "7")
        save_figure(validation_figure(arms, curve, list(validation.APPROPRIABILITY)), figure)
        out.print(f"wrote {figure}")


@app.command()
def analyze(run_dir: Annotated[Path, typer.Argument(help="A run directory written by `clusterup run`.")]) -> None:
    """Stages, path points A-L, path class and network regimes of a run; writes RUN_DIR/analysis.json."""
    from .analysis import analyze as analyze_run
    from .io_utils import write_text_atomic
    from .result import Result

    result = Result.load(run_dir)
    report = analyze_run(result.timeseries)
    write_text_atomic(run_dir / "analysis.json", json.dumps(report, indent=1))
    out.print(f"path class: [bold]{report['path_class']}[/bold]")
    out.print("path points: " + ", ".join(f"{k}={v}" for k, v in sorted(report["path_points"].items())))
    table = Table("stage", "from", "to", box=None)
    for span in report["stages"]:
        table.add_row(span["stage"], str(span["start"]), str(span["end"]))
    out.print(table)
    table = Table("network regime", "from", "to", "dominant layer", "mean turnover", box=None)
    for span in report["network_regimes"]:
        table.add_row(span["kind"], str(span["start"]), str(span["end"]), span["dominant_layer"], f"{span['mean_turnover']:.4f}")
    out.print(table)
    out.print(f"wrote {run_dir / 'analysis.json'}")


@contextmanager
def _bar(label: str, quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A progress bar with an ETA on a terminal; elsewhere a callback that does nothing."""
    if quiet or not sys.stdout.isatty():
        yield lambda done, total: None
        return
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=out, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _print_frame(df, float_format: str) -> None:
    """A DataFrame as a plain Rich table, floats in ``float_format``."""
    table = Table(box=None)
    for c in df.columns:
        table.add_column(str(c))
    for row in df.itertuples(index=False):
        table.add_row(*(format(v, float_format) if isinstance(v, float) else str(v) for v in row))
    out.print(table)


ExecutorOpt = Annotated[str, typer.Option("--executor", help="local (process pool), dask-local, dask or serial.")]
WorkersOpt = Annotated[int, typer.Option(help="Worker processes (>= 1).")]
AddressOpt = Annotated[str | None, typer.Option(help="Scheduler address tcp://HOST:PORT for --executor dask.")]
ExperimentOverwriteOpt = Annotated[bool, typer.Option(help="Replace an experiment already in --out.")]


def _run_experiment(plan, out_dir: Path, executor: str, workers: int, address: str | None, resume: bool, overwrite: bool,
                    quiet: bool, label: str) -> None:  # fmt: skip
    from .experiments import ExperimentStore, make_executor, run_plan

    with make_executor(executor, workers, address) as ex:  # flags are checked before the directory is touched
        store = ExperimentStore.create(out_dir, plan, resume=resume, overwrite=overwrite)
        started = time.perf_counter()
        with _bar(label, quiet) as progress:
            try:
                counts = run_plan(store, ex, progress=progress)
            except KeyboardInterrupt:
                n = len(store.finished_ids())
                print(f"interrupted: {n} of {len(plan.runs)} runs kept in {out_dir}; finish with --resume", file=sys.stderr)
                raise
    if not quiet:
        wall = time.perf_counter() - started
        msg = f"{counts['ran']} runs in {wall:.1f} s"
        if counts["already"]:
            msg += f" ({counts['already']} were already done)"
        if counts["failed"]:
            msg += f"; [red]{counts['failed']} failed[/red] (see status and error in the runs table)"
        out.print(f'{msg} -> {out_dir} (query with `clusterup query {out_dir} "SELECT ..."`)')


@app.command()
def ensemble(
    scenario: Annotated[list[str], typer.Argument(help="One or more presets or TOML files (one arm each).")],
    runs: Annotated[int, typer.Option(help="Replicates per scenario (>= 1).")] = 8,
    seed: Annotated[int, typer.Option(help="Root seed the replicate seeds are spawned from (>= 0).")] = 0,
    steps: Annotated[int | None, typer.Option(help="Steps per run (default: the scenario's).")] = None,
    firms: Annotated[int | None, typer.Option(help="Initial firms per run (default: the scenario's).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a parameter in every run: section.key=value.")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Experiment directory (default experiments/ensemble-SCENARIO).")
    ] = None,
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    resume: Annotated[bool, typer.Option(help="Finish the interrupted ensemble in --out.")] = False,
    overwrite: ExperimentOverwriteOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Replicates of one or more scenarios with common random numbers, stored under --out."""
    from .experiments import ensemble_plan

    if runs < 1 or seed < 0:
        raise ConfigError(f"--runs must be >= 1 and --seed >= 0; got {runs} and {seed}")
    plan = ensemble_plan(list(scenario), runs, seed, steps, firms, parse_assignments(set_ or []))
    target = out_dir or Path("experiments") / ("ensemble-" + "-vs-".join(Path(s).stem for s in scenario))
    _run_experiment(plan, target, executor, workers, address, resume, overwrite, quiet, "ensemble")


@app.command()
def sweep(
    file: Annotated[Path, typer.Argument(help="A sweep file (TOML; docs/experiments.md).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Experiment directory (default experiments/FILE-STEM).")] = None,
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    resume: Annotated[bool, typer.Option(help="Finish the interrupted sweep in --out.")] = False,
    overwrite: ExperimentOverwriteOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run a parameter sweep (grid, Latin hypercube or Sobol' design) x replicates, stored under --out."""
    from .experiments import load_sweep, make_plan

    spec, base = load_sweep(file)
    plan = make_plan(spec, base)
    _run_experiment(plan, out_dir or Path("experiments") / file.stem, executor, workers, address, resume, overwrite, quiet,
                    "sweep")  # fmt: skip


@app.command()
def query(
    exp_dir: Annotated[Path, typer.Argument(help="An experiment directory (ensemble, sweep or sensitivity).")],
    sql: Annotated[str, typer.Argument(help='SQL over the views runs and timeseries, e.g. "SELECT * FROM runs".')],
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Run SQL (DuckDB) against an experiment's runs and timeseries views and print the result."""
    from .experiments import ExperimentStore

    df = ExperimentStore.open(exp_dir).query(sql)
    if csv:
        sys.stdout.write(df.to_csv(index=False))
        return
    _print_frame(df, ".6g")
    out.print(f"({len(df)} rows)")


@app.command()
def sensitivity(
    file: Annotated[Path, typer.Argument(help="A sensitivity file (TOML; docs/experiments.md).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Directory (default experiments/FILE-STEM).")] = None,
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    resume: Annotated[bool, typer.Option(help="Finish the interrupted analysis in --out.")] = False,
    overwrite: ExperimentOverwriteOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Morris or Sobol' sensitivity indices (SALib) with confidence intervals: table, CSV and plot."""
    from .experiments import ExperimentStore
    from .experiments import sensitivity as sa
    from .io_utils import write_text_atomic
    from .plots import save_figure

    spec, base = sa.load_sensitivity(file)
    plan, X = sa.make_sensitivity_plan(spec, base)
    target = out_dir or Path("experiments") / file.stem
    _run_experiment(plan, target, executor, workers, address, resume, overwrite, quiet, spec.method)
    table = sa.analyze(ExperimentStore.open(target), spec, X)
    write_text_atomic(target / "sensitivity.csv", table.to_csv(index=False))
    save_figure(sa.figure(table, spec.method), target / "sensitivity.png")
    _print_frame(table, ".4g")
    out.print(f"wrote {target / 'sensitivity.csv'} and {target / 'sensitivity.png'}")


@app.command()
def calibrate(
    file: Annotated[Path, typer.Argument(help="A calibration file (TOML; docs/experiments.md).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Directory for the posterior and fit plot.")] = None,
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a calibration already in --out.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Fit parameters to an observed series by ABC-SMC; writes posterior.csv, calibration.json and fit.png."""
    from .experiments import calibrate as cal
    from .experiments import make_executor
    from .io_utils import write_text_atomic
    from .plots import save_figure

    spec, base, obs = cal.load_calibration(file)
    target = out_dir or Path("experiments") / file.stem
    if target.exists() and not target.is_dir():
        raise ConfigError(f"--out {target} exists and is not a directory")
    if target.exists() and any(target.iterdir()):
        if not (target / "calibration.json").is_file():
            raise ConfigError(f"--out {target} is not empty and is not a calibration; choose another directory")
        if not overwrite:
            raise ConfigError(f"--out {target} holds a calibration; pass --overwrite to replace it")
    with make_executor(executor, workers, address) as ex, _bar("abc-smc", quiet) as progress:
        res = cal.abc_smc(spec, obs, ex, base, progress)
        best_run, pred_runs = cal.predictive_runs(spec, res, ex, base)
    post = res["posterior"]
    target.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target / "posterior.csv", post.to_csv(index=False))
    report = {
        "method": "ABC-SMC (adaptive quantile tolerance)",
        "indicator": spec.indicator,
        "observed": spec.observed,
        "tolerances": res["tolerances"],
        "summary": res["summary"],
        "best": res["best"],
        "config": spec.model_dump(),
    }
    write_text_atomic(target / "calibration.json", json.dumps(report, indent=1))
    if best_run[1] == "ok":
        save_figure(
            cal.fit_figure(obs, pred_runs, best_run[2], spec.indicator, f"{spec.indicator}: ABC-SMC fit"), target / "fit.png"
        )
    table = Table("parameter", "posterior mean", "sd", "5%", "median", "95%", "best", box=None)
    for k, s in res["summary"].items():
        table.add_row(k, *(f"{s[x]:.4g}" for x in ("mean", "sd", "q05", "median", "q95")), f"{res['best'][k]:.4g}")
    out.print(table)
    out.print(f"tolerances: {', '.join(f'{e:.3g}' for e in res['tolerances'])}; wrote {target}")


@app.command("export-initial")
def export_initial(
    scenario: Annotated[str, typer.Argument(help="A preset name or a TOML file.")] = "baseline",
    out_dir: Annotated[Path, typer.Option("--out", help="A new directory for the tables.")] = Path("cluster-data"),
    seed: Annotated[int | None, typer.Option(help="Root random seed (>= 0).")] = None,
    firms: Annotated[int | None, typer.Option(help="Initial number of firms (>= 2).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a parameter: section.key=value.")] = None,
    from_data: Annotated[str | None, typer.Option("--from-data", help="Complete this data's missing columns instead.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
) -> None:
    """Write a scenario's initial state as data tables; `run --from-data` on them reproduces the run."""
    from .data import initial_data

    if fmt not in ("parquet", "csv"):
        raise ConfigError(f"--format must be parquet or csv; got {fmt!r}")
    params = _resolve(scenario, seed, None, firms if from_data is None else None, set_ or [])
    sim = Simulation(params, data=from_data, firms=firms)
    initial_data(sim.state).save(out_dir, fmt)
    out.print(
        f"wrote {out_dir}: {int(sim.state.pop.is_firm.sum())} firms, {len(sim.state.net['social'])} social, "
        f"{len(sim.state.net['economic'])} economic, {len(sim.state.net['knowledge'])} knowledge ties "
        f"(run it: clusterup run {scenario} --seed {params.run.seed} --from-data {out_dir})"
    )


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (with --snapshots for a dynamic network).")],
    fmt: Annotated[str, typer.Option("--format", help="gexf (dynamic, for Gephi) or graphml (one file per snapshot).")] = "gexf",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output directory (default RUN_DIR/export).")] = None,
) -> None:
    """Export a run's multiplex network for Gephi and NetworkX: GEXF with spells, or GraphML."""
    from .data.export import export_run

    if fmt not in ("gexf", "graphml"):
        raise ConfigError(f"--format must be gexf or graphml; got {fmt!r}")
    for path in export_run(run_dir, fmt, out_dir or run_dir / "export"):
        out.print(f"wrote {path}")


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(help="A run directory or an experiment directory.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="The HTML file to write (default DIR/report.html).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Write one self-contained HTML report (figures embedded, no remote resources)."""
    from .report import write_report

    path = write_report(directory, out_file or directory / "report.html", overwrite=overwrite)
    out.print(f"wrote {path}")


def explore_command(host: str, port: int, browser: bool) -> list[str]:
    """The Solara server command the explorer runs (loopback unless --host says otherwise)."""
    return [sys.executable, "-m", "solara", "run", "clusterup.explorer.app", "--host", host, "--port", str(port),
            "--production", "--open" if browser else "--no-open", "--no-access-log"]  # fmt: skip


@app.command()
def explore(
    port: Annotated[int, typer.Option(help="Port to serve on (0: a free one).")] = 8765,
    host: Annotated[str, typer.Option(help="Interface to bind; the default serves this machine only.")] = "127.0.0.1",
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open a browser tab.")] = True,
    fetch_assets: Annotated[
        bool, typer.Option("--fetch-assets", help="Fetch the front-end assets from the npm registry first (offline machines).")
    ] = False,
) -> None:
    """Start the explorer in the browser: choose a preset, move sliders, run, compare, download TOML."""
    import os
    import socket
    import subprocess

    from .explorer import assets

    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be an integer in [0, 65535]; got {port}")
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.bind((host, port))
            port = sock.getsockname()[1]  # --port 0: the free port the system chose
    except OSError as exc:
        raise ConfigError(
            f"--host {host} --port {port}: cannot listen there ({exc.strerror}); --port 0 picks a free port"
        ) from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        out.print(f"[yellow]serving on {host}: other machines can reach the explorer[/yellow]")
    if fetch_assets or assets.missing():
        try:
            import requests

            reachable = not fetch_assets and requests.head("https://cdn.jsdelivr.net/npm/requirejs@2.3.6/require.js", timeout=3).ok
        except Exception:  # noqa: BLE001 - any failure means: no CDN from here
            reachable = False
        if not reachable:
            for name in assets.fetch(log=lambda m: out.print(m)):
                out.print(f"cached {name}")
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    out.print(f"clusterup explorer on http://{host}:{port} (Ctrl-C stops it)")
    raise typer.Exit(subprocess.call(explore_command(host, port, browser), env=env))


@app.command()
def scenarios() -> None:
    """List the shipped scenario presets."""
    table = Table(box=None)
    table.add_column("preset", no_wrap=True)
    table.add_column("description")
    for name in preset_names():
        table.add_row(name, load_scenario(name).description)
    out.print(table)


@app.command("show-config")
def show_config(
    scenario: Annotated[str, typer.Argument(help="A preset name or a TOML file.")] = "baseline",
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a parameter: section.key=value.")] = None,
) -> None:
    """Print the fully resolved parameters of a scenario as TOML (a file you can edit and run)."""
    sys.stdout.write(_resolve(scenario, None, None, None, set_ or []).to_toml())


@app.command()
def parameters(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table with baseline values.")] = False,
) -> None:
    """List every parameter with its type, allowed range and description."""
    rows = describe_parameters()
    if markdown:
        sys.stdout.write(parameters_markdown())
        return
    if as_json:
        keys = ("key", "type", "range", "description")
        sys.stdout.write(json.dumps([dict(zip(keys, r, strict=True)) for r in rows], indent=1) + "\n")
        return
    table = Table(box=None)
    table.add_column("key", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("range", no_wrap=True)
    table.add_column("description")
    for r in rows:
        table.add_row(*r)
    out.print(table)


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


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code (0 ok, 2 bad input, 1 failure, 130 interrupted)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="clusterup", standalone_mode=False)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except (typer.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # usage errors of the CLI parser (unknown option, bad flag value): one line, exit 2
        if type(exc).__name__ == "NoArgsIsHelpError":
            print(exc.ctx.get_help())  # type: ignore[attr-defined]
            return 0
        if getattr(exc, "exit_code", None) == 2 and hasattr(exc, "format_message"):
            print(f"error: {' '.join(exc.format_message().split())}", file=sys.stderr)
            return 2
        raise
    return 0


def run_cli() -> None:  # pragma: no cover - console-script entry point
    sys.exit(main())
