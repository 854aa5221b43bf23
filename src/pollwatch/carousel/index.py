"""Candidate pairs of sightings: each sighting's nearest neighbours by appearance (faiss).

Cosine similarity is the inner product of unit vectors. Small sets are searched exactly
(`IndexFlatIP`); large ones with an inverted file over a k-means coarse quantiser whose cells
store 4-bit product-quantised codes scanned with SIMD ("fast scan"), the best `k · k_factor` of
which are re-ranked with exact inner products (`IVF{nlist},PQ{pq_m}x4fs,RFlat`). A graph index
(HNSW, `hnsw_m`, `ef_construction`, `ef_search`) is available too, but measured slower for the
same recall on high-dimensional embeddings (see benchmarks/carousel.py).

faiss rather than hnswlib: it ships binary wheels (hnswlib builds from source), offers the
inverted-file index that the million-sighting case needs within two minutes on two cores, and
batches queries over OpenMP threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = ["CandidatePairs", "IndexParams", "candidate_pairs", "nearest_neighbours"]

IndexKind = Literal["auto", "flat", "ivfpq", "hnsw"]
_QUERY_BATCH = 65_536
_SMALL = 100_000


@dataclass(frozen=True)
class IndexParams:
    """How neighbours are searched; every build and query parameter is explicit."""

    kind: IndexKind = "auto"
    k: int = 16  # neighbours per sighting
    all_pairs_max: int = 2000  # up to this many sightings every pair is a candidate (exact)
    flat_max: int = 20_000  # "auto": exact search up to this many sightings, IVF-PQ above
    nlist: int | None = None  # IVF cells; None: 4·√N, rounded to a power of two
    nprobe: int = 16  # IVF cells visited per query
    pq_m: int | None = None  # PQ sub-quantisers (must divide d); None: d/4 (or d/2, d)
    k_factor: int = 4  # PQ candidates re-ranked exactly, as a multiple of k
    train_size: int = 65_536  # vectors used to train the quantisers
    kmeans_iterations: int = 10
    hnsw_m: int = 16
    ef_construction: int = 64
    ef_search: int = 64
    threads: int = 0  # faiss/OpenMP threads; 0: 1 below 100,000 sightings, else faiss's default
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("auto", "flat", "ivfpq", "hnsw"):
            raise ValueError(f"kind must be auto, flat, ivfpq or hnsw, got {self.kind!r}")
        for name in (
            "k",
            "flat_max",
            "nprobe",
            "k_factor",
            "train_size",
            "hnsw_m",
            "ef_construction",
            "ef_search",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("nlist", "pq_m"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        if not isinstance(self.threads, int) or self.threads < 0:
            raise ValueError(f"threads must be >= 0, got {self.threads!r}")

    def resolved_kind(self, n: int) -> str:
        if self.kind != "auto":
            return self.kind
        return "flat" if n <= self.flat_max else "ivfpq"


@dataclass(frozen=True, eq=False)
class CandidatePairs:
    """Unordered pairs (i < j) of sighting rows found as neighbours, with their cosine
    similarity and whether each was among the other's neighbours (`mutual`)."""

    i: np.ndarray
    j: np.ndarray
    similarity: np.ndarray
    mutual: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.i)
        if any(len(a) != n for a in (self.j, self.similarity, self.mutual)):
            raise ValueError("i, j, similarity and mutual must have the same length")

    def __len__(self) -> int:
        return len(self.i)

    def __getitem__(self, mask: np.ndarray) -> CandidatePairs:
        return CandidatePairs(self.i[mask], self.j[mask], self.similarity[mask], self.mutual[mask])


