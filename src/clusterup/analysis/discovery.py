"""Scenario discovery: the parameter regions of a sweep that lead to an outcome (PRIM boxes and a CART tree).

PRIM (Friedman & Fisher 1999, Statistics and Computing 9:123; as used for scenario discovery by Bryant &
Lempert 2010, Technological Forecasting and Social Change 77:34) peels a box off the sampled parameter
space, step by step, keeping the runs where the outcome is more common. Each step of the *peeling
trajectory* trades **coverage** (the share of all runs with the outcome that fall in the box) against
**density** (the share of the box's runs that have the outcome). The implementation is the EMA
Workbench's (``ema_workbench.analysis.prim``; Kwakkel 2017, Environmental Modelling & Software 96:239).
The box reported is the one of highest coverage among those whose density reaches ``density`` (where
none does, the densest). With ``boxes`` > 1, further boxes are sought among the runs outside the earlier
ones (PRIM's covering approach; coverage stays relative to all the outcome's runs), as long as they reach
the density goal. A CART
tree (scikit-learn's ``DecisionTreeClassifier``) gives a second, hierarchical reading of the same data.

Outcomes are computed per run from its time series (``declined``, ``jump``, ``path2``,
``new_generation``) or, for any other text, as a boolean SQL expression over the experiment's ``runs``
view (for example ``final_cap_total < 500``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .phenomena import declined, path2


def _jump(ts: pd.DataFrame) -> bool:
    return bool(ts["gen_max"].iloc[-1] > ts["gen_max"].iloc[0] and not declined(ts)["holds"])


OUTCOMES: dict[str, tuple[Any, str]] = {
    "declined": (lambda ts: declined(ts)["holds"], "the run declines (mean capability ends >= 15% below its peak, "
                 "cap_total below 80% of its peak)"),
    "jump": (_jump, "the run reaches a new generation and does not decline"),
    "new_generation": (lambda ts: bool(ts["gen_max"].iloc[-1] > ts["gen_max"].iloc[0]), "a new generation appears"),
    "path2": (lambda ts: path2(ts)["holds"], "phenomenon 6 (path 2) holds: a niche generation spreads after a dip"),
}  # fmt: skip


def experiment_outcome(store, outcome: str) -> tuple[pd.DataFrame, np.ndarray]:
    """(the finished runs' varied parameters, the outcome per run) of an experiment store."""
    plan = store.plan()
    runs = store.runs_table()
    runs = runs[runs["status"] == "ok"].sort_values("run_id", ignore_index=True)
    varied = [k for k in plan.varied if k in runs.columns]
    if not varied:
        raise ConfigError("discover needs a sweep: this experiment varies no parameter")
    if len(runs) < 10:
        raise ConfigError(f"discover needs at least 10 finished runs; this experiment has {len(runs)}")
    if outcome in OUTCOMES:
        f = OUTCOMES[outcome][0]
        y = np.array([bool(f(store.timeseries(int(r)))) for r in runs["run_id"]])
    else:
        got = store.query(f"SELECT run_id, ({outcome}) AS outcome FROM runs WHERE status = 'ok' ORDER BY run_id")
        if got["outcome"].dtype != bool:
            raise ConfigError(f"--outcome {outcome!r} is not one of {', '.join(OUTCOMES)} nor a true/false SQL expression "
                              "over the runs view")  # fmt: skip
        y = got.set_index("run_id").loc[runs["run_id"], "outcome"].to_numpy(dtype=bool)
    x = runs[varied].copy()
    for c in varied:
        if not pd.api.types.is_numeric_dtype(x[c]):
            x[c] = x[c].astype(str).astype("category")
        else:
            x[c] = x[c].astype(float)
    return x, y


@dataclass
class Discovery:
    outcome: str
    runs: int
    with_outcome: int
    density_goal: float
    trajectory: pd.DataFrame
    selected: int
    restrictions: list[dict[str, Any]]
    tree: str
    tree_leaves: list[dict[str, Any]] = field(default_factory=list)
    tree_accuracy: float = float("nan")
    more: list[dict[str, Any]] = field(default_factory=list)  # later boxes (covering): summary and restrictions

    @property
    def box(self) -> pd.Series:
        return self.trajectory.iloc[self.selected]

    def payload(self) -> dict[str, Any]:
        b = self.box
        return {"outcome": self.outcome, "runs": self.runs, "with_outcome": self.with_outcome,
                "density_goal": self.density_goal, "selected_box": int(self.selected),
                "coverage": float(b["coverage"]), "density": float(b["density"]), "mass": float(b["mass"]),
                "restrictions": self.restrictions,
                "trajectory": self.trajectory[["coverage", "density", "mass", "res_dim"]].astype(float).round(6).to_dict("records"),
                "tree": self.tree, "tree_leaves": self.tree_leaves, "tree_accuracy": self.tree_accuracy,
                "more_boxes": self.more}  # fmt: skip

    def figure(self):
        """The peeling trajectory: coverage against density, coloured by the number of restricted
        parameters, the reported box marked."""
        import matplotlib.pyplot as plt

        from ..plots.style import OKABE_ITO, legend_outside, style_context

        colours = list(OKABE_ITO.values())
        t = self.trajectory
        with style_context():
            fig, ax = plt.subplots(figsize=(6.8, 4.2), constrained_layout=True)
            for k, (dims, part) in enumerate(t.groupby("res_dim")):
                ax.scatter(part["coverage"], part["density"], s=18, color=colours[(k + 1) % len(colours)],
                           label=f"{int(dims)} restricted parameter{'s' if dims != 1 else ''}")  # fmt: skip
            b = self.box
            ax.scatter([b["coverage"]], [b["density"]], s=90, facecolors="none", edgecolors="black", lw=1.4,
                       label=f"reported box (step {self.selected})")  # fmt: skip
            ax.axhline(self.density_goal, color="0.5", lw=0.8, ls="--", label=f"density goal {self.density_goal:g}")
            ax.set(xlim=(0, 1.02), ylim=(0, 1.02), xlabel="coverage (share of the outcome's runs in the box)",
                   ylabel="density (share of the box's runs with the outcome)",
                   title=f"PRIM peeling trajectory: {self.outcome}")  # fmt: skip
            legend_outside(ax)
        return fig


def _restrictions(x: pd.DataFrame, lims: pd.DataFrame, first: pd.DataFrame, qp: dict[str, float]) -> list[dict[str, Any]]:
    out = []
    for c in x.columns:
        if isinstance(x[c].dtype, pd.CategoricalDtype):
            kept, allv = set(lims[c].iloc[0]), set(first[c].iloc[0])
            if kept != allv:
                out.append({"parameter": c, "values": sorted(map(str, kept)), "qp": qp.get(c)})
        else:
            lo, hi = float(lims[c].iloc[0]), float(lims[c].iloc[1])
            if lo != float(first[c].iloc[0]) or hi != float(first[c].iloc[1]):
                out.append({"parameter": c, "min": lo, "max": hi, "sampled_min": float(first[c].iloc[0]),
                            "sampled_max": float(first[c].iloc[1]), "qp": qp.get(c)})  # fmt: skip
    return out


def prim_boxes(x: pd.DataFrame, y: np.ndarray, density: float = 0.8, peel_alpha: float = 0.1, mass_min: float = 0.05,
               boxes: int = 1) -> list[dict[str, Any]]:  # fmt: skip
    """Run PRIM for up to ``boxes`` boxes, each on the runs outside the earlier ones (the covering
    approach); per box its peeling trajectory, the step reported and its restrictions."""
    from ..errors import require

    own = {c: f"{c} " for c in x.columns if c in ("scenario", "policy", "model")}  # names the Workbench drops
    back = {v: k for k, v in own.items()}
    x = x.rename(columns=own)
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Workbench warns at import about parallel back ends it does not need here
        require("ema_workbench", "decision", "scenario discovery")
        from ema_workbench.analysis import prim

        # The Workbench counts a run as of interest when y >= threshold and returns an empty box unless the
        # final box's density reaches it: a tiny threshold keeps y's true runs and the whole trajectory;
        # the density goal picks the box below.
        p = prim.Prim(x, y.astype(float), threshold=1e-6, peel_alpha=peel_alpha, mass_min=mass_min)
        for _ in range(boxes):
            if p.yi_remaining.size == 0 or not np.any(y[p.yi_remaining]):
                break
            box = p.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory.reset_index(drop=True)
            ok = traj.index[traj["density"] >= density]
            selected = int(traj.loc[ok, "coverage"].idxmax()) if len(ok) else int(traj["density"].idxmax())
            try:
                table = box.inspect(selected, style="data")[0][1]
                qp = {k: float(np.nanmin(table.loc[k].iloc[2:].to_numpy(dtype=float))) for k in table.index}
            except Exception:  # noqa: BLE001 - quasi-p-values are extra information; the box stands without them
                qp = {}
            restrictions = _restrictions(x, box.box_lims[selected], box.box_lims[0], qp)
            for r in restrictions:
                r["parameter"] = back.get(r["parameter"], r["parameter"])
            found.append({"trajectory": traj, "selected": selected, "restrictions": restrictions})
            if not restrictions:
                break  # the box is the whole (remaining) space: nothing more to find
            box.select(selected)  # the next box is sought among the runs outside this one
    return found


def restriction_rows(restrictions: list[dict[str, Any]]) -> list[dict[str, str]]:
    """A box's restrictions as table rows: parameter, its range (or values) in the box, the sampled range,
    the quasi-p-value."""
    rows = []
    for r in restrictions:
        where = ", ".join(r["values"]) if "values" in r else f"{r['min']:.4g} .. {r['max']:.4g}"
        sampled = "" if "values" in r else f"{r['sampled_min']:.4g} .. {r['sampled_max']:.4g}"
        rows.append({"parameter": r["parameter"], "in the box": where, "sampled": sampled,
                     "quasi-p": "-" if r.get("qp") is None else f"{r['qp']:.2g}"})  # fmt: skip
    return rows


def cart_tree(x: pd.DataFrame, y: np.ndarray, max_depth: int = 3, min_leaf: float = 0.05) -> tuple[str, list[dict], float]:
    """A CART tree of the outcome on the parameters: its rules as text, its leaves and its training accuracy."""
    from ..errors import require

    require("sklearn", "decision", "scenario discovery")
    from sklearn.tree import DecisionTreeClassifier, export_text

    xx = pd.get_dummies(x, prefix_sep="=") if any(isinstance(x[c].dtype, pd.CategoricalDtype) for c in x) else x
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(2, int(min_leaf * len(y))), random_state=0)
    tree.fit(xx.to_numpy(dtype=float), y.astype(int))
    text = export_text(tree, feature_names=[str(c) for c in xx.columns], show_weights=True)
    leaf = tree.apply(xx.to_numpy(dtype=float))
    leaves = []
    for k in np.unique(leaf):
        inside = leaf == k
        leaves.append({"leaf": int(k), "runs": int(inside.sum()), "share_with_outcome": float(y[inside].mean())})
    return text, leaves, float(tree.score(xx.to_numpy(dtype=float), y.astype(int)))


def discover(x: pd.DataFrame, y: np.ndarray, outcome: str = "outcome", *, density: float = 0.8,
             peel_alpha: float = 0.1, mass_min: float = 0.05, max_depth: int = 3, boxes: int = 1) -> Discovery:  # fmt: skip
    """PRIM (up to ``boxes`` boxes) and CART on sampled parameters ``x`` and a true/false outcome ``y``."""
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        raise ConfigError(f"outcome {outcome!r} is {'true' if y.all() else 'false'} in every run: there is no region to find")
    found = prim_boxes(x, y, density, peel_alpha, mass_min, boxes)
    first = found[0]
    more = []
    for b in found[1:]:
        row = b["trajectory"].iloc[b["selected"]]
        if row["density"] < density:  # a later box must reach the density goal; the search stops at one that does not
            break
        more.append({"selected_box": int(b["selected"]), "coverage": float(row["coverage"]), "density": float(row["density"]),
                     "mass": float(row["mass"]), "restrictions": b["restrictions"]})  # fmt: skip
    text, leaves, acc = cart_tree(x, y, max_depth)
    return Discovery(outcome, int(y.size), int(y.sum()), density, first["trajectory"], first["selected"],
                     first["restrictions"], text, leaves, acc, more)  # fmt: skip
