"""The house style of every figure, and the check that a figure keeps it.

Figures are made here without global state: every figure is a :class:`matplotlib.figure.Figure`, never
drawn through pyplot, so drawing selects no backend and touches no global figure registry. The style:

- sizes of a journal page: :data:`SINGLE` (one column, 3.5 in) and :data:`DOUBLE` (two columns, 7.2 in)
  wide, fonts of 7-9 pt at that size;
- the Okabe-Ito palette (:data:`OKABE_ITO`), distinguishable with the common colour-vision deficiencies,
  with fixed colours for the three layers and the three innovation modes;
- axis labels in words with units (:data:`LABELS`), never raw column names;
- legends outside the data (:func:`legend_outside`, :func:`legend_below`);
- intervals within the quantity's range (:func:`clip_to_range`, :data:`RANGES`).

:func:`figure_problems` reports where a drawn figure breaks the style: text (legends and notes) over data,
text cut off at the figure's edge, a legend over another panel, axes whose range collapsed around constant
data, and empty panels. A test draws every figure of the package and requires no problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

import matplotlib
import numpy as np
from matplotlib.figure import Figure

SINGLE = 3.5  # inches: one journal column
DOUBLE = 7.2  # inches: the full page width

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "grey": "#999999",
}
CYCLE = [OKABE_ITO[k] for k in ("blue", "orange", "bluish green", "vermillion", "reddish purple", "sky blue", "black", "yellow")]
LAYER_COLOURS = {"social": OKABE_ITO["vermillion"], "economic": OKABE_ITO["bluish green"], "knowledge": OKABE_ITO["blue"]}
MODE_COLOURS = {"imitation": OKABE_ITO["orange"], "local": OKABE_ITO["sky blue"], "integrated": OKABE_ITO["reddish purple"]}

LABELS = {
    "step": "time (quarters)",
    "cap_total": "overall innovation capability (sum over firms, capability index)",
    "cap_mean": "mean firm capability (capability index)",
    "frontier": "outside technology frontier A* (capability index)",
    "cap_rel_frontier": "mean capability / frontier A* (ratio)",
    "gap_cv": "capability gap (coefficient of variation)",
    "gap_gini": "capability gap (Gini coefficient)",
    "gen_max": "highest technology generation reached",
    "gen_mean": "mean technology generation of firms",
    "share_imitation": "share of attempts by imitation",
    "share_local": "share of attempts by local innovation",
    "share_integrated": "share of attempts by integrated innovation",
    "social_share": "social layer's share of tie strength",
    "economic_share": "economic layer's share of tie strength",
    "knowledge_share": "knowledge layer's share of tie strength",
    "n_firms": "number of firms",
    "rd_mean": "mean R&D propensity (share of revenue)",
}
"""Axis labels in words with units for the recorded columns the figures draw."""

SHORT = {
    "cap_total": "overall capability",
    "cap_mean": "mean capability",
    "gap_cv": "capability gap (CV)",
    "gen_max": "highest generation",
    "share_integrated": "integrated innovation's share",
    "knowledge_share": "knowledge layer's share",
    "n_firms": "number of firms",
}
"""Panel titles for the same columns."""

RANGES = {
    **{k: (0.0, None) for k in ("cap_total", "cap_mean", "frontier", "cap_rel_frontier", "gap_cv", "gen_max", "gen_mean",
                                 "n_firms", "rd_mean")},  # fmt: skip
    **{k: (0.0, 1.0) for k in ("gap_gini", "share_imitation", "share_local", "share_integrated", "social_share",
                                "economic_share", "knowledge_share")},  # fmt: skip
}
"""The range a column's values can take: intervals drawn for it are kept inside."""

RC = {
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "figure.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=CYCLE),
    "lines.linewidth": 1.3,
    "savefig.dpi": 300,
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}

F = TypeVar("F", bound=Callable[..., Any])


def style_context():
    """A context in which figures are drawn under the house style (Matplotlib reads the settings when
    artists are made, so the whole drawing goes inside it)."""
    return matplotlib.rc_context(RC)


