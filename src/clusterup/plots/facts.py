"""The stylised-facts figure: firm sizes against Zipf's law, and the distribution of growth rates."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .style import DOUBLE, OKABE_ITO, house_style, legend_below, new_figure


@house_style
def facts_figure(sizes: list[np.ndarray], growth: np.ndarray) -> Figure:
    """Left: the share of firms larger than each size (complementary CDF of final revenue over the mean, one
    line per seed, log-log) with Zipf's law (slope -1) for reference. Right: the density of annual growth
    rates (log scale) with the normal and the Laplace of the same mean and spread."""
    fig, (a, b) = new_figure(1, 2, figsize=(DOUBLE, 3.4))
    for k, s in enumerate(sizes):
        x = np.sort(np.asarray(s, dtype=float)[np.asarray(s) > 0])[::-1]
        x = x / x.mean()
        a.loglog(x, np.arange(1, x.size + 1) / x.size, color=OKABE_ITO["blue"], alpha=0.35, lw=1,
                 label="model, one line per seed" if k == 0 else None)  # fmt: skip
    xs = np.logspace(0, 1.5, 20)
    a.loglog(xs, 0.3 / xs, color="black", ls="--", lw=1.2, label="Zipf's law (slope -1)")
    a.set_xlabel("firm size (final revenue / mean revenue)")
    a.set_ylabel("share of firms at least this large")
    a.set_title("Firm sizes", loc="left")
    g = np.asarray(growth, dtype=float)
    g = g[np.isfinite(g)]
    lim = float(np.quantile(np.abs(g), 0.999)) or 1.0
    bins = np.linspace(-lim, lim, 81)
    dens, edges = np.histogram(g, bins=bins, density=True)
    mid = 0.5 * (edges[1:] + edges[:-1])
    keep = dens > 0
    b.semilogy(mid[keep], dens[keep], "o", ms=3, color=OKABE_ITO["blue"], label="model")
    sd, mad = g.std(), np.mean(np.abs(g - g.mean()))
    b.semilogy(mid, np.exp(-0.5 * ((mid - g.mean()) / sd) ** 2) / (sd * np.sqrt(2 * np.pi)), color=OKABE_ITO["orange"],
               lw=1.5, label="normal")  # fmt: skip
    b.semilogy(mid, np.exp(-np.abs(mid - g.mean()) / mad) / (2 * mad), color=OKABE_ITO["bluish green"], ls="--", lw=1.5,
               label="Laplace (tent)")  # fmt: skip
    b.set_ylim(max(dens[keep].min() / 3, 1e-4), dens.max() * 3)
    b.set_xlabel("annual growth rate of revenue (log change, demeaned)")
    b.set_ylabel("probability density (log scale)")
    b.set_title("Growth rates", loc="left")
    handles = [h for ax in (a, b) for h in ax.get_legend_handles_labels()[0]]
    legend_below(fig, handles, [str(h.get_label()) for h in handles], ncol=3)
    return fig
