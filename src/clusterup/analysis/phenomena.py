"""Measures of the phenomena that must emerge (model brief, section 6), one function each.

Every function takes recorded time series (``Result.timeseries``) and returns a dict with the
measured quantities and a boolean ``holds``. They read only the record, never a live simulation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

LAYERS = ("social", "economic", "knowledge")


def saturates(ts: pd.DataFrame, tolerance: float = 0.05, floor: float = 0.9) -> dict:
    """*Saturates*: over the last fifth of the run mean capability changes by less than ``tolerance`` (5%),
    and it ends at no less than ``floor`` (90%) of its peak."""
    cap = ts["cap_mean"].to_numpy()
    start = cap[int(0.8 * (len(cap) - 1))]
    change = float(abs(cap[-1] - start) / start) if start > 0 else float("inf")
    end_over_peak = float(cap[-1] / cap.max()) if cap.max() > 0 else 0.0
    return {"last_fifth_change": change, "end_over_peak": end_over_peak,
            "holds": bool(change < tolerance and end_over_peak >= floor)}  # fmt: skip


def declined(ts: pd.DataFrame, capability_fall: float = 0.15, total_floor: float = 0.8) -> dict:
    """*Declines*: mean capability ends at least ``capability_fall`` (15%) below its own peak *and* overall
    capability (``cap_total``) ends below ``total_floor`` (80%) of its peak. Falling behind a growing
    frontier, or a market that shrinks with it, is not decline on its own: the firms' capabilities must
    erode."""
    cap, total = ts["cap_mean"].to_numpy(), ts["cap_total"].to_numpy()
    end_cap = float(cap[-1] / cap.max()) if cap.max() > 0 else 0.0
    end_total = float(total[-1] / total.max()) if total.max() > 0 else 0.0
    return {
        "cap_end_over_peak": end_cap,
        "total_end_over_peak": end_total,
        "peak_step": int(ts["step"].iloc[int(np.argmax(cap))]),
        "holds": bool(end_cap <= 1.0 - capability_fall and end_total < total_floor),
    }


def rigidity_first(ts: pd.DataFrame, fall: float = 0.5) -> dict:
    """Capability rigidity at work: knowledge diversity falls before capability does -- at the step of
    mean capability's peak, diversity is already at most ``fall`` (half) of its highest value before it."""
    cap = ts["cap_mean"].to_numpy()
    div = ts["knowledge_diversity"].to_numpy()
    peak = int(np.argmax(cap))
    top = float(div[: peak + 1].max())
    at_peak = float(div[peak])
    return {"diversity_at_capability_peak": at_peak, "diversity_max_before": top,
            "holds": bool(top > 0 and at_peak <= fall * top)}  # fmt: skip


def lost_rd(ts: pd.DataFrame, share: float = 0.6) -> dict:
    """R&D lost: mean R&D propensity ends below ``share`` (60%) of its peak."""
    rd = ts["rd_mean"].to_numpy()
    end = float(rd[-1] / rd.max()) if rd.max() > 0 else 0.0
    return {"rd_end_over_peak": end, "holds": bool(end < share)}


