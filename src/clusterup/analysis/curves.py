"""Shape analysis of an overall-capability curve: stages, the path points A-L and the path class.

Growth is the centred, smoothed change of capability per step (its level, so that a logistic's
growth peaks at its inflection). A step is *rising* where growth exceeds ``rise`` x the largest growth
*in its neighbourhood* (a centred window of an eighth of the run, at least 21 steps: successive S-curves
of very different size are each judged on their own scale) and ``floor`` (8%) of the run's largest
growth; *falling* where it is below ``-rise`` x the run's largest growth; *flat* otherwise. Rising
spans are the S-curves' steep parts; each S gives a take-off (first rising step), an inflection
(largest growth) and a saturation (first step after the rising span).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

STAGES = ("formation", "growth", "maturity", "decline", "renewal")


@dataclass
class Segment:
    take_off: int
    inflection: int
    saturation: int | None  # None: still rising at the end


@dataclass
class CurveShape:
    growth: np.ndarray
    phase: np.ndarray  # +1 rising, 0 flat, -1 falling
    segments: list[Segment] = field(default_factory=list)


def smoothed_growth(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average of the first difference."""
    v = np.asarray(values, dtype=float)
    diff = np.diff(v, prepend=v[0])
    return pd.Series(diff).rolling(window, center=True, min_periods=1).mean().to_numpy()


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) inclusive of each run of True."""
    out, start = [], None
    for t, m in enumerate(mask):
        if m and start is None:
            start = t
        elif not m and start is not None:
            out.append((start, t - 1))
            start = None
    if start is not None:
        out.append((start, len(mask) - 1))
    return out


def curve_shape(
    values: np.ndarray, window: int = 9, rise: float = 0.2, min_len: int = 3, merge_gap: int = 3, floor: float = 0.08
) -> CurveShape:
    g = smoothed_growth(values, window)
    top = g.max() if g.max() > 0 else 1.0
    span = max(21, len(g) // 8)
    local_top = pd.Series(np.maximum(g, 0)).rolling(span, center=True, min_periods=1).max().to_numpy()
    rising = (g > rise * local_top) & (g > floor * top)
    phase = np.where(rising, 1, np.where(g < -rise * top, -1, 0))
    spans = [s for s in _runs(phase == 1)]
    merged: list[list[int]] = []
    for a, b in spans:  # rising spans separated by a short lull are one S
        if merged and a - merged[-1][1] - 1 <= merge_gap:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    segments = []
    n = len(values)
    for a, b in merged:
        if b - a + 1 < min_len:
            continue
        peak = a + int(np.argmax(g[a : b + 1]))
        segments.append(Segment(take_off=a, inflection=peak, saturation=b + 1 if b + 1 < n else None))
    return CurveShape(growth=g, phase=phase, segments=segments)


MIN_SPAN = 0.05  # no stage span is shorter than this share of the run
PLATEAU = 0.1  # a flat span is a plateau (maturity) only while smoothed capability moves less than 10% over it
FALL = 0.05  # falling: smoothed capability drops by more than 5% over a window of the minimum span


def _scaled(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """The curve as analysed: its level, or its logarithm where it spans more than two orders of magnitude
    (a long run climbing many generations is judged by its relative growth, not by its last generation)."""
    v = np.asarray(values, dtype=float)
    pos = v[v > 0]
    if pos.size and pos.max() > 100 * pos.min():
        return np.log(np.maximum(v, pos.min())), True
    return v, False


def _spans(labels: np.ndarray) -> list[list[int]]:
    """[start, end, value] of each run of equal values (end inclusive)."""
    out: list[list[int]] = []
    for t, x in enumerate(labels):
        if out and out[-1][2] == x:
            out[-1][1] = t
        else:
            out.append([t, t, int(x)])
    return out


def _absorb_short(phase: np.ndarray, min_len: int) -> np.ndarray:
    """Relabel runs shorter than ``min_len``, shortest first, as the longer of their neighbours."""
    phase = phase.copy()
    while True:
        spans = _spans(phase)
        short = [k for k, (a, b, _) in enumerate(spans) if b - a + 1 < min_len]
        if not short or len(spans) == 1:
            return phase
        k = min(short, key=lambda k: spans[k][1] - spans[k][0])
        a, b, _ = spans[k]
        nbrs = [spans[m] for m in (k - 1, k + 1) if 0 <= m < len(spans)]
        phase[a : b + 1] = max(nbrs, key=lambda sp: sp[1] - sp[0])[2]


def stage_phases(ts: pd.DataFrame, column: str = "cap_total", window: int = 9, rise: float = 0.2,
                 min_share: float = MIN_SPAN) -> np.ndarray:  # fmt: skip
    """+1 rising, 0 flat (a plateau), -1 falling per step, after the stage rules (docs/ODD.md)."""
    raw = np.asarray(ts[column].to_numpy(), dtype=float)
    n = len(raw)
    min_len = max(3, int(np.ceil(min_share * n)))
    v, logged = _scaled(raw)
    shape = curve_shape(v, window, rise)
    phase = np.zeros(n, dtype=int)
    for sg in shape.segments:
        phase[sg.take_off : (sg.saturation if sg.saturation is not None else n)] = 1
    smooth = pd.Series(v).rolling(max(window, min_len), center=True, min_periods=1).mean().to_numpy()
    h = max(1, min_len // 2)
    ahead, behind = smooth[np.minimum(np.arange(n) + h, n - 1)], smooth[np.maximum(np.arange(n) - h, 0)]
    change = ahead - behind if logged else (ahead - behind) / np.maximum(np.abs(behind), 1e-300)
    fall = np.log(1 - FALL) if logged else -FALL
    falling = change < fall
    mean = None
    if column == "cap_total" and "cap_mean" in ts:  # decline is erosion of the firms' capability, not only of their number
        mean = pd.Series(np.asarray(ts["cap_mean"], dtype=float)).rolling(max(window, min_len), center=True,
                                                                          min_periods=1).mean().to_numpy()  # fmt: skip
        m_ahead, m_behind = mean[np.minimum(np.arange(n) + h, n - 1)], mean[np.maximum(np.arange(n) - h, 0)]
        falling &= m_ahead < (1 - FALL / 2) * m_behind
    phase[falling & (phase != 1)] = -1
    phase = _absorb_short(phase, min_len)
    light = pd.Series(v).rolling(window, center=True, min_periods=1).mean().to_numpy()  # for a span's own change
    if mean is not None:
        mean = pd.Series(np.asarray(ts["cap_mean"], dtype=float)).rolling(window, center=True, min_periods=1).mean().to_numpy()
    for _ in range(3):  # a "flat" span that moves by more than PLATEAU is no plateau
        changed = False
        for a, b, x in _spans(phase):
            if x != 0:
                continue
            trim = min_len // 4 if b - a + 1 > 2 * min_len else 0  # the span's interior: its ends touch the next S
            lo, hi = light[a + trim], light[b - trim]
            rel = (hi - lo) if logged else (hi - lo) / max(abs(lo), 1e-300)
            up, down = (np.log(1 + PLATEAU), np.log(1 - PLATEAU)) if logged else (PLATEAU, -PLATEAU)
            if rel < down and (mean is None or mean[b] < (1 - PLATEAU / 2) * mean[a]):
                phase[a : b + 1], changed = -1, True
            elif rel * min_len / (b - a + 1) > up:  # rising by more than 10% per minimum span: no plateau
                phase[a : b + 1], changed = 1, True
        if not changed:
            break
        phase = _absorb_short(phase, min_len)
    return phase


def stages(ts: pd.DataFrame, column: str = "cap_total", window: int = 9, rise: float = 0.2,
           min_share: float = MIN_SPAN) -> list[str]:  # fmt: skip
    """A stage label per step from the shape of overall capability (rules in docs/ODD.md, section 7.16).

    Each step is rising (the steep part of an S), falling (smoothed capability drops by more than 5% over a
    window of the minimum span; for ``cap_total``, mean capability must fall by half as much too) or flat;
    runs shorter than ``min_share`` of the run (at least 3 steps) are absorbed by the longer neighbour; a
    flat span over which smoothed capability falls by more than 10% is no plateau but a decline, one over
    which it rises by more than 10% per minimum span is a rise. Labels: formation (flat before the first
    rise), growth (the first rise), maturity (a plateau after a rise or a decline), decline (falling), renewal (a rise after a
    maturity or a decline).
    """
    phase = stage_phases(ts, column, window, rise, min_share)
    labels: list[str] = []
    seen_rise = seen_after = False
    for x in phase:
        if x == -1:
            labels.append("decline")
            seen_after = seen_after or seen_rise
        elif x == 1:
            labels.append("renewal" if seen_after else "growth")
            seen_rise = True
        elif seen_rise:
            labels.append("maturity")
            seen_after = True
        else:
            labels.append("formation")
    return labels


POINT_MEANINGS = {
    "A": "start",
    "B": "take-off of the first S-curve",
    "C": "inflection of the first S-curve",
    "D": "saturation of the first S-curve (first plateau)",
    "E": "end of a run that stays on its first plateau",
    "F": "a higher generation appears before the first S-curve saturates (path 2)",
    "G": "take-off of the second S-curve (the jump)",
    "H": "inflection of the second S-curve",
    "I": "saturation of the second S-curve",
    "J": "end of a run that upgraded",
    "K": "end of a decline from the first plateau (D-K)",
    "L": "end of a decline from the second plateau (I-L)",
}
"""What each of the points A-L of Ji & Hu's Figure 2 marks (:func:`path_points` locates them)."""


