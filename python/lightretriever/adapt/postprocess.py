"""Token-table post-processing, folded into the table (docs/design.md, "Table post-processing").

    T'[t] = w_t · Π(T[t] − μ)          Π(x) = x − Pᵀ(P x), P = top-k principal directions of T − μ

The light encoder's normalize(mean_{t∈q} T'[t]) then equals normalize(Σ_{t∈q} w_t Π(T[t] − μ)): centring,
direction removal and per-token weights applied at query time, with no change to the Python or Java
encoders (one global factor keeps the mean row norm at 1; it changes no normalised query). Statistics (μ, P) come from the table's own rows (ids the queries may use); weights from the
corpus: IDF w_t = ln(1 + (N − df_t + 0.5)/(df_t + 0.5)) over the index's documents (BM25's IDF), or SIF
w_t = a/(a + p_t) with p_t the token's share of all corpus tokens.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

CENTERS = ("none", "table", "frequency")
WEIGHTS = ("none", "idf", "sif")
SPARSE_WEIGHTS = ("none", "idf")


@dataclass(frozen=True)
class PostProcessSpec:
    center: str = "table"  # μ: none, the mean table row, or the corpus-token-frequency-weighted mean row
    remove_directions: int = 2  # k top principal directions of the centred table removed
    weights: str = "idf"  # per-token weight w_t: none, idf, sif (both need corpus statistics)
    sif_a: float = 1e-3
    # per-token weight on the SPARSE query's counts (query.sparse_weights): none (plain counts) or idf
    # (count × IDF: +0.067 light-sparse, +0.02 hybrid-rrf nDCG@10 on SciFact train; docs/results.md, issue 12)
    sparse_weights: str = "idf"

    def __post_init__(self):
        if self.center not in CENTERS:
            raise ValueError(f"center must be one of {CENTERS}, got {self.center!r}")
        if self.weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {WEIGHTS}, got {self.weights!r}")
        if self.sparse_weights not in SPARSE_WEIGHTS:
            raise ValueError(f"sparse_weights must be one of {SPARSE_WEIGHTS}, got {self.sparse_weights!r}")
        if self.remove_directions < 0:
            raise ValueError(f"remove_directions must be >= 0, got {self.remove_directions}")


@dataclass
class CorpusStats:
    """Token statistics of a corpus under the bundle's tokenizer (add_special_tokens=False, as queries)."""

    documents: int
    df: np.ndarray  # float64 [vocab]: documents containing the token
    counts: np.ndarray  # float64 [vocab]: occurrences

    @classmethod
    def from_texts(cls, tokenizer, texts: Iterable[str], vocab_size: int, batch: int = 512) -> CorpusStats:
        df = np.zeros(vocab_size, dtype=np.float64)
        counts = np.zeros(vocab_size, dtype=np.float64)
        texts = list(texts)
        for start in range(0, len(texts), batch):
            for enc in tokenizer.encode_batch(texts[start : start + batch], add_special_tokens=False):
                ids = np.asarray(enc.ids, dtype=np.int64)
                ids = ids[ids < vocab_size]
                np.add.at(counts, ids, 1.0)
                df[np.unique(ids)] += 1.0
        return cls(len(texts), df, counts)

    def idf(self) -> np.ndarray:
        """BM25's IDF per token id, ln(1 + (N − df + 0.5)/(df + 0.5)): float64 [vocab]."""
        return np.log1p((self.documents - self.df + 0.5) / (self.df + 0.5))


@dataclass
class TableTransform:
    mu: np.ndarray  # float32 [dim]
    directions: np.ndarray  # float32 [k, dim], orthonormal rows
    weights: np.ndarray  # float32 [vocab]
    scale: float = 1.0  # one global factor (mean usable row norm → 1): no query vector changes

    def rows(self, table: np.ndarray, ids) -> np.ndarray:
        """w_t · Π(T[t] − μ) for `ids`, in float32 (the query-time form)."""
        x = table[ids].astype(np.float32) - self.mu
        if len(self.directions):
            x = x - (x @ self.directions.T) @ self.directions
        return x * (self.weights[ids, None] / self.scale)

    def fold(self, table: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """The whole table transformed, float16 like every bundle table."""
        out = np.empty(table.shape, dtype=np.float16)
        for start in range(0, len(table), chunk):
            ids = np.arange(start, min(start + chunk, len(table)))
            out[ids] = self.rows(table, ids).astype(np.float16)
        return out


def fit_transform(table: np.ndarray, exclude_ids: Iterable[int], spec: PostProcessSpec,
                  stats: CorpusStats | None) -> TableTransform:
    vocab, dim = table.shape
    usable = np.ones(vocab, dtype=bool)
    usable[[i for i in exclude_ids if 0 <= i < vocab]] = False
    rows = table[usable].astype(np.float64)
    if spec.center == "none":
        mu = np.zeros(dim)
    elif spec.center == "table":
        mu = rows.mean(axis=0)
    else:
        freq = _need(stats, "center=frequency").counts[usable]
        if freq.sum() <= 0:
            raise ValueError("center=frequency: the corpus has no tokens")
        mu = (freq[:, None] * rows).sum(axis=0) / freq.sum()
    directions = np.zeros((0, dim))
    if spec.remove_directions:
        # P = the top right-singular vectors of the centred rows, found as the top eigenvectors of their dim x dim
        # Gram matrix: the same projection Π (signs do not matter to it) without the vocab x dim left factor an
        # SVD also computes (MiniLM's table: 0.8 s against 17 s, the float16 table bit-identical).
        centred = rows - mu
        _, vectors = np.linalg.eigh(centred.T @ centred)  # eigenvalues ascending
        directions = vectors[:, ::-1][:, : spec.remove_directions].T
    weights = np.ones(vocab)
    if spec.weights == "idf":
        st = _need(stats, "weights=idf")
        weights = st.idf()
    elif spec.weights == "sif":
        st = _need(stats, "weights=sif")
        share = st.counts / max(st.counts.sum(), 1.0)
        weights = spec.sif_a / (spec.sif_a + share)
    transform = TableTransform(mu.astype(np.float32), directions.astype(np.float32), weights.astype(np.float32))
    sample = np.flatnonzero(usable)
    transform.scale = float(np.linalg.norm(transform.rows(table, sample), axis=1).mean()) or 1.0
    return transform


def sparse_weights(spec: PostProcessSpec, stats: CorpusStats | None) -> np.ndarray | None:
    """The sparse query's per-token weights (float32 [vocab]), None for plain counts."""
    if spec.sparse_weights == "none":
        return None
    return _need(stats, "sparse_weights=idf").idf().astype(np.float32)


def record(spec: PostProcessSpec, stats: CorpusStats | None, corpus: dict | None) -> dict:
    """What the manifest records under adaptation.postprocess."""
    return {**asdict(spec), "corpus": corpus, "corpus_documents": stats.documents if stats else None}


def _need(stats: CorpusStats | None, what: str) -> CorpusStats:
    if stats is None:
        raise ValueError(f"{what} needs corpus statistics (an index to read)")
    return stats
