"""The DeViSE hinge rank loss (Frome et al. 2013, eq. 1). For an embedding e of label y,
each false label j adds hinge_j = max(0, margin - t_y . e + t_j . e): the full loss sums
them; the paper's truncated one takes the first violating j in a random order, one term
per example (as WSABIE does). `embeddings` (B, d) are normalised inside: scores are
test-time cosines, and a growing M cannot meet the margin without improving the ranking.
`label_vectors` (C, d) must be unit rows, checked, not rescaled (a wrong norm is a bug
upstream). `order` (B, C): visiting keys, lower first, ties by label index."""

from __future__ import annotations

import torch
import torch.nn.functional as F

MARGIN = 0.1
_REDUCTIONS = ("mean", "sum", "none")


def label_scores(embeddings: torch.Tensor, label_vectors: torch.Tensor) -> torch.Tensor:
    """Cosine scores (B, C) of each embedding against each unit label vector."""
    return F.normalize(embeddings, dim=-1) @ label_vectors.T


def hinge_terms(
    scores: torch.Tensor, targets: torch.Tensor, margin: float = MARGIN
) -> torch.Tensor:
    """max(0, margin - s_true + s_j) for every (example, label); 0 for the true one."""
    true_scores = scores.gather(1, targets[:, None])
    terms = (margin - true_scores + scores).clamp_min(0)
    return terms.scatter(1, targets[:, None], 0.0)


def hinge_rank_loss_full(
    embeddings: torch.Tensor,
    label_vectors: torch.Tensor,
    targets: torch.Tensor,
    margin: float = MARGIN,
    reduction: str = "mean",
) -> torch.Tensor:
    """Eq. 1 of the paper: the hinge summed over all false labels."""
    _check(embeddings, label_vectors, targets, reduction)
    terms = hinge_terms(label_scores(embeddings, label_vectors), targets, margin)
    return _reduce(terms.sum(dim=1), reduction)


def random_order(
    batch: int,
    n_labels: int,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Uniform keys (B, C): each row's argsort is a uniformly random permutation."""
    draw_on = generator.device if generator is not None else device
    keys = torch.rand((batch, n_labels), generator=generator, device=draw_on)
    return keys if device is None else keys.to(device)


def hinge_rank_loss_truncated(
    embeddings: torch.Tensor,
    label_vectors: torch.Tensor,
    targets: torch.Tensor,
    margin: float = MARGIN,
    generator: torch.Generator | None = None,
    order: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """The paper's training loss: per example, the hinge of the first violating false
    label in a random visiting order. Vectorised: non-violators (the true label too) get
    key +inf, the argmin of the keys is the first violator, a row of +inf has loss 0.
    Only the chosen term carries gradient, as in the paper's sampled update."""
    _check(embeddings, label_vectors, targets, reduction)
    terms = hinge_terms(label_scores(embeddings, label_vectors), targets, margin)
    order = _order_for(terms, generator, order)
    keys = order.masked_fill(terms.detach() <= 0, float("inf"))
    first = keys.argmin(dim=1, keepdim=True)  # first minimum on ties
    per_example = terms.gather(1, first).squeeze(1)  # 0 where nothing violates
    return _reduce(per_example, reduction)


def naive_hinge_rank_loss_truncated(
    embeddings: torch.Tensor,
    label_vectors: torch.Tensor,
    targets: torch.Tensor,
    margin: float = MARGIN,
    generator: torch.Generator | None = None,
    order: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """The same loss as a plain loop, read off the paper, to test the vectorised one."""
    _check(embeddings, label_vectors, targets, reduction)
    scores = label_scores(embeddings, label_vectors)
    order = _order_for(scores, generator, order)
    losses = []
    for i in range(scores.shape[0]):
        true = int(targets[i])
        loss = scores.new_zeros(())
        for j in torch.argsort(order[i], stable=True).tolist():  # ties: by index
            if j == true:
                continue
            term = margin - scores[i, true] + scores[i, j]
            if term > 0:
                loss = term
                break
        losses.append(loss)
    return _reduce(torch.stack(losses), reduction)


@torch.no_grad()
def truncated_versus_full(
    embeddings: torch.Tensor,
    label_vectors: torch.Tensor,
    targets: torch.Tensor,
    margin: float = MARGIN,
    orders: int = 200,
    seed: int = 0,
) -> dict[str, float]:
    """One batch under both losses: the full one, the truncated one averaged over
    `orders` random orders, the mean violators per example, the share with none."""
    generator = torch.Generator().manual_seed(seed)
    batch = (embeddings, label_vectors, targets, margin)
    truncated = [
        hinge_rank_loss_truncated(*batch, generator=generator) for _ in range(orders)
    ]
    terms = hinge_terms(label_scores(embeddings, label_vectors), targets, margin)
    violators = (terms > 0).sum(dim=1).float()
    full = hinge_rank_loss_full(embeddings, label_vectors, targets, margin)
    return {
        "full loss": float(full),
        "truncated loss (mean over orders)": float(torch.stack(truncated).mean()),
        "violating labels per example": float(violators.mean()),
        "examples with no violator": float((violators == 0).float().mean()),
    }


def _order_for(
    like: torch.Tensor, generator: torch.Generator | None, order: torch.Tensor | None
) -> torch.Tensor:
    if order is None:
        return random_order(*like.shape, generator=generator, device=like.device)
    if order.shape != like.shape:
        raise ValueError(
            f"order must have shape (batch, n_labels) = {tuple(like.shape)}, got "
            f"{tuple(order.shape)}"
        )
    return order.to(device=like.device, dtype=like.dtype)


def _reduce(per_example: torch.Tensor, reduction: str) -> torch.Tensor:
    return per_example if reduction == "none" else getattr(per_example, reduction)()


def _check(
    embeddings: torch.Tensor,
    label_vectors: torch.Tensor,
    targets: torch.Tensor,
    reduction: str,
) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if (
        embeddings.ndim != 2
        or label_vectors.ndim != 2
        or embeddings.shape[1] != label_vectors.shape[1]
    ):
        raise ValueError(
            f"expected embeddings (B, d) and label_vectors (C, d) with the same d, got "
            f"{tuple(embeddings.shape)} and {tuple(label_vectors.shape)}"
        )
    if embeddings.dtype != label_vectors.dtype:
        raise ValueError(
            f"embeddings are {embeddings.dtype} but label_vectors are "
            f"{label_vectors.dtype}; convert one of them, e.g. "
            "label_vectors.to(embeddings.dtype)"
        )
    if targets.shape != (embeddings.shape[0],) or targets.dtype != torch.long:
        raise ValueError(
            f"targets must be a long tensor of shape ({embeddings.shape[0]},), "
            f"got {targets.dtype} {tuple(targets.shape)}"
        )
    n_labels = label_vectors.shape[0]
    if n_labels < 2:
        raise ValueError(
            "the rank loss needs at least 2 labels (a true one and a false one)"
        )
    if targets.numel() and (targets.min() < 0 or targets.max() >= n_labels):
        raise ValueError(
            f"targets must index the {n_labels} label vectors (0..{n_labels - 1})"
        )
    norms = label_vectors.detach().norm(dim=1)
    if not torch.allclose(norms, torch.ones_like(norms), atol=1e-3):
        worst = int((norms - 1).abs().argmax())
        raise ValueError(
            f"label_vectors must be unit rows (row {worst} has norm "
            f"{float(norms[worst]):.4f}); normalise them first, e.g. "
            "torch.nn.functional.normalize(label_vectors, dim=1)"
        )
