"""The command line. Each command parses its arguments, calls one library function and prints what it
returned; ``main(argv)`` maps errors to exit codes and never calls ``sys.exit``: bad input gives exit
code 2 and one line on stderr that names the field and what is allowed, Ctrl-C exits 130.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from .errors import ConfigError, Interrupted
from .io_utils import default_target, refuse_existing

app = typer.Typer(
    add_completion=True,
    rich_markup_mode=None,
    context_settings={"max_content_width": 110},
    no_args_is_help=True,
    help="Simulate industrial-cluster upgrading through innovation-network co-evolution (Ji & Hu 2011).",
    pretty_exceptions_enable=False,
)


class _Console:
    """The commands' console (rich's ``Console``), made when a command first prints: a command that prints
    nothing (``--quiet``, as in batch jobs and scripted ensembles) does not import rich's console, tables and
    progress bars (40-50 ms of its start-up)."""

    _made = None

    def __getattr__(self, name: str):
        if _Console._made is None:
            from rich.console import Console

            _Console._made = Console(highlight=False, soft_wrap=True)
        return getattr(_Console._made, name)


def Table(*columns, **options):  # noqa: N802 - rich's class, imported when a command first makes a table
    from rich.table import Table as RichTable

    return RichTable(*columns, **options)


out = _Console()
QuietOpt = Annotated[bool, typer.Option("--quiet", help="Print nothing but errors.")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a parameter: section.key=value (repeatable).")]
SCENARIOS = "the scenario's"


def parse_assignments(items: list[str]) -> dict:
    from .params import parse_assignments as parse

    return parse(items)


def resolve(*args, **kwargs):
    from .simulation import resolve as resolve_params

    return resolve_params(*args, **kwargs)


def _version(value: bool) -> None:
    if value:
        from .version import __version__

        out.print(f"clusterup {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Simulate industrial-cluster upgrading through innovation-network co-evolution (Ji & Hu 2011)."""


@contextmanager
def _bar(label: str, quiet: bool = False, total: int | None = None, completed: int = 0) -> Iterator[Callable[[int, int], None]]:
    """A progress bar with an ETA on a terminal; elsewhere a callback that does nothing."""
    if quiet or not sys.stdout.isatty():
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=out, transient=True) as bar:
        task = bar.add_task(label, total=total, completed=completed)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@app.command()