def mode_mix(ts: pd.DataFrame) -> dict:
    """Phenomenon 1: imitation leads early; local comes before integrated; integrated grows late."""
    n = len(ts)
    steps = ts["step"].to_numpy(dtype=float)
    att = {m: ts[f"attempts_{m}"].to_numpy(dtype=float) for m in ("imitation", "local", "integrated")}
    q = slice(0, max(1, n // 4))
    first_quarter = {m: a[q].sum() for m, a in att.items()}
    imitation_leads = first_quarter["imitation"] > max(first_quarter["local"], first_quarter["integrated"])

    def mean_time(a: np.ndarray) -> float:
        return float((a * steps).sum() / a.sum()) if a.sum() > 0 else float("nan")

    t_local, t_integrated = mean_time(att["local"]), mean_time(att["integrated"])
    total = sum(att.values())
    k = int(round(0.4 * n))

    def share(sl: slice) -> float:
        s = total[sl].sum()
        return float(att["integrated"][sl].sum() / s) if s > 0 else 0.0

    early, late = share(slice(0, k)), share(slice(n - k, n))
    holds = bool(imitation_leads and t_local < t_integrated and late > early)
    return {
        "imitation_leads_first_quarter": bool(imitation_leads),
        "mean_time_local": t_local,
        "mean_time_integrated": t_integrated,
        "integrated_share_first40": early,
        "integrated_share_last40": late,
        "holds": holds,
    }


def gap_cycles(ts: pd.DataFrame, prominence: float = 0.1, smooth: int = 5, spread: float = 0.9) -> dict:
    """Phenomenon 2: the capability gap (CV) has at least two peaks of prominence >= 10% of its range.

    Where the record has the generations (``gen_max``, ``gen_top_share``), it also says why a run has fewer
    peaks, without changing the verdict: ``arrivals`` are the steps at which a new top generation appeared,
    and ``open_at_end`` is true when one appeared after the last peak (or, with no peak, at all) and had not
    reached ``spread`` (90%) of the firms when the run ended: a cycle the end of the run cut off."""
    cv = ts["gap_cv"].rolling(smooth, center=True, min_periods=1).mean().to_numpy()
    rng = cv.max() - cv.min()
    peaks, _ = find_peaks(cv, prominence=prominence * rng if rng > 0 else 1)
    steps = [int(ts["step"].iloc[p]) for p in peaks]
    out: dict = {"peaks": steps, "n_peaks": int(len(peaks))}
    if "gen_max" in ts and "gen_top_share" in ts:
        top = ts["gen_max"].to_numpy()
        arrivals = [int(ts["step"].iloc[i]) for i in np.flatnonzero(np.diff(top) > 0) + 1]
        late = [a for a in arrivals if not steps or a > steps[-1]]
        out["arrivals"] = arrivals
        out["open_at_end"] = bool(late) and float(ts["gen_top_share"].iloc[-1]) < spread
    out["holds"] = bool(len(peaks) >= 2)
    return out


def dominant_layer_spans(ts: pd.DataFrame, min_share: float = 0.05) -> list[tuple[str, int, int]]:
    """Spans (layer, first row, last row) of the layer with the largest strength share.

    Spans shorter than ``min_share`` of the run are merged into the span before them (flicker at a
    crossing is not a regime).
    """
    shares = ts[[f"{layer}_share" for layer in LAYERS]].to_numpy()
    dom = shares.argmax(axis=1)
    spans: list[list[int]] = []
    for t, d in enumerate(dom):
        if spans and spans[-1][0] == d:
            spans[-1][2] = t
        else:
            spans.append([int(d), t, t])
    min_len = max(1, int(np.ceil(min_share * len(ts))))
    merged: list[list[int]] = []
    for s in spans:
        if merged and (s[2] - s[1] + 1 < min_len or merged[-1][0] == s[0]):
            merged[-1][2] = s[2]
        else:
            merged.append(list(s))
    # a short first span is merged forward
    if len(merged) > 1 and merged[0][2] - merged[0][1] + 1 < min_len:
        merged[1][1] = merged[0][1]
        merged.pop(0)
    return [(LAYERS[d], a, b) for d, a, b in merged]


def multiplex_turnover(ts: pd.DataFrame) -> np.ndarray:
    """Tie turnover of the whole multiplex (all layers' ties, tagged by layer, as one set): the
    ``turnover`` column, or the mean of the layers' turnovers for records that lack it."""
    if "turnover" in ts:
        return ts["turnover"].to_numpy()
    return ts[[f"{layer}_turnover" for layer in LAYERS]].to_numpy().mean(axis=1)


def network_regimes(ts: pd.DataFrame, min_share: float = 0.05, window: float = 0.05) -> dict:
    """Phenomenon 3: dominance moves social -> economic -> knowledge (each >= 5% of the run, knowledge
    at the end); mean multiplex tie turnover near a switch (within ``window`` of the run) exceeds that
    inside regimes."""
    spans = dominant_layer_spans(ts, min_share)
    order = [s[0] for s in spans]
    sequence_ok = order == list(LAYERS)
    turnover = multiplex_turnover(ts)
    n = len(ts)
    w = max(1, int(round(window * n)))
    near = np.zeros(n, bool)
    for _, start, _ in spans[1:]:
        near[max(0, start - w) : min(n, start + w + 1)] = True
    near[0] = False
    inside = ~near
    inside[0] = False
    t_near = float(turnover[near].mean()) if near.any() else float("nan")
    t_inside = float(turnover[inside].mean()) if inside.any() else float("nan")
    return {
        "regimes": [{"layer": layer, "start": int(ts["step"].iloc[a]), "end": int(ts["step"].iloc[b])} for layer, a, b in spans],
        "sequence_ok": bool(sequence_ok),
        "turnover_near_switch": t_near,
        "turnover_inside": t_inside,
        "homeostasis": bool(t_near > t_inside),
        "holds": bool(sequence_ok and t_near > t_inside),
    }


def path1_saturates(ts: pd.DataFrame) -> dict:
    """Phenomenon 4: no new generation appears, and the cluster saturates and does not decline."""
    no_new = int(ts["gen_max"].max()) == int(ts["gen_max"].iloc[0])
    sat, dec = saturates(ts), declined(ts)
    return {"new_generation": not no_new, "last_fifth_change": sat["last_fifth_change"],
            "end_over_peak": sat["end_over_peak"], "declined": dec["holds"],
            "holds": bool(no_new and sat["holds"] and not dec["holds"])}  # fmt: skip


def jump(ts: pd.DataFrame, path1: pd.DataFrame, ratio: float = 1.3) -> dict:
    """Phenomenon 5 (first part): a new generation, >= 1.3x the path-1 run's mean capability, no decline."""
    new_gen = int(ts["gen_max"].max()) > int(ts["gen_max"].iloc[0])
    r = float(ts["cap_mean"].iloc[-1] / path1["cap_mean"].iloc[-1])
    dec = declined(ts)["holds"]
    return {"new_generation": new_gen, "ratio_to_path1": r, "declined": dec, "holds": bool(new_gen and r >= ratio and not dec)}


def lock_in_decline(ts: pd.DataFrame, path1: pd.DataFrame) -> dict:
    """Phenomenon 5 (lock-in): the lock-in run declines after its plateau while the path-1 run of the same
    seed does not, and knowledge diversity fell before capability did (rigidity, not the frontier)."""
    dec, rig, p1 = declined(ts), rigidity_first(ts), declined(path1)
    return {"declined": dec["holds"], "cap_end_over_peak": dec["cap_end_over_peak"], "rigidity_first": rig["holds"],
            "path1_declined": p1["holds"], "holds": bool(dec["holds"] and rig["holds"] and not p1["holds"])}  # fmt: skip


def opportunism_decline(ts: pd.DataFrame) -> dict:
    """Phenomenon 5 (opportunism): R&D is lost (mean R&D propensity ends below 60% of its peak) and the
    cluster declines."""
    rd, dec = lost_rd(ts), declined(ts)
    return {"rd_end_over_peak": rd["rd_end_over_peak"], "cap_end_over_peak": dec["cap_end_over_peak"],
            "total_end_over_peak": dec["total_end_over_peak"], "declined": dec["holds"],
            "holds": bool(rd["holds"] and dec["holds"])}  # fmt: skip


def path2(ts: pd.DataFrame, niche: float = 0.2, min_niche: float = 0.1, dip: float = 0.02, rise: float = 1.2) -> dict:
    """Phenomenon 6: an early generation stays a niche (< 20% of firms) for >= 10% of the run while
    the old one grows; once it spreads, mean capability dips >= 2% below its running maximum, then ends
    >= 1.2x above that maximum."""
    g0 = int(ts["gen_max"].iloc[0])
    gmax = ts["gen_max"].to_numpy()
    n = len(ts)
    died = np.flatnonzero(gmax < g0)  # every firm of the early generation exited
    spread = ((gmax > g0) | ((gmax == g0) & (ts["gen_top_share"].to_numpy() >= niche))).copy()
    if died.size:
        spread[died[0] :] = False
    t_star = int(np.argmax(spread)) if spread.any() else n
    if died.size and t_star >= died[0]:
        return {
            "spread_step": None,
            "niche_steps": int(died[0]),
            "niche_ok": False,
            "old_grows": False,
            "died_out": int(ts["step"].iloc[died[0]]),
            "holds": False,
        }
    niche_long = t_star >= min_niche * n
    cap = ts["cap_mean"].to_numpy()
    old_grows = bool(t_star > 1 and cap[: t_star + 1].max() > cap[0] * 1.05)
    if t_star >= n:
        return {"spread_step": None, "niche_steps": n, "holds": False, "niche_ok": bool(niche_long), "old_grows": old_grows}
    peak = cap[: t_star + 1].max()
    after = cap[t_star:]
    trough = after[: int(np.argmax(after >= peak)) or len(after)].min() if (after >= peak).any() else after.min()
    dip_ok = trough <= (1 - dip) * peak
    end_ok = cap[-1] >= rise * peak
    return {
        "spread_step": int(ts["step"].iloc[t_star]),
        "niche_steps": t_star,
        "niche_ok": bool(niche_long),
        "old_grows": old_grows,
        "dip": float(1 - trough / peak),
        "end_over_peak": float(cap[-1] / peak),
        "holds": bool(niche_long and old_grows and dip_ok and end_ok),
    }
