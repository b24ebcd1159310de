"""ConSE: zero-shot labels from an ordinary classifier, with no training beyond the
classifier's.

Norouzi et al. (2014) embed an image as the convex combination of the label vectors of
the T seen labels its softmax classifier finds most probable, weighted by those
probabilities:

    f(x) = (1 / Z) * sum_{t=1..T} p(y_t | x) * s(y_t),      Z = sum_{t=1..T} p(y_t | x),

where y_1..y_T are the T most probable seen labels and s(y) is a label's unit vector.
f(x) lands *between* the seen labels the classifier hesitates between, so an unseen
label that lies between them in the word space (a hammerhead, between a great white and
a tiger shark) is the nearest candidate. The candidates are then ranked by cosine to
f(x), exactly as DeViSE ranks them.

Everything here is pure numpy, tested on a hand-computed 3-class toy.
"""

from __future__ import annotations

import numpy as np

from .vectors import cosine_scores, softmax, top_k, unit


def conse_embedding(
    probabilities: np.ndarray, seen_vectors: np.ndarray, top_t: int
) -> np.ndarray:
    """(N, d) convex combinations of the seen label vectors, one per image (not
    normalised).

    `probabilities` (N, S) are the classifier's probabilities over the S seen labels,
    whose vectors are the rows of `seen_vectors` (S, d). Only each row's `top_t` most
    probable labels take part, their weights renormalised to sum to 1; ties are broken
    towards the lower label index.
    """
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
    t = min(top_t, probabilities.shape[1])
    best = top_k(probabilities, t)  # (N, T) label indices
    weights = np.take_along_axis(probabilities, best, axis=1)  # (N, T)
    total = weights.sum(axis=1, keepdims=True)
    weights = weights / np.where(total == 0, 1, total)
    # A dense (N, S) weight matrix times the vectors: gathering the vectors per image
    # instead would hold N * T * d numbers (11 GB for 3,000 photos, T = 1,000).
    dense = np.zeros_like(probabilities)
    np.put_along_axis(dense, best, weights, axis=1)
    return dense @ seen_vectors


def conse_scores(
    logits: np.ndarray,
    seen_vectors: np.ndarray,
    candidate_vectors: np.ndarray,
    top_t: int,
) -> np.ndarray:
    """(N, C) cosines between each image's ConSE embedding and the unit candidate label
    vectors."""
    return cosine_scores(
        unit(conse_embedding(softmax(logits), seen_vectors, top_t)), candidate_vectors
    )