def _pq_m(d: int, wanted: int | None) -> int:
    if wanted is not None:
        if d % wanted:
            raise ValueError(f"pq_m ({wanted}) must divide the embedding length {d}")
        return wanted
    for m in (d // 4, d // 2, d):
        if m >= 1 and d % m == 0 and (d // m) * m == d and m % 2 == 0:
            return m
    return d


def _build(x: np.ndarray, params: IndexParams, kind: str) -> Any:
    import faiss

    n, d = x.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.ef_construction
    else:
        nlist = params.nlist or int(2 ** np.round(np.log2(max(4.0 * np.sqrt(n), 1.0))))
        sample_n = min(n, params.train_size)
        nlist = max(1, min(nlist, sample_n // 39))  # faiss wants >= 39 training points per cell
        m = _pq_m(d, params.pq_m)
        index = faiss.index_factory(d, f"IVF{nlist},PQ{m}x4fs,RFlat", faiss.METRIC_INNER_PRODUCT)
        ivf = faiss.extract_index_ivf(index)
        ivf.cp.seed = params.seed
        ivf.cp.niter = params.kmeans_iterations
        rng = np.random.default_rng(params.seed)
        sample = x[np.sort(rng.choice(n, size=sample_n, replace=False))]
        index.train(sample)
    index.add(x)
    if kind == "hnsw":
        index.hnsw.efSearch = params.ef_search
    elif kind == "ivfpq":
        faiss.extract_index_ivf(index).nprobe = params.nprobe
        index.k_factor = params.k_factor
    return index


def nearest_neighbours(
    embedding: np.ndarray, params: IndexParams = IndexParams()
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's `params.k` nearest other rows (all others when N <= `all_pairs_max`):
    (similarities, rows), both (N, k); missing
    neighbours (fewer than k others, or not found) are row -1 with similarity -inf."""
    import faiss

    x = np.ascontiguousarray(embedding, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"embedding must be an (N, d) array, got shape {x.shape}")
    n = len(x)
    wanted = n - 1 if n <= params.all_pairs_max else params.k
    k = min(wanted, max(n - 1, 0))
    if n < 2 or k == 0:
        k = max(wanted, 0)
        return np.full((n, k), -np.inf, np.float32), np.full((n, k), -1, np.int64)
    # One thread for small sets: OpenMP workers spin while waiting, which costs more than it
    # gains on a busy machine when the work is small.
    threads = params.threads or (1 if n < _SMALL else 0)
    previous = faiss.omp_get_max_threads()
    if threads:
        faiss.omp_set_num_threads(threads)
    try:
        kind = "flat" if n <= params.all_pairs_max else params.resolved_kind(n)
        index = _build(x, params, kind)
        sims = np.empty((n, k + 1), np.float32)
        rows = np.empty((n, k + 1), np.int64)
        for lo in range(0, n, _QUERY_BATCH):  # batches bound the memory of the re-ranking
            hi = min(n, lo + _QUERY_BATCH)
            sims[lo:hi], rows[lo:hi] = index.search(x[lo:hi], k + 1)
        del index
    finally:
        faiss.omp_set_num_threads(previous)
    self_hit = rows == np.arange(n)[:, None]
    rows = np.where(self_hit, -1, rows)
    sims = np.where(rows < 0, -np.inf, sims).astype(np.float32)
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]  # drop self (or the worst)
    sims = np.take_along_axis(sims, order, axis=1)
    rows = np.take_along_axis(rows, order, axis=1)
    if k < wanted:
        pad = wanted - k
        sims = np.pad(sims, ((0, 0), (0, pad)), constant_values=-np.inf)
        rows = np.pad(rows, ((0, 0), (0, pad)), constant_values=-1)
    return sims, rows.astype(np.int64)


def candidate_pairs(embedding: np.ndarray, params: IndexParams = IndexParams()) -> CandidatePairs:
    """All unordered neighbour pairs, deduplicated, with their cosine similarity."""
    sims, rows = nearest_neighbours(embedding, params)
    n = len(rows)
    src = np.repeat(np.arange(n, dtype=np.int64), rows.shape[1])
    dst = rows.ravel()
    sim = sims.ravel()
    ok = dst >= 0
    src, dst, sim = src[ok], dst[ok], sim[ok]
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    uniq, first, counts = np.unique(a * n + b, return_index=True, return_counts=True)
    # Every index kind returns exact inner products (flat storage or exact re-ranking).
    return CandidatePairs(
        i=uniq // n, j=uniq % n, similarity=sim[first].astype(np.float32), mutual=counts >= 2
    )
