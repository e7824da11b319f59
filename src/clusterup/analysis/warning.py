"""Early warning of decline: leading indicators on a run's series, and their evaluation as a forecaster.

Every indicator at step ``t`` reads the series up to ``t`` only (what an analyst watching the cluster
would have seen then), so an alarm raised at ``t`` could have been raised at ``t``.

Two families of indicators:

- **Critical slowing down** (Scheffer et al. 2009, Nature 461:53; Dakos et al. 2012, PLoS ONE 7:e41010).
  The growth of mean capability (``diff log cap_mean``) up to ``t`` is detrended with a Gaussian kernel
  (bandwidth ``bandwidth`` steps, the kernel's quartiles at +-bandwidth/4, as R's ``ksmooth`` and
  ``ewstools``); on the residuals, the rolling variance and lag-1 autocorrelation over ``window`` steps;
  the indicator is the Kendall tau (tau-b) of that statistic against time over every value so far (or the
  last ``trend``). The defaults, a bandwidth of 40 steps and a window of 50, are ewstools' defaults (20% and
  25% of the series) for a run of 200 steps.
  A system losing resilience recovers more slowly from shocks: both statistics rise (tau > 0).
- **The theory's own signals** (Ji & Hu 2011): falling knowledge diversity, rising closure (clustering) and
  embeddedness of the knowledge layer, falling R&D, a rising share of imitation: capability rigidity and
  opportunism on their way. Each gives two indicators, oriented so that a larger value warns:
  ``NAME_from_best``, how far the signal has moved from its most favourable value so far (for a falling
  signal ``(max - y) / max``; for a rising one ``(y - min) / (max - min)``, running extremes up to ``t``),
  and ``NAME_change``, its relative change over the last ``lag`` steps (signed the same way).

The **score** combines them: a logistic regression on the standardised indicators, fitted on training
runs, gives the probability that the run declines within the next ``horizon`` steps (a missing indicator,
early in a run, counts as its training mean). A run *declines* as :func:`clusterup.analysis.declined`
says; its **onset** is the step of its mean capability's peak, the last step before the erosion. At each
step ``t >= start`` before the onset a declining run is a positive when ``onset - t <= horizon`` and a
negative before that; every step of a run that does not decline is a negative; steps from the onset on are
not scored (the decline is then visible). The ROC AUC is computed over all scored (run, step) pairs. The
alarm threshold is chosen on the training runs at a stated false-alarm rate (the share of negative pairs
above it); on separate test runs, the **lead time** of a declining run is ``onset`` minus the first step
whose score is above the threshold (0 when no alarm comes before the onset).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d

from .phenomena import declined

# theory signal -> (series it reads, +1 when a rise warns, -1 when a fall warns, what it stands for)
SIGNALS: dict[str, tuple[str, int, str]] = {
    "knowledge_diversity": ("knowledge_diversity", -1, "diversity of the knowledge firms hold"),
    "knowledge_closure": ("knowledge_clustering", +1, "closure (clustering) of the knowledge layer"),
    "knowledge_embeddedness": ("knowledge_embeddedness", +1, "embeddedness of the knowledge layer"),
    "rd": ("rd_mean", -1, "mean R&D propensity"),
    "imitation_share": ("share_imitation", +1, "imitation's share of the innovation attempts"),
}
CSD: dict[str, str] = {
    "variance_trend": "trend (Kendall tau) of the rolling variance of detrended capability growth",
    "autocorrelation_trend": "trend (Kendall tau) of the rolling lag-1 autocorrelation of detrended capability growth",
}


def _meanings() -> dict[str, str]:
    out = dict(CSD)
    for name, (_, sign, what) in SIGNALS.items():
        way = "fall" if sign < 0 else "rise"
        out[f"{name}_from_best"] = f"{way} of the {what} from its most favourable value so far"
        out[f"{name}_change"] = f"relative {way} of the {what} over the last `lag` steps"
    return out


INDICATORS: dict[str, str] = _meanings()  # indicator -> what it measures
MIN_POINTS = 10  # a trend needs this many values in its window, else the indicator is missing (NaN)
TRAIN_SEED = 6001  # the forecaster is fitted on seeds spawned from this base seed ...
TEST_SEED = 6003  # ... and measured on seeds spawned from this one (neither used in tuning the model)


@dataclass(frozen=True)
class Settings:
    """How the indicators are computed (steps) and the forecast is scored."""

    bandwidth: int = 40
    window: int = 50
    trend: int = 0  # 0: the trend over every value so far (an expanding window, the usual practice)
    lag: int = 20
    horizon: int = 40
    start: int = 20
    false_alarm: float = 0.1
    indicators: tuple[str, ...] = tuple(INDICATORS)

    def __post_init__(self) -> None:
        unknown = [k for k in self.indicators if k not in INDICATORS]
        if unknown:
            raise ValueError(f"unknown indicator {unknown[0]!r}; allowed: {', '.join(INDICATORS)}")
        if self.trend == 1 or self.trend < 0:
            raise ValueError(f"trend must be 0 (every value so far) or at least 2 steps; got {self.trend}")
        for key in ("bandwidth", "window", "lag", "horizon"):
            if getattr(self, key) < 2:
                raise ValueError(f"{key} must be at least 2 steps; got {getattr(self, key)}")
        if not 0.0 < self.false_alarm < 1.0:
            raise ValueError(f"false_alarm must lie strictly between 0 and 1; got {self.false_alarm}")

    def payload(self) -> dict[str, Any]:
        return asdict(self) | {"indicators": list(self.indicators)}


# -- indicators ---------------------------------------------------------------------------------
def kendall_trend(y: np.ndarray) -> float:
    """Kendall's tau-b of ``y`` against its index (time has no ties), ignoring NaN; NaN with fewer than
    ``MIN_POINTS`` values or a constant ``y``."""
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    n = y.size
    if n < MIN_POINTS:
        return float("nan")
    s = np.sign(y[None, :] - y[:, None])[np.triu_indices(n, 1)]
    untied = np.count_nonzero(s)
    if untied == 0:
        return float("nan")
    return float(s.sum() / np.sqrt(s.size * untied))


def detrended(x: np.ndarray, bandwidth: float) -> np.ndarray:
    """Residuals of ``x`` after Gaussian kernel smoothing (quartiles at +-bandwidth/4, reflected at the
    ends): ewstools' ``detrend(method='Gaussian', bandwidth=...)`` with an absolute bandwidth."""
    return x - gaussian_filter1d(x, sigma=(0.25 / 0.675) * bandwidth, mode="reflect")


