"""The explorer: a Solara page. Start it with ``clusterup explore`` (docs/explorer.md).

Choose a preset, move the main parameters (grouped by process, each with its description), press Run
and watch the progress; then read the capability path with stage bands and points A-L, the mode mix,
the gap, layer dominance and the network at a chosen snapshot. "Keep as A" pins a run so that the next
configuration is compared with it side by side. The configuration downloads as TOML.
"""

from __future__ import annotations

import solara
import solara.lab

from ..params import preset_names
from . import model

preset = solara.reactive("baseline")
values = solara.reactive(model.values_of(model.configure("baseline", {})))
pinned = solara.reactive(None)  # (label, params, result) of run A
net_step = solara.reactive(0)
live = solara.reactive(None)  # the time series so far, while a run is going
view = solara.reactive("Capability path")
VIEWS = ["Capability path", "Modes, gap, layers", "Network"]


def _set_preset(name: str) -> None:
    preset.set(name)
    values.set(model.values_of(model.configure(name, {})))


def _set_value(key: str, v: float) -> None:
    values.set({**values.value, key: v})


@solara.lab.task
def run_task():
    params = model.configure(preset.value, values.value)

    def progress(done: int, total: int) -> None:
        if done % 5 == 0 or done == total:
            run_task.progress = 100.0 * done / total

    live.set(None)
    result = model.run(params, progress, should_stop=lambda: not run_task.is_current(), partial=live.set,
                       partial_every=max(5, params.run.steps // 20))  # fmt: skip
    live.set(None)
    if result is not None:
        net_step.set(max(result.snapshots))
    return params, result


@solara.component
def Controls():
    solara.Select("Preset", values=preset_names(), value=preset.value, on_value=_set_preset)
    groups: dict[str, list[model.Slider]] = {}
    for s in model.sliders():
        groups.setdefault(s.section, []).append(s)
    for section, items in groups.items():
        with solara.Card(section, margin=0, elevation=0):
            for s in items:
                v = values.value[s.key]
                if s.integer:
                    solara.SliderInt(s.key, value=int(v), min=int(s.lo), max=int(s.hi), step=int(s.step),
                                     on_value=lambda x, k=s.key: _set_value(k, x))  # fmt: skip
                else:
                    solara.SliderFloat(s.key, value=float(v), min=s.lo, max=s.hi, step=s.step,
                                       on_value=lambda x, k=s.key: _set_value(k, x))  # fmt: skip
                shown = f"{int(v)}" if s.integer else f"{v:.4g}"
                solara.Text(f"= {shown}. {s.description}", style={"font-size": "0.75em", "color": "#666"})


@solara.component
def Results(params, result):
    title = f"{params.name}, seed {params.run.seed}, {params.run.firms} firms"
    solara.Text(model.summary_line(result), classes=["run-summary"])
    solara.ToggleButtonsSingle(value=view.value, values=VIEWS, on_value=view.set)
    steps = sorted(result.snapshots)
    step = net_step.value if net_step.value in result.snapshots else steps[-1]

    def draw():
        if view.value == VIEWS[0]:
            return model.capability_figure(result.timeseries, title)
        if view.value == VIEWS[1]:
            return model.overview_figure(result.timeseries, title)
        return model.network_figure(result, step)

    if view.value == VIEWS[2]:
        with solara.Row():
            solara.Text("step:")
            solara.ToggleButtonsSingle(value=step, values=steps, on_value=net_step.set)
    fig = solara.use_memo(draw, [result, view.value, step])
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def LiveChart(ts, total: int):
    solara.Text(f"live: step {int(ts['step'].iloc[-1])} of {total}", classes=["live-step"])
    fig = solara.use_memo(lambda: model.live_figure(ts, total), [id(ts)])
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def Compare(params, result):
    label, pa, ra = pinned.value
    diffs = model.differences(pa, params)
    solara.Text("A: " + label + "; B: the current run. Differences: "
                + ("; ".join(f"{k} {a} -> {b}" for k, a, b in diffs) or "none"))  # fmt: skip
    with solara.Columns([1, 1]):
        with solara.Column():
            solara.Text("A: " + model.summary_line(ra))
            fa = solara.use_memo(lambda: model.capability_figure(ra.timeseries, "A"), [ra])
            solara.FigureMatplotlib(fa, format="png")
        with solara.Column():
            solara.Text("B: " + model.summary_line(result))
            fb = solara.use_memo(lambda: model.capability_figure(result.timeseries, "B"), [result])
            solara.FigureMatplotlib(fb, format="png")


@solara.component
def Page():
    solara.Title("clusterup explorer")
    with solara.Sidebar():
        solara.Text("clusterup explorer", style={"font-size": "1.3em", "font-weight": "bold"})
        Controls()
    with solara.Row():
        solara.Button("Run", color="primary", on_click=run_task, disabled=run_task.pending)
        params_now = model.configure(preset.value, values.value)
        solara.FileDownload(
            params_now.to_toml(), filename=f"clusterup-{params_now.name}.toml", label="Download configuration (TOML)"
        )
        if run_task.finished and run_task.value and run_task.value[1] is not None:
            p, r = run_task.value
            solara.Button("Keep as A (compare)", on_click=lambda: pinned.set((f"{p.name} seed {p.run.seed}", p, r)))
    if run_task.pending:
        solara.ProgressLinear(run_task.progress if run_task.progress is not None else True)
        solara.Text(f"running... {run_task.progress or 0:.0f}%")
        if live.value is not None and len(live.value):
            LiveChart(live.value, model.configure(preset.value, values.value).run.steps)
    if run_task.error:
        solara.Error(f"the run failed: {run_task.exception}")
    if run_task.finished and run_task.value and run_task.value[1] is not None:
        p, r = run_task.value
        Results(p, r)
        if pinned.value is not None:
            solara.Text("Compare A | B", style={"font-weight": "bold", "margin-top": "1em"})
            Compare(p, r)
    elif run_task.not_called:
        solara.Text("Choose a preset, adjust the parameters, press Run.")
