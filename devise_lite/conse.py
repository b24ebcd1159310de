"""ConSE (Norouzi et al. 2014): zero-shot labels from an ordinary classifier, no further
training. An image's point f(x) = sum_t p(y_t | x) s(y_t) / sum_t p(y_t | x), over its T
most probable seen labels y_t, lands *between* those the classifier hesitates between,
near an unseen label lying between them (a hammerhead, between a great white and a tiger
shark); candidates are ranked by cosine to f(x), as DeViSE ranks them."""

from __future__ import annotations

import numpy as np

from .vectors import top_k


def conse_embedding(
    probabilities: np.ndarray, seen_vectors: np.ndarray, top_t: int
) -> np.ndarray:
    """(N, d) unnormalised convex combinations of `seen_vectors` (S, d): each row of
    `probabilities` (N, S) weighs its `top_t` best (ties: lower index), summing to 1."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    seen_vectors = np.asarray(seen_vectors, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(seen_vectors):
        raise ValueError(
            f"probabilities must be (images, {len(seen_vectors)} seen labels), "
            f"got shape {probabilities.shape}"
        )
    if not 1 <= top_t:
        raise ValueError(f"top_t must be at least 1, got {top_t}")
    if (probabilities < 0).any():
        raise ValueError(
            "probabilities must be non-negative (pass softmax(logits), not logits)"
        )
    best = top_k(probabilities, min(top_t, probabilities.shape[1]))  # (N, T) labels
    weights = np.take_along_axis(probabilities, best, axis=1)  # (N, T)
    total = weights.sum(axis=1, keepdims=True)
    weights = weights / np.where(total == 0, 1, total)
    # A dense (N, S) weight matrix times the vectors: gathering the vectors per image
    # instead would hold N * T * d numbers (11 GB for 3,000 photos, T = 1,000).
    dense = np.zeros_like(probabilities)
    np.put_along_axis(dense, best, weights, axis=1)
    return dense @ seen_vectors