def path_points(
    ts: pd.DataFrame, column: str = "cap_total", window: int = 9, rise: float = 0.2, decline: float = 0.8
) -> dict[str, int]:
    """The points of the paper's Figure 2 located on the curve (step numbers).

    A start; B, C, D take-off, inflection and saturation of the first S; E the end of a run that stays
    on its plateau; G, H, I of the second S (the jump); J the end of a run that upgraded; F the step a
    higher generation first appears before the first S saturates (path 2); K the end of a decline from
    the first plateau (D-K), L from the second (I-L). Points that do not occur are absent.
    """
    v = ts[column].to_numpy()
    steps = ts["step"].to_numpy()
    growth = smoothed_growth(_scaled(v)[0], window)
    phase = stage_phases(ts, column, window, rise)
    n = len(v)
    segs = []  # the S-curves are the rising spans of the stages, so that points and stages agree
    for a, b, x in _spans(phase):
        if x == 1:
            segs.append(Segment(take_off=a, inflection=a + int(np.argmax(growth[a : b + 1])),
                                saturation=b + 1 if b + 1 < n else None))  # fmt: skip
    pts: dict[str, int] = {"A": int(steps[0])}
    if column == "cap_total" and "cap_mean" in ts:  # as in the validation: the firms' capability erodes too
        from .phenomena import declined as _declined

        declined = _declined(ts)["holds"]
    else:
        declined = v[-1] < decline * v.max()
    if segs:
        s1 = segs[0]
        take_off = s1.take_off
        if take_off == 0:  # rising from the start: the take-off is where it has visibly left its start (+10%)
            up = np.flatnonzero(v[1:] >= 1.1 * v[0]) + 1 if v[0] > 0 else np.array([1])
            take_off = int(min(up[0] if up.size else 1, max(s1.inflection, 1)))
        pts["B"], pts["C"] = int(steps[take_off]), int(steps[max(s1.inflection, take_off)])
        if s1.saturation is not None:
            pts["D"] = int(steps[s1.saturation])
    if len(segs) > 1:
        s2 = segs[1]
        pts["G"], pts["H"] = int(steps[s2.take_off]), int(steps[s2.inflection])
        if s2.saturation is not None:
            pts["I"] = int(steps[s2.saturation])
    if "gen_max" in ts:
        g = ts["gen_max"].to_numpy()
        born = np.flatnonzero(g > g[0])
        first_new = int(born[0]) if born.size else None
        if g[0] > 0 and "gen_top_share" in ts and ts["gen_top_share"].iloc[0] < 0.2:
            first_new = 0  # a few firms start a generation ahead (path 2)
        if first_new is not None and ("D" not in pts or steps[first_new] < pts["D"]):
            pts["F"] = int(steps[first_new])
    end = int(steps[-1])
    if declined:
        pts["L" if "I" in pts else "K"] = end
    elif len(segs) > 1:
        pts["J"] = end
    elif "D" in pts:
        pts["E"] = end
    return pts


