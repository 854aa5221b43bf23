"""Drawing of forensic results (matplotlib, Agg backend); each function returns PNG bytes.

Drawing is apart from logic: these functions only read result objects."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from pollwatch.forensics.fingerprint import Fingerprint
from pollwatch.forensics.shpilkin import ShpilkinResult

__all__ = ["plot_fingerprint", "plot_percent_histogram", "plot_shpilkin"]


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def plot_fingerprint(fp: Fingerprint, *, title: str = "Election fingerprint") -> bytes:
    """The 2D histogram, turnout on x and winner share on y, logarithmic colour scale."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    counts = np.where(fp.counts > 0, fp.counts, np.nan).T
    positive = fp.counts[fp.counts > 0]
    norm = LogNorm(vmin=positive.min(), vmax=positive.max()) if positive.size else None
    mesh = ax.pcolormesh(
        fp.turnout_edges * 100, fp.share_edges * 100, counts, cmap="viridis", norm=norm
    )
    fig.colorbar(mesh, ax=ax, label=fp.weighted_by)
    ax.set_xlabel("turnout, %")
    ax.set_ylabel("winner's share, %")
    ax.set_title(f"{title} ({fp.stations:,} stations)")
    return _png(fig)


def plot_shpilkin(result: ShpilkinResult, *, title: str = "Votes by turnout") -> bytes:
    """The winner's and the others' votes per turnout bin, and the winner's votes expected
    from the clean ratio above the peak (the shaded gap is the anomalous votes)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    x = result.bin_edges[:-1] * 100
    ax.plot(x, result.winner_by_bin, label="winner", color="tab:red")
    ax.plot(x, result.others_by_bin, label="other candidates", color="tab:blue")
    if result.applicable:
        expected = result.expected_by_bin()
        ax.plot(x, expected, label="winner, clean ratio", color="tab:red", linestyle="--")
        ax.fill_between(x, expected, result.winner_by_bin, color="tab:red", alpha=0.2)
        ax.axvline(result.peak_turnout * 100, color="grey", linestyle=":")
        subtitle = f"anomalous votes ≈ {result.statistic:,.0f}"
    else:
        subtitle = f"not applicable: {result.reason}"
    ax.set_xlabel("turnout, %")
    ax.set_ylabel("votes")
    ax.set_title(f"{title}: {subtitle}")
    ax.legend()
    return _png(fig)


def plot_percent_histogram(
    values: np.ndarray,
    *,
    title: str = "Turnout",
    step: float = 0.1,
    marks: Sequence[float] = (),
) -> bytes:
    """Histogram of percentages (0..100) in `step`-point bins: integer peaks show as spikes;
    `marks` (percentages, e.g. the integer peaks found) get a red triangle above the bars."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    fig, ax = plt.subplots(figsize=(8, 3))
    counts, edges = np.histogram(v, bins=np.arange(0, 100 + step, step) - step / 2)
    ax.stairs(counts, edges, fill=True, color="black")
    if len(marks):
        top = counts.max() if counts.size else 1
        ax.plot(marks, np.full(len(marks), top * 1.05), "v", color="tab:red", markersize=5)
        ax.set_ylim(0, top * 1.12)
    ax.set_xlim(0, 100)
    ax.set_xlabel("%")
    ax.set_ylabel("stations")
    ax.set_title(title)
    return _png(fig)