def rolling_variance(r: np.ndarray, window: int) -> np.ndarray:
    return pd.Series(r).rolling(window).var().to_numpy()


def rolling_autocorrelation(r: np.ndarray, window: int) -> np.ndarray:
    """Lag-1 autocorrelation over each trailing window of ``window`` points (its ``window - 1``
    consecutive pairs), as ``pd.Series(window_values).autocorr(1)`` (and ewstools' ``compute_auto``)."""
    s = pd.Series(r)
    return s.rolling(window - 1).corr(s.shift(1)).to_numpy()


def growth(cap: np.ndarray) -> np.ndarray:
    """``diff log cap`` (NaN at the first step and where capability is not positive)."""
    cap = np.asarray(cap, dtype=float)
    g = np.full(cap.size, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        g[1:] = np.diff(np.log(np.where(cap > 0, cap, np.nan)))
    return g


def csd_trends(x: np.ndarray, settings: Settings = Settings()) -> tuple[np.ndarray, np.ndarray]:
    """For every step ``t``: detrend ``x[: t + 1]``, take the rolling variance and lag-1 autocorrelation of
    the residuals, and return the Kendall tau of each over its last ``trend`` values (all of them when
    ``trend`` is 0; NaN while too short)."""
    n = x.size
    var_t, ac_t = np.full(n, np.nan), np.full(n, np.nan)
    finite = np.isfinite(x)
    for t in range(n):
        seen = x[: t + 1][finite[: t + 1]]
        if seen.size < settings.window + MIN_POINTS:
            continue
        r = detrended(seen, settings.bandwidth)
        last = -settings.trend if settings.trend else 0
        var_t[t] = kendall_trend(rolling_variance(r, settings.window)[last:])
        ac_t[t] = kendall_trend(rolling_autocorrelation(r, settings.window)[last:])
    return var_t, ac_t


def _from_best(y: np.ndarray, sign: int) -> np.ndarray:
    if sign < 0:
        top = np.maximum.accumulate(y)
        return np.divide(top - y, top, out=np.zeros_like(y), where=top > 0)
    low, top = np.minimum.accumulate(y), np.maximum.accumulate(y)
    return np.divide(y - low, top - low, out=np.zeros_like(y), where=top > low)


def _change(y: np.ndarray, sign: int, lag: int) -> np.ndarray:
    out = np.full(y.size, np.nan)
    if y.size > lag:
        before = y[:-lag]
        out[lag:] = sign * (y[lag:] - before) / (np.abs(before) + 1e-9)
    return out


def indicators(ts: pd.DataFrame, settings: Settings = Settings()) -> pd.DataFrame:
    """Every indicator of ``settings.indicators`` at every step, each read from the series up to that
    step only (a larger value warns; NaN where it is not yet defined). Columns: ``step`` and the
    indicators."""
    out: dict[str, np.ndarray] = {"step": ts["step"].to_numpy()}
    wanted = set(settings.indicators)
    if wanted & set(CSD):
        var_t, ac_t = csd_trends(growth(ts["cap_mean"].to_numpy()), settings)
        out["variance_trend"], out["autocorrelation_trend"] = var_t, ac_t
    for name, (column, sign, _) in SIGNALS.items():
        y = ts[column].to_numpy(dtype=float) if column in ts else np.full(len(ts), np.nan)
        y = np.nan_to_num(y, nan=0.0)
        out[f"{name}_from_best"] = _from_best(y, sign)
        out[f"{name}_change"] = _change(y, sign, settings.lag)
    return pd.DataFrame({k: out[k] for k in ["step", *settings.indicators]})


def onset(ts: pd.DataFrame) -> int | None:
    """The step at which the run's decline begins (its mean capability's peak) if it declines, else None."""
    d = declined(ts)
    return int(d["peak_step"]) if d["holds"] else None


# -- the combined score -----------------------------------------------------------------------
@dataclass
class WarningModel:
    """The fitted combination: standardised indicators -> logistic regression -> probability of decline
    within ``settings.horizon`` steps; an alarm when it exceeds ``threshold``."""

    settings: Settings
    mean: dict[str, float]
    scale: dict[str, float]
    coef: dict[str, float]
    intercept: float
    threshold: float
    fitted_on: dict[str, Any] = field(default_factory=dict)

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        names = list(self.coef)
        x = frame[names].to_numpy(dtype=float)
        mu = np.array([self.mean[k] for k in names])
        sd = np.array([self.scale[k] for k in names])
        z = np.where(np.isfinite(x), (x - mu) / sd, 0.0)
        eta = self.intercept + z @ np.array([self.coef[k] for k in names])
        return 1.0 / (1.0 + np.exp(-eta))

    def to_json(self) -> str:
        d = {"settings": self.settings.payload(), "mean": self.mean, "scale": self.scale, "coef": self.coef,
             "intercept": self.intercept, "threshold": self.threshold, "fitted_on": self.fitted_on}  # fmt: skip
        return json.dumps(d, indent=1)

    @classmethod
    def from_json(cls, text: str) -> WarningModel:
        d = json.loads(text)
        s = d["settings"]
        settings = Settings(**{**s, "indicators": tuple(s["indicators"])})
        return cls(settings, d["mean"], d["scale"], d["coef"], float(d["intercept"]), float(d["threshold"]),
                   d.get("fitted_on", {}))  # fmt: skip


DEFAULT_MODEL = Path(__file__).with_name("warning_model.json")


def default_model() -> WarningModel:
    """The forecaster shipped with clusterup (fitted by ``clusterup warn --evaluate``; docs/decision.md)."""
    return WarningModel.from_json(DEFAULT_MODEL.read_text(encoding="utf-8"))


@dataclass
class RunWarning:
    """One run's indicators and score per step, its onset of decline (None if none) and its first alarm."""

    label: str
    seed: int
    frame: pd.DataFrame
    onset: int | None
    steps: int
    alarm: int | None = None


def warn_run(ts: pd.DataFrame, model: WarningModel | None = None, *, label: str = "", seed: int = 0,
             settings: Settings | None = None) -> RunWarning:  # fmt: skip
    """A run's indicators (and, with a model, its score and first alarm)."""
    settings = model.settings if model is not None else (settings or Settings())
    frame = indicators(ts, settings)
    r = RunWarning(label, seed, frame, onset(ts), int(ts["step"].iloc[-1]))
    if model is not None:
        frame["score"] = model.score(frame)
        r.alarm = first_alarm(frame, model.threshold, settings)
    return r


def first_alarm(frame: pd.DataFrame, threshold: float, settings: Settings) -> int | None:
    """The first step (from ``settings.start``) whose score exceeds ``threshold``."""
    steps = frame["step"].to_numpy()
    hit = (steps >= settings.start) & (frame["score"].to_numpy() > threshold)
    return int(steps[np.argmax(hit)]) if hit.any() else None


# -- evaluation as a forecaster -----------------------------------------------------------------
def labelled(r: RunWarning, settings: Settings) -> pd.DataFrame:
    """The scored (step, label) pairs of one run: label 1 when its decline begins within the horizon."""
    steps = r.frame["step"].to_numpy()
    keep = steps >= settings.start
    label = np.zeros(len(steps), dtype=int)
    if r.onset is not None:
        keep &= steps < r.onset
        label = ((r.onset - steps) <= settings.horizon).astype(int)
    out = r.frame.loc[keep].copy()
    out["label"] = label[keep]
    return out


def pairs(runs: list[RunWarning], settings: Settings) -> pd.DataFrame:
    frames = []
    for k, r in enumerate(runs):
        lab = labelled(r, settings)
        lab["run"] = k
        frames.append(lab)
    return pd.concat(frames, ignore_index=True)


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """ROC AUC: the probability that a positive scores above a negative (ties count half); NaN scores are
    left out."""
    from scipy.stats import rankdata

    score, label = np.asarray(score, dtype=float), np.asarray(label)
    ok = np.isfinite(score)
    score, label = score[ok], label[ok]
    n_pos, n_neg = int((label == 1).sum()), int((label == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([score[label == 1], score[label == 0]]))
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(score: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False-alarm rate and hit rate at every distinct threshold, from (0, 0) to (1, 1)."""
    score, label = np.asarray(score, dtype=float), np.asarray(label)
    ok = np.isfinite(score)
    order = np.argsort(-score[ok], kind="stable")
    s, y = score[ok][order], label[ok][order]
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tp, fp = np.cumsum(y)[last], np.cumsum(1 - y)[last]
    return np.r_[0.0, fp / max(int((1 - y).sum()), 1)], np.r_[0.0, tp / max(int(y.sum()), 1)]


def threshold_at(score: np.ndarray, label: np.ndarray, false_alarm: float) -> float:
    """The lowest threshold with at most a share ``false_alarm`` of the negatives strictly above it."""
    neg = np.sort(np.asarray(score, dtype=float)[(np.asarray(label) == 0) & np.isfinite(score)])
    if neg.size == 0:
        return float("nan")
    return float(neg[min(int(np.floor((1.0 - false_alarm) * neg.size)), neg.size - 1)])


def fit(runs: list[RunWarning], settings: Settings, fitted_on: dict[str, Any] | None = None) -> WarningModel:
    """Fit the combined score (scikit-learn's logistic regression) and its threshold on training runs."""
    from ..errors import require

    require("sklearn", "decision", "fitting the warning score")
    from sklearn.linear_model import LogisticRegression

    data = pairs(runs, settings)
    names = list(settings.indicators)
    x = data[names].to_numpy(dtype=float)
    mu = np.nanmean(x, axis=0)
    sd = np.nanstd(x, axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    z = np.where(np.isfinite(x), (x - mu) / sd, 0.0)
    y = data["label"].to_numpy()
    lr = LogisticRegression(max_iter=5000).fit(z, y)
    model = WarningModel(settings, dict(zip(names, map(float, mu), strict=True)), dict(zip(names, map(float, sd), strict=True)),
                         dict(zip(names, map(float, lr.coef_[0]), strict=True)), float(lr.intercept_[0]), 0.0,
                         fitted_on or {})  # fmt: skip
    model.threshold = threshold_at(model.score(data), y, settings.false_alarm)
    return model


def summary(runs: list[RunWarning], model: WarningModel) -> dict[str, Any]:
    """How the model forecasts on ``runs``: AUC of each indicator and of the score, false alarms, lead times."""
    settings = model.settings
    for r in runs:
        r.frame["score"] = model.score(r.frame)
        r.alarm = first_alarm(r.frame, model.threshold, settings)
    data = pairs(runs, settings)
    label = data["label"].to_numpy()
    score = data["score"].to_numpy()
    declining = [r for r in runs if r.onset is not None]
    leads = [(r.onset - r.alarm) if r.alarm is not None and r.alarm < r.onset else 0 for r in declining]
    quiet = [r for r in runs if r.onset is None]
    neg = label == 0
    fpr, tpr = roc_curve(score, label)
    return {
        "runs": len(runs),
        "declining_runs": len(declining),
        "pairs": int(len(data)),
        "positive_pairs": int(label.sum()),
        "auc_indicators": {k: auc(data[k].to_numpy(dtype=float), label) for k in settings.indicators},
        "auc": auc(score, label),
        "false_alarm_rate": float((score[neg] > model.threshold).mean()) if neg.any() else float("nan"),
        "declining_runs_alarmed_before_onset": int(sum(lead > 0 for lead in leads)),
        "median_lead_steps": float(np.median(leads)) if leads else float("nan"),
        "median_lead_share_of_run": float(np.median([lead / r.steps for lead, r in zip(leads, declining, strict=True)]))
        if leads else float("nan"),
        "quiet_runs": len(quiet),
        "quiet_runs_with_an_alarm": int(sum(r.alarm is not None for r in quiet)),
        "roc": {"false_alarm": fpr[:: max(1, fpr.size // 200)].round(4).tolist(),
                "hit": tpr[:: max(1, tpr.size // 200)].round(4).tolist()},
    }  # fmt: skip


# -- the evaluation ensemble ------------------------------------------------------------------
# Runs that decline and runs that do not, and a sweep between them: (label, preset, overrides)
ARMS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("baseline", "baseline", {}),
    ("lock-in", "lock-in", {}),
    ("opportunism", "opportunism", {}),
    ("no-integrated", "no-integrated", {}),
    ("policy-institutions", "policy-institutions", {}),
    ("policy-pipelines", "policy-pipelines", {}),
    ("policy-ip-protection", "policy-ip-protection", {}),
    ("baseline appropriability 0.05", "baseline", {"technology.appropriability": 0.05}),
    ("baseline appropriability 0.15", "baseline", {"technology.appropriability": 0.15}),
    ("lock-in + 1 university", "lock-in", {"organisations.universities": 1}),
    ("lock-in knowledge.drift 0.05", "lock-in", {"knowledge.drift": 0.05}),
)


def _simulate(job: tuple[tuple, Settings]) -> RunWarning:
    """Worker side: one run of the ensemble and its indicators (computed where the run was, not after)."""
    from ..simulation import simulate

    (label, preset, overrides, seed, steps, firms), settings = job
    ts = simulate(preset, seed=seed, steps=steps, firms=firms, overrides=overrides).timeseries
    return warn_run(ts, label=label, seed=seed, settings=settings)


def ensemble_jobs(n_seeds: int, base_seed: int, steps: int | None = None, firms: int | None = None) -> list[tuple]:
    from ..rng import replicate_seeds

    return [(label, preset, ov, s, steps, firms) for label, preset, ov in ARMS for s in replicate_seeds(base_seed, n_seeds)]


@dataclass
class Evaluation:
    model: WarningModel
    train: dict[str, Any]
    test: dict[str, Any]
    test_runs: list[RunWarning]

    def payload(self) -> dict[str, Any]:
        return {"settings": self.model.settings.payload(), "fitted_on": self.model.fitted_on,
                "threshold": self.model.threshold, "coef": self.model.coef, "train": self.train, "test": self.test}  # fmt: skip


def evaluate(train: list[RunWarning], test: list[RunWarning], settings: Settings,
             fitted_on: dict[str, Any] | None = None) -> Evaluation:  # fmt: skip
    """Fit the score and threshold on ``train``; measure on ``test``."""
    model = fit(train, settings, fitted_on)
    return Evaluation(model, summary(train, model), summary(test, model), test)


def run_evaluation(n_seeds: int = 16, *, train_seed: int = TRAIN_SEED, test_seed: int = TEST_SEED, workers: int = 2,
                   steps: int | None = None, firms: int | None = None, settings: Settings = Settings(),
                   progress=None) -> Evaluation:  # fmt: skip
    """Run the ensemble of :data:`ARMS` on ``n_seeds`` training and ``n_seeds`` test seeds and evaluate."""
    from ..experiments.executors import make_executor

    jobs = {"train": ensemble_jobs(n_seeds, train_seed, steps, firms), "test": ensemble_jobs(n_seeds, test_seed, steps, firms)}
    total = sum(len(j) for j in jobs.values())
    runs: dict[str, list[RunWarning]] = {"train": [], "test": []}
    done = 0
    with make_executor("local", workers) as ex:
        for part, js in jobs.items():
            for r in ex.map(_simulate, [(j, settings) for j in js]):
                runs[part].append(r)
                done += 1
                if progress:
                    progress(done, total)
    fitted_on = {"arms": [a[0] for a in ARMS], "seeds_per_arm": n_seeds, "train_base_seed": train_seed,
                 "test_base_seed": test_seed, "steps": steps, "firms": firms}  # fmt: skip
    return evaluate(runs["train"], runs["test"], settings, fitted_on)


def figure(ev: Evaluation, example: RunWarning | None = None):
    """ROC curves on the test runs (the score and the best single indicators) and one declining test run
    with its score, threshold, alarm and onset."""
    import matplotlib.pyplot as plt

    from ..plots.style import OKABE_ITO, style_context

    colours = list(OKABE_ITO.values())

    with style_context():
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(10.5, 4.2), constrained_layout=True)
        data = pairs(ev.test_runs, ev.model.settings)
        label = data["label"].to_numpy()
        best = sorted(ev.test["auc_indicators"].items(), key=lambda kv: -(kv[1] if np.isfinite(kv[1]) else 0))[:3]
        curves = [("combined score", data["score"].to_numpy(), ev.test["auc"])]
        curves += [(k.replace("_", " "), data[k].to_numpy(dtype=float), v) for k, v in best]
        for (name, s, a), colour in zip(curves, colours, strict=False):
            fpr, tpr = roc_curve(s, label)
            ax.plot(fpr, tpr, color=colour, lw=2 if name == "combined score" else 1.2, label=f"{name} (AUC {a:.2f})")
        ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls=":")
        ax.axvline(ev.model.settings.false_alarm, color="0.4", lw=0.8, ls="--")
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="false-alarm rate (share of non-declining steps)",
               ylabel="hit rate (share of steps within the horizon)",
               title=f"Decline within {ev.model.settings.horizon} steps: test runs")  # fmt: skip
        ax.legend(loc="lower right", fontsize=8, frameon=False)
        if example is None:
            declining = [r for r in ev.test_runs if r.onset is not None and r.alarm is not None]
            example = declining[0] if declining else ev.test_runs[0]
        score_panel(bx, example, ev.model.threshold)
    return fig


def score_panel(ax, run: RunWarning, threshold: float) -> None:
    """A run's warning score over time with the threshold, its first alarm and (if it declines) the onset."""
    from ..plots.style import OKABE_ITO, legend_outside

    colours = list(OKABE_ITO.values())
    f = run.frame
    ax.plot(f["step"], f["score"], color=colours[0], label="warning score")
    ax.axhline(threshold, color="0.4", lw=0.8, ls="--", label="alarm threshold")
    if run.alarm is not None:
        ax.axvline(run.alarm, color=colours[1], lw=1.2, label=f"first alarm (step {run.alarm})")
    if run.onset is not None:
        ax.axvline(run.onset, color=colours[2], lw=1.2, ls="-.", label=f"onset of decline (step {run.onset})")
    ax.set(ylim=(0, 1), xlabel="step (quarter)", ylabel="probability of decline within the horizon",
           title=f"{run.label}, seed {run.seed}" if run.label else "")  # fmt: skip
    legend_outside(ax)


def run_figure(run: RunWarning, model: WarningModel):
    """One run's warning score (for the report)."""
    import matplotlib.pyplot as plt

    from ..plots.style import style_context

    with style_context():
        fig, ax = plt.subplots(figsize=(7.5, 3.4), constrained_layout=True)
        score_panel(ax, run, model.threshold)
    return fig
