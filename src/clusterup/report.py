"""One self-contained HTML report of a run or an experiment (``clusterup report DIR --out FILE.html``).

Everything is inside the file: figures as base64 PNG, styles inline, no scripts and no remote
resources, so the report opens offline and can be mailed or archived as it is.
"""

from __future__ import annotations

import base64
import html
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ConfigError

CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; } th { background: #f4f4f4; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
img { max-width: 100%; } .meta { color: #666; font-size: 0.9em; } figure { margin: 1em 0; }
figcaption { color: #555; font-size: 0.85em; }
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return _data_uri(buf.getvalue())


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _img(src: str, caption: str) -> str:
    return f'<figure><img alt="{html.escape(caption)}" src="{src}"><figcaption>{html.escape(caption)}</figcaption></figure>'


def _figure(fig, caption: str) -> str:
    return _img(_png(fig), caption)


def _file_figure(png: Path, caption: str) -> str:
    """A PNG a command wrote beside its results, embedded like the figures drawn here."""
    return _img(_data_uri(png.read_bytes()), caption)


def _table(rows: list[dict[str, Any]] | pd.DataFrame, float_fmt: str = "{:.4g}") -> str:
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    if df.empty:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = [float_fmt.format(v) if isinstance(v, float) else str(v) for v in row]
        body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _page(title: str, sections: list[str]) -> str:
    from . import __version__

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        f'<p class="meta">clusterup {__version__}, report made {stamp}</p>' + "".join(sections) + "</body></html>\n"
    )


def run_report(run_dir: Path) -> str:
    from .analysis import POINT_MEANINGS, analyze
    from .plots import figure1, figure2, overview
    from .plots.adoption import has_new_generation
    from .plots.style import intervention_marks
    from .result import Result

    res = Result.load(run_dir)
    ts = res.timeseries
    meta = res.metadata
    title = f"clusterup run: {res.params.name}, seed {meta.get('seed')}"
    a = analyze(ts)
    s = res.summary()
    secs = [
        "<h2>Summary</h2>",
        _table(
            [
                {
                    "scenario": s["scenario"],
                    "seed": s["seed"],
                    "steps": s["steps"],
                    "firms at the end": s["firms"],
                    "final overall capability": s["cap_total"],
                    "final mean capability": s["cap_mean"],
                    "capability / frontier": s["cap_rel_frontier"],
                    "generations reached": s["generations_reached"],
                }
            ]
        ),  # fmt: skip
        f"<p>Path class: <b>{html.escape(a['path_class'])}</b>. The points of Ji &amp; Hu's Figure 2 found on "
        "the overall capability curve (points that do not occur are left out):</p>",
        _table([{"point": k, "step": v, "marks": POINT_MEANINGS[k]}
                for k, v in sorted(a["path_points"].items(), key=lambda kv: (kv[1], kv[0]))]),  # fmt: skip
        "<h2>Stages</h2>",
        _table(a["stages"]),
        "<h2>Network regimes</h2>",
        _table(a["network_regimes"]),
        "<h2>Figures</h2>",
        *(["<h2>Interventions</h2>", _table([{"from step": iv.step, "until step": iv.until if iv.until is not None else "end",
                                              "sets": ", ".join(f"{k} = {v}" for k, v in iv.set.items()),
                                              "label": iv.label} for iv in res.params.interventions])]
          if res.params.interventions else []),  # fmt: skip
        _figure(figure2([ts], title=title, marks=intervention_marks(res.params)),
                "Figure 2: overall innovation capability with stage bands, path points A-L and interventions"),
    ]
    if res.snapshots:
        secs.append(
            _figure(
                figure1(ts, res.snapshots), "Figure 1: the multiplex network at formation, growth and maturity, and layer dominance"
            )
        )
    if has_new_generation(res.generations):
        from .plots.adoption import adoption_curves

        cap_a = "Generation adoption curves: share of firms at each generation or above"
        secs.append(_figure(adoption_curves(res.generations), cap_a))
    secs.append(
        _figure(overview(ts, title, intervention_marks(res.params)),
                "Indicators: capability, gap, mode mix, layer dominance, generations, population and R&D")
    )
    secs += _warning_section(ts, run_dir.name, int(meta.get("seed") or 0))
    secs += ["<h2>Configuration</h2>", f"<pre>{html.escape(res.params.to_toml())}</pre>",
             "<h2>Metadata</h2>", f"<pre>{html.escape(json.dumps(meta, indent=1, sort_keys=True))}</pre>"]  # fmt: skip
    return _page(title, secs)


def _warning_section(ts: pd.DataFrame, label: str, seed: int) -> list[str]:
    from .analysis import warning as W

    model = W.default_model()
    r = W.warn_run(ts, model, label=label, seed=seed)
    last = float(r.frame["score"].iloc[-1])
    h = model.settings.horizon
    text = (f"<p>Warning score (docs/decision.md): the probability that the run declines within the next {h} steps, "
            f"read from its series up to each step. At the last step it is {last:.2f} (alarm above {model.threshold:.2f}); "
            f"first alarm: {'none' if r.alarm is None else f'step {r.alarm}'}; "
            f"{'the run does not decline' if r.onset is None else f'the run declines from step {r.onset}'}.</p>")  # fmt: skip
    cap = "Warning score with the alarm threshold, first alarm and onset of decline"
    return ["<h2>Early warning</h2>", text, _figure(W.run_figure(r, model), cap)]


def _experiment_warnings(store, ok: pd.DataFrame, limit: int = 200) -> list[str]:
    from .analysis import warning as W

    model = W.default_model()
    rows = []
    for rec in ok.sort_values("run_id").head(limit).itertuples(index=False):
        r = W.warn_run(store.timeseries(int(rec.run_id)), model)
        rows.append({"run": int(rec.run_id), "arm": rec.arm_label, "seed": int(rec.seed),
                     "final score": float(r.frame["score"].iloc[-1]),
                     "first alarm": "-" if r.alarm is None else r.alarm,
                     "onset of decline": "-" if r.onset is None else r.onset})  # fmt: skip
    more = f" (the first {limit} of {len(ok)})" if len(ok) > limit else ""
    return ["<h2>Early warning</h2>",
            f"<p>Each run's warning score at its last step, first alarm (score above {model.threshold:.2f}) and onset of "
            f"decline where it declines{more}; docs/decision.md.</p>", _table(rows)]  # fmt: skip


def _discoveries(exp_dir: Path) -> list[str]:
    """The scenario-discovery results written into the experiment (``clusterup discover``)."""
    from .analysis.discovery import restriction_rows

    out = []
    for f in sorted(exp_dir.glob("*/discovery.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        out += [f"<h3>Scenario discovery: {html.escape(d['outcome'])}</h3>",
                f"<p>{d['with_outcome']} of {d['runs']} runs have the outcome. PRIM box (peeling step {d['selected_box']}): "
                f"coverage {d['coverage']:.2f}, density {d['density']:.2f}, {d['mass']:.0%} of the runs.</p>",
                _table(restriction_rows(d["restrictions"]))]  # fmt: skip
        for k, extra in enumerate(d.get("more_boxes", []), 2):
            out += [f"<p>Box {k}, among the runs outside the earlier boxes (peeling step {extra['selected_box']}): "
                    f"coverage {extra['coverage']:.2f}, density {extra['density']:.2f}, {extra['mass']:.0%} of the runs.</p>",
                    _table(restriction_rows(extra["restrictions"]))]  # fmt: skip
        out.append(f"<pre>{html.escape(d['tree'])}</pre>")
        if (f.parent / "tradeoff.png").is_file():
            out.append(_file_figure(f.parent / "tradeoff.png", "PRIM peeling trajectory: coverage against density"))
    return (["<h2>Scenario discovery</h2>", *out]) if out else []


def optimise_report(opt_dir: Path) -> str:
    """A policy-mix search (``clusterup optimise``): the spec, the Pareto front, the recommendation."""
    d = json.loads((opt_dir / "optimise.json").read_text(encoding="utf-8"))
    spec, rec = d["spec"], d["recommended"]
    title = f"clusterup policy mix: {opt_dir.name}"
    front = pd.DataFrame(d["front"]).drop(columns=["on_front"], errors="ignore")
    levers = ", ".join(f"{k} ({v['key']}, cost {v['cost']:g} per unit)" for k, v in spec["levers"].items())
    secs = ["<h2>Search</h2>",
            f"<p>Base scenario {html.escape(spec['scenario'])}; levers from step {spec['at_step']}: {html.escape(levers)}. "
            f"{d['trials']} distinct mixes, each on the same {spec['replicates']} seeds (common random numbers); "
            f"outcome: {html.escape(spec['outcome'])}; NSGA-II (Optuna).</p>",
            "<h2>Pareto front</h2>", _table(front)]  # fmt: skip
    if rec is None:
        secs.append(f"<p>No mix on the front reaches the target probability {spec['target']:g}.</p>")
    else:
        mix = ", ".join(f"{k} = {v:g}" for k, v in rec["mix"].items())
        lo, hi = rec["interval_fresh"]
        secs += ["<h2>Recommended mix</h2>",
                 f"<p>The cheapest mix on the front reaching {spec['target']:g}: {html.escape(mix)} (cost {rec['cost']:g}). "
                 f"In the search its probability was {rec['probability_in_search']:.2f}; on {rec['fresh_seeds']} fresh seeds it is "
                 f"{rec['probability_fresh']:.2f} (Wilson 95% [{lo:.2f}, {hi:.2f}]).</p>"]  # fmt: skip
    if (opt_dir / "front.png").is_file():
        secs.append(_file_figure(opt_dir / "front.png",
                                 "Cost against probability of every mix, the Pareto front, the target and the recommended mix"))
    secs += ["<h2>Spec</h2>", f"<pre>{html.escape(json.dumps(spec, indent=1, sort_keys=True))}</pre>"]
    return _page(title, secs)


def experiment_report(exp_dir: Path) -> str:
    from .experiments import ExperimentStore, experiment_bands
    from .plots.ensemble import ARM_INDICATORS, arms_figure

    store = ExperimentStore.open(exp_dir)
    plan = store.plan()
    runs = store.runs_table()
    title = f"clusterup experiment: {exp_dir.name}"
    secs = [
        "<h2>Design</h2>",
        f"<p>{len(plan.arms)} arm(s) x {len(plan.seeds)} replicate(s) = {len(plan.runs)} runs; "
        f"{len(runs)} finished ({int((runs['status'] == 'failed').sum()) if len(runs) else 0} failed). Replicate r uses the "
        "same seed in every arm (common random numbers).</p>",
        f"<pre>{html.escape(json.dumps(plan.spec, indent=1, sort_keys=True))}</pre>",
    ]
    ok = runs[runs["status"] == "ok"] if len(runs) else runs
    indices = exp_dir / "sensitivity.csv"
    if indices.is_file():  # a sensitivity analysis: its indices are the result, not its sample points' bands
        from .experiments.sensitivity import METRIC
        from .experiments.sensitivity import figure as sensitivity_figure

        table = pd.read_csv(indices)
        method = "morris" if "mu_star" in table else "sobol"
        secs += [f"<h2>Sensitivity indices ({'Morris' if method == 'morris' else 'Sobol'})</h2>",
                 f"<p>{html.escape(METRIC[method])} per output and parameter, with 95% bootstrap intervals (SALib).</p>",
                 _table(table), _figure(sensitivity_figure(table, method), "Sensitivity indices with 95% intervals")]  # fmt: skip
        ok = ok.iloc[0:0]  # the sample points are in the runs table; comparing them as arms says nothing
    if len(ok):
        cols = [
            c for c in ("final_cap_total", "final_cap_mean", "final_gen_max", "final_gap_cv", "first_new_generation") if c in ok
        ]
        per_arm = ok.groupby("arm_label")[cols].mean().reset_index()
        per_arm.insert(1, "runs", ok.groupby("arm_label").size().to_numpy())
        secs += ["<h2>Arms (means over replicates)</h2>", _table(per_arm)]
        bands = {name: experiment_bands(store, name) for name in ARM_INDICATORS}
        secs += ["<h2>Comparison of arms</h2>",
                 _figure(arms_figure(bands), "Each arm's mean over replicates with its 95% confidence band")]  # fmt: skip
    if len(ok) and not indices.is_file():
        secs += _experiment_warnings(store, ok)
    secs += _discoveries(exp_dir)
    failed = runs[runs["status"] == "failed"] if len(runs) else runs
    if len(failed):
        secs += ["<h2>Failed runs</h2>", _table(failed[["run_id", "arm_label", "seed", "error"]])]
    return _page(title, secs)


def calibration_report(cal_dir: Path) -> str:
    from .experiments.calibrate import calibration_figure, posterior_figure

    rep = json.loads((cal_dir / "calibration.json").read_text(encoding="utf-8"))
    cfg = rep["config"]
    rows = [{"parameter": k, "prior": f"uniform on [{cfg['parameters'][k][0]}, {cfg['parameters'][k][1]}]",
             "posterior mean": v["mean"], "sd": v["sd"], "5%": v["q05"], "median": v["median"], "95%": v["q95"],
             "best particle": rep["best"][k]} for k, v in rep["summary"].items()]  # fmt: skip
    secs = [
        "<h2>Method</h2>",
        f"<p>{html.escape(rep['method'])}: {cfg['particles']} particles, {cfg['generations']} generations, "
        f"{cfg['replicates']} replicate(s) per particle; indicator <code>{html.escape(rep['indicator'])}</code> against "
        f"<code>{html.escape(str(rep['observed']))}</code>. Tolerances: "
        + html.escape(", ".join(f"{e:.3g}" for e in rep["tolerances"])) + ".</p>",
        "<h2>Posterior</h2>",
        _table(rows),
    ]
    if (cal_dir / "predictive.parquet").is_file():
        secs.append(_figure(calibration_figure(cal_dir), "Observed series, best particle and the posterior predictive 5-95% band"))
    secs.append(_figure(posterior_figure(cal_dir), "Weighted marginal posterior of each parameter (last generation)"))
    secs += ["<h2>Configuration</h2>", f"<pre>{html.escape(json.dumps(cfg, indent=1, sort_keys=True))}</pre>"]
    return _page(f"clusterup calibration: {cal_dir.name}", secs)


def write_report(directory: Path, out: Path, *, overwrite: bool = False) -> Path:
    from .experiments import is_experiment_dir
    from .io_utils import write_text_atomic
    from .result import is_run_dir

    if out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--out must name an .html file; got {out.name!r}")
    if out.exists() and not overwrite:
        raise ConfigError(f"--out {out} exists; pass --overwrite to replace it")
    if out.parent and not out.parent.exists():
        raise ConfigError(f"--out {out}: the folder {out.parent} does not exist")
    from .experiments.calibrate import is_calibration_dir
    from .experiments.optimise import is_optimise_dir

    if is_calibration_dir(directory):
        text = calibration_report(directory)
    elif is_optimise_dir(directory) and (directory / "optimise.json").is_file():
        text = optimise_report(directory)
    elif is_experiment_dir(directory):
        text = experiment_report(directory)
    elif is_run_dir(directory):
        text = run_report(directory)
    else:
        raise ConfigError(f"{directory} is neither a clusterup run nor an experiment directory")
    return write_text_atomic(out, text)