def house_style(func: F) -> F:
    """Draw ``func``'s figure under the house style (:func:`style_context`)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with style_context():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " "))


def short(column: str) -> str:
    return SHORT.get(column, label(column))


def clip_to_range(column: str, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An interval kept within the column's range (a t-interval of a share may pass 1, of a count below 0)."""
    a, b = RANGES.get(column, (None, None))
    return np.clip(lo, a, b), np.clip(hi, a, b)


def legend_outside(ax, handles=None, labels=None, **kw: Any):
    """A legend to the right of the axes, outside the data."""
    args = [] if handles is None else [handles, labels]
    opts = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0, "frameon": False, **kw}
    return ax.legend(*args, **opts)


def legend_above(ax, **kw: Any):
    """A one-row legend just above the panel (outside the data; the panel then needs no title)."""
    handles, labels = ax.get_legend_handles_labels()
    return ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=len(labels), frameon=False,
                     borderaxespad=0.0, handlelength=1.6, columnspacing=1.0, **kw)  # fmt: skip


def legend_below(fig: Figure, handles, labels, ncol: int | None = None, **kw: Any):
    """One legend for the whole figure, below the panels."""
    return fig.legend(handles, labels, loc="outside lower center", ncol=ncol or min(len(labels), 4), frameon=False, **kw)


def blank_figure(figsize: tuple[float, float]) -> Figure:
    """A constrained-layout figure with no axes yet."""
    return Figure(figsize=figsize, layout="constrained")


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **subplots: Any) -> tuple[Figure, Any]:
    """A constrained-layout figure and its axes, as ``Figure.subplots`` gives them."""
    fig = blank_figure(figsize)
    return fig, fig.subplots(nrows, ncols, **subplots)


def colormap(name: str):
    return matplotlib.colormaps[name]


def intervention_marks(params: Any) -> list[tuple[int, str]]:
    """(step, what) for each change an intervention makes: its start, and its end where it has one."""
    marks = []
    for iv in getattr(params, "interventions", []) or []:
        marks.append((iv.step, iv.describe()))
        if iv.until is not None:
            marks.append((iv.until + 1, f"end of {iv.describe()}"))
    return sorted(marks)


def draw_marks(ax, marks: list[tuple[int, str]], legend: bool = True) -> None:
    """Interventions as dash-dot vertical lines (named in the legend when ``legend``)."""
    for step, what in marks:
        line = ax.axvline(step, color=OKABE_ITO["reddish purple"], ls="-.", lw=1.1, zorder=2,
                          label=f"quarter {step}: {what}" if legend else None)  # fmt: skip
        line._house_background = True  # a mark of time, not data