def run(
    scenario: Annotated[
        str | None, typer.Argument(help="A preset name (see `clusterup scenarios`) or a TOML file.", metavar="SCENARIO",
                                   show_default="baseline")  # fmt: skip
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Root random seed (>= 0).", show_default=SCENARIOS)] = None,
    steps: Annotated[int | None, typer.Option(help="Steps to simulate (>= 1).", show_default=SCENARIOS)] = None,
    firms: Annotated[int | None, typer.Option(help="Initial number of firms (>= 2).", show_default=SCENARIOS)] = None,
    set_: SetOpt = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory.", show_default="runs/SCENARIO[-what --set etc. changed]-seedN, "
                     "with -2, -3, ... appended where that is taken"),  # fmt: skip
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a run already in --out.")] = False,
    snapshots: Annotated[int, typer.Option(help="Save the network every K steps (and at the end); 0: never.")] = 0,
    panel: Annotated[
        int, typer.Option(help="Save the firm-level panel (panel.parquet) every K steps and at the end; 0: never.")
    ] = 0,
    checkpoint_every: Annotated[int, typer.Option(help="Save a checkpoint into --out every K steps; 0: never.")] = 0,
    resume: Annotated[Path | None, typer.Option(help="Continue the interrupted run in this directory.")] = None,
    from_data: Annotated[
        str | None, typer.Option("--from-data", help="Start from cluster data: a directory of tables, or 'example'.")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Run one simulation and write its time series, configuration and metadata to --out.

    \b
    Examples:
      clusterup run baseline
      clusterup run lock-in --seed 7 --steps 300 --firms 1000 --out runs/lockin
      clusterup run baseline --set technology.appropriability=0.2
      clusterup run mine.toml --panel 4 --snapshots 20
      clusterup run --resume runs/long
    """
    from . import runs

    if resume is not None:
        given = [name for name, v in (("SCENARIO", scenario), ("--seed", seed), ("--steps", steps), ("--firms", firms),
                                      ("--set", set_), ("--out", out_dir), ("--from-data", from_data)) if v]  # fmt: skip
        if given:
            raise ConfigError(f"--resume takes its configuration from the checkpoint; drop {', '.join(given)}")
    started = time.perf_counter()
    from .simulation import ProgressCallback

    with _bar("run", quiet) as progress:
        observers = [ProgressCallback(progress)]
        if resume is not None:
            result, target = runs.resume(resume, checkpoint_every=checkpoint_every, overwrite=overwrite, observers=observers)
        else:
            result, target = runs.run_to_directory(
                scenario or "baseline", out=out_dir, seed=seed, steps=steps, firms=firms, overrides=parse_assignments(set_ or []),
                data=from_data, snapshots=snapshots, panel=panel, checkpoint_every=checkpoint_every, overwrite=overwrite,
                observers=observers,
            )  # fmt: skip
    wall = time.perf_counter() - started
    if not quiet:
        s = result.summary()
        if result.metadata.get("extinct"):
            out.print(f"[yellow]{result.metadata['message']}[/yellow]")
        out.print(
            f"{s['scenario']} seed {s['seed']}: {s['steps']} steps, {s['firms']} firms at the end, "
            f"generations reached {s['generations_reached']}, final capability mean {s['cap_mean']:.3f} "
            f"(total {s['cap_total']:.1f}; the mean is {s['cap_rel_frontier']:.2f} times the outside frontier A*); "
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
    overwrite: OverwriteOpt = False,
) -> None:
    """Draw a run's overview, Figure 2, adoption curves and (with snapshots) Figure 1; for an experiment, the
    arms' bands; for a sensitivity analysis, its indices; for a calibration, its fit and posterior.

    \b
    Examples:
      clusterup plot runs/baseline-seed1
      clusterup plot experiments/levers --indicator cap_mean --indicator gen_max --format pdf
    """
    from .plots import save_figure
    from .plots.files import figures_of

    formats = fmt or ["png", "svg"]
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad:
        raise ConfigError(f"--format must be one of png, svg, pdf; got {bad[0]!r}")
    figures = figures_of(run_dir, indicator, level)
    refuse_existing([run_dir / f"{name}.{f}" for name in figures for f in formats], overwrite)
    for name, draw in figures.items():
        for f in formats:
            path = save_figure(draw(), run_dir / f"{name}.{f}")
            out.print(f"wrote {path}")


def _sizes(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        sizes = [int(x) for x in text.split(",")]
    except ValueError:
        raise ConfigError(f"--sizes takes initial firm counts separated by commas, e.g. 150,300,1000; got {text!r}") from None
    if not sizes or min(sizes) < 2:
        raise ConfigError(f"--sizes: every size must be an integer >= 2; got {text!r}")
    return sizes


def _validation_table(rows: list[dict]) -> Table:
    table = Table(box=None)
    for col in ("id", "statement", "result", "holds"):
        table.add_column(col, no_wrap=col in ("id", "holds"))
    for r in rows:
        if r["kind"] == "per_seed":
            lo, hi = r["wilson95"]
            result = f"{r['passes']}/{r['n']} ({r['rate']:.0%}), Wilson 95% [{lo:.2f}, {hi:.2f}]"
        elif r["kind"] == "comparison":
            result = "; ".join(f"p={c['p']:.2g}, A={c['effect']:.2f}" if c["test"] == "mann-whitney" else
                               f"p={c['p']:.2g}, diff={c['effect']:.2f}" for c in r["comparisons"])  # fmt: skip
        else:
            result = json.dumps(r["result"])
        table.add_row(r["id"], r["title"], result, "yes" if r["holds"] else "[red]no[/red]")
    return table


@app.command()
def validate(
    seeds: Annotated[
        int | None, typer.Option(help="Seeds per arm (>= 1; default 128, the published tables', 16 with --robustness).")
    ] = None,
    base_seed: Annotated[
        int | None,
        typer.Option(help="Root seed the replicate seeds are spawned from (>= 0; default: the published tables' base seed, "
                     "clusterup.validation.BASE_SEED)."),  # fmt: skip
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (>= 1).")] = 2,
    steps: Annotated[int | None, typer.Option(help="Steps per run (default: the presets').")] = None,
    firms: Annotated[int | None, typer.Option(help="Initial firms per run (default: the presets').")] = None,
    sizes: Annotated[str | None, typer.Option(help="Run at several sizes, e.g. 150,300,1000 (instead of --firms).")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the results as JSON here.")] = None,
    figure: Annotated[
        Path | None, typer.Option(help="Write the validation figure here (png, svg or pdf; of 300 firms when --sizes has it).")
    ] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write the results as the Markdown table(s) of docs/validation.md.")] = None,
    facts: Annotated[
        bool, typer.Option("--facts", help="Check the stylised facts of industrial dynamics on a baseline ensemble instead.")
    ] = False,
    robustness: Annotated[
        bool,
        typer.Option("--robustness", help="Move each preset key and the ten most influential baseline parameters (Morris) "
                     "by +-20% and test every statement they touch."),  # fmt: skip
    ] = False,
    keys: Annotated[
        str | None,
        typer.Option(help="With --robustness: move only these parameters (comma-separated), in every arm, by each "
                     "of --factors; no screening.", metavar="KEY,KEY"),  # fmt: skip
    ] = None,
    factors: Annotated[
        str | None,
        typer.Option(help="With --robustness: the factors each key is moved by (comma-separated).", show_default="0.8,1.2",
                     metavar="F,F"),  # fmt: skip
    ] = None,
    screen_seeds: Annotated[
        int | None,
        typer.Option(help="With --robustness: seeds each point of the Morris screening is run with and averaged over "
                     "(>= 1).", show_default="4"),  # fmt: skip
    ] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Run the phenomenon ensembles on fresh seeds and report, per statement, its test; exit 1 when one fails.

    \b
    Examples:
      clusterup validate --sizes 150,300,1000 --out validation.json
      clusterup validate --robustness --seeds 16 --out robustness.json --markdown robustness.md
      clusterup validate --robustness --keys technology.appropriability --factors 0.7,0.8,0.9,1.1,1.2,1.3
    """
    from . import validation

    base_seed = validation.BASE_SEED if base_seed is None else base_seed
    size_list = _sizes(sizes)
    if size_list is not None and firms is not None:
        raise ConfigError("--sizes and --firms exclude each other; use one")
    if (keys is not None or factors is not None or screen_seeds is not None) and not robustness:
        raise ConfigError("--keys, --factors and --screen-seeds go with --robustness")
    if keys is not None and screen_seeds is not None:
        raise ConfigError("--screen-seeds sets the Morris screening, which --keys skips; use one of them")
    if screen_seeds is not None and screen_seeds < 1:
        raise ConfigError(f"--screen-seeds must be an integer >= 1; got {screen_seeds}")
    key_list = [k.strip() for k in keys.split(",") if k.strip()] if keys is not None else None
    factor_list = _factors(factors)
    refuse_existing([p for p in (out_file, markdown, figure) if p is not None], overwrite)
    if figure is not None and figure.suffix not in (".png", ".svg", ".pdf"):
        raise ConfigError(f"--figure must end in .png, .svg or .pdf; got {figure.name!r}")
    if facts:
        if robustness or (size_list is not None and len(size_list) > 1):
            raise ConfigError("--facts runs the baseline at one size; drop --robustness and give one --firms")
        size = size_list[0] if size_list else firms
        _facts(16 if seeds is None else seeds, base_seed, workers, steps, size, out_file, markdown, figure)
        return
    if robustness:
        if figure is not None or (size_list is not None and len(size_list) > 1):
            raise ConfigError("--robustness runs at one size and draws no figure; drop --figure and give one --firms")
        size = size_list[0] if size_list else firms
        _robustness(16 if seeds is None else seeds, base_seed, workers, steps, size, out_file, markdown, key_list, factor_list,
                    screen_seeds)
        return
    seeds = validation.SEEDS if seeds is None else seeds
    reports = {}
    for size in size_list or [firms]:
        with _bar(f"validate {size or ''}".strip()) as progress:
            reports[size] = validation.run_validation(seeds, base_seed, workers=workers, steps=steps, firms=size, progress=progress)
        label = f"{size} initial firms" if size else "the presets' size"
        out.print(f"[bold]{seeds} seeds from base seed {base_seed}, {label}[/bold]")
        out.print(_validation_table(reports[size].rows))
    if out_file is not None:
        from .io_utils import write_text_atomic

        payload = reports[next(iter(reports))].payload() if size_list is None else {
            "sizes": {str(k): v.payload() for k, v in reports.items()}}  # fmt: skip
        write_text_atomic(out_file, json.dumps(payload, indent=2))
    if markdown is not None:
        from .io_utils import write_text_atomic

        text = "".join(
            f"### {k or 'preset size'} initial firms\n\n{validation.markdown_table(v.rows)}\n" for k, v in reports.items()
        )
        write_text_atomic(markdown, text)
    if figure is not None:
        from .plots import save_figure

        shown = 300 if 300 in reports else next(iter(reports))  # the presets' size where it was run
        save_figure(reports[shown].figure(), figure)
        out.print(f"wrote {figure}")
    failed = [f"{r['id']} ({k or 'preset size'})" for k, v in reports.items() for r in v.rows if not r["holds"]]
    if failed:
        print(f"validation: {len(failed)} statement(s) do not hold: {', '.join(failed)}", file=sys.stderr)
        raise typer.Exit(1)


def _facts(seeds: int, base_seed: int, workers: int, steps: int | None, firms: int | None,
           out_file: Path | None, markdown: Path | None, figure: Path | None) -> None:  # fmt: skip
    from . import validation
    from .io_utils import write_text_atomic

    with out.status(f"stylised facts: {seeds} baseline runs"):
        rows = validation.run_facts(seeds, base_seed, workers=workers, steps=steps, firms=firms, figure=figure)
    table = Table("#", "fact", "result", "holds", box=None)
    for r in rows:
        table.add_row(r["id"], r["fact"], r["result"], "yes" if r["holds"] else "[red]no[/red]")
    out.print(table)
    if out_file is not None:
        write_text_atomic(out_file, json.dumps({"seeds": seeds, "base_seed": base_seed, "rows": rows}, indent=2))
    if markdown is not None:
        write_text_atomic(markdown, validation.facts_markdown(rows))
    failed = [r["id"] for r in rows if not r["holds"]]
    if failed:
        print(f"stylised facts: {', '.join(failed)} do not hold", file=sys.stderr)
        raise typer.Exit(1)


def _factors(text: str | None) -> tuple[float, ...]:
    """--factors as numbers (their range is checked with the keys, by robustness.check_sweep)."""
    from .robustness import FACTORS

    if text is None:
        return FACTORS
    try:
        return tuple(float(f) for f in text.split(",") if f.strip())
    except ValueError:
        raise ConfigError(f"--factors must be comma-separated numbers such as 0.8,1.2; got {text!r}") from None


def _robustness(seeds: int, base_seed: int, workers: int, steps: int | None, firms: int | None,
                out_file: Path | None, markdown: Path | None, keys: list[str] | None,
                factors: tuple[float, ...], screen_seeds: int | None) -> None:  # fmt: skip
    from .io_utils import write_text_atomic
    from .robustness import REPLICATES, cell, run_robustness

    with out.status("robustness") as status:  # run_robustness refuses bad keys and factors before any run
        report = run_robustness(seeds, base_seed, workers=workers, steps=steps, firms=firms, keys=keys, factors=factors,
                                screen_seeds=REPLICATES if screen_seeds is None else screen_seeds,
                                progress=lambda m: status.update(f"robustness: {m}"))  # fmt: skip
    if report.screen is not None:
        sc = report.screen
        out.print(f"Morris screening ({sc.trajectories} trajectories, {sc.replicates} seed(s) per point; mu* of log long-run "
                  "cap_total, +- its bootstrap 95% half-width): "
                  + ", ".join(f"{k} {m:.3g} +- {c:.2g}" for k, m, c in sc.ranking[: len(report.screened)]))  # fmt: skip
    table = Table("perturbation", "from", "statements (passes/seeds or largest p)", box=None)
    for r in report.rows:
        ev = r["evidence"]
        table.add_row(r["label"], r["source"], ", ".join(f"{i} {cell(ok, ev[i]).replace('**', '')}"
                                                         for i, ok in r["statements"].items()))  # fmt: skip
    out.print(table)
    if out_file is not None:
        write_text_atomic(out_file, json.dumps(report.payload(), indent=2))
    if markdown is not None:
        write_text_atomic(markdown, report.markdown())
    if not report.holds:
        bad = sorted({r["label"] for r in report.rows if not all(r["statements"].values())})
        print(f"robustness: {len(bad)} perturbation(s) break a statement: {', '.join(bad)}", file=sys.stderr)
        raise typer.Exit(1)


OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace files that are already there.")]


@app.command()
def analyze(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `clusterup run`.")],
    overwrite: OverwriteOpt = False,
) -> None:
    """Stages, path points A-L, path class and network regimes of a run; writes RUN_DIR/analysis.json."""
    from .analysis import POINT_MEANINGS
    from .analysis import analyze as analyze_run
    from .io_utils import write_text_atomic
    from .result import Result

    result = Result.load(run_dir)
    refuse_existing([run_dir / "analysis.json"], overwrite)
    report = analyze_run(result.timeseries)
    write_text_atomic(run_dir / "analysis.json", json.dumps(report, indent=1))
    import pandas as pd

    out.print(f"path class: [bold]{report['path_class']}[/bold]")
    points = sorted(report["path_points"].items(), key=lambda kv: (kv[1], kv[0]))
    _print_frame(pd.DataFrame([(k, v, POINT_MEANINGS[k]) for k, v in points], columns=["path point", "step", "marks"]), "g")
    out.print()
    stages = pd.DataFrame(report["stages"], columns=["stage", "start", "end"])
    _print_frame(stages.rename(columns={"start": "from", "end": "to"}), "g")
    out.print()
    names = {"kind": "network regime", "start": "from", "end": "to", "dominant_layer": "dominant layer",
             "mean_turnover": "mean turnover"}  # fmt: skip
    _print_frame(pd.DataFrame(report["network_regimes"], columns=list(names)).rename(columns=names), ".4f")
    out.print(f"wrote {run_dir / 'analysis.json'}")


def _cell(value, float_format: str) -> str:
    return format(value, float_format) if isinstance(value, float) else str(value)


def _print_frame(df, float_format: str, width: int | None = None) -> None:
    """A DataFrame as plain text, nothing cut: a table where it fits the terminal's width; a table whose last
    (text) column wraps where only that column is too wide and at least 24 characters are left for it; else
    one block per row with a ``column | value`` line per column (like psql's expanded display)."""
    width = width or out.width
    headers = [str(c) for c in df.columns]
    rows = [[_cell(v, float_format) for v in row] for row in df.itertuples(index=False)]
    widths = [max([len(h)] + [len(r[j]) for r in rows]) for j, h in enumerate(headers)]
    lines = []
    numeric = [df[c].dtype.kind in "iufb" for c in df.columns]
    gaps = 2 * max(len(widths) - 1, 0)
    room = width - sum(widths[:-1]) - gaps  # what the columns before the last leave for it
    if sum(widths) + gaps > width and len(widths) > 1 and not numeric[-1] and room >= 24:
        import textwrap

        wrapped = []  # the last column wraps; continuation lines are indented under it
        for r in rows:
            parts = textwrap.wrap(r[-1], room) or [""]
            wrapped += [[*r[:-1], parts[0]], *([""] * (len(r) - 1) + [part] for part in parts[1:])]
        rows = wrapped
        widths[-1] = max([len(headers[-1])] + [len(r[-1]) for r in rows])
    if sum(widths) + gaps <= width:
        def line(cells):
            return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)).rstrip()
        lines += [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    else:
        key = max(len(h) for h in headers)
        for k, r in enumerate(rows, 1):
            lines.append(f"-[ row {k} ]" + "-" * max(0, min(width, key + 20) - len(f"-[ row {k} ]")))
            lines += [f"{h.ljust(key)} | {v}" for h, v in zip(headers, r, strict=True)]
    sys.stdout.write("\n".join(lines) + ("\n" if lines else ""))


ExecutorOpt = Annotated[str, typer.Option("--executor", help="local (process pool), dask-local, dask, slurm, mpi or serial.")]
WorkersOpt = Annotated[int, typer.Option(help="Worker processes (>= 1); with --executor slurm, worker jobs.")]
ClusterOpt = Annotated[
    Path | None, typer.Option("--cluster-config", help="--executor slurm: a TOML of queue, account, cores, memory, "
                              "walltime (docs/experiments.md); default: dask-jobqueue's configuration.")]  # fmt: skip
AddressOpt = Annotated[str | None, typer.Option(help="Scheduler address tcp://HOST:PORT for --executor dask.")]
ExperimentOverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace an experiment already in --out.")]


def _run_experiment(plan, out_dir: Path, executor: str, workers: int, address: str | None, resume: bool, overwrite: bool,
                    quiet: bool, label: str, cluster_config: Path | None = None) -> None:  # fmt: skip
    from .experiments import run_experiment

    started = time.perf_counter()
    with _bar(label, quiet) as progress:
        counts = run_experiment(plan, out_dir, executor=executor, workers=workers, address=address, resume=resume,
                                overwrite=overwrite, progress=progress, cluster_config=cluster_config)  # fmt: skip
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
    cluster_config: ClusterOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish the interrupted ensemble in --out.")] = False,
    overwrite: ExperimentOverwriteOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Replicates of one or more scenarios with common random numbers, stored under --out.

    \b
    Examples:
      clusterup ensemble lock-in policy-pipelines --runs 16 --out experiments/levers
      clusterup ensemble baseline --runs 32 --firms 1000 --set spillover.rate=0.5
      clusterup ensemble lock-in policy-pipelines --runs 16 --out experiments/levers --resume
    """
    from .experiments import ensemble_plan

    if runs < 1 or seed < 0:
        raise ConfigError(f"--runs must be >= 1 and --seed >= 0; got {runs} and {seed}")
    plan = ensemble_plan(list(scenario), runs, seed, steps, firms, parse_assignments(set_ or []))
    target = out_dir or default_target(Path("experiments") / ("ensemble-" + "-vs-".join(Path(s).stem for s in scenario)),
                                        resume=resume, overwrite=overwrite)  # fmt: skip
    _run_experiment(plan, target, executor, workers, address, resume, overwrite, quiet, "ensemble", cluster_config)


@app.command()
def sweep(
    file: Annotated[Path, typer.Argument(help="A sweep file (TOML; docs/experiments.md).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Experiment directory (default experiments/FILE-STEM).")] = None,
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    cluster_config: ClusterOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish the interrupted sweep in --out.")] = False,
    overwrite: ExperimentOverwriteOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run a parameter sweep (grid, Latin hypercube or Sobol' design) x replicates, stored under --out.

    \b
    Examples:
      clusterup sweep sweep.toml --out experiments/spill
      clusterup sweep sweep.toml --out experiments/spill --executor dask-local --workers 2
    """
    from .experiments import load_sweep, make_plan

    spec, base = load_sweep(file)
    plan = make_plan(spec, base)
    target = out_dir or default_target(Path("experiments") / file.stem, resume=resume, overwrite=overwrite)
    _run_experiment(plan, target, executor, workers, address, resume, overwrite, quiet, "sweep", cluster_config)


@app.command()
def query(
    exp_dir: Annotated[Path, typer.Argument(help="An experiment directory (ensemble, sweep, sensitivity, calibration "
                                              "or optimise).")],  # fmt: skip
    sql: Annotated[str, typer.Argument(help='SQL over the views runs and timeseries, e.g. "SELECT * FROM runs" '
                                            "(calibration: posterior, predictive, observed; optimise: runs, front).")],  # fmt: skip
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Run SQL (DuckDB) against an experiment's runs and timeseries views and print the result.

    A table where it fits the terminal, else one block per row; --csv for other programs. Parameter
    columns have dotted names: quote them, "spillover.rate".

    \b
    Examples:
      clusterup query experiments/levers "SELECT arm_label, seed, final_cap_total FROM runs"
      clusterup query experiments/spill 'SELECT "spillover.rate", avg(final_cap_total) FROM runs GROUP BY 1'
      clusterup query experiments/levers "SELECT * FROM runs LIMIT 2" --csv > runs.csv
    """
    from .experiments import ExperimentStore
    from .experiments.calibrate import is_calibration_dir, query_calibration
    from .experiments.optimise import is_optimise_dir, query_optimise

    if is_calibration_dir(exp_dir):
        df = query_calibration(exp_dir, sql)
    elif is_optimise_dir(exp_dir):
        df = query_optimise(exp_dir, sql)
    else:
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
    cluster_config: ClusterOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish the interrupted analysis in --out.")] = False,
    overwrite: ExperimentOverwriteOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Morris or Sobol' sensitivity indices (SALib) with confidence intervals: table, CSV and plot."""
    from .experiments.sensitivity import run_sensitivity

    with _bar("sensitivity", quiet) as progress:
        table, target = run_sensitivity(file, out_dir, executor=executor, workers=workers, address=address, resume=resume,
                                        overwrite=overwrite, progress=progress, cluster_config=cluster_config)  # fmt: skip
    _print_frame(table, ".4g")
    out.print(f"wrote {target / 'sensitivity.csv'} and {target / 'sensitivity.png'}")


@app.command()
def calibrate(
    file: Annotated[Path, typer.Argument(help="A calibration file (TOML; docs/experiments.md).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Directory for the posterior and fit plot.",
                                                 show_default="experiments/FILE-STEM")] = None,  # fmt: skip
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    cluster_config: ClusterOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish the interrupted calibration in --out.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a calibration already in --out.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Fit parameters to an observed series by ABC-SMC; writes posterior.csv, predictive.parquet,
    calibration.json and fit.png. `clusterup plot`, `report` and `query` read the directory.

    \b
    Examples:
      clusterup calibrate cal.toml --out experiments/fit
      clusterup calibrate cal.toml --out experiments/fit --resume     # after Ctrl-C
      clusterup query experiments/fit "SELECT generation, count(*), min(distance) FROM posterior GROUP BY 1"
    """
    from .experiments.calibrate import run_calibration

    with _bar("abc-smc", quiet) as progress:
        report, target = run_calibration(file, out_dir, executor=executor, workers=workers, address=address,
                                         resume=resume, overwrite=overwrite, progress=progress,
                                         cluster_config=cluster_config)  # fmt: skip
    if quiet:
        return
    table = Table("parameter", "posterior mean", "sd", "5%", "median", "95%", "best", box=None)
    for k, s in report["summary"].items():
        table.add_row(k, *(f"{s[x]:.4g}" for x in ("mean", "sd", "q05", "median", "q95")), f"{report['best'][k]:.4g}")
    out.print(table)
    out.print(f"tolerances: {', '.join(f'{e:.3g}' for e in report['tolerances'])}; wrote {target}")


@app.command("export-initial")
def export_initial(
    scenario: Annotated[str, typer.Argument(help="A preset name or a TOML file.")] = "baseline",
    out_dir: Annotated[Path, typer.Option("--out", help="A new directory for the tables.")] = Path("cluster-data"),
    seed: Annotated[int | None, typer.Option(help="Root random seed (>= 0).")] = None,
    firms: Annotated[int | None, typer.Option(help="Initial number of firms (>= 2).")] = None,
    set_: SetOpt = None,
    from_data: Annotated[str | None, typer.Option("--from-data", help="Complete this data's missing columns instead.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace cluster data already in --out.")] = False,
) -> None:
    """Write a scenario's initial state as data tables; `run --from-data` on them reproduces the run."""
    from .runs import export_initial as export

    path, counts = export(scenario, out_dir, seed=seed, firms=firms, overrides=parse_assignments(set_ or []), data=from_data,
                          fmt=fmt, overwrite=overwrite)  # fmt: skip
    out.print(
        f"wrote {path}: {counts['firms']} firms, {counts['social']} social, {counts['economic']} economic, "
        f"{counts['knowledge']} knowledge ties (run it: clusterup run {scenario} --seed {counts['seed']} --from-data {path})"
    )


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (with --snapshots for a dynamic network).")],
    fmt: Annotated[str, typer.Option("--format", help="gexf (dynamic, for Gephi) or graphml (one file per snapshot).")] = "gexf",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output directory (default RUN_DIR/export).")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Export a run's multiplex network for Gephi and NetworkX: GEXF with spells, or GraphML."""
    from .data.export import export_run

    if fmt not in ("gexf", "graphml"):
        raise ConfigError(f"--format must be gexf or graphml; got {fmt!r}")
    for path in export_run(run_dir, fmt, out_dir or run_dir / "export", overwrite=overwrite):
        out.print(f"wrote {path}")


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(help="A run directory or an experiment directory.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="The HTML file to write (default DIR/report.html).")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Write one self-contained HTML report (figures embedded, no remote resources)."""
    from .report import write_report

    path = write_report(directory, out_file or directory / "report.html", overwrite=overwrite)
    out.print(f"wrote {path}")


@app.command()
def warn(
    target: Annotated[Path | None, typer.Argument(help="A run directory or an experiment directory (not with --evaluate).")] = None,
    step: Annotated[int | None, typer.Option(help="Read each run up to this step only (default: its last step).")] = None,
    model_file: Annotated[
        Path | None, typer.Option("--model", help="A warning model written by --evaluate (default: the shipped one).")
    ] = None,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Fit the warning score on a training ensemble and measure it on test seeds.")
    ] = False,
    seeds: Annotated[int, typer.Option(help="--evaluate: seeds per arm, for training and again for testing (>= 2).")] = 16,
    workers: Annotated[int, typer.Option(help="--evaluate: worker processes (>= 1).")] = 2,
    steps: Annotated[int | None, typer.Option(help="--evaluate: steps per run (default: the presets').")] = None,
    firms: Annotated[int | None, typer.Option(help="--evaluate: initial firms per run (default: the presets').")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="--evaluate: folder for model.json, evaluation.json and roc.png.")
    ] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Early warning of decline: each run's warning score (the probability that it declines within the
    horizon), its first alarm and the indicators behind it; --evaluate measures the forecaster (docs/decision.md).

    \b
    Examples:
      clusterup warn runs/lock-in-seed1
      clusterup warn runs/my-sweep --step 80
      clusterup warn --evaluate --seeds 16 --out warning
    """
    from .analysis import warning as W

    if evaluate:
        if target is not None:
            raise ConfigError("--evaluate runs its own ensemble; drop the directory argument")
        _warn_evaluate(seeds, workers, steps, firms, out_dir, overwrite)
        return
    if target is None:
        raise ConfigError("give a run or experiment directory, or --evaluate")
    for flag, given in (("--out", out_dir is not None), ("--steps", steps is not None), ("--firms", firms is not None)):
        if given:
            raise ConfigError(f"{flag} belongs to --evaluate")
    if step is not None and step < 0:
        raise ConfigError(f"--step must be >= 0; got {step}")
    model = _warning_model(model_file)
    import pandas as pd

    from .experiments import is_experiment_dir
    from .result import Result, is_run_dir

    if is_experiment_dir(target):
        from .experiments.store import ExperimentStore

        store = ExperimentStore.open(target)
        series = [(f"{r['arm']} #{r['replicate']}", r["seed"], store.timeseries(r["run_id"]))
                  for r in store.records() if r["status"] == "ok"]  # fmt: skip
    elif is_run_dir(target):
        res = Result.load(target)
        series = [(target.name, int(res.metadata.get("seed", 0)), res.timeseries)]
    else:
        raise ConfigError(f"{target} is neither a clusterup run nor an experiment directory")
    rows = []
    for label, seed, ts in series:
        if step is not None:
            if step > int(ts["step"].iloc[-1]):
                raise ConfigError(f"--step {step} is after the end of {label} (step {int(ts['step'].iloc[-1])})")
            ts = ts[ts["step"] <= step]
        r = W.warn_run(ts, model, label=label, seed=seed)
        last = r.frame.iloc[-1]
        top = max(model.coef, key=lambda k: abs(model.coef[k] * (last[k] - model.mean[k]) / model.scale[k])
                  if pd.notna(last[k]) else 0.0)  # fmt: skip
        rows.append({"run": label, "step": int(last["step"]), "score": float(last["score"]),
                     "alarm": "yes" if last["score"] > model.threshold else "no",
                     "first alarm": "-" if r.alarm is None else str(r.alarm), "main signal": top.replace("_", " ")})  # fmt: skip
    h = model.settings.horizon
    fa = model.settings.false_alarm
    out.print(f"warning score: the probability that a run declines within the next {h} steps; "
              f"alarm above {model.threshold:.3f} ({fa:.0%} false alarms on the training runs)")  # fmt: skip
    _print_frame(pd.DataFrame(rows), ".3f")


def _warning_model(path: Path | None):
    from .analysis import warning as W

    if path is None:
        return W.default_model()
    if not path.is_file():
        raise ConfigError(f"--model {path} does not exist")
    try:
        return W.WarningModel.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"--model {path} is not a warning model written by `clusterup warn --evaluate` ({exc})") from None


def _warn_evaluate(seeds: int, workers: int, steps: int | None, firms: int | None, out_dir: Path | None,
                   overwrite: bool) -> None:  # fmt: skip
    from .analysis import warning as W
    from .io_utils import write_text_atomic

    if seeds < 2:
        raise ConfigError(f"--seeds must be >= 2; got {seeds}")
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1; got {workers}")
    from .errors import require

    require("sklearn", "decision", "clusterup warn --evaluate")
    files = []
    if out_dir is not None:
        files = [out_dir / "model.json", out_dir / "evaluation.json", out_dir / "roc.png"]
        refuse_existing(files, overwrite)
    n = 2 * seeds * len(W.ARMS)
    with _bar(f"warn --evaluate ({n} runs)") as progress:
        ev = W.run_evaluation(seeds, workers=workers, steps=steps, firms=firms, progress=progress)
    t = ev.test
    out.print(f"test runs: {t['runs']} ({t['declining_runs']} decline), seeds from base {W.TEST_SEED}; "
              f"the score and threshold fitted on {ev.train['runs']} runs from base {W.TRAIN_SEED}")  # fmt: skip
    out.print(f"AUC of the combined score: {t['auc']:.3f}; false-alarm rate {t['false_alarm_rate']:.3f}; "
              f"{t['declining_runs_alarmed_before_onset']} of {t['declining_runs']} declines alarmed before their onset; "
              f"median lead {t['median_lead_steps']:.0f} steps ({t['median_lead_share_of_run']:.0%} of the run)")  # fmt: skip
    import pandas as pd

    _print_frame(pd.DataFrame([(k, ev.train["auc_indicators"][k], v) for k, v in t["auc_indicators"].items()],
                              columns=["indicator", "AUC (train)", "AUC (test)"]), ".3f")  # fmt: skip
    if out_dir is not None:
        from .plots import save_figure

        out_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(files[0], ev.model.to_json())
        write_text_atomic(files[1], json.dumps(ev.payload(), indent=1))
        save_figure(W.figure(ev), files[2])
        out.print(f"wrote {', '.join(str(f) for f in files)}")


@app.command()
def discover(
    exp_dir: Annotated[Path, typer.Argument(help="A sweep's experiment directory.")],
    outcome: Annotated[str, typer.Option(help="declined, jump, new_generation, path2, or a true/false SQL expression "
                                          "over the runs view, e.g. 'final_cap_total < 500'.")] = "declined",  # fmt: skip
    density: Annotated[float, typer.Option(help="Density a reported PRIM box must reach (0-1).")] = 0.8,
    peel_alpha: Annotated[float, typer.Option(help="Share of the runs PRIM peels off per step (0-0.5).")] = 0.1,
    depth: Annotated[int, typer.Option(help="Depth of the CART tree (1-10).")] = 3,
    boxes: Annotated[int, typer.Option(help="PRIM boxes to seek, each among the runs outside the earlier (1-10).")] = 1,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for discovery.json and tradeoff.png "
                                                 "(default EXP_DIR/discovery-OUTCOME).")] = None,  # fmt: skip
    overwrite: OverwriteOpt = False,
) -> None:
    """Scenario discovery: the parameter region of a sweep that leads to an outcome (PRIM box, peeling
    trajectory, CART tree; docs/decision.md).

    \b
    Examples:
      clusterup discover experiments/opportunism-grid --outcome declined
      clusterup discover experiments/levers --outcome "final_cap_total < 500" --density 0.9
    """
    from .experiments import is_experiment_dir

    if not is_experiment_dir(exp_dir):
        raise ConfigError(f"{exp_dir} is not an experiment directory (a sweep's --out)")
    if not 0.0 < density <= 1.0:
        raise ConfigError(f"--density must lie in (0, 1]; got {density}")
    if not 0.0 < peel_alpha <= 0.5:
        raise ConfigError(f"--peel-alpha must lie in (0, 0.5]; got {peel_alpha}")
    if not 1 <= depth <= 10:
        raise ConfigError(f"--depth must lie in 1-10; got {depth}")
    if not 1 <= boxes <= 10:
        raise ConfigError(f"--boxes must lie in 1-10; got {boxes}")
    import re

    from .analysis.discovery import discover as run_discovery
    from .analysis.discovery import experiment_outcome
    from .experiments.store import ExperimentStore
    from .io_utils import write_text_atomic

    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", outcome).strip("_")[:60] or "outcome"
    target = out_dir or exp_dir / f"discovery-{slug}"
    files = [target / "discovery.json", target / "tradeoff.png"]
    refuse_existing(files, overwrite)
    store = ExperimentStore.open(exp_dir)
    x, y = experiment_outcome(store, outcome)
    d = run_discovery(x, y, outcome, density=density, peel_alpha=peel_alpha, max_depth=depth, boxes=boxes)
    b = d.box
    out.print(f"{d.with_outcome} of {d.runs} runs have the outcome {outcome!r}; PRIM box at peeling step {d.selected}: "
              f"coverage {b['coverage']:.2f}, density {b['density']:.2f}, {b['mass']:.0%} of the runs")  # fmt: skip
    _print_restrictions(d.restrictions)
    for k, extra in enumerate(d.more, 2):
        out.print(f"box {k} (among the runs outside the earlier boxes), at peeling step {extra['selected_box']}: "
                  f"coverage {extra['coverage']:.2f}, density {extra['density']:.2f}, {extra['mass']:.0%} of the runs")  # fmt: skip
        _print_restrictions(extra["restrictions"])
    if boxes > 1 + len(d.more):
        out.print(f"no further box reaches the density {density:g}")
    out.print(f"CART tree (depth {depth}, training accuracy {d.tree_accuracy:.2f}):")
    sys.stdout.write(d.tree)
    from .plots import save_figure

    target.mkdir(parents=True, exist_ok=True)
    write_text_atomic(files[0], json.dumps(d.payload(), indent=1))
    save_figure(d.figure(), files[1])
    out.print(f"wrote {files[0]}, {files[1]}")


@app.command()
def optimise(
    spec_file: Annotated[Path, typer.Argument(help="An optimise spec (TOML; docs/decision.md).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for the study (default experiments/SPEC-STEM).")] = None,
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    cluster_config: ClusterOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the study in --out where it stopped.")] = False,
    overwrite: ExperimentOverwriteOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """The cheapest policy mix: the Pareto front of cost against the probability of the jump without
    decline (NSGA-II, Optuna), each mix on common random numbers; the recommended mix confirmed on fresh seeds.

    \b
    Examples:
      clusterup optimise mix.toml --out experiments/mix
      clusterup optimise mix.toml --out experiments/mix --resume
    """
    from .errors import require
    from .experiments import optimise as O

    spec, base = O.load_optimise(spec_file)
    require("optuna", "decision", "clusterup optimise")  # before anything is written
    target = out_dir or default_target(Path("experiments") / spec_file.stem, resume=resume, overwrite=overwrite)
    O.prepare(target, spec, resume=resume, overwrite=overwrite)
    from .experiments.executors import make_executor

    runs: list[dict] = []
    with make_executor(executor, workers, address, cluster_config) as ex:
        evaluate = O.simulator(spec, ex, base, runs)
        try:
            with _bar(f"optimise {spec_file.stem}", quiet, total=spec.trials) as progress:
                study = O.search(spec, evaluate, target, progress=progress)
        except KeyboardInterrupt:
            O.append_runs(target, runs)  # the finished trials are in study.db; their runs are kept beside them
            raise Interrupted(f"interrupted: the finished trials are in {target}/study.db; "
                              f"continue with --resume --out {target}") from None  # fmt: skip
        table = O.front_table(study)
        recommended = O.recommend(spec, table, evaluate)
    files = O.write_outputs(target, spec, table, recommended, runs)
    if quiet:
        return
    front = table[table["on_front"]]
    out.print(f"{len(table)} mixes evaluated on {spec.replicates} seeds each; {len(front)} on the Pareto front:")
    _print_frame(front.drop(columns=["on_front"]), ".4g")
    if recommended is None:
        out.print(f"no mix on the front reaches the target probability {spec.target:g}")
    else:
        lo, hi = recommended["interval_fresh"]
        mix = ", ".join(f"{k} = {v:g}" for k, v in recommended["mix"].items())
        out.print(f"recommended: {mix} (cost {recommended['cost']:g}); on {recommended['fresh_seeds']} fresh seeds "
                  f"probability {recommended['probability_fresh']:.2f}, 95% interval [{lo:.2f}, {hi:.2f}]")  # fmt: skip
    out.print(f"wrote {', '.join(str(f) for f in files)}")


def _print_restrictions(restrictions: list[dict]) -> None:
    import pandas as pd

    from .analysis.discovery import restriction_rows

    if restrictions:
        _print_frame(pd.DataFrame(restriction_rows(restrictions)), ".4g")
    else:
        out.print("the box restricts no parameter")


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
    from .explorer.server import serve

    code = serve(host, port, browser, fetch_assets, log=lambda m: out.print(m))
    raise typer.Exit(code)


@app.command()
def schedule(
    scenario: Annotated[str, typer.Argument(help="A preset name or a TOML file.")] = "baseline",
    steps: Annotated[int, typer.Option(help="Steps of the measured run that gives each part's share of the time (0: none).")] = 50,
    firms: Annotated[int | None, typer.Option(help="Initial firms of the measured run (default: the scenario's).")] = None,
    set_: SetOpt = None,
) -> None:
    """Print the plan of a step (phases and processes in order) with each part's share of a measured run's time."""
    from .schedule import measure_plan

    if steps < 0:
        raise ConfigError(f"--steps must be an integer >= 0; got {steps}")
    params = resolve(scenario, steps=max(steps, 1), firms=firms, overrides=parse_assignments(set_ or []))
    rows, total = measure_plan(params, steps)
    table = Table("phase", "part", "what", "runs", "share of time", box=None)
    for item, share in rows:
        table.add_row(item.phase, item.name, item.what, "yes" if item.runs else "no (disabled)",
                      "" if share is None else f"{share:.1%}")  # fmt: skip
    measured = f" ({steps} steps of {params.run.firms} firms took {total:.2f} s)" if steps else ""
    out.print(f"{params.name}: the plan of one step{measured}")
    out.print(table)


@app.command()
def verify(
    directory: Annotated[Path, typer.Argument(help="A run or experiment directory (with its ro-crate-metadata.json).")],
    rerun: Annotated[int, typer.Option(help="Runs to rerun and compare bit for bit (an experiment: a sample; 0: none).")] = 1,
    seed: Annotated[int, typer.Option(help="Seed of the sample of runs to rerun (>= 0).")] = 0,
) -> None:
    """Check a directory against its provenance record: every file's SHA-256, then rerun a sample of its runs
    and compare their time series bit for bit. Exits 1 when anything differs.

    \b
    Examples:
      clusterup verify runs/baseline-seed1
      clusterup verify experiments/levers --rerun 4
    """
    from . import provenance

    if rerun < 0 or seed < 0:
        raise ConfigError(f"--rerun and --seed must be integers >= 0; got {rerun} and {seed}")
    files = provenance.check_files(directory)
    bad = files["changed"] + files["missing"]
    out.print(f"{len(files['checked'])} files in the record: {len(files['checked']) - len(bad)} match their SHA-256"
              + (f"; [red]changed: {', '.join(files['changed'])}[/red]" if files["changed"] else "")
              + (f"; [red]missing: {', '.join(files['missing'])}[/red]" if files["missing"] else ""))  # fmt: skip
    if files["unlisted"]:
        out.print(f"added after the record was written (not checked): {', '.join(files['unlisted'])}")
    failed = bool(bad)
    if rerun:
        for r in provenance.rerun(directory, rerun, seed):
            if r["reproduced"] is None:
                out.print(f"run {r['run']}: not rerun ({r['why']})")
                continue
            out.print(f"run {r['run']}: " + ("reproduced bit for bit" if r["reproduced"] else "[red]does not reproduce[/red]"))
            failed |= not r["reproduced"]
    if failed:
        print(f"verify: {directory} does not match its record", file=sys.stderr)
        raise typer.Exit(1)


@app.command("compile")
def compile_kernels() -> None:
    """Compile the kernels ahead of time for this machine (once; it needs a C compiler and takes a minute).
    Later processes then start without loading them from Numba's cache: about 0.3 s less for every run
    (docs/performance.md). The numbers do not change. An upgrade, another machine or an edit of the kernels
    needs it again; until then the kernels are compiled just in time as before. CLUSTERUP_AOT=0 switches
    them off, CLUSTERUP_AOT_DIR chooses where they are kept. Builds there that no process used for 30 days
    (those of earlier versions or kernels) are removed.

    \b
    Examples:
      clusterup compile
    """
    from . import aot

    with out.status("compiling the kernels ahead of time (about a minute)"):
        try:
            place, count = aot.build()
        except aot.CompileError as exc:
            print(f"compile: {exc}", file=sys.stderr)
            raise typer.Exit(1) from None
    out.print(f"{count} kernel signatures compiled ahead of time into {place}")
    removed = aot.prune(keep=place.name)
    if removed:
        size = sum(b for _, b in removed) / 2**20
        out.print(f"removed {len(removed)} build(s) unused for {aot.STALE_DAYS} days or more ({size:.0f} MB)")


@app.command()
def cite() -> None:
    """Print BibTeX for this version of clusterup and for the theory it implements (Ji & Hu 2011)."""
    from .citation import bibtex

    sys.stdout.write(bibtex())


@app.command()
def scenarios() -> None:
    """List the shipped scenario presets, and the examples of interventions in time."""
    from .params import example_names, load_scenario, preset_names

    for heading, names in (("preset", preset_names()), ("example", example_names())):
        table = Table(box=None)
        table.add_column(heading, no_wrap=True)
        table.add_column("description")
        for name in names:
            table.add_row(name, load_scenario(name).description)
        out.print(table)


@app.command("show-config")
def show_config(
    scenario: Annotated[str, typer.Argument(help="A preset name or a TOML file.")] = "baseline",
    set_: SetOpt = None,
    plain: Annotated[bool, typer.Option("--plain", help="Leave out the comments.")] = False,
) -> None:
    """Print the fully resolved parameters of a scenario as TOML (a file you can edit and run), each
    parameter with its description and allowed values as a comment above it."""
    sys.stdout.write(resolve(scenario, overrides=parse_assignments(set_ or [])).to_toml(commented=not plain))


@app.command()
def parameters(
    search: Annotated[
        str | None, typer.Argument(help="Show only parameters whose key or description contains this word, or a section.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the Markdown reference (docs/parameters.md).")] = False,
) -> None:
    """List every parameter with its type, allowed range, baseline value and description.

    \b
    Examples:
      clusterup parameters spillover        # a section
      clusterup parameters appropriab       # a word in keys and descriptions
      clusterup parameters --json
    """
    from .params import parameter_rows, parameters_markdown
    from .params.base import toml_value

    if markdown:
        if search:
            raise ConfigError("--markdown prints the whole reference; drop the search word")
        sys.stdout.write(parameters_markdown())
        return
    rows = parameter_rows(search)
    if not rows:
        raise ConfigError(f"no parameter matches {search!r}; `clusterup parameters` lists them all")
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return
    lines, section = [], None
    for r in rows:  # one block per parameter: readable at 80 columns and greppable
        sec = r["key"].split(".")[0]
        if sec != section:
            lines += [""] * (section is not None) + [f"[{sec}]"]
            section = sec
        allowed = f"{r['type']}, {r['range']}" if r["range"] else r["type"]
        lines.append(f"  {r['key']} = {toml_value(r['baseline'])}    ({allowed})")
        lines += textwrap.wrap(r["description"], width=max(40, out.width - 6), initial_indent="      ", subsequent_indent="      ")
    sys.stdout.write("\n".join(lines) + "\n")


def _numba_compiling() -> object | None:
    """Numba's compiler lock where this thread holds it (Numba is compiling or loading a kernel), else None.
    Numba is not imported for this."""
    module = sys.modules.get("numba.core.compiler_lock")
    lock = getattr(module, "global_compiler_lock", None)
    return lock if lock is not None and lock.is_locked() else None


def _in_compiled_callback(frame: object) -> bool:
    """Whether ``frame`` runs inside a call that a compiled kernel makes back into Python: Numba unpickling a
    kernel's constant (``numba.core.serialize._numba_unpickle``, with whatever the unpickler calls)."""
    module = sys.modules.get("numba.core.serialize")
    code = getattr(getattr(module, "_numba_unpickle", None), "__code__", None)
    while code is not None and frame is not None:
        if frame.f_code is code:  # type: ignore[attr-defined]
            return True
        frame = frame.f_back  # type: ignore[attr-defined]
    return False


def _on_interrupt(signum: int, frame: object) -> None:
    """SIGINT: KeyboardInterrupt, as Python's own handler raises it, except inside Numba's compiler and inside
    a compiled kernel's callback into Python. In the compiler the signal is often handled in a callback that
    LLVM makes into Python through ctypes, which prints the exception and drops it: the command then runs on,
    or fails later with a broken kernel ("no compiled object yet"), instead of stopping with exit code 130.
    In a kernel's callback the KeyboardInterrupt comes back as the cause of a SystemError, which a command's
    own handler (the one that keeps the finished runs) does not catch. So the signal is sent again once the
    compiler lock is free (a kernel takes a second or so to compile), or a moment later (the callback returns
    within microseconds)."""
    lock = _numba_compiling()
    if lock is None and not _in_compiled_callback(frame):
        raise KeyboardInterrupt

    def again() -> None:
        if lock is None:
            time.sleep(0.001)  # the callback has returned by then
        else:
            with lock:  # type: ignore[attr-defined]  # waits for the main thread's compilation to end
                pass
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=again, name="clusterup-interrupt", daemon=True).start()


@contextmanager
def _interrupts_outside_the_compiler() -> Iterator[None]:
    """:func:`_on_interrupt` as the SIGINT handler while a command runs (on the main thread, and only where the
    handler is Python's default: an ignored SIGINT stays ignored)."""
    main_thread = threading.current_thread() is threading.main_thread()
    if not main_thread or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    signal.signal(signal.SIGINT, _on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _caused_by_interrupt(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is among the causes of ``exc``. A SIGINT handled while compiled code is in a
    callback into Python (Numba unpickling a constant for a kernel) leaves the KeyboardInterrupt as the cause of
    a SystemError that the kernel's call raises instead."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code (0 ok, 2 bad input, 1 failure, 130 interrupted)."""
    with _interrupts_outside_the_compiler():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    Interrupted.last = None
    try:
        code = app(args=args, prog_name="clusterup", standalone_mode=False)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except Interrupted as exc:
        print(exc.message, file=sys.stderr)
        return 130
    except (typer.Abort, KeyboardInterrupt) as exc:
        # Click turns a KeyboardInterrupt raised in a command into Abort: the command's own message is the cause
        cause = exc.__cause__ if isinstance(exc.__cause__, Interrupted) else None
        print(cause.message if cause else "interrupted: nothing finished was lost, nothing partial was written",
              file=sys.stderr)  # fmt: skip
        return 130
    except Exception as exc:
        if _caused_by_interrupt(exc):  # a Ctrl-C raised inside a callback from C (Numba's), wrapped in SystemError
            print("interrupted: nothing finished was lost, nothing partial was written", file=sys.stderr)
            return 130
        # usage errors of the CLI parser (unknown option, bad flag value): one line, exit 2
        if type(exc).__name__ == "NoArgsIsHelpError":
            print(exc.ctx.get_help())  # type: ignore[attr-defined]
            return 0
        if getattr(exc, "exit_code", None) == 2 and hasattr(exc, "format_message"):
            print(f"error: {' '.join(exc.format_message().split())}", file=sys.stderr)
            return 2
        raise
    # outside standalone mode Click returns the code of a typer.Exit raised in a command instead of raising it;
    # Typer turns Ctrl-C into Exit(130), so the command's own message (what was kept) is printed here
    code = int(code) if isinstance(code, int) else 0
    if code == 130:
        print(Interrupted.last or "interrupted: nothing finished was lost, nothing partial was written", file=sys.stderr)
    return code
