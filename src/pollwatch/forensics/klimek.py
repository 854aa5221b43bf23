"""The fraud model of Klimek, Yegorov, Hanel & Thurner (PNAS 109(41) 2012).

Clean model: each station i with N_i registered voters has turnout a_i ~ N(ā, σ_a) and winner
share v_i ~ N(v̄, σ_v) (truncated to [0, 1]); the winner gets round(N a v) votes, the others
round(N a (1 − v)). Fraud: with probability f_i a station suffers *incremental* fraud with
intensity x ~ |N(0, σ_x)| (truncated below 1), with probability f_e *extreme* fraud with
x = 1 − |N(0, 0.075)|; a fraction x of the non-voters is added to the winner (ballot stuffing)
and a fraction x^α of the other candidates' votes is moved to the winner (vote stealing).

Fit (as in the paper and its Matlab code, ported to R in Mebane & Egami's Election Forensics
Toolkit): ā, v̄ are the modes of the stations' turnout and share distributions (the lowest mode
reaching half of the highest; 1 % bins, 3-bin moving average) and σ_a, σ_v the root mean
square deviation of the stations below the mode; f_i ∈ [0, 1] (step 0.01) and f_e ∈ [0, 0.1]
(step 0.002) minimise the squared difference between the model's and the data's 2D histogram
of turnout × winner share (1 % bins, stations counted), the model averaged over `reps`
simulations with common random numbers. The shape of the fraud (σ_x, α), which the paper
leaves to the analyst, is fitted on a grid by the same least squares unless given.

Confidence intervals: percentile bootstrap over stations: the data's histogram is resampled
and refitted over every fraud shape of the second search stage, keeping the best, so the
interval covers the fingerprint's sampling noise and the choice of fraud shape; the model's
clean parameters and realisations are held fixed. `shape_fits` shows how f_i and f_e move
with the fraud shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import ndtr, ndtri

__all__ = ["KlimekResult", "klimek_fit", "mode_and_left_sd"]

F_E_STEP, F_E_MAX = 0.002, 0.1
F_I_STEP = 0.01
ALPHAS = (1.0, 2.0, 3.0)
SIGMAS = (0.2, 0.3, 0.4, 0.5, 0.6)
SIGMA_STEPS = (-0.05, -0.025, 0.0, 0.025, 0.05)
ALPHA_STEPS = (-0.5, 0.0, 0.5)
EXTREME_SD = 0.075
_BLOCKS = round(1 / F_E_STEP)
_FI_BLOCKS = round(F_I_STEP / F_E_STEP)
_BOOT_CHUNK = 8


@dataclass(frozen=True)
class KlimekResult:
    """Fitted incremental (`f_i`) and extreme (`f_e`) fraud rates, the fraud shape, the clean
    model, the bootstrap replicates and the fit of every fraud shape tried."""

    f_i: float
    f_e: float
    alpha: float
    sigma_x: float
    turnout_mean: float
    turnout_sd: float
    share_mean: float
    share_sd: float
    sse: float
    stations: int
    boot_f_i: np.ndarray
    boot_f_e: np.ndarray
    shape_fits: pd.DataFrame

    @property
    def statistic(self) -> tuple[float, float]:
        return (self.f_i, self.f_e)

    def ci(self, confidence: float = 0.95) -> tuple[tuple[float, float], tuple[float, float]]:
        """Percentile bootstrap intervals ((f_i low, high), (f_e low, high))."""
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {confidence}")
        if len(self.boot_f_i) == 0:
            nan = (float("nan"), float("nan"))
            return nan, nan
        q = [(1 - confidence) / 2, (1 + confidence) / 2]
        lo_i, hi_i = np.quantile(self.boot_f_i, q)
        lo_e, hi_e = np.quantile(self.boot_f_e, q)
        return (float(lo_i), float(hi_i)), (float(lo_e), float(hi_e))


def mode_and_left_sd(x: np.ndarray, lo: float = 0.02, hi: float = 0.95) -> tuple[float, float]:
    """The mode of `x` (1 % bins as in Klimek et al.'s code, 3-bin moving average, the lowest
    local maximum in [lo, hi) that reaches half of the highest; the bin's centre) and the RMS
    deviation from it of the values below it."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 10:
        raise ValueError("need at least 10 values to find a mode")
    counts = np.bincount(np.clip((x * 100).astype(np.int64), 0, 99), minlength=100)
    smooth = np.convolve(counts, np.ones(3) / 3, mode="same")
    first, last = int(lo * 100), int(hi * 100)
    window = smooth[first:last]
    is_max = np.r_[False, (window[1:-1] >= window[:-2]) & (window[1:-1] > window[2:]), False]
    peaks = np.flatnonzero(is_max & (window >= 0.5 * window.max()))
    k = first + (int(peaks[0]) if len(peaks) else int(np.argmax(window)))
    mode = (k + 0.5) / 100
    left = x[x < mode]
    sd = float(np.sqrt(np.mean((left - mode) ** 2))) if len(left) else 0.01
    return mode, max(sd, 1e-3)


def _truncnorm(rng: np.random.Generator, mean: float, sd: float, size: int) -> np.ndarray:
    x = rng.normal(mean, sd, size)
    bad = (x < 0) | (x > 1)
    while bad.any():
        x[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = (x < 0) | (x > 1)
    return x


@dataclass(frozen=True)
class _Draws:
    """Common random numbers of one model realisation."""

    winner: np.ndarray
    others: np.ndarray
    block: np.ndarray
    w_inc: np.ndarray
    z_ext: np.ndarray


def _draws(
    n: np.ndarray, clean: tuple[float, float, float, float], rng: np.random.Generator
) -> _Draws:
    a = _truncnorm(rng, clean[0], clean[1], len(n))
    v = _truncnorm(rng, clean[2], clean[3], len(n))
    u = rng.random(len(n))
    return _Draws(
        winner=np.round(n * a * v),
        others=np.round(n * a * (1 - v)),
        block=np.minimum((u * _BLOCKS).astype(np.int64), _BLOCKS - 1),
        w_inc=rng.random(len(n)),
        z_ext=np.abs(rng.normal(0.0, 1.0, len(n))),
    )


def _bins(n: np.ndarray, winner: np.ndarray, others: np.ndarray, bins: int) -> np.ndarray:
    cast = winner + others
    t = np.minimum((cast / n * bins).astype(np.int64), bins - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(cast > 0, winner / np.maximum(cast, 1), 0.0)
    return t * bins + np.minimum((s * bins).astype(np.int64), bins - 1)


def _defraud(d: _Draws, n: np.ndarray, x: np.ndarray, alpha: float, bins: int) -> np.ndarray:
    stolen = np.round(x**alpha * d.others)
    stuffed = np.floor(x * (n - d.winner - d.others))
    return _bins(n, d.winner + stuffed + stolen, d.others - stolen, bins)


def _cumulative_norms(sparse_rows: sparse.csr_matrix) -> np.ndarray:
    """|Σ_{j<k} row_j|² for k = 0 .. rows: entries sorted by (cell, row), each adds
    2·(the cell's value just before it) + its square."""
    coo = sparse_rows.tocoo()
    row, cell, delta = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    order = np.lexsort((row, cell))
    row, cell, delta = row[order], cell[order], delta[order]
    total = np.cumsum(delta) - delta
    first = np.r_[True, cell[1:] != cell[:-1]] if len(cell) else np.zeros(0, dtype=bool)
    base = np.maximum.accumulate(np.where(first, np.arange(len(cell)), 0))
    before = total - total[base]
    step = np.bincount(row, weights=2 * before * delta + delta**2, minlength=sparse_rows.shape[0])
    return np.r_[0.0, np.cumsum(step)]


@dataclass(frozen=True)
class _Surface:
    """SSE(f_e, f_i) = |A_e + R_k|², k = e + f_i blocks, where A_e = Σ_{j<e} E_j with
    E_j = Ext_j − Inc_j, and R_k = R_0 + Σ_{j<k} D_j with D_j = Inc_j − Clean_j and
    R_0 = Clean − O; the per-block histograms E_j, D_j are sparse. Expanded:
    |A_e|² + |R_0|² + 2 Σ_{j<k} D_j·R_0 + |Σ_{j<k} D_j|² + 2 Σ_{j<e} E_j·R_0
    + 2 Σ_{j<e} Σ_{i<k} E_j·D_i, where only the R_0 terms depend on the data."""

    total: np.ndarray
    e_mat: sparse.csr_matrix
    d_mat: sparse.csr_matrix
    aa: np.ndarray
    dd: np.ndarray
    cross: np.ndarray

    def best(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Best (f_i, f_e, sse) for each column of `obs` (cells × replicates)."""
        r0 = self.total[:, None] - obs
        rr = np.empty((self.dd.shape[0], obs.shape[1]))
        rr[0] = np.einsum("ij,ij->j", r0, r0)
        np.cumsum(2 * np.asarray(self.d_mat @ r0), axis=0, out=rr[1:])
        rr[1:] += rr[0]
        rr += self.dd[:, None]
        n_e = self.aa.shape[0]
        lin = np.zeros((n_e, obs.shape[1]))
        np.cumsum(np.asarray(self.e_mat @ r0), axis=0, out=lin[1:])
        e = np.arange(n_e)[:, None]
        k = e + _FI_BLOCKS * np.arange(round(1 / F_I_STEP) + 1)[None, :]
        valid = k <= _BLOCKS
        k = np.minimum(k, _BLOCKS)
        sse = (self.aa[:, None] + 2 * self.cross[e, k])[..., None] + rr[k] + 2 * lin[:, None, :]
        sse[~valid] = np.inf
        flat = sse.reshape(-1, sse.shape[-1])
        idx = np.argmin(flat, axis=0)
        ie, ii = np.unravel_index(idx, valid.shape)
        return ii * F_I_STEP, ie * F_E_STEP, flat[idx, np.arange(flat.shape[1])]


def _surface(
    n: np.ndarray,
    draws: list[_Draws],
    clean_cells: list[np.ndarray],
    alpha: float,
    sigma_x: float,
    bins: int,
) -> _Surface:
    cells = bins * bins
    n_e = round(F_E_MAX / F_E_STEP) + 1
    cap = float(2 * ndtr(1 / sigma_x) - 1)  # P(|N(0, σ_x)| < 1)
    w = 1.0 / len(draws)
    e_rows, e_cols, e_vals, r_cells, r_vals, r_blocks, totals = [], [], [], [], [], [], []
    for d, clean in zip(draws, clean_cells, strict=True):
        x_inc = sigma_x * ndtri(0.5 + 0.5 * d.w_inc * cap)  # |N(0, σ_x)| truncated below 1
        x_ext = np.clip(1 - EXTREME_SD * d.z_ext, 0, 1)
        inc = _defraud(d, n, x_inc, alpha, bins)
        ext = _defraud(d, n, x_ext, alpha, bins)
        totals.append(np.bincount(clean, minlength=cells) * w)
        r_blocks += [d.block, d.block]
        r_cells += [inc, clean]
        r_vals += [np.full(len(n), w), np.full(len(n), -w)]
        early = d.block < n_e - 1
        e_rows += [d.block[early], d.block[early]]
        e_cols += [ext[early], inc[early]]
        e_vals += [np.full(early.sum(), w), np.full(early.sum(), -w)]
    e_mat = sparse.csr_matrix(
        (np.concatenate(e_vals), (np.concatenate(e_rows), np.concatenate(e_cols))),
        shape=(n_e - 1, cells),
    )
    d_mat = sparse.csr_matrix(
        (np.concatenate(r_vals), (np.concatenate(r_blocks), np.concatenate(r_cells))),
        shape=(_BLOCKS, cells),
    )
    for mat in (d_mat, e_mat):
        mat.sum_duplicates()
        mat.eliminate_zeros()
    # A_e · (R_k − R_0) = Σ_{j<e} Σ_{i<k} E_j · D_i
    m = (e_mat @ d_mat.T).toarray()
    cross = np.zeros((n_e, _BLOCKS + 1))
    cross[1:, 1:] = m.cumsum(axis=0).cumsum(axis=1)
    return _Surface(
        total=np.sum(totals, axis=0),
        e_mat=e_mat,
        d_mat=d_mat,
        aa=_cumulative_norms(e_mat),
        dd=_cumulative_norms(d_mat),
        cross=cross,
    )


def _search(
    n: np.ndarray,
    clean: tuple[float, float, float, float],
    shapes: list[tuple[float, float]],
    reps: int,
    rng: np.random.Generator,
    obs: np.ndarray,
    bins: int,
    keep: bool = True,
) -> tuple[list[dict[str, float]], list[_Surface]]:
    """Fit f_i, f_e for every fraud shape on one set of `reps` model realisations (and keep
    the fitted surfaces for the bootstrap)."""
    draws = [_draws(n, clean, rng) for _ in range(reps)]
    clean_cells = [_bins(n, d.winner, d.others, bins) for d in draws]
    norm = float(obs.sum()) ** 2
    rows: list[dict[str, float]] = []
    surfaces: list[_Surface] = []
    for a_, s_ in shapes:
        surface = _surface(n, draws, clean_cells, a_, s_, bins)
        fi, fe, sse = surface.best(obs)
        rows.append({"alpha": a_, "sigma_x": s_, "f_i": fi[0], "f_e": fe[0], "sse": sse[0] / norm})
        if keep:
            surfaces.append(surface)
    return rows, surfaces


def _boot(
    surfaces: list[_Surface],
    obs_cell: np.ndarray,
    cells: int,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """f_i, f_e of `n_boot` station resamples, each refitted over every fraud shape."""
    out_i, out_e = np.empty(n_boot), np.empty(n_boot)
    for start in range(0, n_boot, _BOOT_CHUNK):
        size = min(_BOOT_CHUNK, n_boot - start)
        boot = np.empty((cells, size))
        for b in range(size):
            pick = rng.integers(0, len(obs_cell), size=len(obs_cell))
            boot[:, b] = np.bincount(obs_cell[pick], minlength=cells)
        fits = [surface.best(boot) for surface in surfaces]
        sse = np.stack([f[2] for f in fits])
        which = np.argmin(sse, axis=0)
        cols = np.arange(size)
        out_i[start : start + size] = np.stack([f[0] for f in fits])[which, cols]
        out_e[start : start + size] = np.stack([f[1] for f in fits])[which, cols]
    return out_i, out_e


def _refined(best: dict[str, float], alpha: float | None, sigma_x: float | None) -> list:
    """The fine grid around the coarse stage's best shape."""
    a0, s0 = best["alpha"], best["sigma_x"]
    sigmas = [s0] if sigma_x is not None else [s0 + d for d in SIGMA_STEPS if 0 < s0 + d <= 2]
    alphas = [a0] if alpha is not None else [a0 + d for d in ALPHA_STEPS if a0 + d > 0]
    shapes = [(a0, round(s_, 4)) for s_ in sigmas]
    return shapes + [(round(a_, 4), s0) for a_ in alphas if a_ != a0]


def klimek_fit(
    registered: np.ndarray,
    ballots_issued: np.ndarray,
    ballots_cast: np.ndarray,
    winner_votes: np.ndarray,
    *,
    alpha: float | None = None,
    sigma_x: float | None = None,
    n_boot: int = 100,
    reps: int = 4,
    bins: int = 100,
    seed: int | np.random.Generator | None = None,
) -> KlimekResult:
    """Fit f_i and f_e of the Klimek et al. fraud model (see the module docstring).

    Stations need registered > 0 and ballots cast > 0. The fraud shape (`alpha`, `sigma_x`,
    each fitted when None) is searched in two stages: the grid ALPHAS × SIGMAS on 2 model
    realisations, then, on `reps` fresh realisations, σ_x ± SIGMA_STEPS and α ± ALPHA_STEPS
    around the best; the best of the second stage is reported. `n_boot` bootstrap replicates
    (0: none)."""
    arrays = [np.asarray(x, dtype=float) for x in (registered, ballots_issued, ballots_cast)]
    winner = np.asarray(winner_votes, dtype=float)
    m = len(winner)
    if any(x.shape != (m,) for x in arrays):
        raise ValueError("registered, ballots_issued, ballots_cast, winner_votes: same length")
    if n_boot < 0 or reps < 1 or bins < 10:
        raise ValueError("n_boot must be >= 0, reps >= 1 and bins >= 10")
    if alpha is not None and alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    if sigma_x is not None and not 0 < sigma_x <= 2:
        raise ValueError(f"sigma_x must be in (0, 2], got {sigma_x}")
    reg, issued, cast = arrays
    keep = (reg > 0) & (cast > 0) & (winner <= cast)
    if keep.sum() < 100:
        raise ValueError("the Klimek fit needs at least 100 stations with voters and ballots")
    n, t, s = reg[keep], issued[keep] / reg[keep], winner[keep] / cast[keep]
    rng = np.random.default_rng(seed)
    clean = (*mode_and_left_sd(t), *mode_and_left_sd(s))
    obs_cell = np.minimum((t * bins).astype(np.int64), bins - 1) * bins + np.minimum(
        (s * bins).astype(np.int64), bins - 1
    )
    obs = np.bincount(obs_cell, minlength=bins * bins).astype(float)[:, None]
    coarse = [
        (a_, s_)
        for a_ in ((alpha,) if alpha is not None else ALPHAS)
        for s_ in ((sigma_x,) if sigma_x is not None else SIGMAS)
    ]
    rows: list[dict[str, float]] = []
    if len(coarse) > 1:
        rows, _ = _search(n, clean, coarse, 2, rng, obs, bins, keep=False)
        for r in rows:
            r["stage"] = 1
        start = min(rows, key=lambda r: r["sse"])
        fine = _refined(start, alpha, sigma_x)
    else:
        fine = coarse
    fine_rows, surfaces = _search(n, clean, fine, reps, rng, obs, bins)
    for r in fine_rows:
        r["stage"] = 2
    top = min(fine_rows, key=lambda r: r["sse"])
    table = pd.DataFrame(rows + fine_rows).sort_values(["stage", "sse"], ignore_index=True)
    if n_boot:
        boot_i, boot_e = _boot(surfaces, obs_cell, bins * bins, n_boot, rng)
    else:
        boot_i = boot_e = np.zeros(0)
    return KlimekResult(
        f_i=float(top["f_i"]),
        f_e=float(top["f_e"]),
        alpha=float(top["alpha"]),
        sigma_x=float(top["sigma_x"]),
        turnout_mean=clean[0],
        turnout_sd=clean[1],
        share_mean=clean[2],
        share_sd=clean[3],
        sse=float(top["sse"]),
        stations=int(keep.sum()),
        boot_f_i=np.asarray(boot_i, dtype=float),
        boot_f_e=np.asarray(boot_e, dtype=float),
        shape_fits=table,
    )
