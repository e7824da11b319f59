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


def stages(ts: pd.DataFrame, column: str = "cap_total", window: int = 9, rise: float = 0.2) -> list[str]:
    """A stage label per step from the shape of overall capability.

    formation: before the first take-off; growth: the first S's rise; maturity: flat after a rise;
    decline: falling; renewal: a rise after a maturity (a new S).
    """
    shape = curve_shape(ts[column].to_numpy(), window, rise)
    labels = []
    seen_rise = seen_maturity = False
    rising = np.zeros(len(ts), bool)
    for s in shape.segments:
        rising[s.take_off : (s.saturation if s.saturation is not None else len(ts))] = True
    for t in range(len(ts)):
        if shape.phase[t] == -1 and not rising[t]:
            labels.append("decline")
        elif rising[t]:
            labels.append("renewal" if seen_maturity else "growth")
            seen_rise = True
        elif seen_rise:
            labels.append("maturity")
            seen_maturity = True
        else:
            labels.append("formation")
    return labels


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
    shape = curve_shape(v, window, rise)
    pts: dict[str, int] = {"A": int(steps[0])}
    segs = shape.segments
    declined = v[-1] < decline * v.max()
    if segs:
        s1 = segs[0]
        pts["B"], pts["C"] = int(steps[s1.take_off]), int(steps[s1.inflection])
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

    Decline (both ``cap_total`` and ``cap_rel_frontier`` end below 80% of their peaks) is opportunism
    when mean R&D propensity ended below ``rd_fall`` of its peak while knowledge stayed diverse, lock-in
    otherwise (knowledge homogenised to under half its initial diversity, or R&D held). A run that reached a
    higher generation is path 2 when that generation was born before the first plateau (point F) and
    stayed a niche (under 20% of firms) for at least 10% of the run, upgrade otherwise. A run with no new
    generation is saturation.
    """
    from .phenomena import declined

    points = points if points is not None else path_points(ts)
    if declined(ts)["holds"]:
        rd = ts["rd_mean"].to_numpy()
        div = ts["knowledge_diversity"].to_numpy()
        homogenised = div[-1] < 0.5 * div[0]
        return "decline-opportunism" if rd[-1] < rd_fall * rd.max() and not homogenised else "decline-lock-in"
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
