"""The explorer: a Solara page. Start it with ``clusterup explore`` (docs/explorer.md).

Choose a preset, move the main parameters (sliders with a box to type the value, grouped by process,
each with its description) or reach any other parameter under "All parameters" (by section or by a
word), add interventions (a parameter set from a step on), press Run and watch the progress and the
warning score of decline; then read the capability path with stage bands and points A-L,
the mode mix, the gap, layer dominance, the network at a chosen snapshot and the firms (the table; one
firm's trajectory and ties). "Keep as A" pins a run so that the next configuration is compared with it
side by side. The configuration downloads as TOML.
"""

from __future__ import annotations

import solara
import solara.lab

from ..errors import ConfigError
from ..params import preset_names
from . import model

preset = solara.reactive("baseline")
values = solara.reactive(model.values_of(model.configure("baseline", {})))
pinned = solara.reactive(None)  # (label, params, result) of run A
net_step = solara.reactive(0)
live = solara.reactive(None)  # the time series so far, while a run is going
extra = solara.reactive({})  # values typed under "All parameters" (keys without a slider)
errors = solara.reactive({})  # key -> the message of a value that was refused
search = solara.reactive("")
section = solara.reactive("technology")
firm = solara.reactive(None)  # the firm shown in the firm view
view = solara.reactive("Capability path")
added = solara.reactive([])  # interventions added in the explorer: {"step": t, "set": {key: value}}
iv_step, iv_key, iv_value = solara.reactive("40"), solara.reactive("organisations.universities"), solara.reactive("1")
iv_error = solara.reactive("")
VIEWS = ["Capability path", "Modes, gap, layers", "Network", "Firms"]
SLIDER_KEYS = {s.key for s in model.sliders()}
SHOWN = 40  # at most this many boxes at once under "All parameters"


def _set_preset(name: str) -> None:
    preset.set(name)
    values.set(model.values_of(model.configure(name, {})))
    extra.set({})
    errors.set({})
    added.set([])


def _with(key: str, v) -> tuple[dict, dict]:
    """The slider values and the other typed values with ``key`` set to ``v`` (a slider key goes to the first)."""
    if key in SLIDER_KEYS:
        return {**values.value, key: v}, extra.value
    return values.value, {**extra.value, key: v}


def _set_value(key: str, v) -> None:
    new_values, new_extra = _with(key, v)
    values.set(new_values)
    extra.set(new_extra)


def _typed(entry: model.Entry, text: str) -> None:
    """A value typed in a box: parsed and checked against its range at once; a refusal is shown beside it."""
    others = {k: v for k, v in errors.value.items() if k != entry.key}
    try:
        v = model.parse_entry(entry, text)
        model.configure(preset.value, *_with(entry.key, v))
    except ConfigError as exc:
        errors.set({**others, entry.key: str(exc)})
        return
    errors.set(others)
    _set_value(entry.key, v)


def current() -> model.Params:
    return model.configure(preset.value, values.value, extra.value, added.value)


def _add_intervention() -> None:
    """The intervention typed in the card: checked against the scenario at once; a refusal is shown."""
    try:
        iv = model.intervention(iv_step.value, iv_key.value, iv_value.value)
        model.configure(preset.value, values.value, extra.value, [*added.value, iv])
    except ConfigError as exc:
        iv_error.set(str(exc))
        return
    iv_error.set("")
    added.set([*added.value, iv])


@solara.lab.task
def run_task():
    params = current()

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
    for sec, items in groups.items():
        with solara.Card(sec, margin=0, elevation=0):
            for s in items:
                v = values.value[s.key]
                with solara.Row(style={"align-items": "center"}):
                    if s.integer:
                        solara.SliderInt(s.key, value=int(v), min=int(s.lo), max=int(s.hi), step=int(s.step),
                                         on_value=lambda x, k=s.key: _set_value(k, x))  # fmt: skip
                    else:
                        solara.SliderFloat(s.key, value=float(v), min=s.lo, max=s.hi, step=s.step,
                                           on_value=lambda x, k=s.key: _set_value(k, x))  # fmt: skip
                    entry = model.entry(s.key)
                    solara.InputText("", value=f"{int(v)}" if s.integer else f"{v:.6g}", continuous_update=False,
                                     on_value=lambda t, e=entry: _typed(e, t), classes=[f"box-{s.key}"],
                                     style={"max-width": "6em"})  # fmt: skip
                shown = f"{int(v)}" if s.integer else f"{v:.4g}"
                solara.Text(f"= {shown}. {s.description}", style={"font-size": "0.75em", "color": "#666"})
                if s.key in errors.value:
                    solara.Text(errors.value[s.key], style={"color": "#b00020", "font-size": "0.8em"})
    Interventions()
    AllParameters()


@solara.component
def Interventions():
    """Add a policy that starts at a step (an intervention in time, docs/decision.md)."""
    with solara.Card("Interventions", margin=0, elevation=0):
        solara.Text("From step, set a parameter: a policy that starts during the run.",
                    style={"font-size": "0.75em", "color": "#666"})  # fmt: skip
        solara.InputText("intervention step", value=iv_step.value, on_value=iv_step.set, continuous_update=True)
        solara.InputText("intervention parameter", value=iv_key.value, on_value=iv_key.set, continuous_update=True)
        solara.InputText("intervention value", value=iv_value.value, on_value=iv_value.set, continuous_update=True)
        with solara.Row():
            solara.Button("Add intervention", on_click=_add_intervention)
            if added.value:
                solara.Button("Remove interventions", on_click=lambda: added.set([]))
        if iv_error.value:
            solara.Text(iv_error.value, classes=["iv-error"], style={"color": "#b00020", "font-size": "0.8em"})
        for iv in added.value:
            (key, v), = iv["set"].items()
            solara.Text(f"from step {iv['step']}: {key} = {v}", classes=["iv-item"], style={"font-size": "0.85em"})