def note(ax, text: str) -> None:
    """A message in place of data (an empty panel says why it is empty)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.35")
    ax.set_xticks([])
    ax.set_yticks([])


# ---------------------------------------------------------------- checking a figure


def _data_points(ax, renderer) -> np.ndarray:
    """Display coordinates of what the axes shows as data: line vertices (with points every few pixels
    along each segment), the edges of filled bands, markers and bar outlines; inside the axes only."""
    from matplotlib.collections import LineCollection, PathCollection, PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    pts: list[np.ndarray] = []

    def densify(xy: np.ndarray) -> np.ndarray:
        if len(xy) < 2:
            return xy
        seg = np.diff(xy, axis=0)
        n = np.maximum(1, (np.hypot(seg[:, 0], seg[:, 1]) / 3).astype(int))
        out = [xy[:-1][k] + seg[k] * (np.arange(n[k])[:, None] / n[k]) for k in range(len(seg)) if np.isfinite(seg[k]).all()]
        return np.vstack([*out, xy[-1:]]) if out else xy

    for art in ax.get_children():
        if not art.get_visible() or getattr(art, "_house_background", False):
            continue
        if isinstance(art, Line2D):
            xy = art.get_transform().transform(art.get_xydata())
            pts.append(densify(xy) if art.get_linestyle() not in ("None", "") else xy)
        elif isinstance(art, PathCollection):
            pts.append(art.get_offset_transform().transform(art.get_offsets()))
        elif isinstance(art, PolyCollection | LineCollection):
            for path in art.get_paths():
                pts.append(densify(art.get_transform().transform(path.vertices)))
        elif isinstance(art, Rectangle) and art is not ax.patch:
            xy = art.get_patch_transform().transform(np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], float))
            pts.append(densify(art.get_data_transform().transform(xy)))
    if not pts:
        return np.empty((0, 2))
    allp = np.vstack(pts)
    allp = allp[np.isfinite(allp).all(axis=1)]
    box = ax.get_window_extent(renderer)
    inside = (allp[:, 0] >= box.x0) & (allp[:, 0] <= box.x1) & (allp[:, 1] >= box.y0) & (allp[:, 1] <= box.y1)
    return allp[inside]


def _texts_over_data(fig: Figure, renderer) -> Iterable[Any]:
    """Legends and free text (not annotations of a point, not empty-panel notes) of every axes."""
    from matplotlib.text import Annotation

    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            yield ax, leg, "legend"
        for t in ax.texts:
            if t.get_visible() and t.get_text().strip() and not isinstance(t, Annotation):
                yield ax, t, f"text {t.get_text()[:30]!r}"
    for leg in fig.legends:
        yield None, leg, "figure legend"


def figure_problems(fig: Figure) -> list[str]:
    """Where the drawn figure breaks the house style (an empty list when it keeps it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems: list[str] = []
    axes = [ax for ax in fig.axes if ax.get_visible()]
    points = {id(ax): _data_points(ax, renderer) for ax in axes}
    fbox = fig.bbox

    def name(ax) -> str:
        return repr(ax.get_title() or ax.get_ylabel() or "untitled")[:60]

    for ax, art, what in _texts_over_data(fig, renderer):
        box = art.get_window_extent(renderer).shrunk(0.98, 0.9)
        for other in axes:
            p = points[id(other)]
            hit = (p[:, 0] > box.x0) & (p[:, 0] < box.x1) & (p[:, 1] > box.y0) & (p[:, 1] < box.y1) if len(p) else []
            if np.any(hit):
                problems.append(f"{what} of axes {name(ax) if ax else 'figure'} covers data of axes {name(other)}")
        if what.endswith("legend"):
            for other in axes:
                if ax is not None and other.get_position().bounds == ax.get_position().bounds:
                    continue  # its own axes or a twin: the data check above covers it
                if box.overlaps(other.get_window_extent(renderer).shrunk(0.98, 0.98)):
                    problems.append(f"{what} of axes {name(ax) if ax else 'figure'} lies over axes {name(other)}")
    def outside(b) -> bool:
        return b.x0 < fbox.x0 - 1 or b.x1 > fbox.x1 + 1 or b.y0 < fbox.y0 - 1 or b.y1 > fbox.y1 + 1

    titles = [(ax, t) for ax in axes for t in (ax.title, ax._left_title, ax._right_title) if t.get_text().strip()]
    for k, (ax, t) in enumerate(titles):
        for other_ax, other in titles[k + 1 :]:
            if other_ax is not ax and t.get_window_extent(renderer).overlaps(other.get_window_extent(renderer)):
                problems.append(f"the titles {t.get_text()[:30]!r} and {other.get_text()[:30]!r} overlap")
    for ax in axes:  # the drawn extent of each panel: its ticks, labels, title and legend
        if outside(ax.get_tightbbox(renderer)):
            problems.append(f"axes {name(ax)}: its labels or legend are cut off at the figure's edge")
    for t in [*fig.texts, *([fig._suptitle] if fig._suptitle else []), *fig.legends]:
        if t.get_visible() and outside(t.get_window_extent(renderer)):
            problems.append(f"{str(getattr(t, 'get_text', lambda: 'figure legend')())[:40]!r} is cut off at the figure's edge")
    for ax in axes:
        has_data = len(points[id(ax)]) > 0 or any(c.get_visible() for c in ax.collections) or ax.images
        if not has_data:
            if not any(t.get_visible() and t.get_text().strip() for t in ax.texts):
                problems.append(f"axes {name(ax)} is empty and does not say why")
            continue
        ys = []
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            ys.append(y[np.isfinite(y)])
        ys = [y for y in ys if y.size]
        if ys and ax.get_autoscaley_on() and not ax.collections and not ax.patches:
            y = np.concatenate(ys)
            if np.ptp(y) == 0:
                lo, hi = ax.get_ylim()
                problems.append(f"axes {name(ax)}: constant data at {y[0]:g} on an automatic range [{lo:.3g}, {hi:.3g}]")
    return problems