def path_class(ts: pd.DataFrame, points: dict[str, int] | None = None, rd_fall: float = 0.6) -> str:
    """saturation | upgrade | path2 | decline-lock-in | decline-opportunism.

    Decline (:func:`~clusterup.analysis.phenomena.declined`: mean capability ends 15% or more below its peak and
    ``cap_total`` below 80% of its peak) is opportunism when mean R&D propensity ended below ``rd_fall`` of its
    peak already at the step of mean capability's peak (R&D was lost first: free riding), lock-in otherwise
    (R&D held while capability eroded: rigidity). A run that reached a
    higher generation is path 2 when that generation was born before the first plateau (point F) and
    stayed a niche (under 20% of firms) for at least 10% of the run, upgrade otherwise. A run with no new
    generation is saturation.
    """
    from .phenomena import declined

    points = points if points is not None else path_points(ts)
    if declined(ts)["holds"]:
        rd, cap = ts["rd_mean"].to_numpy(), ts["cap_mean"].to_numpy()
        rd_first = rd[int(np.argmax(cap))] < rd_fall * rd.max()  # R&D was lost before capability peaked
        return "decline-opportunism" if rd_first else "decline-lock-in"
    g = ts["gen_max"].to_numpy()
    top_share = ts["gen_top_share"].to_numpy()
    seeded = g[0] > 0 and top_share[0] < 0.2
    if g.max() == g[0] and not seeded:
        return "saturation"
    if "F" in points:
        start = int(np.searchsorted(ts["step"].to_numpy(), points["F"]))
        niche = (top_share[start:] < 0.2) & (g[start:] == g[start])
        if niche.sum() >= 0.1 * len(ts):
            return "path2"
    return "upgrade"
