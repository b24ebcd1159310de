"""Vector arithmetic DeViSE shares: unit rows, cosines, the k best, in plain numpy."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

# bounds top_k's (rows, labels) temporaries to a few MB per 1k labels
_ROWS_PER_CHUNK = 512


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def cosine_scores(embeddings: np.ndarray, label_vectors: np.ndarray) -> np.ndarray:
    """(N, C) cosines of unit image embeddings against unit label vectors."""
    embeddings = np.asarray(embeddings, dtype=np.float32)
    return embeddings @ np.asarray(label_vectors, dtype=np.float32).T


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so large logits do not overflow."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices (N, k) of the k highest scores per row, best first; ties: lower index:
    a stable argsort of -scores cut at k, via argpartition (no sort of all 21k)."""
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(
            f"scores must be a 2-d array (examples, labels), got shape {scores.shape}"
        )
    n_labels = scores.shape[1]
    if not 1 <= k <= n_labels:
        raise ValueError(
            f"k must be between 1 and the number of labels ({n_labels}), got {k}"
        )
    if np.isnan(scores).any():
        raise ValueError(
            "scores contain NaN; a ranking is undefined (check the embeddings for NaN)"
        )
    chunks = range(0, max(len(scores), 1), _ROWS_PER_CHUNK)
    return np.concatenate(
        [_top_k_rows(scores[i : i + _ROWS_PER_CHUNK], k) for i in chunks]
    )


def _top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    if len(scores) == 0:
        return np.zeros((0, k), dtype=np.int64)
    kth_best = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]
    above = scores > kth_best
    tied = scores == kth_best
    still_needed = k - above.sum(axis=1, keepdims=True)  # filled by the first tied ones
    chosen = above | tied
    crowded = tied.sum(axis=1) > still_needed[:, 0]  # more ties than places: rare
    if crowded.any():  # so the running count is taken on those rows alone
        ties = tied[crowded]
        chosen[crowded] = above[crowded] | (
            ties & (np.cumsum(ties, axis=1) <= still_needed[crowded])
        )
    picked = np.nonzero(chosen)[1].reshape(len(scores), k)  # k per row, index order
    scores_of_picked = np.take_along_axis(scores, picked, axis=1)
    best_first = np.argsort(-scores_of_picked, axis=1, kind="stable")
    return np.take_along_axis(picked, best_first, axis=1)


def nearest(
    vectors: np.ndarray, query: np.ndarray, k: int, exclude: Collection[int] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cosines) of the k unit rows nearest `query`, best first, bar `exclude`."""
    scores = vectors @ unit(np.asarray(query, dtype=np.float32))
    if len(exclude):
        scores = scores.copy()
        scores[list(exclude)] = -np.inf
    k = min(k, len(scores) - len(set(exclude)))
    if k < 1:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    rows = top_k(scores[None, :], k)[0]
    return rows, scores[rows]


class LinearProjection:
    """`devise.Projection` in numpy: features -> unit(features @ W.T + b), no torch."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray):
        self.weight = np.asarray(weight, np.float32)
        self.bias = np.asarray(bias, np.float32)

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return unit(np.asarray(features, np.float32) @ self.weight.T + self.bias)

    def save(self, path) -> None:
        np.savez(path, weight=self.weight, bias=self.bias)

    @classmethod
    def load(cls, path) -> LinearProjection:
        with np.load(path) as arrays:
            return cls(arrays["weight"], arrays["bias"])

    @classmethod
    def of(cls, module) -> LinearProjection:
        """From a trained `devise.Projection` (a torch module)."""
        linear = module.linear
        return cls(*(p.detach().cpu().numpy() for p in (linear.weight, linear.bias)))