@solara.component
def AllParameters():
    """Every parameter, typed boxes with their allowed values: one section at a time, or those matching a word."""
    with solara.Card("All parameters", margin=0, elevation=0):
        solara.InputText("search parameters (a word)", value=search.value, on_value=search.set, continuous_update=True)
        if not search.value:
            solara.Select("section", values=model.sections(), value=section.value, on_value=section.set)
        found = model.entries(search=search.value) if search.value else model.entries(section=section.value)
        try:
            now = current().to_dict()
        except ConfigError:
            now = model.configure(preset.value, values.value).to_dict()
        for e in found[:SHOWN]:
            v = now[e.section][e.key.split(".")[1]]
            if e.kind == "bool":
                solara.Checkbox(label=e.key, value=bool(v), on_value=lambda x, k=e.key: _set_value(k, bool(x)))
            else:
                solara.InputText(e.key, value=str(v), continuous_update=False, on_value=lambda t, e=e: _typed(e, t))
            solara.Text(f"{e.description} ({e.allowed})", style={"font-size": "0.75em", "color": "#666"})
            if e.key in errors.value:
                solara.Text(errors.value[e.key], style={"color": "#b00020", "font-size": "0.8em"}, classes=["param-error"])
        if len(found) > SHOWN:
            solara.Text(f"{len(found) - SHOWN} more: narrow the search", style={"font-size": "0.8em"})
        if not found:
            solara.Text("no parameter matches", style={"font-size": "0.8em"})


@solara.component
def FirmView(result):
    table = model.firms_table(result)
    ids = table["id"].tolist()
    chosen = firm.value if firm.value in ids else ids[0]
    solara.Text(f"{len(table)} firms and organisations at the end, most capable first; choose one by its id.")
    solara.InputInt("firm id", value=int(chosen), on_value=firm.set, continuous_update=False)
    if firm.value is not None and firm.value not in ids:
        solara.Text(f"no firm {firm.value} at the end of this run", style={"color": "#b00020"})
    solara.DataFrame(table, items_per_page=8)
    solara.Text(f"trajectory of firm {chosen}", classes=["firm-title"])
    fig = solara.use_memo(lambda: model.firm_figure(result, int(chosen)), [result, chosen])
    solara.FigureMatplotlib(fig, format="png")
    ties = model.firm_ties(result, int(chosen))
    solara.Text(f"its {len(ties)} ties at the end (strongest first)")
    solara.DataFrame(ties, items_per_page=8)


@solara.component
def Results(params, result):
    title = f"{params.name}, seed {params.run.seed}, {params.run.firms} firms"
    solara.Text(model.summary_line(result), classes=["run-summary"])
    score, alarm, threshold = solara.use_memo(lambda: model.warning_now(result.timeseries), [result])
    first = "no alarm" if alarm is None else f"first alarm at step {alarm}"
    solara.Text(f"warning score at the end {score:.2f} (alarm above {threshold:.2f}); {first}"
                + "".join(f"; intervention from step {iv.step}: {iv.describe()}" for iv in params.interventions),
                classes=["run-warning"])  # fmt: skip
    solara.ToggleButtonsSingle(value=view.value, values=VIEWS, on_value=view.set)
    steps = sorted(result.snapshots)
    step = net_step.value if net_step.value in result.snapshots else steps[-1]

    def draw():
        if view.value == VIEWS[3]:
            return None  # the firm view draws its own figure
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
    if view.value == VIEWS[3]:
        FirmView(result)
    else:
        solara.FigureMatplotlib(fig, format="png")


@solara.component
def LiveChart(ts, total: int):
    solara.Text(f"live: step {int(ts['step'].iloc[-1])} of {total}", classes=["live-step"])
    warning = solara.use_memo(lambda: model.warning_scores(ts), [id(ts)])  # once per redraw, for the line and the chart
    scores, alarm, threshold = warning
    first = "no alarm yet" if alarm is None else f"first alarm at step {alarm}"
    solara.Text(f"warning score {scores[-1]:.2f} (alarm above {threshold:.2f}); {first}", classes=["live-warning"])
    fig = solara.use_memo(lambda: model.live_figure(ts, total, warning), [id(ts)])
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
    try:
        params_now, problem = current(), None
    except ConfigError as exc:
        params_now, problem = None, str(exc)
    if errors.value and problem is None:  # a box holds a refused value: run nothing until it is mended
        problem = "a parameter value was refused (see the red note beside it): " + next(iter(errors.value.values()))
    with solara.Row():
        solara.Button("Run", color="primary", on_click=run_task, disabled=run_task.pending or problem is not None)
        if params_now is not None:
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
            LiveChart(live.value, params_now.run.steps if params_now else values.value["run.steps"])
    if problem:
        solara.Error(problem)
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
